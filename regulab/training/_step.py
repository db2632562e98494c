"""The training step as one pure function.

``train_step(params, buffers, opt_state, x, y, w, key) -> (params, buffers, opt_state, stats)``:
parameters, non-trainable buffers (BatchNorm's moving statistics), optimizer state, one batch and a
random key in; the new state and the batch's additive statistics (loss and metric sums) out. Nothing
else is read or written, so the same function runs eagerly here and can be compiled or captured as a
graph, or mapped over stacked model variants, without touching the layers.

``stats`` layout: ``[Σ w·loss, B·penalty, Σ w, *metric_stats]`` for a batch of B samples; the loop
adds these vectors on the device and divides once per epoch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from regulab import _random, activations
from regulab.augment import SparseMix
from regulab.layers import CallContext, Variable
from regulab.losses import Loss
from regulab.metrics import Metric
from regulab.optimizers import Optimizer

Tensors = list[torch.Tensor]
_MIX_STREAM = (1 << 24) - 1  # the random stream of batch mixing, apart from every layer's


@dataclass
class StepSpec:
    """Everything static a step needs: the model's forward, loss, metrics and optimizer, and which
    variables are trained. Built once per fit; tensors never live here."""

    forward: Callable[[torch.Tensor, CallContext, bool], torch.Tensor]
    loss: Loss
    metrics: Sequence[Metric]
    optimizer: Optimizer | None
    trainable: Sequence[Variable]
    buffers: Sequence[Variable]
    #: run the output layer without its sigmoid/softmax and give the loss logits (stable path)
    forward_logits: bool = False
    #: the loss receives logits (either from the stable path or because ``from_logits=True``)
    loss_logits: bool = False
    #: applied to the output before metrics see it (the activation the loss applies itself)
    metric_activation: Callable = activations.linear
    penalized: list = field(default_factory=list)   # (position in trainable, regularizer)
    frozen_penalized: list = field(default_factory=list)  # (position in buffers, regularizer)
    proximal: list = field(default_factory=list)    # (position in trainable, l1 factor)
    #: ``mix(x, y, key) -> (x, y)`` applied to each training batch (mixup, cutmix), or None
    batch_mix: Callable | None = None

    @classmethod
    def build(cls, forward, loss, metrics, optimizer, variables, output_activation):
        """``output_activation``: the model's last activation function."""
        trainable = [v for v in variables if v.trainable]
        buffers = [v for v in variables if not v.trainable]
        # values are passed as params + buffers, so a variable's index is its position there
        for i, v in enumerate(trainable + buffers):
            v.index = i
        penalized = [(i, v.regularizer) for i, v in enumerate(trainable) if v.regularizer is not None]
        wanted = loss.logits_activation
        stable = (wanted is not None and not loss.from_logits
                  and output_activation is activations.get(wanted))
        loss_logits = stable or (wanted is not None and loss.from_logits)
        metric_activation = activations.get(wanted) if loss_logits else activations.linear
        return cls(forward, loss, list(metrics), optimizer, trainable, buffers, stable, loss_logits,
                   metric_activation, penalized,
                   [(i, v.regularizer) for i, v in enumerate(buffers) if v.regularizer is not None],
                   [(i, r.prox_l1) for i, r in penalized if r.prox_l1 > 0])

    #: some layer penalizes its output (activity regularization)
    has_activity: bool = False

    @property
    def has_penalties(self) -> bool:
        return bool(self.penalized or self.frozen_penalized or self.has_activity)

    @property
    def n_stats(self) -> int:
        return 3 + sum(m.n_stats for m in self.metrics)


def _penalty_report(spec: StepSpec, params, buffers):
    """The full penalty of the current weights (what ``loss`` adds to the data term), without
    building a graph: gradients of built-in penalties are added in closed form instead."""
    total = None
    for i, reg in spec.penalized:
        total = reg(params[i]) if total is None else total + reg(params[i])
    for i, reg in spec.frozen_penalized:
        total = reg(buffers[i]) if total is None else total + reg(buffers[i])
    return total


def _data_sum(spec: StepSpec, out, y, w):
    """Σ w·loss over the batch (the batch loss times the batch size, as Keras reduces it)."""
    if isinstance(y, SparseMix):  # mixed integer labels: the weighted pair of losses
        per = y.loss(lambda t, p: spec.loss.per_sample(t, p, logits=spec.loss_logits), out)
    else:
        per = spec.loss.per_sample(y, out, logits=spec.loss_logits)
    if w is not None:
        per = per * w.reshape(-1, *([1] * (per.dim() - 1)))
    return per.sum()


class _Constants:
    """Cached 0-d tensors for the statistics vector (no allocation per step)."""

    def __init__(self):
        self._cache: dict = {}

    def __call__(self, value: float, device) -> torch.Tensor:
        key = (value, device)
        t = self._cache.get(key)
        if t is None:
            t = self._cache[key] = torch.tensor(float(value), device=device)
        return t


def _batch_stats(spec: StepSpec, const: _Constants, out, y, w, data_sum, penalty) -> torch.Tensor:
    """[Σ w·loss, B·penalty, Σ w, *metric stats] for one batch."""
    b = out.shape[0]
    pen = const(0.0, out.device) if penalty is None else penalty * b
    wsum = const(b, out.device) if w is None else w.sum()
    head = torch.stack([data_sum, pen, wsum])
    if not spec.metrics:
        return head
    pred = spec.metric_activation(out)
    return torch.cat([head, *[m.batch_stats(y, pred, w) for m in spec.metrics]])


