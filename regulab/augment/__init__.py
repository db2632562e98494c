"""Batched data augmentation with a random transform per sample, on any device.

- ``affine_transform``: resample a batch through one affine matrix per sample, with the boundary
  modes of ``scipy.ndimage.affine_transform``, in a single call.
- ``ImageAugmenter``: ImageDataGenerator's random geometric and photometric transforms.
- ``SignalAugmenter``, ``transform_signals``: shifts, time scaling and noise for 1-D signals.
- ``mixup``, ``cutmix``: mixing samples and labels within a batch.
- ``Sampler``: randomness from a counter-based key or a ``torch.Generator``.
"""
from regulab.augment._image import ImageAugmenter
from regulab.augment._mix import SparseMix, cutmix, mixup
from regulab.augment._resample import MODES, affine_transform
from regulab.augment._sampling import Sampler
from regulab.augment._signal import SignalAugmenter, transform_signals

__all__ = [
    "affine_transform", "MODES", "ImageAugmenter", "SignalAugmenter", "transform_signals",
    "mixup", "cutmix", "SparseMix", "Sampler",
]
