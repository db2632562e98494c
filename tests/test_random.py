"""Counter-based random numbers: determinism by key, and distribution tests against SciPy."""
import numpy as np
import pytest
import torch
from scipy import stats

from regulab import _random

N = 1_000_000


def _np_mix32(x):
    """T. Mueller's 32-bit integer finaliser in uint32 arithmetic, as usually written in C."""
    x = np.asarray(x, dtype=np.uint32)
    with np.errstate(over="ignore"):
        x = ((x >> np.uint32(16)) ^ x) * np.uint32(0x45D9F3B)
        x = ((x >> np.uint32(16)) ^ x) * np.uint32(0x45D9F3B)
    return (x >> np.uint32(16)) ^ x


def test_mix32_matches_the_uint32_reference():
    x = np.random.default_rng(0).integers(0, 2 ** 32, 10_000, dtype=np.uint64)
    x[:3] = [0, 1, 2 ** 32 - 1]
    got = _random.mix32(torch.tensor(x.astype(np.int64)))
    np.testing.assert_array_equal(got.numpy(), _np_mix32(x).astype(np.int64))
    assert _random.mix32(int(x[5])) == int(_np_mix32(x[5]))


def test_uniform_moments_and_range():
    u = _random.uniform(1234, (N,)).double()
    assert float(u.min()) >= 0.0 and float(u.max()) < 1.0
    assert float(u.mean()) == pytest.approx(0.5, abs=2e-3)
    assert float(u.var()) == pytest.approx(1 / 12, rel=1e-2)


def test_uniform_has_24_bits_of_resolution():
    u = _random.uniform(5, (1000,), dtype=torch.float64) * 2 ** 24
    assert torch.equal(u, u.round())


def test_uniform_passes_a_chi_square_test_on_64_bins():
    u = _random.uniform(99, (N,)).numpy()
    counts = np.bincount((u * 64).astype(np.int64), minlength=64)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_uniform_keeps_its_shape():
    assert _random.uniform(0, (3, 4, 5)).shape == (3, 4, 5)
    assert _random.uniform(0, (0, 4)).shape == (0, 4)


def test_same_key_same_values():
    assert torch.equal(_random.uniform(42, (1000,)), _random.uniform(42, (1000,)))
    assert torch.equal(_random.normal(42, (1000,)), _random.normal(42, (1000,)))


@pytest.mark.parametrize("key", [0, 1, 42, 2 ** 31 + 5, 2 ** 32 - 1])
def test_int_and_tensor_keys_agree(key):
    tkey = torch.tensor(key, dtype=torch.int64)
    assert torch.equal(_random.random_bits(key, (500,)), _random.random_bits(tkey, (500,)))
    assert torch.equal(_random.uniform(key, (500,)), _random.uniform(tkey, (500,)))
    assert torch.equal(_random.normal(key, (500,)), _random.normal(tkey, (500,)))
    assert int(_random.fold_in(tkey, 7)) == _random.fold_in(key, 7)


def _correlation(a, b):
    return float(np.corrcoef(a.numpy(), b.numpy())[0, 1])


@pytest.mark.parametrize("k1, k2", [(0, 1), (1, 2), (7, 7 + 2 ** 16), (123, 123 ^ 1)])
def test_different_keys_give_different_uncorrelated_streams(k1, k2):
    a, b = _random.uniform(k1, (100_000,)), _random.uniform(k2, (100_000,))
    assert float((a == b).float().mean()) < 1e-3
    assert abs(_correlation(a, b)) < 0.02


def test_fold_in_gives_different_keys_and_streams():
    keys = {_random.fold_in(3, d) for d in range(1000)}
    assert len(keys) == 1000 and all(0 <= k < 2 ** 32 for k in keys)
    a = _random.uniform(_random.fold_in(3, 0), (100_000,))
    b = _random.uniform(_random.fold_in(3, 1), (100_000,))
    assert float((a == b).float().mean()) < 1e-3 and abs(_correlation(a, b)) < 0.02
    assert _random.fold_in(3, 1) != _random.fold_in(4, 1)


def test_neighbouring_positions_are_uncorrelated():
    u = _random.uniform(8, (N,))
    assert abs(_correlation(u[:-1], u[1:])) < 0.01


def test_normal_moments():
    z = _random.normal(2024, (N,)).double()
    assert float(z.mean()) == pytest.approx(0.0, abs=3e-3)
    assert float(z.std()) == pytest.approx(1.0, abs=3e-3)
    assert torch.isfinite(z).all()


def test_normal_passes_kolmogorov_smirnov():
    z = _random.normal(77, (200_000,)).numpy()
    assert stats.kstest(z, stats.norm.cdf).pvalue > 1e-3


def test_normal_tails():
    z = _random.normal(31, (N,)).numpy()
    assert np.mean(np.abs(z) > 3) == pytest.approx(2 * stats.norm.sf(3), rel=0.1)


# 24-bit integers overflow float16 (max 65504), and in float16/bfloat16 values just below 1 round up
# to 1.0: the draw must still stay in [0, 1).
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_uniform_in_half_precision_stays_in_unit_interval(dtype):
    u = _random.uniform(3, (100_000,), dtype=dtype)
    assert float(u.min()) >= 0.0 and float(u.max()) < 1.0
