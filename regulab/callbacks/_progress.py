"""Show training progress: a live bar per epoch (verbose=1) or one line per epoch (verbose=2).

The verbosity is ``params['verbose']``, set by ``fit``. With verbose=1 the bar is a ``rich`` progress
bar redrawn at most every 0.1 s; the batch logs (whose values may wait for the device) are read only
at a redraw. When stdout is not a terminal (CI logs, files) nothing can be redrawn, so verbose=1
prints each epoch's final line, as verbose=2 does. Lines follow Keras's format (4 decimals).

>>> from regulab.callbacks import ProgbarLogger
>>> bar = ProgbarLogger()
>>> bar.set_params({"epochs": 10, "steps": 625, "verbose": 2})
>>> bar.on_train_begin()
>>> bar.on_epoch_begin(2)
Epoch 3/10
>>> bar.on_epoch_end(2, {"loss": 0.69318, "accuracy": 0.5, "val_loss": 0.0004})
625/625 - 0s - ...s/step - loss: 0.6932 - accuracy: 0.5000 - val_loss: 4.0000e-04
"""
from __future__ import annotations

import time
from collections.abc import Mapping

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from regulab._validation import check_int
from regulab.callbacks._base import (BATCH_HOOKS, Callback, overrides, print_message,
                                     set_live_console)

REDRAW_S = 0.1  # at most ten redraws a second: each one may wait for the device


def format_value(value) -> str:
    """A logged value as Keras prints it: 4 decimals, or scientific notation below 1e-3."""
    value = float(value)
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_step_time(seconds: float, unit: str = "step") -> str:
    """Time per step as Keras prints it: ``2ms/step``, ``15us/step``, ``3s/step``."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _metrics_text(logs: Mapping | None) -> str:
    return "".join(f" - {name}: {format_value(value)}" for name, value in (logs or {}).items())


def format_line(steps: int, seconds: float, logs: Mapping | None) -> str:
    """Keras's end-of-epoch line: ``625/625 - 1s - 2ms/step - loss: 0.6932 - ...``."""
    per_step = seconds / steps if steps else 0.0
    return f"{steps}/{steps} - {seconds:.0f}s - {format_step_time(per_step)}{_metrics_text(logs)}"


def make_console() -> Console:
    """The console bars draw on; it follows ``sys.stdout`` as it is at each write."""
    return Console()


class _LiveBar:
    """One epoch's rich progress bar, redrawn at most every ``REDRAW_S`` seconds."""

    def __init__(self, console: Console, total: int | None, start: float):
        self.console = console
        self.start = start
        self.last_draw = start
        self.progress = Progress(
            MofNCompleteColumn(), BarColumn(bar_width=20),
            TimeRemainingColumn(compact=True, elapsed_when_finished=True),
            TextColumn("{task.fields[info]}"),
            console=console, auto_refresh=False, redirect_stdout=False, redirect_stderr=False)
        self.task = self.progress.add_task("", total=total, info="")
        self.progress.start()
        set_live_console(console)

    def update(self, seen: int, logs: Mapping | None) -> None:
        now = time.perf_counter()
        if now - self.last_draw < REDRAW_S:
            return
        self.last_draw = now
        info = format_step_time((now - self.start) / seen) + _metrics_text(logs)
        self.progress.update(self.task, completed=seen, info=info)
        self.progress.refresh()

    def finish(self, steps: int, seconds: float, logs: Mapping | None) -> None:
        info = format_step_time(seconds / steps if steps else 0.0) + _metrics_text(logs)
        self.progress.update(self.task, total=steps, completed=steps, info=info)
        self.stop()

    def stop(self) -> None:
        set_live_console(None)
        self.progress.stop()


class ProgbarLogger(Callback):
    """Print metrics as training goes, at the verbosity of ``params['verbose']``.

    ``fit`` adds one when ``verbose`` is not 0. verbose=1: a live bar per epoch with the running
    loss and metrics (one final line per epoch when stdout is not a terminal); verbose=2: only the
    final line, ``Epoch 3/10`` then ``625/625 - 1s - 2ms/step - loss: 0.6932 - ...``; verbose=0:
    nothing. Outside ``fit`` (``evaluate``, ``predict``) it shows their batches the same way; during
    ``fit`` the validation pass is silent.
    """

    def __init__(self):
        super().__init__()
        self.verbose: int | None = None
        self.epochs: int | None = None
        self.steps: int | None = None
        self._in_fit = False
        self._start = 0.0
        self._seen = 0
        self._bar: _LiveBar | None = None

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        if verbose == "auto":
            verbose = 1
        self.verbose = check_int("verbose", verbose, low=0, high=2, where="ProgbarLogger")
        self.epochs = params.get("epochs")
        self.steps = params.get("steps")

    def _draws_live(self) -> bool:
        if self.verbose != 1:
            return False
        console = make_console()
        return console.is_jupyter or (console.is_terminal and not console.is_dumb_terminal)

    def uses_batch_hooks(self, mode: str) -> bool:
        # verbose 0 and 2 draw nothing per batch, so the loop may skip the calls (unless steps
        # are unknown and must be counted)
        if self.verbose is None or (self.verbose and (self.steps is None or self._draws_live())):
            return True
        return overrides(self, BATCH_HOOKS[mode], ProgbarLogger)

    def _begin(self) -> None:
        self._stop_bar()
        self._seen = 0
        self._start = time.perf_counter()
        if self._draws_live():
            self._bar = _LiveBar(make_console(), self.steps, self._start)

    def _update(self, batch: int, logs: Mapping | None) -> None:
        self._seen = batch + 1
        if self._bar is not None:
            self._bar.update(self._seen, logs)

    def _finish(self, logs: Mapping | None) -> None:
        if not self.verbose:
            return
        seconds = time.perf_counter() - self._start
        steps = self.steps if self.steps is not None else self._seen
        if self._bar is not None:
            self._bar.finish(steps, seconds, logs)
            self._bar = None
        else:
            print_message(format_line(steps, seconds, logs))

    def _stop_bar(self) -> None:
        # a bar left drawing by a run that raised
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def on_train_begin(self, logs=None):
        self._in_fit = True
        self._stop_bar()

    def on_train_end(self, logs=None):
        self._in_fit = False
        self._stop_bar()

    def on_epoch_begin(self, epoch, logs=None):
        if not self.verbose:
            return
        if self.epochs is not None and self.epochs > 1:
            print_message(f"Epoch {epoch + 1}/{self.epochs}")
        self._begin()

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit and self.verbose:
            self._begin()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        if self.verbose:
            self._begin()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)  # predictions are not metrics

    def on_predict_end(self, logs=None):
        self._finish(None)

    def get_config(self) -> dict:
        return {}
