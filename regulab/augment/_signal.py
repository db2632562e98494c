"""Per-sample random shifts, time scaling and noise for 1-D signals (N, L) or (N, L, C).

On MNIST-1D (Greydanus & Kobak, 2024) a random circular shift lifts an MLP from about 64% to
about 80% held-out accuracy. Shifts are whole steps, so ``fill_mode="wrap"`` is an exact circular
shift (``torch.roll`` with a different amount per sample) and ``"constant"`` pads with ``cval``.
"""
from __future__ import annotations

import torch

from regulab._validation import check_choice, check_float
from regulab.augment._geometry import as_batch
from regulab.augment._image import ShiftRange, zoom_bounds
from regulab.augment._resample import _fold, affine_transform
from regulab.augment._sampling import Sampler

#: fill modes for signals -> boundary modes of ``affine_transform``
SIGNAL_FILL_MODES = {"wrap": "grid-wrap", "constant": "grid-constant", "nearest": "nearest",
                     "reflect": "reflect"}


def _as_channels(x: torch.Tensor, where: str) -> torch.Tensor:
    if x.dim() not in (2, 3):
        raise ValueError(f"Invalid value for argument `x` of {where}: expected signals of shape "
                         f"(N, L) or (N, L, C). Received: x with shape {tuple(x.shape)}")
    return x.unsqueeze(-1) if x.dim() == 2 else x


def transform_signals(x: torch.Tensor, shift=0, scale=1.0, fill_mode: str = "wrap",
                      cval: float = 0.0) -> torch.Tensor:
    """Shift signals by ``shift`` steps (positive: later in time) and stretch them by ``scale``
    about their centre (above 1: slower), one value per sample or one for all.

    >>> import torch
    >>> x = torch.arange(5.0).reshape(1, 5)
    >>> transform_signals(x, shift=torch.tensor([2]))
    tensor([[3., 4., 0., 1., 2.]])
    >>> transform_signals(x, shift=torch.tensor([-1]), fill_mode="constant", cval=9.0)
    tensor([[1., 2., 3., 4., 9.]])
    """
    mode = SIGNAL_FILL_MODES[check_choice("fill_mode", fill_mode, SIGNAL_FILL_MODES,
                                          where="transform_signals")]
    signals = _as_channels(x, "transform_signals")
    n, length, channels = signals.shape
    kw = {"dtype": signals.dtype, "device": signals.device}
    shift = as_batch(shift, **kw)[0].expand(n)
    if isinstance(scale, (int, float)) and scale == 1:
        return _shift(signals, shift.view(n, 1), mode, cval).reshape(x.shape)
    scale = as_batch(scale, **kw)[0].expand(n)
    center = (length - 1) / 2.0
    zero, one = torch.zeros_like(shift), torch.ones_like(shift)
    # the signal is a one-row image: the row is kept, column i reads scale*(i-centre)+centre-shift
    matrix = torch.stack([torch.stack([one, zero, zero], -1),
                          torch.stack([zero, scale, center * (1 - scale) - shift], -1)], 1)
    out = affine_transform(signals.reshape(n, 1, length, channels), matrix, mode=mode, cval=cval,
                           order=1)
    return out.reshape(x.shape)


def _shift(signals: torch.Tensor, shift: torch.Tensor, mode: str, cval: float) -> torch.Tensor:
    """Pure shifts read whole samples: one gather, with SciPy's order-0 boundary rules."""
    length = signals.shape[1]
    pos = torch.arange(length, dtype=signals.dtype, device=signals.device).view(1, -1) - shift
    pos = torch.floor(_fold(pos, length, mode) + 0.5)
    if mode == "grid-wrap":
        pos = torch.remainder(pos, length)
    inside = (pos >= 0) & (pos <= length - 1)
    index = pos.clamp(0, length - 1).long().unsqueeze(-1).expand(-1, -1, signals.shape[2])
    out = torch.gather(signals, 1, index)
    if mode == "grid-constant":
        out = torch.where(inside.unsqueeze(-1), out, float(cval))
    return out


class SignalAugmenter:
    """Random per-sample shift, time scaling and additive Gaussian noise for 1-D signals.

    Args:
        shift_range: as ImageDataGenerator's ``width_shift_range`` along the time axis (a float
            below 1 is a fraction of the length; an int is whole steps in (-r, r)); rounded to
            whole steps.
        fill_mode: 'wrap' (circular shift, default), 'constant' (pad with ``cval``), 'nearest'
            or 'reflect'.
        cval: padding value for 'constant'.
        scale_range: time stretch about the centre, as ``zoom_range`` (0: off).
        noise_stddev: standard deviation of additive Gaussian noise (0: off).

    >>> import torch
    >>> from regulab.augment import SignalAugmenter
    >>> aug = SignalAugmenter(shift_range=0.25)
    >>> x = torch.randn(4, 40)
    >>> y = aug(x, 0)
    >>> bool(torch.allclose(y.sort(dim=1).values, x.sort(dim=1).values))  # a circular shift
    True
    """

    def __init__(self, shift_range=0.0, fill_mode: str = "wrap", cval: float = 0.0,
                 scale_range=0.0, noise_stddev: float = 0.0):
        where = "SignalAugmenter"
        self.shift = ShiftRange("shift_range", shift_range, where)
        self.fill_mode = check_choice("fill_mode", fill_mode, SIGNAL_FILL_MODES, where=where)
        self.cval = check_float("cval", cval, where=where)
        self.scale_range = zoom_bounds(scale_range, where, name="scale_range")
        self.noise_stddev = check_float("noise_stddev", noise_stddev, low=0.0, where=where)

    def __call__(self, x: torch.Tensor, source=None) -> torch.Tensor:
        """Augment a batch; ``source`` is a key, a ``torch.Generator`` or None (see ``Sampler``)."""
        signals = _as_channels(x, "SignalAugmenter")
        sampler = Sampler(source, signals.device)
        n, length = signals.shape[0], signals.shape[1]
        u = sampler.uniform((3, n))
        shift = torch.zeros(n, device=signals.device)
        if self.shift.active:
            shift = torch.round(self.shift.from_uniform(u[0], u[1], length))
        scale = 1.0
        if self.scale_range != (1.0, 1.0):
            low, high = self.scale_range
            scale = low + (high - low) * u[2]
        out = transform_signals(x, shift, scale, self.fill_mode, self.cval)
        if self.noise_stddev:
            out = out + self.noise_stddev * sampler.normal(tuple(out.shape)).to(out.dtype)
        return out
