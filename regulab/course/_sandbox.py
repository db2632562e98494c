"""Run a learner's file and record what it built: the namespace it leaves and the ``fit`` calls.

The file runs with ``tensorflow`` and ``keras`` aliased to regulab (as under ``regulab run``) and
with the exercise's data predefined (``X_train``, ``y_train``, ``X_test``, ``y_test``). A mistake of
the learner's (a syntax error, an exception, a name regulab lacks) becomes a finding naming the line,
never a crash of the checker. ``python -m regulab.course._sandbox ID FILE RESULT.json`` is the
process :mod:`regulab.course._checker` starts.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FitCall:
    """One ``model.fit`` call the learner made: the model, its arguments by name, its History."""

    model: object
    arguments: dict
    history: object = None

    @property
    def callbacks(self) -> list:
        return list(self.arguments.get("callbacks") or [])


@dataclass
class LearnerRun:
    """What a learner's code left: its variables, its ``fit`` calls (None when not recorded, as in
    a notebook), the predefined data and the exercise."""

    namespace: dict
    fits: list[FitCall] | None
    data: dict
    exercise: object = None
    output: str = ""
    errors: list[str] = field(default_factory=list)
    #: the line of the learner's file that called ``sys.exit``, if one did
    exit_line: int | None = None

    @property
    def model(self):
        return self.namespace.get("model")

    def fits_of(self, model) -> list[FitCall]:
        """The recorded ``fit`` calls on ``model`` (empty when fits were not recorded)."""
        return [call for call in self.fits or [] if call.model is model]

    def values_of_type(self, kind) -> dict:
        """The learner's variables holding an instance of ``kind``, by name."""
        return {name: value for name, value in self.namespace.items()
                if not name.startswith("_") and isinstance(value, kind)}


def required_findings(run: LearnerRun) -> list[str]:
    """Findings for names the exercise needs but the learner's code did not define."""
    found = []
    for name in getattr(run.exercise, "requires", []):
        if name not in run.namespace:
            exited = f" (the file called sys.exit() at line {run.exit_line} before that)" if run.exit_line else ""
            found.append(f"the file defines no `{name}`{exited}: the check inspects it, so assign it at the top level"
                         + (", e.g. `model = Sequential([...])`" if name == "model" else ""))
    return found


def _learner_line(error: BaseException, filename: str) -> int | None:
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


def _error_finding(error: BaseException, filename: str) -> str:
    from regulab.compat import NotInRegulabError, NotInRegulabImportError

    if isinstance(error, SyntaxError):
        text = (error.text or "").strip()
        return (f"line {error.lineno}: syntax error: {error.msg}" + (f" in `{text}`" if text else "")
                + "; the file must be valid Python before it can be checked")
    line = _learner_line(error, filename)
    where = f"line {line}: " if line else ""
    if isinstance(error, (NotInRegulabError, NotInRegulabImportError)):
        return f"{where}{error}"
    if isinstance(error, EOFError):
        return f"{where}input() cannot be answered during a check; remove it and set the value in the file"
    return f"{where}your code raised {type(error).__name__}: {error}"


@contextlib.contextmanager
def _recording_fits(calls: list):
    """Record every ``Model.fit`` call while the learner's code runs."""
    import inspect

    from regulab.models import Model

    original = Model.fit
    signature = inspect.signature(original)

    def fit(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
        call = FitCall(self, arguments)
        calls.append(call)
        call.history = original(self, *args, **kwargs)
        return call.history

    Model.fit = fit
    try:
        yield
    finally:
        Model.fit = original


@contextlib.contextmanager
def _importable(folder: Path):
    """The learner's folder on ``sys.path`` while their file runs (so it can import its neighbours),
    and only then: the checker's own imports never see it."""
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        if str(folder) in sys.path:
            sys.path.remove(str(folder))


def run_learner(exercise, path, source: str | None = None) -> LearnerRun:
    """Run the learner's file in this process and return what it left (see the module docstring)."""
    import matplotlib

    import regulab
    from regulab.compat import aliased

    matplotlib.use("Agg")
    path = Path(path)
    filename = str(path)
    data = exercise.data()
    namespace = {"__name__": "__main__", "__file__": filename, **data}
    calls: list[FitCall] = []
    run = LearnerRun(namespace=namespace, fits=calls, data=data, exercise=exercise)
    if source is None:
        try:
            source = path.read_bytes()  # bytes: compile honours a byte-order mark and a coding line
        except OSError as error:
            run.errors.append(f"cannot read {path}: {error}")
            return run
    try:
        code = compile(source, filename, "exec")
    except (SyntaxError, ValueError) as error:  # ValueError: null bytes in the file
        run.errors.append(_error_finding(error, filename))
        return run
    out = io.StringIO()
    # a learner who sets no seed still gets the same verdict twice: initial weights, shuffles and
    # masks repeat (a seed the file sets itself takes over)
    regulab.set_random_seed(0)
    try:
        with aliased(), _recording_fits(calls), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), \
                _importable(path.resolve().parent):
            exec(code, namespace)
    except SystemExit as stop:
        run.exit_line = _learner_line(stop, filename)
    except BaseException as error:  # the learner's mistake, reported as a finding
        if isinstance(error, KeyboardInterrupt):
            raise
        run.errors.append(_error_finding(error, filename))
    run.output = out.getvalue()
    return run


def check_in_process(exercise, path, source: str | None = None):
    """Run and check a learner's file in this process (the checker's child process calls this)."""
    from regulab.course._exercise import CheckReport

    run = run_learner(exercise, path, source)
    findings = run.errors or required_findings(run) or checked_findings(run)
    return CheckReport(exercise.id, findings, run.output)


def checked_findings(run: LearnerRun) -> list[str]:
    """The exercise's check on ``run``; an object it did not expect is a finding, not a crash."""
    from regulab.models import Model

    model = run.namespace.get("model", None)
    if "model" in getattr(run.exercise, "requires", []) and not isinstance(model, Model):
        others = [name for name, value in run.namespace.items() if isinstance(value, Model) and not name.startswith("_")]
        hint = f"; you built `{others[0]}`: name it `model`" if others else ", e.g. `model = Sequential([...])`"
        return [f"`model` is {type(model).__name__}, not a regulab or Keras model{hint}"]
    try:
        return run.exercise.findings(run)
    except Exception as error:  # noqa: BLE001 - the learner's objects can be anything
        return [f"the check could not inspect what your code built ({type(error).__name__}: {error})"]


def main(argv=None) -> int:
    from regulab.course._exercise import exercise as find_exercise

    exercise_id, path, result = argv if argv is not None else sys.argv[1:]
    report = check_in_process(find_exercise(exercise_id), path)
    Path(result).write_text(json.dumps({"findings": report.findings, "output": report.output}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
