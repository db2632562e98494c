"""``lab.sweep``: one setting over a range of values, every value trained stacked over seeds.

The validation metric of each value, with its 95% interval over seeds, makes the validation
curve; the best value maximizes it, and the one-standard-error choice (Breiman et al., 1984;
Hastie et al., 2009, section 7.10) is the most regularized value whose mean lies within one
standard error of the best: the safer pick when several values are as good within noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab._validation import check_choice
from regulab.lab import _stats
from regulab.lab._result import StudyResult
from regulab.lab._study import study

#: settings a sweep can vary, and which end of the range regularizes more
SWEEPABLE = {"l1": "largest", "l1_proximal": "largest", "l2": "largest", "dropout": "largest",
             "gaussian_noise": "largest", "learning_rate": "smallest", "width": "smallest"}


@dataclass
class SweepResult:
    """The validation curve of one setting (``val_mean``/``val_ci`` per value) and the study behind it."""

    param: str
    values: list[float]
    val_mean: list[float]
    val_ci: list[list[float]]
    test_mean: list[float]
    best: float
    one_se: float
    study: StudyResult

    def to_json(self) -> dict:
        return {"param": self.param, "values": self.values, "val_mean": self.val_mean, "val_ci": self.val_ci,
                "test_mean": self.test_mean, "best": self.best, "one_se": self.one_se}

    def table(self):
        return self.study.table()

    def report(self, path):
        return self.study.report(path)

    def _repr_html_(self) -> str:
        return self.study._repr_html_()

    def __str__(self) -> str:
        lines = [f"{self.param}: validation {self.study.metric} per value (mean, 95% interval over seeds)"]
        for v, m, (lo, hi) in zip(self.values, self.val_mean, self.val_ci):
            mark = " <- best" if v == self.best else ""
            mark += " <- one-standard-error choice" if v == self.one_se else ""
            lines.append(f"  {v:g}: {m:.4f} [{lo:.4f}, {hi:.4f}]{mark}")
        return "\n".join(lines)


def _label(param: str, value: float) -> str:
    return f"{param} {value:g}"


def sweep(build_model, data, param: str, values, *, seeds=5, epochs: int = 100, batch_size: int = 32,
          output_dir=None, title: str | None = None, verbose: int = 1, **study_args) -> SweepResult:
    """Train ``build_model`` with ``param`` at each of ``values`` over ``seeds``, stacked.

    >>> import numpy as np
    >>> np.logspace(-4, -1, 4).tolist()  # a typical range of L2 factors
    [0.0001, 0.001, 0.01, 0.1]

    Args:
        param: one of ``l1``, ``l1_proximal``, ``l2``, ``dropout``, ``gaussian_noise``,
            ``learning_rate``, ``width``.
        values: the values to try (at least 2).
        Other arguments are :func:`regulab.lab.study`'s.
    """
    param = check_choice("param", param, SWEEPABLE, where="sweep")
    values = [float(v) for v in values]
    if len(values) < 2:
        raise ValueError(f"Argument `values` of sweep needs at least 2 values; received {values!r}.")
    if len(set(values)) != len(values):
        raise ValueError(f"Argument `values` of sweep has repeated values: {values!r}.")
    variants = {_label(param, v): {param: v} for v in values}
    result = study(build_model, data, variants, seeds=seeds, epochs=epochs, batch_size=batch_size,
                   output_dir=output_dir, title=title or f"Sweep of {param}", verbose=verbose, **study_args)
    higher = result.to_json()["higher_is_better"]
    rows = [result.variants[_label(param, v)] for v in values]
    val = [np.asarray(r["val"], dtype=float) for r in rows]
    means = [float(v.mean()) for v in val]
    sems = [float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0 for v in val]
    best, one_se = _stats.one_standard_error_choice(values, means, sems, higher_is_better=higher,
                                                    prefer=SWEEPABLE[param])
    out = SweepResult(param, values, means, [list(_stats.bootstrap_ci(v)) for v in val],
                      [float(np.mean(r["test"])) for r in rows], float(best), float(one_se), result)
    result.to_json()["sweep"] = out.to_json()
    if output_dir is not None:
        result.report(output_dir)
    return out
