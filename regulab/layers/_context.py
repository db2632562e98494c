"""``CallContext``: what one forward pass runs with.

A layer computes its output with ``call(x, ctx)`` as a pure function: it reads its weights through
``ctx[variable]``, draws randomness from ``ctx`` and reports state updates (BatchNorm's moving
statistics) and activity penalties to ``ctx`` instead of changing anything. ``ctx`` maps each
variable to a tensor through the model's variable paths (``encoder/dense_1/kernel``): the values
are a ``{path: tensor}`` mapping, the training state's own shape, so the same ``call`` serves
eager training, compiled and stacked steps, and inference.
"""
from __future__ import annotations

import threading
import zlib
from contextlib import contextmanager
from typing import Mapping

import torch

from regulab import _random

#: layer streams lie below this; layers with their own ``seed`` use streams above it
STREAM_SPACE = (1 << 24) - 1


def path_stream(path: str) -> int:
    """The random stream of the layer at ``path`` (a hash below ``STREAM_SPACE``)."""
    return zlib.crc32(path.encode()) % STREAM_SPACE


class MissingVariableError(KeyError):
    """A layer asked for a variable the state of this call does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class CallContext:
    """The tensors, mode and randomness of one forward pass.

    Attributes:
        values: ``{path: tensor}`` for the model's variables.
        paths: ``{Variable: path}``: where each variable's tensor lies in ``values``.
        streams: ``{Layer: int}``: each layer's random stream (from its path).
        training: training mode (BatchNorm uses batch statistics, augmentation layers act).
        stochastic: noise layers (dropout and friends) are active; equals ``training`` except for
            Monte-Carlo dropout, which turns noise on while BatchNorm stays in inference mode.
        key: 32-bit random key (int or int64 tensor) for this pass; layers derive their own stream.
        updates: new values for non-trainable variables, by path.
        penalties: activity-regularization terms added to the loss.
        checked_inputs: layers whose input the caller has checked already (Embedding's indices,
            checked once per fit rather than once per batch).
        hyper_values, hyper_paths: the training state's hyper-parameters (``{path: value}``)
            and where each layer's lie (``{(layer, attribute): path}``); see :meth:`hyper`.
    """

    __slots__ = ("values", "paths", "streams", "training", "stochastic", "key", "updates", "penalties",
                 "checked_inputs", "hyper_values", "hyper_paths", "_draws")

    #: the number of variants stacked on every tensor's leading axis (``VariantContext``), else None
    variants = None

    def __init__(self, values: Mapping[str, torch.Tensor], paths: Mapping, streams: Mapping | None = None,
                 training: bool = False, key=0, stochastic: bool | None = None, checked_inputs=frozenset(),
                 hyper_values: Mapping | None = None, hyper_paths: Mapping | None = None):
        self.values = values
        self.paths = paths
        self.streams = streams or {}
        self.training = training
        self.stochastic = training if stochastic is None else stochastic
        self.key = key
        self.updates: dict[str, torch.Tensor] = {}
        self.penalties: list[torch.Tensor] = []
        self.checked_inputs = checked_inputs
        self.hyper_values = hyper_values
        self.hyper_paths = hyper_paths
        self._draws: dict = {}

    def hyper(self, layer, name: str, like=None):
        """The value of ``layer``'s hyper-parameter ``name`` in this pass: the training state's
        (a Python number eagerly, a tensor in compiled and stacked steps), else the attribute.
        ``like``: the tensor it will be broadcast against (``VariantContext`` shapes its values
        for it)."""
        if self.hyper_paths:
            path = self.hyper_paths.get((layer, name))
            if path is not None:
                return self.hyper_values[path]
        return getattr(layer, name)

    def _missing(self, var) -> MissingVariableError:
        owner = getattr(var.layer, "name", "?")
        return MissingVariableError(
            f"Layer '{owner}' asked for its variable '{var.name}', which the state of this call does "
            f"not hold (it holds {len(self.values)} variables). The layer was called inside a model it "
            f"is not part of: add it to the model (as a layer or an attribute of a subclassed model).")

    def _path(self, var) -> str:
        path = self.paths.get(var)
        if path is None or path not in self.values:
            raise self._missing(var)
        return path

    def __getitem__(self, var) -> torch.Tensor:
        try:  # one look-up each way: this runs for every weight of every step
            return self.values[self.paths[var]]
        except KeyError:
            raise self._missing(var) from None

    def adopt(self, layer) -> None:
        """Take in the variables ``layer`` created while this call ran (a subclassed model builds
        its layers on its first call): they are read at their current values."""
        for v in layer.weights:
            if v not in self.paths:
                path = f"~{v.name}"
                self.paths[v] = path
                self.values[path] = v.value

    def assign(self, var, value: torch.Tensor) -> None:
        """Report a new value for a non-trainable variable (applied after the step)."""
        self.updates[self._path(var)] = value

    def stream(self, layer) -> int:
        """``layer``'s random stream for its next draw in this pass: its path's stream for the
        first draw, a stream derived from it for each further one (a layer called twice in one
        model draws two different masks)."""
        base = self.streams.get(layer)
        if base is None:
            base = path_stream(layer.name)
        n = self._draws.get(layer, 0)
        self._draws[layer] = n + 1
        return base if n == 0 else _random.fold_in(base, n) % STREAM_SPACE

    def uniform(self, shape, stream: int, device) -> torch.Tensor:
        return _random.uniform(_random.fold_in(self.key, stream), shape, device)

    def normal(self, shape, stream: int, device) -> torch.Tensor:
        return _random.normal(_random.fold_in(self.key, stream), shape, device)


class VariantContext(CallContext):
    """One pass of V stacked variants of a model at once, without mapping: every weight is
    ``(V, *shape)``, every input ``(V, B, ...)``, the key ``(V,)`` and every hyper-parameter
    ``(V,)``. Only layers whose ``stacks()`` is true run in it; they read ``variants`` to treat
    the leading axis as the variants' (Dense multiplies batch by batch) and pass ``like=`` to
    ``hyper``. Each variant's slice of the result is what its own ``CallContext`` gives, random
    draws included: row ``v`` of a draw is the one key ``v`` alone makes.

    >>> import torch
    >>> ctx = VariantContext({}, {}, training=True, key=torch.tensor([7, 8]), variants=2)
    >>> one = CallContext({}, {}, training=True, key=torch.tensor(8))
    >>> bool((ctx.uniform((2, 3, 4), 5, None)[1] == one.uniform((3, 4), 5, None)).all())
    True
    """

    __slots__ = ("variants",)

    def __init__(self, *args, variants: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.variants = variants

    def hyper(self, layer, name: str, like=None):
        value = super().hyper(layer, name)
        if like is not None and isinstance(value, torch.Tensor) and value.dim() == 1:
            return value.reshape(-1, *([1] * (like.dim() - 1)))
        return value

    # ``shape`` includes the variant axis: each variant draws its own ``shape[1:]``
    def uniform(self, shape, stream: int, device) -> torch.Tensor:
        return _random.uniform(_random.fold_in(self.key, stream), tuple(shape)[1:], device)

    def normal(self, shape, stream: int, device) -> torch.Tensor:
        return _random.normal(_random.fold_in(self.key, stream), tuple(shape)[1:], device)


_active = threading.local()


def active_context() -> CallContext | None:
    """The context of the model call running on this thread, if any (a subclassed model's
    ``call`` invokes its layers as plain functions; they find the context here)."""
    return getattr(_active, "ctx", None)


@contextmanager
def activate(ctx: CallContext):
    previous = getattr(_active, "ctx", None)
    _active.ctx = ctx
    try:
        yield ctx
    finally:
        _active.ctx = previous


@contextmanager
def gradient_scope():
    """While a user's ``train_step`` runs, eager calls track gradients of trainable weights."""
    previous = getattr(_active, "grads", False)
    _active.grads = True
    try:
        yield
    finally:
        _active.grads = previous


def in_gradient_scope() -> bool:
    return getattr(_active, "grads", False)


def fresh_key() -> int:
    """A 31-bit key from torch's global generator (so ``regulab.set_random_seed`` repeats it):
    each eager call in training mode draws new masks."""
    return int(torch.randint(0, 2**31 - 1, ()))
