"""The training step as one pure function.

``train_step(state, batch, key) -> (state, stats)``: the training state by path (``_state.py``),
one batch ``(x, y, w)`` and a random key in; the new state and the batch's additive statistics
(loss and metric sums) out. Nothing else is read or written, so the same function runs eagerly
here and can be compiled or captured as a graph, or mapped over stacked model variants, without
touching the layers.

``stats`` layout: ``[Σ w·loss, B·penalty, Σ w, *per-output loss sums, *metric_stats]`` for a batch
of B samples (per-output sums only where several outputs have a loss); the loop adds these vectors
on the device and divides once per epoch.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from regulab import _random, activations
from regulab.augment import SparseMix
from regulab.layers import CallContext
from regulab.losses import Loss
from regulab.metrics import Metric
from regulab.optimizers import Optimizer
from regulab.training._batch_mix import MIX_ALPHA, MIX_STREAM
from regulab.training._batch_stats import Constants, _batch_size, _batch_stats, _outputs_and_targets  # noqa: F401
from regulab.training._state import LEARNING_RATE, OPTIMIZER, Structure, TrainState

Tensors = list[torch.Tensor]


@dataclass
class Head:
    """One trained output: its loss, weight and metrics, and how its values reach them."""

    name: str
    index: int  # position among the model's outputs
    loss: Loss
    weight: float
    metrics: Sequence[Metric]
    #: run the output layer without its sigmoid/softmax and give the loss logits (stable path)
    forward_logits: bool = False
    #: the loss receives logits (either from the stable path or because ``from_logits=True``)
    loss_logits: bool = False
    #: applied to the output before metrics see it (the activation the loss applies itself)
    metric_activation: Callable = activations.linear
    #: ``{loss attribute: hyper path}`` of the loss's hyper-parameters (label smoothing)
    hyper: dict = field(default_factory=dict)

    @classmethod
    def build(cls, name, index, loss, weight, metrics, output_activation):
        wanted = loss.logits_activation
        stable = (wanted is not None and not loss.from_logits
                  and output_activation is activations.get(wanted))
        loss_logits = stable or (wanted is not None and loss.from_logits)
        metric_activation = activations.get(wanted) if loss_logits else activations.linear
        return cls(name, index, loss, float(weight), list(metrics), stable, loss_logits, metric_activation)


@dataclass
class StepSpec:
    """Everything static a step needs: the model's forward, its structure, the outputs' losses and
    metrics, and the optimizer. Built once per fit; tensors never live here."""

    forward: Callable  # forward(x, ctx, logits) -> output tensor, or a list for several outputs
    structure: Structure
    heads: list[Head]
    optimizer: Optimizer | None
    #: the model has one output (forward returns a tensor; targets are one tensor)
    single: bool = True
    penalized: list = field(default_factory=list)         # (position in trainable, regularizer)
    frozen_penalized: list = field(default_factory=list)  # (buffer path, regularizer)
    proximal: list = field(default_factory=list)          # (position in trainable, hyper path of its l1)
    #: the fit's mixing of training batches (``_batch_mix.BatchMix``: mixup, cutmix), or None
    batch_mix: Callable | None = None
    #: some layer penalizes its output (activity regularization)
    has_activity: bool = False
    n_outputs: int = 1
    #: every layer of the model runs with stacked variants on a leading axis (``Layer.stacks``)
    stacks: bool = False

    def __post_init__(self):
        paths = self.structure.trainable_paths

        def take_traced(values: dict) -> tuple:
            return tuple([values[p] for p in paths])

        # the values of the trainable paths as a tuple: one C call eagerly (itemgetter; of a
        # single key it returns the value, not a tuple), a comprehension where Dynamo or vmap
        # trace the step (Dynamo does not trace itemgetter objects)
        self.take_traced = take_traced
        self.take_trainable = operator.itemgetter(*paths) if len(paths) > 1 else take_traced
        self.has_metrics = any(h.metrics for h in self.heads)

    @property
    def trains_every_output(self) -> bool:
        """Every output has a loss, so every trained weight gets a gradient."""
        return len(self.heads) == self.n_outputs

    @classmethod
    def build(cls, forward, structure: Structure, heads: list[Head], optimizer, single: bool, n_outputs: int = 1):
        for head in heads:  # the losses' hyper-parameters are state too
            for attr in type(head.loss).hyper_parameters:
                # by the output's position, as every path of a stacked state must match the lead's
                path = f"loss/{head.index}/{attr}"
                head.hyper[attr] = path
                if all(p != path for p, _, _ in structure.hyper):
                    structure.hyper.append((path, head.loss, attr))
        trainable = structure.trainable_vars
        penalized = [(i, v.regularizer) for i, v in enumerate(trainable) if v.regularizer is not None]
        frozen = [(p, v.regularizer) for p, v in structure.buffers if v.regularizer is not None]
        paths = structure.trainable_paths
        proximal = [(i, dict(structure.regularizer_factors[paths[i]])["l1"]) for i, r in penalized
                    if getattr(r, "proximal", False)]
        return cls(forward, structure, heads, optimizer, single, penalized, frozen, proximal, n_outputs=n_outputs)

    @property
    def metrics(self) -> list[Metric]:
        return [m for h in self.heads for m in h.metrics]

    def log_names(self) -> list[tuple[str, "Metric | None"]]:
        """``[(history key, metric)]`` after ``loss``/``data_loss``, Keras 3's names: with several
        losses ``<output>_loss`` per trained output; with several outputs ``<output>_<metric>``,
        else the metric's name."""
        names: list = []
        if len(self.heads) > 1:
            names += [(f"{h.name}_loss", None) for h in self.heads]
        for h in self.heads:
            for m in h.metrics:
                names.append((m.name if self.n_outputs == 1 else f"{h.name}_{m.name}", m))
        return names

    @property
    def loss(self) -> Loss:
        return self.heads[0].loss

    @property
    def has_penalties(self) -> bool:
        return bool(self.penalized or self.frozen_penalized or self.has_activity)

    @property
    def n_stats(self) -> int:
        per_head = len(self.heads) if len(self.heads) > 1 else 0
        return 3 + per_head + sum(m.n_stats for m in self.metrics)

    @property
    def logits(self):
        """The ``logits`` argument of ``forward``: a bool, or one per output."""
        if self.single:
            return self.heads[0].forward_logits
        flags = [False] * self.n_outputs
        for h in self.heads:
            flags[h.index] = h.forward_logits
        return tuple(flags)

    def context(self, params: dict, buffers: dict, training: bool, key=0, stochastic=None,
                hyper: dict | None = None) -> CallContext:
        """The context of one pass; ``hyper`` is the training state's hyper-parameters (without
        it, layers read their attributes)."""
        # no copy when there are no buffers: this runs once per step
        values = {**params, **buffers} if buffers else params
        return CallContext(values, self.structure.paths, self.structure.streams, training=training, key=key,
                           stochastic=stochastic, checked_inputs=self.structure.checked_inputs,
                           hyper_values=hyper, hyper_paths=self.structure.hyper_paths if hyper else None)

    def factors(self, i: int, hyper: dict | None) -> dict:
        """The keyword factors of trainable weight ``i``'s regularizer from ``hyper`` (none: its own)."""
        return {} if hyper is None else self.structure.factors(self.structure.trainable_paths[i], hyper)


