"""Convolutions over channels-last inputs: Conv1D and Conv2D, and the base their variants share.

Inputs are ``(batch, steps, channels)`` and ``(batch, height, width, channels)``, kernels are
stored as Keras stores them (``(*kernel_size, in_channels / groups, filters)``), and the output
sizes, 'same' padding and parameter counts are Keras's (TensorFlow's). The arithmetic runs on
``torch.nn.functional.conv2d`` (1-D layers over a height of 1): a contiguous NHWC tensor permuted
to NCHW *is* an NCHW tensor in torch's channels-last memory format, so no copy is made on the way
in or out.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from regulab import activations, initializers
from regulab import regularizers as _regularizers
from regulab._validation import check_choice, check_int, invalid
from regulab.layers._base import Layer
from regulab.layers._core import activated_output
from regulab.regularizers import get_argument as _regularizer_argument

_AXES = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}


def conv_tuple(name: str, value, rank: int, where: str) -> tuple[int, ...]:
    """``value`` (an int, or a tuple/list of ``rank`` ints) as a tuple of ``rank`` positive ints."""
    expected = (f"a positive integer or a tuple of {rank} positive integers" if rank > 1
                else "a positive integer or a tuple of one")
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank
    if len(items) != rank or any(isinstance(v, bool) or not hasattr(v, "__index__") or int(v) < 1 for v in items):
        raise invalid(name, expected, value, where)
    return tuple(int(v) for v in items)


def check_data_format(value, where: str) -> str:
    """Only channels-last data is supported: say so, and how to get there."""
    if value is None or value == "channels_last":
        return "channels_last"
    raise invalid("data_format", "'channels_last' or None (regulab's layers are channels-last: move the "
                  "channels to the last axis, e.g. with np.moveaxis(x, 1, -1))", value, where)


def initializer_arg(value, default: str):
    """An initializer argument; ``None`` means the default, as in Keras."""
    return initializers.get(default if value is None else value)


def conv_output_length(n, kernel: int, stride: int, dilation: int, padding: str):
    """Keras's output length of a convolution over ``n`` steps (``None`` stays ``None``)."""
    if n is None:
        return None
    if padding == "valid":
        return (n - dilation * (kernel - 1) - 1) // stride + 1
    return (n - 1) // stride + 1


