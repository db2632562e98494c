"""Diagnose learning curves: overfitting, underfitting, a good fit, still improving, or unstable.

:func:`diagnose` reads a History, a dict of per-epoch lists or a CSVLogger file, applies the rules of
:mod:`regulab.lab._diagnose_rules` (documented there and in ``docs/diagnosis.md``, with their
thresholds) and returns a :class:`Diagnosis`: the verdict, the evidence behind it, ranked
recommendations that ``lab.study`` can run as variants, and what it could not judge. Given several
histories of one configuration (seeds), each is judged on its own and the verdict comes with its
agreement across them.

>>> d = diagnose({"loss": [0.69, 0.40, 0.20, 0.10, 0.05, 0.02, 0.01, 0.005],
...               "val_loss": [0.65, 0.50, 0.45, 0.47, 0.52, 0.58, 0.64, 0.70]})
>>> d.verdict, d.evidence["best_epoch"]
('overfitting', 2)
>>> d.variants()["early_stopping=3"]
{'early_stopping': 3}
"""
from __future__ import annotations

import html
import json
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from regulab._validation import invalid, suggest
from regulab.callbacks._monitor import direction_from_name
from regulab.lab._diagnose_input import Log, load_history, read_csv_log, reference_levels
from regulab.lab._diagnose_rules import VERDICTS, Curves, Recommendation, judge, measure, recommend

ACCURACY_NAMES = ("accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy")
_WHERE = "diagnose"

__all__ = ["diagnose", "Diagnosis", "Recommendation", "VERDICTS", "reference_levels", "read_csv_log"]


# --- one history ----------------------------------------------------------------------------------

def _is_accuracy(name: str) -> bool:
    return name in ACCURACY_NAMES or name.endswith("_accuracy")


def _resolve_monitor(monitor, names: list[str]) -> tuple[str, str | None]:
    """The training and validation names the diagnosis reads."""
    trains = [n for n in names if not n.startswith("val_")]
    if monitor is None:
        if "data_loss" in names and "val_data_loss" in names:
            base = "data_loss"  # the penalties of regularizers are no part of the fit to the data
        elif "loss" in names:
            base = "loss"
        else:
            accuracy = [n for n in trains if _is_accuracy(n)]
            if not accuracy:
                raise ValueError(f"diagnose needs a loss or an accuracy to judge; the history logs "
                                 f"{', '.join(repr(n) for n in names)}. Name the metric to judge with monitor=.")
            base = accuracy[0]
    else:
        if not isinstance(monitor, str) or not monitor:
            raise invalid("monitor", "the name of a logged metric, such as 'val_loss'", monitor, _WHERE)
        base = monitor[4:] if monitor.startswith("val_") else monitor
        if base not in names or monitor not in names:
            raise ValueError(
                f"Invalid value for argument `monitor` of diagnose: expected one of the logged metrics "
                f"({', '.join(repr(n) for n in names)}). Received: monitor={monitor!r}.{suggest(monitor, names)}")
    return base, (f"val_{base}" if f"val_{base}" in names else None)


def _direction(log: Log, name: str) -> str:
    return log.directions.get(name) or direction_from_name(name) or "min"


def _scale(base: str, direction: str, first: list[float], refs: dict) -> tuple[float, str]:
    if direction == "max":
        if refs.get("chance_accuracy") is not None and _is_accuracy(base):
            return 1.0 - refs["chance_accuracy"], "the error of always predicting the majority class of y_train"
        return max([*first, 0.5]), "the first epoch's error (at least 0.5)"
    if base in ("loss", "data_loss") and refs.get("prior_loss"):
        return refs["prior_loss"], refs["prior_loss_of"]
    value = max(first) if first else 0.0
    if not (math.isfinite(value) and value > 0):
        return 1.0, "no positive first-epoch value to scale by"
    return value, "the first epoch's value (pass y_train for the loss of predicting the prior)"


def _round(value, digits: int = 6):
    if value is None or isinstance(value, (bool, str, int)):
        return value
    value = float(value)
    return None if not math.isfinite(value) else float(f"{value:.{digits}g}")


