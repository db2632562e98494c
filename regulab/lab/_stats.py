"""Statistics of a study over seeds: intervals, paired comparisons and what a few seeds can detect.

A single run says little: on a small task the seed alone moves the held-out accuracy by a point or
more. A study therefore trains every variant over the same seeds and reports, per variant, a
percentile-bootstrap interval over seeds and a paired comparison with the baseline, as recommended by
Agarwal et al. 2021, "Deep Reinforcement Learning at the Edge of the Statistical Precipice" (the
``rliable`` library). Every function takes plain sequences of per-seed values and returns plain floats,
so the results go straight into JSON.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from regulab._validation import check_choice, check_float, check_int, invalid

FEW_SEEDS = 5
"""Below this many seeds the intervals are too wide to rank variants."""

_STATISTICS = ("mean", "median", "iqm")

# Metrics whose values are fractions in [0, 1]; their differences read best as points (x 100).
_FRACTION_WORDS = ("accuracy", "auc", "precision", "recall", "f1")


def _per_seed(name: str, values: Any, where: str, *, what: str = "one per seed") -> np.ndarray:
    """``values`` as a 1-D float64 array, or the standard error naming the argument."""
    expected = f"a non-empty 1-D sequence of finite numbers ({what})"
    if isinstance(values, (str, bytes)):
        raise invalid(name, expected, values, where)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise invalid(name, expected, values, where) from None
    if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all():
        raise invalid(name, expected, values, where)
    return arr


def _confidence(value: Any, where: str) -> float:
    return check_float("confidence", value, low=0.0, high=1.0, low_open=True, high_open=True, where=where)


def _flag(name: str, value: Any, where: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise invalid(name, "a bool", value, where)
    return bool(value)


def _bootstrap_args(where: str, confidence: Any, n_resamples: Any, seed: Any) -> tuple[float, int, int]:
    """The checked resampling arguments, with errors naming the public function called."""
    return (_confidence(confidence, where), check_int("n_resamples", n_resamples, low=1, where=where),
            check_int("seed", seed, low=0, where=where))


def _reduce(samples: np.ndarray, statistic: str) -> np.ndarray:
    """The statistic of every row of ``samples``."""
    if statistic == "mean":
        return samples.mean(axis=-1)
    if statistic == "median":
        return np.median(samples, axis=-1)
    # rliable's interquartile mean: the mean of the middle 50%, robust to one outlying seed
    from scipy import stats  # imported when used: scipy.stats takes a second to import

    return stats.trim_mean(samples, 0.25, axis=-1)


def bootstrap_ci(values: Sequence[float], *, confidence: float = 0.95, n_resamples: int = 10_000,
                 statistic: str = "mean", seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of a statistic over seeds.

    Resamples the seeds with replacement ``n_resamples`` times (one index matrix, so the whole
    bootstrap is a few array operations), computes the statistic of each resample and returns the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles. This is the interval ``rliable``
    reports (Agarwal et al. 2021). With few seeds the percentile bootstrap undercovers a little
    (about 91% for a nominal 95% at 10 seeds), one more reason to read it with the seed count.

    Args:
        values: the metric of each seed.
        confidence: the interval's nominal coverage, in (0, 1). Default 0.95.
        n_resamples: bootstrap resamples. Default 10,000.
        statistic: "mean" (default), "median" or "iqm" (interquartile mean, rliable's headline figure).
        seed: seed of the resampling; the same seed gives the same interval.

    Returns:
        ``(low, high)`` as floats; ``(v, v)`` for a single value.

    >>> lo, hi = bootstrap_ci([0.81, 0.84, 0.80, 0.83, 0.82])
    >>> lo < 0.82 < hi, round(hi - lo, 2)
    (True, 0.02)
    """
    where = "bootstrap_ci"
    arr = _per_seed("values", values, where)
    confidence, n_resamples, seed = _bootstrap_args(where, confidence, n_resamples, seed)
    statistic = check_choice("statistic", statistic, _STATISTICS, where=where)
    return _percentile_bootstrap(arr, confidence, n_resamples, statistic, seed)


