"""Weight penalties with exactly the seed lesson's formulas: λΣ|w| (L1) and λΣw² (L2, no ½).

A regularizer is attached to a layer (``kernel_regularizer=regularizers.l2(0.01)``); its penalty is
added to the loss that is minimized and reported, as in Keras. ``l1(λ, proximal=True)`` instead applies
L1 as a proximal step (soft-thresholding after every optimizer step, scaled by each weight's own step
size), so weights reach exact zero; the penalty is still reported in the loss.

>>> import torch
>>> from regulab import regularizers
>>> round(float(regularizers.l2(0.01)(torch.tensor([1.0, -2.0]))), 6)  # 0.01 * (1 + 4)
0.05
>>> round(float(regularizers.l1(0.1)(torch.tensor([1.0, -2.0]))), 6)   # 0.1 * (1 + 2)
0.3
"""
from __future__ import annotations

import torch

from regulab._registry import Registry
from regulab._validation import check_float

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize", "deserialize"]


class Regularizer:
    """Base class: ``__call__(w)`` returns the penalty added to the loss.

    The built-in regularizers take their factors as keyword arguments too
    (``__call__(w, l2=t)``): a training step passes the factors it holds in its state (see
    :meth:`hyper_parameters`), so one compiled step serves every strength and stacked variants
    each train with their own.
    """

    #: factor of the L1 part handled by soft-thresholding instead of the gradient (0 if none)
    prox_l1: float = 0.0

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # abstract: each regularizer defines its penalty

    def hyper_parameters(self) -> dict[str, float]:
        """``{name: value}`` of the factors a training step reads from its state and passes back
        as keyword arguments of ``__call__``, ``gradient_penalty`` and ``add_gradient`` (none
        for a custom regularizer: its penalty is whatever ``__call__(w)`` computes)."""
        return {}

    def gradient_penalty(self, w: torch.Tensor, **factors) -> torch.Tensor | None:
        """The part of the penalty that is differentiated (all of it unless proximal)."""
        return self(w, **factors)

    def per_variant(self, w: torch.Tensor, **factors) -> torch.Tensor:
        """The penalty of each of V stacked variants, ``(V,)``: ``w`` is ``(V, *shape)`` and each
        factor ``(V,)`` (what a stacked step reports). This maps ``__call__`` over the
        variants; the built-in regularizers sum each variant's row directly.

        >>> import torch
        >>> L2(0.5).per_variant(torch.tensor([[1.0, 1.0], [2.0, 0.0]]), l2=torch.tensor([1.0, 0.1]))
        tensor([2.0000, 0.4000])
        """
        names = list(factors)
        return torch.func.vmap(lambda wv, *f: self(wv, **dict(zip(names, f))))(w, *factors.values())

    def add_gradient(self, grad: torch.Tensor, w: torch.Tensor, **factors) -> torch.Tensor | None:
        """``grad`` plus the gradient of :meth:`gradient_penalty` at ``w`` in closed form, or None
        when the regularizer has no closed form (the step then differentiates the penalty).
        The built-in penalties use it: one fused op instead of a penalty graph to backpropagate.
        Factors are Python numbers here (eager steps)."""
        return None

    def add_gradient_(self, grad: torch.Tensor, w: torch.Tensor, **factors) -> None:
        """``add_gradient`` written into ``grad`` (the stacked step's packed gradient, whose
        factors are ``(V, 1)`` tensors); the built-in penalties add in place, without a copy."""
        grad.copy_(self.add_gradient(grad, w, **factors))

    def get_config(self) -> dict:
        raise NotImplementedError  # abstract

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.get_config().items()))))


def _add_scaled_(grad: torch.Tensor, term: torch.Tensor, factor) -> None:
    """``grad += factor * term`` in place."""
    if isinstance(factor, torch.Tensor):
        grad.addcmul_(term, factor)
    else:
        grad.add_(term, alpha=factor)


def _add_scaled(grad: torch.Tensor, term: torch.Tensor, factor) -> torch.Tensor:
    """grad + factor * term; one fused kernel for a Python factor, broadcast for a tensor one (the
    stacked step's per-variant factors, shaped to broadcast over the weight)."""
    if isinstance(factor, torch.Tensor):
        return grad + factor * term
    return grad.add(term, alpha=factor)


class L1(Regularizer):
    """λΣ|w| (Lasso). Encourages sparsity; with ``proximal=True`` weights reach exact zero.

    Args:
        l1: the factor λ, at least 0 (default 0.01, as Keras).
        proximal: apply the penalty by soft-thresholding after each optimizer step instead of
            through its subgradient. Plain subgradient L1 makes weights oscillate around zero and
            never reach it; the proximal step (ISTA; Parikh & Boyd, 2014) sets them to zero.
    """

    def __init__(self, l1: float = 0.01, proximal: bool = False):
        self.l1 = check_float("l1", l1, low=0.0, where="L1")
        self.proximal = bool(proximal)
        self.prox_l1 = self.l1 if self.proximal else 0.0

    def __call__(self, w, l1=None):
        return (self.l1 if l1 is None else l1) * w.abs().sum()

    def per_variant(self, w, l1=None):
        return (self.l1 if l1 is None else l1) * w.abs().flatten(1).sum(1)

    def hyper_parameters(self):
        return {"l1": self.l1}

    def gradient_penalty(self, w, l1=None):
        return None if self.proximal else self(w, l1)

    def add_gradient(self, grad, w, l1=None):
        # the subgradient at 0 is taken as 0 (torch.sign(0) == 0)
        return grad if self.proximal else _add_scaled(grad, torch.sign(w), self.l1 if l1 is None else l1)

    def add_gradient_(self, grad, w, l1=None):
        if not self.proximal:
            _add_scaled_(grad, torch.sign(w), self.l1 if l1 is None else l1)

    def get_config(self):
        return {"l1": self.l1, "proximal": self.proximal}


