"""Exercises: every shipped solution passes its check and every starting point fails it; the
checker turns a learner's mistakes into findings; `regulab exercise ...` as a learner runs it."""
import subprocess
import sys

import pytest

from regulab import course
from regulab.course._sandbox import check_in_process

EXERCISES = [item.id for item in course.exercises()]


def test_every_lesson_has_an_exercise_and_5_4_has_the_lesson_three():
    lessons_with = {item.lesson for item in course.exercises()}
    assert lessons_with == {lesson.id for lesson in course.lessons()}
    assert [e.id for e in course.exercises() if e.lesson == "5.4"] == ["5.4.1", "5.4.2", "5.4.3"]


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_solution_passes_and_starter_fails(exercise_id):
    item = course.exercise(exercise_id)
    solved = check_in_process(item, item.folder / "solution.py")
    assert solved.passed, solved.findings
    started = check_in_process(item, item.folder / "starter.py")
    assert not started.passed
    assert all(len(finding) > 20 for finding in started.findings)
    assert len(item.hints) >= 2 and item.task


def _check_source(tmp_path, exercise_id, source):
    path = tmp_path / "answer.py"
    path.write_text(source)
    return check_in_process(course.exercise(exercise_id), path).findings


STARTER_5_4 = """\
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
model = Sequential([
    Dense(64, input_dim=100, activation='relu'{regularizer}),
    Dense(1, activation='sigmoid')
])
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
"""


def test_5_4_1_no_regularizer(tmp_path):
    assert _check_source(tmp_path, "5.4.1", STARTER_5_4.format(regularizer="")) == [
        "the first Dense layer has no kernel_regularizer; the task asks for "
        "kernel_regularizer=tf.keras.regularizers.l2(0.01)"]


def test_5_4_1_l1_instead_of_l2(tmp_path):
    source = STARTER_5_4.format(regularizer=", kernel_regularizer=tf.keras.regularizers.l1(0.01)")
    assert _check_source(tmp_path, "5.4.1", source) == [
        "the first Dense layer's kernel_regularizer is l1(0.01), not L2; the task asks for "
        "kernel_regularizer=tf.keras.regularizers.l2(0.01) (L1 penalizes |w| and drives weights to zero; "
        "L2 penalizes w² and shrinks them all)"]


def test_5_4_1_a_penalty_too_weak_to_shrink_the_gap(tmp_path):
    source = STARTER_5_4.format(regularizer=", kernel_regularizer=tf.keras.regularizers.l2(1e-6)")
    findings = _check_source(tmp_path, "5.4.1", source)
    assert len(findings) == 1
    assert findings[0].startswith("your L2 model's train-held-out accuracy gap is ")
    assert findings[0].endswith("l2(1e-06) is too weak to matter here; try l2(0.01)")


def test_5_4_2_dropout_in_the_wrong_place_and_too_weak(tmp_path):
    after_output = STARTER_5_4.format(regularizer="").replace(
        "Dense(1, activation='sigmoid')", "Dense(1, activation='sigmoid'), tf.keras.layers.Dropout(0.5)")
    assert _check_source(tmp_path, "5.4.2", after_output) == [
        "the Dropout layer is after the output layer, where it drops the model's output; put it between the two "
        "Dense layers"]
    weak = STARTER_5_4.format(regularizer="").replace("Dense(1, activation='sigmoid')",
                                                      "tf.keras.layers.Dropout(0.02), Dense(1, activation='sigmoid')")
    assert _check_source(tmp_path, "5.4.2", weak) == [
        "the Dropout rate is 0.02; try a rate of 0.3-0.5 after the first Dense"]


def test_5_4_3_early_stopping_built_but_not_passed_to_fit(tmp_path):
    source = STARTER_5_4.format(regularizer="") + (
        "from tensorflow.keras.callbacks import EarlyStopping\n"
        "early_stopping = EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True)\n"
        "model.fit(X_train, y_train, validation_split=0.2, epochs=100)\n")
    assert _check_source(tmp_path, "5.4.3", source) == [
        "early_stopping is built but not passed to model.fit; add callbacks=[early_stopping]"]


def test_5_4_3_without_restoring_the_best_weights(tmp_path):
    source = STARTER_5_4.format(regularizer="") + (
        "from tensorflow.keras.callbacks import EarlyStopping\n"
        "stopper = EarlyStopping(monitor='val_loss', patience=5)\n"
        "model.fit(X_train, y_train, validation_split=0.2, epochs=100, callbacks=[stopper])\n")
    assert _check_source(tmp_path, "5.4.3", source) == [
        "stopper has restore_best_weights=False, so the model keeps its last epoch's weights, not its best; set "
        "restore_best_weights=True"]


