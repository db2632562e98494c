"""Stop training as soon as the loss becomes NaN or infinite, keeping the last good weights.

The batch logs hold running means over the epoch, so one non-finite batch loss makes the logged
loss non-finite for the rest of the epoch: checking after every batch catches it at the batch where
it happened. The update of that batch has already been applied (with a NaN loss its gradient, and
so every weight, is NaN), so the callback keeps a copy of the weights after every batch whose loss
was finite and puts it back when it stops.

>>> from regulab.callbacks import TerminateOnNaN
>>> from regulab.layers import Dense
>>> from regulab.models import Sequential
>>> model = Sequential([Dense(1, input_dim=1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> x = np.array([[1.0], [1e30]], dtype="float32")  # finite, but its squared error overflows
>>> history = model.fit(x, np.zeros(2), batch_size=1, epochs=3, callbacks=[TerminateOnNaN()],
...                     shuffle=False, verbose=0)
Epoch 1, batch 2: invalid loss inf, terminating training
>>> len(history.history["loss"]), all(np.isfinite(w).all() for w in model.get_weights())
(1, True)
"""
from __future__ import annotations

import math

import numpy as np
import torch

from regulab.callbacks._base import Callback, check_flag, print_message


def _copy_weights(model) -> list:
    """The model's weights, copied where they live: the variables' tensors cloned on their device
    (no transfer to the host), or ``get_weights()`` arrays for a model without variables."""
    variables = getattr(model, "weights", None)
    if variables and all(isinstance(getattr(v, "value", None), torch.Tensor) for v in variables):
        return [v.value.detach().clone() for v in variables]
    return [np.array(w, copy=True) for w in model.get_weights()]


def _restore_weights(model, saved: list) -> None:
    if saved and isinstance(saved[0], torch.Tensor):
        for var, value in zip(model.weights, saved):
            var.value = value
    else:
        model.set_weights(saved)


class TerminateOnNaN(Callback):
    """Stop training at the batch whose loss is NaN or ±inf, restoring the weights the model had
    after the last batch with a finite loss (as Keras 3's ``TerminateOnNaN``, plus the restore).

    By default training stops gracefully: ``model.stop_training`` is set, the epoch ends there
    and every callback's ``on_epoch_end`` and ``on_train_end`` run (History records the epoch,
    with its non-finite loss). With ``raise_error=True`` a ``RuntimeError`` naming the epoch and
    batch is raised at once, so no later hook runs (a backup callback keeps its last good state).

    Cost: the check reads the loss after every batch (a wait for the device each batch), and the
    restore keeps one copy of every weight, refreshed after every batch (one copy of the model's
    size per batch, on the model's device, and that much extra memory). Use it for runs that may
    diverge. With ``steps_per_execution=K`` the hooks run once per K batches, so the weights put
    back are those after the last group of K batches whose loss was finite. The optimizer's own
    state (momentum, Adam's moments) is not put back: compile again before training on.

    Args:
        raise_error: raise ``RuntimeError`` instead of stopping gracefully (default False).
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = check_flag("raise_error", raise_error, type(self).__name__)
        self._epoch = 0
        self._good_weights: list | None = None

    def on_train_begin(self, logs=None):
        self._good_weights = _copy_weights(self.model)

    def on_train_end(self, logs=None):
        self._good_weights = None  # a model's worth of memory, not to be held after the fit

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isfinite(loss):
            self._good_weights = _copy_weights(self.model)
            return
        if self._good_weights is not None:
            _restore_weights(self.model, self._good_weights)
            self._good_weights = None
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at epoch {self._epoch + 1}, batch {batch + 1}. "
                f"Loss value: {loss}. Terminating training immediately; the model keeps the "
                "weights it had after the last batch with a finite loss.")
        print_message(f"Epoch {self._epoch + 1}, batch {batch + 1}: invalid loss {loss}, "
                      "terminating training")
        self.model.stop_training = True

    def get_config(self) -> dict:
        return {"raise_error": self.raise_error}
