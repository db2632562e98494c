"""One resampling call for a whole batch, with ``scipy.ndimage.affine_transform``'s boundary modes.

Each output pixel (row, col) of sample ``n`` reads the input at ``matrix[n] @ (row, col, 1)``, as
SciPy does. Coordinates outside the image are first folded back by the boundary mode with SciPy's
own rules (worked out against ``scipy.ndimage.map_coordinates``: SciPy folds the continuous
coordinate, then rounds or interpolates, then clamps the neighbours), and the folded coordinates
go to a single ``grid_sample`` call, which runs batched on any device.

Modes (SciPy's names and meanings; ``abcd`` is one row of pixels):

=================  ===========================  =================================================
mode               extends ``abcd`` as          note
=================  ===========================  =================================================
``nearest``        ``aaaa|abcd|dddd``
``reflect``        ``dcba|abcd|dcba``           half-sample symmetric
``mirror``         ``dcb|abcd|cba``             whole-sample symmetric
``grid-wrap``      ``abcd|abcd|abcd``           periodic
``wrap``           SciPy's legacy wrap          period ``n - 1``: first and last pixel overlap
``constant``       ``kkkk|abcd|kkkk``           ``cval`` wherever the point lies outside
                                                [0, n-1]; no interpolation towards ``cval``
``grid-constant``  ``kkkk|abcd|kkkk``           interpolates between the edge and ``cval``
=================  ===========================  =================================================
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from regulab._validation import check_choice

MODES = ("nearest", "reflect", "mirror", "grid-wrap", "wrap", "constant", "grid-constant")


def _fold(p: torch.Tensor, n: int, mode: str) -> torch.Tensor:
    """Map continuous coordinates along an axis of length ``n`` into the image, as SciPy does."""
    if mode in ("constant", "grid-constant"):
        return p  # the caller masks or pads
    if n == 1 or mode == "nearest":
        return p.clamp(0, n - 1)
    if mode == "reflect":
        p = torch.remainder(p + 0.5, 2 * n) - 0.5
        return torch.where(p > n - 0.5, 2 * n - 1 - p, p)
    if mode == "mirror":
        p = torch.remainder(p, 2 * n - 2)
        return torch.where(p > n - 1, 2 * n - 2 - p, p)
    if mode == "grid-wrap":
        return torch.remainder(p, n)
    # "wrap": SciPy's legacy rule, period n - 1 outside the image
    period = n - 1
    low = p + period * (torch.trunc(-p / period) + 1)
    high = p - period * torch.trunc(p / period)
    return torch.where(p < 0, low, torch.where(p > n - 1, high, p))


def affine_transform(x: torch.Tensor, matrix: torch.Tensor, output_shape=None,
                     mode: str = "constant", cval: float = 0.0, order: int = 1) -> torch.Tensor:
    """Resample a batch of channels-last images through one affine map per sample.

    Args:
        x: images, shape (N, H, W, C), floating point, on any device.
        matrix: (N, 2, 3) or (2, 3): output (row, col, 1) -> input (row, col), SciPy's convention
            (``scipy.ndimage.affine_transform(img, matrix[:, :2], offset=matrix[:, 2])``).
        output_shape: (H_out, W_out); default the input's.
        mode: boundary mode, one of ``MODES`` (see the module docstring).
        cval: fill value of the constant modes.
        order: 0 (nearest neighbour, rounding half up as SciPy) or 1 (bilinear).

    Returns:
        (N, H_out, W_out, C) tensor of ``x``'s dtype.

    >>> import torch
    >>> x = torch.arange(4.0).reshape(1, 1, 4, 1)
    >>> shift = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, -1.5]])  # read 1.5 pixels to the left
    >>> affine_transform(x, shift, mode="nearest")[0, 0, :, 0]
    tensor([0.0000, 0.0000, 0.5000, 1.5000])
    >>> affine_transform(x, shift, mode="grid-wrap", order=0)[0, 0, :, 0]
    tensor([3., 0., 1., 2.])
    """
    mode = check_choice("mode", mode, MODES, where="affine_transform")
    if order not in (0, 1):
        raise ValueError("Invalid value for argument `order` of affine_transform: expected 0 "
                         f"(nearest) or 1 (bilinear). Received: order={order!r}")
    if x.dim() != 4:
        raise ValueError("Invalid value for argument `x` of affine_transform: expected a tensor "
                         f"of rank 4 (N, H, W, C). Received: x with shape {tuple(x.shape)}")
    n, h, w, _ = x.shape
    hout, wout = (h, w) if output_shape is None else (int(output_shape[0]), int(output_shape[1]))
    m = matrix.to(device=x.device, dtype=x.dtype).expand(n, 2, 3)
    src = x.permute(0, 3, 1, 2)
    if order == 1 and mode in _GRID_PADDING:
        out = _sample_fast(src, m, hout, wout, mode, cval)
    else:
        out = _sample_folded(src, m, hout, wout, mode, cval, order)
    return out.permute(0, 2, 3, 1)


# bilinear modes that grid_sample's own padding reproduces exactly; "constant" is border
# sampling masked afterwards, and PyTorch's "reflection" (about -0.5 and n-0.5, then clipped)
# equals SciPy's "reflect" followed by its clamped neighbours
_GRID_PADDING = {"nearest": "border", "constant": "border", "reflect": "reflection",
                 "grid-constant": "zeros"}


def _sample_fast(src, m, hout, wout, mode, cval):
    """Bilinear resampling with the pixel map folded into grid_sample's normalized coordinates:
    one broadcast add builds the grid, one grid_sample call reads it."""
    n, _, h, w = src.shape
    # align_corners=False: pixel p <-> normalized (2p + 1) / size - 1
    a00, a01, b0 = m[:, 0, 0], m[:, 0, 1], m[:, 0, 2]
    a10, a11, b1 = m[:, 1, 0], m[:, 1, 1], m[:, 1, 2]
    cy, cx = (hout - 1) / 2.0, (wout - 1) / 2.0
    # per sample, normalized input (x, y) = tx * gx + ty * gy + t0 over the output grid (gx, gy)
    tx = torch.stack([a11 * wout / w, a01 * wout / h], dim=-1).view(n, 1, 1, 2)
    ty = torch.stack([a10 * hout / w, a00 * hout / h], dim=-1).view(n, 1, 1, 2)
    t0 = torch.stack([(2 * (a11 * cx + a10 * cy + b1) + 1) / w - 1,
                      (2 * (a01 * cx + a00 * cy + b0) + 1) / h - 1], dim=-1).view(n, 1, 1, 2)
    gx = ((2 * torch.arange(wout, device=src.device, dtype=src.dtype) + 1) / wout - 1)
    gy = ((2 * torch.arange(hout, device=src.device, dtype=src.dtype) + 1) / hout - 1)
    # two small broadcasts and one full-size add (cheaper than affine_grid's batched matmul)
    grid = (gx.view(1, 1, wout, 1) * tx + t0) + gy.view(1, hout, 1, 1) * ty
    grid_constant = mode == "grid-constant" and cval != 0
    if grid_constant:
        src = src - cval  # zero padding of (x - cval), plus cval, pads with cval
    out = F.grid_sample(src, grid, mode="bilinear", padding_mode=_GRID_PADDING[mode],
                        align_corners=False)
    if grid_constant:
        out = out + cval
    if mode == "constant":
        # inside [0, size-1] in pixels is inside [1/size - 1, 1 - 1/size] in normalized units
        inside = (grid[..., 0].abs() <= 1 - 1 / w) & (grid[..., 1].abs() <= 1 - 1 / h)
        out = torch.where(inside.unsqueeze(1), out, float(cval))
    return out


def _sample_folded(src, m, hout, wout, mode, cval, order):
    """The general path: pixel coordinates folded by SciPy's rules, rounded for order 0."""
    n, _, h, w = src.shape
    rows = torch.arange(hout, device=src.device, dtype=src.dtype).view(1, hout, 1)
    cols = torch.arange(wout, device=src.device, dtype=src.dtype).view(1, 1, wout)
    coef = m.reshape(n, 6, 1, 1)
    pr = coef[:, 0] * rows + coef[:, 1] * cols + coef[:, 2]
    pc = coef[:, 3] * rows + coef[:, 4] * cols + coef[:, 5]
    inside = None
    if mode == "constant":
        inside = (pr >= 0) & (pr <= h - 1) & (pc >= 0) & (pc <= w - 1)
    pr, pc = _fold(pr, h, mode), _fold(pc, w, mode)
    if order == 0:
        pr, pc = torch.floor(pr + 0.5), torch.floor(pc + 0.5)
        if mode == "grid-wrap":
            pr, pc = torch.remainder(pr, h), torch.remainder(pc, w)
    if mode == "grid-wrap" and order == 1:
        # points in (n-1, n) interpolate between the last and the first pixel: append the first
        # row and column so that one bilinear read sees both
        src = torch.cat([src, src[:, :, :1]], dim=2)
        src = torch.cat([src, src[:, :, :, :1]], dim=3)
    grid_constant = mode == "grid-constant"
    if grid_constant and cval != 0:
        src = src - cval
    sh, sw = src.shape[2], src.shape[3]
    grid = torch.stack([(2 * pc + 1) / sw - 1, (2 * pr + 1) / sh - 1], dim=-1)
    out = F.grid_sample(src, grid, mode="bilinear" if order == 1 else "nearest",
                        padding_mode="zeros" if grid_constant else "border", align_corners=False)
    if grid_constant and cval != 0:
        out = out + cval
    if inside is not None:
        out = torch.where(inside.unsqueeze(1), out, float(cval))
    return out
