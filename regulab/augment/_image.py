"""Random per-sample image transforms with the arguments and meaning of Keras's ImageDataGenerator.

``ImageAugmenter.draw`` gives every sample of a batch its own parameters (Keras's parameter dict,
with one value per sample), and ``ImageAugmenter.apply`` composes the geometric ones into one
affine matrix per sample and resamples the whole batch in a single call.

Two of Keras's known slips are fixed (both are documented Keras behaviour that its code breaks):
``width_shift_range`` moves images horizontally and ``height_shift_range`` vertically (Keras's
``get_random_transform`` swaps them), and transforms turn about the true centre of non-square
images. ``fill_mode="wrap"`` repeats the image with period equal to its size (``abcd|abcd``, as
Keras documents; SciPy's legacy ``wrap`` that Keras calls repeats with period size - 1).
"""
from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch

from regulab._validation import check_choice, check_float, invalid
from regulab.augment import _geometry as geo
from regulab.augment._photometric import brightness, channel_shift
from regulab.augment._resample import affine_transform

#: ImageDataGenerator's fill modes -> the boundary modes of ``affine_transform``
FILL_MODES = {"nearest": "nearest", "constant": "constant", "reflect": "reflect",
              "wrap": "grid-wrap"}

_DRAW_ROWS = 12

_IDENTITY = {"theta": 0.0, "tx": 0.0, "ty": 0.0, "shear": 0.0, "zx": 1.0, "zy": 1.0,
             "flip_horizontal": False, "flip_vertical": False}


class ShiftRange:
    """Keras's ``width_shift_range``/``height_shift_range``: how shifts are drawn.

    - a float: uniform in (-r, r), as a fraction of the size when r < 1, in pixels otherwise;
    - an int: a whole number of pixels in (-r, r) (so ``2`` draws from -1, 0, 1);
    - a list of numbers: one of them, with a random sign (fractions of the size if all are < 1).
    """

    def __init__(self, name: str, value, where: str):
        self.value = value
        if isinstance(value, (list, tuple, np.ndarray)):
            items = list(np.asarray(value, dtype=object).reshape(-1)) if np.ndim(value) == 1 else []
            # a flat list of real numbers, as Keras's np.random.choice takes (no nesting, no bools)
            if not items or not all(isinstance(v, Real) and not isinstance(v, (bool, np.bool_))
                                    and math.isfinite(v) for v in items):
                raise invalid(name, "a float >= 0, an int >= 0 or a non-empty list of numbers",
                              value, where)
            values = np.asarray(items, dtype=np.float64)
            self.kind, self.choices = "choice", values
            self.fraction = bool(np.max(values) < 1)
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            if value < 0:
                raise invalid(name, "a float >= 0, an int >= 0 or a list of numbers", value, where)
            self.kind, self.choices, self.fraction = "int", None, False
        else:
            check_float(name, value, low=0.0, where=where)
            self.kind, self.choices = "float", None
            self.fraction = float(value) < 1
        self.active = self.kind == "choice" or float(value) != 0.0

    def from_uniform(self, value: torch.Tensor, sign: torch.Tensor, size: int) -> torch.Tensor:
        """Shifts from two uniforms in [0, 1) per sample: one picks the value, one the sign."""
        if self.kind == "float":
            r = float(self.value)
            return (2 * value - 1) * r * (size if self.fraction else 1)
        sign = torch.where(sign < 0.5, -1.0, 1.0).to(value.dtype)
        if self.kind == "int":
            return torch.floor(value * int(self.value)).clamp(max=int(self.value) - 1) * sign
        choices = torch.as_tensor(self.choices, dtype=value.dtype, device=value.device)
        index = torch.floor(value * len(choices)).long().clamp(max=len(choices) - 1)
        return choices[index] * sign * (size if self.fraction else 1)


