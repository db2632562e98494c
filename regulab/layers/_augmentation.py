"""Augmentation layers (Keras 3's preprocessing layers): random transforms in training only.

In training every sample gets its own random transform, drawn from the step's random key (so a
seeded fit repeats bit for bit), applied to the whole batch in one resampling call on the batch's
device. In inference the layers are the identity, except ``RandomCrop``, which returns the
central crop so that the output shape is the same in both modes.

How the arguments differ from ``ImageDataGenerator``'s (Keras has the same split):

- ``RandomRotation(factor)`` takes a fraction of a full turn (0.05 = 18 degrees), where
  ``rotation_range`` is in degrees.
- ``RandomTranslation``/``RandomZoom`` take fractions of the size as ``(lower, upper)`` bounds;
  zoom factors are offsets from 1 and positive values zoom out: ``RandomZoom(0.2, 0.2)`` is
  ``zoom_range=0.2`` (axes drawn independently), ``RandomZoom(0.2)`` keeps the aspect ratio.
- ``fill_mode`` defaults to 'reflect' (``ImageDataGenerator``: 'nearest'), and 'constant' uses
  ``fill_value`` (``cval``), interpolating towards it at the border as TensorFlow does; 'wrap'
  repeats the image (``abcd|abcd``).
- ``RandomBrightness`` adds ``factor`` times the width of ``value_range`` and
  ``RandomContrast`` scales about each channel's mean, both clipped to ``value_range``, where
  ``brightness_range`` multiplies.

Where regulab differs from Keras 3: flips, crops and every other draw are per sample (Keras's
RandomCrop crops the whole batch at one place); ``RandomFlip('horizontal_and_vertical')`` draws
the two flips independently (Keras flips both or neither, i.e. rotates by 180 degrees or not);
``RandomContrast(0.2)`` draws from [0.8, 1.2] as Keras documents (its code draws from [1, 1.2]);
``RandomCrop`` in inference takes the central crop at the training scale (Keras resizes the
whole image, so the model sees objects at another scale than in training).
"""
from __future__ import annotations

import math

import torch

from regulab._validation import check_choice, check_float, check_int
from regulab.augment import _geometry as geo
from regulab.augment._factors import check_value_range, factor_bounds
from regulab.augment._photometric import brightness_shift, contrast
from regulab.augment._resample import affine_transform
from regulab.augment._signal import SIGNAL_FILL_MODES, transform_signals
from regulab.layers._dropout import _RandomLayer

#: the layers' fill modes (Keras 3, TensorFlow semantics) -> boundary modes of affine_transform
_FILL_MODES = {"reflect": "reflect", "wrap": "grid-wrap", "constant": "grid-constant",
               "nearest": "nearest"}
_INTERPOLATIONS = {"bilinear": 1, "nearest": 0}
_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class _ImageLayer(_RandomLayer):
    """A random image layer on (batch, height, width, channels) inputs (or channels-first)."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.data_format = check_choice("data_format", data_format or "channels_last",
                                        ("channels_last", "channels_first"),
                                        where=type(self).__name__)

    def build(self, input_shape):
        if len(input_shape) != 3:
            axes = ("height, width, channels" if self.data_format == "channels_last"
                    else "channels, height, width")
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                             f"expected images of shape (None, {axes}), but received input "
                             f"with shape {(None, *input_shape)}.")

    def _last(self, x):
        return x if self.data_format == "channels_last" else x.movedim(1, -1)

    def _back(self, x):
        return x if self.data_format == "channels_last" else x.movedim(-1, 1)

    def _draws(self, ctx, x, k: int) -> torch.Tensor:
        """(N, k) uniforms in [0, 1): this layer's draws for this step."""
        return ctx.uniform((x.shape[0], k), self.stream(ctx), x.device)

    def get_config(self):
        cfg = super().get_config()
        if self.data_format != "channels_last":
            cfg["data_format"] = self.data_format
        return cfg


class _AffineLayer(_ImageLayer):
    """A random geometric layer. Subclasses define ``_matrix(u, height, width)``: the (N, 3, 3)
    matrix about the image centre from ``_n_draws`` uniforms per sample, ``u`` of shape (N, k)."""

    _n_draws = 1

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        where = type(self).__name__
        self.fill_mode = check_choice("fill_mode", fill_mode, _FILL_MODES, where=where)
        self.interpolation = check_choice("interpolation", interpolation, _INTERPOLATIONS,
                                          where=where)
        self.fill_value = check_float("fill_value", fill_value, where=where)

    def call(self, x, ctx):
        if not ctx.training:
            return x
        images = self._last(x)
        u = self._draws(ctx, images, self._n_draws).to(images.dtype)
        h, w = images.shape[1], images.shape[2]
        matrix = geo.to_rowcol(geo.centered(self._matrix(u, h, w), h, w))
        out = affine_transform(images, matrix, mode=_FILL_MODES[self.fill_mode],
                               cval=self.fill_value, order=_INTERPOLATIONS[self.interpolation])
        return self._back(out)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


