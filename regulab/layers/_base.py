"""The layer base class, its weights (``Variable``) and the context a call runs in.

A layer owns Keras-style configuration and its weights, and computes its output with ``call(x, ctx)``
as a pure function: it reads weights through ``ctx[var]``, draws randomness from ``ctx`` and reports
state updates (BatchNorm's moving statistics) and activity penalties to ``ctx`` instead of changing
anything. The training step hands the context the current parameter tensors, so the same ``call``
serves eager training, compiled steps and inference.
"""
from __future__ import annotations

import itertools
import re
from typing import Any, Sequence

import numpy as np
import torch

from regulab import _random, initializers
from regulab import regularizers as _regularizers
from regulab._validation import check_int

Shape = tuple  # without the batch axis, e.g. (100,) or (28, 28, 1)


class Variable:
    """One weight of a layer: its current value and what training needs to know about it."""

    __slots__ = ("name", "value", "trainable", "regularizer", "index")

    def __init__(self, name: str, value: torch.Tensor, trainable: bool, regularizer=None):
        self.name = name
        self.value = value
        self.trainable = trainable
        self.regularizer = regularizer
        self.index = -1  # position in the owning model's variable list, set when the model builds

    @property
    def shape(self) -> tuple:
        return tuple(self.value.shape)

    def numpy(self):
        """A copy of the value as a NumPy array (never a view of the live weights)."""
        return self.value.detach().cpu().numpy().copy()

    def __repr__(self) -> str:
        return f"<Variable {self.name} shape={self.shape} trainable={self.trainable}>"


class CallContext:
    """What one forward pass runs with.

    Attributes:
        values: tensors to use for the model's variables, indexed by ``Variable.index``; ``None``
            means use each variable's current value (a layer called on its own).
        training: training mode (BatchNorm uses batch statistics, augmentation layers act).
        stochastic: noise layers (dropout and friends) are active; equals ``training`` except for
            Monte-Carlo dropout, which turns noise on while BatchNorm stays in inference mode.
        key: 32-bit random key (int or int64 tensor) for this pass; layers derive their own stream.
        updates: new values for non-trainable variables, by variable index.
        penalties: activity-regularization terms added to the loss.
    """

    __slots__ = ("values", "training", "stochastic", "key", "updates", "penalties")

    def __init__(self, values: Sequence[torch.Tensor] | None = None, training: bool = False, key=0,
                 stochastic: bool | None = None):
        self.values = values
        self.training = training
        self.stochastic = training if stochastic is None else stochastic
        self.key = key
        self.updates: dict[int, torch.Tensor] = {}
        self.penalties: list[torch.Tensor] = []

    def __getitem__(self, var: Variable) -> torch.Tensor:
        if self.values is None or var.index < 0:
            return var.value
        return self.values[var.index]

    def assign(self, var: Variable, value: torch.Tensor) -> None:
        if self.values is None or var.index < 0:
            var.value = value.detach()
        else:
            self.updates[var.index] = value

    def uniform(self, shape, stream: int, device) -> torch.Tensor:
        return _random.uniform(_random.fold_in(self.key, stream), shape, device)

    def normal(self, shape, stream: int, device) -> torch.Tensor:
        return _random.normal(_random.fold_in(self.key, stream), shape, device)


_name_counters: dict[str, itertools.count] = {}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def unique_name(prefix: str) -> str:
    """Keras-style names: dense, dense_1, dense_2, ..."""
    counter = _name_counters.setdefault(prefix, itertools.count())
    n = next(counter)
    return prefix if n == 0 else f"{prefix}_{n}"


