"""The study report's figures, drawn with matplotlib into PNG bytes.

Figures use matplotlib's object API (a ``Figure`` on an Agg canvas), never pyplot: nothing global
changes, so drawing a report inside a notebook leaves its backend and its open figures alone, and
there is no figure registry to close. Sizes and resolution are small on purpose, so that a report
of ten variants stays around a megabyte.
"""
from __future__ import annotations

import io
import math
from contextlib import contextmanager

import numpy as np

TRAIN, VAL, TEST, MARK = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"
DPI = 90
_STYLE = {"font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9, "legend.fontsize": 8,
          "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.spines.top": False,
          "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3}


@contextmanager
def _figure(width: float, height: float, *, nrows: int = 1, ncols: int = 1,
            margins: tuple[float, float, float, float] = (0.6, 0.15, 0.45, 0.3),
            gaps: tuple[float, float] = (0.6, 0.6), **subplots):
    """Yield ``(figure, axes)`` and leave the PNG bytes in the figure's ``png`` attribute.

    ``margins`` (left, right, bottom, top) and ``gaps`` (between columns, between rows) are in
    inches. Fixed margins instead of a layout engine: constrained layout measures every label
    twice and doubled the time a report takes to draw.
    """
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("The study report draws its plots with matplotlib, which is not "
                          "installed. Install it with: pip install matplotlib") from error
    left, right, bottom, top = margins
    axis_w = (width - left - right - (ncols - 1) * gaps[0]) / ncols
    axis_h = (height - bottom - top - (nrows - 1) * gaps[1]) / nrows
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(width, height), dpi=DPI)
        FigureCanvasAgg(fig)
        fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                            top=1 - top / height, wspace=gaps[0] / axis_w, hspace=gaps[1] / axis_h)
        axes = fig.subplots(nrows, ncols, squeeze=False, **subplots)
        yield fig, axes
        buffer = io.BytesIO()
        # no "Software" entry: the same result gives the same bytes whatever matplotlib wrote it
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        fig.png = buffer.getvalue()


def _short(name: str, limit: int = 32) -> str:
    """A variant's name cut to ``limit`` characters, so a long one cannot squeeze the plot out."""
    name = str(name)
    return name if len(name) <= limit else name[:limit - 1] + "…"


def _no_minor_ticks(axis) -> None:
    """Drop a log axis's minor ticks: they cost most of the drawing time and add nothing here."""
    from matplotlib.ticker import NullLocator
    axis.set_minor_locator(NullLocator())


def _text(value) -> str:
    """A label matplotlib prints as written ("$" would otherwise start mathtext)."""
    return str(value).replace("$", r"\$")


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def seed_band(curves) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, minimum and maximum over seeds per epoch, for curves of different lengths.

    A seed that stopped early counts only for the epochs it ran.

    >>> mean, low, high = seed_band([[1.0, 2.0, 3.0], [3.0, 4.0]])
    >>> mean.tolist(), low.tolist(), high.tolist()
    ([2.0, 3.0, 3.0], [1.0, 2.0, 3.0], [3.0, 4.0, 3.0])
    """
    curves = [_floats(c) for c in curves]
    table = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for row, curve in zip(table, curves):
        row[:len(curve)] = curve
    with np.errstate(all="ignore"), _quiet_nan():
        return np.nanmean(table, axis=0), np.nanmin(table, axis=0), np.nanmax(table, axis=0)


@contextmanager
def _quiet_nan():
    import warnings
    with warnings.catch_warnings():
        # an epoch where every seed logged NaN stays NaN in the plot; that is not worth a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def learning_curves(name: str, histories: list[dict], metric: str) -> bytes | None:
    """Train against validation of the loss and of ``metric``: mean line, min–max band over seeds."""
    keys = [k for k in dict.fromkeys(["loss", metric])
            if any(h.get(k) for h in histories)]
    if not keys:
        return None
    with _figure(3.6 * len(keys), 2.7, ncols=len(keys)) as (fig, axes):
        for ax, key in zip(axes[0], keys):
            for prefix, label, color in [("", "train", TRAIN), ("val_", "validation", VAL)]:
                curves = [h[prefix + key] for h in histories if h.get(prefix + key)]
                if not curves:
                    continue
                mean, low, high = seed_band(curves)
                epochs = np.arange(1, len(mean) + 1)
                ax.fill_between(epochs, low, high, color=color, alpha=0.2, linewidth=0)
                ax.plot(epochs, mean, color=color, label=f"{label} (mean of {len(curves)})")
            ax.set_title(_text(f"{_short(name)}: {key}"))
            ax.set_xlabel("epoch")
            ax.legend(loc="best", frameon=False)
    return fig.png


def _errors(means: np.ndarray, cis) -> tuple[np.ndarray, np.ndarray]:
    """Distances from each mean to its interval's ends, as ``errorbar`` wants them."""
    ends = np.array([_floats(c) if c else (np.nan, np.nan) for c in cis], dtype=float)
    return np.clip(means - ends[:, 0], 0, None), np.clip(ends[:, 1] - means, 0, None)


