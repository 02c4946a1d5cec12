"""Chunks respect the budget, keep sentences and CJK runs whole, and map back to the source."""

import pytest

from knowledge.chunking import chunk_document, document_text, split_sentences
from knowledge.readers import Block, ParsedDocument
from textkit.scripts import count_tokens

SENTENCE = "The lighthouse keeper wrote down the weather every hour without fail."  # 12 tokens
ZH_SENTENCE = "灯塔看守人每个小时都会记录天气情况。"  # 18 tokens


def doc_of(*blocks: Block) -> ParsedDocument:
    return ParsedDocument(title="t", blocks=list(blocks))


def check_spans(doc, chunks):
    text = document_text(doc)
    for chunk in chunks:
        assert text[chunk.char_start : chunk.char_end] == chunk.text


@pytest.mark.parametrize("sentence", [SENTENCE, ZH_SENTENCE])
@pytest.mark.parametrize("budget, overlap", [(40, 0), (40, 15), (100, 30)])
def test_chunks_pack_whole_sentences_within_budget(sentence, budget, overlap):
    separator = " " if sentence.isascii() else ""
    doc = doc_of(Block(separator.join([sentence] * 30)))
    chunks = chunk_document(doc, max_tokens=budget, overlap_tokens=overlap)
    check_spans(doc, chunks)
    assert len(chunks) > 1
    for chunk in chunks:
        assert count_tokens(chunk.text) <= budget
        pieces = [s for s in chunk.text.split(sentence) if s.strip()]
        assert pieces == [], f"a sentence was cut: {chunk.text!r}"
    if overlap >= count_tokens(sentence):
        # each chunk starts with the last whole sentence of the previous one that fits the overlap
        for before, after in zip(chunks, chunks[1:]):
            assert after.char_start < before.char_end
    else:
        for before, after in zip(chunks, chunks[1:]):
            assert after.char_start >= before.char_end


def test_overlong_sentence_is_cut_at_clause_marks_not_inside_words():
    clause = "the river bends past the mill, "
    doc = doc_of(Block((clause * 40).strip() + "."))
    chunks = chunk_document(doc, max_tokens=30, overlap_tokens=0)
    check_spans(doc, chunks)
    assert len(chunks) > 5
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 30
        assert chunk.text.endswith((",", "."))  # cut after a comma, never mid-word


def test_overlong_cjk_run_is_cut_between_characters_only():
    run = "春眠不觉晓处处闻啼鸟夜来风雨声花落知多少" * 20  # no punctuation at all
    doc = doc_of(Block(run))
    chunks = chunk_document(doc, max_tokens=50, overlap_tokens=0)
    check_spans(doc, chunks)
    assert "".join(c.text for c in chunks) == run
    assert all(count_tokens(c.text) <= 50 for c in chunks)


def test_headings_and_pages_start_new_chunks_and_are_recorded():
    doc = doc_of(
        Block("Storms", headings=("Storms",), is_heading=True),
        Block("Storms come from the west.", headings=("Storms",), page=1),
        Block("Calm", headings=("Calm",), is_heading=True),
        Block("Calm days are rare.", headings=("Calm",), page=1),
        Block("Calm nights are rarer.", headings=("Calm",), page=2),
    )
    chunks = chunk_document(doc, max_tokens=200, overlap_tokens=20)
    check_spans(doc, chunks)
    assert [(c.text, c.headings, c.page) for c in chunks] == [
        ("Storms\n\nStorms come from the west.", ("Storms",), 1),
        ("Calm\n\nCalm days are rare.", ("Calm",), 1),
        ("Calm nights are rarer.", ("Calm",), 2),
    ]


def test_sentence_splitting_handles_cjk_and_quotes():
    text = '他说："走吧！"我们就走了。She said "Go!" Then we left.'
    assert [text[s:e] for s, e in split_sentences(text)] == [
        '他说："走吧！"', '我们就走了。', 'She said "Go!"', "Then we left."]


def test_empty_document_has_no_chunks():
    assert chunk_document(ParsedDocument(title="t", blocks=[])) == []


def test_overlap_must_be_smaller_than_budget():
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_document(doc_of(Block("x")), max_tokens=20, overlap_tokens=20)
