"""``regulab run script.py``: a TensorFlow or Keras script, run on regulab."""
from __future__ import annotations

import runpy
import sys
import traceback
from pathlib import Path

from regulab.compat import aliased
from regulab.compat._facade import NotInRegulabError, NotInRegulabImportError


def _script_line(error: BaseException, script: Path) -> int | None:
    """The line of ``script`` where ``error`` was raised, if it passed through it."""
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if Path(frame.filename).resolve() == script.resolve():
            line = frame.lineno
    return line


def run_script(path, args=()) -> int:
    """Run ``path`` as ``__main__`` with ``tensorflow``/``keras`` resolving to regulab.

    Returns the exit status: 0 when the script ends, 1 when it uses a name regulab lacks (the
    message names it and the line), the script's own status for ``sys.exit``. Other exceptions
    propagate, as they would under ``python script.py``.
    """
    script = Path(path)
    if not script.is_file():
        print(f"regulab run: no such file: {script}", file=sys.stderr)
        return 2
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        with aliased():
            runpy.run_path(str(script), run_name="__main__")
    except (NotInRegulabError, NotInRegulabImportError) as error:
        line = _script_line(error, script)
        where = f"{script}, line {line}" if line else str(script)
        print(f"regulab run: {where}: {error}", file=sys.stderr)
        return 1
    except SystemExit as stop:
        code = stop.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path
    return 0


def add_parser(sub) -> None:
    run = sub.add_parser("run", help="run a script written for TensorFlow's Keras or Keras 3 on regulab",
                         description="Run a script with `tensorflow`, `tensorflow.keras`, `tf.keras` and `keras` "
                                     "resolving to regulab. A name regulab lacks stops it with a message naming it.")
    run.add_argument("script", help="the Python script")
    run.add_argument("args", nargs="...", help="arguments passed to the script")
    run.set_defaults(run=lambda args: run_script(args.script, args.args))
