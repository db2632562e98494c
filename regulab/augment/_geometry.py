"""Per-sample 3x3 affine matrices in (x, y) = (column, row) pixel coordinates, and their composition.

Every matrix maps an output pixel to the input point it reads (the inverse warp that resampling
needs). Arguments are tensors of shape (N,) or Python numbers; results are (N, 3, 3).
``to_rowcol`` turns a composed matrix into the (N, 2, 3) row/column form of ``affine_transform``.
"""
from __future__ import annotations

import math

import torch


def _batch(*values, device=None, dtype=torch.float32):
    """Tensors of a common shape (N,) from tensors and Python numbers."""
    n = max((v.numel() for v in values if isinstance(v, torch.Tensor)), default=1)
    if device is None:
        device = next((v.device for v in values if isinstance(v, torch.Tensor)), None)
    return [torch.as_tensor(v, dtype=dtype, device=device).reshape(-1).expand(n) for v in values]


def _matrix(a, b, c, d, e, f) -> torch.Tensor:
    """Stack per-sample entries into [[a, b, c], [d, e, f], [0, 0, 1]]."""
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    return torch.stack([a, b, c, d, e, f, zero, zero, one], dim=-1).reshape(-1, 3, 3)


def identity(n: int = 1, device=None, dtype=torch.float32) -> torch.Tensor:
    return torch.eye(3, device=device, dtype=dtype).expand(n, 3, 3)


def rotation(radians, device=None, dtype=torch.float32) -> torch.Tensor:
    """[[cos, -sin], [sin, cos]]: with rows pointing down, a positive angle turns the content
    counter-clockwise on screen (Keras's convention)."""
    (t,) = _batch(radians, device=device, dtype=dtype)
    c, s = torch.cos(t), torch.sin(t)
    z = torch.zeros_like(t)
    return _matrix(c, -s, z, s, c, z)


def translation(tx, ty, device=None, dtype=torch.float32) -> torch.Tensor:
    """Reads the input at (x + tx, y + ty): positive values move the content left and up."""
    tx, ty = _batch(tx, ty, device=device, dtype=dtype)
    z, o = torch.zeros_like(tx), torch.ones_like(tx)
    return _matrix(o, z, tx, z, o, ty)


def shear(degrees, device=None, dtype=torch.float32) -> torch.Tensor:
    """Keras's shear: [[1, -sin(s)], [0, cos(s)]] with ``s`` in degrees."""
    (s,) = _batch(degrees, device=device, dtype=dtype)
    s = s * (math.pi / 180.0)
    z, o = torch.zeros_like(s), torch.ones_like(s)
    return _matrix(o, -torch.sin(s), z, z, torch.cos(s), z)


def zoom(zx, zy, device=None, dtype=torch.float32) -> torch.Tensor:
    """Reads the input at (zx * x, zy * y): factors above 1 zoom out, below 1 zoom in."""
    zx, zy = _batch(zx, zy, device=device, dtype=dtype)
    z = torch.zeros_like(zx)
    return _matrix(zx, z, z, z, zy, z)


def flip(horizontal, vertical, height: int, width: int, device=None,
         dtype=torch.float32) -> torch.Tensor:
    """Mirrors the columns where ``horizontal`` and the rows where ``vertical`` is true."""
    h, v = _batch(horizontal, vertical, device=device, dtype=dtype)
    z = torch.zeros_like(h)
    return _matrix(1 - 2 * h, z, h * (width - 1), z, 1 - 2 * v, v * (height - 1))


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
