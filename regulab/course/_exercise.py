"""Exercises: a task, a starter file, a solution, tiered hints and a check.

Each exercise is a folder in ``exercises/`` holding ``exercise.toml`` (id, lesson, title, task,
data, time limit, hints), ``starter.py``, ``solution.py`` and ``check.py``. ``check.py`` defines
``check(run)``, which yields one sentence per problem it finds in a learner's :class:`LearnerRun`
(nothing when the work is right), and may define ``data()``, the names predefined for the learner
when the exercise's data is not one of :mod:`regulab.course._exercise_data`'s.
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_KEYS = {"id", "lesson", "title", "task", "data", "timeout", "hints", "requires"}


@dataclass
class CheckReport:
    """What a check found: ``findings`` (one sentence each; none means it passed) and the learner's output."""

    exercise: str
    findings: list[str]
    output: str = ""

    @property
    def passed(self) -> bool:
        return not self.findings

    def __str__(self) -> str:
        if self.passed:
            return f"exercise {self.exercise}: every check passes"
        lines = [f"exercise {self.exercise}: {len(self.findings)} problem{'s' if len(self.findings) > 1 else ''}"]
        lines += [f"  - {finding}" for finding in self.findings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        if self.passed:
            return f"<p>&#10004; exercise {html.escape(self.exercise)}: every check passes</p>"
        items = "".join(f"<li>{html.escape(f)}</li>" for f in self.findings)
        return f"<p>&#10008; exercise {html.escape(self.exercise)}:</p><ul>{items}</ul>"


@dataclass
class Exercise:
    """One exercise, read from its folder."""

    id: str
    lesson: str
    title: str
    task: str
    folder: Path
    data_name: str = "none"
    timeout: float = 120.0
    hints: list[str] = field(default_factory=list)
    requires: list[str] = field(default_factory=lambda: ["model"])

    @classmethod
    def from_folder(cls, folder: Path) -> "Exercise":
        spec = tomllib.loads((folder / "exercise.toml").read_text(encoding="utf-8"))
        unknown = set(spec) - _KEYS
        if unknown:
            raise ValueError(f"{folder / 'exercise.toml'} has unknown keys {sorted(unknown)}; known: {sorted(_KEYS)}")
        return cls(id=spec["id"], lesson=spec["lesson"], title=spec["title"], task=spec["task"].strip(),
                   folder=folder, data_name=spec.get("data", "none"), timeout=float(spec.get("timeout", 120)),
                   hints=list(spec.get("hints", [])), requires=list(spec.get("requires", ["model"])))

    def starter(self) -> str:
        """The file the learner starts from."""
        return (self.folder / "starter.py").read_text(encoding="utf-8")

    def solution(self) -> str:
        """A solution that passes the check."""
        return (self.folder / "solution.py").read_text(encoding="utf-8")

    def hint(self, level: int = 1) -> str:
        """Hint ``level`` (1 is the gentlest; the last one nearly gives the answer)."""
        if not self.hints:
            raise ValueError(f"Exercise {self.id} has no hints.")
        if not 1 <= level <= len(self.hints):
            raise ValueError(f"Exercise {self.id} has hints 1 to {len(self.hints)}; got level {level}.")
        return self.hints[level - 1]

    @cached_property
    def _module(self):
        path = self.folder / "check.py"
        spec = importlib.util.spec_from_file_location(f"regulab.course.exercises.{self.folder.name}.check", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def data(self) -> dict:
        """The names predefined for the learner (``X_train``, ``y_train``, ``X_test``, ``y_test``)."""
        if hasattr(self._module, "data"):
            return dict(self._module.data())
        from regulab.course._exercise_data import named_data

        return named_data(self.data_name)

    def findings(self, run) -> list[str]:
        """The exercise's own check, applied to a :class:`~regulab.course._sandbox.LearnerRun`."""
        return [str(f) for f in self._module.check(run)]

    def check(self, namespace: dict) -> CheckReport:
        """Check the variables of a notebook (pass ``globals()``), in the style of Kaggle's learntools.

        The notebook's ``fit`` calls were not recorded, so a check that needs them reads what the
        model and its callbacks remember instead.
        """
        from regulab.course._sandbox import LearnerRun, checked_findings, required_findings

        run = LearnerRun(namespace=dict(namespace), fits=None, data=self.data(), exercise=self)
        return CheckReport(self.id, required_findings(run) or checked_findings(run))

    def check_file(self, path, timeout: float | None = None) -> CheckReport:
        """Run a learner's file in a separate process with a time limit, then check what it built."""
        from regulab.course._checker import check_file

        return check_file(self, path, timeout=self.timeout if timeout is None else timeout)


def _folders() -> list[Path]:
    root = Path(str(resources.files("regulab.course") / "exercises"))
    return sorted(p for p in root.iterdir() if (p / "exercise.toml").is_file())


def _sort_key(exercise: Exercise):
    return tuple(int(part) for part in exercise.id.split("."))


_CACHE: dict[str, Exercise] = {}


def exercises() -> list[Exercise]:
    """Every exercise, in course order."""
    if not _CACHE:
        for folder in _folders():
            item = Exercise.from_folder(folder)
            _CACHE[item.id] = item
    return sorted(_CACHE.values(), key=_sort_key)


def exercise(id) -> Exercise:
    """The exercise with this id (``"5.4.1"``); an unknown id is an error that lists them."""
    key = str(id).strip()
    known = {item.id: item for item in exercises()}
    if key not in known:
        raise ValueError(f"There is no exercise {key!r}. The exercises are: {', '.join(known)}.")
    return known[key]