def _between(u, bounds):
    return bounds[0] + (bounds[1] - bounds[0]) * u


class RandomRotation(_AffineLayer):
    """Rotates each image by a random angle in training; identity in inference.

    Args:
        factor: fraction of a full turn: a float f draws from [-f, f] * 360 degrees, a pair
            (lower, upper) from [lower, upper] * 360; positive turns counter-clockwise. In [-1, 1].
        fill_mode: 'reflect' (default), 'wrap', 'constant' or 'nearest'.
        interpolation: 'bilinear' (default) or 'nearest'.
        seed: fixes this layer's random stream (within a seeded fit).
        fill_value: the value of 'constant' filling.
        data_format: 'channels_last' (default) or 'channels_first'.

    >>> import torch
    >>> from regulab.layers._augmentation import RandomRotation
    >>> layer = RandomRotation(0.1)
    >>> x = torch.rand(4, 16, 16, 3)
    >>> bool((layer(x) == x).all()), layer(x, training=True).shape
    (True, torch.Size([4, 16, 16, 3]))
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor
        self._bounds = factor_bounds("factor", factor, "RandomRotation")

    def _matrix(self, u, height, width):
        return geo.rotation(_between(u[:, 0], self._bounds) * (2 * math.pi))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomTranslation(_AffineLayer):
    """Shifts each image by a random fraction of its size in training; identity in inference.

    Args:
        height_factor: vertical shift as a fraction of the height: f draws from [-f, f], a pair
            from [lower, upper]; positive moves the content down. In [-1, 1].
        width_factor: the same horizontally; positive moves the content right.
        fill_mode, interpolation, seed, fill_value, data_format: as ``RandomRotation``.
    """

    _n_draws = 2

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = factor_bounds("height_factor", height_factor, "RandomTranslation")
        self._w = factor_bounds("width_factor", width_factor, "RandomTranslation")

    def _matrix(self, u, height, width):
        return geo.translation(-_between(u[:, 1], self._w) * width,
                               -_between(u[:, 0], self._h) * height)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomZoom(_AffineLayer):
    """Zooms each image by a random factor in training; identity in inference.

    Args:
        height_factor: vertical zoom offset from 1: f draws from [-f, f], a pair from
            [lower, upper]; positive zooms out (the image shrinks). In [-1, 1].
        width_factor: the same horizontally, drawn independently; None (default) keeps the
            aspect ratio (one factor for both axes).
        fill_mode, interpolation, seed, fill_value, data_format: as ``RandomRotation``.
    """

    _n_draws = 2

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = factor_bounds("height_factor", height_factor, "RandomZoom")
        self._w = None if width_factor is None else factor_bounds("width_factor", width_factor,
                                                            "RandomZoom")

    def _matrix(self, u, height, width):
        zy = 1 + _between(u[:, 0], self._h)
        zx = zy if self._w is None else 1 + _between(u[:, 1], self._w)
        return geo.zoom(zx, zy)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomFlip(_ImageLayer):
    """Flips each image with probability 1/2 in training; identity in inference.

    Args:
        mode: 'horizontal' (left-right), 'vertical' (top-bottom) or 'horizontal_and_vertical'
            (default; the two flips are drawn independently).
        seed, data_format: as ``RandomRotation``.
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = check_choice("mode", mode, _FLIP_MODES, where="RandomFlip")

    def call(self, x, ctx):
        if not ctx.training:
            return x
        images = self._last(x)
        u = self._draws(ctx, images, 2)
        shape = (images.shape[0], 1, 1, 1)
        if self.mode != "vertical":
            images = torch.where((u[:, 0] < 0.5).view(shape), images.flip(2), images)
        if self.mode != "horizontal":
            images = torch.where((u[:, 1] < 0.5).view(shape), images.flip(1), images)
        return self._back(images)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomContrast(_ImageLayer):
    """Scales each image about its per-channel mean by a random factor in training, clipped to
    ``value_range``; identity in inference.

    Args:
        factor: f in [0, 1] draws the contrast factor from [1 - f, 1 + f]; a pair
            (lower, upper) from [1 - lower, 1 + upper].
        value_range: the range of the pixel values, default (0, 255).
        seed: as ``RandomRotation``.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        low, high = factor_bounds("factor", factor, "RandomContrast", low=0.0, symmetric=False)
        self._bounds = (1 - low, 1 + high)
        self.value_range = check_value_range(value_range, "RandomContrast")

    def call(self, x, ctx):
        if not ctx.training:
            return x
        images = self._last(x)
        f = _between(self._draws(ctx, images, 1)[:, 0], self._bounds)
        return self._back(contrast(images, f, self.value_range))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range)}


class RandomBrightness(_ImageLayer):
    """Adds a random fraction of ``value_range``'s width to each image in training, clipped to
    ``value_range``; identity in inference.

    Args:
        factor: f in [-1, 1] draws from [-|f|, |f|], a pair from [lower, upper]; -1 makes the
            image black, 1 white.
        value_range: the range of the pixel values, default (0, 255).
        seed: as ``RandomRotation``.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        self._bounds = factor_bounds("factor", factor, "RandomBrightness")
        self.value_range = check_value_range(value_range, "RandomBrightness")

    def call(self, x, ctx):
        if not ctx.training:
            return x
        images = self._last(x)
        delta = _between(self._draws(ctx, images, 1)[:, 0], self._bounds)
        return self._back(brightness_shift(images, delta, self.value_range))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range)}


