"""The rules that turn a pair of learning curves into a verdict, with their thresholds.

Both curves are read as "lower is better" (a higher-is-better metric in [0, 1] such as accuracy is
read as its error, 1 - value) and divided by a loss scale: the loss of predicting the class prior
(or, for a regression, the variance of the targets) when the labels are known, otherwise the larger
of the first epoch's training and validation values. Every number below is in those units, so one
threshold serves a binary and a ten-class task. The rules run in order; the first that holds decides:

1. **unstable**: a value is NaN or infinite (training diverged), or the curves are noisy: the
   residual standard deviation around a local quadratic fit (after the first
   ``NOISE_SKIP`` of the epochs) exceeds ``NOISE_UNSTABLE`` of the scale for validation or
   ``TRAIN_NOISE_UNSTABLE`` for training, or the training curve climbs (trend above
   ``TREND_RISING``, significantly: ``|t| >= TREND_T``).
2. **overfitting**: the validation curve rose after its best epoch by more than ``RISE_OVERFIT``
   while the training curve did not rise (trend at most ``TREND_RISING``).
3. **still improving**: the validation curve (the training curve when there is none) is still
   falling: its trend is below ``-TREND_IMPROVING``, significantly (``|t| >= TREND_T``).
4. **overfitting**: the gap at the last epoch exceeds ``GAP_OVERFIT`` and the training value is
   below ``GAP_RATIO`` times the validation value.
5. **underfitting**: the training value at the last epoch is still at least ``UNDER_LEVEL`` of the
   scale: the model has learned little beyond the prior.
6. **good fit**: none of the above.

A curve's *trend* is the least-squares slope over its last ``TAIL_FRACTION`` of epochs (at least
``MIN_TAIL``), times ``max(epochs, TREND_HORIZON)``: how far it would move, in scale units, in as
many epochs again (at least ``TREND_HORIZON`` more) at its current rate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TAIL_FRACTION = 0.3      # share of the last epochs that the trends are fitted on
MIN_TAIL = 3             # fewest epochs a trend is fitted on
TREND_HORIZON = 20       # trends are projected over max(epochs, this) epochs
TREND_T = 2.0            # |slope / standard error| for a trend to count
TREND_IMPROVING = 0.15   # a curve falling faster than this (per horizon) is still improving
TREND_RISING = 0.1       # a training curve rising faster than this is diverging
NOISE_SKIP = 0.2         # share of the first epochs left out of the noise estimate (their fast drop is no noise)
NOISE_UNSTABLE = 0.015   # residual std of the validation curve above which it is unstable
TRAIN_NOISE_UNSTABLE = 0.01  # the same for the training curve, an average over the epoch and so smoother
RISE_OVERFIT = 0.05      # rise of validation above its best that is overfitting
GAP_OVERFIT = 0.1        # validation minus training at the last epoch that is overfitting ...
GAP_RATIO = 0.75         # ... when training is also below this fraction of validation
UNDER_LEVEL = 0.5        # a training value still this high has learned little beyond the prior

VERDICTS = ("overfitting", "underfitting", "good fit", "still improving", "unstable")


@dataclass
class Trend:
    """A least-squares line through a curve's last epochs, in scale units."""

    value: float      # projected change over the horizon
    t: float          # slope over its standard error (inf for an exact line)
    end: float        # the line's value at the last epoch

    @property
    def significant(self) -> bool:
        return abs(self.t) >= TREND_T


