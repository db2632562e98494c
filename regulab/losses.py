"""Losses by Keras name and class.

Every loss reduces to one value per sample (``per_sample``); the training step weights those by
``sample_weight``/``class_weight`` and averages over the batch, as Keras's "sum over batch size".
Cross-entropies also take logits: when the model ends in a sigmoid or softmax, training feeds the
pre-activation values through the numerically stable path (``from_logits``) instead of clipping
probabilities at 1e-7 as Keras does.

>>> import torch
>>> from regulab import losses
>>> bce = losses.get("binary_crossentropy")
>>> round(float(bce(torch.tensor([[1.0]]), torch.tensor([[0.5]]))), 4)
0.6931
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from regulab._registry import Registry
from regulab._validation import check_float

__all__ = ["Loss", "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "MeanSquaredError", "MeanAbsoluteError", "Huber", "get", "serialize", "deserialize"]

_EPS = 1e-7  # Keras's clipping of probabilities, used only on the probability path


def _per_sample_mean(el: torch.Tensor) -> torch.Tensor:
    """Average every axis but the batch axis (Keras averages the last axis, then the
    sum-over-batch-size reduction divides by the remaining element count)."""
    return el.reshape(el.shape[0], -1).mean(dim=1) if el.dim() > 1 else el


def _active(value) -> bool:
    """A smoothing to apply: a non-zero number, or a tensor (zero for some stacked variants only)."""
    return isinstance(value, torch.Tensor) or bool(value)


class Loss:
    """Base class: ``per_sample(y_true, y_pred, logits)`` returns one loss per sample."""

    name = "loss"
    #: the output activation whose pre-activation values this loss can take as logits
    logits_activation: str | None = None
    #: the kind of targets this loss expects: 'binary', 'categorical', 'sparse' or 'regression'
    target_kind = "regression"

    def __init__(self, from_logits: bool = False):
        self.from_logits = bool(from_logits)

    #: attributes a training step reads from its state and passes to ``per_sample`` as keywords
    hyper_parameters: tuple[str, ...] = ()

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor, logits: bool = False) -> torch.Tensor:
        raise NotImplementedError  # abstract

    def __call__(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        """The batch loss as Keras computes it: weighted per-sample losses summed / batch size."""
        y_true = torch.as_tensor(y_true, dtype=torch.float32 if self.target_kind != "sparse" else None)
        y_pred = torch.as_tensor(y_pred, dtype=torch.float32)
        if self.target_kind != "sparse" and y_true.shape != y_pred.shape and y_true.numel() == y_pred.numel():
            y_true = y_true.reshape(y_pred.shape)  # (N,) labels for an (N, 1) output
        per = self.per_sample(y_true, y_pred, logits=self.from_logits)
        if sample_weight is not None:
            per = per * torch.as_tensor(sample_weight, dtype=per.dtype).reshape(per.shape)
        return per.sum() / per.shape[0]

    def get_config(self) -> dict:
        return {"from_logits": self.from_logits} if self.logits_activation else {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class _SmoothedCrossentropy(Loss):
    """A cross-entropy whose targets can be smoothed towards uniform by ``label_smoothing``.

    ``label_smoothing`` is a hyper-parameter a training step reads from its state and passes to
    ``per_sample`` (a tensor in compiled and stacked steps), so one step serves every value."""

    hyper_parameters = ("label_smoothing",)

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0):
        super().__init__(from_logits)
        self.label_smoothing = check_float("label_smoothing", label_smoothing, low=0.0, high=1.0,
                                           where=type(self).__name__)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_SmoothedCrossentropy):
    """-(y log p + (1-y) log(1-p)), averaged over the last axis. Labels must lie in [0, 1]."""

    name = "binary_crossentropy"
    logits_activation = "sigmoid"
    target_kind = "binary"

    def per_sample(self, y_true, y_pred, logits=False, label_smoothing=None):
        ls = self.label_smoothing if label_smoothing is None else label_smoothing
        if _active(ls):
            y_true = y_true * (1.0 - ls) + 0.5 * ls
        if logits:
            el = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
        else:
            p = y_pred.clamp(_EPS, 1.0 - _EPS)
            el = -(y_true * torch.log(p) + (1.0 - y_true) * torch.log1p(-p))
        return _per_sample_mean(el)


class CategoricalCrossentropy(_SmoothedCrossentropy):
    """-Σ y log p over classes, for one-hot (or soft) labels."""

    name = "categorical_crossentropy"
    logits_activation = "softmax"
    target_kind = "categorical"

    def per_sample(self, y_true, y_pred, logits=False, label_smoothing=None):
        ls = self.label_smoothing if label_smoothing is None else label_smoothing
        if _active(ls):
            k = y_true.shape[-1]
            y_true = y_true * (1.0 - ls) + ls / k
        if logits:
            logp = torch.log_softmax(y_pred, dim=-1)
        else:
            p = y_pred / y_pred.sum(dim=-1, keepdim=True)
            logp = torch.log(p.clamp(_EPS, 1.0 - _EPS))
        return _per_sample_mean(-(y_true * logp).sum(dim=-1))


class SparseCategoricalCrossentropy(Loss):
    """-log p[label] for integer labels in [0, number of classes)."""

    name = "sparse_categorical_crossentropy"
    logits_activation = "softmax"
    target_kind = "sparse"

    def per_sample(self, y_true, y_pred, logits=False):
        y = y_true.reshape(y_pred.shape[:-1]).long()
        if logits:
            return _per_sample_mean(F.cross_entropy(y_pred.reshape(-1, y_pred.shape[-1]), y.reshape(-1),
                                                    reduction="none").reshape(y.shape))
        p = y_pred / y_pred.sum(dim=-1, keepdim=True)
        picked = p.gather(-1, y.unsqueeze(-1)).squeeze(-1)
        return _per_sample_mean(-torch.log(picked.clamp(_EPS, 1.0 - _EPS)))


class MeanSquaredError(Loss):
    """(y - ŷ)² averaged over the last axis."""

    name = "mean_squared_error"

    def per_sample(self, y_true, y_pred, logits=False):
        el = (y_true - y_pred).square()
        return _per_sample_mean(el)


class MeanAbsoluteError(Loss):
    """|y - ŷ| averaged over the last axis."""

    name = "mean_absolute_error"

    def per_sample(self, y_true, y_pred, logits=False):
        el = (y_true - y_pred).abs()
        return _per_sample_mean(el)


class Huber(Loss):
    """½e² where |e| ≤ delta, else delta(|e| - ½delta); averaged over the last axis."""

    name = "huber_loss"

    def __init__(self, delta: float = 1.0):
        super().__init__()
        self.delta = check_float("delta", delta, low=0.0, low_open=True, where="Huber")

    def per_sample(self, y_true, y_pred, logits=False):
        el = F.huber_loss(y_pred, y_true, reduction="none", delta=self.delta)
        return _per_sample_mean(el)

    def get_config(self):
        return {"delta": self.delta}


_CLASSES = {c.__name__: c for c in (BinaryCrossentropy, CategoricalCrossentropy,
                                     SparseCategoricalCrossentropy, MeanSquaredError,
                                     MeanAbsoluteError, Huber)}
_NAMES = {
    "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber, "huber_loss": Huber,
}


_REGISTRY = Registry("loss", Loss, _NAMES, _CLASSES)
#: resolve a name (``'binary_crossentropy'``, ``'mse'``, ...) or an instance to a loss
get = _REGISTRY.get
serialize = _REGISTRY.serialize
deserialize = _REGISTRY.deserialize