def _penalty_report(spec: StepSpec, params: Sequence, buffers: dict, hyper: dict | None = None):
    """The full penalty of the current weights (what ``loss`` adds to the data term), without
    building a graph: gradients of built-in penalties are added in closed form instead. Factors
    come from ``hyper`` (the training state's), else from the regularizers."""
    total = None
    for i, reg in spec.penalized:
        term = reg(params[i], **spec.factors(i, hyper))
        total = term if total is None else total + term
    for p, reg in spec.frozen_penalized:
        term = reg(buffers[p], **({} if hyper is None else spec.structure.factors(p, hyper)))
        total = term if total is None else total + term
    return total


def _head_sum(head: Head, out, y, w, hyper=None):
    """Σ w·loss of one output over the batch (the batch loss times the batch size, as Keras);
    the loss's hyper-parameters from ``hyper`` (the state's), else its own."""
    extra = {attr: hyper[path] for attr, path in head.hyper.items()} if hyper and head.hyper else {}
    if isinstance(y, SparseMix):  # mixed integer labels: the weighted pair of losses
        per = y.loss(lambda t, p: head.loss.per_sample(t, p, logits=head.loss_logits, **extra), out)
    else:
        per = head.loss.per_sample(y, out, logits=head.loss_logits, **extra)
    if w is not None:
        per = per * w.reshape(-1, *([1] * (per.dim() - 1)))
    return per.sum()


