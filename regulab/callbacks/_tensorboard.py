"""Write a fit's logs and weights as TensorBoard event files, as Keras's ``TensorBoard`` callback.

``TensorBoard(log_dir)`` writes each epoch's logs as scalars: the training logs into
``log_dir/train``, the validation logs (``val_loss``, ...) into ``log_dir/validation`` without
their ``val_`` prefix, with Keras's tag names (``epoch_loss``, ``epoch_accuracy``,
``epoch_learning_rate``) and the epoch (from 0) as the step, so that TensorBoard draws training
and validation curves of one figure on one chart. ``tensorboard --logdir log_dir`` shows them.
The files are written through ``torch.utils.tensorboard.SummaryWriter`` (the ``tensorboard``
package; TensorFlow is not needed) and flushed after every epoch, so a running TensorBoard sees
each epoch as it ends.

What it writes, as Keras 3 does:

- ``epoch_<name>`` for every log of the epoch, and ``epoch_learning_rate`` (the optimizer's
  learning rate, or the ``learning_rate`` a schedule callback put in the logs);
- with ``histogram_freq=N``: a histogram of every weight every N epochs (epochs 0, N, 2N, ...),
  tagged ``<weight path>/histogram`` (``dense_1/kernel/histogram``), in ``train``;
- with ``write_images=True`` (and ``histogram_freq``): every kernel and bias as an image,
  ``<weight path>/image``;
- with ``update_freq="batch"`` or an integer N: ``batch_<name>`` every N training batches, the
  batch's running means over the epoch as in Keras, with the global batch count as the step
  (this asks the loop for per-batch hooks, which waits for the device after every batch);
- with ``write_steps_per_second=True``: ``epoch_steps_per_second`` (and ``batch_steps_per_second``
  when batches are logged).

Differences from Keras 3 (its ``keras/src/callbacks/tensorboard.py``):

- ``write_graph=True`` (the default) writes the model's ``summary()`` table as text (TensorBoard's
  Text tab, tag ``model/summary/text_summary``, step 0), not a TensorFlow graph: regulab has no graph of
  TensorFlow ops, and Keras's JSON model summary needs TensorFlow to write;
- regulab's ``fit`` validates without calling ``on_test_begin``/``on_test_end``, and
  ``evaluate`` takes no callbacks, so ``evaluation_<name>_vs_iterations`` is never written;
- weight images are rescaled to [0, 1] per weight (Keras writes the raw values, which TensorBoard
  clips to [0, 1]) and a weight's images are tiled into one picture (``add_images``);
- ``profile_batch``, ``embeddings_freq`` and ``embeddings_metadata`` are accepted only at their
  defaults (0, 0, None): a profiler trace and the embedding projector are not supported (Keras on
  its torch backend refuses ``profile_batch`` too); another value is an error naming it;
- a callback used for a second fit writes new event files next to the first fit's, whose steps
  restart at 0 (the epoch passed to the hooks, and the batch count, as Keras's do): TensorBoard
  draws both fits as one run, so give each fit its own ``log_dir`` to compare them;
- a Keras test's ``tf.summary`` calls inside a layer (custom summaries) have no counterpart.

>>> import os, tempfile
>>> from regulab.callbacks import TensorBoard
>>> TensorBoard(os.path.join(tempfile.mkdtemp(), "logs"), update_freq="minute")
Traceback (most recent call last):
...
ValueError: Invalid value for argument `update_freq` of TensorBoard: expected 'epoch', 'batch' or an integer >= 1 ...
Received: update_freq='minute'
"""
from __future__ import annotations

import os
import time

import numpy as np

from regulab._validation import check_int, invalid
from regulab.callbacks._base import Callback, check_flag, check_path

_INSTALL = ("regulab.callbacks.TensorBoard writes its event files with the tensorboard package, which is not "
            "installed: pip install tensorboard")


def _summary_writer_class():
    """``torch.utils.tensorboard.SummaryWriter``, or an ImportError that says what to install."""
    try:
        import tensorboard  # noqa: F401 - torch's writer needs it; checked first for a clear error
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError(_INSTALL) from error
    return SummaryWriter


