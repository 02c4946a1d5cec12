"""Model servers connected from Settings, driven against a real llama.cpp server (no stub):
stored with their key encrypted, tested with clear errors, listed in the model picker, written
with, re-run, cancelled, killed mid-stream and restarted."""

import os
import socket
import stat
import threading

import gradio as gr
import pytest
import sqlalchemy as sa

from studio.catalog import ModelCatalog
from studio.connections import Connections, probe
from studio.errors import ModelUnavailable, StudioError
from studio.history import History
from studio.ops import Ops
from studio.pipeline import DraftReady, Studio, TextDelta
from studio.text_generation import GenerationSettings
from studio.ui.handling import handler
from studio.ui.i18n import explain, say
from studio.understanding import WriteRequest
from tests.model_server import API_KEY, MODEL_ALIAS, free_port

# The database is incidental to what this file tests (see the marker in tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

NOTES = {"tides.md": "# Tides\n\nTides rise and fall twice a day because the moon pulls on the oceans. "
                     "Spring tides happen when the sun and moon line up."}
KEY = f"laptop/{MODEL_ALIAS}"
ENGLISH = gr.Request(headers={"accept-language": "en-GB,en;q=0.9"})
CHINESE = gr.Request(headers={"accept-language": "zh-CN,zh;q=0.9"})


def on_page(request, attempt) -> str:
    """What the page shows when ``attempt`` fails inside a handler."""
    with pytest.raises(gr.Error) as raised:
        handler(lambda request=None: attempt())(request=request)
    return raised.value.message


@pytest.fixture
def connections(kb, tmp_path):
    return Connections(kb.engine, tmp_path / "data" / "connections.key")


@pytest.fixture
def studio(kb, tiny_generator, connections, make_file):
    kb.add_files([make_file(name, text) for name, text in NOTES.items()])
    return Studio(kb, tiny_generator, History(kb.engine), Ops(),
                  catalog=ModelCatalog(tiny_generator, connections=connections))


def test_a_key_is_stored_encrypted_and_never_read_back(connections, tmp_path):
    saved = connections.save(name="box", kind="text", base_url="http://127.0.0.1:9/v1/", api_key="sk-secret-42",
                             languages="en, zh")
    assert saved.has_key and saved.base_url == "http://127.0.0.1:9/v1" and saved.languages == ("en", "zh")
    assert "sk-secret-42" not in repr(saved)
    with connections.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT secret FROM connections")).scalar()
    assert stored and "sk-secret-42" not in stored
    assert connections.api_key(saved.id) == "sk-secret-42"
    assert stat.S_IMODE(os.stat(tmp_path / "data" / "connections.key").st_mode) == 0o600
    # editing without a new key keeps it; "" removes it
    edited = connections.save(connection_id=saved.id, name="gpu box", kind="text", base_url="http://127.0.0.1:9/v1")
    assert edited.has_key and edited.name == "gpu box" and connections.api_key(saved.id) == "sk-secret-42"
    assert not connections.save(connection_id=saved.id, name="gpu box", kind="text",
                                base_url="http://127.0.0.1:9/v1", api_key="").has_key
    connections.remove(saved.id)
    assert connections.list() == []


@pytest.mark.parametrize("fields, message", [
    (dict(name="", kind="text", base_url="http://x/v1"), "Name the connection"),
    (dict(name="a/b", kind="text", base_url="http://x/v1"), "no '/'"),
    (dict(name="box", kind="text", base_url="ftp://x"), "must start with http"),
    (dict(name="box", kind="image", model=""), "Name the image model"),
    (dict(name="box", kind="audio", base_url="http://x/v1"), "`kind` must be one of"),
])
def test_impossible_connections_are_refused_with_what_to_change(connections, fields, message):
    with pytest.raises(StudioError, match=message):
        connections.save(**fields)


