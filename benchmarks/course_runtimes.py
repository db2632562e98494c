"""Time every lesson of the course, full and quick, each in a fresh process as a learner runs it.

Writes the measured seconds to ``regulab/course/runtimes.json`` (what ``regulab course list``
shows) with ``--write``, and prints a Markdown table for the README.

    .venv/bin/python benchmarks/course_runtimes.py [--only 5.4 7.1] [--quick-only] [--write]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from regulab import course  # noqa: E402

RAN = re.compile(r"^lesson \S+ ran in ([0-9.]+) s$", re.M)


def time_lesson(lesson_id: str, quick: bool) -> tuple[float, float, list[str]]:
    """(seconds the lesson itself ran, seconds of the whole process, its result lines)."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "regulab.cli", "course", "run", lesson_id, "--output", folder]
        start = time.perf_counter()
        done = subprocess.run(command + (["--quick"] if quick else []), capture_output=True, text=True, cwd=folder,
                              env=dict(os.environ, MPLBACKEND="Agg"))
        wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"lesson {lesson_id} failed:\n{done.stderr[-3000:]}")
    found = RAN.search(done.stdout)
    results = [line[len("result: "):] for line in done.stdout.splitlines() if line.startswith("result: ")]
    return float(found.group(1)), wall, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="lesson ids (default: all 28)")
    parser.add_argument("--quick-only", action="store_true", help="time quick mode only")
    parser.add_argument("--write", action="store_true", help="write regulab/course/runtimes.json")
    args = parser.parse_args()
    ids = args.only or [lesson.id for lesson in course.lessons()]
    path = ROOT / "regulab" / "course" / "runtimes.json"
    record = json.loads(path.read_text()) if path.is_file() else {"lessons": {}}
    print("| lesson | title | full (s) | quick (s) | figures (full) |")
    print("|---|---|---:|---:|---|")
    total_quick = 0.0
    for lesson_id in ids:
        entry = dict(record["lessons"].get(lesson_id, {}))
        quick, _, _ = time_lesson(lesson_id, quick=True)
        entry["quick"] = round(quick, 1)
        total_quick += quick
        results = []
        if not args.quick_only:
            full, _, results = time_lesson(lesson_id, quick=False)
            entry["full"] = round(full, 1)
        record["lessons"][lesson_id] = entry
        shown = "; ".join(results[:3])
        print(f"| {lesson_id} | {course.lesson(lesson_id).title} | {entry.get('full', '-')} | {entry['quick']} | "
              f"{shown} |", flush=True)
    print(f"\nquick mode, all lessons run: {total_quick:.0f} s of lesson time")
    if args.write:
        record["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, torch threads as the CLI sets them"
        path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
