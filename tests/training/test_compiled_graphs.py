"""The compiled engine runs graphs too: a functional model with two inputs, two outputs, a shared
layer, BatchNorm and a wrapped torch module trains as it does eagerly."""
import numpy as np
import torch

import regulab
from regulab.layers import BatchNormalization, Dense, Input, TorchModuleWrapper, concatenate
from regulab.models import Model


def _graph(jit):
    regulab.set_random_seed(0)
    a, b = Input((3,), name="a"), Input((2,), name="b")
    shared = Dense(4, activation="relu", name="shared")
    h = BatchNormalization()(concatenate([shared(Dense(4, name="pa")(a)), shared(Dense(4, name="pb")(b))]))
    torch.manual_seed(0)
    h = TorchModuleWrapper(torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU()))(h)
    model = Model([a, b], [Dense(1, activation="sigmoid", name="cls")(h), Dense(2, name="reg")(h)])
    # SGD: Adam's sign-like steps turn rounding differences near zero gradients into whole steps
    model.compile(regulab.optimizers.SGD(0.05, momentum=0.9), loss=["binary_crossentropy", "mse"],
                  metrics=[["accuracy"], []], jit_compile=jit)
    return model


def test_a_compiled_functional_model_trains_as_the_eager_one():
    rng = np.random.default_rng(0)
    xa, xb = rng.random((96, 3)).astype("float32"), rng.random((96, 2)).astype("float32")
    ya, yb = rng.integers(0, 2, (96, 1)).astype("float32"), rng.random((96, 2)).astype("float32")
    runs = []
    for jit in (False, True):
        model = _graph(jit)
        h = model.fit([xa, xb], [ya, yb], epochs=2, batch_size=16, verbose=0, seed=0, validation_split=0.25)
        assert h.params["engine"] == ("compiled" if jit else "eager")
        runs.append((h.history, model.get_weights(), model.predict([xa, xb], verbose=0)))
    (h_e, w_e, p_e), (h_c, w_c, p_c) = runs
    assert h_e.keys() == h_c.keys()
    for key in h_e:
        np.testing.assert_allclose(h_e[key], h_c[key], rtol=1e-5, atol=1e-6)
    for a, b in zip(w_e, w_c):  # running statistics of both BatchNorms included
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(p_e, p_c):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
