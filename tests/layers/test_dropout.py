import re

import pytest
import torch

from regulab.layers import AlphaDropout, Dropout, GaussianDropout, GaussianNoise, SpatialDropout2D


def _train(layer, x, key=0):
    layer.build_for(tuple(x.shape[1:]))
    return layer.call(x, layer.live_context(training=True, key=key))


def test_dropout_inverted_scaling_and_rate():
    x = torch.ones(2000, 100)
    y = _train(Dropout(0.3), x)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.01  # 200k Bernoulli(0.7) draws: std 0.001
    torch.testing.assert_close(y[y != 0], torch.full_like(y[y != 0], 1 / 0.7))
    assert abs(y.mean().item() - 1.0) < 0.02  # expectation preserved


def test_dropout_is_identity_in_inference():
    x = torch.randn(10, 5)
    assert torch.equal(Dropout(0.5)(x), x)


def test_dropout_mask_depends_on_key_and_repeats():
    x = torch.ones(50, 50)
    a, b, c = _train(Dropout(0.5), x, 1), _train(Dropout(0.5), x, 1), _train(Dropout(0.5), x, 2)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_dropout_noise_shape_shares_mask():
    x = torch.ones(8, 6, 4)
    y = _train(Dropout(0.5, noise_shape=(None, 1, 4)), x)
    assert torch.equal(y, y[:, :1, :].expand_as(y))


def test_spatial_dropout_drops_whole_channels():
    x = torch.ones(8, 5, 5, 16)
    y = _train(SpatialDropout2D(0.5), x)
    per_channel = y.reshape(8, 25, 16)
    assert torch.equal(per_channel, per_channel[:, :1, :].expand_as(per_channel))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rate_outside_range(rate):
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `rate` of Dropout: expected a float in [0, 1). Received: rate={rate}")):
        Dropout(rate)


def test_gaussian_noise_statistics():
    x = torch.zeros(500, 200)
    y = _train(GaussianNoise(0.5), x)
    assert abs(y.mean().item()) < 0.01 and abs(y.std().item() - 0.5) < 0.01
    assert torch.equal(GaussianNoise(0.5)(x), x)


def test_gaussian_dropout_statistics():
    x = torch.ones(500, 200)
    y = _train(GaussianDropout(0.2), x)
    assert abs(y.mean().item() - 1) < 0.01
    assert abs(y.var().item() - 0.2 / 0.8) < 0.01


def test_alpha_dropout_keeps_selu_mean_and_variance():
    x = torch.nn.functional.selu(torch.randn(500, 400))  # roughly zero mean, unit variance
    y = _train(AlphaDropout(0.2), x)
    assert abs(y.mean().item() - x.mean().item()) < 0.02
    assert abs(y.var().item() - x.var().item()) < 0.03