def _objective(spec: StepSpec, autograd_penalized, params, buffers, x, y, w, key):
    """The minimized objective and what the update needs besides its gradient.

    Returns ``(objective, (out, data_sum, updates, activity, y))``: outputs, Σ w·loss, new values
    of non-trainable variables by index, the activity penalty (or None) and the labels metrics
    should see (the dominant label of each mixed pair under mixup/cutmix).
    """
    if spec.batch_mix is not None:
        x, y = spec.batch_mix(x, y, _random.fold_in(key, _MIX_STREAM))
    ctx = CallContext(list(params) + list(buffers), training=True, key=key)
    out = spec.forward(x, ctx, spec.forward_logits)
    data_sum = _data_sum(spec, out, y, w)
    objective = data_sum / out.shape[0]
    for i, reg in autograd_penalized:
        term = reg.gradient_penalty(params[i])
        if term is not None:
            objective = objective + term
    activity = None
    for term in ctx.penalties:
        objective = objective + term
        activity = term if activity is None else activity + term
    if isinstance(y, SparseMix):
        y = torch.where(y.lam >= 0.5, y.y_a, y.y_b)
    return objective, (out, data_sum, ctx.updates, activity, y)


def _apply_update(spec: StepSpec, closed_form, const, params, buffers, opt_state, grads, aux, w):
    """Everything after the gradient: closed-form penalty gradients, the optimizer, proximal L1,
    new buffers and the batch's statistics."""
    optimizer = spec.optimizer
    out, data_sum, updates, activity, y = aux
    grads = list(grads)
    penalty = _penalty_report(spec, params, buffers)
    if activity is not None:
        activity = activity.detach()
        penalty = activity if penalty is None else penalty + activity
    for i, reg in closed_form:
        grads[i] = reg.add_gradient(grads[i], params[i])
    new_params, new_opt_state = optimizer.apply(list(params), grads, opt_state)
    new_params = list(new_params)
    for i, lam in spec.proximal:
        # soft-thresholding with each weight's own step size: Adam's per-parameter steps make a
        # single lr * lambda threshold far too small to ever reach zero
        p = new_params[i]
        thresh = lam * optimizer.step_size(new_opt_state, i)
        new_params[i] = torch.sign(p) * torch.clamp(p.abs() - thresh, min=0.0)
    new_buffers = list(buffers)
    offset = len(params)
    for index, value in updates.items():
        new_buffers[index - offset] = value.detach()
    stats = _batch_stats(spec, const, out.detach(), y, w, data_sum.detach(), penalty)
    return new_params, new_buffers, new_opt_state, stats


def _split_penalties(spec: StepSpec):
    """(closed-form, differentiated) penalized weights: built-in penalties know their gradient."""
    closed = [(i, r) for i, r in spec.penalized if r.add_gradient(torch.zeros(1), torch.zeros(1)) is not None]
    return closed, [(i, r) for i, r in spec.penalized if (i, r) not in closed]


def make_train_step(spec: StepSpec):
    """Return the eager training step for ``spec`` (see the module docstring for its signature).

    Gradients come from ``torch.autograd.grad``, the cheapest way eagerly; the compiled engine
    runs the same objective and update under ``torch.func`` instead.
    """
    const = _Constants()
    closed_form, autograd_pen = _split_penalties(spec)

    def train_step(params: Tensors, buffers: Tensors, opt_state: dict, x, y, w, key):
        leaves = [p.detach().requires_grad_() for p in params]
        with torch.enable_grad():
            objective, aux = _objective(spec, autograd_pen, leaves, buffers, x, y, w, key)
            grads = torch.autograd.grad(objective, leaves)
        with torch.no_grad():
            return _apply_update(spec, closed_form, const, params, buffers, opt_state, grads, aux, w)

    return train_step


def make_eval_step(spec: StepSpec, fill=None):
    """``eval_step(params, buffers, x, y, w) -> stats`` in inference mode. Activity penalties are
    in the stats; the weights' penalty is not (the caller adds it once: it does not change between
    batches). ``fill(value, device)`` makes the constant entries (cached tensors by default; a
    compiled step makes them inside the graph, where the batch size may be a symbol)."""

    const = fill or _Constants()

    # no_grad inside rather than as a decorator: torch.compile wraps functions whose code lies in
    # torch (the decorator's) in one shared frame, which would count every model's step against
    # Dynamo's recompile limit (see compile_step)
    def eval_step(params: Tensors, buffers: Tensors, x, y, w):
        with torch.no_grad():
            ctx = CallContext(list(params) + list(buffers), training=False)
            out = spec.forward(x, ctx, spec.forward_logits)
            activity = sum(ctx.penalties) if ctx.penalties else None
            return _batch_stats(spec, const, out, y, w, _data_sum(spec, out, y, w), activity)

    return eval_step


@torch.no_grad()
def penalty_value(spec: StepSpec, params: Tensors, buffers: Tensors) -> float:
    """The full regularization penalty of the current weights (what ``loss`` adds to the data term)."""
    total = _penalty_report(spec, params, buffers)
    return 0.0 if total is None else float(total)
