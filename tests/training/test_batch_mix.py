import re

import numpy as np
import pytest
import torch

import regulab
from regulab.layers import Dense
from regulab.models import Sequential
from regulab.training._step import _head_sum
from tests.helpers import linear_data


def _classifier(loss, units):
    regulab.set_random_seed(0)
    model = Sequential([Dense(16, input_dim=20, activation="relu"), Dense(units, activation="softmax" if units > 1 else "sigmoid")])
    model.compile(regulab.optimizers.Adam(0.01), loss, metrics=["accuracy"])
    return model


@pytest.mark.parametrize("kind", ["binary", "categorical", "sparse"])
@pytest.mark.parametrize("how", ["mixup", "cutmix"])
def test_mixing_trains_for_every_cross_entropy(kind, how):
    x, yb = linear_data(256, 20)
    loss, units, y = {"binary": ("binary_crossentropy", 1, yb),
                      "categorical": ("categorical_crossentropy", 2, np.eye(2)[yb.astype(int)]),
                      "sparse": ("sparse_categorical_crossentropy", 2, yb.astype(int))}[kind]
    model = _classifier(loss, units)
    h = model.fit(x, y, epochs=15, verbose=0, seed=0, validation_data=(x, y), **{how: 0.4})
    assert h.history["val_accuracy"][-1] > 0.8
    assert np.isfinite(h.history["loss"]).all()


def test_sparse_mixed_loss_equals_loss_on_mixed_one_hot_targets():
    from regulab.augment import mixup
    x = torch.randn(8, 3)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    logits = torch.randn(8, 3)
    _, mixed = mixup(x, y, source=3, alpha=0.5)
    m = _classifier("sparse_categorical_crossentropy", 3)
    spec = m._step_spec()
    head = spec.heads[0]
    head.loss_logits = True
    got = _head_sum(head, logits, mixed, None)
    target = mixed.one_hot(3)
    ref = -(target * torch.log_softmax(logits, -1)).sum()
    torch.testing.assert_close(got, ref)


def test_mixing_arguments_are_checked():
    x, y = linear_data(32, 20)
    model = _classifier("binary_crossentropy", 1)
    with pytest.raises(ValueError, match="Arguments `mixup` and `cutmix` of fit are exclusive"):
        model.fit(x, y, mixup=0.2, cutmix=1.0, verbose=0)
    with pytest.raises(ValueError, match=re.escape("Invalid value for argument `mixup` of fit: expected a float in (0, inf). Received: mixup=0")):
        model.fit(x, y, mixup=0, verbose=0)


def test_validation_is_never_mixed():
    x, y = linear_data(128, 20)
    model = _classifier("binary_crossentropy", 1)
    h = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), mixup=0.4)
    assert h.history["val_loss"][0] == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-6)


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.5])
def test_a_tensor_alpha_draws_what_a_number_draws(alpha):
    # a training step's alpha is state (a tensor): the variates must equal the number's, and a
    # Beta(alpha, alpha) sample must have the right mean and variance (closed form)
    from regulab.augment import cutmix, mixup
    from regulab.augment._sampling import Sampler

    x, y = torch.randn(64, 6, 6, 1), torch.rand(64, 1)
    for fn in (mixup, cutmix):
        a, b = fn(x, y, source=7, alpha=alpha), fn(x, y, source=7, alpha=torch.tensor(alpha))
        torch.testing.assert_close(a[0], b[0])
        torch.testing.assert_close(a[1], b[1])
    lam = Sampler(11).beta((200_000,), torch.tensor(alpha), torch.tensor(alpha))
    assert float(lam.mean()) == pytest.approx(0.5, abs=0.005)
    assert float(lam.var()) == pytest.approx(1 / (4 * (2 * alpha + 1)), rel=0.03)


def test_a_tensor_alpha_of_zero_leaves_the_batch_as_it_is():
    from regulab.augment import cutmix, mixup

    x, y = torch.randn(16, 4, 4, 1), torch.rand(16, 1)
    for fn in (mixup, cutmix):
        xm, ym = fn(x, y, source=3, alpha=torch.tensor(0.0))
        assert torch.equal(xm, x) and torch.equal(ym, y)
    _, sparse = mixup(x, torch.arange(16) % 3, source=3, alpha=torch.tensor(0.0))
    assert torch.equal(sparse.lam, torch.ones(16))
