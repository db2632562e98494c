"""A realistic study result (the dict ``StudyResult.to_json()`` returns), built from random data.

The curves follow the shapes a real study shows: the plain model's validation loss turns up while
its training loss keeps falling (overfitting), L2 and proximal L1 narrow the gap, and early stopping
ends some seeds before the last epoch. Summaries are computed from the per-seed numbers the way the
study computes them (percentile bootstrap over seeds, paired differences against the baseline), so
the report's table can be checked against them.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

SEEDS = [0, 1, 2, 3, 4]
EPOCHS = 30
N_INPUTS = 100
INFORMATIVE = [7, 23, 41, 66, 90]


def _bootstrap_ci(values, rng, n=2000):
    values = np.asarray(values, dtype=float)
    means = rng.choice(values, size=(n, values.size), replace=True).mean(axis=1)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def _summary(values, rng):
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)),
            "ci": _bootstrap_ci(values, rng)}


def _history(rng, epochs, overfit, level):
    """Loss and accuracy curves of one seed: ``overfit`` sets how far validation turns up."""
    t = np.arange(1, epochs + 1, dtype=float)
    train_loss = 0.15 + 0.55 * np.exp(-t / 6) - 0.004 * overfit * t
    val_loss = 0.3 + 0.45 * np.exp(-t / 5) + 0.0009 * overfit * t ** 1.5
    noise = lambda: rng.normal(0, 0.01, epochs)  # noqa: E731 - one draw per curve
    train_loss, val_loss = np.clip(train_loss + noise(), 0.01, None), val_loss + noise()
    acc = np.clip(level + 0.12 - 0.35 * np.exp(-t / 5) + 0.002 * overfit * t + noise(), 0, 1)
    val_acc = np.clip(level - 0.3 * np.exp(-t / 5) - 0.0004 * overfit * t + noise(), 0, 1)
    return {"loss": train_loss.tolist(), "val_loss": val_loss.tolist(),
            "accuracy": acc.tolist(), "val_accuracy": val_acc.tolist()}


def _weights(rng, zero_fraction, scale):
    kernel = rng.normal(0, scale, N_INPUTS * 64 * len(SEEDS))
    kernel[rng.random(kernel.size) < zero_fraction] = 0.0
    counts, edges = np.histogram(kernel, bins=40)
    return {"layer": "dense", "counts": counts.tolist(), "edges": edges.tolist()}


# name -> (settings, group, overfit, held-out level, early-stopping patience, zero fraction, weight scale)
_VARIANTS = {
    "baseline": ({}, "dense", 1.0, 0.80, None, 0.0, 0.15),
    "L2": ({"l2": 0.01}, "dense", 0.3, 0.83, None, 0.0, 0.06),
    "proximal L1": ({"l1_proximal": 0.001}, "dense", 0.2, 0.84, None, 0.93, 0.05),
    "dropout + early stopping": ({"dropout": 0.5, "early_stopping": 5}, "dropout", 0.5, 0.82, 5, 0.0, 0.1),
}


def _diagnosis(overfit, rng):
    if overfit > 0.6:
        return {"verdict": "overfitting", "agreement": 1.0,
                "evidence": {"best_epoch": int(rng.integers(8, 12)), "gap_at_best": 0.041,
                             "gap_at_last": 0.118, "train_trend": "falling", "val_trend": "rising",
                             "noise": 0.006, "reference": {"chance_accuracy": 0.5}},
                "recommendations": [
                    {"technique": "L2", "settings": {"l2": 0.01},
                     "reason": "the validation loss rises after epoch 10 while the training loss falls"},
                    {"technique": "early stopping", "settings": {"early_stopping": 5},
                     "reason": "the best validation loss is 20 epochs before the end"},
                    {"technique": "dropout", "settings": {"dropout": 0.3},
                     "reason": "a gap of 0.118 at the last epoch"},
                    {"technique": "smaller model", "settings": {"width": 0.5},
                     "reason": "the training loss is far below the validation loss"}]}
    return {"verdict": "good fit", "agreement": 0.8,
            "evidence": {"best_epoch": int(rng.integers(20, 30)), "gap_at_best": 0.012,
                         "gap_at_last": 0.015, "train_trend": "flat", "val_trend": "flat",
                         "noise": 0.005},
            "recommendations": []}


def build_result(rename: dict[str, str] | None = None, *, sweep: bool = True,
                 variants: list[str] | None = None, seed: int = 0) -> dict:
    """Return a study result following the study's JSON schema.

    Args:
        rename: display names to give some variants (``{"L2": "L2 <b>"}``), in groups too.
        sweep: include an L2 sweep.
        variants: which of the built-in variants to keep (default all, baseline first).
        seed: the random data's seed.
    """
    rng = np.random.default_rng(seed)
    rename = rename or {}
    keep = variants or list(_VARIANTS)
    out, base_test, base_gap = {}, None, None
    for name in keep:
        settings, group, overfit, level, patience, zeros, scale = _VARIANTS[name]
        epochs = [EPOCHS if patience is None else int(rng.integers(12, EPOCHS + 1)) for _ in SEEDS]
        histories = [_history(rng, n, overfit, level) for n in epochs]
        train = [h["accuracy"][-1] for h in histories]
        val = [h["val_accuracy"][-1] for h in histories]
        test = np.asarray(val) + rng.normal(0, 0.008, len(SEEDS))
        gap = np.asarray(train) - np.asarray(val)
        if name == "baseline":
            base_test, base_gap, vs = test, gap, None
        else:
            diff, gdiff = test - base_test, gap - base_gap
            u = stats.mannwhitneyu(test, base_test).statistic
            vs = {"difference": float(diff.mean()), "ci": _bootstrap_ci(diff, rng),
                  "prob_improvement": float(u / (len(test) * len(base_test))),
                  "wilcoxon_p": float(stats.wilcoxon(diff).pvalue),
                  "gap_difference": float(gdiff.mean()), "gap_ci": _bootstrap_ci(gdiff, rng)}
        surviving = None
        if "l1_proximal" in settings:
            surviving = [1.0 if i in INFORMATIVE else float(rng.choice([0.0, 0.0, 0.0, 0.2, 0.4]))
                         for i in range(N_INPUTS)]
        out[rename.get(name, name)] = {
            "settings": settings, "group": group, "test": test.tolist(), "train": train, "val": val,
            "gap": gap.tolist(), "epochs": epochs,
            "zero_fraction": [float(np.clip(zeros + rng.normal(0, 0.01), 0, 1)) if zeros else 0.0
                              for _ in SEEDS],
            "histories": histories, "summary": _summary(test, rng), "gap_summary": _summary(gap, rng),
            "vs_baseline": vs, "diagnosis": _diagnosis(overfit, rng),
            "weights": _weights(rng, zeros, scale), "surviving_inputs": surviving,
        }
    groups = []
    for group, mode, reason, seconds in [("dense", "stacked", "", 3.4),
                                         ("dropout", "one by one", "adds Dropout layers, so its "
                                          "architecture differs from the other variants'", 6.1)]:
        members = [rename.get(n, n) for n in keep if _VARIANTS[n][1] == group]
        if members:
            groups.append({"name": group, "variants": members, "mode": mode, "reason": reason,
                           "seconds": seconds})
    result = {
        "title": "Regularization on the 100-feature task",
        "metric": "accuracy", "higher_is_better": True, "seeds": SEEDS, "baseline": "baseline",
        "data": {"train": 400, "val": 100, "test": 1000,
                 "description": "the seed's 100-feature task: 5 informative inputs, 95 noise"},
        "groups": groups, "variants": out, "sweep": None,
        "notes": ["The intervals are 95% percentile bootstrap intervals over 5 seeds."],
    }
    if sweep:
        values = np.logspace(-4, -1, 7)
        val_mean = 0.84 - 0.02 * (np.log10(values) + 2.5) ** 2
        half = rng.uniform(0.008, 0.015, values.size)
        best = int(np.argmax(val_mean))
        result["sweep"] = {
            "param": "l2", "values": values.tolist(), "val_mean": val_mean.tolist(),
            "val_ci": [[float(m - h), float(m + h)] for m, h in zip(val_mean, half)],
            "test_mean": (val_mean - 0.005).tolist(), "best": float(values[best]),
            "one_se": float(values[best + 1]),
        }
    return result
