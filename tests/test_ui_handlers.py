"""The page's handlers called as plain functions (no server): how errors reach the writer, in
the page's language, and what the Write tab's controls pass on."""

import logging

import gradio as gr
import pytest

from knowledge.embedding import Embedder
from knowledge.errors import NotFound, UserError
from studio.errors import StudioError
from studio.history import History
from studio.ops import Ops
from studio.pipeline import Studio
from studio.ui.handling import handler
from studio.ui.knowledge import outcome_reason
from studio.ui.write import WriteHandlers
from studio.understanding import WriteRequest

# The database is incidental to what this file tests (see the marker in tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

ENGLISH = gr.Request(headers={"accept-language": "en-GB,en;q=0.9"})
CHINESE = gr.Request(headers={"accept-language": "zh-CN,zh;q=0.9"})


@pytest.fixture
def handlers(kb, tiny_generator, make_file):
    kb.add_files([make_file("herons.md", "# Herons\n\nGrey herons hunt fish in shallow water at dawn. "
                                         "They stand still for a long time before they strike.")])
    return WriteHandlers(Studio(kb, tiny_generator, History(kb.engine), Ops()))


def test_a_user_error_reaches_the_page_as_its_reason_in_the_pages_language():
    @handler
    def missing(request: gr.Request):
        raise NotFound("There is no document with id 7", code="no_document", id=7)

    with pytest.raises(gr.Error, match="There is no document with id 7"):
        missing(ENGLISH)
    with pytest.raises(gr.Error, match="没有编号为 7 的文档"):
        missing(CHINESE)

    @handler
    def uncoded(request: gr.Request):
        raise StudioError("Only English words for this one")

    with pytest.raises(gr.Error, match="Only English words for this one"):  # falls back to its English
        uncoded(CHINESE)


def test_a_hint_the_handler_raises_itself_reaches_the_page_as_itself():
    @handler
    def hint(request: gr.Request):
        raise gr.Error("Write a draft first, or paste the passage to illustrate.")

    with pytest.raises(gr.Error, match="Write a draft first"):
        hint(ENGLISH)


@pytest.mark.parametrize("streaming", [False, True])
def test_anything_else_is_an_incident_with_an_id_logged_with_its_traceback(streaming, caplog):
    def broken(request: gr.Request):
        raise ZeroDivisionError("a bug")

    def broken_stream(request: gr.Request):
        yield "a first update"
        raise ZeroDivisionError("a bug")

    wrapped = handler(broken_stream if streaming else broken)
    with caplog.at_level(logging.ERROR, logger="studio.ui"), pytest.raises(gr.Error) as raised:
        list(wrapped(CHINESE)) if streaming else wrapped(CHINESE)
    incident = raised.value.message.split("事件编号 ")[1][:8]
    assert "a bug" not in raised.value.message
    logged = [r for r in caplog.records if incident in r.getMessage()]
    assert logged and logged[0].exc_info[0] is ZeroDivisionError


def test_gradio_still_fills_in_the_request_of_a_wrapped_handler():
    from gradio.helpers import special_args

    @handler
    def needs(value, request: gr.Request, progress=gr.Progress()):
        return value

    args, progress_index = special_args(needs, ["x"], request=None)[:2]
    assert progress_index == 2 and len(args) == 3  # the request and progress slots were found


@pytest.mark.parametrize("field, value, english, chinese", [
    ("max_new_tokens", "lots", "“Max new tokens” must be a number, not 'lots'", "“最多生成的词元数”必须是数字"),
    ("temperature", "warm", "“Temperature” must be a number, not 'warm'", "“温度”必须是数字"),
    ("seed", "abc", "The seed must be a whole number but is 'abc'", "随机种子必须是整数"),
])
def test_a_field_that_is_not_a_number_is_named(handlers, field, value, english, chinese):
    values = {"max_new_tokens": 16, "temperature": 0.7, "seed": "1", field: value}

    def check(request):
        handlers.check_then_clear("Write about herons", values["max_new_tokens"], values["temperature"],
                                  values["seed"], request=request)

    with pytest.raises(gr.Error) as raised:
        check(ENGLISH)
    assert english in raised.value.message
    with pytest.raises(gr.Error) as raised:
        check(CHINESE)
    assert chinese in raised.value.message


