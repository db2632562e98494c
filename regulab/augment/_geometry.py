"""Per-sample 3x3 affine matrices in (x, y) = (column, row) pixel coordinates.

Every matrix maps an output pixel to the input point it reads (the inverse warp that resampling
needs). Arguments are tensors of shape (N,) or Python numbers; results are (N, 3, 3), composed
with ``@``. ``to_rowcol`` turns one into the (N, 2, 3) row/column form of ``affine_transform``.
"""
from __future__ import annotations

import torch


def as_batch(*values, device=None, dtype=torch.float32):
    """Tensors of a common shape (N,) from tensors, arrays and Python numbers."""
    tensors = [torch.as_tensor(v) if not isinstance(v, (int, float)) else v for v in values]
    n = max((v.numel() for v in tensors if isinstance(v, torch.Tensor)), default=1)
    if device is None:
        device = next((v.device for v in tensors if isinstance(v, torch.Tensor)), None)
    # numbers are filled on the device (no host-to-device copy, which would wait for the GPU)
    return [torch.full((n,), float(v), dtype=dtype, device=device) if not isinstance(
        v, torch.Tensor) else v.to(dtype=dtype, device=device).reshape(-1).expand(n)
        for v in tensors]


def _matrix(a, b, c, d, e, f) -> torch.Tensor:
    """Stack per-sample entries into [[a, b, c], [d, e, f], [0, 0, 1]]."""
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    return torch.stack([a, b, c, d, e, f, zero, zero, one], dim=-1).reshape(-1, 3, 3)


def rotation(radians, device=None, dtype=torch.float32) -> torch.Tensor:
    """[[cos, -sin], [sin, cos]]: with rows pointing down, a positive angle turns the content
    counter-clockwise on screen (Keras's convention)."""
    (t,) = as_batch(radians, device=device, dtype=dtype)
    c, s = torch.cos(t), torch.sin(t)
    z = torch.zeros_like(t)
    return _matrix(c, -s, z, s, c, z)


def translation(tx, ty, device=None, dtype=torch.float32) -> torch.Tensor:
    """Reads the input at (x + tx, y + ty): positive values move the content left and up."""
    tx, ty = as_batch(tx, ty, device=device, dtype=dtype)
    z, o = torch.zeros_like(tx), torch.ones_like(tx)
    return _matrix(o, z, tx, z, o, ty)


def zoom(zx, zy, device=None, dtype=torch.float32) -> torch.Tensor:
    """Reads the input at (zx * x, zy * y): factors above 1 zoom out, below 1 zoom in."""
    zx, zy = as_batch(zx, zy, device=device, dtype=dtype)
    z = torch.zeros_like(zx)
    return _matrix(zx, z, z, z, zy, z)


def centered(m: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Conjugates ``m`` so that it acts about the image centre ((width-1)/2, (height-1)/2)."""
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    to_center = translation(cx, cy, device=m.device, dtype=m.dtype)
    from_center = translation(-cx, -cy, device=m.device, dtype=m.dtype)
    return to_center @ m @ from_center


def to_rowcol(m: torch.Tensor) -> torch.Tensor:
    """(N, 3, 3) in (x, y) order -> (N, 2, 3) in (row, col) order, SciPy's convention."""
    return torch.stack([
        torch.stack([m[:, 1, 1], m[:, 1, 0], m[:, 1, 2]], dim=-1),
        torch.stack([m[:, 0, 1], m[:, 0, 0], m[:, 0, 2]], dim=-1),
    ], dim=1)