class RandomCrop(_ImageLayer):
    """Crops each image to ``(height, width)`` at a random place in training; the central crop
    in inference. Inputs smaller than the target (in either axis) are resized instead: the
    largest central window of the target's aspect ratio, bilinearly, in both modes (as Keras).

    Args:
        height, width: the output size.
        seed, data_format: as ``RandomRotation``.

    >>> import torch
    >>> from regulab.layers._augmentation import RandomCrop
    >>> layer = RandomCrop(24, 24)
    >>> layer(torch.rand(2, 32, 32, 3)).shape, layer.compute_output_shape((32, 32, 3))
    (torch.Size([2, 24, 24, 3]), (24, 24, 3))
    """

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height = check_int("height", height, low=1, where="RandomCrop")
        self.width = check_int("width", width, low=1, where="RandomCrop")

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return (self.height, self.width, input_shape[2])
        return (input_shape[0], self.height, self.width)

    def call(self, x, ctx):
        images = self._last(x)
        n, h, w = images.shape[0], images.shape[1], images.shape[2]
        if h < self.height or w < self.width:
            return self._back(self._resize_window(images))
        if ctx.training:
            u = self._draws(ctx, images, 2).to(torch.float64)
            top = torch.floor(u[:, 0] * (h - self.height + 1)).clamp(max=h - self.height)
            left = torch.floor(u[:, 1] * (w - self.width + 1)).clamp(max=w - self.width)
        else:
            top = torch.full((n,), float((h - self.height) // 2), device=images.device)
            left = torch.full((n,), float((w - self.width) // 2), device=images.device)
        matrix = geo.to_rowcol(geo.translation(left.to(images.dtype), top.to(images.dtype)))
        out = affine_transform(images, matrix, output_shape=(self.height, self.width),
                               mode="nearest", order=0)
        return self._back(out)

    def _resize_window(self, images):
        h, w = images.shape[1], images.shape[2]
        crop_h = max(min(h, int(w * self.height / self.width)), 1)
        crop_w = max(min(w, int(h * self.width / self.height)), 1)
        top, left = int((h - crop_h) / 2), int((w - crop_w) / 2)
        window = images[:, top:top + crop_h, left:left + crop_w]
        sy, sx = crop_h / self.height, crop_w / self.width
        # half-pixel centres, as image resizing does: in = (out + 0.5) * scale - 0.5
        matrix = torch.tensor([[sy, 0.0, 0.5 * sy - 0.5], [0.0, sx, 0.5 * sx - 0.5]],
                              dtype=images.dtype, device=images.device)
        return affine_transform(window, matrix, output_shape=(self.height, self.width),
                                mode="nearest", order=1)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class RandomShift(_RandomLayer):
    """Shifts each 1-D signal by a random whole number of steps in training; identity in
    inference. For sequences such as MNIST-1D (N, length) or (N, length, channels); not in Keras.

    Args:
        factor: shift as a fraction of the length: f draws from [-f, f], a pair from
            [lower, upper]; positive shifts later in time. In [-1, 1].
        fill_mode: 'wrap' (default: a circular shift), 'constant' (pad with ``fill_value``),
            'nearest' or 'reflect'.
        fill_value: the padding value of 'constant'.
        seed: fixes this layer's random stream.
    """

    def __init__(self, factor, fill_mode="wrap", fill_value=0.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        self._bounds = factor_bounds("factor", factor, "RandomShift")
        self.fill_mode = check_choice("fill_mode", fill_mode, SIGNAL_FILL_MODES,
                                      where="RandomShift")
        self.fill_value = check_float("fill_value", fill_value, where="RandomShift")

    def build(self, input_shape):
        if len(input_shape) not in (1, 2):
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                             "expected signals of shape (None, length) or (None, length, "
                             f"channels), but received input with shape {(None, *input_shape)}.")

    def call(self, x, ctx):
        if not ctx.training:
            return x
        u = ctx.uniform((x.shape[0],), self.stream(ctx), x.device)
        shift = torch.round(_between(u, self._bounds) * x.shape[1])
        return transform_signals(x, shift, fill_mode=self.fill_mode, cval=self.fill_value)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value}
