"""Regularizers against the lesson's closed forms and torch.autograd's gradients."""
import inspect
import re

import numpy as np
import pytest
import torch

from regulab import regularizers


def _weights():
    w = torch.tensor(np.random.default_rng(0).normal(size=(6, 5)), dtype=torch.float64)
    w[0, :2] = 0.0  # L1's subgradient at zero is taken as 0, as torch's abs backward does
    return w


def test_l1_value():
    w = _weights()
    assert float(regularizers.l1(0.3)(w)) == pytest.approx(0.3 * np.abs(w.numpy()).sum(), rel=1e-12)


def test_l2_value_has_no_half():
    w = _weights()
    assert float(regularizers.l2(0.3)(w)) == pytest.approx(0.3 * (w.numpy() ** 2).sum(), rel=1e-12)


def test_l1_l2_value():
    w = _weights().numpy()
    got = float(regularizers.l1_l2(0.2, 0.05)(torch.tensor(w)))
    assert got == pytest.approx(0.2 * np.abs(w).sum() + 0.05 * (w ** 2).sum(), rel=1e-12)


def test_docstring_values():
    assert float(regularizers.l2(0.01)(torch.tensor([1.0, -2.0]))) == pytest.approx(0.05)
    assert float(regularizers.l1(0.1)(torch.tensor([1.0, -2.0]))) == pytest.approx(0.3)


@pytest.mark.parametrize("name, cls, config", [
    ("l1", regularizers.L1, {"l1": 0.01, "proximal": False}),
    ("L2", regularizers.L2, {"l2": 0.01}),
    ("l1_l2", regularizers.L1L2, {"l1": 0.01, "l2": 0.01, "proximal": False}),
])
def test_names_give_factor_001(name, cls, config):
    reg = regularizers.get(name)
    assert type(reg) is cls and reg.get_config() == config


def test_get_passes_none_and_instances_through():
    reg = regularizers.L2(0.5)
    assert regularizers.get(reg) is reg and regularizers.get(None) is None


@pytest.mark.parametrize("reg", [
    regularizers.l1(0.3), regularizers.l2(0.3), regularizers.l1_l2(0.2, 0.05),
    regularizers.L1L2(l1=0.2, l2=0.05, proximal=True),
], ids=repr)
def test_add_gradient_equals_autograd(reg):
    w = _weights().requires_grad_()
    penalty = reg.gradient_penalty(w)
    (auto,) = torch.autograd.grad(penalty, w)
    grad = torch.tensor(np.random.default_rng(1).normal(size=(6, 5)))
    got = reg.add_gradient(grad, w.detach())
    torch.testing.assert_close(got, grad + auto, rtol=1e-12, atol=1e-12)


def test_closed_form_gradients():
    w = _weights()
    grad = torch.zeros_like(w)
    torch.testing.assert_close(regularizers.l2(0.3).add_gradient(grad, w), 2 * 0.3 * w)
    torch.testing.assert_close(regularizers.l1(0.3).add_gradient(grad, w), 0.3 * torch.sign(w))


def test_proximal_l1_leaves_the_gradient_to_soft_thresholding():
    reg = regularizers.l1(0.3, proximal=True)
    w = _weights()
    grad = torch.ones_like(w)
    assert reg.gradient_penalty(w) is None
    assert torch.equal(reg.add_gradient(grad, w), grad)
    assert reg.prox_l1 == 0.3 and regularizers.l1(0.3).prox_l1 == 0.0
    assert float(reg(w)) == pytest.approx(0.3 * w.abs().sum().item(), rel=1e-12)  # still reported


def test_proximal_l1_l2_differentiates_only_the_l2_part():
    w = _weights()
    reg = regularizers.L1L2(l1=0.2, l2=0.05, proximal=True)
    assert float(reg.gradient_penalty(w)) == pytest.approx(0.05 * (w.numpy() ** 2).sum(), rel=1e-12)
    assert reg.prox_l1 == 0.2
    assert regularizers.L1L2(l1=0.2, proximal=True).gradient_penalty(w) is None


@pytest.mark.parametrize("reg", [
    regularizers.l1(0.3), regularizers.l1(0.3, proximal=True), regularizers.l2(0.2),
    regularizers.l1_l2(0.1, 0.2), regularizers.L1L2(l2=0.4, proximal=True),
], ids=repr)
def test_serialize_round_trip(reg):
    restored = regularizers.deserialize(regularizers.serialize(reg))
    assert restored == reg and hash(restored) == hash(reg) and type(restored) is type(reg)
    assert set(reg.get_config()) == set(inspect.signature(type(reg)).parameters)


def test_serialize_none():
    assert regularizers.serialize(None) is None and regularizers.deserialize(None) is None


def test_get_config():
    assert regularizers.L1(0.2, proximal=True).get_config() == {"l1": 0.2, "proximal": True}
    assert regularizers.L2(0.3).get_config() == {"l2": 0.3}
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0, "proximal": False}  # Keras's class defaults


def test_equality_depends_on_type_and_factors():
    assert regularizers.l2(0.1) != regularizers.l2(0.2)
    assert regularizers.l1(0.1) != regularizers.L1L2(l1=0.1)


@pytest.mark.parametrize("make, message", [
    (lambda: regularizers.l1(-0.1),
     "Invalid value for argument `l1` of L1: expected a float in [0, inf). Received: l1=-0.1"),
    (lambda: regularizers.l2(-0.1),
     "Invalid value for argument `l2` of L2: expected a float in [0, inf). Received: l2=-0.1"),
    (lambda: regularizers.l1_l2(0.1, -2),
     "Invalid value for argument `l2` of L1L2: expected a float in [0, inf). Received: l2=-2"),
    (lambda: regularizers.L1L2(l1=-1),
     "Invalid value for argument `l1` of L1L2: expected a float in [0, inf). Received: l1=-1"),
    (lambda: regularizers.l2(float("nan")),
     "Invalid value for argument `l2` of L2: expected a float in [0, inf). Received: l2=nan"),
    (lambda: regularizers.L2("0.1"),
     "Invalid value for argument `l2` of L2: expected a float in [0, inf). Received: l2='0.1'"),
], ids=["l1", "l2", "l1_l2-l2", "l1_l2-l1", "nan", "string"])
def test_bad_factors_raise(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match=re.escape(
            "Unknown regularizer 'l1l2'. Did you mean 'l1_l2'? Known regularizers: l1, l1_l2, l2.")):
        regularizers.get("l1l2")


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match=re.escape("A regularizer must be a name or a Regularizer instance. Received: 0.01")):
        regularizers.get(0.01)


def test_deserialize_unknown_class():
    with pytest.raises(ValueError, match=re.escape("Unknown regularizer class 'Orthogonal' in saved config.")):
        regularizers.deserialize({"class_name": "Orthogonal"})
