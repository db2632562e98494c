"""``fit`` and ``evaluate`` for a model with its own ``train_step``/``test_step`` (Keras 3's
PyTorch spelling): the user's step runs eagerly once per batch, with callbacks, the progress bar
and History around it. ``model.metrics`` are reset at the start of each epoch and of each
evaluation, as Keras does. This is the one path allowed to be slower than the pure step.
"""
from __future__ import annotations

import torch

from regulab.callbacks import History
from regulab.layers._context import gradient_scope
from regulab.training import _data
from regulab.training._logs import check_step_logs
from regulab.training._batches import epoch_permutation
from regulab.training._loop import callback_list, take


def _is_xy(data) -> bool:
    return getattr(data, "_is_xy", False)


class _XY(tuple):
    """A batch ``(x, y[, w])`` (as opposed to a tuple of several inputs)."""

    _is_xy = True


def _as_data(model, x, y, sample_weight):
    with _data.data_source("fit"):
        data = _data.custom_batch(model, x, y, sample_weight)
    return _XY(data) if y is not None else data


def _leaf(tree):
    """The first tensor of a batch structure (its length is the batch's)."""
    while not isinstance(tree, torch.Tensor):
        tree = next(iter(tree.values())) if isinstance(tree, dict) else tree[0]
    return tree


def _take(tree, idx):
    """``tree`` (a tensor, or tuples, lists and dicts of them) at rows ``idx``, same structure."""
    if isinstance(tree, _XY):
        return _XY(_take(t, idx) for t in tree)
    if isinstance(tree, dict):
        return {k: _take(v, idx) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_take(t, idx) for t in tree)
    return take(tree, idx)


def _names(model, validation: bool) -> list[str] | None:
    names = [m.name for m in model.metrics]
    if not names:
        return None
    return names + ([f"val_{n}" for n in names] if validation else [])


def _reset(model) -> None:
    for m in model.metrics:
        m.reset_state()


def _with_class_weight(data, class_weight, device):
    """Keras turns ``class_weight`` into a third element of the batch: each sample's weight."""
    if class_weight is None:
        return data
    if not _is_xy(data) or not isinstance(data[1], torch.Tensor):
        raise ValueError("Argument `class_weight` needs one target array `y` (one class per sample).")
    y = data[1]
    labels = y.argmax(-1) if y.dim() > 1 and y.shape[-1] > 1 else y.reshape(y.shape[0], -1)[:, 0].round().long()
    w = data[2] if len(data) == 3 else None
    w = _data.apply_class_weight(w, labels.cpu().numpy(), class_weight, device)
    return _XY((data[0], data[1], w))


def fit_custom(model, x, y, *, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
               shuffle, sample_weight, initial_epoch, steps_per_epoch, seed, class_weight=None) -> History:
    from regulab._validation import check_int
    from regulab.training._fit import _is_iterator, unpack_validation

    if _is_iterator(x):
        if validation_split:
            raise ValueError("Argument `validation_split` is not supported when `x` is an iterator; "
                             "pass validation_data instead.")
        if class_weight is not None:
            raise ValueError("Argument `class_weight` is not supported when `x` is an iterator; yield "
                             "(x, y, sample_weight) batches instead.")
        steps = steps_per_epoch if steps_per_epoch is not None else (len(x) if hasattr(x, "__len__") else None)
        if steps is None:
            raise ValueError("Argument `steps_per_epoch` is required when `x` is an iterator without a length.")
        steps = check_int("steps_per_epoch", steps, low=1)

        def epoch_batches(epoch):
            iterator = x if hasattr(x, "__next__") else iter(x)  # a DataLoader: afresh each epoch
            for _ in range(steps):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                if isinstance(item, (tuple, list)):
                    yield _XY(_data.custom_batch(model, item[0], item[1] if len(item) > 1 else None,
                                                 item[2] if len(item) > 2 else None))
                else:
                    yield _data.custom_batch(model, item, None, None)
        validation = None
    else:
        batch_size = 32 if batch_size is None else check_int("batch_size", batch_size, low=1)
        data = _as_data(model, x, y, sample_weight)
        n = _leaf(data).shape[0]
        if class_weight is not None and validation_split:
            raise ValueError("Arguments `class_weight` and `validation_split` together are not supported with a "
                             "custom train_step; pass validation_data instead.")
        data = _with_class_weight(data, class_weight, model.device)
        steps = _data.num_batches(n, batch_size)
        validation = None
        if validation_split and validation_data is None:
            split = _data.validation_split(n, validation_split, None, seed)
            val_idx = torch.as_tensor(split.val, device=model.device)
            validation = _take(data, val_idx)
            data = _take(data, torch.as_tensor(split.train, device=model.device))
            n = len(split.train)
            steps = _data.num_batches(n, batch_size)
        def epoch_batches(epoch):
            order = (epoch_permutation(seed, epoch, n) if shuffle else torch.arange(n)).to(model.device)
            for i in range(0, n, batch_size):
                yield _take(data, order[i:i + batch_size])
    if validation_data is not None:
        xv, yv, wv = unpack_validation(validation_data)
        validation = _as_data(model, xv, yv, wv)
    cbs, history = callback_list(model, callbacks, {
        "epochs": epochs, "steps": steps, "verbose": verbose, "metrics": _names(model, validation is not None),
        "directions": {}, "steps_per_execution": 1, "engine": "eager (custom train_step)"}, verbose)
    model.stop_training = False
    cbs.on_train_begin()
    logs: dict = {}
    for epoch in range(initial_epoch, epochs):
        _reset(model)
        cbs.on_epoch_begin(epoch)
        logs = {}
        for b, batch in enumerate(epoch_batches(epoch)):
            cbs.on_train_batch_begin(b)
            with gradient_scope():
                logs = check_step_logs(model, model.train_step(batch), "train_step")
            cbs.on_train_batch_end(b, logs)
            if model.stop_training:
                break
        logs = dict(logs)
        if validation is not None:
            val = _evaluate_data(model, validation, batch_size or 32)
            logs.update({f"val_{k}": v for k, v in val.items()})
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    history.params["engine"] = "eager (custom train_step)"
    model.history = history
    return history


def _evaluate_data(model, data, batch_size: int) -> dict:

    _reset(model)
    n = _leaf(data).shape[0]
    logs: dict = {}
    with torch.no_grad():
        for i in range(0, n, batch_size):
            logs = check_step_logs(model, model.test_step(_take(data, slice(i, i + batch_size))), "test_step")
    return logs


def evaluate_custom(model, x, y, sample_weight, batch_size: int) -> dict:
    return _evaluate_data(model, _as_data(model, x, y, sample_weight), batch_size)

