"""BatchNormalization (Ioffe & Szegedy, 2015) and LayerNormalization (Ba et al., 2016)."""
from __future__ import annotations

import torch

from regulab import initializers
from regulab import regularizers as _regularizers
from regulab._validation import check_float, check_int
from regulab.layers._base import Layer
from regulab.regularizers import get_argument as _regularizer_argument


class BatchNormalization(Layer):
    """Normalizes each feature with the batch's mean and variance in training, and with moving
    averages of them in inference, then scales by ``gamma`` and shifts by ``beta``.

    Keras conventions: ``momentum=0.99`` is the weight of the *running* value
    (``moving = momentum * moving + (1 - momentum) * batch``), i.e. torch's ``momentum=0.01``;
    ``epsilon=1e-3`` (torch: 1e-5); with ``trainable = False`` the layer runs in inference mode
    even in training; the moving variance tracks the biased batch variance (torch
    tracks the unbiased one). A training batch of one sample does not raise (torch's BatchNorm1d
    does): its variance is 0 and the output is ``beta``. Behind ``Masking`` or
    ``Embedding(mask_zero=True)`` the batch statistics leave out the masked steps, as in Keras.

    Training vs inference: in training (``fit``, ``training=True``) the layer normalizes with the
    batch's statistics and moves the moving averages towards them; in inference, or whenever the
    layer is frozen (``trainable = False``, on it or on a model containing it), it normalizes with
    the moving averages and changes nothing, so a frozen backbone keeps its statistics.

    Args:
        axis: the feature axis (default -1, channels last).
        momentum: weight of the running value in [0, 1] (default 0.99).
        epsilon: added to the variance (default 1e-3).
        center: learn the shift ``beta`` (default True).
        scale: learn the scale ``gamma`` (default True).

    >>> from regulab.layers import BatchNormalization
    >>> bn = BatchNormalization()
    >>> y = bn(np.array([[1.0], [3.0]], dtype="float32"), training=True)
    >>> [round(v, 4) for v in y.flatten().tolist()]  # (x - 2) / sqrt(1 + 1e-3)
    [-0.9995, 0.9995]
    >>> [round(float(v), 3) for v in bn.moving_mean.value]
    [0.02]
    """

    supports_masking = True
    takes_mask = True

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.axis = check_int("axis", axis, where="BatchNormalization")
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0, where="BatchNormalization")
        self.epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True, where="BatchNormalization")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = _regularizer_argument(beta_regularizer, "beta_regularizer", "BatchNormalization")
        self.gamma_regularizer = _regularizer_argument(gamma_regularizer, "gamma_regularizer", "BatchNormalization")
        self.gamma = self.beta = None

    def build(self, input_shape):
        rank = len(input_shape) + 1
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"Invalid value for argument `axis` of BatchNormalization: expected a "
                             f"feature axis of inputs of shape {(None, *input_shape)}. Received: axis={self.axis}")
        self._axis = self.axis % rank
        n = input_shape[self._axis - 1]
        if self.scale:
            self.gamma = self.add_weight("gamma", (n,), self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", (n,), self.beta_initializer, self.beta_regularizer)
        self.moving_mean = self.add_weight("moving_mean", (n,), self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (n,), self.moving_variance_initializer,
                                               trainable=False)

    stacks_variants = True  # each variant's batch statistics over its own batch

    def _broadcast(self, v, x, stacked: bool = False):
        """``v`` per feature (``(V, features)`` stacked) shaped to broadcast against ``x``."""
        shape = [1] * x.dim()
        if stacked:  # x is (V, B, ...): the feature axis is one further on
            shape[0] = v.shape[0]
            shape[self._axis + 1] = -1
        else:
            shape[self._axis] = -1
        return v.reshape(shape)

    def _moments(self, x, mask, stacked: bool = False):
        """The batch's (biased) variance and mean per feature, over the unmasked entries (per
        variant when ``stacked``: no mask then, as stacked models carry none)."""
        if stacked:
            return torch.var_mean(x, dim=[d for d in range(1, x.dim()) if d != self._axis + 1], correction=0)
        dims = [d for d in range(x.dim()) if d != self._axis]
        if mask is None:
            return torch.var_mean(x, dim=dims, correction=0)
        # a mask covers the leading axes, (batch, steps): it applies to every feature
        w = mask.to(x.dtype).reshape(*mask.shape, *[1] * (x.dim() - mask.dim())).expand_as(x)
        # a fully masked batch gives mean 0 and variance 0, as in Keras
        count = w.sum(dims).clamp(min=1.0)
        mean = (w * x).sum(dims) / count
        var = (w * (x - self._broadcast(mean, x)) ** 2).sum(dims) / count
        return var, mean

    def call(self, x, ctx, mask=None):
        # a frozen layer normalizes with its moving statistics and leaves them alone, as in Keras
        # (fine-tuning a frozen backbone must not drift its statistics)
        stacked = ctx.variants is not None
        if ctx.training and self.trainable:
            var, mean = self._moments(x, mask, stacked)
            m = self.momentum
            ctx.assign(self.moving_mean, ctx[self.moving_mean] * m + mean.detach() * (1 - m))
            ctx.assign(self.moving_variance, ctx[self.moving_variance] * m + var.detach() * (1 - m))
        else:
            mean, var = ctx[self.moving_mean], ctx[self.moving_variance]
        inv = torch.rsqrt(var + self.epsilon)
        if self.scale:
            inv = inv * ctx[self.gamma]
        shift = -mean * inv
        if self.center:
            shift = shift + ctx[self.beta]
        return x * self._broadcast(inv, x, stacked) + self._broadcast(shift, x, stacked)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_regularizer": _regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": _regularizers.serialize(self.gamma_regularizer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("beta_regularizer", "gamma_regularizer"):
            config[key] = _regularizers.deserialize(config.get(key))
        return cls(**config)


class LayerNormalization(Layer):
    """Normalizes each sample over its last axis (mean 0, variance 1), then scales and shifts.

    Training and inference compute the same thing.

    Args:
        epsilon: added to the variance (default 1e-3, as Keras).
        center: learn the shift ``beta``. scale: learn the scale ``gamma``.
    """

    supports_masking = True

    def __init__(self, axis: int = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True, **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError("Invalid value for argument `axis` of LayerNormalization: expected -1 "
                             f"(the last axis). Received: axis={axis!r}")
        self.axis = -1
        self.epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True, where="LayerNormalization")
        self.center, self.scale = bool(center), bool(scale)
        self.gamma = self.beta = None

    def build(self, input_shape):
        n = input_shape[-1]
        if self.scale:
            self.gamma = self.add_weight("gamma", (n,), "ones")
        if self.center:
            self.beta = self.add_weight("beta", (n,), "zeros")

    def call(self, x, ctx):
        return torch.nn.functional.layer_norm(
            x, (x.shape[-1],), ctx[self.gamma] if self.scale else None,
            ctx[self.beta] if self.center else None, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "center": self.center, "scale": self.scale}
