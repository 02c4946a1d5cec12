"""Shared fixtures: every test gets its own data folder, no network, and (where it asks for a
database) each database the suite runs against: SQLite always, PostgreSQL when
``INKSTONE_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one; CI fails without it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

import pytest

from knowledge.embedding import Embedder
from knowledge.settings import KnowledgeSettings

POSTGRES_URL = os.environ.get("INKSTONE_TEST_POSTGRES_URL", "")


def pytest_configure(config):
    """Under xdist, each worker computes on its share of the cores (it and the servers and
    workers it starts, which inherit the environment). llama.cpp's and torch's threads spin
    while they wait for each other, so two workers of two threads each on two cores wasted a
    quarter of the suite's CPU time (docs/BENCHMARKS.md, "The test suite's time")."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers > 1:
        from textkit import cpu_threads

        share = str(max(1, cpu_threads() // workers))
        os.environ.setdefault("INKSTONE_CPU_THREADS", share)
        os.environ.setdefault("OMP_NUM_THREADS", share)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``sqlite_only`` run on SQLite alone: end-to-end tests whose database is
    incidental (the pipeline, connections, images, UI handlers) cost minutes on a second one
    and test nothing new there. Every query the studio makes is tested on both databases in
    test_knowledge_base, test_history, test_accounts and test_api, whose scripted session also
    uploads, writes, illustrates and reads history on PostgreSQL end to end."""
    skipped = [item for item in items if item.get_closest_marker("sqlite_only")
               and getattr(item, "callspec", None) and item.callspec.params.get("database_url") == "postgresql"]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        gone = set(map(id, skipped))
        items[:] = [item for item in items if id(item) not in gone]
    # Files holding a ``slow`` test go first: with `--no-loadscope-reorder` (the Makefile) xdist
    # hands out whole files in this order, and a long file handed out last keeps one worker
    # busy while the others are done. Of those, the ones that need no tiny model go first: the
    # first worker to need one builds it (about 13 s) while the others wait for it, and three
    # workers all starting on a file that needs one left a core idle for that long.
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    tiny_files = {item.path for item in items
                  if {"tiny_text_model", "tiny_image_model"} & set(item.fixturenames)}
    items.sort(key=lambda item: (item.path not in slow_files, item.path in tiny_files))  # stable


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("INKSTONE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.delenv("INKSTONE_DATABASE_URL", raising=False)


@pytest.fixture(autouse=True, scope="session")
def _patient_gradio_startup():
    """Gradio pings its own page once at launch (3 s timeout, giving up at the first timeout)
    and refuses to start when the ping fails; on a loaded, shared CI machine a served test then
    fails before it begins ("localhost is not accessible"). The suite waits up to 60 s instead."""
    import time

    import httpx
    from gradio import networking

    def patient(url: str) -> bool:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.head(url, timeout=10, verify=False).status_code < 500:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return False

    networking.url_ok = patient
    yield


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real packaged all-MiniLM-L6-v2, loaded once for the whole session."""
    return Embedder()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind the suite runs against."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'inkstone.db'}"
        return
    with _postgres_schema() as url:
        yield url


@contextlib.contextmanager
def _postgres_schema():
    """A fresh schema on the test server, as a database URL; dropped afterwards."""
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: set INKSTONE_TEST_POSTGRES_URL (.ci/run does)")
        pytest.skip("no PostgreSQL server: set INKSTONE_TEST_POSTGRES_URL to run these")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture
def kb_settings(tmp_path, database_url) -> KnowledgeSettings:
    return KnowledgeSettings(data_dir=tmp_path / "data", database_url=database_url,
                             parse_timeout_s=60)


@pytest.fixture
def kb(kb_settings, embedder):
    from knowledge.base import KnowledgeBase

    base = KnowledgeBase.open(kb_settings, embedder=embedder)
    yield base
    base.close()


@pytest.fixture
def make_file(tmp_path):
    """Write a file into a fresh folder and return its path: make_file("a.txt", b"...")."""
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)

    def write(name: str, content: bytes | str, encoding: str = "utf-8") -> Path:
        path = folder / name
        path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
        return path

    return write


def _built_once(tmp_path_factory, worker_id: str, name: str, build) -> Path:
    """A folder that ``build(folder)`` fills once per test session, shared by the xdist workers
    (each would otherwise spend seconds building the same seeded model)."""
    if worker_id == "master":
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp().parent  # this session's folder, above the workers' own
    folder = root / name
    with FileLock(str(root / f"{name}.lock")):
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)  # a worker that died halfway
            folder.mkdir()
            build(folder)
            (folder / ".built").touch()
    return folder


