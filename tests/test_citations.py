"""Attribution on hand-made drafts: every supported paragraph ends up citing its real source."""

import pytest

from knowledge.search import Passage
from studio.citations import attribute

PASSAGES = [
    "Honey bees tell their hive mates where flowers are with a waggle dance; the angle shows the direction.",
    "Sourdough rises because wild yeast and lactic acid bacteria ferment the dough over many hours.",
    "The Great Wall of China was built over centuries, mostly during the Ming dynasty, to keep out raiders.",
]


@pytest.fixture
def passages():
    return [Passage(chunk_id=i, document_id=i, document_name=f"doc{i}.md", document_title="",
                    collection="default", text=t, page=None, char_start=0, char_end=len(t),
                    headings="", score=1.0) for i, t in enumerate(PASSAGES, start=1)]


def test_unmarked_paragraphs_get_their_supporting_source(passages, embedder):
    draft = ("# Three small wonders\n\n"
             "Bees dance to show the others where the flowers are, and the angle of the dance points the way.\n\n"
             "A sourdough loaf rises slowly as wild yeasts and bacteria ferment the dough.\n\n"
             "Thanks for reading, and see you next week on this blog!")
    result = attribute(draft, passages, embedder.encode)
    paragraphs = result.text.split("\n\n")
    assert paragraphs[0] == "# Three small wonders"
    assert paragraphs[1].endswith("[1]") and paragraphs[2].endswith("[2]")
    assert "[" not in paragraphs[3]  # unsupported: honestly left unmarked
    assert result.cited == (1, 2) and result.uncited == (3,) and result.added == 2


def test_markers_naming_no_passage_are_removed(passages, embedder):
    draft = "The Ming dynasty built most of the Great Wall to keep raiders out [3][7]. [12]"
    result = attribute(draft, passages, embedder.encode)
    assert result.text == "The Ming dynasty built most of the Great Wall to keep raiders out. [3]"
    assert result.removed == 2 and result.cited == (3,)


def test_a_wrong_marker_is_replaced_by_the_right_source(passages, embedder):
    draft = "Sourdough gets its rise from wild yeast and lactic acid bacteria fermenting the dough [1]."
    result = attribute(draft, passages, embedder.encode)
    assert result.text.endswith("[2]") and "[1]" not in result.text


def test_no_passages_means_no_markers(embedder):
    result = attribute("Some text that cites [1] nothing real at all here.", [], embedder.encode)
    assert "[1]" not in result.text and result.cited == () and result.uncited == ()


def test_chinese_paragraph_is_attributed(embedder):
    text = "龙井茶产于杭州西湖，是中国著名的绿茶，采摘时间在清明前后。"
    source = Passage(chunk_id=1, document_id=1, document_name="tea.md", document_title="",
                     collection="default", text=text, page=None, char_start=0, char_end=len(text),
                     headings="", score=1.0)
    other = Passage(chunk_id=2, document_id=2, document_name="bees.md", document_title="",
                    collection="default", text=PASSAGES[0], page=None, char_start=0,
                    char_end=len(PASSAGES[0]), headings="", score=1.0)
    result = attribute("西湖龙井是中国著名的绿茶，一般在清明节前后采摘。", [other, source], embedder.encode)
    assert result.text.endswith("[2]")
