"""The layer a study puts in front of an image model for an ``augmentation`` variant.

It runs ``ImageDataGenerator``'s transforms (the same arguments and meaning, drawn per sample) as
part of the training step, so augmented variants train from in-memory arrays and can be stacked
like any other; in inference it is the identity, so validation and test data are never augmented.

>>> import numpy as np
>>> from regulab.lab._augment_layer import GeneratorAugmentation
>>> layer = GeneratorAugmentation(rotation_range=20, width_shift_range=0.2)
>>> x = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
>>> bool((layer(x).numpy() == x).all()), bool((layer(x, training=True).numpy() == x).all())
(True, False)
"""
from __future__ import annotations

from regulab import _random
from regulab.augment import ImageAugmenter, Sampler
from regulab.layers._dropout import _RandomLayer


class GeneratorAugmentation(_RandomLayer):
    """``ImageDataGenerator``'s random transforms of channels-last images, in training only.

    Args:
        **settings: ImageDataGenerator's transform arguments (``rotation_range``,
            ``width_shift_range``, ``height_shift_range``, ``shear_range``, ``zoom_range``,
            ``horizontal_flip``, ``fill_mode``, ...).
    """

    supports_masking = True

    def __init__(self, seed: int | None = None, name: str | None = None, **settings):
        super().__init__(seed=seed, name=name)
        self.settings = dict(settings)
        self.augmenter = ImageAugmenter(**settings, where="augmentation")

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Layer '{self.name}': augmentation applies to images of shape (height, width, "
                             f"channels); received input with shape {(None, *input_shape)}.")

    def call(self, x, ctx):
        if not ctx.training:
            return x
        # this layer's own stream of the step's key, as every random layer draws
        sampler = Sampler(_random.fold_in(ctx.key, self.stream(ctx)), device=x.device)
        params = self.augmenter.draw(x.shape[0], x.shape[1], x.shape[2], sampler)
        return self.augmenter.apply(x, params)

    def get_config(self):
        return {**super().get_config(), **self.settings}