def forest(names: list[str], metric: list[dict], gap: list[dict], metric_name: str,
           baseline: int) -> bytes:
    """Held-out metric and generalization gap per variant, each with its 95% interval."""
    y = np.arange(len(names))[::-1]
    labels = [_text(_short(n)) for n in names]
    left = 0.3 + 0.065 * max(len(n) for n in labels)
    with _figure(8.2 + left, 0.75 + 0.34 * len(names), ncols=2, sharey=True, gaps=(0.35, 0),
                 margins=(left, 0.15, 0.4, 0.3)) as (fig, axes):
        panels = [(metric, f"held-out {metric_name}", TEST, _floats([metric[baseline]["mean"]])[0]),
                  (gap, "generalization gap (> 0: overfit)", VAL, 0.0)]
        for ax, (summaries, title, color, reference) in zip(axes[0], panels):
            means = _floats([s["mean"] for s in summaries])
            low, high = _errors(means, [s.get("ci") for s in summaries])
            ax.errorbar(means, y, xerr=[low, high], fmt="o", color=color, capsize=3)
            if math.isfinite(reference):
                ax.axvline(reference, color="0.4", linestyle="--", linewidth=1)
            ax.set_title(_text(title))
            ax.grid(axis="y", visible=False)
        axes[0][0].set_yticks(y, labels)
        axes[0][0].set_ylim(-0.6, len(names) - 0.4)
    return fig.png


def sweep_curve(sweep: dict, metric: str) -> bytes:
    """Validation metric against the swept value, its interval band, the best and one-SE choices."""
    values = _floats(sweep["values"])
    val_ci = np.array([c if c else (np.nan, np.nan) for c in sweep["val_ci"]], dtype=float)
    param = _text(sweep["param"])
    with _figure(8.4, 3.2, margins=(0.7, 2.1, 0.5, 0.3)) as (fig, axes):
        ax = axes[0][0]
        ax.fill_between(values, val_ci[:, 0], val_ci[:, 1], color=VAL, alpha=0.2, linewidth=0,
                        label="validation, 95% interval")
        ax.plot(values, _floats(sweep["val_mean"]), "o-", color=VAL, label="validation, mean")
        if sweep.get("test_mean"):
            ax.plot(values, _floats(sweep["test_mean"]), "s--", color=TEST, markersize=4,
                    label="held-out, mean")
        for key, label, style in [("best", "best", "-"), ("one_se", "one-SE choice", ":")]:
            value = _floats([sweep.get(key)])[0]
            if math.isfinite(value):
                ax.axvline(value, color=MARK, linewidth=1.2, linestyle=style,
                           label=f"{label}: {value:.3g}")
        positive = values[np.isfinite(values)]
        if positive.size and positive.min() > 0 and positive.max() / positive.min() >= 10:
            ax.set_xscale("log")
            _no_minor_ticks(ax.xaxis)
        ax.set_xlabel(param)
        ax.set_ylabel(_text(metric))
        ax.set_title(_text(f"sweep of {sweep['param']}"))
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return fig.png


def weight_histograms(items: list[tuple[str, dict, float]]) -> bytes:
    """One histogram per variant of its first kernel, from ``(name, weights, zero_fraction)``."""
    cols = min(4, len(items))
    rows = math.ceil(len(items) / cols)
    with _figure(2.6 * cols + 0.3, 0.3 + 2.3 * rows, nrows=rows, ncols=cols, gaps=(0.45, 0.95),
                 margins=(0.65, 0.15, 0.45, 0.5)) as (fig, axes):
        for ax, (name, weights, zeros) in zip(axes.flat, items):
            # log counts: a spike of exact zeros would otherwise flatten the rest of the histogram
            ax.stairs(_floats(weights["counts"]), _floats(weights["edges"]), fill=True,
                      color=TRAIN, alpha=0.8)
            ax.set_yscale("log")
            _no_minor_ticks(ax.yaxis)
            share = f", {zeros:.0%} zero" if zeros is not None and math.isfinite(zeros) else ""
            ax.set_title(_text(f"{_short(name, 28)}\n{weights.get('layer', 'first layer')}{share}"))
            ax.set_xlabel("weight")
        for ax in list(axes.flat)[len(items):]:
            ax.set_visible(False)
        axes[0][0].set_ylabel("count (log)")
    return fig.png


def surviving_inputs(items: list[tuple[str, list[float]]]) -> bytes:
    """Per variant, the fraction of seeds in which each input feature kept a non-zero weight."""
    with _figure(9.0, 0.45 + 1.75 * len(items), nrows=len(items), gaps=(0, 0.6),
                 margins=(0.65, 0.15, 0.45, 0.3)) as (fig, axes):
        for ax, (name, fractions) in zip(axes[:, 0], items):
            share = _floats(fractions)
            ax.bar(np.arange(len(share)), share, width=0.85, color=TEST)
            ax.set_ylim(0, 1.05)
            ax.set_xlim(-1, len(share))
            kept, gone = int((share >= 1).sum()), int((share <= 0).sum())
            ax.set_title(_text(f"{_short(name)}: {kept} of {len(share)} inputs kept in every seed, "
                               f"{gone} dropped in every seed"))
            ax.set_ylabel("share of seeds")
        axes[-1][0].set_xlabel("input feature")
    return fig.png
