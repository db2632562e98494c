"""What learners do that the checker must take in its stride."""
import subprocess
import sys
from pathlib import Path

from regulab import course
from regulab.course._sandbox import check_in_process

SOLUTION_5_4_3 = course.exercise("5.4.3").solution()


def _findings(tmp_path, exercise_id, source, name="answer.py"):
    path = tmp_path / name
    path.write_bytes(source) if isinstance(source, bytes) else path.write_text(source)
    return check_in_process(course.exercise(exercise_id), path).findings


def test_an_early_stopping_built_inside_the_fit_call_counts(tmp_path):
    inline = SOLUTION_5_4_3.replace("callbacks=[early_stopping]", "callbacks=[EarlyStopping(monitor='val_loss', "
                                    "patience=5, restore_best_weights=True)]")
    assert _findings(tmp_path, "5.4.3", inline) == []
    decoy = SOLUTION_5_4_3.replace("# Define early stopping", "old = EarlyStopping(monitor='loss')")
    assert _findings(tmp_path, "5.4.3", decoy) == []


def test_too_few_epochs_for_early_stopping(tmp_path):
    assert _findings(tmp_path, "5.4.3", SOLUTION_5_4_3.replace("epochs=100", "epochs=5")) == [
        "the fit asks for only 5 epochs, too few for early stopping to act; ask for epochs=100 and let it stop when "
        "val_loss stops falling"]


def test_other_accuracy_metrics_and_an_overly_strong_penalty(tmp_path):
    solution = course.exercise("5.4.1").solution()
    assert _findings(tmp_path, "5.4.1", solution.replace("metrics=['accuracy']", "metrics=['binary_accuracy']")) == []
    findings = _findings(tmp_path, "5.4.1", solution.replace("l2(0.01)", "l2(10.0)"))
    assert len(findings) == 1 and findings[0].startswith("your L2 model's gap is small because it underfits")


def test_model_of_the_wrong_kind_or_name(tmp_path):
    assert _findings(tmp_path, "5.4.2", "model = None\n") == [
        "`model` is NoneType, not a regulab or Keras model, e.g. `model = Sequential([...])`"]
    source = course.exercise("5.4.2").solution().replace("model = Sequential", "net = Sequential").replace(
        "model.", "net.") + "model = 5\n"
    assert _findings(tmp_path, "5.4.2", source) == ["`model` is int, not a regulab or Keras model; you built `net`: "
                                                    "name it `model`"]


def test_a_byte_order_mark_and_a_coding_line(tmp_path):
    solution = course.exercise("5.4.1").solution()
    assert _findings(tmp_path, "5.4.1", b"\xef\xbb\xbf" + solution.encode()) == []
    latin = "# -*- coding: latin-1 -*-\n# r\xe9gularisation\n" + solution
    assert _findings(tmp_path, "5.4.1", latin.encode("latin-1")) == []


def test_files_next_to_the_learner_s_do_not_replace_the_checker_s_modules(tmp_path):
    (tmp_path / "random.py").write_text("x = 1\n")
    (tmp_path / "mine.py").write_text(course.exercise("5.4.1").solution())
    # the installed command, as a learner runs it (`python -m` would put the folder on sys.path itself)
    command = str(Path(sys.executable).with_name("regulab"))
    done = subprocess.run([command, "exercise", "check", "5.4.1", "mine.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout.strip()) == (0, "exercise 5.4.1: every check passes"), done.stdout


def test_input_is_a_finding_and_the_timeout_must_be_positive(tmp_path):
    (tmp_path / "ask.py").write_text("rate = float(input('rate? '))\n")
    done = subprocess.run([sys.executable, "-m", "regulab.cli", "exercise", "check", "5.4.2", "ask.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.stdout.splitlines()[1] == ("  - line 1: input() cannot be answered during a check; remove it and set "
                                           "the value in the file")
    done = subprocess.run([sys.executable, "-m", "regulab.cli", "exercise", "check", "5.4.2", "ask.py",
                           "--timeout", "0"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stderr.strip()) == (
        2, "regulab exercise: --timeout must be a positive number of seconds; received 0")


def test_a_notebook_fit_that_early_stopping_never_stopped():
    from regulab.callbacks import EarlyStopping

    item = course.exercise("5.4.3")
    from regulab.course._checks import lesson_model

    model = lesson_model(0)
    stopper = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    data = item.data()
    model.fit(data["X_train"], data["y_train"], validation_split=0.2, epochs=3, callbacks=[stopper], verbose=0)
    assert item.check({"model": model, "early_stopping": stopper}).findings == [
        "early_stopping never stopped the fit (3 epochs ran); train with epochs=100 so that it can stop once val_loss "
        "stops falling"]


def test_a_file_that_exits_before_building_its_model(tmp_path):
    assert _findings(tmp_path, "5.4.1", "import sys\nsys.exit('bye')\nmodel = 1\n") == [
        "the file defines no `model` (the file called sys.exit() at line 2 before that): the check inspects it, so "
        "assign it at the top level, e.g. `model = Sequential([...])`"]
    assert _findings(tmp_path, "5.4.1", course.exercise("5.4.1").solution() + "import sys\nsys.exit(0)\n") == []