@pytest.fixture(scope="session")
def tiny_text_model(tmp_path_factory, worker_id) -> str:
    """A tiny Llama causal LM built from config with seeded random weights and SmolLM2's real
    tokenizer (read from the packaged GGUF), saved as a normal transformers folder, so tests
    load it through the same code path as a writer's own model."""
    return str(_built_once(tmp_path_factory, worker_id, "tiny-llama", _build_tiny_text_model))


def _build_tiny_text_model(folder: Path) -> None:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from studio.text_generation import packaged_gguf_path

    gguf = packaged_gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=1024, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.fixture(scope="session")
def tiny_generator(tiny_text_model, tmp_path_factory):
    from studio.text_generation import TransformersGenerator

    return TransformersGenerator(tiny_text_model, cache_dir=tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def packaged_model(tmp_path_factory):
    """The default model as the studio runs it on a CPU: the packaged SmolLM2 GGUF in llama.cpp."""
    from studio.text_generation import LlamaCppGenerator

    return LlamaCppGenerator("", cache_dir=tmp_path_factory.mktemp("gguf"))


@pytest.fixture(scope="session")
def default_generator(tmp_path_factory):
    """The real default model (packaged SmolLM2 GGUF) in transformers, as on a GPU: converted
    once per session."""
    from studio.text_generation import TransformersGenerator

    return TransformersGenerator("", cache_dir=tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def tiny_image_model(tmp_path_factory, worker_id) -> str:
    """A tiny Stable Diffusion pipeline built from config with seeded random weights: UNet,
    VAE, a small CLIP text encoder and a character-level CLIP tokenizer written here. Saved as
    a diffusers folder, so tests load it through the same loader as a writer's model."""
    return str(_built_once(tmp_path_factory, worker_id, "tiny-sd", _build_tiny_image_model))


def _build_tiny_image_model(folder: Path) -> None:
    import torch
    from diffusers import (AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    symbols = list(bytes_to_unicode().values())
    vocab = {t: i for i, t in enumerate(["<|startoftext|>", "<|endoftext|>", "!"]
                                          + symbols + [s + "</w>" for s in symbols])}
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], pad_token="!", model_max_length=77)

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
        norm_num_groups=4, attention_head_dim=(2, 4))
    # four VAE blocks, as in Stable Diffusion: latents are 1/8 of the image's side. With two,
    # a 512 px image (the tab's default) made 256x256 latents, and the UNet's self-attention
    # over them took ~9 s a step on a CPU; now a few hundred ms.
    vae = AutoencoderKL(block_out_channels=[8, 8, 16, 16], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 4,
                        up_block_types=["UpDecoderBlock2D"] * 4, latent_channels=4,
                        norm_num_groups=4, layers_per_block=1)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=2, hidden_size=32, intermediate_size=37,
        num_attention_heads=4, num_hidden_layers=2, vocab_size=len(vocab), projection_dim=32))
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012,
                                       beta_schedule="scaled_linear", steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                   unet=unet, scheduler=scheduler, safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder)