def _as_image(value: np.ndarray) -> np.ndarray | None:
    """A weight as images N x H x W x 1 scaled to [0, 1], shaped as Keras shows them: a bias as one
    row, a Dense kernel with its longer side across, a 2-D convolution as one image per output
    filter pair (channels-last kernels ``(h, w, in, out)`` are squeezed as Keras does); None for
    shapes Keras does not draw."""
    w = np.squeeze(np.asarray(value, dtype=np.float32))
    if w.ndim == 1:
        w = w.reshape(1, 1, w.shape[0], 1)
    elif w.ndim == 2:
        if w.shape[0] > w.shape[1]:
            w = w.T
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.ndim == 3:  # channels last: one image per last-axis slice
        w = np.transpose(w, (2, 0, 1))[..., None]
    else:
        return None
    low, high = float(w.min()), float(w.max())
    return (w - low) / (high - low) if high > low else np.zeros_like(w)


class TensorBoard(Callback):
    """Log a fit for TensorBoard: scalars per epoch, weight histograms and images, batch scalars.

    Args:
        log_dir: the folder of the event files (default ``"logs"``); training logs go to
            ``log_dir/train``, validation logs to ``log_dir/validation``. Use one folder per run
            (``logs/run1``, ``logs/run2``) to compare runs in TensorBoard.
        histogram_freq: every how many epochs to write a histogram of each weight (0: never).
        write_graph: write the model's summary table as text at the start of training (see the
            module docstring: there is no TensorFlow graph to write).
        write_images: with ``histogram_freq``, also write the weights as images.
        write_steps_per_second: also write the training steps per second.
        update_freq: ``"epoch"`` (default: scalars once per epoch), ``"batch"`` (also after every
            batch) or an integer N (also every N batches).
        profile_batch: must be 0 (profiling is not supported).
        embeddings_freq: must be 0 (the embedding projector is not supported).
        embeddings_metadata: must be None.

    Raises:
        ImportError: the ``tensorboard`` package is not installed (``pip install tensorboard``).
    """

    #: writers and clocks are not state a backup could store
    _not_state = Callback._not_state + ("_writers", "_epoch_start_time", "_batch_start_time", "_epoch_start_step")

    def __init__(self, log_dir="logs", histogram_freq: int = 0, write_graph: bool = True, write_images: bool = False,
                 write_steps_per_second: bool = False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        where = type(self).__name__
        self.log_dir = check_path("log_dir", log_dir, "a directory path", where)
        self.histogram_freq = check_int("histogram_freq", histogram_freq, low=0, where=where)
        self.write_graph = check_flag("write_graph", write_graph, where)
        self.write_images = check_flag("write_images", write_images, where)
        self.write_steps_per_second = check_flag("write_steps_per_second", write_steps_per_second, where)
        if update_freq in ("epoch", "batch"):
            self.update_freq = update_freq
        elif not isinstance(update_freq, (bool, str)) and hasattr(update_freq, "__index__") and int(update_freq) >= 1:
            self.update_freq = int(update_freq)
        else:
            raise invalid("update_freq", "'epoch', 'batch' or an integer >= 1 (write batch logs every that many "
                          "batches)", update_freq, where)
        if profile_batch not in (0, None) and not (isinstance(profile_batch, (tuple, list)) and
                                                   tuple(profile_batch) == (0, 0)):
            raise invalid("profile_batch", "0: regulab's TensorBoard does not profile batches (use "
                          "torch.profiler around model.fit instead)", profile_batch, where)
        if embeddings_freq not in (0, None):
            raise invalid("embeddings_freq", "0: regulab's TensorBoard does not write the embedding projector",
                          embeddings_freq, where)
        if embeddings_metadata is not None:
            raise invalid("embeddings_metadata", "None: regulab's TensorBoard does not write the embedding "
                          "projector", embeddings_metadata, where)
        self._writer_class = _summary_writer_class()
        self._writers: dict = {}
        self._global_train_batch = 0  # batches trained in this fit so far (the step of batch scalars)
        self._last_batch_written = 0
        self._epoch_start_step = 0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0

    # -- settings
    @property
    def _every(self) -> int | None:
        """Write batch scalars every this many batches; None: only epoch scalars."""
        if self.update_freq == "epoch":
            return None
        return 1 if self.update_freq == "batch" else self.update_freq

    def get_config(self) -> dict:
        return {"log_dir": self.log_dir, "histogram_freq": self.histogram_freq, "write_graph": self.write_graph,
                "write_images": self.write_images, "write_steps_per_second": self.write_steps_per_second,
                "update_freq": self.update_freq, "profile_batch": 0, "embeddings_freq": 0,
                "embeddings_metadata": None}

    def uses_batch_hooks(self, mode: str) -> bool:
        return mode == "train" and self._every is not None

    # -- writers, created when first written to (a fit without validation makes no validation folder)
    def _writer(self, which: str):
        if which not in self._writers:
            self._writers[which] = self._writer_class(os.path.join(self.log_dir, which))
        return self._writers[which]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- hooks
    def on_train_begin(self, logs=None):
        self._close_writers()  # a writer left open by an interrupted fit
        self._global_train_batch = 0
        self._last_batch_written = 0
        if self.write_graph and self.model is not None and hasattr(self.model, "summary"):
            lines: list[str] = []
            try:
                self.model.summary(print_fn=lambda line, *args, **kwargs: lines.append(str(line)))
            except Exception:  # noqa: BLE001 - a model that cannot summarize itself (not built): nothing to draw
                lines = []
            if lines:
                text = "\n".join(lines)
                # TensorBoard renders text as markdown: indenting by four spaces keeps the table's columns
                self._writer("train").add_text("model/summary", "\n".join("    " + l for l in text.splitlines()), 0)

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start_step = self._global_train_batch
        self._epoch_start_time = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        if self.write_steps_per_second:
            self._batch_start_time = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        before = self._global_train_batch
        # the loop calls once per execution (steps_per_execution batches): `batch` is the last one run
        self._global_train_batch = self._epoch_start_step + int(batch) + 1
        every = self._every
        if every is None or self._global_train_batch // every == self._last_batch_written // every:
            return
        self._last_batch_written = self._global_train_batch
        writer = self._writer("train")
        step = self._global_train_batch
        if self.write_steps_per_second and self._batch_start_time:
            seconds = time.perf_counter() - self._batch_start_time
            if seconds > 0:
                writer.add_scalar("batch_steps_per_second", (step - before) / seconds, step)
        for name in (logs or {}):
            writer.add_scalar(f"batch_{name}", float(logs[name]), step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        validation = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        if "learning_rate" not in train:
            rate = self._learning_rate()
            if rate is not None:
                train["learning_rate"] = rate
        if self.write_steps_per_second:
            train["steps_per_second"] = self._steps_per_second()
        for which, values in (("train", train), ("validation", validation)):
            if values:
                writer = self._writer(which)
                for name, value in values.items():
                    writer.add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    # -- what the epoch scalars read
    def _learning_rate(self) -> float | None:
        optimizer = getattr(self.model, "optimizer", None)
        rate = getattr(optimizer, "learning_rate", None)
        try:
            return None if rate is None else float(rate)
        except (TypeError, ValueError):  # a schedule object: not one number
            return None

    def _steps_per_second(self) -> float:
        seconds = time.perf_counter() - self._epoch_start_time
        if self._global_train_batch > self._epoch_start_step:  # counted by the batch hooks
            steps = self._global_train_batch - self._epoch_start_step
        else:
            steps = int(self.params.get("steps") or 0)
            self._global_train_batch = self._epoch_start_step + steps
        return steps / seconds if seconds > 0 else 0.0

    def _weights(self) -> list[tuple[str, np.ndarray]]:
        """``(path, values)`` of every weight of the model, each once."""
        model = self.model
        if hasattr(model, "variable_paths"):
            return [(path, var.numpy()) for var, path in model.variable_paths().items()]
        return [(f"weight_{i}", np.asarray(w)) for i, w in enumerate(model.get_weights())]

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for path, values in self._weights():
            if values.size == 0:
                continue
            writer.add_histogram(f"{path}/histogram", values.astype(np.float32), epoch)
            if self.write_images:
                image = _as_image(values)
                if image is not None:
                    writer.add_images(f"{path}/image", image, epoch, dataformats="NHWC")
