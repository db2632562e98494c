"""Running a lesson (``regulab course run``) and writing its notebook (``regulab course notebook``)."""
from __future__ import annotations

import os
import runpy
import time
from pathlib import Path

from regulab.course._catalog import Lesson
from regulab.course._lesson_tools import OUTPUT_ENV, QUICK_ENV


def run_lesson(lesson: Lesson, quick: bool = False, output=None) -> float:
    """Run ``lesson`` in this process, its plots going to ``output`` (default
    ``regulab-course/<id>``); returns the seconds it took."""
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(output) if output is not None else Path("regulab-course") / lesson.id
    saved = {name: os.environ.get(name) for name in (QUICK_ENV, OUTPUT_ENV)}
    os.environ[QUICK_ENV] = "1" if quick else "0"
    os.environ[OUTPUT_ENV] = str(folder)
    start = time.perf_counter()
    try:
        runpy.run_path(str(lesson.path), run_name="__main__")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return time.perf_counter() - start


def write_notebook(lesson: Lesson, path=None) -> Path:
    """Write ``lesson`` as a Jupyter notebook (``<id>.ipynb`` by default) with jupytext."""
    try:
        import jupytext
    except ImportError:
        raise RuntimeError("`regulab course notebook` needs jupytext: pip install 'regulab[course]'") from None
    from regulab._atomic import atomic_write

    target = Path(path) if path is not None else Path(f"{lesson.file[:-3]}.ipynb")
    notebook = jupytext.reads(lesson.source(), fmt="py:percent")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    text = jupytext.writes(notebook, fmt="ipynb")
    atomic_write(target, text.encode("utf-8"))
    return target