def same_padding(n: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding (before, after): the odd row or column goes after."""
    span = dilation * (kernel - 1) + 1
    total = max(((n - 1) // stride) * stride + span - n, 0)
    return total // 2, total - total // 2


class BaseConv(Layer):
    """What every convolution shares: the window (kernel size, strides, padding, dilation), the
    bias, the activation, and the checks of the input shape. Subclasses create their kernels in
    ``build`` and compute ``pre_activation``."""

    rank = 2
    paddings = ("valid", "same")

    def __init__(self, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation=None, use_bias: bool = True, bias_initializer="zeros", bias_regularizer=None,
                 activity_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        where = type(self).__name__
        self.kernel_size = conv_tuple("kernel_size", kernel_size, self.rank, where)
        self.strides = conv_tuple("strides", strides, self.rank, where)
        self.dilation_rate = conv_tuple("dilation_rate", dilation_rate, self.rank, where)
        self.padding = check_choice("padding", padding.lower() if isinstance(padding, str) else padding,
                                    self.paddings, where)
        self.data_format = check_data_format(data_format, where)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializer_arg(bias_initializer, "zeros")
        self.bias_regularizer = _regularizer_argument(bias_regularizer, "bias_regularizer", where)
        self.activity_regularizer = _regularizer_argument(activity_regularizer, "activity_regularizer", where)
        self.bias = None
        self._in_channels = None
        # 1-D layers run as 2-D convolutions over a height of 1: torch's channels-last 2-D kernels
        # are faster than its 1-D ones on a permuted (batch, channels, steps) view
        lead = (1,) * (2 - self.rank)
        self._torch_window = lead + self.kernel_size
        self._torch_strides = lead + self.strides
        self._torch_dilation = lead + self.dilation_rate

    # -- shapes
    def _check_rank(self, input_shape) -> None:
        if len(input_shape) != self.rank + 1:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected ndim={self.rank + 2} "
                f"{_AXES[self.rank]}, found ndim={len(input_shape) + 1}. Full shape received: "
                f"{(None, *input_shape)}")

    def _input_channels(self, input_shape) -> int:
        self._check_rank(input_shape)
        if input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' needs a known channel axis (the last one); received input "
                             f"shape {(None, *input_shape)}.")
        return input_shape[-1]

    def _check_input_shape(self, shape) -> None:
        # a convolution slides over inputs of any size: only the rank and the channels are fixed
        self._check_rank(shape)
        if self._in_channels is not None and shape[-1] is not None and shape[-1] != self._in_channels:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected axis -1 of input "
                f"shape to have value {self._in_channels}, but received input with shape {(None, *shape)}.")

    def _spatial_output(self, input_shape) -> tuple:
        """The output's spatial sizes; a kernel wider than a 'valid' input is an error."""
        self._check_rank(input_shape)
        spatial = tuple(input_shape[:-1])
        out = tuple(conv_output_length(n, k, s, d, self.padding) for n, k, s, d in
                    zip(spatial, self.kernel_size, self.strides, self.dilation_rate))
        if any(o is not None and o < 1 for o in out):
            spans = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
            kernel = f"kernel size {self.kernel_size}"
            if spans != self.kernel_size:
                kernel += f" with dilation_rate {self.dilation_rate} spans {spans}, which"
            raise ValueError(
                f"Layer '{self.name}' with padding='valid': its {kernel} is larger than the input {spatial}; "
                f"expected spatial dimensions of at least {spans}, received input shape {(None, *input_shape)}. "
                f"Use padding='same' or a smaller kernel_size.")
        return out

    def _add_bias(self, size: int) -> None:
        if self.use_bias:
            self.bias = self.add_weight("bias", (size,), self.bias_initializer, self.bias_regularizer)

    # -- computing
    def _to_torch(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, *spatial, channels) -> NCHW, a view in channels-last memory format."""
        return (x.unsqueeze(1) if self.rank == 1 else x).permute(0, 3, 1, 2)

    def _from_torch(self, y: torch.Tensor) -> torch.Tensor:
        y = y.permute(0, 2, 3, 1)
        return y.squeeze(1) if self.rank == 1 else y

    def _torch_kernel(self, kernel: torch.Tensor) -> torch.Tensor:
        """A Keras kernel ``(*window, a, b)`` as torch's ``(b, a, kh, kw)`` (a view)."""
        return (kernel.unsqueeze(0) if self.rank == 1 else kernel).permute(3, 2, 0, 1)

    def _torch_depthwise(self, kernel: torch.Tensor) -> torch.Tensor:
        """A depthwise kernel ``(*window, channels, multiplier)`` as torch's grouped
        ``(channels * multiplier, 1, kh, kw)``: output channel ``c * multiplier + m``."""
        return kernel.reshape(*self._torch_window, -1).permute(2, 0, 1).unsqueeze(1)

    def _padded(self, x: torch.Tensor):
        """``(x, padding)`` for torch's conv: symmetric padding goes to the conv itself; asymmetric
        padding (TensorFlow's extra row at the bottom/right, causal padding) is applied here, on the
        channels-last tensor, so the permuted tensor stays in channels-last memory format."""
        if self.padding == "valid":
            return x, (0, 0)
        pads = []
        for axis, (k, s, d) in enumerate(zip(self.kernel_size, self.strides, self.dilation_rate)):
            if self.padding == "causal":
                pads.append((d * (k - 1), 0))
            else:
                pads.append(same_padding(x.shape[axis + 1], k, s, d))
        if all(before == after for before, after in pads):
            return x, (0,) * (2 - self.rank) + tuple(before for before, _ in pads)
        flat = [0, 0]  # F.pad lists the last axis (channels) first
        for before, after in reversed(pads):
            flat += [before, after]
        return F.pad(x, flat), (0, 0)

    def call(self, x, ctx):
        return activated_output(self, x, ctx)

    # -- configuration
    def get_config(self):
        return {**super().get_config(), "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias, "bias_initializer": initializers.serialize(self.bias_initializer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": _regularizers.serialize(self.activity_regularizer)}

    @classmethod
    def from_config(cls, config):
        config = {k: _regularizers.deserialize(v) if k.endswith("_regularizer") else v for k, v in config.items()}
        return cls(**config)


class _Conv(BaseConv):
    """A convolution with ``filters`` output channels, optionally in ``groups``."""

    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups: int = 1, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, **kwargs)
        where = type(self).__name__
        self.filters = check_int("filters", filters, low=1, where=where)
        self.groups = check_int("groups", groups, low=1, where=where)
        if self.filters % self.groups:
            raise invalid("groups", f"a divisor of `filters` (filters={self.filters})", groups, where)
        self.kernel_initializer = initializer_arg(kernel_initializer, "glorot_uniform")
        self.kernel_regularizer = _regularizer_argument(kernel_regularizer, "kernel_regularizer", where)
        self.kernel = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"Layer '{self.name}' needs input channels divisible by groups={self.groups}; "
                             f"received input shape {(None, *input_shape)} with {channels} channels.")
        self._spatial_output(input_shape)
        self._in_channels = channels
        self.kernel = self.add_weight("kernel", (*self.kernel_size, channels // self.groups, self.filters),
                                      self.kernel_initializer, self.kernel_regularizer)
        self._add_bias(self.filters)

    def compute_output_shape(self, input_shape):
        return (*self._spatial_output(input_shape), self.filters)

    def pre_activation(self, x, ctx):
        x, padding = self._padded(x)
        y = F.conv2d(self._to_torch(x), self._torch_kernel(ctx[self.kernel]), ctx[self.bias] if self.use_bias else None,
                     self._torch_strides, padding, self._torch_dilation, self.groups)
        return self._from_torch(y)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer)}


