"""Images end to end with a tiny diffusers pipeline built from config (no download)."""

import hashlib
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from textkit.scripts import CJK_CHAR
from studio.errors import ModelUnavailable, StudioError
from studio.history import History
from studio.illustration import clean_description, style_terms
from studio.image_generation import ImageGenerator, ImageLimits, ImageSettings, check_image_settings, read_provenance
from studio.ops import Ops
from studio.pipeline import ImageProgress, ImagesReady, PromptReady, Studio

# The database is incidental to what this file tests (see the marker in tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

SMALL = dict(width=64, height=64, num_inference_steps=3)


@pytest.fixture(scope="module")
def image_generator(tiny_image_model):
    return ImageGenerator(tiny_image_model)


@pytest.fixture
def studio(kb, tiny_generator, image_generator, tmp_path):
    return Studio(kb, tiny_generator, History(kb.engine), Ops(), images=image_generator,
                  images_dir=tmp_path / "images")


def pixels(path):
    return np.asarray(Image.open(path).convert("RGB"))


def run(studio, settings, **kwargs):
    events = list(studio.illustrate(settings, **kwargs))
    assert isinstance(events[-1], ImagesReady)
    return events, events[-1]


def test_images_stream_progress_are_saved_with_provenance_and_recorded(studio):
    settings = ImageSettings("a lighthouse at dawn", negative_prompt="blurry", seed=7,
                             batch_count=2, **SMALL)
    draft = studio.history.record(kind="text", action="write", status="done", request={}, brief=None,
                                  passages=[], messages=[], model_id="m", backend="b", settings={},
                                  seed=1, output="A lighthouse.", cited=[], timings={})
    events, ready = run(studio, settings, source={"draft": draft})
    assert any(isinstance(e, PromptReady) and e.prompt == "a lighthouse at dawn" for e in events)
    steps = [(e.step, e.total) for e in events if isinstance(e, ImageProgress)]
    assert steps == [(i, 6) for i in range(1, 7)]
    assert [a.seed for a in ready.artworks] == [7, 8]
    first = ready.artworks[0]
    assert first.path.suffix == ".png" and first.path.is_relative_to(studio.images_dir)
    assert Image.open(first.path).size == (64, 64)
    meta = read_provenance(first.path)
    assert meta["prompt"] == "a lighthouse at dawn" and meta["negative_prompt"] == "blurry"
    assert (meta["seed"], meta["num_inference_steps"], meta["width"]) == (7, 3, 64)
    assert meta["model"] == studio.images.model_id and meta["source"] == {"draft": draft}
    assert "Seed: 7" in Image.open(first.path).text["parameters"]
    record = studio.history.get(first.generation_id)
    assert (record.kind, record.seed, record.output) == ("image", 7, str(first.path))


def test_same_seed_same_pixels_and_rerun_reproduces(studio):
    _, a = run(studio, ImageSettings("a red fox", seed=11, **SMALL))
    _, b = run(studio, ImageSettings("a red fox", seed=11, **SMALL))
    _, c = run(studio, ImageSettings("a red fox", seed=12, **SMALL))
    assert np.array_equal(pixels(a.artworks[0].path), pixels(b.artworks[0].path))
    assert not np.array_equal(pixels(a.artworks[0].path), pixels(c.artworks[0].path))
    again = list(studio.rerun_image(a.artworks[0].generation_id))[-1]
    assert np.array_equal(pixels(a.artworks[0].path), pixels(again.artworks[0].path))


def test_random_seed_is_drawn_and_recorded(studio):
    _, ready = run(studio, ImageSettings("a red fox", **SMALL))
    artwork = ready.artworks[0]
    assert artwork.seed is not None and read_provenance(artwork.path)["seed"] == artwork.seed


def test_image_to_image_and_scheduler_choice(studio):
    _, base = run(studio, ImageSettings("a field", seed=1, **SMALL))
    schedulers = studio.images.schedulers()
    assert schedulers[0] == "EulerDiscreteScheduler" and "DDIMScheduler" in schedulers
    _, varied = run(studio, ImageSettings("a field at night", seed=1, init_image=str(base.artworks[0].path),
                                          strength=0.5, scheduler="DDIMScheduler", width=64, height=64,
                                          num_inference_steps=4))
    kept = read_provenance(varied.artworks[0].path)
    assert Path(kept["init_image"]).read_bytes() == base.artworks[0].path.read_bytes()
    assert kept["init_image_sha256"] == hashlib.sha256(base.artworks[0].path.read_bytes()).hexdigest()
    with pytest.raises(StudioError, match="`scheduler` must be one of"):
        run(studio, ImageSettings("x", scheduler="NoSuchScheduler", **SMALL))