def _data_sums(spec: StepSpec, out, y, w, hyper=None):
    """(Σ over outputs of weight · Σ w·loss, [Σ w·loss per output])."""
    if spec.single and spec.heads[0].weight == 1.0:
        s = _head_sum(spec.heads[0], out, y, w, hyper)
        return s, [s]
    sums = [_head_sum(h, o, t, w, hyper) for h, o, t in _outputs_and_targets(spec, out, y)]
    total = None
    for h, s in zip(spec.heads, sums):
        term = s if h.weight == 1.0 else s * h.weight
        total = term if total is None else total + term
    return total, sums


def _objective(spec: StepSpec, autograd_penalized, params: Sequence, buffers: dict, x, y, w, key, hyper=None,
               mix_draws=None):
    """The minimized objective and what the update needs besides its gradient.

    Returns ``(objective, (out, data_sum, head_sums, updates, activity, y))``: outputs, the
    weighted Σ w·loss, per-output sums, new values of non-trainable variables by path, the
    activity penalty (or None) and the labels metrics should see (the dominant label of each
    mixed pair under mixup/cutmix). ``mix_draws``: the batch's mixing draws, made already (a
    compiled step's input), else made here.
    """
    if spec.batch_mix is not None:
        alpha = hyper[MIX_ALPHA] if hyper is not None and MIX_ALPHA in hyper else None
        x, y = spec.batch_mix(x, y, _random.fold_in(key, MIX_STREAM), alpha, mix_draws)
    ctx = spec.context(dict(zip(spec.structure.trainable_paths, params)), buffers, True, key, hyper=hyper)
    out = spec.forward(x, ctx, spec.logits)
    data_sum, head_sums = _data_sums(spec, out, y, w, hyper)
    objective = data_sum / _batch_size(out)
    for i, reg in autograd_penalized:
        term = reg.gradient_penalty(params[i], **spec.factors(i, hyper))
        if term is not None:
            objective = objective + term
    activity = None
    for term in ctx.penalties:
        objective = objective + term
        activity = term if activity is None else activity + term
    if isinstance(y, SparseMix):
        y = torch.where(y.lam >= 0.5, y.y_a, y.y_b)
    return objective, (out, data_sum, head_sums, ctx.updates, activity, y)


def optimizer_view(spec: StepSpec, state: TrainState, take) -> dict:
    """The optimizer's entry of ``state`` in the positional form ``Optimizer.update`` takes
    (``take``: ``spec.take_trainable``, or ``spec.take_traced`` in a traced step)."""
    entry = state.opt[OPTIMIZER]
    view = {"lr": state.hyper[LEARNING_RATE], "t": entry["iterations"]}
    for slot, values in entry["slots"].items():
        view[slot] = take(values)
    return view


def _new_state(spec: StepSpec, state: TrainState, params: Sequence, buffers: dict, opt_state: dict) -> TrainState:
    paths = spec.structure.trainable_paths
    entry = {"iterations": opt_state["t"],
             "slots": {slot: dict(zip(paths, opt_state[slot])) for slot in state.opt[OPTIMIZER]["slots"]}}
    return TrainState(dict(zip(paths, params)), buffers, {**state.opt, OPTIMIZER: entry}, state.hyper)


def _apply_update(spec: StepSpec, closed_form, const, state: TrainState, params, grads, aux, w, take=None):
    """Everything after the gradient: closed-form penalty gradients, the optimizer, proximal L1,
    new buffers and the batch's statistics. Returns ``(new_state, stats)``. ``take`` reads the
    trainable paths (``spec.take_trainable`` by default)."""
    updates = aux[3]  # new values of non-trainable variables, by path
    stats = _step_stats(spec, const, state, params, aux, w)
    new_params, new_opt = _updated_weights(spec, closed_form, state.hyper, params, grads,
                                           optimizer_view(spec, state, take or spec.take_trainable))
    return _new_state(spec, state, new_params, _new_buffers(state.buffers, updates), new_opt), stats


def _step_stats(spec: StepSpec, const, state: TrainState, params, aux, w) -> torch.Tensor:
    """The batch's statistics (``_batch_stats``) from the objective's auxiliary outputs, with the
    penalty of the weights the step started from (activity penalties included)."""
    out, data_sum, head_sums, updates, activity, y = aux
    penalty = _penalty_report(spec, params, state.buffers, state.hyper)
    if activity is not None:
        activity = activity.detach()
        penalty = activity if penalty is None else penalty + activity
    out = out.detach() if isinstance(out, torch.Tensor) else [o.detach() for o in out]
    return _batch_stats(spec, const, out, y, w, data_sum.detach(), [s.detach() for s in head_sums], penalty)


