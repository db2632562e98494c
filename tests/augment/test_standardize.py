"""Featurewise statistics and ZCA against direct NumPy computations."""
import numpy as np
import torch

from regulab.augment._standardize import Normalizer, fit_statistics


def test_featurewise_statistics_equal_numpys():
    x = np.random.default_rng(0).normal(3, 2, (50, 6, 5, 3))
    stats = fit_statistics(x, 3, center=True, std_normalization=True, zca=False, zca_epsilon=1e-6)
    np.testing.assert_allclose(stats.mean, x.mean(axis=(0, 1, 2)).reshape(1, 1, 3))
    np.testing.assert_allclose(stats.std, x.std(axis=(0, 1, 2)).reshape(1, 1, 3))
    first = fit_statistics(np.moveaxis(x, 3, 1), 1, True, True, False, 1e-6)
    np.testing.assert_allclose(first.mean, x.mean(axis=(0, 1, 2)).reshape(3, 1, 1))


def test_zca_whitens_the_training_data():
    rng = np.random.default_rng(1)
    mixing = rng.normal(size=(12, 12))
    x = (rng.normal(size=(400, 12)) @ mixing).reshape(400, 2, 2, 3)
    stats = fit_statistics(x, 3, center=True, std_normalization=False, zca=True, zca_epsilon=1e-9)
    # Keras centres per channel (featurewise_center), then whitens the second moments:
    # W = E diag(1/sqrt(lambda)) E^T from the eigendecomposition of X^T X / n
    flat = (x - x.mean(axis=(0, 1, 2))).reshape(400, -1)
    lam, vecs = np.linalg.eigh(flat.T @ flat / 400)
    np.testing.assert_allclose(stats.zca_whitening_matrix, (vecs / np.sqrt(lam)) @ vecs.T,
                               rtol=1e-6, atol=1e-8)
    white = Normalizer(stats=stats)(torch.from_numpy(x)).reshape(400, -1).numpy()
    np.testing.assert_allclose(white.T @ white / 400, np.eye(12), atol=1e-6)


def test_samplewise_normalization_per_image():
    x = torch.randn(4, 3, 3, 2, dtype=torch.float64) * 5 + 2
    out = Normalizer(rescale=0.5, samplewise_center=True, samplewise_std_normalization=True)(x)
    ref = x.numpy() * 0.5
    ref = ref - ref.mean(axis=(1, 2, 3), keepdims=True)
    ref = ref / (ref.std(axis=(1, 2, 3), keepdims=True) + 1e-6)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)