def _judge_one(log: Log, base: str, val: str | None, refs: dict, accuracy: str | None) -> dict:
    """The verdict, the rule and the evidence of one history."""
    direction = _direction(log, base)
    keep = log.present[base] & (log.present[val] if val else True)
    epochs = np.flatnonzero(keep)
    t = log.columns[base][keep]
    v = log.columns[val][keep] if val else None
    finite = np.isfinite(t) & (np.isfinite(v) if val else True)
    diverged_at = None if finite.all() else int(epochs[int(np.argmin(finite))])
    if diverged_at is not None:
        cut = int(np.argmin(finite))
        t, v, epochs = t[:cut], (v[:cut] if val else None), epochs[:cut]
    bad_t = 1.0 - t if direction == "max" else t
    bad_v = None if v is None else (1.0 - v if direction == "max" else v)
    first = [float(x[0]) for x in (bad_t, bad_v) if x is not None and len(x)]
    scale, scale_from = _scale(base, direction, first, refs)
    ev: dict = {"metric": base, "val_metric": val, "higher_is_better": direction == "max",
                "epochs": len(log.present[base]), "epochs_judged": len(t)}
    if len(t) == 0:
        ev.update({"diverged_at": diverged_at, "scale": scale, "scale_from": scale_from})
        return {"verdict": "unstable", "rule": f"a value is NaN or infinite at epoch {diverged_at}: training "
                "diverged", "evidence": ev, "relative": {"epochs": ev["epochs"], "train_level": math.nan,
                                                         "train_trend": 0.0, "train_noise": None,
                                                         "diverged_at": diverged_at}}
    curves = Curves(bad_t / scale, None if bad_v is None else bad_v / scale, scale, diverged_at)
    rel = measure(curves)
    verdict, rule = judge(curves, rel)
    rel = {k: x for k, x in rel.items() if not k.startswith("_")}
    rel["epochs"] = ev["epochs"]
    rel["diverged_at"] = diverged_at
    if val:
        b = rel["best_epoch"]
        rel["best_epoch"] = int(epochs[b])
        ev.update({"best_epoch": int(epochs[b]), "best_value": float(v[b]),
                   "gap_at_best": float(bad_v[b] - bad_t[b]), "gap_at_last": float(bad_v[-1] - bad_t[-1]),
                   "relative_gap_at_best": rel["relative_gap_at_best"],
                   "relative_gap_at_last": rel["relative_gap_at_last"]})
    ev.update({"train_trend": rel["train_trend"], "val_trend": rel.get("val_trend"),
               "rise_after_best": rel.get("rise_after_best"), "train_level": rel["train_level"],
               "val_level": rel.get("val_level"), "noise": rel.get("noise"), "train_noise": rel["train_noise"],
               "scale": scale, "scale_from": scale_from, "diverged_at": diverged_at})
    for key in ("chance_accuracy", "prior_loss"):
        if key in refs:
            ev[key] = refs[key]
    if accuracy:
        a = log.columns[accuracy]
        ev["accuracy_metric"] = accuracy
        ev["train_accuracy"] = float(a[log.present[accuracy]][-1]) if log.present[accuracy].any() else None
        va = log.columns.get(f"val_{accuracy}")
        if va is not None and log.present[f"val_{accuracy}"].any():
            ok = log.present[f"val_{accuracy}"] & np.isfinite(va)
            best = int(np.flatnonzero(ok)[int(np.argmax(va[ok]))]) if ok.any() else None
            ev.update({"val_accuracy": float(va[log.present[f"val_{accuracy}"]][-1]),
                       "best_val_accuracy": None if best is None else float(va[best]),
                       "best_val_accuracy_epoch": best})
    ev = {k: _round(x) for k, x in ev.items()}
    return {"verdict": verdict, "rule": rule, "evidence": ev, "relative": rel}


# --- the result -------------------------------------------------------------------------------

_LABELS = {"best_epoch": "best epoch", "gap_at_best": "gap at best", "gap_at_last": "gap at last",
           "train_trend": "train trend", "val_trend": "val trend", "rise_after_best": "rise after best",
           "noise": "noise (val)", "train_noise": "noise (train)", "scale": "loss scale",
           "chance_accuracy": "chance accuracy", "prior_loss": "prior loss"}