def _updated_weights(spec: StepSpec, closed_form, hyper: dict, params, grads, view: dict):
    """(new params, new optimizer state): closed-form penalty gradients, the optimizer's update and
    proximal L1. Every operation here is elementwise, with the hyper-parameters broadcast: the
    stacked step runs it on all variants at once (``_stacked_step``)."""
    optimizer = spec.optimizer
    grads = list(grads)
    for i, reg in closed_form:
        grads[i] = reg.add_gradient(grads[i], params[i], **spec.factors(i, hyper))
    if params:
        new_params, new_opt = optimizer.update(list(params), grads, view)
    else:  # nothing to train (a frozen model): the optimizer has nothing to do
        new_params, new_opt = [], view
    new_params = list(new_params)
    for i, lam_path in spec.proximal:
        # soft-thresholding with each weight's own step size: Adam's per-parameter steps make a
        # single lr * lambda threshold far too small to ever reach zero
        p = new_params[i]
        thresh = hyper[lam_path] * optimizer.step_size(new_opt, i)
        new_params[i] = torch.sign(p) * torch.clamp(p.abs() - thresh, min=0.0)
    return new_params, new_opt


def _new_buffers(buffers: dict, updates: dict) -> dict:
    """``buffers`` with the step's new values of non-trainable variables (moving statistics)."""
    if not updates:
        return buffers
    buffers = dict(buffers)
    for path, value in updates.items():
        buffers[path] = value.detach()
    return buffers


def split_penalties(spec: StepSpec):
    """(closed-form, differentiated) penalized weights: built-in penalties know their gradient."""
    closed = [(i, r) for i, r in spec.penalized if r.add_gradient(torch.zeros(1), torch.zeros(1)) is not None]
    return closed, [(i, r) for i, r in spec.penalized if (i, r) not in closed]


def make_train_step(spec: StepSpec):
    """Return the eager training step ``train_step(state, (x, y, w), key) -> (state, stats)``.

    Gradients come from ``torch.autograd.grad``, the cheapest way eagerly; the compiled engine
    runs the same objective and update under ``torch.func`` instead.
    """
    const = Constants()
    closed_form, autograd_pen = split_penalties(spec)
    # weights that no trained output depends on (an output without a loss) get zero gradients
    unused = {} if spec.trains_every_output else {"allow_unused": True, "materialize_grads": True}
    take = spec.take_trainable

    def train_step(state: TrainState, batch, key):
        x, y, w = batch
        params = take(state.params)
        leaves = [p.detach().requires_grad_() for p in params]
        with torch.enable_grad():
            objective, aux = _objective(spec, autograd_pen, leaves, state.buffers, x, y, w, key, state.hyper)
            # a model with nothing to train still reports its loss and updates its statistics
            grads = torch.autograd.grad(objective, leaves, **unused) if leaves else ()
        with torch.no_grad():
            return _apply_update(spec, closed_form, const, state, params, grads, aux, w)

    return train_step


def make_eval_step(spec: StepSpec, fill=None):
    """``eval_step(params, buffers, x, y, w, hyper=None) -> stats`` in inference mode (``params``
    and ``buffers`` are ``{path: tensor}``; ``hyper`` gives the losses' hyper-parameters, by
    default their own). Activity penalties are in the stats; the weights' penalty
    is not (the caller adds it once: it does not change between batches). ``fill(value, device)``
    makes the constant entries (cached tensors by default; a compiled step makes them inside the
    graph, where the batch size may be a symbol)."""

    const = fill or Constants()

    # no_grad inside rather than as a decorator: torch.compile wraps functions whose code lies in
    # torch (the decorator's) in one shared frame, which would count every model's step against
    # Dynamo's recompile limit (see compile_step)
    def eval_step(params: dict, buffers: dict, x, y, w, hyper=None):
        with torch.no_grad():
            ctx = spec.context(params, buffers, False)
            out = spec.forward(x, ctx, spec.logits)
            activity = sum(ctx.penalties) if ctx.penalties else None
            data_sum, head_sums = _data_sums(spec, out, y, w, hyper)
            return _batch_stats(spec, const, out, y, w, data_sum, head_sums, activity)

    return eval_step


@torch.no_grad()
def penalty_value(spec: StepSpec, params: dict, buffers: dict) -> float:
    """The full regularization penalty of the current weights (what ``loss`` adds to the data term)."""
    total = _penalty_report(spec, [params[p] for p in spec.structure.trainable_paths], buffers)
    return 0.0 if total is None else float(total)
