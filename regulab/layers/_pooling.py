"""Pooling over channels-last inputs: windowed (max and average, 1-D and 2-D) and global.

Inputs are ``(batch, steps, channels)`` and ``(batch, height, width, channels)``. Output sizes and
'same' padding are TensorFlow's (and so Keras's): the output is ``ceil(size / strides)``, the total
padding is split evenly with the odd cell at the end, max pooling never picks a padded cell and
average pooling divides by the number of real cells in each window. The arithmetic runs on
``torch.nn.functional``'s pooling: a contiguous NHWC tensor permuted to NCHW is an NCHW tensor in
channels-last memory format, so no copy is made on the way in or out.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from regulab._validation import check_choice
from regulab.layers._base import Layer
from regulab.layers._conv import check_data_format, conv_tuple, same_padding

_AXES = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
         0: "(batch, features)"}


def check_ndim(layer: Layer, input_shape, rank: int) -> None:
    """Raise unless ``input_shape`` (one sample) has ``rank`` spatial axes and a channel axis."""
    if len(input_shape) != rank + 1:
        raise ValueError(
            f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected ndim={rank + 2} "
            f"{_AXES[rank]}, found ndim={len(input_shape) + 1}. Full shape received: {(None, *input_shape)}")


def pooled_length(n, pool: int, stride: int, padding: str):
    """Keras's output length of a pooling window over ``n`` steps (``None`` stays ``None``)."""
    if n is None:
        return None
    if padding == "valid":
        return (n - pool) // stride + 1
    return (n - 1) // stride + 1