def test_a_value_out_of_range_names_the_field_in_the_pages_language(handlers):
    with pytest.raises(gr.Error, match="“最多生成的词元数”必须在 1 到 1024 之间，而不是 5000"):
        handlers.check_then_clear("Write about herons", 5000, 0.7, "", request=CHINESE)
    # the label the page shows, not the argument (before: "`max_new_tokens` must be ...")
    with pytest.raises(gr.Error, match="“Max new tokens” must be between 1 and 1024 but is 5000"):
        handlers.check_then_clear("Write about herons", 5000, 0.7, "", request=ENGLISH)
    with pytest.raises(gr.Error, match="“Temperature” must be between 0 and 2 but is 3"):
        handlers.check_then_clear("Write about herons", 16, 3, "", request=ENGLISH)


def test_limits_reach_a_chinese_page_in_chinese(handlers):
    with pytest.raises(gr.Error, match="请求有 9000 个字符，上限是 8000"):
        handlers.check_then_clear("x" * 9000, 16, 0.7, "", request=CHINESE)


def test_a_draft_id_that_is_not_a_number_is_named(handlers):
    with pytest.raises(gr.Error, match="An id is a whole number from the table, not 'seven'"):
        list(handlers.regenerate("seven", ENGLISH))
    with pytest.raises(gr.Error, match="There is no generation with id 99"):
        list(handlers.regenerate(99, ENGLISH))


def test_rewrite_a_passage_passes_the_selected_passage(handlers):
    passage = "Herons stand still for a long time before they strike."
    updates = list(handlers.write("Rewrite this passage in a friendly tone", "rewrite", "", "", [], 32, 0.7,
                                  "3", "", passage, request=ENGLISH))
    draft_id = updates[-1][3]
    record = handlers.studio.history.get(draft_id)
    assert record.request["source_text"] == passage
    # an ordinary form leaves the selection (meant for Revise) out of the request
    updates = list(handlers.write("Write about herons", "summary", "", "", [], 32, 0.7, "3", "", passage, request=ENGLISH))
    assert handlers.studio.history.get(updates[-1][3]).request["source_text"] == ""


def test_a_draft_streams_at_a_pace_a_page_can_show(handlers):
    """A fast model's tokens are gathered into at most ten page updates a second (each one
    re-sends and re-renders the whole draft); the first words and the finished draft still show."""
    import time

    from studio.ui.write import STREAM_INTERVAL_S

    began = time.monotonic()
    updates = list(handlers.write("Write a short note about herons", "article", "", "", [], 200, 0.7, "3",
                                  "single", request=ENGLISH))
    elapsed = time.monotonic() - began
    streamed = [u[0] for u in updates if isinstance(u[0], str) and u[3] == gr.update()]
    record = handlers.studio.history.get(updates[-1][3])
    assert len(record.output.split()) > 20  # the tiny model wrote on: many tokens were streamed
    assert 1 <= len(streamed) <= 2 + elapsed / STREAM_INTERVAL_S
    assert isinstance(updates[-1][0], str) and updates[-1][5] == record.output  # the finished draft, whole


@pytest.mark.parametrize("name, content, english, chinese", [
    ("empty.txt", b"", "is empty (0 bytes)", "文件是空的（0 字节）"),
    ("notes.exe", b"MZ binary", "unsupported file type (.exe)", "不支持的文件类型（.exe）"),
    ("broken.pdf", b"%PDF-1.4 not really", "is damaged", "文件已损坏"),
    ("broken.docx", b"not a zip", "is damaged or not a DOCX file", "文件已损坏"),
])
def test_why_a_file_was_refused_is_said_in_the_pages_language(kb, make_file, name, content, english, chinese):
    outcome = kb.add_files([make_file(name, content)])[0]
    assert outcome.status == "failed"
    assert english in outcome_reason(ENGLISH, outcome)
    assert outcome_reason(CHINESE, outcome).startswith(chinese)


def test_a_duplicate_is_said_in_the_pages_language(kb, make_file):
    kb.add_files([make_file("a.md", "Herons hunt at dawn.")])
    outcome = kb.add_files([make_file("b.md", "Herons hunt at dawn.")])[0]
    assert outcome_reason(ENGLISH, outcome) == "duplicate of a.md"
    assert outcome_reason(CHINESE, outcome) == "与 a.md 重复"


def test_user_errors_survive_the_trip_from_the_bounded_parser():
    import pickle

    error = pickle.loads(pickle.dumps(UserError("x.pdf: is encrypted", code="file_encrypted", name="x.pdf")))
    assert (str(error), error.code, error.params) == ("x.pdf: is encrypted", "file_encrypted", {"name": "x.pdf"})