def normalize_shape(shape, name: str, where: str) -> Shape:
    """Turn an int or a sequence into a tuple of positive ints (None allowed for sequence axes)."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"Invalid value for argument `{name}` of {where}: expected a tuple of "
                         f"positive integers. Received: {name}={shape!r}") from None
    return tuple(None if d is None else check_int(name, d, low=1, where=where) for d in dims)


class Layer:
    """Base class of all layers.

    Args:
        name: the layer's name (default: its class in snake case, numbered).
        trainable: whether its weights are trained.
        input_shape: shape of one sample, without the batch axis (first layer of a Sequential).
        input_dim: shorthand for ``input_shape=(input_dim,)``.
    """

    def __init__(self, name: str | None = None, trainable: bool = True, input_shape=None,
                 input_dim: int | None = None, dtype=None, **kwargs):
        if kwargs:
            bad = next(iter(kwargs))
            raise TypeError(f"{type(self).__name__} got an unexpected keyword argument '{bad}'.")
        self.name = name or unique_name(_snake(type(self).__name__))
        self._variables: list[Variable] = []
        self._frozen_names: set[str] = set()  # weights that are never trained (moving statistics)
        self.trainable = bool(trainable)
        if input_dim is not None:
            input_shape = (check_int("input_dim", input_dim, low=1, where=type(self).__name__),)
        self._input_shape_arg = (None if input_shape is None
                                 else normalize_shape(input_shape, "input_shape", type(self).__name__))
        self.built = False
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self._stream = 0  # set by the model: this layer's position, to derive its random stream

    # -- building
    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of ``input_shape`` (no batch axis)."""

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def build_for(self, input_shape: Shape) -> Shape:
        """Check the input shape, build if needed, and return the output shape."""
        input_shape = tuple(input_shape)
        if self.built:
            self._check_input_shape(input_shape)
        else:
            self.build(input_shape)
            self.input_shape = input_shape
            self.built = True
        self.output_shape = tuple(self.compute_output_shape(input_shape))
        return self.output_shape

    def _check_input_shape(self, shape: Shape) -> None:
        expected = self.input_shape
        if expected is None:
            return
        ok = len(shape) == len(expected) and all(
            e is None or s is None or e == s for e, s in zip(expected, shape))
        if not ok:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected shape "
                f"{(None, *expected)}, but received input with shape {(None, *shape)}."
            )

    def add_weight(self, name: str, shape: Sequence[int], initializer="glorot_uniform",
                   regularizer=None, trainable: bool = True) -> Variable:
        value = initializers.get(initializer)(tuple(shape)).to(torch.float32)
        var = Variable(f"{self.name}/{name}", value, trainable and self.trainable, regularizer)
        if not trainable:
            self._frozen_names.add(var.name)
        self._variables.append(var)
        return var

    @property
    def trainable(self) -> bool:
        """Whether fit updates this layer's weights. Setting it freezes or unfreezes them (call
        ``compile`` again afterwards, as in Keras); moving statistics are never trained."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for var in self._variables:
            var.trainable = self._trainable and var.name not in self._frozen_names

    # -- weights
    @property
    def weights(self) -> list[Variable]:
        return list(self._variables)

    @property
    def trainable_weights(self) -> list[Variable]:
        return [v for v in self._variables if v.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [v for v in self._variables if not v.trainable]

    def count_params(self) -> int:
        return sum(v.value.numel() for v in self._variables)

    def get_weights(self) -> list:
        return [v.numpy() for v in self._variables]

    def set_weights(self, weights: Sequence) -> None:
        assign_arrays(self._variables, weights, f"Layer '{self.name}'")

    # -- computing
    def call(self, x: torch.Tensor, ctx: CallContext) -> torch.Tensor:
        """The layer's forward pass as a pure function of ``x`` and ``ctx``."""
        return x

    def __call__(self, x, training: bool = False) -> torch.Tensor:
        """Apply the layer on its own (building it from ``x`` if needed)."""
        x = torch.as_tensor(x, dtype=torch.float32)
        self.build_for(tuple(x.shape[1:]))
        return self.call(x, CallContext(None, training=training))

    # -- configuration
    def get_config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {"name": self.name}
        if not self.trainable:
            cfg["trainable"] = False
        if self._input_shape_arg is not None:
            cfg["input_shape"] = list(self._input_shape_arg)
        return cfg

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def assign_arrays(variables: Sequence[Variable], arrays: Sequence, owner: str) -> None:
    """Set ``variables`` from arrays of the same shapes (copies; each stays on its device).
    Every shape is checked before any variable changes."""
    if len(arrays) != len(variables):
        raise ValueError(f"{owner} has {len(variables)} weight arrays; received {len(arrays)}.")
    tensors = [torch.as_tensor(np.asarray(a), dtype=torch.float32) for a in arrays]
    for var, t in zip(variables, tensors):
        if tuple(t.shape) != var.shape:
            raise ValueError(f"Weight '{var.name}' has shape {var.shape}; received an array of shape "
                             f"{tuple(t.shape)}.")
    for var, t in zip(variables, tensors):
        var.value = t.to(var.value.device).clone()


def regularizer_arg(value, name: str, where: str):
    """Resolve a regularizer argument, naming it in the error."""
    try:
        return _regularizers.get(value)
    except (TypeError, ValueError) as e:
        raise type(e)(f"Argument `{name}` of {where}: {e}") from None
