"""The callback hooks, and the list through which the training loop calls them.

Every hook of :class:`Callback` exists and does nothing, so a callback overrides only what it uses.
The loop asks :class:`CallbackList` whether any callback wants per-batch hooks and skips those calls
entirely when none does: on a small model, per-batch Python work is a large share of a step.

>>> from regulab.callbacks import Callback, CallbackList
>>> class Count(Callback):
...     def on_epoch_end(self, epoch, logs=None):
...         print(f"epoch {epoch}: loss {logs['loss']}")
>>> cbs = CallbackList([Count()])
>>> cbs.on_epoch_end(0, {"loss": 0.5})
epoch 0: loss 0.5
>>> cbs.wants_train_batch_hooks
False
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import numpy as np

from regulab._validation import check_int, invalid

BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}

# The console of the progress bar being drawn, if any. Messages go through it so that they print
# above the live bar instead of being appended to, or overwritten by, its line.
_live_console = None


def set_live_console(console) -> None:
    """Route :func:`print_message` through ``console`` while its live bar draws (None: print)."""
    global _live_console
    _live_console = console


def print_message(text: str) -> None:
    """Print a callback's message, above the live progress bar when one is drawing."""
    if _live_console is None:
        print(text, flush=True)
    else:
        _live_console.print(text, markup=False, highlight=False, soft_wrap=True)


def check_verbose(value: Any, where: str) -> int:
    """``verbose`` as an int; ``True``/``False`` are accepted as 1/0, as Keras users pass them."""
    if isinstance(value, bool):
        return int(value)
    return check_int("verbose", value, low=0, high=2, where=where)


def check_flag(name: str, value: Any, where: str) -> bool:
    """A boolean argument; a string such as ``'False'`` would be truthy, so it is refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise invalid(name, "True or False", value, where)


def check_path(name: str, value: Any, what: str, where: str) -> str:
    """A path argument as a str: ``what`` is "a file path" or "a directory path"."""
    try:
        path = os.fspath(value)
    except TypeError:
        path = None
    if not isinstance(path, str) or not path:
        raise invalid(name, f"{what} (a non-empty str or os.PathLike)", value, where)
    return path


def overrides(callback: Any, hooks: tuple[str, ...], base: type) -> bool:
    """Whether ``callback``'s class redefines any of ``hooks`` relative to ``base``."""
    cls = type(callback)
    return any(getattr(cls, hook) is not getattr(base, hook) for hook in hooks)


class Callback:
    """Base class of callbacks: every training, test and predict hook, each doing nothing.

    Attributes:
        model: the model being trained, set by the loop through :meth:`set_model`.
        params: the loop's parameters (``epochs``, ``steps``, ``verbose``, ``metrics``,
            ``directions``), set through :meth:`set_params`.

    Epoch logs are plain dicts of floats. Batch logs are mappings of running means over the epoch;
    reading a value may wait for the device, so read them only when needed.
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    #: attributes that are not state: the loop's, and settings the callback was built with
    _not_state = ("model", "params")

    def get_state(self) -> dict:
        """What this callback has learnt during training (counters, best values, saved weights), as
        data a backup stores (``BackupAndRestore``); ``set_state`` puts it back. By default: every
        attribute that is data (numbers, strings, arrays, tensors, lists and dicts of them) other
        than the model and params; override both for anything else (an open file, a function)."""
        from regulab.callbacks._state import is_data

        settings = self.get_config() if hasattr(self, "get_config") else {}
        return {k: v for k, v in vars(self).items()
                if k not in self._not_state and k not in settings and is_data(v)}

    def set_state(self, state: dict) -> None:
        """Restore what ``get_state`` returned (the attributes it named)."""
        for k, v in state.items():
            setattr(self, k, v)

    def uses_batch_hooks(self, mode: str) -> bool:
        """Whether the loop must call this callback's per-batch hooks in ``mode`` ('train',
        'test' or 'predict'): by default, when its class overrides one of them."""
        return overrides(self, BATCH_HOOKS[mode], Callback)

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


def _check_callback(callback: Any) -> Callback:
    if isinstance(callback, Callback):
        return callback
    if isinstance(callback, type) and issubclass(callback, Callback):
        raise TypeError(f"Pass a callback instance, not the class: {callback.__name__}() "
                        f"instead of {callback.__name__}.")
    raise TypeError("Every callback must be an instance of regulab.callbacks.Callback. "
                    f"Received: {callback!r}")


class CallbackList:
    """Calls each hook on every callback, in order.

    Args:
        callbacks: the callbacks (default: none).
        model: given to every callback through ``set_model`` when not None.
        params: given to every callback through ``set_params`` when not None.
    """

    def __init__(self, callbacks=None, model=None, params: dict | None = None):
        self.callbacks: list[Callback] = [_check_callback(c) for c in (callbacks or [])]
        self.model = None
        self.params: dict = {}
        if model is not None:
            self.set_model(model)
        if params is not None:
            self.set_params(params)

    def append(self, callback: Callback) -> None:
        callback = _check_callback(callback)
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)
        self.callbacks.append(callback)

    def set_model(self, model) -> None:
        self.model = model
        for c in self.callbacks:
            c.set_model(model)

    def set_params(self, params: dict) -> None:
        self.params = params
        for c in self.callbacks:
            c.set_params(params)

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    @property
    def wants_train_batch_hooks(self) -> bool:
        """True iff some callback needs ``on_train_batch_begin``/``on_train_batch_end``."""
        return any(c.uses_batch_hooks("train") for c in self.callbacks)

    @property
    def wants_test_batch_hooks(self) -> bool:
        """True iff some callback needs ``on_test_batch_begin``/``on_test_batch_end``."""
        return any(c.uses_batch_hooks("test") for c in self.callbacks)

    @property
    def wants_predict_batch_hooks(self) -> bool:
        """True iff some callback needs ``on_predict_batch_begin``/``on_predict_batch_end``."""
        return any(c.uses_batch_hooks("predict") for c in self.callbacks)

    def on_train_begin(self, logs=None):
        for c in self.callbacks:
            c.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for c in self.callbacks:
            c.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for c in self.callbacks:
            c.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for c in self.callbacks:
            c.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        for c in self.callbacks:
            c.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for c in self.callbacks:
            c.on_train_batch_end(batch, logs)

    def on_test_begin(self, logs=None):
        for c in self.callbacks:
            c.on_test_begin(logs)

    def on_test_end(self, logs=None):
        for c in self.callbacks:
            c.on_test_end(logs)

    def on_test_batch_begin(self, batch, logs=None):
        for c in self.callbacks:
            c.on_test_batch_begin(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        for c in self.callbacks:
            c.on_test_batch_end(batch, logs)

    def on_predict_begin(self, logs=None):
        for c in self.callbacks:
            c.on_predict_begin(logs)

    def on_predict_end(self, logs=None):
        for c in self.callbacks:
            c.on_predict_end(logs)

    def on_predict_batch_begin(self, batch, logs=None):
        for c in self.callbacks:
            c.on_predict_batch_begin(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        for c in self.callbacks:
            c.on_predict_batch_end(batch, logs)
