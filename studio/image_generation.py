"""Images: a diffusers text-to-image (and image-to-image) generator with full controls.

No text-to-image weights ship offline, so the model is the writer's choice
(``INKSTONE_IMAGE_MODEL``: a local diffusers folder, or a hub id already in the local cache).
Without one, :attr:`ImageGenerator.configured` is False and :data:`NOT_CONFIGURED` says how to
get one; nothing crashes. Loaded on first use, once per process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from studio.devices import pick_device
from studio.errors import ModelUnavailable, StudioError

log = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "No image model is configured. Images need a diffusers text-to-image model, which cannot "
    "ship inside Inkstone. On a machine with internet, run "
    "`huggingface-cli download stabilityai/sd-turbo --local-dir models/sd-turbo` "
    "(or any Stable Diffusion / SDXL model), copy the folder here, and start Inkstone with "
    "INKSTONE_IMAGE_MODEL=models/sd-turbo. A hub id such as stabilityai/sd-turbo also works "
    "when it is already in the local Hugging Face cache."
)


@dataclass(frozen=True)
class ImageSettings:
    prompt: str
    negative_prompt: str = ""
    num_inference_steps: int = 4  # SD-Turbo needs 1-4; classic SD 1.5 wants 20-50
    guidance_scale: float = 0.0  # 0 for turbo models; 5-8 for classic ones
    width: int = 512
    height: int = 512
    seed: int | None = None  # None: one is drawn and recorded
    batch_count: int = 1
    scheduler: str = ""  # empty: the model's own
    init_image: str = ""  # path of an image to start from (image-to-image)
    strength: float = 0.6  # image-to-image: how far to move away from init_image
    init_image_sha256: str = ""  # the start image's hash, recorded so a re-run can check it has the same one
    # Which image model (a key of studio.catalog.ModelCatalog.image_choices): "" the studio's own
    # (INKSTONE_IMAGE_MODEL), else the name of an image connection from Settings. Recorded.
    model: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def keep_start_image(settings: ImageSettings, folder: Path) -> ImageSettings:
    """``settings`` with its start image copied into ``folder`` (named by its SHA-256, so the same
    picture is kept once) and its hash recorded: an image-to-image record then re-runs from the
    same pixels after the upload's temporary file is gone. A recorded hash that the file no longer
    has is refused rather than silently re-run from other pixels."""
    if not settings.init_image:
        return settings
    source = Path(settings.init_image)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise StudioError(f"The starting image could not be read ({exc.strerror})", code="start_image_missing") from None
    digest = hashlib.sha256(data).hexdigest()
    if settings.init_image_sha256 and digest != settings.init_image_sha256:
        raise StudioError("The starting image of this record has changed since it was made; it cannot be "
                          "reproduced", code="start_image_changed")
    kept = folder / f"{digest}{source.suffix.lower() or '.png'}"
    if not kept.exists():
        folder.mkdir(parents=True, exist_ok=True)
        temporary = kept.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(kept)
    return replace(settings, init_image=str(kept), init_image_sha256=digest)


@dataclass(frozen=True)
class ImageLimits:
    max_side: int = 1024  # pixels; bigger images do not fit a CPU's patience or a small GPU
    max_steps: int = 100
    max_batch: int = 4


def check_image_settings(settings: ImageSettings, limits: ImageLimits) -> None:
    """Raise :class:`StudioError` naming the first value out of range."""
    if not settings.prompt.strip():
        raise StudioError("Describe the picture: the prompt is empty.", code="image_prompt_empty")
    for name in ("width", "height"):
        value = getattr(settings, name)
        if value % 8:
            raise StudioError(f"`{name}` must be divisible by 8 but is {value}", code="not_multiple_of_8",
                              field=name, value=value)
        if not 64 <= value <= limits.max_side:
            raise StudioError(f"`{name}` must be between 64 and {limits.max_side} but is {value}",
                              code="out_of_range", field=name, low=64, high=limits.max_side, value=value)
    if not 1 <= settings.num_inference_steps <= limits.max_steps:
        raise StudioError(f"`num_inference_steps` must be between 1 and {limits.max_steps} "
                          f"but is {settings.num_inference_steps}", code="out_of_range", field="num_inference_steps",
                          low=1, high=limits.max_steps, value=settings.num_inference_steps)
    if not 0.0 <= settings.guidance_scale <= 30.0:
        raise StudioError(f"`guidance_scale` must be between 0 and 30 but is {settings.guidance_scale}",
                          code="out_of_range", field="guidance_scale", low=0, high=30, value=settings.guidance_scale)
    if not 1 <= settings.batch_count <= limits.max_batch:
        raise StudioError(f"`batch_count` must be between 1 and {limits.max_batch} but is {settings.batch_count}",
                          code="out_of_range", field="batch_count", low=1, high=limits.max_batch,
                          value=settings.batch_count)
    if settings.seed is not None and not 0 <= settings.seed < 2**32:
        raise StudioError(f"`seed` must be between 0 and 2**32-1 but is {settings.seed}", code="out_of_range",
                          field="seed", low=0, high=2**32 - 1, value=settings.seed)
    if settings.init_image and not 0.0 < settings.strength <= 1.0:
        raise StudioError(f"`strength` must be in (0, 1] but is {settings.strength}", code="out_of_range",
                          field="strength", low=0, high=1, value=settings.strength)


@dataclass(frozen=True)
class MemoryOptions:
    attention_slicing: bool = False
    vae_tiling: bool = False
    cpu_offload: bool = False  # needs a GPU: moves idle parts back to the CPU


class ImageGenerator:
    """Generates images with a diffusers pipeline named by ``model`` (empty: not configured)."""

    backend = "diffusers"

    def __init__(self, model: str = "", *, device: str | None = None,
                 memory: MemoryOptions = MemoryOptions()):
        self.model_id = model
        self._device = device
        self.memory = memory
        self._pipe = None
        self._img2img = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    @property
    def configured(self) -> bool:
        return bool(self.model_id)

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    def _load(self):
        if not self.configured:
            raise ModelUnavailable(NOT_CONFIGURED, code="no_image_model_configured")
        with self._lock:
            if self._pipe is not None:
                return self._pipe
            from diffusers import AutoPipelineForText2Image
            from diffusers.utils import logging as diffusers_logging

            diffusers_logging.disable_progress_bar()
            device, dtype = pick_device(self._device)
            started = time.perf_counter()
            try:
                pipe = AutoPipelineForText2Image.from_pretrained(self.model_id, dtype=dtype)
            except (OSError, ValueError, EnvironmentError) as exc:
                raise ModelUnavailable(
                    f"Image model {self.model_id!r} could not be loaded: {exc}. "
                    f"INKSTONE_IMAGE_MODEL must name a diffusers folder or a cached hub id. "
                    + NOT_CONFIGURED.split(". ", 1)[1], code="image_model_unloadable", model=self.model_id,
                    detail=str(exc)) from exc
            if self.memory.attention_slicing:
                pipe.enable_attention_slicing()
            if self.memory.vae_tiling and hasattr(pipe, "enable_vae_tiling"):
                pipe.enable_vae_tiling()
            if self.memory.cpu_offload and device.startswith("cuda"):
                pipe.enable_model_cpu_offload()
            else:
                pipe.to(device)
            pipe.set_progress_bar_config(disable=True)
            self._pipe = pipe
            self.load_seconds = time.perf_counter() - started
            log.info("image model %s loaded on %s/%s in %.1f s", self.model_id, device, dtype,
                     self.load_seconds)
            return pipe

    def info(self) -> dict:
        details = {"id": self.model_id or "(none configured)", "backend": self.backend,
                   "loaded": self.loaded}
        if self._pipe is not None:
            details.update(device=str(self._pipe.device), dtype=str(self._pipe.dtype).replace("torch.", ""),
                           pipeline=type(self._pipe).__name__, load_seconds=round(self.load_seconds or 0, 2))
        return details

    def schedulers(self) -> list[str]:
        """Scheduler class names compatible with the loaded model (its own first)."""
        pipe = self._load()
        own = type(pipe.scheduler).__name__
        others = sorted({c.__name__ for c in pipe.scheduler.compatibles} - {own})
        return [own, *others]

    def supports_img2img(self) -> bool:
        try:
            self._image_to_image()
        except (ModelUnavailable, ValueError):
            return False
        return True

    def _image_to_image(self):
        pipe = self._load()
        with self._lock:
            if self._img2img is None:
                from diffusers import AutoPipelineForImage2Image

                self._img2img = AutoPipelineForImage2Image.from_pipe(pipe)
                self._img2img.set_progress_bar_config(disable=True)
            return self._img2img

    def _with_scheduler(self, pipe, name: str):
        if not name or name == type(pipe.scheduler).__name__:
            return pipe.scheduler
        compatible = {c.__name__: c for c in pipe.scheduler.compatibles}
        if name not in compatible:
            raise StudioError(f"`scheduler` must be one of {', '.join(sorted(compatible))} but is {name!r}",
                              code="not_one_of", field="scheduler", choices=", ".join(sorted(compatible)), value=name)
        return compatible[name].from_config(pipe.scheduler.config)

    def generate(self, settings: ImageSettings, *, seed: int,
                 progress: Callable[[int, int], None] | None = None,
                 cancel: threading.Event | None = None) -> list:
        """Images for ``settings`` (one per batch entry, seeds ``seed``, ``seed + 1``, ...).

        ``progress(step, total)`` is called after each denoising step; setting ``cancel``
        stops after the current step (the images made so far are returned).
        """
        import torch
        from PIL import Image

        if settings.init_image:
            pipe = self._image_to_image()
            try:
                init = Image.open(settings.init_image).convert("RGB").resize((settings.width, settings.height))
            except OSError as exc:
                raise StudioError(f"The starting image could not be read ({exc})", code="start_image_unreadable",
                                  detail=str(exc)) from None
        else:
            pipe = self._load()
        cancel = cancel or threading.Event()
        scheduler = self._with_scheduler(pipe, settings.scheduler)
        images = []
        with self._lock:
            original = pipe.scheduler
            pipe.scheduler = scheduler
            try:
                for index in range(settings.batch_count):
                    if cancel.is_set():
                        break

                    def on_step(p, step, timestep, callback_kwargs, _index=index):
                        if progress is not None:
                            progress(_index * settings.num_inference_steps + step + 1,
                                     settings.batch_count * settings.num_inference_steps)
                        if cancel.is_set():
                            p._interrupt = True
                        return callback_kwargs

                    kwargs = dict(prompt=settings.prompt,
                                  negative_prompt=settings.negative_prompt or None,
                                  num_inference_steps=settings.num_inference_steps,
                                  guidance_scale=settings.guidance_scale,
                                  generator=torch.Generator("cpu").manual_seed(seed + index),
                                  callback_on_step_end=on_step)
                    if settings.init_image:
                        kwargs.update(image=init, strength=settings.strength)
                    else:
                        kwargs.update(width=settings.width, height=settings.height)
                    result = pipe(**kwargs)
                    if not cancel.is_set():
                        images.append(result.images[0])
            finally:
                pipe.scheduler = original
        return images


def save_png(image, path: Path, provenance: dict) -> Path:
    """Save ``image`` as PNG with ``provenance`` in its text chunks ("inkstone" holds the JSON,
    "parameters" a one-line summary other tools read)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("inkstone", json.dumps(provenance, ensure_ascii=False, sort_keys=True))
    summary = (f"{provenance.get('prompt', '')}\nNegative prompt: {provenance.get('negative_prompt', '')}\n"
               f"Steps: {provenance.get('num_inference_steps')}, Sampler: {provenance.get('scheduler')}, "
               f"CFG scale: {provenance.get('guidance_scale')}, Seed: {provenance.get('seed')}, "
               f"Size: {provenance.get('width')}x{provenance.get('height')}, Model: {provenance.get('model')}")
    info.add_text("parameters", summary)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    image.save(temporary, format="PNG", pnginfo=info)
    temporary.replace(path)
    return path


def read_provenance(path: Path) -> dict:
    """The provenance JSON stored in a PNG by :func:`save_png`."""
    from PIL import Image

    with Image.open(path) as image:
        return json.loads(image.text["inkstone"])