def test_image_to_image_keeps_its_start_image_so_a_rerun_reproduces_it(studio, tmp_path):
    upload = tmp_path / "gradio-upload" / "start.png"  # Gradio's temporary copy of the writer's file
    upload.parent.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(upload)
    data = upload.read_bytes()
    _, made = run(studio, ImageSettings("a field at night", seed=1, init_image=str(upload), strength=0.7, **SMALL))
    record = studio.history.get(made.artworks[0].generation_id)
    assert record.settings["init_image_sha256"] == hashlib.sha256(data).hexdigest()
    kept = Path(record.settings["init_image"])
    assert kept.is_relative_to(studio.kb.settings.data_dir) and kept.read_bytes() == data
    upload.unlink()  # the temporary upload is cleaned away
    again = list(studio.rerun_image(made.artworks[0].generation_id))[-1]
    assert np.array_equal(pixels(made.artworks[0].path), pixels(again.artworks[0].path))
    kept.write_bytes(b"other pixels")
    with pytest.raises(StudioError, match="has changed"):
        list(studio.rerun_image(made.artworks[0].generation_id))


def test_cancel_stops_after_the_current_image(studio):
    cancel = threading.Event()
    events = []
    for event in studio.illustrate(ImageSettings("waves", seed=3, batch_count=3, **SMALL), cancel=cancel):
        events.append(event)
        if isinstance(event, ImageProgress) and event.step == 1:
            cancel.set()
    assert events[-1].status == "cancelled" and events[-1].artworks == []


@pytest.mark.parametrize("changes, message", [
    (dict(prompt="  "), "prompt is empty"), (dict(width=500), "`width` must be divisible by 8 but is 500"),
    (dict(height=4096), "`height` must be between 64 and 1024"), (dict(num_inference_steps=0), "num_inference_steps"),
    (dict(guidance_scale=-1), "guidance_scale"), (dict(batch_count=9), "batch_count"),
    (dict(seed=-1), "seed"), (dict(init_image="x.png", strength=0), "strength"),
])
def test_parameters_are_validated_by_name(changes, message):
    settings = ImageSettings(**{"prompt": "a fox", **SMALL, **changes})
    with pytest.raises(StudioError, match=message):
        check_image_settings(settings, ImageLimits())


def test_without_an_image_model_the_studio_says_how_to_get_one(kb, tiny_generator):
    studio = Studio(kb, tiny_generator, History(kb.engine), Ops())
    assert not studio.images.configured
    with pytest.raises(ModelUnavailable, match="INKSTONE_IMAGE_MODEL") as error:
        list(studio.illustrate(ImageSettings("a fox", **SMALL)))
    assert "huggingface-cli download stabilityai/sd-turbo" in str(error.value)
    assert studio.images.info()["id"] == "(none configured)"


def test_a_wrong_image_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(ModelUnavailable, match="could not be loaded"):
        ImageGenerator(str(tmp_path / "missing")).generate(ImageSettings("a fox", **SMALL), seed=1)


def test_style_terms_and_description_cleanup():
    assert style_terms(["Our house style: watercolour, muted colours, minimalist layouts."]) == (
        "watercolor", "muted palette", "minimalist")
    assert clean_description('Description: "A fox 狐狸 sits under a maple tree." Then more.') == \
        "A fox sits under a maple tree."


@pytest.mark.slow
@pytest.mark.parametrize("draft", [
    "Grey herons stand still in the shallow water of the marsh at dawn, waiting for fish.",
    "清晨的西湖笼罩在薄雾中，几只白鹭在湖边的柳树下觅食，远处的雷峰塔若隐若现。",
])
def test_illustrate_this_derives_an_english_prompt_with_house_style(kb, packaged_model, make_file, draft):
    kb.add_files([make_file("style-guide.md", "# 插图风格指南\n\n我们的插图采用水彩风格，色调柔和，构图极简。")])
    studio = Studio(kb, packaged_model, History(kb.engine), Ops())
    derived = studio.image_prompt(text=draft)
    assert derived.style == ("watercolor", "soft pastel colors", "minimalist")
    assert derived.prompt.endswith("watercolor, soft pastel colors, minimalist")
    assert not CJK_CHAR.search(derived.prompt)
    assert len(derived.subject.split()) >= 3
    assert derived.source_language == ("zh" if CJK_CHAR.search(draft) else "en")