def test_learner_mistakes_are_findings(tmp_path):
    assert _check_source(tmp_path, "5.4.1", "x = 1\nmodel = Sequential([\n") == [
        "line 2: syntax error: '[' was never closed in `model = Sequential([`; the file must be valid Python "
        "before it can be checked"]
    assert _check_source(tmp_path, "5.4.1", "import numpy\nx = 1 / 0\n") == [
        "line 2: your code raised ZeroDivisionError: division by zero"]
    assert _check_source(tmp_path, "5.4.1", "import tensorflow as tf\nlayer = tf.keras.layers.Foo()\n")[0].startswith(
        "line 2: tf.keras.layers.Foo is not in regulab")
    assert _check_source(tmp_path, "5.4.1", "x = 1\n") == [
        "the file defines no `model`: the check inspects it, so assign it at the top level, e.g. "
        "`model = Sequential([...])`"]


def test_notebook_check_of_globals():
    import regulab
    from regulab.callbacks import EarlyStopping

    item = course.exercise("5.4.3")
    from regulab.course._checks import lesson_model

    model = lesson_model(0)
    stopper = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    report = item.check({"model": model, "early_stopping": stopper})
    assert report.findings == ["early_stopping is built but not passed to model.fit; add callbacks=[early_stopping]"]
    data = item.data()
    model.fit(data["X_train"], data["y_train"], validation_split=0.2, epochs=30, callbacks=[stopper], verbose=0)
    assert item.check({"model": model, "early_stopping": stopper}).passed
    assert "every check passes" in item.check({"model": model, "early_stopping": stopper})._repr_html_()
    assert course.exercise("5.4.1").check({}).findings[0].startswith("the file defines no `model`")
    assert isinstance(regulab.course.exercise("5.4.1"), course.Exercise)


def _cli(*args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-m", "regulab.cli", "exercise", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def test_cli_start_check_hint_solution(tmp_path):
    done = _cli("start", "5.4.1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "exercise_5_4_1.py").read_text() == course.exercise("5.4.1").starter()
    assert _cli("start", "5.4.1", cwd=tmp_path).stderr.strip() == (
        "regulab exercise: exercise_5_4_1.py exists; pass --force to overwrite it")
    done = _cli("check", "5.4.1", "exercise_5_4_1.py", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "exercise 5.4.1: 1 problem",
        "  - the first Dense layer has no kernel_regularizer; the task asks for "
        "kernel_regularizer=tf.keras.regularizers.l2(0.01)"]
    (tmp_path / "solved.py").write_text(_cli("solution", "5.4.1", cwd=tmp_path).stdout)
    done = _cli("check", "5.4.1", "solved.py", cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "exercise 5.4.1: every check passes")
    assert _cli("hint", "5.4.1", "--level", "3", cwd=tmp_path).stdout.startswith("hint 3 of 3: Dense(64, ")
    assert _cli("hint", "5.4.1", "--level", "9", cwd=tmp_path).stderr.strip() == (
        "regulab exercise: Exercise 5.4.1 has hints 1 to 3; got level 9.")
    listing = _cli("list", cwd=tmp_path).stdout
    assert "5.4.3" in listing and "Using early stopping" in listing


def test_cli_check_missing_file_syntax_error_infinite_loop_and_no_model(tmp_path):
    done = _cli("check", "5.4.1", "nope.py", cwd=tmp_path)
    assert (done.returncode, done.stdout.splitlines()[1]) == (
        1, "  - there is no file nope.py; `regulab exercise start 5.4.1` writes the starting point")
    (tmp_path / "broken.py").write_text("model = (\n")
    done = _cli("check", "5.4.1", "broken.py", cwd=tmp_path)
    assert done.returncode == 1 and "line 1: syntax error: '(' was never closed" in done.stdout
    (tmp_path / "forever.py").write_text("while True:\n    pass\n")
    done = _cli("check", "5.4.1", "forever.py", "--timeout", "8", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines()[1] == ("  - forever.py ran for more than 8 s and was stopped: look for a loop "
                                           "that never ends, or train for fewer epochs")
    (tmp_path / "empty.py").write_text("import tensorflow as tf\n")
    done = _cli("check", "5.4.1", "empty.py", cwd=tmp_path)
    assert done.returncode == 1 and "the file defines no `model`" in done.stdout


def test_cli_unknown_exercise_lists_them(tmp_path):
    done = _cli("check", "9.9.9", "x.py", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("regulab exercise: There is no exercise '9.9.9'. The exercises are: ")
    assert "5.4.1, 5.4.2, 5.4.3" in done.stderr