def zoom_bounds(zoom_range, where: str, name: str = "zoom_range") -> tuple[float, float]:
    """Keras's ``zoom_range``: a float z gives [1 - z, 1 + z]; a pair gives [lower, upper]."""
    expected = "a float in [0, 1) or a pair [lower, upper] with 0 < lower <= upper"
    if isinstance(zoom_range, (list, tuple, np.ndarray)):
        if len(zoom_range) != 2 or not all(isinstance(v, Real) and not isinstance(v, bool)
                                           for v in zoom_range):
            raise invalid(name, expected, zoom_range, where)
        low, high = float(zoom_range[0]), float(zoom_range[1])
    elif isinstance(zoom_range, Real) and not isinstance(zoom_range, bool):
        if zoom_range < 0:
            raise invalid(name, expected, zoom_range, where)
        low, high = 1.0 - float(zoom_range), 1.0 + float(zoom_range)
    else:
        raise invalid(name, expected, zoom_range, where)
    if not (0 < low <= high) or not math.isfinite(high):
        raise invalid(name, expected, zoom_range, where)
    return low, high


def pair(name: str, value, where: str, low: float = 0.0) -> tuple[float, float] | None:
    """A [lower, upper] pair with ``low <= lower <= upper``, or None."""
    if value is None:
        return None
    expected = f"None or a pair [lower, upper] with {low:g} <= lower <= upper"
    if (not isinstance(value, (list, tuple, np.ndarray)) or len(value) != 2
            or not all(isinstance(v, Real) and not isinstance(v, bool) for v in value)):
        raise invalid(name, expected, value, where)
    lo, hi = float(value[0]), float(value[1])
    if not (low <= lo <= hi) or not math.isfinite(hi):
        raise invalid(name, expected, value, where)
    return lo, hi


class ImageAugmenter:
    """Per-sample random geometric and photometric transforms of channels-last image batches.

    Arguments have Keras's ImageDataGenerator meaning (see ``regulab.preprocessing.image``).

    >>> import torch
    >>> from regulab.augment import ImageAugmenter, Sampler
    >>> aug = ImageAugmenter(rotation_range=20, width_shift_range=0.2, horizontal_flip=True)
    >>> x = torch.rand(8, 32, 32, 3)
    >>> params = aug.draw(8, 32, 32, Sampler(0))
    >>> params["theta"].shape, aug.apply(x, params).shape
    (torch.Size([8]), torch.Size([8, 32, 32, 3]))
    """

    def __init__(self, rotation_range=0, width_shift_range=0.0, height_shift_range=0.0,
                 brightness_range=None, shear_range=0.0, zoom_range=0.0, channel_shift_range=0.0,
                 fill_mode="nearest", cval=0.0, horizontal_flip=False, vertical_flip=False,
                 interpolation_order=1, where="ImageAugmenter"):
        self.rotation_range = check_float("rotation_range", rotation_range, low=0.0, where=where)
        self.width_shift = ShiftRange("width_shift_range", width_shift_range, where)
        self.height_shift = ShiftRange("height_shift_range", height_shift_range, where)
        self.brightness_range = pair("brightness_range", brightness_range, where)
        self.shear_range = check_float("shear_range", shear_range, low=0.0, where=where)
        self.zoom_range = zoom_bounds(zoom_range, where)
        self.channel_shift_range = check_float("channel_shift_range", channel_shift_range,
                                               low=0.0, where=where)
        self.fill_mode = check_choice("fill_mode", fill_mode, FILL_MODES, where=where)
        self.cval = check_float("cval", cval, where=where)
        self.horizontal_flip = bool(horizontal_flip)
        self.vertical_flip = bool(vertical_flip)
        if interpolation_order not in (0, 1) or isinstance(interpolation_order, bool):
            raise invalid("interpolation_order", "0 (nearest) or 1 (bilinear); spline orders "
                          "2 to 5 are not supported", interpolation_order, where)
        self.interpolation_order = int(interpolation_order)

    def draw(self, n: int, height: int, width: int, sampler) -> dict:
        """Random parameters for ``n`` images: Keras's keys, one value per sample (a tensor), or
        the identity value (a Python number) where the transform is switched off."""
        # one block of uniforms, a fixed row per parameter: a single draw per batch, and
        # switching one transform on or off leaves the others' values unchanged
        u = sampler.uniform((_DRAW_ROWS, n))
        p: dict = dict(_IDENTITY, channel_shift_intensity=None, brightness=None)
        if self.rotation_range:
            p["theta"] = _between(u[0], -self.rotation_range, self.rotation_range)
        if self.width_shift.active:
            p["tx"] = self.width_shift.from_uniform(u[1], u[2], width)
        if self.height_shift.active:
            p["ty"] = self.height_shift.from_uniform(u[3], u[4], height)
        if self.shear_range:
            p["shear"] = _between(u[5], -self.shear_range, self.shear_range)
        if self.zoom_range != (1.0, 1.0):
            p["zx"] = _between(u[6], *self.zoom_range)
            p["zy"] = _between(u[7], *self.zoom_range)
        if self.horizontal_flip:
            p["flip_horizontal"] = u[8] < 0.5
        if self.vertical_flip:
            p["flip_vertical"] = u[9] < 0.5
        if self.channel_shift_range:
            r = self.channel_shift_range
            p["channel_shift_intensity"] = _between(u[10], -r, r)
        if self.brightness_range is not None:
            p["brightness"] = _between(u[11], *self.brightness_range)
        return p

    def apply(self, x: torch.Tensor, params: dict) -> torch.Tensor:
        """Transform a batch (N, H, W, C) with per-sample (or shared) parameters."""
        if not _is_identity(params):
            x = affine_transform(x, keras_matrix(params, x.shape[1], x.shape[2], x),
                                 mode=FILL_MODES[self.fill_mode], cval=self.cval,
                                 order=self.interpolation_order)
        if params.get("channel_shift_intensity") is not None:
            x = channel_shift(x, params["channel_shift_intensity"])
        if params.get("brightness") is not None:
            x = brightness(x, params["brightness"])
        return x


