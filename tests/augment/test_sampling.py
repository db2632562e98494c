"""Sampler: repeatable draws from a key or a generator, with the right distributions."""
import numpy as np
import pytest
import scipy.stats
import torch

from regulab.augment import Sampler


def test_a_key_repeats_and_successive_draws_differ():
    a, b = Sampler(5), Sampler(5)
    first = a.uniform((100,))
    torch.testing.assert_close(first, b.uniform((100,)))
    assert not torch.equal(first, a.uniform((100,)))


def test_tensor_keys_give_the_same_draws_as_int_keys():
    torch.testing.assert_close(Sampler(torch.tensor(9, dtype=torch.int64)).uniform((50,)),
                               Sampler(9).uniform((50,)))


def test_no_source_follows_numpys_global_seed():
    np.random.seed(3)
    a = Sampler().uniform((10,))
    np.random.seed(3)
    torch.testing.assert_close(a, Sampler().uniform((10,)))


def test_integers_cover_their_range():
    v = Sampler(1).integers((5000,), -3, 4)
    assert v.dtype == torch.int64
    assert v.unique().tolist() == [-3, -2, -1, 0, 1, 2, 3]


@pytest.mark.parametrize("alpha", [0.2, 1.0, 3.0])
def test_beta_matches_scipy(alpha):
    draws = Sampler(2).beta((20000,), alpha, alpha).double().numpy()
    assert np.isfinite(draws).all() and draws.min() >= 0 and draws.max() <= 1
    # a KS test on [0, 0.5]: in float32, draws within 6e-8 of 1 round to exactly 1
    reference = scipy.stats.beta(alpha, alpha)
    low = np.sort(draws[draws <= 0.5])
    ecdf = np.arange(1, len(low) + 1) / len(draws)
    assert np.abs(ecdf - reference.cdf(low)).max() < 0.015
    assert draws.var() == pytest.approx(reference.var(), rel=0.03)


@pytest.mark.parametrize("source", [0, torch.Generator().manual_seed(0)])
def test_gamma_matches_scipy(source):
    draws = Sampler(source).gamma((20000,), 0.5).double().numpy()
    assert scipy.stats.kstest(draws, scipy.stats.gamma(0.5).cdf).pvalue > 1e-3


def test_bad_source():
    with pytest.raises(TypeError) as e:
        Sampler("seed")
    assert str(e.value) == ("Expected a random source: an int key, an int64 tensor key or a "
                            "torch.Generator. Received: 'seed'")
