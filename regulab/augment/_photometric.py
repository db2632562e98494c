"""Per-sample intensity transforms on channels-last batches (N, H, W, C).

Factors are tensors of shape (N,) (one per sample) or Python numbers (the same for all).
"""
from __future__ import annotations

import torch


def _per_sample(value, x: torch.Tensor):
    """A number as it is; a tensor or array as (N, 1, 1, ...) on ``x``'s device."""
    if isinstance(value, (int, float)):
        return float(value)
    t = torch.as_tensor(value).to(dtype=x.dtype, device=x.device)
    return t.reshape(-1, *([1] * (x.dim() - 1)))


def _extremes(x: torch.Tensor):
    flat = x.reshape(x.shape[0], -1)
    shape = (x.shape[0],) + (1,) * (x.dim() - 1)
    return flat.amin(dim=1).reshape(shape), flat.amax(dim=1).reshape(shape)


def channel_shift(x: torch.Tensor, intensity) -> torch.Tensor:
    """Adds ``intensity`` to every channel, clipped to each image's own [min, max] (Keras's IDG)."""
    low, high = _extremes(x)
    return torch.minimum(torch.maximum(x + _per_sample(intensity, x), low), high)


def brightness(x: torch.Tensor, factor) -> torch.Tensor:
    """Multiplies by ``factor`` as Keras's IDG does through PIL, without its 8-bit rounding.

    An image whose values lie in [0, 255] is scaled and clipped to [0, 255]; any other image is
    scaled about its minimum and clipped to its own [min, max], as Keras maps such images onto
    0..255 and back. (Keras also truncates to integers on the way, which turns images in [0, 1]
    into zeros; regulab keeps the values.)
    """
    low, high = _extremes(x)
    in_byte_range = (low >= 0) & (high <= 255)
    base = torch.where(in_byte_range, torch.zeros_like(low), low)
    top = torch.where(in_byte_range, torch.full_like(high, 255.0), high - low)
    scaled = (x - base) * _per_sample(factor, x)
    return base + torch.minimum(torch.maximum(scaled, torch.zeros_like(top)), top)


def contrast(x: torch.Tensor, factor, value_range) -> torch.Tensor:
    """``(x - mean) * factor + mean`` with each image's per-channel mean, clipped to
    ``value_range`` (Keras 3's RandomContrast)."""
    mean = x.mean(dim=(1, 2), keepdim=True)
    out = (x - mean) * _per_sample(factor, x) + mean
    return out.clamp(float(value_range[0]), float(value_range[1]))


def brightness_shift(x: torch.Tensor, delta, value_range) -> torch.Tensor:
    """Adds ``delta`` times the width of ``value_range``, clipped to it (Keras 3's
    RandomBrightness)."""
    low, high = float(value_range[0]), float(value_range[1])
    return (x + _per_sample(delta, x) * (high - low)).clamp(low, high)
