"""Source-first composition with the tiny random model: every sentence traceable to its source,
a model edit that loses facts refused, Chinese composed without a Chinese model, revisions
working on the draft's sentences, and a writer's own edit re-checked."""

import re
import threading

import pytest

from knowledge.search import Passage
from studio.composer import Composed, Composer, clean_sentence, edit_problem
from studio.errors import StudioError
from studio.grounding import FRAMING, SUPPORTED, check
from studio.history import History
from studio.ops import Ops
from studio.pipeline import DraftReady, Studio, TextDelta
from studio.text_generation import GenerationSettings
from studio.understanding import WriteRequest, understand

TIDES = ("# Tides\n\nTides rise and fall twice a day because the moon pulls on the oceans. "
         "Spring tides happen when the sun and the moon line up with the earth. "
         "Neap tides are the weaker tides that come a week after spring tides.\n\n"
         "## Tide pools\n\nTide pools hold sea stars, anemones and small crabs at low tide. "
         "Visitors should never lift rocks in a tide pool because the animals dry out. "
         "The best time to visit a tide pool is an hour before low tide.\n\n"
         "## Safety\n\nRising water can cut off a beach within 20 minutes on a flat coast. "
         "Always check the local tide table before walking out onto the sand flats.")
SETTINGS = GenerationSettings(max_new_tokens=64, temperature=0.8, seed=5)


@pytest.fixture
def database_url(tmp_path):
    """Composition is the same on every database (test_pipeline covers both): SQLite only."""
    return f"sqlite:///{tmp_path / 'data' / 'inkstone.db'}"


@pytest.fixture
def studio(kb, tiny_generator, make_file):
    kb.add_files([make_file("tides.md", TIDES)])
    return Studio(kb, tiny_generator, History(kb.engine), Ops())


def finish(events):
    events = list(events)
    assert isinstance(events[-1], DraftReady)
    return events, events[-1].draft


def claims(draft):
    return [f for f in draft.report.findings if f.status != FRAMING]


def test_every_sentence_of_a_source_first_draft_is_a_cited_source_sentence(studio):
    events, draft = finish(studio.write(WriteRequest("Write a blog post about tides and tide pools"), SETTINGS))
    assert draft.strategy == "source-first"
    assert len([e for e in events if isinstance(e, TextDelta)]) >= 3  # title, sections, close stream in
    assert draft.text.startswith("# Tides And Tide Pools") or draft.text.startswith("# Tides and Tide Pools")
    assert len(re.findall(r"^## ", draft.text, re.M)) >= 2
    found = claims(draft)
    assert len(found) >= 4
    for f in found:
        source = draft.passages[f.passage - 1]
        assert f.status == SUPPORTED and f.score == 1.0
        assert clean_sentence(f.text) in " ".join(source.text.split())
        assert f"{f.text} [{f.passage}]" in draft.text
    assert draft.flags == ()
    record = studio.history.get(draft.generation_id)
    assert record.checks["strategy"] == "source-first"
    assert [f["status"] for f in record.checks["findings"]] == [f.status for f in draft.report.findings]


def test_a_model_edit_that_changes_the_facts_falls_back_to_the_source_sentence(studio):
    # The tiny model's weights are random: every tone rewrite it makes is noise and must be refused.
    _, draft = finish(studio.write(WriteRequest("Write a friendly blog post about tide pools"), SETTINGS))
    edits = studio.history.get(draft.generation_id).checks["edits"]
    assert edits and not any(e["accepted"] for e in edits)
    assert {e["task"] for e in edits} >= {"tone", "intro"}
    assert all(f.status == SUPPORTED for f in claims(draft))


@pytest.mark.parametrize("candidate, problem", [
    ("Rising water can cut off a beach within 45 minutes on a flat coast.", "adds 45 minutes"),
    ("Rising water can cut off a beach on a flat coast, quickly.", "drops 20 minutes"),
    ("Tone: friendly. Rewrite this sentence in a friendly tone.", "echoes the prompt"),
    ("涨潮的海水可以在二十分钟内淹没海滩。", "wrong language"),
    ("Pirates love treasure maps and golden parrots on sunny islands.", "says things its source does not"),
    ("Heads up: rising water can cut off a beach within 20 minutes on a flat coast!", ""),
])
def test_edit_checks(candidate, problem):
    source = "Rising water can cut off a beach within 20 minutes on a flat coast."
    prompt = f"Rewrite this sentence in a friendly tone. Keep every fact, number and name.\n\n{source}"
    assert edit_problem(candidate, source, prompt, "en").startswith(problem)


