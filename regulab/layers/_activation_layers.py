"""Activation functions with arguments, as layers: LeakyReLU, ReLU, ELU and Softmax (Keras 3's
names, arguments and defaults). GAN discriminators and generators use ``LeakyReLU(0.2)``."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from regulab._validation import check_float, check_int, invalid
from regulab.layers._base import Layer


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Args:
        negative_slope: slope below zero, a float >= 0 (default 0.3, Keras's default).

    >>> from regulab.layers import LeakyReLU
    >>> LeakyReLU(0.2)(np.array([[-1.0, 2.0]])).tolist()
    [[-0.20000000298023224, 2.0]]
    """

    supports_masking = True

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2's name of the argument
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = check_float("negative_slope", negative_slope, low=0.0, where="LeakyReLU")

    def call(self, x, ctx):
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ReLU(Layer):
    """Rectified linear unit with Keras's options: ``max_value`` caps the output,
    ``negative_slope`` is the slope below ``threshold``, values below which are not zeroed but
    scaled: ``f(x) = max_value if x >= max_value; x if threshold <= x < max_value;
    negative_slope * (x - threshold) otherwise``.

    >>> from regulab.layers import ReLU
    >>> ReLU(max_value=6.0)(np.array([[-1.0, 3.0, 9.0]])).tolist()
    [[0.0, 3.0, 6.0]]
    """

    supports_masking = True

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else check_float("max_value", max_value, low=0.0, where="ReLU")
        self.negative_slope = check_float("negative_slope", negative_slope, low=0.0, where="ReLU")
        self.threshold = check_float("threshold", threshold, where="ReLU")

    def call(self, x, ctx):
        if self.negative_slope == 0.0 and self.threshold == 0.0:
            out = F.relu(x)
        else:
            out = torch.where(x >= self.threshold, x, self.negative_slope * (x - self.threshold))
        if self.max_value is not None:
            out = out.clamp(max=self.max_value)
        return out

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class ELU(Layer):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (Clevert et al., 2016).

    >>> from regulab.layers import ELU
    >>> [round(v, 4) for v in ELU()(np.array([[-1.0, 2.0]]))[0].tolist()]
    [-0.6321, 2.0]
    """

    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_float("alpha", alpha, where="ELU")

    def call(self, x, ctx):
        return F.elu(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Softmax over ``axis`` (default the last), so that values along it sum to one.

    >>> from regulab.layers import Softmax
    >>> Softmax()(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """

    supports_masking = True

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_int("axis", axis, where="Softmax")

    def build(self, input_shape):
        rank = len(input_shape) + 1
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise invalid("axis", f"a non-batch axis of inputs of shape {(None, *input_shape)}", self.axis,
                          "Softmax")

    def call(self, x, ctx):
        return torch.softmax(x, dim=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
