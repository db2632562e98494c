"""ProgbarLogger: Keras's line format, and a live bar that reads batch logs only when it redraws."""
import io
from types import SimpleNamespace

import pytest
from rich.console import Console

from regulab.callbacks import CallbackList, ProgbarLogger
from regulab.callbacks import _progress
from regulab.callbacks._base import print_message
from regulab.callbacks._progress import format_step_time, format_value


class Clock:
    def __init__(self, t=100.0):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(_progress, "time", SimpleNamespace(perf_counter=c))
    return c


@pytest.fixture
def terminal(monkeypatch):
    """Make the bar draw on a terminal console whose output the test can read."""
    console = Console(file=io.StringIO(), force_terminal=True, color_system=None, width=160)
    monkeypatch.setattr(_progress, "make_console", lambda: console)
    return console


def _bar(verbose, epochs=10, steps=625):
    bar = ProgbarLogger()
    bar.set_params({"epochs": epochs, "steps": steps, "verbose": verbose,
                    "metrics": ["loss", "accuracy", "val_loss", "val_accuracy"]})
    bar.on_train_begin()
    return bar


EPOCH_LOGS = {"loss": 0.69318, "accuracy": 0.5, "val_loss": 0.695, "val_accuracy": 0.48}


def test_verbose_2_prints_keras_lines(clock, capsys):
    bar = _bar(2)
    bar.on_epoch_begin(2)
    clock.t += 1.25
    bar.on_epoch_end(2, dict(EPOCH_LOGS))
    assert capsys.readouterr().out == (
        "Epoch 3/10\n"
        "625/625 - 1s - 2ms/step - loss: 0.6932 - accuracy: 0.5000 - val_loss: 0.6950 - "
        "val_accuracy: 0.4800\n")


def test_single_epoch_has_no_epoch_header(clock, capsys):
    bar = _bar(2, epochs=1, steps=20)
    bar.on_epoch_begin(0)
    clock.t += 0.3
    bar.on_epoch_end(0, {"loss": 0.5})
    assert capsys.readouterr().out == "20/20 - 0s - 15ms/step - loss: 0.5000\n"


@pytest.mark.parametrize("value, text", [
    (0.5, "0.5000"), (12.345678, "12.3457"), (0.0004, "4.0000e-04"), (0.0, "0.0000e+00"),
    (-0.25, "-0.2500"), (float("nan"), "nan"),
])
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize("seconds, text", [
    (2.4, "2s/step"), (0.0021, "2ms/step"), (5e-5, "50us/step"), (0.0, "0s/step"),
])
def test_format_step_time(seconds, text):
    assert format_step_time(seconds) == text


def test_verbose_0_prints_nothing(clock, capsys):
    bar = _bar(0)
    bar.on_epoch_begin(0)
    bar.on_epoch_end(0, dict(EPOCH_LOGS))
    bar.on_train_end()
    assert capsys.readouterr().out == ""
    assert not CallbackList([bar]).wants_train_batch_hooks


def test_verbose_2_leaves_the_loop_without_batch_hooks():
    assert not CallbackList([_bar(2)]).wants_train_batch_hooks


def test_verbose_1_without_a_terminal_prints_the_final_line(clock, capsys):
    bar = _bar(1, epochs=2, steps=50)
    assert not CallbackList([bar]).wants_train_batch_hooks  # nothing can be redrawn
    bar.on_epoch_begin(0)
    clock.t += 0.1
    bar.on_epoch_end(0, {"loss": 0.5})
    assert capsys.readouterr().out == "Epoch 1/2\n50/50 - 0s - 2ms/step - loss: 0.5000\n"


def test_live_bar_reads_batch_logs_only_when_redrawing(clock, terminal, fakes, capsys):
    bar = _bar(1, epochs=1, steps=100)
    assert CallbackList([bar]).wants_train_batch_hooks
    bar.on_epoch_begin(0)
    logs = []
    for batch in range(100):
        clock.t += 0.01  # 100 batches in 1 s: about 10 redraws at most every 0.1 s
        logs.append(fakes.CountingLogs({"loss": 0.5, "accuracy": 0.75}))
        bar.on_train_batch_end(batch, logs[-1])
    read = sum(lg.reads > 0 for lg in logs)
    assert 5 <= read <= 11
    bar.on_epoch_end(0, {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5})
    bar.on_train_end()
    out = terminal.file.getvalue()
    assert "100/100" in out and "━" in out
    assert "10ms/step - loss: 0.2500 - accuracy: 0.8750 - val_loss: 0.5000" in out
    assert "loss: 0.5000 - accuracy: 0.7500" in out  # a running value drawn mid-epoch
    assert capsys.readouterr().out == ""


def test_messages_print_above_the_live_bar(clock, terminal, capsys):
    bar = _bar(1, epochs=1, steps=10)
    bar.on_epoch_begin(0)
    print_message("Epoch 1, batch 3: invalid loss nan, terminating training")
    bar.on_epoch_end(0, {"loss": 0.5})
    out = terminal.file.getvalue()
    assert "invalid loss nan" in out
    assert out.index("invalid loss nan") < out.rindex("10/10")
    assert capsys.readouterr().out == ""
    print_message("after the bar")  # the bar is finished: plain print again
    assert capsys.readouterr().out == "after the bar\n"


def test_a_bar_left_by_a_failed_fit_is_stopped(clock, terminal, capsys):
    bar = _bar(1, epochs=1, steps=10)
    bar.on_epoch_begin(0)  # the fit raises here: no on_epoch_end, no on_train_end
    bar.on_train_begin()
    print_message("next fit")
    assert capsys.readouterr().out == "next fit\n"


def test_validation_is_silent_during_fit_but_evaluate_prints(clock, capsys):
    bar = _bar(2, epochs=1, steps=8)
    bar.on_epoch_begin(0)
    bar.on_test_begin()
    bar.on_test_batch_end(0, {"loss": 1.0})
    bar.on_test_end({"loss": 1.0})
    clock.t += 0.8
    bar.on_epoch_end(0, {"loss": 0.5, "val_loss": 1.0})
    bar.on_train_end()
    assert capsys.readouterr().out == "8/8 - 1s - 100ms/step - loss: 0.5000 - val_loss: 1.0000\n"
    bar.on_test_begin()
    clock.t += 0.04
    bar.on_test_end({"loss": 0.75})
    assert capsys.readouterr().out == "8/8 - 0s - 5ms/step - loss: 0.7500\n"


def test_bad_verbose_in_params():
    with pytest.raises(ValueError) as err:
        ProgbarLogger().set_params({"verbose": 3, "epochs": 1, "steps": 1})
    assert str(err.value) == ("Invalid value for argument `verbose` of ProgbarLogger: expected an "
                              "integer in [0, 2]. Received: verbose=3")