def _between(u: torch.Tensor, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * u


def _is_identity(params: dict) -> bool:
    """True when no geometric parameter is given as a tensor or array or differs from identity."""
    for key, neutral in _IDENTITY.items():
        value = params.get(key, neutral)
        if not isinstance(value, (Real, np.bool_)) or value != neutral:
            return False
    return True


def keras_matrix(params: dict, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """The (N, 2, 3) row/column matrix of Keras's rotate . shift . shear . zoom about the image
    centre, followed by the flips.

    Written out entry by entry (about 30 elementwise operations rather than a dozen small
    matrix products): on a GPU each operation is a kernel launch, and they dominate a batch.
    With (x, y) = (column, row), ``A = R(theta) . Shear(s) . diag(zx, zy) . diag(fx, fy)`` and
    the offset ``t + c - A . c`` about the centre ``c``, where a flip is ``f = -1``.
    """
    kw = {"device": like.device, "dtype": like.dtype}
    (theta, tx, ty, shear, zx, zy, fh, fv) = geo.as_batch(
        *(params.get(k, v) for k, v in _IDENTITY.items()), **kw)
    theta = theta * (math.pi / 180.0)
    shear = shear * (math.pi / 180.0)
    cos, sin = torch.cos(theta), torch.sin(theta)
    shear_x, shear_y = -torch.sin(shear), torch.cos(shear)
    fx, fy = 1 - 2 * fh, 1 - 2 * fv
    a00, a10 = cos * zx * fx, sin * zx * fx
    a01 = (cos * shear_x - sin * shear_y) * zy * fy
    a11 = (sin * shear_x + cos * shear_y) * zy * fy
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    t0 = cos * tx - sin * ty + cx - a00 * cx - a01 * cy
    t1 = sin * tx + cos * ty + cy - a10 * cx - a11 * cy
    return torch.stack([a11, a10, t1, a01, a00, t0], dim=-1).view(-1, 2, 3)
