"""Keras's ``ImageDataGenerator``, batched on the device with a fresh random transform per sample.

The seed's code runs unchanged with ``regulab`` in place of ``tensorflow.keras``::

    datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
                                 shear_range=0.2, zoom_range=0.2, horizontal_flip=True,
                                 fill_mode='nearest')
    datagen.fit(X_train)
    model.fit(datagen.flow(X_train, y_train, batch_size=32), epochs=10)

Where regulab differs from Keras (each a documented Keras behaviour that its code breaks, or a
trap):

- ``width_shift_range`` shifts horizontally and ``height_shift_range`` vertically (Keras swaps
  them), and transforms turn about the true centre of non-square images.
- ``fill_mode='wrap'`` repeats the image as documented (``abcd|abcd``); Keras's SciPy call repeats
  with a period one pixel short.
- ``brightness_range`` keeps fractional values (Keras rounds through 8-bit PIL images, which
  blackens images scaled to [0, 1]).
- featurewise normalization or ZCA without ``fit`` raises instead of warning and passing the
  images through unnormalized.
- ``validation_split`` picks a random subset, stratified by class, from a fixed seed; Keras takes
  the first fraction of the arrays, which on sorted data holds one class.
- ``interpolation_order`` is 0 or 1 (Keras also accepts SciPy's spline orders 2 to 5).
- ``preprocessing_function`` is called once per image with a NumPy array, as in Keras; it is the
  one step that leaves the batched device path.
- ``shear_range`` is in degrees, as in Keras: the seed's ``shear_range=0.2`` shears by at most
  0.2 degrees, which is barely visible.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from regulab._validation import check_choice, check_float, invalid
from regulab.augment._image import ImageAugmenter
from regulab.augment._sampling import Sampler
from regulab.augment._standardize import Normalizer, Statistics, fit_statistics
from regulab.preprocessing._iterator import NumpyArrayIterator

_WHERE = "ImageDataGenerator"
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class ImageDataGenerator:
    """Generates batches of image data with real-time, per-sample data augmentation.

    Training vs inference: augmentation only happens in the batches of ``flow`` (and in
    ``random_transform``); give the model's validation data separately, untransformed. Use
    ``standardize`` on validation and test images when the generator normalizes.

    Args (Keras's, same meaning and defaults):
        featurewise_center: subtract the per-channel mean of the training data (needs ``fit``).
        samplewise_center: subtract each image's mean.
        featurewise_std_normalization: divide by the per-channel std of the training data.
        samplewise_std_normalization: divide each image by its std.
        zca_whitening: ZCA whitening fitted on the training data; zca_epsilon: its epsilon (1e-6).
        rotation_range: degrees; a rotation drawn uniformly in [-r, r].
        width_shift_range, height_shift_range: a float (fraction of the size if < 1, pixels
            otherwise), an int (whole pixels in (-r, r)), or a list of choices.
        brightness_range: [lower, upper] factor multiplying the pixel values.
        shear_range: shear angle in degrees, drawn in [-r, r].
        zoom_range: a float z for [1 - z, 1 + z] or [lower, upper]; zoom along x and y drawn
            independently; above 1 zooms out.
        channel_shift_range: a value in [-r, r] added to all channels, clipped to the image's
            range.
        fill_mode: 'nearest' (default), 'constant', 'reflect' or 'wrap'; cval: fill value for
            'constant'.
        horizontal_flip, vertical_flip: flip half of the images.
        rescale: multiply the data by this value (before the other normalizations).
        preprocessing_function: called on each image (a rank-3 NumPy array) after augmentation.
        data_format: 'channels_last' (default, (N, H, W, C)) or 'channels_first'.
        validation_split: fraction of the data that ``flow(..., subset='validation')`` yields.
        interpolation_order: 0 (nearest) or 1 (bilinear, default).
        dtype: 'float32' (default) or 'float64', of the images produced.

    >>> import numpy as np
    >>> from regulab.preprocessing.image import ImageDataGenerator
    >>> datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.2,
    ...                              height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
    ...                              horizontal_flip=True, fill_mode='nearest')
    >>> x = np.random.rand(100, 8, 8, 1).astype("float32")
    >>> y = np.arange(100) % 10
    >>> it = datagen.flow(x, y, batch_size=32, seed=0)
    >>> len(it)
    4
    >>> xb, yb = next(it)
    >>> tuple(xb.shape), xb.dtype, yb.dtype
    ((32, 8, 8, 1), torch.float32, torch.int64)
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0, width_shift_range=0.0,
                 height_shift_range=0.0, brightness_range=None, shear_range=0.0, zoom_range=0.0,
                 channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        self._augmenter = ImageAugmenter(
            rotation_range=rotation_range, width_shift_range=width_shift_range,
            height_shift_range=height_shift_range, brightness_range=brightness_range,
            shear_range=shear_range, zoom_range=zoom_range,
            channel_shift_range=channel_shift_range, fill_mode=fill_mode, cval=cval,
            horizontal_flip=horizontal_flip, vertical_flip=vertical_flip,
            interpolation_order=interpolation_order, where=_WHERE)
        aug = self._augmenter
        self.rotation_range = aug.rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.brightness_range = None if aug.brightness_range is None else list(
            aug.brightness_range)
        self.shear_range = aug.shear_range
        self.zoom_range = list(aug.zoom_range)
        self.channel_shift_range = aug.channel_shift_range
        self.fill_mode, self.cval = aug.fill_mode, aug.cval
        self.horizontal_flip, self.vertical_flip = aug.horizontal_flip, aug.vertical_flip
        self.interpolation_order = aug.interpolation_order

        self.featurewise_center = bool(featurewise_center)
        self.samplewise_center = bool(samplewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.zca_whitening = bool(zca_whitening)
        self.zca_epsilon = check_float("zca_epsilon", zca_epsilon, low=0.0, where=_WHERE)
        self._resolve_normalization_flags()

        if rescale is not None:
            if check_float("rescale", rescale, where=_WHERE) == 0:
                raise invalid("rescale", "None or a nonzero float", rescale, _WHERE)
            rescale = float(rescale)
        self.rescale = rescale
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise invalid("preprocessing_function", "None or a callable", preprocessing_function,
                          _WHERE)
        self.preprocessing_function = preprocessing_function
        self.data_format = check_choice("data_format", data_format or "channels_last",
                                        ("channels_last", "channels_first"), where=_WHERE)
        self.channel_axis, self.row_axis, self.col_axis = (
            (3, 1, 2) if self.data_format == "channels_last" else (1, 2, 3))
        self._validation_split = check_float("validation_split", validation_split, low=0.0,
                                             high=1.0, high_open=True, where=_WHERE)
        if isinstance(dtype, torch.dtype):
            dtype = str(dtype).removeprefix("torch.")
        elif dtype is not None and not isinstance(dtype, str):
            dtype = np.dtype(dtype).name
        self.dtype = check_choice("dtype", dtype or "float32", _DTYPES, where=_WHERE)
        self._stats = Statistics()
        self._normalizer = Normalizer(self.rescale, self.samplewise_center,
                                      self.samplewise_std_normalization, self._stats)

    def _resolve_normalization_flags(self) -> None:
        """Keras's implications between the flags, with its warnings."""
        def note(message):
            warnings.warn(f"This ImageDataGenerator specifies {message}", UserWarning,
                          stacklevel=3)

        if self.zca_whitening:
            if not self.featurewise_center:
                self.featurewise_center = True
                note("`zca_whitening`, which overrides setting of `featurewise_center`.")
            if self.featurewise_std_normalization:
                self.featurewise_std_normalization = False
                note("`zca_whitening` which overrides setting of "
                     "`featurewise_std_normalization`.")
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            note("`featurewise_std_normalization`, which overrides setting of "
                 "`featurewise_center`.")
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            note("`samplewise_std_normalization`, which overrides setting of "
                 "`samplewise_center`.")

    # -- fitted statistics, with Keras's names and shapes (settable, as in Keras)
    @property
    def mean(self):
        return self._stats.mean

    @mean.setter
    def mean(self, value):
        self._stats.mean = None if value is None else np.asarray(value, dtype=np.float64)

    @property
    def std(self):
        return self._stats.std

    @std.setter
    def std(self, value):
        self._stats.std = None if value is None else np.asarray(value, dtype=np.float64)

    @property
    def zca_whitening_matrix(self):
        return self._stats.zca_whitening_matrix

    @zca_whitening_matrix.setter
    def zca_whitening_matrix(self, value):
        self._stats.zca_whitening_matrix = (None if value is None
                                            else np.asarray(value, dtype=np.float64))

    # -- layout and checks
    def _check_images(self, x, where: str, name: str, rank: int = 4,
                      against_fit: bool = True) -> None:
        shape = tuple(x.shape)
        layout = "(N, H, W, C)" if self.data_format == "channels_last" else "(N, C, H, W)"
        if rank == 3:
            layout = "(" + layout[4:]
        if len(shape) != rank:
            hint = ""
            if len(shape) == rank - 1 and self.data_format == "channels_last":
                hint = "; for one-channel images add the channel axis: x[..., None]"
            raise ValueError(f"Invalid value for argument `{name}` of {where}: expected an array "
                             f"of rank {rank} {layout}. Received: {name} with shape {shape}{hint}")
        axis = self.channel_axis - (4 - rank)
        other = (rank - 1) if self.data_format == "channels_first" else (rank - 3)
        channels = shape[axis]
        expected = self._fitted_channels() if against_fit else None
        if expected is not None and channels != expected:
            raise ValueError(f"Invalid value for argument `{name}` of {where}: expected images "
                             f"with {expected} channels, as the data given to fit(). Received: "
                             f"{name} with shape {shape}")
        if channels not in (1, 3, 4):
            if shape[other] in (1, 3, 4):
                swap = ("channels_first" if self.data_format == "channels_last"
                        else "channels_last")
                raise ValueError(
                    f"Invalid value for argument `{name}` of {where}: expected {layout} images "
                    f"with 1, 3 or 4 channels on axis {axis}. Received: {name} with shape "
                    f"{shape}, which looks like the other layout; pass data_format='{swap}' or "
                    "transpose the array")
            warnings.warn(f"{where}: `{name}` has {channels} channels on axis {axis} (images "
                          "usually have 1, 3 or 4); shape " + str(shape), UserWarning,
                          stacklevel=3)

    def _fitted_channels(self):
        for value in (self._stats.mean, self._stats.std):
            if value is not None:
                return value.shape[self.channel_axis - 1]
        return None

    def _channels_last(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.data_format == "channels_last" else x.movedim(1, -1)

    def _user_layout(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.data_format == "channels_last" else x.movedim(-1, 1)

    # -- the batched pipeline
    def _transform_batch(self, x: torch.Tensor, sampler: Sampler) -> torch.Tensor:
        """Augment and standardize a batch in the user's layout."""
        x = self._channels_last(x.to(_DTYPES[self.dtype]))
        params = self._augmenter.draw(x.shape[0], x.shape[1], x.shape[2], sampler)
        x = self._user_layout(self._augmenter.apply(x, params))
        return self._standardize_batch(x)

    def _standardize_batch(self, x: torch.Tensor) -> torch.Tensor:
        self._check_fitted()
        if self.preprocessing_function is not None:
            images = [np.asarray(self.preprocessing_function(img))
                      for img in x.detach().cpu().numpy()]
            x = torch.as_tensor(np.stack(images), dtype=x.dtype, device=x.device)
        if self._stats.zca_whitening_matrix is not None:
            size = int(np.prod(x.shape[1:]))
            if self._stats.zca_whitening_matrix.shape[0] != size:
                raise ValueError(f"ImageDataGenerator: zca_whitening was fitted on images of "
                                 f"{self._stats.zca_whitening_matrix.shape[0]} values; received "
                                 f"images of shape {tuple(x.shape[1:])} ({size} values).")
        return self._normalizer(x)

    def _check_fitted(self) -> None:
        needs = [("featurewise_center", self.featurewise_center, self._stats.mean),
                 ("featurewise_std_normalization", self.featurewise_std_normalization,
                  self._stats.std),
                 ("zca_whitening", self.zca_whitening, self._stats.zca_whitening_matrix)]
        for flag, on, value in needs:
            if on and value is None:
                raise RuntimeError(
                    f"This ImageDataGenerator has {flag}=True but has not been fitted: call "
                    "`datagen.fit(x_train)` on the training images first (and only on them).")

    # -- Keras's public methods
    def fit(self, x, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Fit the featurewise statistics (mean, std, ZCA) on training images.

        Only needed for ``featurewise_center``, ``featurewise_std_normalization`` or
        ``zca_whitening``. ``rescale`` is applied first; with ``augment=True`` the statistics are
        taken over ``rounds`` randomly transformed copies of ``x``.
        """
        x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        self._check_images(x, "ImageDataGenerator.fit", "x", against_fit=False)
        rounds = int(rounds)
        data = torch.as_tensor(np.asarray(x, dtype=np.float64))
        if self.rescale is not None:
            data = data * self.rescale
        if augment:
            sampler = Sampler(seed)
            copies = []
            for _ in range(rounds):
                batch = self._channels_last(data)
                params = self._augmenter.draw(len(batch), batch.shape[1], batch.shape[2], sampler)
                copies.append(self._user_layout(self._augmenter.apply(batch, params)))
            data = torch.cat(copies)
        stats = fit_statistics(data.numpy(), self.channel_axis, self.featurewise_center,
                               self.featurewise_std_normalization, self.zca_whitening,
                               self.zca_epsilon)
        self._stats.mean, self._stats.std = stats.mean, stats.std
        self._stats.zca_whitening_matrix = stats.zca_whitening_matrix

    def flow(self, x, y=None, batch_size: int = 32, shuffle: bool = True, sample_weight=None,
             seed: int | None = None, subset: str | None = None,
             ignore_class_split: bool = False) -> NumpyArrayIterator:
        """An endless iterator of augmented batches for ``model.fit`` (see NumpyArrayIterator).

        Args:
            x: images (rank 4, in ``data_format``); NumPy array or torch tensor.
            y: labels (any shape with ``len(x)`` rows) or None.
            batch_size: samples per batch (default 32).
            shuffle: reshuffle every epoch (default True).
            sample_weight: per-sample weights, yielded as a third item.
            seed: repeats the order and the transforms; None draws one from NumPy's global
                generator (so ``np.random.seed`` repeats it, as in Keras).
            subset: 'training' or 'validation' with ``validation_split``.
            ignore_class_split: allow subsets that do not hold the same classes.
        """
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed, subset=subset,
                                  ignore_class_split=ignore_class_split)

    def standardize(self, x):
        """Apply ``preprocessing_function``, ``rescale`` and the normalizations to one image
        (rank 3) or a batch (rank 4); returns the same type (NumPy array or tensor)."""
        return self._single_or_batch(x, "standardize", self._standardize_batch)

    def get_random_transform(self, img_shape, seed: int | None = None) -> dict:
        """Random parameters for one image of shape ``img_shape``, as Keras's dict (theta, tx,
        ty, shear, zx, zy, flip_horizontal, flip_vertical, channel_shift_intensity,
        brightness). ``tx``/``ty`` are the horizontal/vertical shifts in pixels."""
        shape = tuple(img_shape)
        if len(shape) != 3:
            raise invalid("img_shape", "the shape of one image (rank 3)", img_shape,
                          "ImageDataGenerator.get_random_transform")
        height, width = shape[self.row_axis - 1], shape[self.col_axis - 1]
        params = self._augmenter.draw(1, height, width, Sampler(seed))
        return {k: _scalar(v) for k, v in params.items()}

    def apply_transform(self, x, transform_parameters: dict):
        """Apply a parameter dict (as from ``get_random_transform``) to one image (rank 3), or
        to a batch (rank 4) with scalar or per-sample values; returns the same type."""
        params = {k: (torch.as_tensor(v) if isinstance(v, (np.ndarray, list, tuple)) else v)
                  for k, v in transform_parameters.items()}

        def run(batch):
            return self._user_layout(self._augmenter.apply(self._channels_last(batch), params))
        return self._single_or_batch(x, "apply_transform", run)

    def random_transform(self, x, seed: int | None = None):
        """Apply a random transformation to one image (rank 3) or, per sample, to a batch."""
        def run(batch):
            batch = self._channels_last(batch)
            params = self._augmenter.draw(batch.shape[0], batch.shape[1], batch.shape[2],
                                          Sampler(seed, batch.device))
            return self._user_layout(self._augmenter.apply(batch, params))
        return self._single_or_batch(x, "random_transform", run)

    def _single_or_batch(self, x, method: str, run):
        is_numpy = not isinstance(x, torch.Tensor)
        t = torch.as_tensor(np.asarray(x) if is_numpy else x)
        single = t.dim() == 3
        self._check_images(t, f"ImageDataGenerator.{method}", "x", rank=3 if single else 4)
        out = run((t[None] if single else t).to(_DTYPES[self.dtype]))
        out = out[0] if single else out
        return out.detach().cpu().numpy() if is_numpy else out


def _scalar(value):
    """A one-sample tensor as a Python value (bool for flips); other values unchanged."""
    if isinstance(value, torch.Tensor):
        item = value.reshape(-1)[0].item()
        return bool(item) if value.dtype == torch.bool else float(item)
    return value


__all__ = ["ImageDataGenerator", "NumpyArrayIterator"]
