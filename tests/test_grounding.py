"""The sentence-level claim check on hand-made cases: what a writer relies on when a sentence
is marked supported, partial or unsupported."""

import pytest

from knowledge.search import Passage
from studio.grounding import (FRAMING, PARTIAL, SUPPORTED, UNSUPPORTED, check, hard_facts,
                              summary)
from studio.hygiene import echoes, instructions, language_of, strip_scaffolding


def passage(text, *, document="sre.html", start=100, page=None, headings="Monitoring"):
    return Passage(chunk_id=1, document_id=1, document_name=document, document_title="", collection="default",
                   text=text, page=page, char_start=start, char_end=start + len(text), headings=headings,
                   score=1.0)


SRE = passage("The four golden signals of monitoring are latency, traffic, errors, and saturation. "
              "Latency is the time it takes to service a request. "
              "Google measured that 42% of outages started with a configuration change in 2019.")
ZH = passage("分布式训练把模型切分到多台机器上。2018年，数据并行成为最常用的方法，训练速度提高了3倍。",
             document="训练.md", start=0, headings="")


def only(report):
    assert len(report.findings) == 1, report.findings
    return report.findings[0]


def test_a_verbatim_sentence_is_supported_with_its_exact_span_in_the_document():
    report = check("Latency is the time it takes to service a request.", [SRE])
    f = only(report)
    assert f.status == SUPPORTED and f.passage == 1 and f.score == 1.0
    assert f.support == "Latency is the time it takes to service a request."
    assert SRE.text[f.support_start:f.support_end] == f.support
    assert (f.document_start, f.document_end) == (100 + f.support_start, 100 + f.support_end)
    assert report.text == "Latency is the time it takes to service a request. [1]" and report.cited == (1,)


def test_a_faithful_paraphrase_is_supported():
    f = only(check("Monitoring rests on four golden signals: latency, traffic, errors and saturation.", [SRE]))
    assert f.status == SUPPORTED, f


def test_an_invented_number_is_partial_and_named():
    f = only(check("Google measured that 57% of outages started with a configuration change in 2019.", [SRE]))
    assert f.status == PARTIAL and f.missing == ("57%",)
    assert f.message == "57% is in no source"


def test_a_wrong_name_is_partial():
    f = only(check("Microsoft measured that 42% of outages started with a configuration change in 2019.", [SRE]))
    assert f.status == PARTIAL and "Microsoft" in f.missing


def test_numbers_are_compared_normalised():
    source = passage("The cluster served 1,000 requests per second at 99.50 percent availability.")
    f = only(check("The cluster served 1000 requests per second at 99.5% availability.", [source]))
    assert f.status == SUPPORTED, f


def test_a_quantity_needs_its_unit():
    source = passage("A cache hit takes 5 ms and a disk read takes 10 ms on this hardware.")
    f = only(check("A cache hit takes 5 s on this hardware.", [source]))
    assert f.status == PARTIAL and f.missing == ("5 s",)


def test_a_sentence_on_the_topic_saying_something_else_is_unsupported():
    f = only(check("Saturation dashboards should be reviewed by the whole team every Friday morning.", [SRE]))
    assert f.status == UNSUPPORTED and f.passage is None
    assert "[1]" not in check("Saturation dashboards should be reviewed by the whole team every Friday morning.", [SRE]).text


def test_a_half_supported_sentence_is_partial():
    f = only(check("Latency is the time to service a request, and customers always blame the database for it.", [SRE]))
    assert f.status == PARTIAL


def test_a_chinese_sentence_with_a_figure_is_checked_exactly():
    good = only(check("2018年，数据并行成为最常用的方法。", [ZH]))
    assert good.status == SUPPORTED and good.passage == 1
    bad = only(check("2018年，数据并行让训练速度提高了5倍。", [ZH]))
    assert bad.status == PARTIAL and bad.missing == ("5倍",)


def test_chinese_sentences_are_split_and_checked_one_by_one():
    report = check("分布式训练把模型切分到多台机器上。今天的天气非常好，我们去公园散步吧。", [ZH])
    assert [f.status for f in report.findings] == [SUPPORTED, UNSUPPORTED]


def test_the_models_own_markers_are_replaced_by_exact_ones():
    other = passage("Bananas are rich in potassium and are eaten all over the world.", document="fruit.txt")
    report = check("Latency is the time it takes to service a request. [1][7]", [other, SRE])
    assert report.text == "Latency is the time it takes to service a request. [2]"
    assert report.cited == (2,) and report.uncited == (1,)


def test_headings_and_greetings_are_framing_but_their_facts_are_checked():
    report = check("# Golden signals\n\nHi team,\n\n## 7 things about 2031\n\nLatency is the time it takes "
                   "to service a request.", [SRE])
    statuses = [f.status for f in report.findings]
    assert statuses == [FRAMING, FRAMING, PARTIAL, SUPPORTED]
    assert report.findings[2].missing == ("7", "2031")