def _setting_text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass
class Diagnosis:
    """What the learning curves say: a verdict, its evidence, what to try and what is missing.

    Attributes:
        verdict: one of ``VERDICTS``.
        evidence: the numbers behind it (gaps in the metric's units and, as ``relative_*``, in units
            of the loss scale; trends and noise in units of the loss scale), and ``rule``: the rule
            that decided, in words. Over several histories, the median of each number.
        recommendations: ranked :class:`Recommendation` objects whose ``settings`` are study variants.
        missing: sentences on what the histories lack and what the diagnosis can still say.
        agreement: for several histories, the fraction whose own verdict is ``verdict``; else None.
        per_history: each history's own verdict.
    """

    verdict: str
    evidence: dict
    recommendations: list[Recommendation] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    agreement: float | None = None
    per_history: list[str] = field(default_factory=list)

    def variants(self) -> dict[str, dict]:
        """The recommendations as study variants, ``"baseline": {}`` first, for ``lab.study``."""
        out: dict[str, dict] = {"baseline": {}}
        for r in self.recommendations:
            name = "+".join(f"{k}={_setting_text(v)}" for k, v in r.settings.items())
            if name and name not in out:
                out[name] = dict(r.settings)
        return out

    def to_json(self) -> dict:
        """A JSON-serializable dict: verdict, evidence, recommendations, missing, agreement, per_history."""
        return {"verdict": self.verdict, "evidence": dict(self.evidence),
                "recommendations": [r.to_json() for r in self.recommendations], "missing": list(self.missing),
                "agreement": self.agreement, "per_history": list(self.per_history)}

    def _evidence_lines(self) -> list[tuple[str, str]]:
        ev = self.evidence
        rows = [("monitored", ev["metric"] + (f" / {ev['val_metric']}" if ev.get("val_metric") else "")),
                ("epochs", str(ev["epochs"]))]
        if ev.get("histories"):
            rows.append(("histories", str(ev["histories"])))
        if ev.get("best_epoch") is not None:
            rows.append(("best epoch", f"{ev['best_epoch']} (counted from 0; {ev['val_metric']} "
                                       f"{ev['best_value']:.4g})"))
        for key in ("gap_at_best", "gap_at_last"):
            if ev.get(key) is not None:
                rows.append((_LABELS[key], f"{ev[key]:.4g} ({ev['relative_' + key]:.2f} of the loss scale)"))
        for key in ("train_trend", "val_trend", "rise_after_best", "noise", "train_noise"):
            if ev.get(key) is not None:
                rows.append((_LABELS[key], f"{ev[key]:+.3f}" if "trend" in key else f"{ev[key]:.3f}"))
        rows.append(("loss scale", f"{ev['scale']:.4g}: {ev['scale_from']}"))
        for key in ("chance_accuracy", "prior_loss"):
            if ev.get(key) is not None:
                rows.append((_LABELS[key], f"{ev[key]:.4g}"))
        if ev.get("accuracy_metric") and ev.get("train_accuracy") is not None:
            text = f"train {ev['train_accuracy']:.4f}"
            if ev.get("val_accuracy") is not None:
                text += (f", val {ev['val_accuracy']:.4f} (best {ev['best_val_accuracy']:.4f} at epoch "
                         f"{ev['best_val_accuracy_epoch']})")
            rows.append((ev["accuracy_metric"], text))
        if ev.get("diverged_at") is not None:
            rows.append(("diverged at epoch", str(ev["diverged_at"])))
        return rows

    def __str__(self) -> str:
        lines = [f"verdict: {self.verdict}", f"why: {self.evidence.get('rule', '')}"]
        if self.agreement is not None:
            agree = sum(v == self.verdict for v in self.per_history)
            lines.append(f"agreement: {agree} of {len(self.per_history)} histories ({self.agreement:.0%}): "
                         f"{', '.join(self.per_history)}")
        lines.append("evidence:")
        lines += [f"  {label}: {text}" for label, text in self._evidence_lines()]
        lines.append("  (trends: change over as many epochs again at the current rate, in loss-scale units)")
        lines.append("recommendations:" if self.recommendations else "recommendations: none")
        for i, r in enumerate(self.recommendations, 1):
            lines.append(f"  {i}. {r.technique} {json.dumps(r.settings)}: {r.reason}")
        if self.missing:
            lines.append("missing:")
            lines += [f"  - {m}" for m in self.missing]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        rows = "".join(f"<tr><th style='text-align:left'>{e(k)}</th><td>{e(v)}</td></tr>"
                       for k, v in self._evidence_lines())
        recs = "".join(f"<li><b>{e(r.technique)}</b> <code>{e(json.dumps(r.settings))}</code>: {e(r.reason)}</li>"
                       for r in self.recommendations)
        agree = "" if self.agreement is None else f" <span>(agreement {self.agreement:.0%})</span>"
        missing = "".join(f"<li>{e(m)}</li>" for m in self.missing)
        return (f"<div class='regulab-diagnosis'><p><b>verdict: {e(self.verdict)}</b>{agree}</p>"
                f"<p>{e(str(self.evidence.get('rule', '')))}</p><table>{rows}</table>"
                + (f"<p>recommendations</p><ol>{recs}</ol>" if recs else "")
                + (f"<p>missing</p><ul>{missing}</ul>" if missing else "") + "</div>")


