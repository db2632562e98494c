"""Per-output losses, loss weights and metrics: ``compile``'s arguments resolved against a model's
outputs, as Keras 3 takes them (one value, a list in output order, or a dict by output name)."""
from __future__ import annotations

import copy

from regulab import losses as _losses
from regulab import metrics as _metrics
from regulab._validation import check_float
from regulab.training._step import Head


def _by_output(value, names: list[str], arg: str, allow_single: bool):
    """``value`` as one entry per output name (None where the user gave none)."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"Argument `{arg}` of compile names the output {unknown[0]!r}, which the model "
                             f"does not have; its outputs are: {', '.join(repr(n) for n in names)}.")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)) and (arg != "metrics" or _is_nested(value)):
        if len(value) != len(names):
            raise ValueError(f"Argument `{arg}` of compile has {len(value)} entries for a model with "
                             f"{len(names)} outputs ({', '.join(repr(n) for n in names)}); give one per "
                             f"output, or a dict by output name.")
        return list(value)
    if not allow_single and len(names) > 1:
        raise ValueError(f"Argument `{arg}` of compile must be a list or a dict by output name for a model "
                         f"with {len(names)} outputs. Received: {value!r}")
    return [value] * len(names)


def _is_nested(value) -> bool:
    return any(isinstance(v, (list, tuple, dict)) or v is None for v in value)


def _metric_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, _metrics.Metric)):
        return [value]
    return list(value)


def output_heads(model, loss, loss_weights=None, metrics=None, check_only: bool = False) -> list[Head]:
    """The trained outputs of ``model`` (outputs given no loss are not trained). With
    ``check_only`` it validates the arguments without needing the output shapes."""
    names = list(model.output_names)
    if loss is None:
        if metrics:
            _by_output(metrics, names, "metrics", allow_single=True)
        return []
    losses = [None if v is None else _losses.get(v) for v in _by_output(loss, names, "loss", allow_single=True)]
    if all(v is None for v in losses):
        raise ValueError("Argument `loss` of compile gives no loss for any output; "
                         f"the outputs are: {', '.join(repr(n) for n in names)}.")
    weights = [1.0] * len(names) if loss_weights is None else [
        1.0 if w is None else check_float(f"loss_weights[{n!r}]", w, low=0.0, where="compile")
        for n, w in zip(names, _by_output(loss_weights, names, "loss_weights", allow_single=False))]
    metric_args = [_metric_list(m) for m in _by_output(metrics, names, "metrics", allow_single=True)] \
        if metrics is not None else [[] for _ in names]
    shapes = None if check_only else model.output_shapes
    activations = None if check_only else model.output_activations()
    heads = []
    for i, (name, lo, w, ms) in enumerate(zip(names, losses, weights, metric_args)):
        if lo is None:
            if ms and not check_only:
                raise ValueError(f"Output {name!r} has metrics but no loss; give it a loss to evaluate it.")
            continue
        if check_only:
            for m in ms:  # resolve now so a bad name fails at compile, not at fit
                _metrics.resolve(m, lo.target_kind, 1)
            continue
        units = shapes[i][-1] if shapes and shapes[i] else 1
        resolved = [_metrics.resolve(_fresh(m, i), lo.target_kind, units) for m in ms]
        given = [m.name for m in resolved]
        for j, m_name in enumerate(given):  # Keras numbers repeated names: auc, auc_1
            if given.index(m_name) != j:
                resolved[j].name = f"{m_name}_{given[:j].count(m_name)}"
        heads.append(Head.build(name, i, lo, w, resolved, activations[i]))
    return heads


def _fresh(metric, index: int):
    """A metric object per output: one instance cannot hold two outputs' statistics."""
    if isinstance(metric, _metrics.Metric) and index > 0:
        return copy.deepcopy(metric)
    return metric
