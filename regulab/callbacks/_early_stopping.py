"""Stop training when a monitored quantity has stopped improving (Prechelt, "Early Stopping - But
When?", 1998), with Keras's counting and four of its traps fixed.

Fixed relative to Keras: the best weights are restored at the end of training whenever
``restore_best_weights`` is set, whether or not training stopped early; a ``monitor`` the fit does
not log is an error when training begins (with the names it does log), not a warning after the run;
``mode='auto'`` uses the metric's own direction; and every fit starts from a fresh state, so a
reused callback does not compare against the previous fit's best.

>>> import numpy as np
>>> from regulab.callbacks import EarlyStopping
>>> class Model:
...     stop_training = False
...     def get_weights(self): return [np.zeros(1)]
>>> es = EarlyStopping(monitor="val_loss", patience=2)
>>> es.set_model(Model())
>>> es.set_params({"metrics": ["loss", "val_loss"], "directions": {"val_loss": "min"}})
>>> es.on_train_begin()
>>> for epoch, val_loss in enumerate([0.9, 0.7, 0.8, 0.75, 0.6]):
...     es.on_epoch_end(epoch, {"loss": 0.5, "val_loss": val_loss})
...     if es.model.stop_training:
...         break
>>> es.stopped_epoch, es.best_epoch, es.best
(3, 1, 0.7)
"""
from __future__ import annotations

import numpy as np

from regulab._validation import check_float, check_int
from regulab.callbacks._base import check_flag, check_verbose, print_message
from regulab.callbacks._monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    At the end of each epoch the counter ``wait`` goes up by one; an improvement on the best value
    (by more than ``min_delta``) resets it, and training stops once ``wait >= patience`` after the
    first epoch, exactly as Keras counts.

    Args:
        monitor: the logged quantity to watch (default ``'val_loss'``). Must be a name the fit
            logs, else training does not start.
        min_delta: the smallest change, at least 0, that counts as an improvement (default 0).
        patience: epochs without improvement before stopping, at least 0 (default 0).
        verbose: 1 prints when training stops and when weights are restored (default 0).
        mode: ``'auto'`` (the metric's direction), ``'min'`` or ``'max'`` (default ``'auto'``).
        baseline: a value to reach. An epoch resets ``wait`` only if it improves on both the best
            value and ``baseline``, so training stops after ``patience`` epochs that fail to beat
            it (default None: no baseline).
        restore_best_weights: at the end of training, set the model's weights to those of the
            best epoch, whether training stopped early or ran all its epochs (default False).
        start_from_epoch: epochs, counted from 0, during which nothing is monitored: a warm-up
            in which no improvement is expected (default 0).

    Attributes:
        stopped_epoch: the epoch (from 0) at which training was stopped, 0 if it was not.
        best_epoch: the epoch (from 0) of the best value so far, None before one is seen. With
            ``restore_best_weights``, the first monitored epoch counts as the best until one
            improves on it (as in Keras), so its weights are restored even if every value was
            NaN.
        best: the best monitored value so far.
        wait: epochs counted since the last improvement.
        best_weights: the weights of the best epoch when ``restore_best_weights``, else None.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__(monitor, mode, min_delta)
        where = type(self).__name__
        self.patience = check_int("patience", patience, low=0, where=where)
        self.verbose = check_verbose(verbose, where)
        self.baseline = None if baseline is None else check_float("baseline", baseline, where=where)
        self.restore_best_weights = check_flag("restore_best_weights", restore_best_weights, where)
        self.start_from_epoch = check_int("start_from_epoch", start_from_epoch, low=0, where=where)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch: int | None = None
        self.best_weights: list | None = None
        self.best = None if self.direction is None else self.worst()

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = self.current(logs)
        if epoch < self.start_from_epoch:
            return
        if self.best is None:
            self.best = self.worst()
        improved = self.is_improvement(current, self.best)
        # as Keras, the first monitored epoch is the best until one improves on it, so a run
        # whose every value is NaN still ends on weights it reached
        if self.restore_best_weights and (improved or self.best_weights is None):
            # copies: a model may hand out views of its live parameters
            self.best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]
            self.best_epoch = epoch
        self.wait += 1
        if improved:
            self.best = current
            self.best_epoch = epoch
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_message(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                how = "" if self.stopped_epoch > 0 else " (training ran to its end without an early stop)"
                print_message("Restoring model weights from the end of the best epoch: "
                              f"{self.best_epoch + 1}{how}.")
            self.model.set_weights(self.best_weights)

    def get_config(self) -> dict:
        return {"monitor": self.monitor, "min_delta": self.min_delta, "patience": self.patience,
                "verbose": self.verbose, "mode": self.mode, "baseline": self.baseline,
                "restore_best_weights": self.restore_best_weights,
                "start_from_epoch": self.start_from_epoch}
