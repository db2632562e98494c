"""``Variable``: one weight of a layer, its current value and what training needs to know of it."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


class Variable:
    """One weight of a layer.

    Attributes:
        name: ``layer/short_name`` (``dense_1/kernel``), the path of the weight in the layer alone;
            inside a model a variable's path is the chain of layer names down to it
            (``encoder/dense_1/kernel``), see ``Model.variable_paths``.
        value: the current tensor (trainable values become autograd leaves when a model is called
            eagerly with gradients on, so ``v.value.grad`` works after ``loss.backward()``).
        trainable: whether fit updates it (set through the owning layer's ``trainable``).
        regularizer: the penalty on it, or None.
        layer: the layer that created it.
    """

    __slots__ = ("name", "value", "trainable", "regularizer", "layer", "wants_grad", "__weakref__")

    def __init__(self, name: str, value: torch.Tensor, trainable: bool, regularizer=None, layer=None):
        self.name = name
        self.value = value
        self.trainable = trainable
        self.regularizer = regularizer
        self.layer = layer
        #: eager calls make the value an autograd leaf even outside training mode (set by
        #: ``Model.zero_grad``: a hand-written loop differentiates through plain calls)
        self.wants_grad = False

    @property
    def short_name(self) -> str:
        """The name within its layer (``kernel``)."""
        return self.name.rsplit("/", 1)[-1]

    @property
    def path(self) -> str:
        """The variable's path in its own layer (``dense_1/kernel``)."""
        return self.name

    @property
    def shape(self) -> tuple:
        return tuple(self.value.shape)

    @property
    def dtype(self) -> torch.dtype:
        return self.value.dtype

    def numpy(self):
        """A copy of the value as a NumPy array (never a view of the live weights)."""
        return self.value.detach().cpu().numpy().copy()

    def assign(self, value) -> None:
        """Replace the value (same shape), as Keras's ``variable.assign``."""
        t = torch.as_tensor(value, dtype=self.value.dtype)
        if tuple(t.shape) != self.shape:
            raise ValueError(f"Weight '{self.name}' has shape {self.shape}; received a value of shape "
                             f"{tuple(t.shape)}.")
        self.value = t.detach().to(self.value.device).clone()

    def __repr__(self) -> str:
        return f"<Variable {self.name} shape={self.shape} trainable={self.trainable}>"


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
