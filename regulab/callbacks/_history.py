"""The record of every epoch's logs that ``fit`` returns.

>>> from regulab.callbacks import History
>>> h = History()
>>> h.on_train_begin()
>>> h.on_epoch_end(0, {"loss": 0.7, "val_loss": 0.8})
>>> h.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.6})
>>> h.history, h.epoch
({'loss': [0.7, 0.5], 'val_loss': [0.8, 0.6]}, [0, 1])
"""
from __future__ import annotations

from regulab.callbacks._base import Callback


class History(Callback):
    """Records each epoch's logs: ``history[name]`` is the list of that quantity's values.

    Both ``history`` and ``epoch`` are emptied when training begins, so one History describes
    exactly one fit (Keras keeps appending to ``history`` when the instance is reused).

    Attributes:
        history: dict from log name (``'loss'``, ``'val_accuracy'``, ...) to a list of floats.
        epoch: the indices (from 0) of the recorded epochs.
        params: the fit's parameters (``epochs``, ``steps``, ``metrics``, ...).
        model: the trained model.
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)

    def get_config(self) -> dict:
        return {}
