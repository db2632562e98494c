"""``regulab course ...`` and ``regulab exercise ...``."""
from __future__ import annotations

import sys
from pathlib import Path


def _console():
    from rich.console import Console

    return Console(highlight=False)


def _runtime_text(lesson) -> str:
    runtime = lesson.runtime
    return f"{runtime['full']:.0f} s" if runtime and "full" in runtime else "-"


def _course_list(args) -> int:
    from rich.table import Table

    from regulab.course import lessons

    table = Table(title="regulab course: 28 lessons")
    for column in ("lesson", "module", "title", "runtime"):
        table.add_column(column, justify="right" if column == "runtime" else "left")
    for lesson in lessons():
        table.add_row(lesson.id, f"{lesson.module}. {lesson.module_title}", lesson.title, _runtime_text(lesson))
    _console().print(table)
    return 0


def _cells(source: str):
    """``(kind, text)`` per cell of a percent-format script: markdown with its ``# `` prefixes removed."""
    cells, kind, lines = [], None, []
    for line in source.splitlines():
        if line.startswith("# %%"):
            if kind is not None:
                cells.append((kind, "\n".join(lines).strip("\n")))
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        elif kind is not None:
            lines.append(line)
    if kind is not None:
        cells.append((kind, "\n".join(lines).strip("\n")))
    return [(k, t) for k, t in cells if t]


def _course_show(args) -> int:
    from rich.markdown import Markdown
    from rich.syntax import Syntax

    lesson = _lesson(args.id)
    if lesson is None:
        return 2
    console = _console()
    for kind, text in _cells(lesson.source()):
        console.print(Markdown(text) if kind == "markdown" else Syntax(text, "python"))
        console.print()
    return 0


def _lesson(id):
    from regulab.course import lesson

    try:
        return lesson(id)
    except ValueError as error:
        print(f"regulab course: {error}", file=sys.stderr)
        return None


def _course_run(args) -> int:
    from regulab.course._lesson_run import run_lesson

    lesson = _lesson(args.id)
    if lesson is None:
        return 2
    print(f"lesson {lesson.id}: {lesson.title}{' (quick)' if args.quick else ''}", flush=True)
    seconds = run_lesson(lesson, quick=args.quick, output=args.output)
    print(f"lesson {lesson.id} ran in {seconds:.1f} s", flush=True)
    return 0


def _course_notebook(args) -> int:
    from regulab.course._lesson_run import write_notebook

    lesson = _lesson(args.id)
    if lesson is None:
        return 2
    try:
        path = write_notebook(lesson, args.output)
    except RuntimeError as error:
        print(f"regulab course: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def add_course_parser(sub) -> None:
    course = sub.add_parser("course", help="the 28 lessons: list, show, run, notebook")
    actions = course.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the lessons with module, title and measured runtime").set_defaults(
        run=_course_list)
    show = actions.add_parser("show", help="a lesson's text and code")
    show.add_argument("id", help="a lesson id such as 5.4")
    show.set_defaults(run=_course_show)
    run = actions.add_parser("run", help="run a lesson: its figures printed, its plots written")
    run.add_argument("id")
    run.add_argument("--quick", action="store_true", help="train less: check that it runs")
    run.add_argument("--output", default=None, help="folder for the plots (default regulab-course/ID)")
    run.set_defaults(run=_course_run)
    notebook = actions.add_parser("notebook", help="write a lesson as a Jupyter notebook (needs jupytext)")
    notebook.add_argument("id")
    notebook.add_argument("--output", default=None, help="the .ipynb path (default: the lesson's name)")
    notebook.set_defaults(run=_course_notebook)


def _exercise(id):
    from regulab.course import exercise

    try:
        return exercise(id)
    except ValueError as error:
        print(f"regulab exercise: {error}", file=sys.stderr)
        return None


def _exercise_list(args) -> int:
    from rich.table import Table

    from regulab.course import exercises

    table = Table(title="regulab exercises")
    for column in ("exercise", "lesson", "title"):
        table.add_column(column)
    for item in exercises():
        table.add_row(item.id, item.lesson, item.title)
    _console().print(table)
    return 0


def _exercise_start(args) -> int:
    item = _exercise(args.id)
    if item is None:
        return 2
    path = Path(args.file or f"exercise_{item.id.replace('.', '_')}.py")
    if path.exists() and not args.force:
        print(f"regulab exercise: {path} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    try:
        path.write_text(item.starter(), encoding="utf-8")
    except OSError as error:
        print(f"regulab exercise: cannot write {path}: {error.strerror}", file=sys.stderr)
        return 2
    print(f"exercise {item.id}: {item.title}\n\n{item.task}\n\nwrote {path}; when done: "
          f"regulab exercise check {item.id} {path}")
    return 0


def _exercise_check(args) -> int:
    item = _exercise(args.id)
    if item is None:
        return 2
    if args.timeout is not None and not args.timeout > 0:
        print(f"regulab exercise: --timeout must be a positive number of seconds; received {args.timeout:g}",
              file=sys.stderr)
        return 2
    report = item.check_file(args.file, timeout=args.timeout)
    if args.show_output and report.output:
        print(report.output.rstrip())
    print(report)
    return 0 if report.passed else 1


def _exercise_hint(args) -> int:
    item = _exercise(args.id)
    if item is None:
        return 2
    try:
        print(f"hint {args.level} of {len(item.hints)}: {item.hint(args.level)}")
    except ValueError as error:
        print(f"regulab exercise: {error}", file=sys.stderr)
        return 2
    return 0


def _exercise_solution(args) -> int:
    item = _exercise(args.id)
    if item is None:
        return 2
    print(item.solution(), end="")
    return 0


def add_exercise_parser(sub) -> None:
    exercise = sub.add_parser("exercise", help="the exercises: list, start, check, hint, solution")
    actions = exercise.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every exercise").set_defaults(run=_exercise_list)
    start = actions.add_parser("start", help="write an exercise's starting point")
    start.add_argument("id", help="an exercise id such as 5.4.1")
    start.add_argument("file", nargs="?", default=None, help="where to write it (default exercise_ID.py)")
    start.add_argument("--force", action="store_true", help="overwrite an existing file")
    start.set_defaults(run=_exercise_start)
    check = actions.add_parser("check", help="check a file: exit status 0 when every check passes")
    check.add_argument("id")
    check.add_argument("file")
    check.add_argument("--timeout", type=float, default=None, help="seconds the file may run (default: the "
                                                                     "exercise's own limit)")
    check.add_argument("--show-output", action="store_true", help="print what the file printed")
    check.set_defaults(run=_exercise_check)
    hint = actions.add_parser("hint", help="a hint; higher levels say more")
    hint.add_argument("id")
    hint.add_argument("--level", type=int, default=1)
    hint.set_defaults(run=_exercise_hint)
    solution = actions.add_parser("solution", help="print a solution")
    solution.add_argument("id")
    solution.set_defaults(run=_exercise_solution)