# --- diagnose -----------------------------------------------------------------------------------

def _median(values):
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return None
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return int(round(float(np.median(values))))
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return float(np.median(values))
    return values[0]


def _combine(dicts: list[dict]) -> dict:
    keys = list(dict.fromkeys(k for d in dicts for k in d))
    return {k: _median([d.get(k) for d in dicts]) for k in keys}


def _missing(logs: list[Log], base: str, val: str | None, y_train, verdict: str) -> list[str]:
    out = []
    if val is None:
        out.append(f"No validation metrics (no 'val_{base}'): only the training curve is judged, so the "
                   "diagnosis can tell underfitting, training that is still improving and unstable training, but "
                   "not overfitting from a good fit. Pass validation_data or validation_split to fit.")
        if verdict == "good fit":
            out.append("'good fit' here means the training curve converged to a low level; it says nothing about "
                       "held-out data.")
    if y_train is None:
        out.append("No y_train: the loss scale is the first epoch's value, not the loss of predicting the class "
                   "prior, and chance accuracy is unknown.")
    n = min(len(log.present[base]) for log in logs)
    if n < 3:
        out.append(f"Only {n} epoch{'s' if n > 1 else ''}: too few to measure trends or noise; the verdict rests "
                   "on the last values.")
    for log in logs:
        keep = log.present[base] & (log.present[val] if val else True)
        if not keep.all():
            out.append(f"{log.where}: {int((~keep).sum())} epoch(s) without a value of "
                       f"{base}{f' or {val}' if val else ''} were left out.")
    return out


def diagnose(history, *, monitor: str | None = None, y_train=None) -> Diagnosis:
    """Judge learning curves: overfitting, underfitting, good fit, still improving or unstable.

    Args:
        history: a ``History`` (what ``fit`` returns), a dict of per-epoch lists, the path of a
            CSVLogger file, or a list or tuple of those (several seeds of one configuration).
        monitor: the metric to judge, with or without its ``val_`` prefix (default: ``data_loss``
            when the fit logs it, i.e. the loss without the regularization penalties, else ``loss``;
            the accuracy is reported beside it).
        y_train: the training labels, for the reference levels: chance accuracy and the loss of
            predicting the class prior (their entropy, in nats), which then is the loss scale.

    Returns:
        A :class:`Diagnosis`. A history without validation metrics is judged from its training
        curve alone, and ``missing`` says so.

    Raises:
        ValueError: an empty history, an unknown ``monitor`` (the message lists the logged names),
            several histories that log different quantities, or values that are not numbers.
        FileNotFoundError: a CSV path that does not exist.
    """
    items = list(history) if isinstance(history, (list, tuple)) else [history]
    if not items:
        raise invalid("history", "a History, a dict, a CSVLogger file, or a non-empty list of them", history,
                      _WHERE)
    several = isinstance(history, (list, tuple))
    logs = [load_history(h, f"history[{i}]" if several else "history") for i, h in enumerate(items)]
    names = list(logs[0].columns)
    for log in logs[1:]:
        if set(log.columns) != set(names):
            raise ValueError(f"The histories must come from one configuration and log the same quantities: "
                             f"{logs[0].where} logs {sorted(names)}, {log.where} logs {sorted(log.columns)}.")
    base, val = _resolve_monitor(monitor, names)
    refs = {} if y_train is None else reference_levels(y_train)
    accuracy = None
    if not _is_accuracy(base):
        accuracy = next((n for n in names if not n.startswith("val_") and _is_accuracy(n)), None)
    judged = [_judge_one(log, base, val, refs, accuracy) for log in logs]
    verdicts = [j["verdict"] for j in judged]
    counts = Counter(verdicts)
    top = max(counts.values())
    tied = [v for v in VERDICTS if counts[v] == top]
    # a tie goes to the verdict first in VERDICTS: those that call for action come first
    verdict = tied[0]
    evidence = _combine([j["evidence"] for j in judged]) if several else judged[0]["evidence"]
    relative = _combine([j["relative"] for j in judged])
    evidence["rule"] = next(j["rule"] for j in judged if j["verdict"] == verdict)
    if several:
        evidence["histories"] = len(logs)
    rates = [log.learning_rate for log in logs if log.learning_rate is not None]
    return Diagnosis(verdict=verdict, evidence=evidence,
                     recommendations=recommend(verdict, relative, rates[0] if rates else None),
                     missing=_missing(logs, base, val, y_train, verdict),
                     agreement=counts[verdict] / len(logs) if several else None, per_history=verdicts)