@pytest.fixture
def served_studio(request, tmp_path, embedder, tiny_generator, tiny_image_model):
    """The studio on the tiny models, served over HTTP exactly as app.py serves it (bounded
    queue, upload limit, served folders, translations). Yields (url, studio).

    On SQLite: what differs between databases is the knowledge base and history, which their
    own tests check on both; the served tests check the page and the API over them, and a few
    (``database="postgresql"``) do that on PostgreSQL too.

    Indirect parameters: ``generator`` replaces the text generator; ``queue_size``; ``users``
    ({name: password}) turns accounts on with those writers; ``no_images`` leaves images off;
    ``metrics`` serves /metrics; ``database`` "postgresql" serves from the test server;
    ``embed_group`` sets the chunks read ahead before an embedding pass; ``chunk_tokens`` the
    chunk size (short chunks embed faster); ``max_new_tokens`` the studio's limit (and so the
    Write tab's default length)."""
    from studio.accounts import Accounts

    options = getattr(request, "param", {})
    from knowledge import KnowledgeBase, KnowledgeSettings
    from studio.history import History
    from studio.image_generation import ImageGenerator
    from studio.ops import Limits, Ops
    from studio.pipeline import Studio
    from studio.ui import build_demo, launch

    database = contextlib.ExitStack()
    database_url = (database.enter_context(_postgres_schema()) if options.get("database") == "postgresql"
                    else f"sqlite:///{tmp_path / 'data' / 'inkstone.db'}")
    kb = KnowledgeBase.open(KnowledgeSettings(data_dir=tmp_path / "data", database_url=database_url,
                                              max_upload_mb=1,
                                              embed_group_chunks=options.get("embed_group", 512),
                                              chunk_tokens=options.get("chunk_tokens", 200),
                                              chunk_overlap=min(40, options.get("chunk_tokens", 200) // 4)),
                            embedder=embedder)
    accounts = Accounts(kb.engine)
    for name, password in options.get("users", {}).items():
        accounts.add(name, password)
    limits = Limits(max_new_tokens=options["max_new_tokens"]) if "max_new_tokens" in options else None
    studio = Studio(kb, options.get("generator", tiny_generator), History(kb.engine), Ops(limits),
                    images=ImageGenerator("" if options.get("no_images") else tiny_image_model),
                    images_dir=tmp_path / "data" / "images",
                    accounts=accounts)
    demo = build_demo(studio)
    launch(demo, studio, port=None, prevent_thread_lock=True, quiet=True,
           metrics=bool(options.get("metrics")),
           **({"queue_size": options["queue_size"]} if "queue_size" in options else {}))
    yield demo.local_url, studio
    demo.close()
    kb.close()
    database.close()  # drops the PostgreSQL schema


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The last flag: headless Chromium still preloads the address bar's two WebUI pop-ups in a
# renderer of their own for every browser context (10.2 s of CPU over the everyday-workflow
# file's eight contexts), for a bar no headless test has (docs/BENCHMARKS.md, "The test suite's time").
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup"]


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, started once per test file (each test gets fresh contexts of it)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install Debian's chromium (.ci/run does)")
        pytest.skip("no chromium: apt-get install chromium to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A page in a fresh browser context (no cookies or storage from other tests); every
    context the test opens is closed after it."""
    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    yield page
    for context in chromium.contexts:
        context.close()


@pytest.fixture(scope="session")
def model_server(tmp_path_factory):
    """llama.cpp's OpenAI-compatible server on loopback with the packaged GGUF (tests/model_server.py),
    started once per session; a test that kills it must start it again."""
    import importlib.util

    if importlib.util.find_spec("sse_starlette") is None or importlib.util.find_spec("starlette_context") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the model-server tests: install requirements.txt (llama_cpp.server's extras)")
        pytest.skip("llama_cpp.server's extras are missing: pip install -r requirements.txt")
    from studio.text_generation import packaged_gguf_path
    from tests.model_server import ModelServer

    server = ModelServer(packaged_gguf_path(), tmp_path_factory.mktemp("model-server") / "server.log")
    server.start()
    yield server
    server.kill()