class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)``: ``activation(conv(x, kernel) + bias)``.

    The kernel has shape ``(kernel_size, channels / groups, filters)``, as in Keras. Training and
    inference compute the same thing.

    Args:
        filters: number of output channels.
        kernel_size: length of the window (an int or a tuple of one).
        strides: step of the window (default 1).
        padding: ``'valid'`` (no padding, default), ``'same'`` (output length ``ceil(steps / strides)``,
            TensorFlow's padding: the odd step goes at the end) or ``'causal'`` (left padding by
            ``dilation_rate * (kernel_size - 1)``, so output ``t`` sees inputs up to ``t`` only; van den
            Oord et al., 2016).
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.
        dilation_rate: spacing of the window's taps (default 1).
        groups: split the channels into this many groups, each convolved with
            ``filters / groups`` filters (both must be divisible by it).
        activation: name or callable (default: linear).
        use_bias: add a bias per filter (default True).
        kernel_initializer, bias_initializer: default ``'glorot_uniform'`` and ``'zeros'``.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties added to the loss.

    >>> from regulab.layers import Conv1D
    >>> layer = Conv1D(8, 3, padding="causal", activation="relu")
    >>> layer(np.zeros((2, 10, 4), dtype="float32")).shape
    torch.Size([2, 10, 8])
    >>> layer.kernel.shape, layer.count_params()
    ((3, 4, 8), 104)
    """

    rank = 1
    paddings = ("valid", "same", "causal")


class Conv2D(_Conv):
    """2-D convolution over ``(batch, height, width, channels)`` images:
    ``activation(conv(x, kernel) + bias)``.

    The kernel has shape ``(kh, kw, channels / groups, filters)``, as in Keras. With
    ``padding='same'`` the output is ``ceil(size / strides)`` and, as in TensorFlow, an odd total
    padding puts the extra row at the bottom and the extra column at the right. Training and
    inference compute the same thing.

    Args:
        filters: number of output channels.
        kernel_size: window size, an int or ``(kh, kw)``.
        strides: an int or ``(sh, sw)`` (default 1).
        padding: ``'valid'`` (default) or ``'same'``.
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.
        dilation_rate: an int or a pair (default 1).
        groups: split the channels into this many groups (filters and input channels must be
            divisible by it).
        activation: name or callable (default: linear).
        use_bias: add a bias per filter (default True).
        kernel_initializer, bias_initializer: default ``'glorot_uniform'`` and ``'zeros'``.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties added to the loss.

    >>> from regulab.layers import Conv2D
    >>> layer = Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1))
    >>> layer(np.zeros((2, 28, 28, 1), dtype="float32")).shape
    torch.Size([2, 26, 26, 32])
    >>> layer.count_params()
    320
    >>> Conv2D(4, 3, strides=2, padding="same").compute_output_shape((28, None, 3))
    (14, None, 4)
    """

    rank = 2
