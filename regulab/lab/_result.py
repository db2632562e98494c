"""A study's result: per variant the held-out metric with its interval, the gap, the paired
comparison with the baseline and the diagnosis; as a rich table, JSON, a DataFrame or a report."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from regulab.lab import _stats


def console():
    """A rich Console for tables: the terminal's width, or 130 columns when writing to a file or a pipe
    (rich's default of 80 would cut the table's columns)."""
    from rich.console import Console

    out = Console()
    return out if out.is_terminal else Console(width=130)


def _gap(train: list, val: list, higher: bool) -> list[float]:
    """Train minus validation for a score, validation minus train for a loss: > 0 is overfitting."""
    return [(t - v) if higher else (v - t) for t, v in zip(train, val)]


def _diagnosis(histories) -> dict | None:
    from regulab.lab._diagnose import diagnose

    try:
        return diagnose(histories).to_json()
    except ValueError as err:  # an empty history: say so rather than fail the whole study
        return {"verdict": "unknown", "missing": [str(err)]}


class StudyResult:
    """What ``lab.study`` found. ``variants[name]`` holds the per-seed figures and their summaries
    (the schema of :meth:`to_json`)."""

    def __init__(self, payload: dict):
        self._payload = payload

    @classmethod
    def from_records(cls, records: list[dict], variants: dict, seeds: list[int], description: str, title: str,
                     data_sizes: tuple[int, int, int]) -> "StudyResult":
        metric, higher = records[0]["metric"], records[0]["higher_is_better"]
        runs = {}
        for record in records:
            runs.update({name: (record["name"], run) for name, run in record["runs"].items()})
        base = runs["baseline"][1]
        base_gap = _gap(base["train"], base["val"], higher)
        out = {}
        for name in variants:  # the study's order, baseline first
            group, run = runs[name]
            gap = _gap(run["train"], run["val"], higher)
            entry = {"settings": variants[name], "group": group, **{k: run[k] for k in (
                "test", "train", "val", "epochs", "zero_fraction", "histories", "weights", "surviving_inputs")},
                "gap": gap, "summary": _stats.summarize(run["test"]), "gap_summary": _stats.summarize(gap),
                "vs_baseline": None, "diagnosis": _diagnosis(run["histories"])}
            if name != "baseline" and len(seeds) > 1:
                paired = _stats.paired_comparison(run["test"], base["test"], higher_is_better=higher)
                diffs = np.subtract(gap, base_gap)
                paired["gap_difference"] = float(diffs.mean())
                paired["gap_ci"] = list(_stats.bootstrap_ci(diffs))
                entry["vs_baseline"] = paired
            out[name] = entry
        notes = []
        if _stats.too_few_seeds(len(seeds)):
            try:
                mdd = _stats.min_detectable_difference(base["test"])
            except ValueError:
                mdd = None
            notes.append(_stats.few_seeds_note(len(seeds), mdd, metric))
        for record in records:
            if record["mode"] != "stacked":
                notes.append(f"{record['name']} ({', '.join(record['variants'])}) trained one model at a time: "
                             f"{record['reason']}")
        payload = {"title": title, "metric": metric, "higher_is_better": higher, "seeds": list(seeds),
                   "baseline": "baseline",
                   "data": {"train": data_sizes[0], "val": data_sizes[1], "test": data_sizes[2],
                            "description": description},
                   "groups": [{k: r[k] for k in ("name", "variants", "mode", "reason", "seconds")} for r in records],
                   "variants": out, "sweep": None, "notes": notes}
        return cls(payload)

    # -- access
    @property
    def metric(self) -> str:
        return self._payload["metric"]

    @property
    def variants(self) -> dict:
        return self._payload["variants"]

    @property
    def groups(self) -> list[dict]:
        return self._payload["groups"]

    @property
    def notes(self) -> list[str]:
        return self._payload["notes"]

    def best(self) -> tuple[str, dict] | None:
        """The variant that improves most on the baseline with an interval excluding zero
        (``(name, its comparison)``), or None when no variant is shown to help."""
        shown = [(n, v["vs_baseline"]) for n, v in self.variants.items()
                 if v["vs_baseline"] is not None and v["vs_baseline"]["ci"][0] > 0]
        return max(shown, key=lambda item: item[1]["difference"]) if shown else None

    def to_json(self) -> dict:
        """A JSON-serializable dict (the report's input)."""
        return self._payload

    def to_frame(self):
        """One row per variant (pandas, which must be installed)."""
        import pandas as pd

        rows = []
        for name, v in self.variants.items():
            cmp = v["vs_baseline"] or {}
            rows.append({"variant": name, "group": v["group"], f"{self.metric} mean": v["summary"]["mean"],
                         f"{self.metric} std": v["summary"]["std"], "ci low": v["summary"]["ci"][0],
                         "ci high": v["summary"]["ci"][1], "gap mean": v["gap_summary"]["mean"],
                         "difference": cmp.get("difference"), "difference ci low": (cmp.get("ci") or [None])[0],
                         "difference ci high": (cmp.get("ci") or [None, None])[1],
                         "prob. improvement": cmp.get("prob_improvement"), "wilcoxon p": cmp.get("wilcoxon_p"),
                         "epochs": float(np.mean(v["epochs"])), "zero weights": float(np.mean(v["zero_fraction"])),
                         "verdict": (v["diagnosis"] or {}).get("verdict")})
        return pd.DataFrame(rows).set_index("variant")

    def table(self):
        """A rich Table: held-out metric (mean ± std, 95% interval), gap, difference with the baseline."""
        from rich import box
        from rich.table import Table

        scale = 100.0 if _stats.is_fraction_metric(self.metric) else 1.0
        unit = " %" if scale == 100.0 else ""
        table = Table(title=self._payload["title"], box=box.SIMPLE_HEAVY,
                      caption=f"held-out {self.metric} over {len(self._payload['seeds'])} seeds; gap: train minus "
                              "validation (> 0: overfitting); vs baseline: paired by seed")
        for col, justify in (("variant", "left"), (f"{self.metric}{unit}", "right"), ("95% CI", "right"),
                             ("gap", "right"), ("vs baseline [95% CI]", "right"), ("P(better)", "right"),
                             ("epochs", "right"), ("zeros %", "right"), ("verdict", "left")):
            table.add_column(col, justify=justify, no_wrap=True)
        for name, v in self.variants.items():
            s, cmp = v["summary"], v["vs_baseline"]
            vs = "" if cmp is None else (f"{scale * cmp['difference']:+.1f} "
                                         f"[{scale * cmp['ci'][0]:+.1f}, {scale * cmp['ci'][1]:+.1f}]")
            table.add_row(name, f"{scale * s['mean']:.1f} ± {scale * s['std']:.1f}",
                          f"[{scale * s['ci'][0]:.1f}, {scale * s['ci'][1]:.1f}]",
                          f"{scale * v['gap_summary']['mean']:.1f}", vs,
                          "" if cmp is None else f"{cmp['prob_improvement']:.2f}",
                          f"{np.mean(v['epochs']):.0f}", f"{100 * np.mean(v['zero_fraction']):.1f}",
                          (v["diagnosis"] or {}).get("verdict", ""))
        return table

    def summary_sentence(self) -> str:
        """Which technique helped most, by how much, with its interval (or that none is shown to)."""
        scale = 100.0 if _stats.is_fraction_metric(self.metric) else 1.0
        unit = " points" if scale == 100.0 else ""
        best = self.best()
        if best is None:
            return (f"No variant improved held-out {self.metric} over the baseline with a 95% interval that "
                    f"excludes zero.")
        name, cmp = best
        return (f"'{name}' helped most: held-out {self.metric} {scale * cmp['difference']:+.1f}{unit} over the "
                f"baseline (95% interval {scale * cmp['ci'][0]:+.1f} to {scale * cmp['ci'][1]:+.1f}; "
                f"better in {cmp['prob_improvement']:.0%} of seed pairs).")

    def report(self, path) -> Path:
        """Write the self-contained HTML report; returns its path."""
        from regulab.lab._report import write_report

        return write_report(self._payload, path)

    def _repr_html_(self) -> str:
        from regulab.lab._report import render_report

        return render_report(self._payload, standalone=False)

    def __repr__(self) -> str:
        return f"<StudyResult {self._payload['title']!r}: {len(self.variants)} variants, {len(self._payload['seeds'])} seeds>"