ZH_SOURCES = [
    "分布式训练把一个模型的计算分到多台机器上。数据并行让每台机器保存完整的模型副本，各自处理不同的数据。"
    "每一步结束后，各台机器需要同步梯度。",
    "模型并行把模型的不同层放到不同的设备上。流水线并行把一个批次切成多个微批次，让设备轮流工作。"
    "在2019年，流水线并行让训练速度提高了3倍。",
]


def zh_passages():
    return [Passage(chunk_id=i, document_id=i, document_name=f"训练{i}.md", document_title="", collection="default",
                    text=text, page=None, char_start=0, char_end=len(text), headings="", score=1.0 - i / 10)
            for i, text in enumerate(ZH_SOURCES, start=1)]


def test_chinese_is_composed_from_chinese_sources_without_a_chinese_model(tiny_generator, embedder):
    composer = Composer(tiny_generator, embedder.encode, languages=("en",))
    brief = understand(WriteRequest("写一篇关于分布式训练的文章"))
    passages = zh_passages()
    out = list(composer.write(brief, passages, SETTINGS, threading.Event()))
    composed = out[-1]
    assert isinstance(composed, Composed) and composed.edits == ()  # the model was not asked
    report = check(composed.text, passages, framing=set(composed.framing))
    assert report.text.startswith("# 分布式训练")
    sentences = [f for f in report.findings if f.status != FRAMING]
    assert len(sentences) >= 3 and all(f.status == SUPPORTED for f in sentences)
    assert re.search(r"[\u4e00-\u9fff]", composed.framing[1])  # the introduction is Chinese too
    assert not re.search(r"[A-Za-z]{3,}", report.text)


def test_shorten_drops_sentences_and_expand_and_continue_add_source_sentences(studio):
    request = WriteRequest("Write an article about tides, tide pools and safety", length="medium")
    _, draft = finish(studio.write(request, SETTINGS))
    _, shorter = finish(studio.revise(draft.generation_id, "shorten", settings=SETTINGS))
    assert 0 < len(claims(shorter)) < len(claims(draft))
    assert all(f.status == SUPPORTED for f in claims(shorter))
    _, longer = finish(studio.revise(shorter.generation_id, "expand", settings=SETTINGS))
    assert len(claims(longer)) > len(claims(shorter))
    _, continued = finish(studio.revise(shorter.generation_id, "continue", settings=SETTINGS))
    assert len(claims(continued)) > len(claims(shorter))
    for version in (longer, continued):
        assert all(f.status == SUPPORTED for f in claims(version))
    assert [r.action for r in studio.history.chain(continued.generation_id)] == ["write", "shorten", "continue"]


def test_continue_says_when_the_sources_have_nothing_more(kb, tiny_generator, make_file):
    kb.add_files([make_file("short.md", "Tides rise and fall twice a day because the moon pulls on the oceans.")])
    studio = Studio(kb, tiny_generator, History(kb.engine), Ops())
    _, draft = finish(studio.write(WriteRequest("Write an article about tides"), SETTINGS))
    with pytest.raises(StudioError, match="nothing more"):
        list(studio.revise(draft.generation_id, "continue", settings=SETTINGS))


def test_rewrite_of_a_selection_keeps_the_rest_and_refuses_bad_edits(studio):
    _, draft = finish(studio.write(WriteRequest("Write a casual article about tide pools"), SETTINGS))
    sentence = claims(draft)[0].text
    _, rewritten = finish(studio.revise(draft.generation_id, "rewrite", selection=sentence, settings=SETTINGS))
    assert rewritten.text == draft.text  # every random-model rewrite refused: the source sentence stays
    assert studio.history.get(rewritten.generation_id).checks["edits"]


def test_rerun_of_a_source_first_draft_reproduces_it(studio):
    _, draft = finish(studio.write(WriteRequest("Write an article about tide pools"), SETTINGS))
    _, again = finish(studio.rerun(draft.generation_id))
    assert again.text == draft.text


def test_a_writers_edit_is_rechecked_and_recorded_as_a_new_version(studio):
    _, draft = finish(studio.write(WriteRequest("Write an article about tide safety"), SETTINGS))
    edited = draft.text + "\n\nRising water can cut off a beach within 45 minutes on a flat coast."
    saved = studio.save_edit(draft.generation_id, edited)
    last = saved.report.findings[-1]
    assert last.status == "partial" and last.missing == ("45 minutes",)
    record = studio.history.get(saved.generation_id)
    assert record.parent_id == draft.generation_id and record.action == "edit"
    assert record.output == saved.text and "45 minutes" in record.output
