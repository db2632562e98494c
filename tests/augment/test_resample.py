"""affine_transform against scipy.ndimage.affine_transform, the reference it reproduces."""
import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from regulab.augment import MODES, affine_transform


def _scipy(x, mats, mode, order, cval, output_shape=None):
    return np.stack([
        np.stack([ndi.affine_transform(x[i, ..., c], mats[i, :, :2], mats[i, :, 2],
                                       output_shape=output_shape, order=order, mode=mode,
                                       cval=cval)
                  for c in range(x.shape[-1])], axis=-1)
        for i in range(len(x))])


def _random_case(rng, h, w, n=3):
    x = rng.random((n, h, w, 2))
    mats = np.concatenate([rng.normal(size=(n, 2, 2)) * 1.5, rng.normal(size=(n, 2, 1)) * 4], 2)
    return x, mats


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("shape", [(7, 9), (1, 5), (6, 1), (2, 2)])
def test_matches_scipy_for_every_mode(mode, order, shape):
    rng = np.random.default_rng(0)
    x, mats = _random_case(rng, *shape)
    expected = _scipy(x, mats, mode, order, cval=-0.7)
    got = affine_transform(torch.from_numpy(x), torch.from_numpy(mats), mode=mode, cval=-0.7,
                           order=order)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)


@pytest.mark.parametrize("mode", ["nearest", "reflect", "grid-wrap", "constant"])
def test_output_shape_matches_scipy(mode):
    x, mats = _random_case(np.random.default_rng(0), 6, 8)
    expected = _scipy(x, mats, mode, 1, cval=0.5, output_shape=(4, 3))
    got = affine_transform(torch.from_numpy(x), torch.from_numpy(mats), output_shape=(4, 3),
                           mode=mode, cval=0.5)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)


def test_float32_within_interpolation_tolerance():
    x, mats = _random_case(np.random.default_rng(1), 16, 16, n=4)
    expected = _scipy(x, mats, "nearest", 1, cval=0.0)
    got = affine_transform(torch.from_numpy(x).float(), torch.from_numpy(mats).float(),
                           mode="nearest")
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-4)


def test_one_matrix_broadcasts_over_the_batch():
    x = torch.rand(3, 5, 5, 1, dtype=torch.float64)
    m = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)  # transpose
    out = affine_transform(x, m)
    torch.testing.assert_close(out, x.transpose(1, 2))


def test_unknown_mode_suggests_the_closest():
    with pytest.raises(ValueError) as e:
        affine_transform(torch.zeros(1, 2, 2, 1), torch.eye(2, 3), mode="reflekt")
    assert str(e.value) == (
        "Invalid value for argument `mode` of affine_transform: expected one of 'nearest', "
        "'reflect', 'mirror', 'grid-wrap', 'wrap', 'constant', 'grid-constant'. "
        "Received: mode='reflekt'. Did you mean 'reflect'?")


def test_bad_order_and_rank():
    with pytest.raises(ValueError, match=r"expected 0 \(nearest\) or 1 \(bilinear\). "
                                         r"Received: order=3"):
        affine_transform(torch.zeros(1, 2, 2, 1), torch.eye(2, 3), order=3)
    with pytest.raises(ValueError) as e:
        affine_transform(torch.zeros(2, 2, 1), torch.eye(2, 3))
    assert str(e.value) == ("Invalid value for argument `x` of affine_transform: expected a "
                            "tensor of rank 4 (N, H, W, C). Received: x with shape (2, 2, 1)")
