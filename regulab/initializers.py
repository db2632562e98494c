"""Weight initializers by Keras name, drawing from torch's global generator.

``regulab.set_random_seed(s)`` (or ``torch.manual_seed``) makes them repeatable.

>>> import torch
>>> from regulab import initializers
>>> w = initializers.get("glorot_uniform")((100, 64))
>>> bool(w.abs().max() <= (6 / 164) ** 0.5)
True
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

from regulab._validation import unknown_name

Initializer = Callable[[Sequence[int]], torch.Tensor]


def _fans(shape: Sequence[int]) -> tuple[int, int]:
    # Keras convention: kernels are (..., fan_in, fan_out); conv kernels (*spatial, in, out).
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def zeros(shape: Sequence[int]) -> torch.Tensor:
    return torch.zeros(tuple(shape))


def ones(shape: Sequence[int]) -> torch.Tensor:
    return torch.ones(tuple(shape))


def glorot_uniform(shape: Sequence[int]) -> torch.Tensor:
    """U(-l, l) with l = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return torch.empty(tuple(shape)).uniform_(-limit, limit)


def glorot_normal(shape: Sequence[int]) -> torch.Tensor:
    fan_in, fan_out = _fans(shape)
    return _truncated_normal(shape, math.sqrt(2.0 / (fan_in + fan_out)))


def he_uniform(shape: Sequence[int]) -> torch.Tensor:
    fan_in, _ = _fans(shape)
    limit = math.sqrt(6.0 / fan_in)
    return torch.empty(tuple(shape)).uniform_(-limit, limit)


def he_normal(shape: Sequence[int]) -> torch.Tensor:
    fan_in, _ = _fans(shape)
    return _truncated_normal(shape, math.sqrt(2.0 / fan_in))


def lecun_normal(shape: Sequence[int]) -> torch.Tensor:
    fan_in, _ = _fans(shape)
    return _truncated_normal(shape, math.sqrt(1.0 / fan_in))


def _truncated_normal(shape: Sequence[int], std: float) -> torch.Tensor:
    # Keras's variance-scaling normal: truncated at two standard deviations, rescaled so the
    # variance is std**2 (0.87962566 is the std of a unit normal truncated to [-2, 2]).
    t = torch.empty(tuple(shape))
    torch.nn.init.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0)
    return t * (std / 0.87962566103423978)


def lecun_uniform(shape: Sequence[int]) -> torch.Tensor:
    fan_in, _ = _fans(shape)
    limit = math.sqrt(3.0 / fan_in)
    return torch.empty(tuple(shape)).uniform_(-limit, limit)


def random_uniform(shape: Sequence[int]) -> torch.Tensor:
    """U(-0.05, 0.05): Keras's ``RandomUniform()`` defaults (``'uniform'``, Embedding's default)."""
    return torch.empty(tuple(shape)).uniform_(-0.05, 0.05)


def random_normal(shape: Sequence[int]) -> torch.Tensor:
    """N(0, 0.05**2): Keras's ``RandomNormal()`` defaults (``'normal'``)."""
    return torch.empty(tuple(shape)).normal_(0.0, 0.05)


def orthogonal(shape: Sequence[int]) -> torch.Tensor:
    """A random orthogonal matrix (Saxe et al., 2014), Keras's default for recurrent kernels.

    The shape is read as (prod(shape[:-1]), shape[-1]); the Q of a QR decomposition of a normal
    matrix, with the signs fixed by R's diagonal so that the distribution is uniform (Haar).

    >>> w = orthogonal((16, 16))
    >>> bool(torch.allclose(w.T @ w, torch.eye(16), atol=1e-5))
    True
    """
    if len(shape) < 2:
        raise ValueError(f"The orthogonal initializer needs a shape of at least 2 axes. Received: shape={tuple(shape)}")
    rows, cols = math.prod(shape[:-1]), shape[-1]
    a = torch.randn(max(rows, cols), min(rows, cols))
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r))
    if rows < cols:
        q = q.T
    return q.reshape(tuple(shape)).contiguous()


_REGISTRY: dict[str, Initializer] = {
    "zeros": zeros, "ones": ones, "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal,
    "he_uniform": he_uniform, "he_normal": he_normal, "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform, "uniform": random_uniform, "random_uniform": random_uniform,
    "normal": random_normal, "random_normal": random_normal, "orthogonal": orthogonal,
}


def get(identifier) -> Initializer:
    """Resolve a name or a callable ``shape -> tensor`` to an initializer."""
    if isinstance(identifier, str):
        fn = _REGISTRY.get(identifier.lower())
        if fn is None:
            raise unknown_name("initializer", identifier, _REGISTRY)
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"An initializer must be a name or a callable. Received: {identifier!r}")


def serialize(fn: Initializer) -> str:
    for name, f in _REGISTRY.items():
        if f is fn:
            return name
    raise ValueError(f"Cannot save the custom initializer {fn!r}; use one of {', '.join(_REGISTRY)}.")
