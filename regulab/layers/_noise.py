"""Noise layers: GaussianNoise, GaussianDropout and AlphaDropout. All are the identity in inference."""
from __future__ import annotations

from regulab._validation import check_float
from regulab.layers._dropout import _RandomLayer, check_noise_shape, check_rate, is_zero, mask_shape


class GaussianNoise(_RandomLayer):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` in training.

    Args:
        stddev: standard deviation of the noise, at least 0 (Keras caps it at 1, which rules out
            noise on unscaled inputs; regulab does not).
        seed: fixes this layer's random stream.
    """

    supports_masking = True
    hyper_parameters = ("stddev",)

    def __init__(self, stddev: float, seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = check_float("stddev", stddev, low=0.0, where="GaussianNoise")

    stacks_variants = True

    def call(self, x, ctx):
        stddev = ctx.hyper(self, "stddev", like=x)
        if not ctx.stochastic or is_zero(stddev):
            return x
        return x + stddev * ctx.normal(tuple(x.shape), self.stream(ctx), x.device)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(_RandomLayer):
    """Multiplies inputs by Gaussian noise of mean 1 and variance rate/(1-rate) in training
    (Srivastava et al., 2014, section 10).

    Args:
        rate: drop probability of the equivalent Bernoulli dropout, in [0, 1).
        seed: fixes this layer's random stream.
    """

    supports_masking = True
    hyper_parameters = ("rate",)

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = check_rate(rate, "GaussianDropout")

    stacks_variants = True

    def call(self, x, ctx):
        rate = ctx.hyper(self, "rate", like=x)
        if not ctx.stochastic or is_zero(rate):
            return x
        std = (rate / (1.0 - rate)) ** 0.5
        return x * (1.0 + std * ctx.normal(tuple(x.shape), self.stream(ctx), x.device))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


# SELU's fixed point (Klambauer et al., 2017)
_ALPHA = 1.6732632423543772848170429916717
_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(_RandomLayer):
    """Dropout that keeps SELU's self-normalising mean and variance (Klambauer et al., 2017):
    dropped units are set to SELU's negative saturation value, then an affine correction restores
    zero mean and unit variance.

    Args:
        rate: fraction of units to drop, in [0, 1).
        noise_shape: shape of the mask, as for ``Dropout`` (default None: one draw per unit).
        seed: fixes this layer's random stream.
    """

    supports_masking = True
    hyper_parameters = ("rate",)

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = check_rate(rate, "AlphaDropout")
        self.noise_shape = check_noise_shape(noise_shape, "AlphaDropout")

    stacks_variants = True

    def stacks(self) -> bool:
        return super().stacks() and self.noise_shape is None

    def call(self, x, ctx):
        rate = ctx.hyper(self, "rate", like=x)
        if not ctx.stochastic or is_zero(rate):
            return x
        alpha_p = -_ALPHA * _SCALE
        keep = (ctx.uniform(mask_shape(self, self.noise_shape, x), self.stream(ctx), x.device)
                >= rate).to(x.dtype)
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        return a * (x * keep + alpha_p * (1 - keep)) + b

    def get_config(self):
        cfg = {**super().get_config(), "rate": self.rate}
        if self.noise_shape is not None:
            cfg["noise_shape"] = list(self.noise_shape)
        return cfg
