"""The 28 lessons: each runs in quick mode and prints its figures; the course CLI; notebooks."""
import subprocess
import sys

import pytest

from regulab import course
from regulab.cli import main

LESSONS = [lesson.id for lesson in course.lessons()]


def test_the_outline_is_the_course_s():
    assert len(LESSONS) == 28
    assert [sum(1 for x in course.lessons() if x.module == m) for m in range(1, 8)] == [4] * 7
    assert course.lesson("7.3").title == "Project: anomaly detection with autoencoders"


@pytest.mark.parametrize("lesson_id", LESSONS)
def test_lesson_runs_quick_and_prints_its_figures(lesson_id, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["course", "run", lesson_id, "--quick", "--output", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    results = [line for line in out.splitlines() if line.startswith("result: ")]
    assert results, out[-2000:]
    assert list((tmp_path / "out").glob("*.png")), "the lesson saved no plot"
    source = course.lesson(lesson_id).source()
    assert source.count("# %% [markdown]") >= 2 and "course.quick()" in source
    assert "._" not in "".join(line for line in source.splitlines() if line.startswith(("import", "from"))), (
        "lessons use the public API only")


def test_course_list_and_show(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["course", "list"]) == 0
    out = capsys.readouterr().out
    for lesson in course.lessons():
        assert lesson.id in out
    assert "Regularization and improvement" in out
    assert main(["course", "show", "5.4"]) == 0
    out = capsys.readouterr().out
    assert "5.4 Regularization and improvement techniques" in out and "EarlyStopping" in out


def test_unknown_lesson_lists_the_lessons():
    done = subprocess.run([sys.executable, "-m", "regulab.cli", "course", "run", "9.9"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("regulab course: There is no lesson '9.9'. The lessons are: "
                                   + ", ".join(LESSONS) + ".")


@pytest.mark.parametrize("lesson_id", ["1.4", "5.4"])
def test_notebook_export_executes(lesson_id, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("REGULAB_COURSE_QUICK", "1")
    monkeypatch.setenv("REGULAB_COURSE_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    path = tmp_path / "lesson.ipynb"
    assert main(["course", "notebook", lesson_id, "--output", str(path)]) == 0
    notebook = nbformat.read(path, as_version=4)
    kinds = {cell.cell_type for cell in notebook.cells}
    assert kinds == {"markdown", "code"}
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
                            ).execute()
    printed = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for out in cell.outputs)
    assert "result: " in printed
