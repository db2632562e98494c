"""Activation functions by Keras name.

>>> import torch
>>> from regulab import activations
>>> activations.get("relu")(torch.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from regulab._validation import unknown_name


def linear(x: torch.Tensor) -> torch.Tensor:
    """Identity."""
    return x


def relu(x: torch.Tensor) -> torch.Tensor:
    """max(x, 0)."""
    return torch.relu(x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """1 / (1 + exp(-x))."""
    return torch.sigmoid(x)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(x)


def softmax(x: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, as Keras's default ``axis=-1``."""
    return torch.softmax(x, dim=-1)


def elu(x: torch.Tensor) -> torch.Tensor:
    """Exponential linear unit with alpha=1 (Clevert et al., 2016)."""
    return F.elu(x)


def selu(x: torch.Tensor) -> torch.Tensor:
    """Scaled ELU (Klambauer et al., 2017); pair it with AlphaDropout and lecun_normal."""
    return F.selu(x)


def gelu(x: torch.Tensor) -> torch.Tensor:
    """Gaussian error linear unit, exact form (Keras's default ``approximate=False``)."""
    return F.gelu(x)


def swish(x: torch.Tensor) -> torch.Tensor:
    """x * sigmoid(x), also called SiLU (Ramachandran et al., 2017)."""
    return F.silu(x)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU with Keras 3's default negative slope 0.2."""
    return F.leaky_relu(x, 0.2)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + exp(x))."""
    return F.softplus(x)


_REGISTRY: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "elu": elu, "selu": selu, "gelu": gelu, "swish": swish, "silu": swish,
    "leaky_relu": leaky_relu, "softplus": softplus,
}


def get(identifier) -> Callable[[torch.Tensor], torch.Tensor]:
    """Resolve ``None``, a name or a callable to an activation function."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _REGISTRY.get(identifier.lower())
        if fn is None:
            raise unknown_name("activation", identifier, _REGISTRY)
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"An activation must be a name or a callable. Received: {identifier!r}")


def serialize(fn: Callable) -> str:
    """The name under which ``fn`` is registered (for saving)."""
    for name, f in _REGISTRY.items():
        if f is fn:
            return name
    raise ValueError(
        f"Cannot save the custom activation {fn!r}: only named activations are saved "
        f"({', '.join(sorted(_REGISTRY))}). Use an Activation layer with a registered name."
    )
