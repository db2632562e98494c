"""The stacked forward pass without mapping: V variants of a model as one batch of batched
operations.

``torch.func.vmap`` runs any model's forward pass over stacked variants, but for the small models
a study trains its own per-call and per-operation work costs several times the arithmetic (for
16 variants of the seed model on a 2-core CPU the mapped forward and loss took about 2 ms a step,
the hand-written batched matmuls of ``anchors/stacked_study.py`` about 0.2 ms). When every layer
of a model can run with the variants on a leading axis (``Layer.stacks``: Dense as one batched
matmul with each variant's own kernel, dropout and noise drawing each variant's own mask from its
own key, activations and reshapes), the pass runs in a ``VariantContext`` directly. Losses and
per-sample metrics need no such support: samples are independent, so V batches of B samples are
scored as one batch of V·B and the per-sample values summed per variant.

Each variant's results equal those of its own ``CallContext`` pass: the same operations on its
slice, the same random draws (the tests compare them with the mapped step and with single fits).
"""
from __future__ import annotations

import torch

from regulab.layers._context import VariantContext
from regulab.metrics import _MeanMetric
from regulab.training._batch_stats import _outputs_and_targets
from regulab.training._step import StepSpec, split_penalties


def runs_natively(spec: StepSpec) -> bool:
    """Whether ``variant_pass`` can run ``spec``: every layer stacks (``spec.stacks``), no batch
    mixing (each variant would mix its own pairs), no activity penalty (it divides by the batch
    size), and every weight penalty has a closed-form gradient (a differentiated one would have
    to be summed variant by variant)."""
    return (spec.stacks and spec.batch_mix is None and not spec.has_activity
            and not split_penalties(spec)[1])


def evaluates_natively(spec: StepSpec) -> bool:
    """Whether ``variant_pass`` can evaluate ``spec``'s variants (mixing and penalties do not
    matter in inference)."""
    return spec.stacks and not spec.has_activity


def _fold(t: torch.Tensor) -> torch.Tensor:
    """``(V, B, ...)`` as ``(V·B, ...)``."""
    return t.reshape(t.shape[0] * t.shape[1], *t.shape[2:])


def _per_variant_sum(values: torch.Tensor, v: int, w) -> torch.Tensor:
    """``(V,)`` sums of per-sample values given as ``(V·B, ...)``, weighted by ``w`` ``(V, B)``."""
    values = values.reshape(v, -1 if w is None else w.shape[1], *values.shape[1:])
    if w is not None:
        values = values * w.reshape(*w.shape, *([1] * (values.dim() - 2)))
    return values.reshape(v, -1).sum(1)


def _head_sums(spec: StepSpec, out, y, w, hyper: dict, v: int) -> list[torch.Tensor]:
    """Σ w·loss of each trained output, per variant, ``(V,)`` each."""
    sums = []
    for head, o, t in _outputs_and_targets(spec, out, y):
        o, t = _fold(o), _fold(t)
        extra = {}
        for attr, path in head.hyper.items():  # each sample smoothed with its own variant's value
            value = hyper[path]
            if isinstance(value, torch.Tensor):  # else a number (0 in every variant)
                value = value.repeat_interleave(o.shape[0] // v).reshape(-1, *([1] * (t.dim() - 1)))
            extra[attr] = value
        per = head.loss.per_sample(t, o, logits=head.loss_logits, **extra)
        sums.append(_per_variant_sum(per, v, w))
    return sums


def _metric_stats(spec: StepSpec, out, y, w, v: int) -> list[torch.Tensor]:
    """Each metric's statistics per variant, ``(V, n_stats)`` each."""
    stats = []
    for head, o, t in _outputs_and_targets(spec, out, y):
        if not head.metrics:
            continue
        pred = head.metric_activation(o)
        for m in head.metrics:
            if isinstance(m, _MeanMetric):
                stats.append(_per_variant_sum(m.sample_values(_fold(t), _fold(pred)), v, w).unsqueeze(1))
            else:  # statistics that are not sums of per-sample values: mapped
                mapped = torch.func.vmap(m.batch_stats, in_dims=(0, 0, None if w is None else 0))
                stats.append(mapped(t, pred, w))
    return stats


def weight_penalties(spec: StepSpec, params, buffers: dict, hyper: dict) -> torch.Tensor | None:
    """The penalty of each variant's weights, ``(V,)`` (None without penalties)."""
    total = None
    for i, reg in spec.penalized:
        term = reg.per_variant(params[i], **spec.factors(i, hyper))
        total = term if total is None else total + term
    for p, reg in spec.frozen_penalized:
        term = reg.per_variant(buffers[p], **spec.structure.factors(p, hyper))
        total = term if total is None else total + term
    return total


def variant_pass(spec: StepSpec, params, buffers: dict, x, y, w, keys, hyper: dict, training: bool = True):
    """One pass of V stacked variants: ``(objective, stats, updates)``.

    ``params`` are the trainable weights in ``spec``'s order, ``(V, *shape)``; ``x`` and ``y``
    ``(V, B, ...)`` (tuples for several inputs or outputs), ``w`` ``(V, B)`` or None, ``keys``
    ``(V,)``, ``hyper`` ``{path: (V,)}``. ``objective`` is ``(V,)``, each variant's own loss;
    ``stats`` is ``(V, n_stats)``, the rows ``_batch_stats`` gives each variant, with the penalty
    of the weights passed in (the step's starting weights) when training."""
    lead = x[0] if isinstance(x, tuple) else x
    v, b = lead.shape[0], lead.shape[1]
    values = dict(zip(spec.structure.trainable_paths, params))
    if buffers:
        values.update(buffers)
    # in inference the layers read their own attributes, as a single model's evaluation does
    ctx = VariantContext(values, spec.structure.paths, spec.structure.streams, training=training, key=keys,
                         checked_inputs=spec.structure.checked_inputs, hyper_values=hyper,
                         hyper_paths=spec.structure.hyper_paths if training else None, variants=v)
    out = spec.forward(x, ctx, spec.logits)
    sums = _head_sums(spec, out, y, w, hyper, v)
    data_sum = None
    for head, s in zip(spec.heads, sums):
        term = s if head.weight == 1.0 else s * head.weight
        data_sum = term if data_sum is None else data_sum + term
    objective = data_sum / b
    with torch.no_grad():  # nothing here joins the graph: no detaching needed
        penalty = weight_penalties(spec, params, buffers, hyper) if training else None
        wsum = _filled(v, float(b), lead.device) if w is None else w.sum(1)
        parts = [data_sum, _filled(v, 0.0, lead.device) if penalty is None else penalty * b, wsum]
        if len(spec.heads) > 1:
            parts.extend(sums)
        stats = torch.cat([torch.stack(parts, 1), *_metric_stats(spec, out, y, w, v)], 1)
    return objective, stats, ctx.updates


_FILLED: dict = {}


def _filled(v: int, value: float, device) -> torch.Tensor:
    """A cached ``(v,)`` tensor of ``value`` (only ever read: ``torch.stack`` copies it)."""
    key = (v, value, device)
    t = _FILLED.get(key)
    if t is None:
        t = _FILLED[key] = torch.full((v,), value, device=device)
    return t