def _percentile_bootstrap(arr: np.ndarray, confidence: float, n_resamples: int, statistic: str,
                          seed: int) -> tuple[float, float]:
    """The interval of :func:`bootstrap_ci` on arguments already checked."""
    if arr.size == 1:
        return float(arr[0]), float(arr[0])
    rng = np.random.default_rng(seed)
    index = rng.integers(0, arr.size, size=(n_resamples, arr.size))
    resampled = _reduce(arr[index], statistic)
    alpha = 1.0 - confidence
    lo, hi = np.quantile(resampled, [alpha / 2, 1.0 - alpha / 2])
    return float(lo), float(hi)


def summarize(values: Sequence[float], *, confidence: float = 0.95, n_resamples: int = 10_000,
              seed: int = 0) -> dict:
    """Mean, sample standard deviation and bootstrap interval of the mean over seeds.

    Args:
        values: the metric of each seed.
        confidence, n_resamples, seed: as in :func:`bootstrap_ci`.

    Returns:
        ``{"mean": float, "std": float, "ci": [low, high]}``; ``std`` uses ``ddof=1`` and is 0.0
        for a single value.

    >>> s = summarize([0.80, 0.82, 0.84])
    >>> round(s["mean"], 2), round(s["std"], 2), len(s["ci"])
    (0.82, 0.02, 2)
    """
    where = "summarize"
    arr = _per_seed("values", values, where)
    confidence, n_resamples, seed = _bootstrap_args(where, confidence, n_resamples, seed)
    lo, hi = _percentile_bootstrap(arr, confidence, n_resamples, "mean", seed)
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return {"mean": float(arr.mean()), "std": std, "ci": [lo, hi]}


def prob_improvement(variant: Sequence[float], baseline: Sequence[float], *,
                     higher_is_better: bool = True) -> float:
    """P(X > Y) + 0.5 P(X = Y) for X a variant's seed and Y a baseline's seed.

    This is the Mann-Whitney U statistic divided by ``n * m``, the "probability of improvement" of
    ``rliable``: every variant seed is compared with every baseline seed, unpaired. When lower is
    better (a loss), "improvement" means X < Y.

    >>> prob_improvement([3, 4], [1, 3])
    0.875
    """
    where = "prob_improvement"
    x = _per_seed("variant", variant, where)
    y = _per_seed("baseline", baseline, where)
    if not _flag("higher_is_better", higher_is_better, where):
        x, y = -x, -y
    diff = x[:, None] - y[None, :]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


def _wilcoxon_p(diff: np.ndarray) -> float | None:
    """Two-sided signed-rank p-value, or None where the test cannot say anything.

    The test drops zero differences. With no nonzero difference its statistic is undefined (SciPy
    returns p = 1 with a division warning), and with one the smallest two-sided p it can reach is 1,
    so both cases are reported as "no test" rather than as a p-value that looks like evidence of no
    effect. More generally the exact test with k nonzero differences cannot go below 2 / 2**k, so
    fewer than 6 seeds can never reach p < 0.05.
    """
    if np.count_nonzero(diff) < 2:
        return None
    from scipy import stats

    return float(stats.wilcoxon(diff).pvalue)


