"""``NumpyArrayIterator``: the endless, reshuffling batch stream that ``ImageDataGenerator.flow``
returns and ``model.fit`` consumes.

Each batch is gathered, randomly transformed (a fresh transform per sample) and standardized in
one batched pass on ``iterator.device``, which the model sets to where it lives; the arrays are
copied to that device once. Shuffling order and transforms derive from ``seed``: the same seed
repeats the same batches, on CPU and GPU alike.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from regulab import _random
from regulab._validation import check_choice, check_int
from regulab.augment._sampling import Sampler, fresh_key
from regulab.preprocessing._split import check_classes, validation_mask


def _length_error(name: str, n: int, value) -> ValueError:
    return ValueError(
        f"Invalid value for argument `{name}` of ImageDataGenerator.flow: expected {n} samples, "
        f"as many as `x`. Received: {name} with shape {tuple(np.shape(value))}")


def _as_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _label_tensor(y: np.ndarray) -> torch.Tensor:
    """Integer labels keep their dtype (what a sparse loss needs); others become float32."""
    if y.dtype.kind in "iu":
        return torch.from_numpy(np.ascontiguousarray(y))
    if y.dtype.kind in "fb":
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))
    raise TypeError("Invalid value for argument `y` of ImageDataGenerator.flow: expected numeric "
                    f"labels. Received: y with dtype {y.dtype}; encode string labels as integers "
                    "first.")


class NumpyArrayIterator:
    """Batches ``(x, y[, sample_weight])`` of augmented images, endlessly, one epoch after another.

    ``len(it)`` is the number of batches per epoch, ``ceil(n / batch_size)``; the last batch of an
    epoch may be smaller. Every epoch reshuffles (when ``shuffle``). Items are float torch tensors
    on ``it.device`` (integer labels keep their dtype); only ``x`` when ``y`` is None.

    Attributes:
        n: number of samples; batch_size, shuffle, seed: as given.
        device: where batches are built and returned (default CPU); set it to move the work.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=True,
                 sample_weight=None, seed=None, subset=None, ignore_class_split=False):
        where = "ImageDataGenerator.flow"
        gen = image_data_generator
        x = _as_numpy(x)
        gen._check_images(x, where, "x")
        if x.dtype.kind not in "fiub":
            raise TypeError(f"Invalid value for argument `x` of {where}: expected numeric "
                            f"images. Received: x with dtype {x.dtype}")
        n = len(x)
        y = None if y is None else _as_numpy(y)
        if y is not None and len(y) != n:
            raise _length_error("y", n, y)
        sample_weight = None if sample_weight is None else _as_numpy(sample_weight)
        if sample_weight is not None and len(sample_weight) != n:
            raise _length_error("sample_weight", n, sample_weight)
        self.batch_size = check_int("batch_size", batch_size, low=1, where=where)
        if subset is not None:
            check_choice("subset", subset, ("training", "validation"), where=where)
            if not gen._validation_split:
                raise ValueError(f"Invalid value for argument `subset` of {where}: a subset needs "
                                 "ImageDataGenerator(validation_split=...) above 0. Received: "
                                 f"subset={subset!r} with validation_split=0")
            mask = validation_mask(n, y, gen._validation_split)
            if not ignore_class_split:
                check_classes(y, mask)
            keep = mask if subset == "validation" else ~mask
            x = x[keep]
            y = None if y is None else y[keep]
            sample_weight = None if sample_weight is None else sample_weight[keep]

        self.image_data_generator = gen
        self.n = len(x)
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.subset = subset
        key = fresh_key() if seed is None else check_int("seed", seed, low=0, where=where)
        self._key = key & 0xFFFFFFFF
        self._order_rng = np.random.default_rng(self._key)
        self._host = {"x": torch.from_numpy(np.ascontiguousarray(x)),
                      "y": None if y is None else _label_tensor(y),
                      "sample_weight": None if sample_weight is None else torch.from_numpy(
                          np.ascontiguousarray(sample_weight, dtype=np.float32))}
        self._data = dict(self._host)
        self._device = torch.device("cpu")
        self._order = None
        self._order_on_device = None
        self.batch_index = 0
        self.total_batches_seen = 0

    # -- where the work runs
    @property
    def device(self) -> torch.device:
        return self._device

    @device.setter
    def device(self, value) -> None:
        device = torch.device(value)
        if device != self._device:
            self._data = {k: None if v is None else v.to(device) for k, v in self._host.items()}
            self._device = device
            self._order_on_device = None

    # -- epochs
    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        return self

    def on_epoch_end(self) -> None:
        """Start a new epoch: a new order when shuffling."""
        self._order = (self._order_rng.permutation(self.n) if self.shuffle
                       else np.arange(self.n))
        self._order_on_device = None
        self.batch_index = 0

    def reset(self) -> None:
        self.batch_index = 0

    def __next__(self):
        if self._order is None or self.batch_index >= len(self):
            self.on_epoch_end()
        batch = self[self.batch_index]
        self.batch_index += 1
        return batch

    def __getitem__(self, idx: int):
        """Batch ``idx`` of the current epoch."""
        if not 0 <= idx < len(self):
            raise IndexError(f"Batch index {idx} out of range: this iterator has {len(self)} "
                             "batches per epoch.")
        if self._order is None:
            self.on_epoch_end()
        if self._order_on_device is None:
            # one copy of the epoch's order per epoch: no per-batch host-to-device transfer
            self._order_on_device = torch.as_tensor(self._order, device=self._device)
        rows = self._order_on_device[idx * self.batch_size:(idx + 1) * self.batch_size]
        key = _random.fold_in(self._key, self.total_batches_seen)
        self.total_batches_seen += 1
        return self._batch(rows, key)

    def _batch(self, rows: torch.Tensor, key):
        gen = self.image_data_generator
        xb = gen._transform_batch(self._data["x"][rows], Sampler(key, self._device))
        if self._data["y"] is None:
            return xb
        out = (xb, self._data["y"][rows])
        if self._data["sample_weight"] is not None:
            out += (self._data["sample_weight"][rows],)
        return out

    def __repr__(self) -> str:
        return (f"<NumpyArrayIterator n={self.n} batch_size={self.batch_size} "
                f"batches_per_epoch={len(self)} device={self._device}>")