class _Pooling(Layer):
    """A window of ``pool_size`` sliding by ``strides``; subclasses say how it reduces."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        where = type(self).__name__
        self.pool_size = conv_tuple("pool_size", pool_size, self.rank, where)
        self.strides = self.pool_size if strides is None else conv_tuple("strides", strides, self.rank, where)
        self.padding = check_choice("padding", padding.lower() if isinstance(padding, str) else padding,
                                    ("valid", "same"), where)
        self.data_format = check_data_format(data_format, where)
        self._sizes_known = True
        # torch's channels-first axis order and back, e.g. NHWC -> NCHW -> NHWC
        self._to_first = (0, self.rank + 1, *range(1, self.rank + 1))
        self._to_last = (0, *range(2, self.rank + 2), 1)
        self._pool = {("max", 1): F.max_pool1d, ("max", 2): F.max_pool2d,
                      ("average", 1): F.avg_pool1d, ("average", 2): F.avg_pool2d}[self.mode, self.rank]

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self._sizes_known = None not in input_shape[:-1]

    def _check_input_shape(self, shape) -> None:
        # the window slides over inputs of any size: only the rank is fixed
        check_ndim(self, shape, self.rank)

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, self.rank)
        spatial = tuple(input_shape[:-1])
        out = tuple(pooled_length(n, k, s, self.padding) for n, k, s in zip(spatial, self.pool_size, self.strides))
        if any(o is not None and o < 1 for o in out):
            raise ValueError(
                f"Layer '{self.name}' with padding='valid': its pool_size {self.pool_size} is larger than the "
                f"input {spatial}; expected spatial dimensions of at least {self.pool_size}, received input "
                f"shape {(None, *input_shape)}. Use padding='same' or a smaller pool_size.")
        return (*out, input_shape[-1])

    def call(self, x, ctx):
        if not self._sizes_known:  # sizes that were None when the model was built
            self.compute_output_shape(tuple(x.shape[1:]))
        pads = ([same_padding(n, k, s, 1) for n, k, s in zip(x.shape[1:-1], self.pool_size, self.strides)]
                if self.padding == "same" else [])
        if not any(before or after for before, after in pads):
            return self._pool(x.permute(self._to_first), self.pool_size, self.strides).permute(self._to_last)
        flat = []  # F.pad lists the last axis first
        for before, after in reversed(pads):
            flat += [before, after]
        if self.mode == "max":
            padded = F.pad(x, [0, 0, *flat], value=float("-inf"))
            return self._pool(padded.permute(self._to_first), self.pool_size, self.strides).permute(self._to_last)
        # the mean of the real cells: pooled zero-padded values over the pooled share of real cells
        total = self._pool(F.pad(x, [0, 0, *flat]).permute(self._to_first), self.pool_size, self.strides)
        ones = torch.ones((1, 1, *x.shape[1:-1]), dtype=x.dtype, device=x.device)
        share = self._pool(F.pad(ones, flat), self.pool_size, self.strides)
        return (total / share).permute(self._to_last)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "padding": self.padding,
                "strides": list(self.strides), "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    """The maximum of each window of ``pool_size`` steps of ``(batch, steps, channels)`` inputs,
    per channel. Padded steps ('same') are never the maximum.

    Args:
        pool_size: window size (default 2).
        strides: step of the window; None (default) means ``pool_size``.
        padding: ``'valid'`` (windows inside the input, default) or ``'same'`` (output size
            ``ceil(size / strides)``, TensorFlow's padding: the odd cell goes at the end).
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.

    >>> from regulab.layers import MaxPooling1D
    >>> x = np.array([[[1.0], [3.0], [2.0], [5.0], [4.0]]], dtype="float32")
    >>> MaxPooling1D(2)(x)[0, :, 0]
    tensor([3., 5.])
    >>> MaxPooling1D(2, padding="same")(x)[0, :, 0]
    tensor([3., 5., 4.])
    """

    rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    """The mean of each window of ``pool_size`` steps of ``(batch, steps, channels)`` inputs, per
    channel. With 'same' padding a window's mean is over its real steps only, as in TensorFlow.

    Args:
        pool_size: window size (default 2).
        strides: step of the window; None (default) means ``pool_size``.
        padding: ``'valid'`` (windows inside the input, default) or ``'same'`` (output size
            ``ceil(size / strides)``, TensorFlow's padding: the odd cell goes at the end).
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.

    >>> from regulab.layers import AveragePooling1D
    >>> x = np.array([[[1.0], [3.0], [2.0], [5.0], [4.0]]], dtype="float32")
    >>> AveragePooling1D(2)(x)[0, :, 0]
    tensor([2.0000, 3.5000])
    >>> AveragePooling1D(2, padding="same")(x)[0, :, 0]
    tensor([2.0000, 3.5000, 4.0000])
    """

    rank = 1
    mode = "average"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(_Pooling):
    """The maximum of each ``pool_size`` window of ``(batch, height, width, channels)`` images, per
    channel. Padded cells ('same') are never the maximum.

    Args:
        pool_size: window size, an int or a pair (default ``(2, 2)``).
        strides: step of the window, an int or a pair; None (default) means ``pool_size``.
        padding: ``'valid'`` (windows inside the input, default) or ``'same'`` (output size
            ``ceil(size / strides)``, TensorFlow's padding: the odd cell goes at the end).
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.

    >>> from regulab.layers import MaxPooling2D
    >>> MaxPooling2D()(np.zeros((2, 28, 28, 3), dtype="float32")).shape
    torch.Size([2, 14, 14, 3])
    >>> MaxPooling2D(3, strides=2, padding="same").compute_output_shape((7, None, 8))
    (4, None, 8)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """The mean of each ``pool_size`` window of ``(batch, height, width, channels)`` images, per
    channel. With 'same' padding a window's mean is over its real cells only, as in TensorFlow.

    Args:
        pool_size: window size, an int or a pair (default ``(2, 2)``).
        strides: step of the window, an int or a pair; None (default) means ``pool_size``.
        padding: ``'valid'`` (windows inside the input, default) or ``'same'`` (output size
            ``ceil(size / strides)``, TensorFlow's padding: the odd cell goes at the end).
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.

    >>> from regulab.layers import AveragePooling2D
    >>> x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    >>> AveragePooling2D(padding="same")(x)[0, :, :, 0]
    tensor([[2.0000, 3.5000],
            [6.5000, 8.0000]])
    """

    mode = "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(Layer):
    """A reduction over every spatial axis, per channel."""

    rank = 2

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)
        self._dims = tuple(range(1, self.rank + 1))

    def build(self, input_shape):
        check_ndim(self, input_shape, self.rank)

    def _check_input_shape(self, shape) -> None:
        check_ndim(self, shape, self.rank)

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, self.rank)
        return (*(1,) * self.rank, input_shape[-1]) if self.keepdims else (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class _MaskedGlobalPooling1D(_GlobalPooling):
    """Global pooling over the steps of a sequence that skips the steps a mask marks as padding."""

    rank = 1
    takes_mask = True  # and passes none on: the pooled output has no steps left to mask

    def _mask(self, x, mask):
        if tuple(mask.shape) != tuple(x.shape[:2]):
            raise ValueError(f"Layer '{self.name}' needs a mask of shape (batch, steps) = {tuple(x.shape[:2])}; "
                             f"received a mask of shape {tuple(mask.shape)}.")
        return mask.to(device=x.device, dtype=torch.bool).unsqueeze(-1)


class GlobalAveragePooling1D(_MaskedGlobalPooling1D):
    """The mean over the steps of ``(batch, steps, channels)`` inputs: ``(batch, channels)``.

    With a mask (from ``Embedding(mask_zero=True)`` or ``Masking``) the mean is over the unmasked
    steps only, as in Keras; a sequence with no unmasked step pools to zeros (Keras gives NaN).

    Args:
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.
        keepdims: keep the steps axis, with length 1 (default False).

    >>> from regulab.layers import GlobalAveragePooling1D
    >>> x = np.array([[[1.0], [2.0], [6.0]]], dtype="float32")
    >>> GlobalAveragePooling1D()(x)
    tensor([[3.]])
    """

    def call(self, x, ctx, mask=None):
        if mask is None:
            return x.mean(dim=1, keepdim=self.keepdims)
        mask = self._mask(x, mask)
        total = torch.where(mask, x, 0.0).sum(dim=1, keepdim=self.keepdims)
        count = mask.sum(dim=1, keepdim=self.keepdims).clamp_min(1).to(x.dtype)
        return total / count


class GlobalMaxPooling1D(_MaskedGlobalPooling1D):
    """The maximum over the steps of ``(batch, steps, channels)`` inputs: ``(batch, channels)``.

    With a mask the maximum is over the unmasked steps only (Keras ignores the mask here); a
    sequence with no unmasked step pools to zeros.

    Args:
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.
        keepdims: keep the steps axis, with length 1 (default False).

    >>> from regulab.layers import GlobalMaxPooling1D
    >>> x = np.array([[[1.0], [-2.0], [6.0]]], dtype="float32")
    >>> GlobalMaxPooling1D()(x)
    tensor([[6.]])
    """

    def call(self, x, ctx, mask=None):
        if mask is None:
            return x.amax(dim=1, keepdim=self.keepdims)
        mask = self._mask(x, mask)
        top = torch.where(mask, x, float("-inf")).amax(dim=1, keepdim=self.keepdims)
        return torch.where(mask.any(dim=1, keepdim=self.keepdims), top, 0.0)


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over height and width of ``(batch, height, width, channels)`` images:
    ``(batch, channels)``.

    Args:
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.
        keepdims: keep the spatial axes, with length 1 (default False).

    >>> from regulab.layers import GlobalAveragePooling2D
    >>> GlobalAveragePooling2D()(np.ones((2, 5, 5, 8), dtype="float32")).shape
    torch.Size([2, 8])
    >>> GlobalAveragePooling2D(keepdims=True).compute_output_shape((None, None, 8))
    (1, 1, 8)
    """

    def call(self, x, ctx):
        return x.mean(dim=self._dims, keepdim=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over height and width of ``(batch, height, width, channels)`` images:
    ``(batch, channels)``.

    Args:
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.
        keepdims: keep the spatial axes, with length 1 (default False).

    >>> from regulab.layers import GlobalMaxPooling2D
    >>> x = np.arange(8, dtype="float32").reshape(1, 2, 2, 2)
    >>> GlobalMaxPooling2D()(x)
    tensor([[6., 7.]])
    """

    def call(self, x, ctx):
        return x.amax(dim=self._dims, keepdim=self.keepdims)