@pytest.mark.parametrize("attempt, english, chinese", [
    (lambda kb: kb.create_collection("carol/notes"), "cannot contain '/'", "文集名称不能包含“/”"),
    (lambda kb: kb.create_collection("notes\u202e"), "control or formatting characters", "不可见的格式字符"),
    (lambda kb: kb.search("?!"), "Nothing to search for", "没有可搜索的内容"),
    (lambda kb: kb.search("herons", k=500), "“passages” must be between 1 and 200", "“段落数”必须在 1 到 200 之间"),
    (lambda kb: kb.search("herons", mode="fuzzy"), "“mode” must be one of", "“mode”必须是 hybrid, dense, lexical 之一"),
])
def test_knowledge_reasons_reach_a_chinese_page_in_chinese(kb, attempt, english, chinese):
    """Before: the collection-name rules, an empty search and k/mode came in English on a
    Chinese page."""
    wrapped = handler(lambda request=None: attempt(kb))
    for request, words in ((ENGLISH, english), (CHINESE, chinese)):
        with pytest.raises(gr.Error) as raised:
            wrapped(request=request)
        assert words in raised.value.message


def test_image_settings_reach_a_chinese_page_in_chinese():
    from studio.image_generation import ImageLimits, ImageSettings, check_image_settings

    for settings, english, chinese in (
            (ImageSettings("a heron", width=100), "“Width” must be divisible by 8 but is 100",
             "“宽度”必须是 8 的倍数，而不是 100"),
            (ImageSettings("a heron", num_inference_steps=500), "“Steps” must be between 1 and",
             "“步数”必须在 1 到"),
            (ImageSettings("a heron", guidance_scale=50), "“Guidance” must be between 0 and 30 but is 50",
             "“引导强度”必须在 0 到 30 之间"),
            (ImageSettings(""), "Describe the picture", "请描述画面")):
        wrapped = handler(lambda request=None: check_image_settings(settings, ImageLimits()))
        for request, words in ((ENGLISH, english), (CHINESE, chinese)):
            with pytest.raises(gr.Error) as raised:
                wrapped(request=request)
            assert words in raised.value.message


def test_sampling_settings_an_api_script_sends_are_named_in_the_pages_language():
    from studio.text_generation import GenerationSettings

    for settings, english, chinese in (
            (GenerationSettings(top_p=0), "“top_p” must be above 0 and at most 1 but is 0",
             "“top_p”必须大于 0 且不超过 1，而不是 0"),
            (GenerationSettings(repetition_penalty=3), "“repetition_penalty” must be between 1 and 2 but is 3",
             "“repetition_penalty”必须在 1 到 2 之间，而不是 3")):
        wrapped = handler(lambda request=None: settings.check(max_new_tokens_limit=1024))
        for request, words in ((ENGLISH, english), (CHINESE, chinese)):
            with pytest.raises(gr.Error) as raised:
                wrapped(request=request)
            assert words in raised.value.message


def test_account_and_model_reasons_reach_a_chinese_page_in_chinese(kb, tiny_generator):
    studio = Studio(kb, tiny_generator, History(kb.engine), Ops())
    writer = Studio(kb, tiny_generator, History(kb.engine), Ops())
    writer.admin = False
    for attempt, chinese in ((writer.reindex, "只有管理员可以重建索引"),
                             (lambda: studio.share_collection("notes", "bob", "read"), "共享需要账户"),
                             (lambda: studio.catalog.generator("gone/qwen"), "已不在“设置”中"),
                             (lambda: studio.catalog.generator("nonsense"), "请从列表中选择"),
                             (lambda: Embedder("/no/such-model").encode(["x"]), "无法加载嵌入模型 /no/such-model")):
        with pytest.raises(gr.Error) as raised:
            handler(lambda request=None: attempt())(request=CHINESE)
        assert chinese in raised.value.message


def test_a_stored_draft_and_revising_it_reach_a_chinese_page_in_chinese(handlers):
    """Before: re-running, revising and illustrating refusals came in English on a Chinese page."""
    studio = handlers.studio
    draft = list(studio.write(WriteRequest("Write about herons")))[-1].draft
    for attempt, chinese in (
            (lambda: list(studio.revise(draft.generation_id, "continue", selection="Herons")),
             "“续写”作用于整篇草稿"),
            (lambda: list(studio.revise(draft.generation_id, "shorten", selection="not in the draft")),
             "选中的文字已不在这篇草稿里"),
            (lambda: list(studio.rerun_image(draft.generation_id)), f"记录 {draft.generation_id} 不是图片"),
            (lambda: list(studio.write(WriteRequest("Draw a picture of a heron"))), "这是要一张图，不是文字")):
        with pytest.raises(gr.Error) as raised:
            handler(lambda request=None: attempt())(request=CHINESE)
        assert chinese in raised.value.message