def paired_comparison(variant: Sequence[float], baseline: Sequence[float], *,
                      higher_is_better: bool = True, confidence: float = 0.95,
                      n_resamples: int = 10_000, seed: int = 0) -> dict:
    """Compare a variant with the baseline over matched seeds.

    Seed ``i`` of the variant is paired with seed ``i`` of the baseline (same initialisation and
    data order), which removes the seed's shared part of the noise from the difference.

    Args:
        variant: the variant's metric per seed.
        baseline: the baseline's metric per seed, in the same seed order.
        higher_is_better: False for a loss; the signs below then flip so that > 0 still means better.
        confidence, n_resamples, seed: as in :func:`bootstrap_ci`, for the interval of the difference.

    Returns:
        ``{"difference": mean of the paired differences, "ci": [low, high] (bootstrap of the paired
        differences), "prob_improvement": see :func:`prob_improvement`, "wilcoxon_p": two-sided
        Wilcoxon signed-rank p-value of the paired differences, or None with fewer than 2 nonzero
        differences}``.

    >>> r = paired_comparison([0.85, 0.86, 0.84], [0.81, 0.83, 0.82])
    >>> round(r["difference"], 3), r["prob_improvement"], r["wilcoxon_p"]
    (0.03, 1.0, 0.25)
    """
    where = "paired_comparison"
    x = _per_seed("variant", variant, where)
    y = _per_seed("baseline", baseline, where)
    if x.size != y.size:
        raise ValueError(
            f"Arguments `variant` and `baseline` of {where} must hold one value per seed, matched by "
            f"position: got {x.size} variant values and {y.size} baseline values."
        )
    better = _flag("higher_is_better", higher_is_better, where)
    confidence, n_resamples, seed = _bootstrap_args(where, confidence, n_resamples, seed)
    diff = (x - y) if better else (y - x)
    lo, hi = _percentile_bootstrap(diff, confidence, n_resamples, "mean", seed)
    return {
        "difference": float(diff.mean()),
        "ci": [lo, hi],
        "prob_improvement": prob_improvement(x, y, higher_is_better=better),
        "wilcoxon_p": _wilcoxon_p(diff),
    }


def min_detectable_difference(baseline_values: Sequence[float], *, n_seeds: int | None = None,
                              confidence: float = 0.95, power: float = 0.8) -> float:
    """The smallest paired difference a study of ``n_seeds`` seeds would detect, from the seed spread.

    Uses the normal approximation of a two-sided paired test,
    ``(z[1 - alpha/2] + z[power]) * s_diff / sqrt(n)``, with ``alpha = 1 - confidence`` and the spread
    of the paired differences estimated as ``s_diff = sqrt(2) * std(baseline, ddof=1)``: variant and
    baseline are taken to vary as much as each other and independently across seeds. Matched seeds
    usually correlate, which makes ``s_diff`` smaller, so the figure errs on the large side there;
    the normal quantiles (not Student's t) err on the small side at very few seeds. It is an order of
    magnitude for the note under a table, not a power analysis.

    Args:
        baseline_values: the baseline's metric per seed (at least 2, to estimate the spread).
        n_seeds: seeds of the study; default ``len(baseline_values)``.
        confidence: 1 - the test's significance level, in (0, 1). Default 0.95.
        power: the probability of detecting a difference of this size, in (0, 1). Default 0.8.

    >>> round(min_detectable_difference([0.80, 0.82, 0.84]), 3)
    0.046
    """
    where = "min_detectable_difference"
    arr = _per_seed("baseline_values", baseline_values, where)
    if arr.size < 2:
        raise invalid("baseline_values", "at least 2 values to estimate the seed spread",
                      arr.tolist(), where)
    n = arr.size if n_seeds is None else check_int("n_seeds", n_seeds, low=1, where=where)
    confidence = _confidence(confidence, where)
    power = check_float("power", power, low=0.0, high=1.0, low_open=True, high_open=True, where=where)
    from scipy import stats

    z = stats.norm.ppf(1.0 - (1.0 - confidence) / 2) + stats.norm.ppf(power)
    return float(z * math.sqrt(2.0) * arr.std(ddof=1) / math.sqrt(n))


def too_few_seeds(n: int) -> bool:
    """True when ``n`` seeds are too few to rank variants (fewer than ``FEW_SEEDS``).

    >>> too_few_seeds(2), too_few_seeds(5)
    (True, False)
    """
    return check_int("n", n, low=0, where="too_few_seeds") < FEW_SEEDS


def is_fraction_metric(metric: str) -> bool:
    """Whether a metric's values are fractions in [0, 1] (accuracy, AUC, precision, recall, F1).

    >>> is_fraction_metric("val_accuracy"), is_fraction_metric("loss")
    (True, False)
    """
    name = str(metric).lower()
    return any(word in name for word in _FRACTION_WORDS)