def test_two_connections_cannot_share_a_name(connections):
    connections.save(name="box", kind="text", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(StudioError, match="exists already"):
        connections.save(name="box", kind="text", base_url="http://127.0.0.1:10/v1")


def test_probe_lists_the_real_servers_models(model_server):
    answer = probe(model_server.url, API_KEY)
    assert answer.ok and answer.models == (MODEL_ALIAS,) and answer.latency_ms > 0 and not answer.error


def test_probe_says_what_is_wrong(model_server):
    refused = probe(f"http://127.0.0.1:{free_port()}/v1")
    assert not refused.ok and "connection refused" in refused.error
    assert "refused the API key (401)" in probe(model_server.url, "wrong-key").error
    assert "refused the API key (401)" in probe(model_server.url).error
    no_v1 = probe(model_server.url.removesuffix("/v1"), API_KEY)
    assert "(404)" in no_v1.error and "/v1" in no_v1.error
    assert "TLS" in probe(model_server.url.replace("http://", "https://"), API_KEY).error
    assert "must start with http" in probe("127.0.0.1:8000/v1").error


def test_probe_gives_up_on_a_server_that_never_answers():
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        answer = probe(f"http://127.0.0.1:{silent.getsockname()[1]}/v1", timeout_s=0.5)
    assert not answer.ok and "did not answer within 0.5 s" in answer.error


def connect(connections, model_server, **extra):
    return connections.save(name="laptop", kind="text", base_url=model_server.url, api_key=API_KEY,
                            context_window=2048, **extra)


def test_the_picker_lists_the_default_and_every_connected_model(studio, connections, model_server):
    connect(connections, model_server)
    connections.save(name="gone", kind="text", base_url=f"http://127.0.0.1:{free_port()}/v1")
    choices, problems = studio.catalog.choices()
    assert [c.key for c in choices] == ["", KEY]
    served = choices[1]
    assert served.backend == "openai" and served.context_window == 2048 and served.source == "laptop"
    assert len(problems) == 1 and str(problems[0]).startswith("gone: Nothing is listening")


def server_settings(**extra):
    return GenerationSettings(max_new_tokens=12, temperature=0.0, seed=7, model=KEY, **extra)


def test_a_draft_from_the_server_is_recorded_with_its_model_and_rerun_with_it(studio, connections, model_server):
    connect(connections, model_server)
    events = list(studio.write(WriteRequest("Write a short post about tides", strategy="single"), server_settings()))
    assert sum(isinstance(e, TextDelta) for e in events) > 1  # streamed, piece by piece
    draft = events[-1].draft
    record = studio.history.get(draft.generation_id)
    assert (record.model_id, record.backend, record.settings["model"]) == (MODEL_ALIAS, "openai", KEY)
    choices, _ = studio.catalog.choices()
    assert next(c for c in choices if c.key == KEY).tokens_per_s > 0  # measured on first use
    again = list(studio.rerun(draft.generation_id))[-1].draft
    assert studio.history.get(again.generation_id).model_id == MODEL_ALIAS
    assert again.text == draft.text  # greedy, same model, same seed


def test_a_rerun_whose_connection_is_gone_says_so(studio, connections, model_server):
    made = connect(connections, model_server)
    draft = list(studio.write(WriteRequest("Write a short post about tides", strategy="single"), server_settings()))[-1].draft
    connections.remove(made.id)
    with pytest.raises(ModelUnavailable, match=f"made with {MODEL_ALIAS}, which is not available now.*not in Settings"):
        list(studio.rerun(draft.generation_id))
    # the whole sentence in Chinese on a Chinese page, not a Chinese reason inside an English one
    assert on_page(CHINESE, lambda: list(studio.rerun(draft.generation_id))) == (
        f"记录 {draft.generation_id} 是用 {MODEL_ALIAS} 生成的，它现在不可用：模型 {MODEL_ALIAS} 所在的连接 "
        "'laptop' 已不在“设置”中；请换一个模型。")


def test_the_connection_forms_checks_reach_a_chinese_page_in_chinese(connections):
    """Before: every check of the Settings form came in English on a Chinese page, and the
    context window was named `context_window` on an English one."""
    connections.save(name="laptop", kind="text", base_url="http://127.0.0.1:9/v1")
    for attempt, english, chinese in (
            (lambda: connections.save(name="", kind="text", base_url="http://x/v1"), "Name the connection",
             "请为连接命名：1 到 60 个字符"),
            (lambda: connections.save(name="box", kind="text", base_url="127.0.0.1:8000/v1"),
             "must start with http:// or https://", "必须以 http:// 或 https:// 开头，而不是 '127.0.0.1:8000/v1'"),
            (lambda: connections.save(name="laptop", kind="text", base_url="http://x/v1"), "exists already",
             "名为 'laptop' 的连接已经存在"),
            (lambda: connections.save(name="box", kind="image"), "Name the image model", "请填写图像模型"),
            (lambda: connections.save(name="box", kind="text", base_url="http://x/v1", context_window=-1),
             "“Context window in tokens” must be between 0 and 10000000 but is -1",
             "“上下文窗口”必须在 0 到 10000000 之间，而不是 -1"),
            (lambda: connections.get(99), "No connection 99", "没有编号为 99 的连接")):
        assert english in on_page(ENGLISH, attempt)
        assert chinese in on_page(CHINESE, attempt)


def test_what_a_tested_server_answered_reaches_a_chinese_page_in_chinese(model_server, tmp_path):
    """Before: a failed Test in Settings said why in English on a Chinese page."""
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        slow = probe(f"http://127.0.0.1:{silent.getsockname()[1]}/v1", timeout_s=0.5)
    from studio.connections import probe_image_model

    for answer, chinese in (
            (probe(f"http://127.0.0.1:{free_port()}/v1"), "上没有服务在监听（连接被拒绝）"),
            (probe(model_server.url, "wrong-key"), "拒绝了 API 密钥（401）：请检查密钥"),
            (probe(model_server.url.removesuffix("/v1"), API_KEY), "/models 不存在（404）：兼容 OpenAI 的服务器的基础 URL 通常以 /v1 结尾"),
            (probe(model_server.url.replace("http://", "https://"), API_KEY), "TLS（https）握手失败"),
            (probe("127.0.0.1:8000/v1"), "'127.0.0.1:8000/v1' 不是网址"),
            (slow, "在 0.5 秒内没有回答"),
            (probe_image_model(str(tmp_path)), "这不是 diffusers 模型文件夹")):
        assert not answer.ok and chinese in explain(CHINESE, answer.problem)
        assert explain(ENGLISH, answer.problem) == answer.error


def test_a_model_whose_server_is_down_is_said_in_chinese_on_a_chinese_page(studio, connections):
    connections.save(name="box", kind="text", base_url=f"http://127.0.0.1:{free_port()}/v1")
    assert on_page(CHINESE, lambda: studio.catalog.generator("box/qwen")).startswith(
        "box 上的模型 qwen 现在不可用：http://127.0.0.1:")
    assert "上没有服务在监听（连接被拒绝）" in on_page(CHINESE, lambda: studio.catalog.generator("box/qwen"))
    _, problems = studio.catalog.choices()  # the picker's "not listed" line
    assert explain(CHINESE, problems[0]).startswith("box：http://127.0.0.1:")


def test_stopping_mid_stream_keeps_what_came_and_records_it_as_stopped(studio, connections, model_server):
    connect(connections, model_server)
    cancel = threading.Event()
    events = []
    for event in studio.write(WriteRequest("Write a long article about tides", strategy="single"),
                              GenerationSettings(max_new_tokens=200, temperature=0.0, seed=7, model=KEY), cancel):
        events.append(event)
        if isinstance(event, TextDelta):
            cancel.set()
    draft = events[-1].draft
    assert draft.status == "cancelled"
    assert sum(isinstance(e, TextDelta) for e in events) == 1
    assert studio.history.get(draft.generation_id).status == "cancelled"


def test_a_server_killed_mid_stream_is_a_clear_error_and_recovers_when_restarted(studio, connections, model_server):
    connect(connections, model_server)
    request = WriteRequest("Write a long article about tides", strategy="single")
    before = studio.history.count()
    with pytest.raises(ModelUnavailable, match="stopped answering in the middle of the draft.*nothing was saved"):
        for event in studio.write(request, GenerationSettings(max_new_tokens=400, temperature=0.0, seed=7, model=KEY)):
            if isinstance(event, TextDelta):
                model_server.kill()
    assert studio.history.count() == before  # nothing recorded half
    with pytest.raises(ModelUnavailable, match="not available now.*connection refused"):
        list(studio.write(request, server_settings()))
    model_server.start()
    events = list(studio.write(request, server_settings()))
    assert isinstance(events[-1], DraftReady) and studio.history.count() == before + 1


def test_an_image_model_connected_in_settings_draws_and_is_recorded(studio, connections, tiny_image_model, tmp_path):
    from studio.connections import probe_image_model
    from studio.image_generation import ImageSettings
    from studio.pipeline import ImagesReady

    assert not studio.images.configured  # no INKSTONE_IMAGE_MODEL: images would be off
    assert probe_image_model(tiny_image_model).ok
    assert "no model_index.json" in probe_image_model(str(tmp_path)).error
    connections.save(name="tiny-sd", kind="image", model=tiny_image_model)
    assert studio.catalog.image_choices(studio.images) == [(f"{tiny_image_model} · tiny-sd", "tiny-sd")]
    settings = ImageSettings("a heron at dawn", num_inference_steps=1, width=64, height=64, seed=3, model="tiny-sd")
    art = next(e for e in studio.illustrate(settings) if isinstance(e, ImagesReady)).artworks[0]
    record = studio.history.get(art.generation_id)
    assert record.model_id == tiny_image_model and record.settings["model"] == "tiny-sd"
    again = next(e for e in studio.rerun_image(art.generation_id) if isinstance(e, ImagesReady)).artworks[0]
    from PIL import Image

    assert Image.open(again.path).tobytes() == Image.open(art.path).tobytes()  # same model, seed, CPU
    connections.remove(connections.by_name("tiny-sd").id)
    with pytest.raises(ModelUnavailable, match="No image model 'tiny-sd' in Settings"):
        list(studio.rerun_image(art.generation_id))


ZH_NOTES = {"潮汐.md": "# 潮汐\n\n潮汐每天涨落两次，因为月球吸引海洋。大潮出现在太阳和月球排成一线的时候。"
                     "小潮出现在上弦月和下弦月的时候。"}


def test_a_chinese_request_is_offered_the_chinese_capable_connection_and_written_with_it(
        studio, connections, model_server, make_file):
    from studio.text_generation import TransformersGenerator

    studio.kb.add_files([make_file(name, text) for name, text in ZH_NOTES.items()])
    request = WriteRequest("写一篇关于潮汐的短文")
    # the studio's own model is known to write English only (a SmolLM2 by name): it says so
    smollm = TransformersGenerator("SmolLM2-135M-Instruct", cache_dir=studio.kb.settings.data_dir)
    english_only = Studio(studio.kb, smollm, studio.history, Ops(),
                          catalog=ModelCatalog(smollm, connections=connections))
    assert "writes only English" in str(english_only.language_advice(request))
    assert "No connected model is known to write Chinese" in str(english_only.language_advice(request))
    connect(connections, model_server, languages="en, zh")
    advice = str(english_only.language_advice(request))
    assert f"Models that write Chinese: {MODEL_ALIAS} · laptop" in advice
    assert explain(CHINESE, english_only.language_advice(request)).startswith(
        f"这个请求是中文的，但 SmolLM2-135M-Instruct 只会写英文：它的草稿只会是你的资料原句，不会用中文改写。"
        f"会写中文的模型：{MODEL_ALIAS} · laptop。")
    assert english_only.language_advice(request, KEY) is None  # the connection writes Chinese
    # written with it, cited and exported. (The server runs SmolLM2, which in truth writes English:
    # source-first keeps only edits that stay Chinese, so the draft is Chinese whatever it answers.)
    request = WriteRequest("写一篇关于潮汐的短文", strategy="source-first")
    draft = list(studio.write(request, GenerationSettings(max_new_tokens=48, temperature=0.0, seed=7,
                                                          model=KEY)))[-1].draft
    assert draft.brief.language == "zh" and "wrong_language" not in draft.flags
    assert draft.report.count("supported") >= 1 and draft.cited
    assert studio.history.get(draft.generation_id).settings["model"] == KEY
    exported = studio.export_markdown(draft.generation_id).read_text(encoding="utf-8")
    assert "[^1]: 潮汐.md" in exported and "潮汐" in exported.split("[^1]:")[0]
