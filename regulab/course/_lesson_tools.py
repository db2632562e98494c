"""What a lesson calls to know its mode and to report: ``quick()``, ``result()``, ``save_figure()``.

A lesson is a plain script (and, through jupytext, a notebook). ``regulab course run ID --quick``
sets ``REGULAB_COURSE_QUICK=1`` so that the lesson trains less, and ``REGULAB_COURSE_OUTPUT`` to the
folder its plots go to.
"""
from __future__ import annotations

import os
from pathlib import Path

QUICK_ENV = "REGULAB_COURSE_QUICK"
OUTPUT_ENV = "REGULAB_COURSE_OUTPUT"


def quick() -> bool:
    """Whether the lesson runs in quick mode (fewer epochs and seeds: a check that it runs).

    >>> import os
    >>> os.environ.pop("REGULAB_COURSE_QUICK", None) and None
    >>> quick()
    False
    """
    return os.environ.get(QUICK_ENV, "") == "1"


def output_dir() -> Path:
    """The folder a lesson writes its plots to (``REGULAB_COURSE_OUTPUT``, else ``./regulab-course``)."""
    path = Path(os.environ.get(OUTPUT_ENV) or "regulab-course")
    path.mkdir(parents=True, exist_ok=True)
    return path


def result(name: str, value, unit: str = ""):
    """Print one measured figure of the lesson as ``result: <name> = <value> <unit>`` and return it.

    Floats print with 4 significant digits.

    >>> result("held-out accuracy", 0.98765)
    result: held-out accuracy = 0.9877
    0.98765
    """
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"result: {name} = {text}{' ' + unit if unit else ''}", flush=True)
    return value


def save_figure(fig, name: str) -> Path:
    """Save a matplotlib figure as ``<output>/<name>.png``, close it and print where it went."""
    import matplotlib.pyplot as plt

    path = output_dir() / f"{name}.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"figure: {path}", flush=True)
    return path
