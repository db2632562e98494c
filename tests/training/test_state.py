"""The training state by path, and the pure step on it."""
import pytest
import torch

import regulab
from regulab.layers import BatchNormalization, Dense, Input
from regulab.models import Model, Sequential
from regulab.training._state import LEARNING_RATE, OPTIMIZER, Structure, TrainState, flatten_state, merge, split, unflatten_state
from regulab.training._step import make_train_step


def _model():
    regulab.set_random_seed(0)
    inner = Sequential([Input((4,)), Dense(3, name="dense_1"), BatchNormalization(name="bn")], name="encoder")
    x = Input((4,))
    model = Model(x, Dense(1, activation="sigmoid", name="head")(inner(x)))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def test_split_keys_everything_by_path():
    model = _model()
    structure = Structure(model)
    state = split(structure, model.optimizer)
    assert isinstance(state, TrainState)
    assert sorted(state.params) == ["encoder/bn/beta", "encoder/bn/gamma", "encoder/dense_1/bias",
                                    "encoder/dense_1/kernel", "head/bias", "head/kernel"]
    assert sorted(state.buffers) == ["encoder/bn/moving_mean", "encoder/bn/moving_variance"]
    assert sorted(state.opt[OPTIMIZER]["slots"]) == ["m", "v"]
    assert sorted(state.opt[OPTIMIZER]["slots"]["m"]) == sorted(state.params)
    assert state.opt[OPTIMIZER]["iterations"] == 0 and state.hyper[LEARNING_RATE] == pytest.approx(0.001)
    # the optimizer keeps nothing until the state is merged back
    assert model.optimizer.slots == {}


def test_the_pure_step_changes_nothing_it_is_given():
    model = _model()
    spec = model._step_spec()
    state = split(spec.structure, model.optimizer)
    before = [t.clone() for t in flatten_state(state) if isinstance(t, torch.Tensor)]
    x, y = torch.rand(8, 4), torch.randint(0, 2, (8, 1)).float()
    new, stats = make_train_step(spec)(state, (x, y, None), 5)
    after = [t for t in flatten_state(state) if isinstance(t, torch.Tensor)]
    for a, b in zip(before, after):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert new.opt[OPTIMIZER]["iterations"] == 1 and stats.shape == (spec.n_stats,)
    assert not torch.equal(new.params["head/kernel"], state.params["head/kernel"])
    assert not torch.equal(new.buffers["encoder/bn/moving_mean"], state.buffers["encoder/bn/moving_mean"])
    # the same key gives the same step
    again, stats2 = make_train_step(spec)(state, (x, y, None), 5)
    torch.testing.assert_close(again.params["head/kernel"], new.params["head/kernel"], rtol=0, atol=0)
    torch.testing.assert_close(stats, stats2, rtol=0, atol=0)
    merge(spec.structure, new, model.optimizer)
    assert model.optimizer.iterations == 1
    assert model.get_layer("head").kernel.value is new.params["head/kernel"]


def test_flatten_and_unflatten_invert_each_other():
    model = _model()
    state = split(Structure(model), model.optimizer, scalar_tensors=True)
    flat = flatten_state(state)
    back = unflatten_state(state, flat)
    assert back == state
    assert all(isinstance(t, torch.Tensor) for t in flat)


def test_one_step_equals_a_hand_computed_adam_step():
    # the step's update of one Dense against torch.optim.Adam on the same loss (Keras's epsilon
    # placement differs from torch's by eps * sqrt(1 - beta2^t), so use eps=0 on both)
    regulab.set_random_seed(1)
    model = Sequential([Input((3,)), Dense(2)])
    model.compile(regulab.optimizers.Adam(0.1, epsilon=0.0), "mse")
    spec = model._step_spec()
    kernel, bias = (torch.tensor(w, requires_grad=True) for w in model.get_weights())
    x, y = torch.rand(5, 3), torch.rand(5, 2)
    opt = torch.optim.Adam([kernel, bias], lr=0.1, eps=0.0)
    ((x @ kernel + bias - y) ** 2).mean().backward()
    opt.step()
    new, _ = make_train_step(spec)(split(spec.structure, model.optimizer), (x, y, None), 0)
    torch.testing.assert_close(new.params["dense/kernel"], kernel.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(new.params["dense/bias"], bias.detach(), rtol=1e-5, atol=1e-6)
