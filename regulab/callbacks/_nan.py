"""Stop training as soon as the loss becomes NaN or infinite.

The batch logs hold running means over the epoch, so one non-finite batch loss makes the logged
loss non-finite for the rest of the epoch: checking after every batch catches it at the batch where
it happened.

>>> from types import SimpleNamespace
>>> from regulab.callbacks import TerminateOnNaN
>>> model = SimpleNamespace(stop_training=False)
>>> t = TerminateOnNaN()
>>> t.set_model(model)
>>> t.on_epoch_begin(0)
>>> t.on_train_batch_end(6, {"loss": float("nan")})
Epoch 1, batch 7: invalid loss nan, terminating training
>>> model.stop_training
True
"""
from __future__ import annotations

import math

from regulab.callbacks._base import Callback, print_message


class TerminateOnNaN(Callback):
    """Set ``model.stop_training`` when a batch's logged loss is NaN or ±inf, and say where.

    Checking reads the loss after every batch, so it waits for the device once per batch; keep it
    for runs that may diverge.
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print_message(f"Epoch {self._epoch + 1}, batch {batch + 1}: invalid loss {float(loss)}, "
                          "terminating training")
            self.model.stop_training = True

    def get_config(self) -> dict:
        return {}