def few_seeds_note(n: int, mdd: float | None, metric: str, *, fraction: bool | None = None) -> str:
    """The sentence a table shows under too few seeds.

    A fraction metric (see :func:`is_fraction_metric`, or ``fraction=True``) states the difference
    in points (x 100, one decimal); any other metric states it in its own units (3 significant
    digits). ``mdd=None`` (one seed: no spread to estimate) says the difference is unknown.

    Args:
        n: the study's seeds.
        mdd: :func:`min_detectable_difference` of the baseline, or None.
        metric: the metric's name, e.g. "accuracy" or "loss".
        fraction: whether the metric lies in [0, 1]; default: guessed from its name.

    >>> few_seeds_note(2, 0.0312, "accuracy")
    'With 2 seeds the intervals are too wide to rank variants; the smallest difference this study could detect is about 3.1 points of accuracy.'
    >>> few_seeds_note(3, 0.0456, "loss")
    'With 3 seeds the intervals are too wide to rank variants; the smallest difference this study could detect is about 0.0456 in loss.'
    """
    where = "few_seeds_note"
    n = check_int("n", n, low=1, where=where)
    seeds = f"{n} seed{'s' if n != 1 else ''}"
    head = f"With {seeds} the intervals are too wide to rank variants; "
    if mdd is None:
        return head + (f"the seed spread cannot be estimated, so the smallest difference this study "
                       f"could detect in {metric} is unknown.")
    mdd = check_float("mdd", mdd, low=0.0, where=where)
    if fraction is None:
        fraction = is_fraction_metric(metric)
    if _flag("fraction", fraction, where):
        size = f"{100.0 * mdd:.1f} points of {metric}"
    else:
        size = f"{mdd:.3g} in {metric}"
    return head + f"the smallest difference this study could detect is about {size}."


def one_standard_error_choice(values: Sequence[float], means: Sequence[float],
                              stds_of_mean: Sequence[float], *, higher_is_better: bool = True,
                              prefer: str = "largest") -> tuple[float, float]:
    """The best value of a sweep and the one-standard-error rule's choice.

    The one-standard-error rule (Breiman et al. 1984, "Classification and Regression Trees";
    Hastie, Tibshirani and Friedman, "The Elements of Statistical Learning", 7.10) takes the most
    regularized value whose mean is within one standard error of the best mean: its score cannot be
    told apart from the best one, and the stronger regularization is the safer bet on new data.

    Args:
        values: the swept values (e.g. L2 strengths).
        means: the mean validation metric at each value.
        stds_of_mean: the standard error of each mean (std over seeds / sqrt(seeds)).
        higher_is_better: False for a loss.
        prefer: which end is the most regularized: "largest" (default: strengths, rates) or
            "smallest" (e.g. a width or a number of epochs).

    Returns:
        ``(best, one_se)``: the value with the best mean, and the rule's choice.

    >>> one_standard_error_choice([1e-4, 1e-3, 1e-2, 1e-1], [0.80, 0.84, 0.83, 0.70],
    ...                           [0.01, 0.01, 0.01, 0.01])
    (0.001, 0.01)
    """
    where = "one_standard_error_choice"
    v = _per_seed("values", values, where, what="one per swept value")
    m = _per_seed("means", means, where, what="one per swept value")
    se = _per_seed("stds_of_mean", stds_of_mean, where, what="one per swept value")
    if not v.size == m.size == se.size:
        raise ValueError(
            f"Arguments `values`, `means` and `stds_of_mean` of {where} must have the same length: "
            f"got {v.size}, {m.size} and {se.size}."
        )
    if (se < 0).any():
        raise invalid("stds_of_mean", "standard errors >= 0", se.tolist(), where)
    prefer = check_choice("prefer", prefer, ("largest", "smallest"), where=where)
    sign = 1.0 if _flag("higher_is_better", higher_is_better, where) else -1.0
    score = sign * m
    best = int(np.argmax(score))
    within = v[score >= score[best] - se[best]]
    one_se = within.max() if prefer == "largest" else within.min()
    return float(v[best]), float(one_se)