def fit_trend(curve: np.ndarray, epochs: int) -> Trend:
    """The trend of ``curve`` (finite values, in scale units) over its last epochs."""
    k = min(len(curve), max(MIN_TAIL, math.ceil(TAIL_FRACTION * len(curve))))
    y = curve[-k:]
    if k < 2:
        return Trend(0.0, 0.0, float(y[-1]))
    x = np.arange(k, dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    dof = k - 2
    sxx = float(((x - x.mean()) ** 2).sum())
    se = math.sqrt(float((residual ** 2).sum()) / dof / sxx) if dof > 0 else 0.0
    t = slope / se if se > 1e-12 else (math.inf if abs(slope) > 1e-12 else 0.0)
    return Trend(float(slope * max(epochs, TREND_HORIZON)), float(t), float(slope * (k - 1) + intercept))


def noise_level(curve: np.ndarray) -> float | None:
    """Residual standard deviation of ``curve`` around its smooth part.

    The smooth part is a local quadratic through 5 consecutive epochs (a Savitzky-Golay filter),
    whose residual at the middle epoch is ``3/35`` times the fourth difference
    ``x[i-2] - 4x[i-1] + 6x[i] - 4x[i+1] + x[i+2]``. For a smooth curve plus independent noise of
    deviation ``s``, that difference has variance ``70 s^2``, so ``s = sqrt(mean(d4^2) / 70)``.
    The first ``NOISE_SKIP`` of the epochs are left out: the fast early drop is no noise. None when
    fewer than 5 epochs remain.
    """
    part = curve[int(math.floor(NOISE_SKIP * len(curve))):]
    if len(part) < 5:
        return None
    d4 = np.diff(part, 4)
    return float(math.sqrt(float(np.mean(d4 ** 2)) / 70.0))


@dataclass
class Curves:
    """One history's monitored curves, as "lower is better" values divided by ``scale``."""

    train: np.ndarray
    val: np.ndarray | None
    scale: float
    diverged_at: int | None = None  # first epoch with a NaN or infinite value (the curves stop before it)


def measure(c: Curves) -> dict:
    """The evidence the rules read, in scale units (``None`` where a curve is missing)."""
    n = len(c.train)
    train_trend = fit_trend(c.train, n)
    ev = {"epochs": n, "train_level": float(c.train[-1]), "train_trend": train_trend.value,
          "train_noise": noise_level(c.train), "_train_trend": train_trend}
    if c.val is None:
        return ev
    best = int(np.argmin(c.val))
    val_trend = fit_trend(c.val, n)
    ev.update({
        "best_epoch": best,
        "relative_gap_at_best": float(c.val[best] - c.train[best]),
        "relative_gap_at_last": float(c.val[-1] - c.train[-1]),
        "val_level": float(c.val[-1]),
        "val_trend": val_trend.value,
        "rise_after_best": max(0.0, float(val_trend.end - c.val[best])),
        "noise": noise_level(c.val),
        "_val_trend": val_trend,
    })
    return ev


def judge(c: Curves, ev: dict) -> tuple[str, str]:
    """The verdict for curves ``c`` with evidence ``ev`` (from :func:`measure`), and the rule that
    decided it, in words."""
    train_trend: Trend = ev["_train_trend"]
    has_val = c.val is not None
    if c.diverged_at is not None:
        return "unstable", f"a value is NaN or infinite at epoch {c.diverged_at}: training diverged"
    if has_val and (ev["noise"] or 0.0) > NOISE_UNSTABLE:
        return "unstable", (f"the validation curve is noisy: residual std {ev['noise']:.3f} of the loss scale "
                            f"(above {NOISE_UNSTABLE})")
    if (ev["train_noise"] or 0.0) > TRAIN_NOISE_UNSTABLE:
        return "unstable", (f"the training curve is noisy: residual std {ev['train_noise']:.3f} of the loss "
                            f"scale (above {TRAIN_NOISE_UNSTABLE})")
    if train_trend.value > TREND_RISING and train_trend.significant:
        return "unstable", f"the training curve climbs (trend +{train_trend.value:.2f}): training diverges"
    if has_val:
        val_trend: Trend = ev["_val_trend"]
        if ev["rise_after_best"] > RISE_OVERFIT and train_trend.value <= TREND_RISING:
            return "overfitting", (f"the validation curve rose {ev['rise_after_best']:.2f} of the loss scale "
                                   f"above its best (epoch {ev['best_epoch']}) while training did not rise")
        if val_trend.value < -TREND_IMPROVING and val_trend.significant:
            return "still improving", f"the validation curve is still falling (trend {val_trend.value:.2f})"
        gap = ev["relative_gap_at_last"]
        if gap > GAP_OVERFIT and c.train[-1] < GAP_RATIO * c.val[-1]:
            return "overfitting", (f"the gap at the last epoch is {gap:.2f} of the loss scale (above "
                                   f"{GAP_OVERFIT}), training at {c.train[-1] / c.val[-1]:.0%} of validation")
    elif train_trend.value < -TREND_IMPROVING and train_trend.significant:
        return "still improving", f"the training curve is still falling (trend {train_trend.value:.2f})"
    if c.train[-1] >= UNDER_LEVEL:
        return "underfitting", (f"training ends at {c.train[-1]:.2f} of the loss scale (at least {UNDER_LEVEL}): "
                                "the model learned little beyond the prior")
    if has_val:
        return "good fit", "the curves converged with a small gap and no rise of the validation curve"
    return "good fit", "the training curve converged to a low level"


# --- recommendations --------------------------------------------------------------------------

SEVERE_GAP = 0.3         # a gap this large calls for the strong settings (L2 0.01, dropout 0.5)
SLOW_TREND = 0.02        # an underfitting curve still falling faster than this is held back by its learning rate
DEFAULT_LEARNING_RATE = 0.001  # assumed when the history does not say (Adam's default)


@dataclass
class Recommendation:
    """One thing to try: a technique, its settings as a study variant, and why."""

    technique: str
    settings: dict
    reason: str

    def to_json(self) -> dict:
        return {"technique": self.technique, "settings": dict(self.settings), "reason": self.reason}


def patience_for(epochs: int) -> int:
    """An early-stopping patience for a run of ``epochs``: a tenth of it, between 3 and 10."""
    return int(min(10, max(3, round(0.1 * epochs))))


def _rate(value: float) -> float:
    return float(f"{value:.2g}")


def recommend(verdict: str, ev: dict, learning_rate: float | None) -> list[Recommendation]:
    """The ranked recommendations for ``verdict``, given the evidence ``ev`` (scale units)."""
    n = ev["epochs"]
    p = patience_for(n)
    lr = learning_rate or DEFAULT_LEARNING_RATE
    lr_text = f"{lr:g}" + ("" if learning_rate else " (assumed: the history does not say)")
    R = Recommendation
    if verdict == "overfitting":
        gap = ev.get("relative_gap_at_last") or 0.0
        severe = gap > SEVERE_GAP
        l2, rate = (0.01, 0.5) if severe else (0.001, 0.2)
        size = "large" if severe else "moderate"
        best = ev.get("best_epoch")
        recs = [R("L2 regularization", {"l2": l2}, f"a {size} gap ({gap:.2f} of the loss scale at the last "
                  f"epoch): L2 {l2:g} on the hidden kernels pulls the weights towards zero"),
                R("dropout", {"dropout": rate}, f"a {size} gap: dropout {rate:g} after each hidden layer keeps "
                  "units from co-adapting to the training samples"),
                R("combined", {"l2": l2, "dropout": rate, "early_stopping": p},
                  "L2, dropout and early stopping together"),
                R("smaller model", {"width": 0.5}, "half the units per hidden layer: less capacity to memorise")]
        stop = R("early stopping", {"early_stopping": p},
                 f"validation was best at epoch {best} of {n}: EarlyStopping(patience={p}, "
                 "restore_best_weights=True) keeps the weights of that epoch")
        if best is None or best >= n - 1:  # validation was best at the end: stopping keeps nothing better
            return recs
        rose = ev.get("rise_after_best", 0.0) > RISE_OVERFIT or best < n - 1 - p
        return [stop, *recs] if rose else [*recs, stop]
    if verdict == "underfitting":
        level = ev["train_level"]
        slow = ev["train_trend"] < -SLOW_TREND
        bigger = R("larger model", {"width": 4.0}, f"training ends at {level:.0%} of the loss scale: a model "
                   "with 4 times the units can fit more (weaken any regularizer or dropout first)")
        faster = R("higher learning rate", {"learning_rate": _rate(10 * lr)},
                   f"training {'still falls, but slowly' if slow else 'barely moves'} at the learning rate "
                   f"{lr_text}: try 10 times it")
        norm = R("batch normalization", {"batch_norm": True},
                 "normalised activations let a network train faster and at a higher learning rate")
        if slow:
            longer = R("more epochs", {"epochs": 3 * n, "early_stopping": patience_for(3 * n)},
                       f"training is still falling (trend {ev['train_trend']:.2f}): three times the epochs, "
                       "with early stopping")
            return [faster, longer, bigger, norm]
        return [bigger, norm] + ([faster] if lr <= DEFAULT_LEARNING_RATE else [])
    if verdict == "still improving":
        trend = ev.get("val_trend", ev["train_trend"])
        epochs = max(3 * n, n + 20)
        return [R("more epochs", {"epochs": epochs, "early_stopping": patience_for(epochs)},
                  f"the curve is still falling (trend {trend:.2f} of the loss scale): train {epochs} epochs, "
                  "with early stopping to keep the best"),
                R("higher learning rate", {"learning_rate": _rate(3 * lr)},
                  f"to get there in fewer epochs: 3 times the learning rate {lr_text}")]
    if verdict == "unstable":
        diverged = ev.get("diverged_at") is not None
        val_only = (ev.get("noise") or 0.0) > NOISE_UNSTABLE and not (
            (ev["train_noise"] or 0.0) > TRAIN_NOISE_UNSTABLE or diverged)
        what = ("training diverged" if diverged else
                f"jumps in the {'validation' if val_only else 'training'} curve")
        lower = R("lower learning rate", {"learning_rate": _rate(lr / (3 if val_only else 10))},
                  f"{what}: the mark of steps too large for the loss surface at the learning rate {lr_text}")
        norm = R("batch normalization", {"batch_norm": True}, "normalised activations make training steadier")
        patient = R("early stopping", {"early_stopping": max(10, p)},
                    "a patience long enough that one noisy epoch does not stop training (a larger "
                    "validation set also makes its curve steadier)")
        return [lower, patient, norm] if val_only else [lower, norm]
    recs = []
    best = ev.get("best_epoch")
    if best is not None and best < n - 1:
        recs.append(R("early stopping", {"early_stopping": p}, f"validation was best at epoch {best} of {n}: "
                      "restore_best_weights keeps that epoch's weights"))
    gap = ev.get("relative_gap_at_last")
    if gap is not None and gap < GAP_OVERFIT / 2 and ev["train_level"] > 0.05:
        recs.append(R("larger model", {"width": 2.0}, "the gap is small: a model twice as wide may lower both "
                      "curves (check that the gap stays small)"))
    return recs