class L2(Regularizer):
    """λΣw² (Ridge), exactly the seed's formula with no ½ (Keras semantics).

    This is not the optimizer's weight decay: under Adam the two differ (Loshchilov & Hutter, 2019);
    decoupled decay is ``optimizers.AdamW(weight_decay=...)``.

    Args:
        l2: the factor λ, at least 0 (default 0.01, as Keras).
    """

    def __init__(self, l2: float = 0.01):
        self.l2 = check_float("l2", l2, low=0.0, where="L2")

    def __call__(self, w, l2=None):
        return (self.l2 if l2 is None else l2) * w.square().sum()

    def per_variant(self, w, l2=None):
        return (self.l2 if l2 is None else l2) * w.square().flatten(1).sum(1)

    def hyper_parameters(self):
        return {"l2": self.l2}

    def add_gradient(self, grad, w, l2=None):
        return _add_scaled(grad, w, 2.0 * (self.l2 if l2 is None else l2))

    def add_gradient_(self, grad, w, l2=None):
        _add_scaled_(grad, w, 2.0 * (self.l2 if l2 is None else l2))

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """λ₁Σ|w| + λ₂Σw² (elastic net). ``proximal=True`` applies the L1 part by soft-thresholding.

    Args:
        l1: factor of the L1 part (default 0.0, as Keras's class).
        l2: factor of the L2 part (default 0.0).
        proximal: see :class:`L1`.
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, proximal: bool = False):
        self.l1 = check_float("l1", l1, low=0.0, where="L1L2")
        self.l2 = check_float("l2", l2, low=0.0, where="L1L2")
        self.proximal = bool(proximal)
        self.prox_l1 = self.l1 if self.proximal else 0.0

    def __call__(self, w, l1=None, l2=None):
        l1 = self.l1 if l1 is None else l1
        l2 = self.l2 if l2 is None else l2
        return l1 * w.abs().sum() + l2 * w.square().sum()

    def per_variant(self, w, l1=None, l2=None):
        l1 = self.l1 if l1 is None else l1
        l2 = self.l2 if l2 is None else l2
        rows = w.flatten(1)
        return l1 * rows.abs().sum(1) + l2 * rows.square().sum(1)

    def hyper_parameters(self):
        return {"l1": self.l1, "l2": self.l2}

    def gradient_penalty(self, w, l1=None, l2=None):
        if self.proximal:
            l2 = self.l2 if l2 is None else l2
            # no penalty graph for a known zero; a tensor factor may be zero for some variants only
            return None if isinstance(l2, (int, float)) and l2 == 0 else l2 * w.square().sum()
        return self(w, l1, l2)

    def add_gradient(self, grad, w, l1=None, l2=None):
        g = _add_scaled(grad, w, 2.0 * (self.l2 if l2 is None else l2))
        return g if self.proximal else _add_scaled(g, torch.sign(w), self.l1 if l1 is None else l1)

    def add_gradient_(self, grad, w, l1=None, l2=None):
        _add_scaled_(grad, w, 2.0 * (self.l2 if l2 is None else l2))
        if not self.proximal:
            _add_scaled_(grad, torch.sign(w), self.l1 if l1 is None else l1)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2, "proximal": self.proximal}


def l1(l1: float = 0.01, proximal: bool = False) -> L1:
    """Shorthand for :class:`L1` (``regularizers.l1(0.01)`` as in the lesson)."""
    return L1(l1, proximal=proximal)


def l2(l2: float = 0.01) -> L2:
    """Shorthand for :class:`L2` (``regularizers.l2(0.01)`` as in the lesson)."""
    return L2(l2)


def l1_l2(l1: float = 0.01, l2: float = 0.01, proximal: bool = False) -> L1L2:
    """Shorthand for :class:`L1L2` with tf.keras's defaults of 0.01 for both factors."""
    return L1L2(l1, l2, proximal=proximal)


_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}
_NAMES = {"l1": l1, "l2": l2, "l1_l2": l1_l2}


_REGISTRY = Registry("regularizer", Regularizer, _NAMES, _CLASSES)


def get(identifier) -> Regularizer | None:
    """Resolve ``None``, a name (``'l1'``, ``'l2'``, ``'l1_l2'``: factor 0.01) or an instance."""
    return None if identifier is None else _REGISTRY.get(identifier)


def get_argument(value, name: str, where: str) -> Regularizer | None:
    """``get(value)`` for the argument ``name`` of ``where`` (a layer), naming both in the error."""
    try:
        return get(value)
    except (TypeError, ValueError) as e:
        raise type(e)(f"Argument `{name}` of {where}: {e}") from None


def serialize(reg: Regularizer | None) -> dict | None:
    return None if reg is None else _REGISTRY.serialize(reg)


def deserialize(spec: dict | None) -> Regularizer | None:
    return None if spec is None else _REGISTRY.deserialize(spec)
