"""Input, Dense, Activation, Flatten and Reshape."""
from __future__ import annotations

import math

import torch

from regulab import activations, initializers
from regulab import regularizers as _regularizers
from regulab._validation import check_int
from regulab.layers._base import CallContext, Layer
from regulab.layers._structure import normalize_shape
from regulab.layers._symbolic import Node, SymbolicTensor, dtype_name, resolve_dtype
from regulab.regularizers import get_argument as _regularizer_argument


class InputLayer(Layer):
    """The entry of a model: declares the shape and dtype of one sample; holds no weights.

    Use it through :func:`Input`, which returns its symbolic output.

    Args:
        shape: shape of one sample, without the batch axis, e.g. ``(100,)`` or ``(28, 28, 1)``.
        dtype: ``'float32'`` (default) or an integer type such as ``'int32'`` (token indices),
            which passes through unchanged.
    """

    stacks_variants = True  # passes its input through

    def __init__(self, shape=None, batch_size=None, dtype=None, name: str | None = None, input_shape=None,
                 **kwargs):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("Invalid value for argument `shape` of Input: expected a tuple of "
                             "positive integers. Received: shape=None")
        super().__init__(name=name,
                         input_shape=normalize_shape(shape, "shape", "Input"), **kwargs)
        self.shape = self._input_shape_arg
        self.batch_size = None if batch_size is None else check_int("batch_size", batch_size, low=1, where="Input")
        self.dtype = resolve_dtype(dtype)
        self.integer_inputs = not self.dtype.is_floating_point
        self.built = True
        self.input_shape = self.output_shape = self.shape
        self.output = Node(self, [], [self.shape], [self.dtype]).outputs[0]
        self.output.name = self.name

    def get_config(self):
        cfg = {"name": self.name, "shape": list(self.shape)}
        if self.dtype != torch.float32:
            cfg["dtype"] = dtype_name(self.dtype)
        if self.batch_size is not None:
            cfg["batch_size"] = self.batch_size
        return cfg


def Input(shape=None, batch_size=None, dtype=None, name: str | None = None, batch_shape=None,
          **kwargs) -> SymbolicTensor:  # noqa: N802 - Keras's name
    """A symbolic input of a model: ``Input((100,))`` is a batch of 100-feature samples.

    Start a functional model with it (``Model(inputs, outputs)``) or a ``Sequential`` (the same as
    giving the first layer ``input_shape=(100,)``).

    Args:
        shape: shape of one sample, without the batch axis.
        dtype: ``'float32'`` (default) or an integer type (``'int32'``) for indices.
        name: the input's name (the key of its data when inputs are given as a dict).
        batch_shape: the shape with the batch axis, instead of ``shape``.

    >>> from regulab.layers import Input, Dense
    >>> x = Input((4,), name="features")
    >>> x.shape
    (None, 4)
    >>> Dense(3)(x).shape
    (None, 3)
    """
    if batch_shape is not None:
        if shape is not None:
            raise ValueError("Arguments `shape` and `batch_shape` of Input are exclusive; pass one.")
        batch_shape = tuple(batch_shape)
        shape, batch_size = batch_shape[1:], batch_shape[0]
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, **kwargs).output


def activated_output(layer, x, ctx):
    """``layer.activation(layer.pre_activation(x))``, reporting the layer's activity penalty (in
    training and in evaluation alike, as Keras counts it in loss and val_loss)."""
    out = layer.activation(layer.pre_activation(x, ctx))
    if layer.activity_regularizer is not None:
        ctx.penalties.append(layer.activity_regularizer(out) / out.shape[0])
    return out


