"""Optimizers by Keras name and class, as pure update functions.

An optimizer holds its hyperparameters and, once training starts, its state (moments per variable,
step count, learning rate). ``update(params, grads, state)`` returns new parameters and a new state
without changing its inputs, so the whole training step stays one pure function that can be compiled or
captured. Updates use torch's multi-tensor (``_foreach``) kernels: one kernel launch per operation
for all parameters, rather than one per parameter as a hand-written loop over ``torch.optim`` does.

The update formulas are Keras's, including where epsilon goes (e.g. Adam's epsilon is added to
sqrt(v) before bias correction, RMSprop's inside the square root).

>>> from regulab import optimizers
>>> opt = optimizers.get("adam")
>>> opt.learning_rate
0.001
"""
from __future__ import annotations

from typing import Sequence

import torch

from regulab._multi_tensor import Tensors, _in_place, _multi, _sqrt, _sub_scaled_ratio
from regulab._registry import Registry
from regulab._validation import check_float

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get", "serialize", "deserialize"]


class Optimizer:
    """Base class. Subclasses define ``_slots`` (per-parameter state) and ``_update``.

    An optimizer keeps one set of slots (moments) per variable it has updated, and its step count
    (``iterations``). ``fit`` hands them to the pure training step by the variables' paths and
    takes them back afterwards, so freezing some layers between fits keeps the moments of the
    weights that stay trainable. ``apply(grads, variables)`` updates variables directly, as in a
    Keras ``train_step``.

    Args:
        learning_rate: step size (a float >= 0; 0 is allowed, as warm-up schedules start there).
        weight_decay: decoupled weight decay (Loshchilov & Hutter, 2019): each step multiplies the
            weights by ``1 - learning_rate * weight_decay`` before the update. This is *not* L2
            regularization; use ``regularizers.l2`` for the lesson's penalty.
    """

    _slots: tuple[str, ...] = ()
    _default_lr = 0.001

    def __init__(self, learning_rate: float | None = None, weight_decay: float | None = None):
        name = type(self).__name__
        lr = self._default_lr if learning_rate is None else learning_rate
        self._learning_rate = check_float("learning_rate", lr, low=0.0, where=name)
        self.weight_decay = (None if weight_decay is None
                             else check_float("weight_decay", weight_decay, low=0.0, where=name))
        #: per-variable slots: {variable: {slot: tensor}}
        self.slots: dict = {}
        self._iterations: int | torch.Tensor = 0
        #: the model this optimizer was compiled with (a weak reference), set by ``compile``
        self.owner = None

    @property
    def learning_rate(self) -> float:
        return float(self._learning_rate)

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        value = check_float("learning_rate", value, low=0.0, where=type(self).__name__)
        lr = self._learning_rate
        # a tensor learning rate is a compiled step's: replace it by a new tensor, never a number,
        # so the compiled code does not change
        self._learning_rate = torch.full_like(lr, value) if isinstance(lr, torch.Tensor) else value

    @property
    def iterations(self) -> int:
        """Number of update steps applied so far."""
        return int(self._iterations)

    # -- per-variable state
    def slots_for(self, variables: Sequence) -> dict[str, list[torch.Tensor]]:
        """``{slot: [tensor per variable]}``: the kept slots, or fresh ones for variables not
        updated yet (kept only once ``store`` receives them)."""
        out: dict[str, list[torch.Tensor]] = {slot: [] for slot in self._slots}
        for var in variables:
            own = self.slots.get(var)
            if own is None or own.keys() != set(self._slots) or any(t.shape != var.value.shape for t in own.values()):
                own = {slot: torch.full_like(var.value.detach(), self._slot_init(slot)) for slot in self._slots}
            for slot in self._slots:
                out[slot].append(own[slot])
        return out

    def store(self, variables: Sequence, slots: dict, iterations, learning_rate=None) -> None:
        """Keep updated slots (``{slot: [tensor per variable]}``), step count and learning rate."""
        for i, var in enumerate(variables):
            self.slots[var] = {slot: values[i] for slot, values in slots.items()}
        self._iterations = iterations
        if learning_rate is not None:
            self._learning_rate = learning_rate

    def apply(self, grads: Sequence, variables: Sequence | None = None) -> None:
        """Update ``variables`` (``model.trainable_weights``) with ``grads`` in place, Keras-style:
        ``optimizer.apply(grads, model.trainable_weights)`` in a custom ``train_step``."""
        if variables is None:
            owner = self.owner() if self.owner is not None else None
            if owner is None:
                raise ValueError("optimizer.apply(grads) needs `variables` when the optimizer was not "
                                 "compiled with a model: pass apply(grads, model.trainable_weights).")
            variables = owner.trainable_weights
        variables = list(variables)
        grads = list(grads)
        if len(grads) != len(variables):
            raise ValueError(f"optimizer.apply received {len(grads)} gradients for {len(variables)} variables.")
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            return
        grads, variables = [g for g, _ in pairs], [v for _, v in pairs]
        state = {"lr": self._learning_rate, "t": self._iterations, **{
            slot: tuple(values) for slot, values in self.slots_for(variables).items()}}
        with torch.no_grad():
            params = [v.value.detach() for v in variables]
            new, new_state = self.update(params, [g.detach() for g in grads], state)
        for var, value in zip(variables, new):
            var.value = value
        self.store(variables, {slot: list(new_state[slot]) for slot in self._slots}, new_state["t"])

    def apply_gradients(self, grads_and_vars) -> None:
        """``apply`` from ``(gradient, variable)`` pairs (Keras 2's spelling)."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    # -- the pure update the training step runs
    def init_state(self, params: Sequence[torch.Tensor], scalar_tensors: bool = False) -> dict:
        """A fresh state in the form ``update`` takes: ``{"lr", "t", slot: tuple per param}``.
        ``scalar_tensors`` keeps the learning rate and step count as 0-d tensors (for compiled
        steps) instead of Python numbers (eager steps, where each tensor scalar op would cost a
        kernel launch)."""
        device = params[0].device if params else torch.device("cpu")
        state: dict = {"lr": float(self._learning_rate), "t": 0}
        if scalar_tensors:
            state = {k: torch.tensor(float(v), dtype=torch.float32, device=device) for k, v in state.items()}
        for slot in self._slots:
            state[slot] = tuple(torch.full_like(p, self._slot_init(slot)) for p in params)
        return state

    def _slot_init(self, slot: str) -> float:
        return 0.0

    def update(self, params: Tensors, grads: Tensors, state: dict, in_place: bool = False) -> tuple[Tensors, dict]:
        """One update: returns (new_params, new_state); the inputs are left unchanged, unless
        ``in_place`` (built-in optimizers only), which overwrites ``params`` and the slots of
        ``state`` with their new values and returns them."""
        t = state["t"] + 1
        lr = state["lr"]
        ops = _in_place if in_place else _multi
        if self.weight_decay:
            params = ops.mul_(params, 1.0 - lr * self.weight_decay)
        new_params, slots = self._update(params, grads, state, lr, t, ops) if in_place else \
            self._update(params, grads, state, lr, t)
        # tuples throughout, so a compiled step sees the same container types on every call
        new_state = {"lr": lr, "t": t, **{k: tuple(v) for k, v in slots.items()}}
        return new_params, new_state

    def _update(self, params, grads, state, lr, t, ops=_multi) -> tuple[Tensors, dict]:
        raise TypeError(f"{type(self).__name__} does not define `_update`; subclass one of "
                        f"SGD, Adam, AdamW, RMSprop or Adagrad, or define it.")

    def step_size(self, state: dict, index: int) -> torch.Tensor | float:
        """The effective per-element step size of parameter ``index`` in the update that produced
        ``state``; proximal L1 scales its threshold by it. Plain SGD: the learning rate."""
        return state["lr"]

    def get_config(self) -> dict:
        return {"learning_rate": float(self._learning_rate), "weight_decay": self.weight_decay}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, Keras's formulation.

    Args:
        learning_rate: default 0.01.
        momentum: in [0, 1], default 0.
        nesterov: use Nesterov momentum (Sutskever et al., 2013).
    """

    _default_lr = 0.01

    def __init__(self, learning_rate=None, momentum: float = 0.0, nesterov: bool = False, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0, where="SGD")
        self.nesterov = bool(nesterov)
        self._slots = ("velocity",) if self.momentum > 0 else ()

    # ``ops``: ``_multi`` (a pure function of its inputs) or ``_in_place``; ``x_`` names update
    # weights and slots, or fresh intermediates, never the gradients
    def _update(self, params, grads, state, lr, t, ops=_multi):
        if not self.momentum:
            if isinstance(lr, torch.Tensor):
                return ops.sub_(params, ops.mul(grads, lr)), {}
            return ops.add_(params, grads, alpha=-lr), {}
        # velocity = momentum * velocity - lr * g
        scaled = ops.mul(grads, lr)
        vel = ops.sub_(ops.mul_(state["velocity"], self.momentum), scaled)
        if self.nesterov:
            step = ops.sub_(ops.mul(vel, self.momentum), scaled)
        else:
            step = vel
        return ops.add_(params, step), {"velocity": vel}

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), Keras's defaults and formulation.

    Args:
        learning_rate: default 0.001.
        beta_1: default 0.9. beta_2: default 0.999. epsilon: default 1e-7.
    """

    _slots = ("m", "v")

    def __init__(self, learning_rate=None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        name = type(self).__name__
        self.beta_1 = check_float("beta_1", beta_1, low=0.0, high=1.0, high_open=True, where=name)
        self.beta_2 = check_float("beta_2", beta_2, low=0.0, high=1.0, high_open=True, where=name)
        self.epsilon = check_float("epsilon", epsilon, low=0.0, where=name)

    def _alpha(self, lr, t):
        return lr * _sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)

    def _update(self, params, grads, state, lr, t, ops=_multi):
        m = ops.lerp_(state["m"], grads, 1 - self.beta_1)
        v = ops.addcmul_(ops.mul_(state["v"], self.beta_2), grads, grads, value=1 - self.beta_2)
        denom = ops.add_(ops.sqrt(v), self.epsilon)
        return _sub_scaled_ratio(params, m, denom, self._alpha(lr, t), ops), {"m": m, "v": v}

    def step_size(self, state, index):
        return self._alpha(state["lr"], state["t"]) / (state["v"][index].sqrt() + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019); Keras's default decay 0.004."""

    def __init__(self, learning_rate=None, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay=weight_decay)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), Keras's formulation: epsilon inside the square root.

    Args:
        learning_rate: default 0.001. rho: default 0.9. momentum: default 0.
        epsilon: default 1e-7. centered: divide by the estimated variance instead of the raw moment.
    """

    def __init__(self, learning_rate=None, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.rho = check_float("rho", rho, low=0.0, high=1.0, high_open=True, where="RMSprop")
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0, where="RMSprop")
        self.epsilon = check_float("epsilon", epsilon, low=0.0, where="RMSprop")
        self.centered = bool(centered)
        self._slots = ("velocity",) + (("momentum",) if self.momentum > 0 else ()) + \
            (("average_gradient",) if self.centered else ())

    def _denominator(self, vel, avg, ops):
        shifted = ops.add(vel, self.epsilon) if avg is None else \
            ops.add_(ops.sub(vel, ops.mul(avg, avg)), self.epsilon)
        return ops.sqrt_(shifted)

    def _update(self, params, grads, state, lr, t, ops=_multi):
        vel = ops.lerp_(state["velocity"], ops.mul(grads, grads), 1 - self.rho)
        slots = {"velocity": vel}
        avg = None
        if self.centered:
            avg = slots["average_gradient"] = ops.lerp_(state["average_gradient"], grads, 1 - self.rho)
        denom = self._denominator(vel, avg, ops)
        if self.momentum <= 0:
            return _sub_scaled_ratio(params, grads, denom, lr, ops), slots
        inc = ops.mul_(ops.div(grads, denom), lr)
        inc = slots["momentum"] = ops.add_(ops.mul_(state["momentum"], self.momentum), inc)
        return ops.sub_(params, inc), slots

    def step_size(self, state, index):
        vel = state["velocity"][index]
        if self.centered:
            vel = vel - state["average_gradient"][index] ** 2
        return state["lr"] / torch.sqrt(vel + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), Keras's defaults (initial accumulator 0.1, epsilon 1e-7)."""

    _slots = ("accumulator",)

    def __init__(self, learning_rate=None, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.initial_accumulator_value = check_float(
            "initial_accumulator_value", initial_accumulator_value, low=0.0, where="Adagrad")
        self.epsilon = check_float("epsilon", epsilon, low=0.0, where="Adagrad")

    def _slot_init(self, slot):
        return self.initial_accumulator_value

    def _update(self, params, grads, state, lr, t, ops=_multi):
        acc = ops.add_(state["accumulator"], ops.mul(grads, grads))
        denom = ops.sqrt_(ops.add(acc, self.epsilon))
        return _sub_scaled_ratio(params, grads, denom, lr, ops), {"accumulator": acc}

    def step_size(self, state, index):
        return state["lr"] / torch.sqrt(state["accumulator"][index] + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


_CLASSES = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "RMSprop": RMSprop, "Adagrad": Adagrad}
_NAMES = {name.lower(): cls for name, cls in _CLASSES.items()}


_REGISTRY = Registry("optimizer", Optimizer, _NAMES, _CLASSES)
#: resolve a name (``'adam'``, ``'sgd'``, ...) or an instance to an optimizer
get = _REGISTRY.get
serialize = _REGISTRY.serialize
deserialize = _REGISTRY.deserialize


def describe(optimizer: Optimizer) -> dict:
    """The optimizer's kind and settings, for telling configurations apart; unlike ``serialize``
    it takes a user's own optimizer class too (by its full name)."""
    cls = type(optimizer)
    name = cls.__name__ if cls in _CLASSES.values() else f"{cls.__module__}.{cls.__qualname__}"
    return {"class_name": name, "config": optimizer.get_config()}


def fresh_copy(optimizer: Optimizer) -> Optimizer:
    """A new optimizer of the same class and settings, without state (rebuilt from ``get_config``)."""
    try:
        return type(optimizer)(**optimizer.get_config())
    except TypeError as err:
        raise TypeError(f"Cannot make a fresh copy of the optimizer {optimizer!r}: its class does not take its "
                        f"own get_config() as arguments ({err}). Define get_config() to return the "
                        f"arguments of {type(optimizer).__name__}(...).") from None
