"""Transposed convolutions (the gradient of a convolution with respect to its input; Zeiler et
al., 2010; the upsampling of DCGAN's generator, Radford et al., 2016), channels-last.

Output sizes follow Keras's ``compute_conv_transpose_output_shape`` (TensorFlow's): with
``padding='same'`` and no ``output_padding`` the output is ``size * strides``. The values are
TensorFlow's too: torch's ``conv_transpose`` crops its full output symmetrically (``padding``) and
extends it on the right (``output_padding``); where TensorFlow crops one more on the right (an odd
kernel under 'same' with strides 2, as in DCGAN), that column is sliced off here.
"""
from __future__ import annotations

import torch.nn.functional as F

from regulab import initializers
from regulab import regularizers as _regularizers
from regulab._validation import check_int, invalid
from regulab.layers._conv import BaseConv, initializer_arg
from regulab.regularizers import get_argument as _regularizer_argument


def transpose_output_length(n, kernel: int, stride: int, dilation: int, padding: str, output_padding):
    """Keras's output length of a transposed convolution over ``n`` steps (``None`` stays ``None``)."""
    if n is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (n - 1) * stride + span + extra
    if output_padding is None:
        return n * stride
    return (n - 1) * stride + span % 2 + output_padding


def transpose_crops(kernel: int, stride: int, dilation: int, padding: str, output_padding) -> tuple[int, int]:
    """How much TensorFlow crops from the left and the right of the full transposed output
    (``(n - 1) * stride + span``); a negative right crop extends it with zeros (Keras's padding
    arguments for JAX, read as crops)."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return 0, -extra
    total = stride + span - 2 if output_padding is None else span + span % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, span - 1)
    return span - 1 - left, span - 1 - (total - left)


class _ConvTranspose(BaseConv):
    """A transposed convolution; ``kernel`` is ``(*kernel_size, filters, in_channels)``."""

    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, **kwargs)
        where = type(self).__name__
        self.filters = check_int("filters", filters, low=1, where=where)
        self.output_padding = None if output_padding is None else self._output_padding(output_padding, where)
        self.kernel_initializer = initializer_arg(kernel_initializer, "glorot_uniform")
        self.kernel_regularizer = _regularizer_argument(kernel_regularizer, "kernel_regularizer", where)
        self.kernel = None
        # torch crops `padding` from both sides and adds `output_padding` on the right; whatever
        # TensorFlow crops beyond that on the right is sliced off after the call
        crops = [(0, 0)] * (2 - self.rank) + [
            transpose_crops(k, s, d, self.padding, None if self.output_padding is None else p)
            for k, s, d, p in zip(self.kernel_size, self.strides, self.dilation_rate,
                                  self.output_padding or (0,) * self.rank)]
        self._torch_padding = tuple(left for left, _ in crops)
        self._torch_output_padding = tuple(max(left - right, 0) for left, right in crops)
        self._right_crops = tuple(max(right - left, 0) for left, right in crops)

    def _output_padding(self, value, where: str) -> tuple[int, ...]:
        items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * self.rank
        if len(items) != self.rank or any(isinstance(p, bool) or not hasattr(p, "__index__") or not 0 <= int(p) < s
                                          for p, s in zip(items, self.strides)):
            raise invalid("output_padding", f"None, or an integer or a tuple of {self.rank} integers, each in "
                          f"[0, stride) (strides={self.strides})", value, where)
        return tuple(int(p) for p in items)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._in_channels = channels
        self.kernel = self.add_weight("kernel", (*self.kernel_size, self.filters, channels),
                                      self.kernel_initializer, self.kernel_regularizer)
        self._add_bias(self.filters)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        pads = self.output_padding or (None,) * self.rank
        return (*(transpose_output_length(n, k, s, d, self.padding, p) for n, k, s, d, p in
                  zip(input_shape[:-1], self.kernel_size, self.strides, self.dilation_rate, pads)), self.filters)

    def pre_activation(self, x, ctx):
        y = F.conv_transpose2d(self._to_torch(x), self._torch_kernel(ctx[self.kernel]),
                               ctx[self.bias] if self.use_bias else None, self._torch_strides, self._torch_padding,
                               self._torch_output_padding, 1, self._torch_dilation)
        if any(self._right_crops):
            ch, cw = self._right_crops
            y = y[:, :, :y.shape[2] - ch, :y.shape[3] - cw]
        return self._from_torch(y)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "output_padding": None if self.output_padding is None else list(self.output_padding),
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer)}


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution over ``(batch, steps, channels)``; upsamples by ``strides``.

    Arguments as :class:`Conv2DTranspose`, with one-element sizes.

    >>> from regulab.layers import Conv1DTranspose
    >>> Conv1DTranspose(4, 3, strides=2, padding="same")(np.zeros((2, 8, 3), dtype="float32")).shape
    torch.Size([2, 16, 4])
    """

    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution over ``(batch, height, width, channels)``, the learned upsampling
    of generators and decoders: ``Conv2DTranspose(64, 5, strides=2, padding='same')`` doubles the
    height and width.

    The kernel has shape ``(kh, kw, filters, in_channels)``, as in Keras. Output size per axis, as
    Keras computes it (``span = (k - 1) * dilation + 1``): 'valid':
    ``(n - 1) * s + span + output_padding`` (``output_padding`` defaults to ``max(span, s) - span``);
    'same': ``n * s``, or ``(n - 1) * s + span % 2 + output_padding`` when it is given. Training and
    inference compute the same thing.

    Args:
        filters: number of output channels.
        kernel_size: window size, an int or ``(kh, kw)``.
        strides: upsampling factor, an int or a pair (default 1).
        padding: ``'valid'`` (default) or ``'same'``.
        output_padding: extra rows/columns at the bottom/right, each less than its stride, or None.
        data_format: ``'channels_last'`` or None.
        dilation_rate: an int or a pair (default 1).
        activation: name or callable (default: linear).
        use_bias: add a bias per filter (default True).
        kernel_initializer, bias_initializer: default ``'glorot_uniform'`` and ``'zeros'``.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties added to the loss.

    >>> from regulab.layers import Conv2DTranspose
    >>> layer = Conv2DTranspose(64, 5, strides=2, padding="same")
    >>> layer(np.zeros((2, 7, 7, 128), dtype="float32")).shape
    torch.Size([2, 14, 14, 64])
    >>> layer.kernel.shape
    (5, 5, 64, 128)
    """

    rank = 2
