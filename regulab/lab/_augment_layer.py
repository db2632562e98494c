"""The layer a study puts in front of an image model for an ``augmentation`` variant.

It runs ``ImageDataGenerator``'s transforms (the same arguments and meaning, drawn per sample) as
part of the training step, so augmented variants train from in-memory arrays and stack like any
other; in inference it is the identity, so validation and test data are never augmented.

The magnitudes (``rotation_range``, ``width_shift_range``, ``height_shift_range``,
``shear_range``, ``zoom_range``) are hyper-parameters the step reads from its state: variants that
differ only in them, or a baseline with all of them 0 (the identity), train as one stacked model.
Flips, fill mode and the photometric transforms are structure.

>>> import numpy as np
>>> from regulab.lab._augment_layer import GeneratorAugmentation
>>> layer = GeneratorAugmentation(rotation_range=20, width_shift_range=0.2)
>>> x = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
>>> bool((layer(x).numpy() == x).all()), bool((layer(x, training=True).numpy() == x).all())
(True, False)
"""
from __future__ import annotations

from regulab import _random
from regulab._validation import check_float, invalid
from regulab.augment import ImageAugmenter, Sampler
from regulab.augment._image import FILL_MODES, keras_matrix
from regulab.augment._resample import affine_transform
from regulab.layers._dropout import _RandomLayer, is_zero

#: the settings a step reads from its state
MAGNITUDES = ("rotation_range", "width_shift_range", "height_shift_range", "shear_range", "zoom_range")
_PHOTOMETRIC = ("brightness_range", "channel_shift_range")


class GeneratorAugmentation(_RandomLayer):
    """``ImageDataGenerator``'s random transforms of channels-last images, in training only.

    Args:
        rotation_range: degrees; shifts: fractions of the size below 1; shear_range: degrees;
            zoom_range: a float (zoom drawn from [1 - z, 1 + z] per axis).
        horizontal_flip, vertical_flip, fill_mode, cval, interpolation_order, brightness_range,
            channel_shift_range: as in ImageDataGenerator.
    """

    supports_masking = True
    hyper_parameters = MAGNITUDES

    def __init__(self, rotation_range=0.0, width_shift_range=0.0, height_shift_range=0.0, shear_range=0.0,
                 zoom_range=0.0, horizontal_flip=False, vertical_flip=False, fill_mode="nearest", cval=0.0,
                 interpolation_order=1, brightness_range=None, channel_shift_range=0.0, seed=None, name=None):
        super().__init__(seed=seed, name=name)
        where = "augmentation"
        self.rotation_range = check_float("rotation_range", rotation_range, low=0.0, where=where)
        self.shear_range = check_float("shear_range", shear_range, low=0.0, where=where)
        for key, value in (("width_shift_range", width_shift_range), ("height_shift_range", height_shift_range)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise invalid(key, "a fraction of the size in [0, 1) (a study draws shifts as fractions)", value, where)
            setattr(self, key, float(value))
        if isinstance(zoom_range, bool) or not isinstance(zoom_range, (int, float)) or not 0 <= zoom_range < 1:
            raise invalid("zoom_range", "a float in [0, 1) (a study zooms by [1 - z, 1 + z])", zoom_range, where)
        self.zoom_range = float(zoom_range)
        self.static = {"horizontal_flip": bool(horizontal_flip), "vertical_flip": bool(vertical_flip),
                       "fill_mode": fill_mode, "cval": cval, "interpolation_order": interpolation_order,
                       "brightness_range": brightness_range, "channel_shift_range": channel_shift_range}
        # checks the static settings, and draws the photometric transforms
        self.photometric = ImageAugmenter(**self.static, where=where)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Layer '{self.name}': augmentation applies to images of shape (height, width, "
                             f"channels); received input with shape {(None, *input_shape)}.")

    def call(self, x, ctx):
        if not ctx.training:
            return x
        rot, wsr, hsr, shr, zr = (ctx.hyper(self, name) for name in MAGNITUDES)
        flips = self.static["horizontal_flip"] or self.static["vertical_flip"]
        photometric = self.static["brightness_range"] is not None or self.static["channel_shift_range"]
        if all(is_zero(v) for v in (rot, wsr, hsr, shr, zr)) and not flips and not photometric:
            return x
        # this layer's own stream of the step's key, as every random layer draws
        sampler = Sampler(_random.fold_in(ctx.key, self.stream(ctx)), device=x.device)
        n, height, width = x.shape[0], x.shape[1], x.shape[2]
        u = sampler.uniform((8, n))
        params = {"theta": (2 * u[0] - 1) * rot, "tx": (2 * u[1] - 1) * wsr * width,
                  "ty": (2 * u[2] - 1) * hsr * height, "shear": (2 * u[3] - 1) * shr,
                  "zx": 1 + (2 * u[4] - 1) * zr, "zy": 1 + (2 * u[5] - 1) * zr}
        if self.static["horizontal_flip"]:
            params["flip_horizontal"] = u[6] < 0.5
        if self.static["vertical_flip"]:
            params["flip_vertical"] = u[7] < 0.5
        x = affine_transform(x, keras_matrix(params, height, width, x), mode=FILL_MODES[self.static["fill_mode"]],
                             cval=float(self.static["cval"]), order=int(self.static["interpolation_order"]))
        if photometric:
            drawn = self.photometric.draw(n, height, width, sampler)
            x = self.photometric.apply(x, {k: drawn[k] for k in ("channel_shift_intensity", "brightness")})
        return x

    def get_config(self):
        return {**super().get_config(), **{k: getattr(self, k) for k in MAGNITUDES}, **self.static}
