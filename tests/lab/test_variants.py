import re

import numpy as np
import pytest

import regulab
from regulab.lab import fit_variants
from regulab.layers import Dense
from regulab.models import Sequential
from tests.helpers import linear_data, seed_model


def _models(kind, count):
    models = []
    for i in range(count):
        regulab.set_random_seed(i)
        models.append(seed_model(kind))
    return models


@pytest.mark.parametrize("kind", ["dropout", "batchnorm", "l2"])
def test_stacked_variants_equal_separate_fits(kind):
    x, y = linear_data(300)
    seeds = [3, 4, 5]
    separate = _models(kind, 3)
    histories = [m.fit(x, y, epochs=2, verbose=0, seed=s, validation_data=(x[:64], y[:64])).history
                 for m, s in zip(separate, seeds)]
    stacked = _models(kind, 3)
    stacked_histories = fit_variants(stacked, x, y, seeds=seeds, epochs=2, validation_data=(x[:64], y[:64]))
    for a, b in zip(separate, stacked):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    for ha, hb in zip(histories, stacked_histories):
        assert set(ha) == set(hb)
        for k in ha:
            np.testing.assert_allclose(ha[k], hb[k], rtol=1e-5, atol=1e-6)
    # each model keeps its own optimizer state: a further fit continues like the separate model's
    a = separate[1].fit(x, y, epochs=1, verbose=0, seed=9).history["loss"]
    b = stacked[1].fit(x, y, epochs=1, verbose=0, seed=9).history["loss"]
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_compiled_stacked_step_matches_eager():
    # 300 samples: 9 full batches (four calls of 2 steps, one left over) and a partial one
    x, y = linear_data(300)
    eager, compiled = _models("dropout", 4), _models("dropout", 4)
    h_e = fit_variants(eager, x, y, seeds=[0, 1, 2, 3], epochs=2)
    h_c = fit_variants(compiled, x, y, seeds=[0, 1, 2, 3], epochs=2, jit_compile=True, steps_per_execution=2)
    for a, b in zip(h_e, h_c):
        np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-4)
    for a, b in zip(eager, compiled):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)


def test_variants_must_share_architecture_and_seeds_must_match():
    x, y = linear_data(32)
    other = Sequential([Dense(32, input_dim=100, activation="relu"), Dense(1, activation="sigmoid")])
    other.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match="model 1 .* differs from model 0"):
        fit_variants([seed_model("plain"), other], x, y, seeds=[0, 1])
    # a different regularizer factor would otherwise be silently replaced by model 0's
    strong = Sequential([Dense(64, input_dim=100, activation="relu", kernel_regularizer=regulab.regularizers.l2(0.1)),
                         Dense(1, activation="sigmoid")])
    strong.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match="Only seeds and initial weights may differ"):
        fit_variants([seed_model("l2"), strong], x, y, seeds=[0, 1])
    with pytest.raises(ValueError, match=re.escape("Argument `seeds` needs one seed per model: 2 models, 1 seeds.")):
        fit_variants(_models("plain", 2), x, y, seeds=[0])


def test_compiled_stacked_step_follows_layers_frozen_between_calls():
    x, y = linear_data(96, 8)

    def run(jit):
        models = []
        for seed in range(2):
            regulab.set_random_seed(seed)
            model = Sequential([Dense(8, input_dim=8, activation="relu"), Dense(8, activation="relu"), Dense(1)])
            model.compile("adam", "mse")
            models.append(model)
        fit_variants(models, x, y, seeds=[3, 4], epochs=1, batch_size=16, jit_compile=jit)
        for m in models:
            m.layers[1].trainable = False
        frozen = models[0].layers[1].get_weights()
        fit_variants(models, x, y, seeds=[5, 6], epochs=2, batch_size=16, jit_compile=jit)
        for a, b in zip(frozen, models[0].layers[1].get_weights()):
            np.testing.assert_array_equal(a, b)
        return [m.get_weights() for m in models]

    for wa, wb in zip(run(False), run(True)):
        for a, b in zip(wa, wb):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fit_variants_refuses_models_that_share_weights():
    from regulab.layers import Input

    x, y = linear_data(32, 4)
    m = Sequential([Input((4,)), Dense(1, activation="sigmoid")])
    m.compile("adam", "binary_crossentropy")
    with pytest.raises(ValueError, match=re.escape("fit_variants trains each model on its own: models 0 and 1 share "
                                                   "the weight")):
        fit_variants([m, m], x, y, seeds=[0, 1])


def test_fit_variants_stacks_models_with_a_nested_model():
    from regulab.layers import Input
    from regulab.models import Model

    def make(seed):
        regulab.set_random_seed(seed)
        inner_in = Input((4,))
        inner = Model(inner_in, Dense(8, activation="relu")(inner_in))
        x = Input((4,))
        model = Model(x, Dense(1, activation="sigmoid")(inner(x)))
        model.compile("adam", "binary_crossentropy")
        return model

    x, y = linear_data(64, 4)
    stacked = [make(0), make(1)]
    fit_variants(stacked, x, y, seeds=[5, 6], epochs=2)
    alone = make(1)
    alone.fit(x, y, epochs=2, seed=6, verbose=0)
    for a, b in zip(stacked[1].get_weights(), alone.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
