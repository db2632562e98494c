"""Merge layers: combine a list of tensors into one (Keras's ``Concatenate``, ``Add``, ...).

Element-wise merges take inputs of one shape (axes of size 1 broadcast, as in Keras);
``Concatenate`` joins along one axis; ``Dot`` takes the batched dot product along given axes.

>>> import torch
>>> from regulab.layers import Add, Concatenate
>>> a, b = torch.ones(2, 3), torch.full((2, 3), 2.0)
>>> Add()([a, b])[0].tolist()
[3.0, 3.0, 3.0]
>>> Concatenate()([a, b]).shape
torch.Size([2, 6])
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from regulab._validation import check_int
from regulab.layers._base import Layer


class _Merge(Layer):
    """A layer of two or more inputs: ``call([x1, x2, ...], ctx)``."""

    min_inputs = 2
    max_inputs: int | None = None

    def _check_count(self, shapes) -> None:
        if not isinstance(shapes, list):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) should be called on a list of "
                             f"inputs. Received: input_shape={(None, *shapes)}")
        n = len(shapes)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            want = f"exactly {self.max_inputs}" if self.max_inputs == self.min_inputs else f"at least {self.min_inputs}"
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) should be called on {want} inputs. "
                             f"Received: {n} input(s).")

    def build(self, input_shape) -> None:
        self._check_count(input_shape)
        self.compute_output_shape(input_shape)


class _Elementwise(_Merge):
    def compute_output_shape(self, input_shape):
        self._check_count(input_shape)
        out = list(input_shape[0])
        for shape in input_shape[1:]:
            if len(shape) != len(out):
                raise ValueError(_mismatch(self, input_shape))
            for i, (a, b) in enumerate(zip(out, shape)):
                if a is None or b is None:
                    out[i] = a if b is None else b
                elif a != b and 1 not in (a, b):
                    raise ValueError(_mismatch(self, input_shape))
                else:
                    out[i] = max(a, b)
        return tuple(out)

    def stacks(self) -> bool:
        return True  # elementwise, with broadcasting between inputs of one rank

    def _op(self, a, b):
        raise TypeError(f"{type(self).__name__} does not define `_op`.")

    def call(self, inputs, ctx):
        out = inputs[0]
        for x in inputs[1:]:
            out = self._op(out, x)
        return out


def _mismatch(layer, shapes) -> str:
    return (f"Inputs of layer '{layer.name}' ({type(layer).__name__}) must have the same shape (axes of size 1 "
            f"broadcast). Received: input shapes {[(None, *s) for s in shapes]}")


class Add(_Elementwise):
    """Sum of its inputs."""

    def _op(self, a, b):
        return a + b


class Subtract(_Elementwise):
    """``x1 - x2`` for exactly two inputs."""

    max_inputs = 2

    def _op(self, a, b):
        return a - b


class Multiply(_Elementwise):
    """Element-wise product of its inputs."""

    def _op(self, a, b):
        return a * b


class Maximum(_Elementwise):
    """Element-wise maximum of its inputs."""

    def _op(self, a, b):
        return torch.maximum(a, b)


class Minimum(_Elementwise):
    """Element-wise minimum of its inputs."""

    def _op(self, a, b):
        return torch.minimum(a, b)


class Average(_Elementwise):
    """Element-wise mean of its inputs."""

    def _op(self, a, b):
        return a + b

    def call(self, inputs, ctx):
        return super().call(inputs, ctx) / len(inputs)


class Concatenate(_Merge):
    """Joins its inputs along ``axis`` (default -1, the features); the other axes must agree.

    Args:
        axis: the axis to join along, counting the batch axis as 0.
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_int("axis", axis, where="Concatenate")

    def compute_output_shape(self, input_shape):
        self._check_count(input_shape)
        rank = len(input_shape[0]) + 1
        if any(len(s) + 1 != rank for s in input_shape) or not (-rank <= self.axis < rank) or self.axis % rank == 0:
            raise ValueError(self._error(input_shape))
        ax = self.axis % rank - 1
        out = list(input_shape[0])
        total = 0
        for shape in input_shape:
            for i, (a, b) in enumerate(zip(out, shape)):
                if i != ax and a is not None and b is not None and a != b:
                    raise ValueError(self._error(input_shape))
            total = None if total is None or shape[ax] is None else total + shape[ax]
        out[ax] = total
        return tuple(out)

    def _error(self, shapes) -> str:
        return (f"A `Concatenate` layer ('{self.name}') requires inputs with matching shapes except for the "
                f"concatenation axis (axis={self.axis}). Received: input shapes {[(None, *s) for s in shapes]}")

    def stacks(self) -> bool:
        return self.axis < 0  # counted from the end, the axis is the same with the variants' in front

    def call(self, inputs, ctx):
        return torch.cat(list(inputs), dim=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Batched dot product of two inputs along ``axes`` (Keras's ``batch_dot``): the output has
    the remaining axes of the first input, then those of the second; ``(batch,)`` becomes
    ``(batch, 1)``.

    Args:
        axes: one axis for both inputs, or a pair; counting the batch axis as 0.
        normalize: L2-normalize along the dot axes first (the dot product is then the cosine
            similarity).
    """

    max_inputs = 2

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        pair = tuple(axes) if isinstance(axes, (list, tuple)) else (axes, axes)
        if len(pair) != 2:
            raise ValueError(f"Invalid value for argument `axes` of Dot: expected an integer or a pair of "
                             f"integers. Received: axes={axes!r}")
        self.axes = tuple(check_int("axes", a, where="Dot") for a in pair)
        self.normalize = bool(normalize)

    def _resolved(self, shapes):
        out = []
        for a, s in zip(self.axes, shapes):
            rank = len(s) + 1
            if not -rank <= a < rank or a % rank == 0:
                raise ValueError(f"Invalid value for argument `axes` of Dot: axis {a} is not a feature axis of "
                                 f"inputs of shape {(None, *s)}.")
            out.append(a % rank)
        return out

    def compute_output_shape(self, input_shape):
        self._check_count(input_shape)
        (a1, a2), (s1, s2) = self._resolved(input_shape), input_shape
        if s1[a1 - 1] is not None and s2[a2 - 1] is not None and s1[a1 - 1] != s2[a2 - 1]:
            raise ValueError(f"Layer '{self.name}' (Dot) needs inputs of equal size along the dot axes. Received: "
                             f"input shapes {[(None, *s) for s in input_shape]} with axes={list(self.axes)}")
        rest = [d for i, d in enumerate(s1) if i != a1 - 1] + [d for i, d in enumerate(s2) if i != a2 - 1]
        return tuple(rest) if rest else (1,)

    def call(self, inputs, ctx):
        x1, x2 = inputs
        a1, a2 = self._resolved([tuple(x1.shape[1:]), tuple(x2.shape[1:])])
        if self.normalize:
            x1, x2 = F.normalize(x1, dim=a1), F.normalize(x2, dim=a2)
        b, n = x1.shape[0], x1.shape[a1]
        left = x1.movedim(a1, -1)
        right = x2.movedim(a2, 1)
        rest1, rest2 = left.shape[1:-1], right.shape[2:]
        out = torch.bmm(left.reshape(b, -1, n), right.reshape(b, n, -1))
        out = out.reshape(b, *rest1, *rest2)
        return out.reshape(b, 1) if out.dim() == 1 else out

    def get_config(self):
        return {**super().get_config(), "axes": list(self.axes), "normalize": self.normalize}


def concatenate(inputs, axis: int = -1, **kwargs):
    """Functional form of :class:`Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    """Functional form of :class:`Add`."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of :class:`Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of :class:`Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of :class:`Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of :class:`Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of :class:`Minimum`."""
    return Minimum(**kwargs)(inputs)


def dot(inputs, axes=-1, normalize: bool = False, **kwargs):
    """Functional form of :class:`Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
