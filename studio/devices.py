"""Where models run: CUDA in bf16 (fp16 where bf16 is missing) when there is a GPU, else CPU fp32."""

from __future__ import annotations


def pick_device(requested: str | None = None):
    """``(device, dtype)`` for a model; ``requested`` ("cpu", "cuda:1", ...) overrides the choice."""
    import torch

    device = requested or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        return device, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return device, torch.float32
