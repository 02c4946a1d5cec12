"""The llama.cpp backend: same behaviour as the transformers one, chosen by `auto` for GGUF on CPU."""

import threading

import pytest

from knowledge.settings import KnowledgeSettings
from studio.build import text_generator
from studio.errors import StudioError
from studio.settings import Settings
from studio.text_generation import (GenerationSettings, LlamaCppGenerator, OpenAICompatibleGenerator,
                                    TransformersGenerator)
from textkit import cpu_threads

MESSAGES = [{"role": "system", "content": "You are a helpful writer."},
            {"role": "user", "content": "Write one sentence about lighthouses."}]


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def llama(model_cache):
    return LlamaCppGenerator("", cache_dir=model_cache)  # the default path, as the studio builds it


def test_the_packaged_model_runs_as_q8_0_converted_once(llama, model_cache):
    llama.count_tokens("load")
    converted = model_cache / "SmolLM2-135M-Instruct.Q8_0.gguf"
    assert llama.info()["dtype"] == "Q8_0" and llama.info()["quantisation"].startswith("Q8_0")
    written = converted.stat().st_mtime_ns
    again = LlamaCppGenerator("", cache_dir=model_cache)
    again.count_tokens("load")
    assert converted.stat().st_mtime_ns == written and again.info()["dtype"] == "Q8_0"
    assert [p.name for p in model_cache.iterdir()] == [converted.name]  # no partial file left
    as_stored = LlamaCppGenerator("")  # no cache folder: the GGUF as it is
    as_stored.count_tokens("load")
    assert as_stored.info()["dtype"] == "Q4_1"
    assert as_stored.model_id != llama.model_id  # so a Q4_1 draft is not "re-run" on Q8_0


def test_streams_piece_by_piece_with_the_gguf_chat_template(llama):
    pieces = list(llama.stream(MESSAGES, GenerationSettings(max_new_tokens=24, temperature=0.0)))
    assert len(pieces) > 5
    assert "lighthouse" in "".join(pieces).lower()
    # the prompt was built from the GGUF's own template (ChatML for SmolLM2)
    assert llama.prompt_tokens(MESSAGES) > llama.count_tokens(MESSAGES[1]["content"])
    assert llama.info()["threads"] == cpu_threads()


def test_fixed_seed_reproduces_and_other_seed_differs(llama):
    def run(seed):
        return "".join(llama.stream(MESSAGES, GenerationSettings(max_new_tokens=24, temperature=1.0, seed=seed)))
    assert run(5) == run(5)
    assert run(5) != run(6)


@pytest.mark.slow
def test_a_kept_prompt_gives_the_same_draft_as_a_computed_one(llama, model_cache):
    notes = "The harbour wakes before dawn, when the boats slip out past the lighthouse. " * 10
    def messages(ask):
        return [{"role": "system", "content": "You are a careful writer."},
                {"role": "user", "content": f"{notes}\n{ask}"}]
    def run(generator, ask, seed):
        settings = GenerationSettings(max_new_tokens=16, temperature=0.8, seed=seed)
        return "".join(generator.stream(messages(ask), settings))
    computed = {ask: run(LlamaCppGenerator("", cache_dir=model_cache), ask, 7)
                for ask in ("Write about boats.", "Write about gulls.")}
    reused = llama.prompts_reused
    for ask in ("Write about boats.", "Write about gulls.", "Write about boats.", "Write about gulls."):
        assert run(llama, ask, 7) == computed[ask]
    assert llama.prompts_reused == reused + 2  # the second round was restored, not computed


def test_a_prompt_longer_than_the_context_is_refused_with_a_reason(model_cache):
    small = LlamaCppGenerator("", cache_dir=model_cache, context=512)
    with pytest.raises(StudioError, match="reads at most 511"):
        list(small.stream([{"role": "user", "content": "tides " * 700}], GenerationSettings()))


def test_cancel_stops_generation(llama):
    cancel = threading.Event()
    seen = 0
    for _ in llama.stream(MESSAGES, GenerationSettings(max_new_tokens=300, seed=1), cancel):
        seen += 1
        if seen == 3:
            cancel.set()
    assert seen == 3


@pytest.mark.parametrize("setting, expected", [("3", 3), ("", None), ("0", None), ("many", None)])
def test_the_thread_setting_reaches_llama_cpp(monkeypatch, setting, expected):
    import psutil

    monkeypatch.setenv("INKSTONE_CPU_THREADS", setting)
    assert LlamaCppGenerator("").threads == (expected or psutil.cpu_count(logical=False) or 1)


def test_stops_at_end_of_turn(llama):
    text = "".join(llama.stream([{"role": "user", "content": "Say yes."}],
                                GenerationSettings(max_new_tokens=200, temperature=0.0)))
    assert "<|im_end|>" not in text and llama.count_tokens(text) < 200  # ended before the limit


@pytest.mark.parametrize("env, expected", [
    (dict(), LlamaCppGenerator),  # the packaged GGUF on this CPU machine
    (dict(text_backend="transformers"), TransformersGenerator),
    (dict(text_model="HuggingFaceTB/SmolLM2-135M-Instruct"), TransformersGenerator),
    (dict(text_model="served", text_api_url="http://127.0.0.1:9/v1"), OpenAICompatibleGenerator),
])
def test_auto_chooses_the_backend(tmp_path, env, expected):
    settings = Settings(knowledge=KnowledgeSettings(data_dir=tmp_path), **env)
    assert isinstance(text_generator(settings), expected)


def test_history_and_system_status_name_backend_and_quantisation(kb, llama, make_file):
    from studio.history import History
    from studio.ops import Ops
    from studio.pipeline import DraftReady, Studio
    from studio.understanding import WriteRequest

    kb.add_files([make_file("tides.md", "# Tides\n\nTides rise and fall twice a day because of the moon.")])
    studio = Studio(kb, llama, History(kb.engine), Ops())
    events = list(studio.write(WriteRequest("Write a short summary about tides"),
                               GenerationSettings(max_new_tokens=24, seed=2)))
    draft = events[-1].draft
    assert isinstance(events[-1], DraftReady)
    record = studio.history.get(draft.generation_id)
    assert record.backend == "llamacpp" and "Q4_1 GGUF" in record.model_id
    text_model = studio.system_status()["text model"]
    assert text_model["backend"] == "llamacpp" and text_model["quantisation"].startswith("Q8_0")
    # a stored llama.cpp draft re-runs to the same text
    assert list(studio.rerun(draft.generation_id))[-1].draft.text == draft.text
