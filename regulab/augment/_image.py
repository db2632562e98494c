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
            values = np.asarray(value, dtype=np.float64).reshape(-1)
            if values.size == 0 or not np.all(np.isfinite(values)):
                raise invalid(name, "a float >= 0, an int >= 0 or a non-empty list of numbers",
                              value, where)
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

    def draw(self, n: int, size: int, sampler) -> torch.Tensor:
        if self.kind == "float":
            r = float(self.value)
            shift = sampler.uniform((n,), -r, r)
        elif self.kind == "int":
            sign = torch.where(sampler.coin((n,)), -1.0, 1.0)
            shift = sampler.integers((n,), 0, int(self.value)).to(torch.float32) * sign
        else:
            choices = torch.as_tensor(self.choices, dtype=torch.float32, device=sampler.device)
            pick = choices[sampler.integers((n,), 0, len(self.choices))]
            shift = pick * torch.where(sampler.coin((n,)), -1.0, 1.0)
        return shift * size if self.fraction else shift


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
        p: dict = dict(_IDENTITY, channel_shift_intensity=None, brightness=None)
        if self.rotation_range:
            p["theta"] = sampler.uniform((n,), -self.rotation_range, self.rotation_range)
        if self.width_shift.active:
            p["tx"] = self.width_shift.draw(n, width, sampler)
        if self.height_shift.active:
            p["ty"] = self.height_shift.draw(n, height, sampler)
        if self.shear_range:
            p["shear"] = sampler.uniform((n,), -self.shear_range, self.shear_range)
        if self.zoom_range != (1.0, 1.0):
            p["zx"] = sampler.uniform((n,), *self.zoom_range)
            p["zy"] = sampler.uniform((n,), *self.zoom_range)
        if self.horizontal_flip:
            p["flip_horizontal"] = sampler.coin((n,))
        if self.vertical_flip:
            p["flip_vertical"] = sampler.coin((n,))
        if self.channel_shift_range:
            r = self.channel_shift_range
            p["channel_shift_intensity"] = sampler.uniform((n,), -r, r)
        if self.brightness_range is not None:
            p["brightness"] = sampler.uniform((n,), *self.brightness_range)
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


def _is_identity(params: dict) -> bool:
    """True when no geometric parameter is given as a tensor or array or differs from identity."""
    for key, neutral in _IDENTITY.items():
        value = params.get(key, neutral)
        if not isinstance(value, (Real, np.bool_)) or value != neutral:
            return False
    return True


def keras_matrix(params: dict, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """The (N, 2, 3) row/column matrix of Keras's rotate . shift . shear . zoom, about the image
    centre, followed by the flips."""
    get = params.get
    kw = {"device": like.device, "dtype": like.dtype}
    m = (geo.rotation(torch.as_tensor(get("theta", 0.0), **kw) * (math.pi / 180.0), **kw)
         @ geo.translation(get("tx", 0.0), get("ty", 0.0), **kw)
         @ geo.shear(get("shear", 0.0), **kw)
         @ geo.zoom(get("zx", 1.0), get("zy", 1.0), **kw))
    m = geo.centered(m, height, width) @ geo.flip(get("flip_horizontal", False),
                                                  get("flip_vertical", False), height, width, **kw)
    return geo.to_rowcol(m)