class Dense(Layer):
    """Fully connected layer: ``activation(x @ kernel + bias)`` on the last axis.

    Training and inference compute the same thing. Penalties from ``kernel_regularizer``,
    ``bias_regularizer`` and ``activity_regularizer`` are added to the training loss.

    Args:
        units: number of output units (a positive integer).
        activation: name or callable (default: linear).
        use_bias: add a bias vector (default True).
        kernel_initializer: default ``'glorot_uniform'`` (Glorot & Bengio, 2010).
        bias_initializer: default ``'zeros'``.
        kernel_regularizer, bias_regularizer: a regularizer or its name (``'l2'``: factor 0.01).
        activity_regularizer: penalty on the layer's output, divided by the batch size.

    >>> from regulab.layers import Dense
    >>> from regulab import regularizers
    >>> layer = Dense(64, input_dim=100, activation="relu", kernel_regularizer=regularizers.l2(0.01))
    >>> layer(np.zeros((2, 100), dtype="float32")).shape
    torch.Size([2, 64])
    >>> layer.count_params()
    6464
    """

    supports_masking = True

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units, low=1, where="Dense")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizer_argument(kernel_regularizer, "kernel_regularizer", "Dense")
        self.bias_regularizer = _regularizer_argument(bias_regularizer, "bias_regularizer", "Dense")
        self.activity_regularizer = _regularizer_argument(activity_regularizer, "activity_regularizer", "Dense")
        self.kernel = self.bias = None

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' needs a known last input axis; received input "
                             f"shape {(None, *input_shape)}.")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units),
                                      self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    stacks_variants = True

    def stacks(self) -> bool:
        # the activity penalty divides by the batch size: the leading axis would be the variants'
        return super().stacks() and self.activity_regularizer is None

    def pre_activation(self, x: torch.Tensor, ctx: CallContext) -> torch.Tensor:
        if ctx.variants is not None:
            return self._stacked_pre_activation(x, ctx)
        if self.use_bias:
            if x.dim() == 2:
                return torch.addmm(ctx[self.bias], x, ctx[self.kernel])
            return torch.matmul(x, ctx[self.kernel]) + ctx[self.bias]
        return torch.matmul(x, ctx[self.kernel])

    def _stacked_pre_activation(self, x, ctx):
        """``x`` ``(V, B, ..., in)``, each variant times its own kernel ``(V, in, units)``."""
        kernel = ctx[self.kernel]
        if x.dim() == 3:
            if self.use_bias:
                return torch.baddbmm(ctx[self.bias].unsqueeze(1), x, kernel)
            return torch.bmm(x, kernel)
        lead = [1] * (x.dim() - 3)  # the axes between the batch and the features
        out = torch.matmul(x, kernel.reshape(kernel.shape[0], *lead, *kernel.shape[1:]))
        if self.use_bias:
            bias = ctx[self.bias]
            out = out + bias.reshape(bias.shape[0], 1, *lead, bias.shape[-1])
        return out

    def call(self, x, ctx):
        return activated_output(self, x, ctx)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": _regularizers.serialize(self.activity_regularizer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
            config[key] = _regularizers.deserialize(config.get(key))
        return cls(**config)


class Activation(Layer):
    """Applies an activation function by name (``'relu'``, ``'softmax'``, ...).

    >>> from regulab.layers import Activation
    >>> Activation("relu")(np.array([[-1.0, 2.0]]))
    tensor([[0., 2.]])
    """

    supports_masking = True
    stacks_variants = True  # activations act elementwise or on the last axis

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def pre_activation(self, x, ctx):
        return x

    def call(self, x, ctx):
        return self.activation(x)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Flatten(Layer):
    """Flattens each sample to one axis: (batch, d1, d2, ...) -> (batch, d1*d2*...)."""

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape):
            return (None,)
        return (math.prod(input_shape),)

    stacks_variants = True

    def call(self, x, ctx):
        lead = 1 if ctx.variants is None else 2  # the batch axis, after the variants' if stacked
        return x.reshape(*x.shape[:lead], -1)


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one axis may be -1).

    Args:
        target_shape: the new shape of one sample, without the batch axis.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(target_shape) if not isinstance(target_shape, int) else (target_shape,)
        if sum(1 for d in dims if d == -1) > 1 or any(
                (not isinstance(d, int)) or isinstance(d, bool) or (d < 1 and d != -1) for d in dims):
            raise ValueError("Invalid value for argument `target_shape` of Reshape: expected positive "
                             f"integers with at most one -1. Received: target_shape={target_shape!r}")
        self.target_shape = dims

    def compute_output_shape(self, input_shape):
        if -1 not in self.target_shape:
            total_out = math.prod(self.target_shape)
        else:
            total_out = None
        total_in = math.prod(input_shape) if None not in input_shape else None
        if total_in is None:
            return self.target_shape
        if total_out is not None:
            if total_out != total_in:
                raise ValueError(f"Layer '{self.name}' cannot reshape input of shape {(None, *input_shape)} "
                                 f"({total_in} values per sample) to {(None, *self.target_shape)}.")
            return self.target_shape
        known = math.prod(d for d in self.target_shape if d != -1)
        if total_in % known:
            raise ValueError(f"Layer '{self.name}' cannot reshape input of shape {(None, *input_shape)} "
                             f"({total_in} values per sample) to {(None, *self.target_shape)}.")
        return tuple(total_in // known if d == -1 else d for d in self.target_shape)

    stacks_variants = True

    def call(self, x, ctx):
        lead = 1 if ctx.variants is None else 2
        return x.reshape(*x.shape[:lead], *self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
