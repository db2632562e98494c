"""Initializers against Keras's variance-scaling formulas, on tensors large enough for statistics."""
import math
import re

import pytest
import torch

from regulab import initializers

# Keras's truncated normal: a unit normal cut at ±2, rescaled by 1/0.87962566 to keep its variance.
TRUNCATED_STD = 0.87962566103423978


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


@pytest.mark.parametrize("shape, fan_in, fan_out", [((400, 600), 400, 600), ((3, 3, 32, 64), 288, 576)])
def test_glorot_uniform_bounds_and_variance(shape, fan_in, fan_out):
    w = initializers.get("glorot_uniform")(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert w.shape == shape and w.dtype == torch.float32
    assert float(w.abs().max()) <= limit
    assert float(w.abs().max()) > 0.99 * limit
    assert float(w.var()) == pytest.approx(limit ** 2 / 3, rel=0.02)
    assert abs(float(w.mean())) < 5 * limit / math.sqrt(3 * w.numel())  # five standard errors


def test_he_uniform_bounds():
    w = initializers.get("he_uniform")((500, 300))
    limit = math.sqrt(6.0 / 500)
    assert float(w.abs().max()) <= limit
    assert float(w.var()) == pytest.approx(limit ** 2 / 3, rel=0.02)


@pytest.mark.parametrize("name, std_of", [
    ("he_normal", lambda fi, fo: math.sqrt(2.0 / fi)),
    ("lecun_normal", lambda fi, fo: math.sqrt(1.0 / fi)),
    ("glorot_normal", lambda fi, fo: math.sqrt(2.0 / (fi + fo))),
])
@pytest.mark.parametrize("shape, fan_in, fan_out", [((400, 600), 400, 600), ((3, 3, 32, 64), 288, 576)])
def test_truncated_normal_std_and_cut(name, std_of, shape, fan_in, fan_out):
    w = initializers.get(name)(shape)
    std = std_of(fan_in, fan_out)
    assert w.shape == shape
    assert float(w.std()) == pytest.approx(std, rel=0.02)
    assert float(w.abs().max()) <= 2.0 * std / TRUNCATED_STD * (1 + 1e-6)
    assert abs(float(w.mean())) < 5 * std / math.sqrt(w.numel())  # five standard errors


def test_vector_and_scalar_fans():
    limit = math.sqrt(6.0 / (2 * 1000))  # a vector uses its length as both fans, as Keras does
    w = initializers.glorot_uniform((1000,))
    assert float(w.abs().max()) <= limit and float(w.abs().max()) > 0.99 * limit
    assert float(initializers.glorot_uniform(()).abs()) <= math.sqrt(3.0)


def test_zeros_and_ones():
    assert torch.equal(initializers.get("zeros")((3, 2)), torch.zeros(3, 2))
    assert torch.equal(initializers.get("ones")((4,)), torch.ones(4))


def test_seeded_draws_repeat():
    torch.manual_seed(7)
    a = initializers.he_normal((20, 10))
    torch.manual_seed(7)
    assert torch.equal(a, initializers.he_normal((20, 10)))


def test_callables_pass_through():
    fn = lambda shape: torch.full(shape, 0.5)  # noqa: E731
    assert initializers.get(fn) is fn


@pytest.mark.parametrize("name", ["zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                                  "lecun_normal"])
def test_serialize_round_trip(name):
    fn = initializers.get(name)
    assert initializers.serialize(fn) == name


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match=re.escape(
            "Unknown initializer 'glorot_uniformm'. Did you mean 'glorot_uniform'? Known initializers: glorot_normal, "
            "glorot_uniform, he_normal, he_uniform, lecun_normal, lecun_uniform, normal, ones, orthogonal, random_normal, "
            "random_uniform, uniform, zeros.")):
        initializers.get("glorot_uniformm")


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match=re.escape("An initializer must be a name or a callable. Received: 0")):
        initializers.get(0)


def test_serialize_rejects_custom_functions():
    def custom(shape):
        return torch.zeros(shape)

    with pytest.raises(ValueError, match=re.escape(
            f"Cannot save the custom initializer {custom!r}; use one of zeros, ones, glorot_uniform, glorot_normal, "
            "he_uniform, he_normal, lecun_normal, lecun_uniform, uniform, random_uniform, normal, random_normal, "
            "orthogonal.")):
        initializers.serialize(custom)


def test_orthogonal_and_random_defaults():
    torch.manual_seed(0)
    w = initializers.get("orthogonal")((6, 4, 8))  # read as (24, 8): orthonormal columns
    flat = w.reshape(24, 8)
    torch.testing.assert_close(flat.T @ flat, torch.eye(8), atol=1e-5, rtol=0)
    wide = initializers.orthogonal((3, 8))  # more columns than rows: orthonormal rows
    torch.testing.assert_close(wide @ wide.T, torch.eye(3), atol=1e-5, rtol=0)
    u = initializers.get("uniform")((10000,))
    assert float(u.min()) >= -0.05 and float(u.max()) <= 0.05  # Keras's RandomUniform()
    assert abs(float(initializers.get("normal")((20000,)).std()) - 0.05) < 2e-3  # RandomNormal()
    with pytest.raises(ValueError, match=re.escape(
            "The orthogonal initializer needs a shape of at least 2 axes. Received: shape=(3,)")):
        initializers.orthogonal((3,))
