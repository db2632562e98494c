"""Change the optimizer's learning rate between epochs: on a plateau, or on a schedule.

Both callbacks add the learning rate of the epoch just finished to its logs as ``'learning_rate'``,
as Keras does, so it appears in History and CSVLogger.

>>> from types import SimpleNamespace
>>> from regulab.callbacks import ReduceLROnPlateau
>>> model = SimpleNamespace(optimizer=SimpleNamespace(learning_rate=0.1))
>>> rlr = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_delta=0.0)
>>> rlr.set_model(model)
>>> rlr.set_params({"metrics": ["loss", "val_loss"], "directions": {"val_loss": "min"}})
>>> rlr.on_train_begin()
>>> for epoch, val_loss in enumerate([1.0, 0.9, 0.9, 0.9]):
...     rlr.on_epoch_end(epoch, {"val_loss": val_loss})
>>> model.optimizer.learning_rate
0.025
"""
from __future__ import annotations

import inspect
import math
from typing import Callable

import numpy as np

from regulab._validation import check_float, check_int, invalid
from regulab.callbacks._base import Callback, check_verbose, print_message
from regulab.callbacks._monitor import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    After ``patience`` epochs without an improvement larger than ``min_delta``, the learning rate
    becomes ``max(lr * factor, min_lr)``; then ``cooldown`` epochs pass in which nothing is counted.
    The counting is Keras's, and its state resets at the start of every fit.

    Args:
        monitor: the logged quantity to watch (default ``'val_loss'``); must be one the fit logs.
        factor: the multiplier, in (0, 1) (default 0.1).
        patience: epochs without improvement before a reduction, at least 0 (default 10).
        verbose: 1 prints each reduction (default 0).
        mode: ``'auto'`` (the metric's direction), ``'min'`` or ``'max'`` (default ``'auto'``).
        min_delta: the smallest change, at least 0, that counts as an improvement (default 1e-4).
        cooldown: epochs after a reduction before counting resumes, at least 0 (default 0).
        min_lr: the learning rate is never reduced below this, at least 0 (default 0.0).
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0,
                 min_lr: float = 0.0):
        super().__init__(monitor, mode, min_delta)
        where = type(self).__name__
        self.factor = check_float("factor", factor, low=0.0, high=1.0, low_open=True,
                                  high_open=True, where=where)
        self.patience = check_int("patience", patience, low=0, where=where)
        self.verbose = check_verbose(verbose, where)
        self.cooldown = check_int("cooldown", cooldown, low=0, where=where)
        self.min_lr = check_float("min_lr", min_lr, low=0.0, where=where)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.cooldown_counter = 0
        self.best = None if self.direction is None else self.worst()

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._reset()

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        optimizer = self.model.optimizer
        current = self.current(logs)
        logs["learning_rate"] = float(optimizer.learning_rate)
        if self.best is None:
            self.best = self.worst()
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
            return
        if self.in_cooldown():
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        old_lr = float(optimizer.learning_rate)
        if old_lr > self.min_lr:
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizer.learning_rate = new_lr
            if self.verbose:
                print_message(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                              f"{new_lr}.")
            self.cooldown_counter = self.cooldown
            self.wait = 0

    def get_config(self) -> dict:
        return {"monitor": self.monitor, "factor": self.factor, "patience": self.patience,
                "verbose": self.verbose, "mode": self.mode, "min_delta": self.min_delta,
                "cooldown": self.cooldown, "min_lr": self.min_lr}


def _takes_lr(schedule: Callable) -> bool:
    """Whether ``schedule`` accepts ``(epoch, lr)``; decided once, from its signature.

    Keras instead calls ``schedule(epoch, lr)`` and retries with ``schedule(epoch)`` on any
    TypeError, which also swallows TypeErrors raised inside the user's own function.
    """
    try:
        parameters = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: assume the current API
        return True
    positional = [p for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in parameters)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch from ``schedule``.

    Args:
        schedule: a function ``schedule(epoch, lr) -> float`` of the epoch index (from 0) and the
            current learning rate, or ``schedule(epoch) -> float``. Its result must be a finite
            float at least 0; anything else stops training with an error naming the epoch.
        verbose: 1 prints the learning rate set at each epoch (default 0).

    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(optimizer=SimpleNamespace(learning_rate=0.1))
    >>> sched = LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5)
    >>> sched.set_model(model)
    >>> for epoch in range(4):
    ...     sched.on_epoch_begin(epoch)
    >>> model.optimizer.learning_rate
    0.025
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise invalid("schedule", "a function schedule(epoch, lr) -> float", schedule,
                          type(self).__name__)
        self.schedule = schedule
        self.verbose = check_verbose(verbose, type(self).__name__)
        self._takes_lr = _takes_lr(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if self._takes_lr:
            lr = self.schedule(epoch, float(optimizer.learning_rate))
        else:
            lr = self.schedule(epoch)
        if (not isinstance(lr, (float, np.floating)) or not math.isfinite(lr) or lr < 0):
            raise ValueError(
                "The `schedule` of LearningRateScheduler must return the learning rate as a "
                f"finite float >= 0. At epoch {epoch} it returned {lr!r} "
                f"({type(lr).__name__}).")
        optimizer.learning_rate = float(lr)
        if self.verbose:
            print_message(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                          f"{float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)

    def get_config(self) -> dict:
        return {"schedule": self.schedule, "verbose": self.verbose}
