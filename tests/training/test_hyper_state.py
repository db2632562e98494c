"""Hyper-parameters are training state: read from the layers at every split, never baked into a step."""
import numpy as np
import pytest

import regulab
from regulab import optimizers, regularizers
from regulab.layers import Dense, Dropout, GaussianNoise
from regulab.models import Sequential
from regulab.training._state import LEARNING_RATE, Structure, split
from tests.helpers import linear_data


def _model(rate=0.5, l2=0.01, jit=False, optimizer=None):
    regulab.set_random_seed(0)
    model = Sequential([GaussianNoise(0.1, input_shape=(8,)),
                        Dense(16, activation="relu", kernel_regularizer=regularizers.l1_l2(0.001, l2)),
                        Dropout(rate), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizer or optimizers.Adam(0.01), loss="binary_crossentropy", jit_compile=jit)
    return model


def test_the_state_holds_every_hyper_parameter_by_path():
    model = _model()
    state = split(Structure(model), model.optimizer)
    assert state.hyper == {LEARNING_RATE: 0.01, "gaussian_noise/stddev": 0.1, "dropout/rate": 0.5,
                           "dense/kernel/regularizer/l1": 0.001, "dense/kernel/regularizer/l2": 0.01}
    model.layers[2].rate = 0.25  # read afresh at the next split
    assert split(Structure(model), model.optimizer).hyper["dropout/rate"] == 0.25


def test_a_step_reads_rates_and_factors_from_its_state_not_from_the_layers():
    # the same model with rate and factor set through the state equals a model built with them
    from regulab.training._step import make_train_step

    x, y = linear_data(32, 8)
    a, b = _model(rate=0.5, l2=0.01), _model(rate=0.2, l2=0.3)
    spec_a = a._step_spec()
    state = split(spec_a.structure, a.optimizer)
    state.hyper.update({"dropout/rate": 0.2, "dense/kernel/regularizer/l2": 0.3})
    import torch

    batch = (torch.as_tensor(x), torch.as_tensor(y).reshape(-1, 1), None)
    new_a, stats_a = make_train_step(spec_a)(state, batch, 7)
    spec_b = b._step_spec()
    new_b, stats_b = make_train_step(spec_b)(split(spec_b.structure, b.optimizer), batch, 7)
    torch.testing.assert_close(stats_a, stats_b)
    for pa, pb in zip(new_a.params.values(), new_b.params.values()):
        torch.testing.assert_close(pa, pb)


def test_one_compiled_step_serves_every_rate_and_factor():
    # plain SGD keeps no state, so the compiled model's second fit can be compared with an eager
    # model started from the same weights
    x, y = linear_data(64, 8)
    model = _model(jit=True, optimizer=optimizers.SGD(0.1))
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=0)
    compiled = len(model._compiled_steps)
    model.layers[2].rate = 0.1
    model.layers[1].kernel_regularizer.l2 = 0.2
    model.optimizer.learning_rate = 0.03
    eager = _model(rate=0.1, l2=0.2, optimizer=optimizers.SGD(0.03))
    eager.set_weights(model.get_weights())
    got = model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=1)
    assert got.params["engine"] == "compiled"
    assert len(model._compiled_steps) == compiled  # the new values did not compile again
    want = eager.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=1)
    np.testing.assert_allclose(got.history["loss"], want.history["loss"], rtol=1e-4)
    for a, b in zip(model.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