def test_composer_framing_lines_are_not_counted_as_claims():
    intro = "This post looks at the golden signals."
    report = check(f"{intro}\n\nLatency is the time it takes to service a request.", [SRE], framing={intro})
    assert [f.status for f in report.findings] == [FRAMING, SUPPORTED]
    assert summary(report) == "1 of 1 sentences supported"


def test_summary_names_facts_in_no_source():
    report = check("Latency is the time it takes to service a request. Google saw 57% more traffic.", [SRE])
    assert "1 fact in no source (57%)" in summary(report)


def test_with_no_passages_nothing_is_supported():
    report = check("Latency is the time it takes to service a request.", [])
    assert not report.grounded and only(report).status == UNSUPPORTED


@pytest.mark.parametrize("sentence, keys", [
    ("It rose 42 percent.", ["42%"]),
    ("Founded on 3 March 1998 by Ada Lovelace.", ["3", "1998", "march", "ada lovelace"]),
    ("他们在“深度学习”课上用了GPU。", ["深度学习", "gpu"]),
    ("The so-called \"error budget\" helps.", ["error budget"]),
])
def test_hard_facts(sentence, keys):
    assert [f.key for f in hard_facts(sentence)] == keys


def test_scaffolding_never_reaches_a_draft():
    raw = ("Tone: positive. Length: about 168 words. Language: write in English.\n"
           "Request: write about tides\n<source n=\"1\">Tides rise.</source>\nTides rise twice a day.")
    assert strip_scaffolding(raw) == "Tides rise.\nTides rise twice a day."


def test_an_echo_of_the_instructions_is_measured_but_quoting_sources_is_not():
    messages = [{"role": "user", "content": "<source n=\"1\">Tides rise and fall twice every day.</source>\n"
                                            "Task: Write a blog post about the tides for children."}]
    prompt = instructions(messages)
    assert echoes("Write a blog post about the tides for children.", prompt) > 0.9
    assert echoes("Tides rise and fall twice every day.", prompt) == 0.0


def test_language_of():
    assert language_of("分布式训练把模型切分到多台机器上。") == "zh" and language_of("Tides rise.") == "en"


@pytest.fixture(scope="module")
def tiny_nli_model(tmp_path_factory):
    """A tiny NLI cross-encoder built from config with seeded weights and all-MiniLM-L6-v2's real
    tokenizer, saved as a folder, so the judge loads it the way it loads a writer's model."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from knowledge.embedding import packaged_model_path

    folder = tmp_path_factory.mktemp("tiny-nli")
    tokenizer = AutoTokenizer.from_pretrained(packaged_model_path())
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=37, num_labels=3,
                        id2label={0: "contradiction", 1: "entailment", 2: "neutral"},
                        label2id={"contradiction": 0, "entailment": 1, "neutral": 2})
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def test_a_cross_encoder_judge_replaces_the_scorer_and_facts_are_still_checked(tiny_nli_model):
    from studio.grounding import CrossEncoderJudge

    judge = CrossEncoderJudge(tiny_nli_model)
    spans = ["Latency is the time it takes to service a request.", "Bananas are yellow."]
    scores = judge("Latency is the time to serve a request.", spans)
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    assert judge._entailment == 1  # the "entailment" column of a three-way NLI head
    # whatever the (random) judge thinks of it, a number in no source is named
    report = check("Google measured that 57% of outages started with a configuration change in 2019.",
                   [SRE], scorer=judge)
    assert report.findings[0].status in (PARTIAL, UNSUPPORTED) and "57%" in report.findings[0].message


def test_the_studio_takes_its_judge_from_the_settings(tiny_nli_model, tiny_generator, tmp_path):
    from knowledge import KnowledgeSettings
    from studio.build import build_studio
    from studio.grounding import CrossEncoderJudge, lexical_scorer
    from studio.settings import Settings

    knowledge = KnowledgeSettings(data_dir=tmp_path / "data")
    plain = build_studio(Settings(knowledge=knowledge), generator=tiny_generator)
    judged = build_studio(Settings(knowledge=knowledge, grounding_judge=tiny_nli_model), generator=tiny_generator)
    assert plain.judge is lexical_scorer and isinstance(judged.judge, CrossEncoderJudge)
    plain.kb.close(), judged.kb.close()


def test_a_draft_mostly_resting_on_nothing_is_not_grounded():
    invented = " ".join(f"Pirates buried treasure number {n} on a sunny island." for n in range(3))
    mostly = check("Latency is the time it takes to service a request. " + invented, [SRE])
    assert mostly.count(SUPPORTED) == 1 and not mostly.grounded
    assert check("Latency is the time it takes to service a request. Pirates love gold.", [SRE]).grounded
