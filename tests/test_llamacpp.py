"""The llama.cpp backend: same behaviour as the transformers one, chosen by `auto` for GGUF on CPU."""

import threading

import pytest

from knowledge.settings import KnowledgeSettings
from studio.build import text_generator
from studio.settings import Settings
from studio.text_generation import (GenerationSettings, LlamaCppGenerator, OpenAICompatibleGenerator,
                                    TransformersGenerator, physical_cores)

MESSAGES = [{"role": "system", "content": "You are a helpful writer."},
            {"role": "user", "content": "Write one sentence about lighthouses."}]


@pytest.fixture(scope="module")
def llama():
    return LlamaCppGenerator("")


def test_streams_piece_by_piece_with_the_gguf_chat_template(llama):
    pieces = list(llama.stream(MESSAGES, GenerationSettings(max_new_tokens=24, temperature=0.0)))
    assert len(pieces) > 5
    assert "lighthouse" in "".join(pieces).lower()
    # the prompt was built from the GGUF's own template (ChatML for SmolLM2)
    assert llama.prompt_tokens(MESSAGES) > llama.count_tokens(MESSAGES[1]["content"])
    assert llama.info()["threads"] == physical_cores()


def test_fixed_seed_reproduces_and_other_seed_differs(llama):
    def run(seed):
        return "".join(llama.stream(MESSAGES, GenerationSettings(max_new_tokens=24, temperature=1.0, seed=seed)))
    assert run(5) == run(5)
    assert run(5) != run(6)


def test_cancel_stops_generation(llama):
    cancel = threading.Event()
    seen = 0
    for _ in llama.stream(MESSAGES, GenerationSettings(max_new_tokens=300, seed=1), cancel):
        seen += 1
        if seen == 3:
            cancel.set()
    assert seen == 3


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
    assert text_model["backend"] == "llamacpp" and text_model["quantisation"].startswith("Q4_1")
    # a stored llama.cpp draft re-runs to the same text
    assert list(studio.rerun(draft.generation_id))[-1].draft.text == draft.text
