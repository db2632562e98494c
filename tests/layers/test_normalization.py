import numpy as np
import pytest
import torch

from regulab.layers import BatchNormalization, LayerNormalization


def test_batchnorm_training_output_and_moving_stats_by_hand():
    rng = np.random.default_rng(0)
    bn = BatchNormalization()
    batches = [rng.normal(3, 2, (16, 4)).astype("float32") for _ in range(3)]
    mm, mv = np.zeros(4), np.ones(4)
    for b in batches:
        y = bn(b, training=True).numpy()
        mean, var = b.mean(0), b.var(0)  # biased, as Keras
        np.testing.assert_allclose(y, (b - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
        mm = 0.99 * mm + 0.01 * mean
        mv = 0.99 * mv + 0.01 * var
    np.testing.assert_allclose(bn.moving_mean.numpy(), mm, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), mv, rtol=1e-5)
    x = batches[0]
    ref = (x - mm) / np.sqrt(mv + 1e-3) * bn.gamma.numpy() + bn.beta.numpy()
    np.testing.assert_allclose(bn(x).numpy(), ref, rtol=1e-4, atol=1e-5)


def test_batchnorm_matches_torch_with_mapped_momentum():
    # Keras momentum 0.99 == torch momentum 0.01; torch's running_var is unbiased, Keras's biased
    x = torch.randn(32, 6) * 2 + 1
    bn = BatchNormalization(epsilon=1e-5)
    ref = torch.nn.BatchNorm1d(6, momentum=0.01, eps=1e-5)
    torch.testing.assert_close(bn(x, training=True), ref(x), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(bn.moving_mean.value, ref.running_mean)
    n = x.shape[0]
    torch.testing.assert_close(bn.moving_variance.value - 0.99, (ref.running_var - 0.99) * (n - 1) / n,
                               rtol=1e-4, atol=1e-6)


def test_batchnorm_batch_of_one_does_not_crash():
    bn = BatchNormalization()
    y = bn(np.array([[1.0, 2.0]], dtype="float32"), training=True)
    assert torch.equal(y, torch.zeros(1, 2))


def test_batchnorm_channels_last_images():
    bn = BatchNormalization()
    x = torch.randn(4, 5, 5, 3) * 3 + 2
    y = bn(x, training=True)
    torch.testing.assert_close(y.mean(dim=(0, 1, 2)), torch.zeros(3), atol=1e-5, rtol=0)
    assert bn.count_params() == 12


def test_batchnorm_param_counts_and_trainability():
    bn = BatchNormalization()
    bn(np.zeros((2, 64), dtype="float32"))
    assert bn.count_params() == 256
    assert [v.name.split("/")[1] for v in bn.trainable_weights] == ["gamma", "beta"]
    assert [v.name.split("/")[1] for v in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]


def test_batchnorm_momentum_range():
    with pytest.raises(ValueError, match="`momentum` of BatchNormalization: expected a float in"):
        BatchNormalization(momentum=1.5)


def test_layernorm_matches_torch():
    x = torch.randn(8, 10)
    ln = LayerNormalization()
    torch.testing.assert_close(ln(x), torch.nn.functional.layer_norm(x, (10,), eps=1e-3))
