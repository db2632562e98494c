"""The shared part of callbacks that watch one logged quantity (as Keras 3's ``MonitorCallback``).

It owns the monitored name, the direction ('min' or 'max') and "is this value an improvement". Unlike
Keras, a name the fit does not log is an error raised when training begins, before any epoch is
spent, and ``mode='auto'`` takes the direction from the metric object (passed by the loop in
``params['directions']``) rather than guessing it from the name.

>>> from regulab.callbacks import EarlyStopping
>>> es = EarlyStopping(monitor="val_los")
>>> es.set_params({"metrics": ["loss", "val_loss"], "directions": {"loss": "min", "val_loss": "min"}})
>>> es.on_train_begin()
Traceback (most recent call last):
...
ValueError: Invalid value for argument `monitor` of EarlyStopping: expected one of the metrics this fit logs ('loss', 'val_loss'). Received: monitor='val_los'. Did you mean 'val_loss'?
"""
from __future__ import annotations

import math
from typing import Iterable

from regulab._validation import check_choice, check_float, invalid, suggest
from regulab.callbacks._base import Callback

_MODES = ("auto", "min", "max")
# Only used when the loop gave no direction for the name (hooks driven by hand, custom logs).
_MAX_HINTS = ("acc", "auc", "precision", "recall")
_MIN_HINTS = ("loss", "error", "mae", "mse", "mape", "msle", "crossentropy", "hinge", "divergence",
              "poisson", "cosh")


def direction_from_name(name: str) -> str | None:
    """'max' or 'min' when the metric's name says which is better, else None."""
    lowered = name.lower()
    if any(h in lowered for h in _MAX_HINTS):
        return "max"
    if any(h in lowered for h in _MIN_HINTS):
        return "min"
    return None


class MonitorCallback(Callback):
    """Base of callbacks that act on whether a logged quantity improves.

    Args:
        monitor: the logged name to watch, e.g. ``'val_loss'`` or ``'val_accuracy'``.
        mode: ``'min'``, ``'max'`` or ``'auto'`` (the direction of the metric object that produces
            ``monitor``, as given by the training loop; from the name only when the loop gave none).
        min_delta: the smallest change, at least 0, that counts as an improvement.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0):
        super().__init__()
        where = type(self).__name__
        if not isinstance(monitor, str) or not monitor:
            raise invalid("monitor", "the name of a logged metric, such as 'val_loss'", monitor, where)
        self.monitor = monitor
        self.mode = check_choice("mode", mode, _MODES, where)
        self.min_delta = check_float("min_delta", min_delta, low=0.0, where=where)
        #: 'min' or 'max', resolved when training begins (``params`` may change between fits)
        self.direction: str | None = None

    def on_train_begin(self, logs=None):
        self.check_monitor(self.params.get("metrics"))
        self.direction = self._resolve_direction()

    def check_monitor(self, names: Iterable[str] | None) -> None:
        """Raise if ``monitor`` is not among ``names``; ``None`` means the loop did not say."""
        if names is None:
            return
        names = list(names)
        if self.monitor not in names:
            raise self._unknown_monitor(names)

    def _unknown_monitor(self, names: list[str]) -> ValueError:
        shown = ", ".join(repr(n) for n in names) or "none"
        message = (f"Invalid value for argument `monitor` of {type(self).__name__}: expected one of "
                   f"the metrics this fit logs ({shown}). Received: monitor={self.monitor!r}.")
        if self.monitor.startswith("val_") and not any(n.startswith("val_") for n in names):
            base = self.monitor[len("val_"):]
            message += (" This fit has no validation data, so no 'val_' metric exists: pass "
                        "validation_split or validation_data to fit()")
            message += f", or monitor {base!r}." if base in names else "."
        else:
            message += suggest(self.monitor, names)
        return ValueError(message)

    def _resolve_direction(self) -> str:
        if self.mode != "auto":
            return self.mode
        direction = (self.params.get("directions") or {}).get(self.monitor)
        if direction is None:
            direction = direction_from_name(self.monitor)
        if direction not in ("min", "max"):
            raise ValueError(
                f"{type(self).__name__} cannot tell whether {self.monitor!r} should be minimized or "
                "maximized: the training loop gave no direction for it and its name does not say. "
                "Pass mode='min' or mode='max'.")
        return direction

    def current(self, logs) -> float:
        """The monitored value in ``logs``; a missing name is an error, never a skipped epoch."""
        if logs is None or self.monitor not in logs:
            raise self._unknown_monitor(list(logs or {}))
        return float(logs[self.monitor])

    def worst(self) -> float:
        """The value every real one improves on: +inf when minimizing, -inf when maximizing."""
        if self.direction is None:
            self.direction = self._resolve_direction()
        return math.inf if self.direction == "min" else -math.inf

    def is_improvement(self, value: float, reference: float) -> bool:
        """Whether ``value`` beats ``reference`` by more than ``min_delta`` (NaN never does)."""
        if self.direction is None:
            self.direction = self._resolve_direction()
        # Keras's arithmetic (shift the value, not the reference), so ties fall the same way.
        if self.direction == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference
