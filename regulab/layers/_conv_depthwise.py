"""Depthwise and depthwise-separable convolutions (Chollet, 2017: Xception; Howard et al., 2017:
MobileNets), channels-last, on torch's grouped convolution.

A depthwise convolution filters each input channel on its own with ``depth_multiplier`` kernels;
output channel ``c * depth_multiplier + m`` is channel ``c`` filtered by its ``m``-th kernel, as in
TensorFlow. A separable convolution follows it with a 1x1 ("pointwise") convolution that mixes the
channels.
"""
from __future__ import annotations

import torch.nn.functional as F

from regulab import initializers
from regulab import regularizers as _regularizers
from regulab._validation import check_int
from regulab.layers._conv import BaseConv, initializer_arg
from regulab.regularizers import get_argument as _regularizer_argument


class _DepthwiseConv(BaseConv):
    """A depthwise convolution; ``kernel`` is ``(*kernel_size, channels, depth_multiplier)``."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier: int = 1, data_format=None,
                 dilation_rate=1, activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, **kwargs)
        where = type(self).__name__
        self.depth_multiplier = check_int("depth_multiplier", depth_multiplier, low=1, where=where)
        self.depthwise_initializer = initializer_arg(depthwise_initializer, "glorot_uniform")
        self.depthwise_regularizer = _regularizer_argument(depthwise_regularizer, "depthwise_regularizer", where)
        self.kernel = None

    @property
    def depthwise_kernel(self):
        """The kernel, by its name in tf.keras 2."""
        return self.kernel

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._spatial_output(input_shape)
        self._in_channels = channels
        self.kernel = self.add_weight("kernel", (*self.kernel_size, channels, self.depth_multiplier),
                                      self.depthwise_initializer, self.depthwise_regularizer)
        self._add_bias(channels * self.depth_multiplier)

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1] if input_shape else None
        return (*self._spatial_output(input_shape), None if channels is None else channels * self.depth_multiplier)

    def pre_activation(self, x, ctx):
        x, padding = self._padded(x)
        kernel = ctx[self.kernel]
        y = F.conv2d(self._to_torch(x), self._torch_depthwise(kernel), ctx[self.bias] if self.use_bias else None,
                     self._torch_strides, padding, self._torch_dilation, kernel.shape[-2])
        return self._from_torch(y)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "depthwise_regularizer": _regularizers.serialize(self.depthwise_regularizer)}


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution over ``(batch, steps, channels)``: each channel filtered on its own
    by ``depth_multiplier`` kernels; ``channels * depth_multiplier`` outputs.

    Arguments as :class:`DepthwiseConv2D`, with one-element window sizes.

    >>> from regulab.layers import DepthwiseConv1D
    >>> DepthwiseConv1D(3, depth_multiplier=2)(np.zeros((2, 10, 4), dtype="float32")).shape
    torch.Size([2, 8, 8])
    """

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution: each input channel filtered on its own by ``depth_multiplier``
    kernels, giving ``channels * depth_multiplier`` output channels (no mixing across channels).

    The kernel has shape ``(kh, kw, channels, depth_multiplier)``, as in Keras 3 (``kernel``; also
    readable as ``depthwise_kernel``). Training and inference compute the same thing.

    Args:
        kernel_size: window size, an int or ``(kh, kw)``.
        strides: an int or a pair (default 1).
        padding: ``'valid'`` (default) or ``'same'`` (TensorFlow's: the extra row/column at the
            bottom/right).
        depth_multiplier: kernels per input channel (default 1).
        data_format: ``'channels_last'`` or None.
        dilation_rate: an int or a pair (default 1).
        activation: name or callable (default: linear).
        use_bias: add a bias per output channel (default True).
        depthwise_initializer, bias_initializer: default ``'glorot_uniform'`` and ``'zeros'``.
        depthwise_regularizer, bias_regularizer, activity_regularizer: penalties added to the loss.

    >>> from regulab.layers import DepthwiseConv2D
    >>> layer = DepthwiseConv2D(3, padding="same", depth_multiplier=2)
    >>> layer(np.zeros((1, 8, 8, 3), dtype="float32")).shape
    torch.Size([1, 8, 8, 6])
    >>> layer.count_params()  # 3 * 3 * 3 * 2 + 6
    60
    """

    rank = 2


class _SeparableConv(BaseConv):
    """A depthwise convolution followed by a pointwise (1x1) one with ``filters`` outputs."""

    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier: int = 1, activation=None, use_bias: bool = True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, **kwargs)
        where = type(self).__name__
        self.filters = check_int("filters", filters, low=1, where=where)
        self.depth_multiplier = check_int("depth_multiplier", depth_multiplier, low=1, where=where)
        self.depthwise_initializer = initializer_arg(depthwise_initializer, "glorot_uniform")
        self.pointwise_initializer = initializer_arg(pointwise_initializer, "glorot_uniform")
        self.depthwise_regularizer = _regularizer_argument(depthwise_regularizer, "depthwise_regularizer", where)
        self.pointwise_regularizer = _regularizer_argument(pointwise_regularizer, "pointwise_regularizer", where)
        self.depthwise_kernel = self.pointwise_kernel = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._spatial_output(input_shape)
        self._in_channels = channels
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier),
            self.depthwise_initializer, self.depthwise_regularizer)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer, self.pointwise_regularizer)
        self._add_bias(self.filters)

    def compute_output_shape(self, input_shape):
        return (*self._spatial_output(input_shape), self.filters)

    def pre_activation(self, x, ctx):
        x, padding = self._padded(x)
        depthwise = ctx[self.depthwise_kernel]
        y = F.conv2d(self._to_torch(x), self._torch_depthwise(depthwise), None, self._torch_strides, padding,
                     self._torch_dilation, depthwise.shape[-2])
        y = F.conv2d(y, self._torch_kernel(ctx[self.pointwise_kernel]), ctx[self.bias] if self.use_bias else None)
        return self._from_torch(y)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "depthwise_regularizer": _regularizers.serialize(self.depthwise_regularizer),
                "pointwise_regularizer": _regularizers.serialize(self.pointwise_regularizer)}


class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution over ``(batch, steps, channels)``.

    Arguments as :class:`SeparableConv2D`, with one-element window sizes.

    >>> from regulab.layers import SeparableConv1D
    >>> layer = SeparableConv1D(8, 3, depth_multiplier=2)
    >>> layer(np.zeros((2, 10, 4), dtype="float32")).shape
    torch.Size([2, 8, 8])
    >>> layer.count_params()  # 3 * 4 * 2 + 8 * 8 + 8
    96
    """

    rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution: a depthwise convolution (each channel filtered on its own
    by ``depth_multiplier`` kernels) then a 1x1 convolution to ``filters`` channels, plus a bias.

    Far fewer parameters than a Conv2D of the same window: ``kh*kw*channels*depth_multiplier +
    channels*depth_multiplier*filters + filters``. Weights, as in Keras: ``depthwise_kernel``
    ``(kh, kw, channels, depth_multiplier)``, ``pointwise_kernel``
    ``(1, 1, channels * depth_multiplier, filters)``, ``bias`` ``(filters,)``.

    Args:
        filters: output channels of the pointwise convolution.
        kernel_size, strides, padding, dilation_rate: of the depthwise convolution, as in Conv2D.
        data_format: ``'channels_last'`` or None.
        depth_multiplier: depthwise kernels per input channel (default 1).
        activation: name or callable (default: linear).
        use_bias: add a bias per filter (default True).
        depthwise_initializer, pointwise_initializer, bias_initializer: default
            ``'glorot_uniform'``, ``'glorot_uniform'`` and ``'zeros'``.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer:
            penalties added to the loss.

    >>> from regulab.layers import SeparableConv2D
    >>> layer = SeparableConv2D(64, 3)
    >>> layer(np.zeros((1, 16, 16, 32), dtype="float32")).shape
    torch.Size([1, 14, 14, 64])
    >>> layer.count_params()  # 32 * 9 + 32 * 64 + 64
    2400
    """

    rank = 2
