"""``regulab exercise check ID FILE``: the learner's file in a child process with a time limit."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from regulab.course._exercise import CheckReport


def check_file(exercise, path, timeout: float) -> CheckReport:
    """Check ``path`` against ``exercise`` in a separate Python process.

    A missing file, a syntax error, an exception, a file that runs longer than ``timeout`` seconds
    and one that defines no model each come back as a finding, never as an error of the checker.
    """
    path = Path(path)
    if not path.is_file():
        return CheckReport(exercise.id, [f"there is no file {path}; `regulab exercise start {exercise.id}` "
                                         "writes the starting point"])
    with tempfile.TemporaryDirectory(prefix="regulab-check-") as folder:
        result = Path(folder) / "result.json"
        env = dict(os.environ, MPLBACKEND="Agg")
        # -c, not -m: the learner's folder must not come first on sys.path, or a file of theirs
        # named random.py or regulab.py would replace the checker's own modules
        command = [sys.executable, "-c", "import sys; sys.path.pop(0); from regulab.course._sandbox import main; sys.exit(main())",
                   exercise.id, str(path.resolve()), str(result)]
        try:
            done = subprocess.run(command, cwd=path.resolve().parent, env=env, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired:
            return CheckReport(exercise.id, [
                f"{path} ran for more than {timeout:g} s and was stopped: look for a loop that never ends, "
                f"or train for fewer epochs"])
        if not result.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return CheckReport(exercise.id, [f"the check stopped unexpectedly (exit status {done.returncode})"
                                             + (": " + " | ".join(tail) if tail else "")])
        answer = json.loads(result.read_text(encoding="utf-8"))
    return CheckReport(exercise.id, answer["findings"], answer["output"])
