"""Lambda: Keras 3's cases (keras/src/layers/core/lambda_layer_test.py), and saving without code."""
import re

import numpy as np
import pytest
import torch

import regulab
from regulab.layers import Input, Lambda
from regulab.models import Model, Sequential, load_model


def test_correctness():
    layer = Lambda(lambda x: x ** 2)
    torch.testing.assert_close(layer(2 * torch.ones(2, 3)), 4 * torch.ones(2, 3))


def test_output_shape_is_inferred_or_given():
    assert Lambda(lambda x: torch.cat([x, x], 1))(Input((3,))).shape == (None, 6)
    assert Lambda(lambda x: x[:, -3:, :])(Input((10, 4))).shape == (None, 3, 4)
    assert Lambda(lambda x: x, output_shape=(7,))(Input((7,))).shape == (None, 7)


def test_a_lambda_trains_and_predicts():
    x = Input((2,))
    from regulab.layers import Dense
    model = Model(x, Dense(1)(Lambda(lambda t: t * 3.0)(x)))
    model.compile("sgd", "mse")
    data = np.random.rand(32, 2).astype("float32")
    h = model.fit(data, data.sum(1), epochs=20, verbose=0, seed=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert model.predict(data, verbose=0).shape == (32, 1)


def test_saving_an_unregistered_function_is_refused(tmp_path):
    model = Sequential([Input((10, 4)), Lambda(lambda x: x[:, -3:, :], name="tail")])
    with pytest.raises(ValueError, match=re.escape(
            "Cannot save Lambda layer 'tail': its function test_saving_an_unregistered_function_is_refused.<locals>"
            ".<lambda> is not registered, and loading never runs unregistered code.")):
        model.save(tmp_path / "m.regulab")


@regulab.saving.register_serializable(package="tests")
def last_three(x):
    return x[:, -3:, :]


def test_a_registered_function_round_trips(tmp_path):
    # Keras: test_serialization_with_lambda_layer, with registration instead of safe_mode=False
    model = Sequential([Input((10, 4)), Lambda(last_three)])
    x = np.random.rand(1, 10, 4).astype("float32")
    path = tmp_path / "m.regulab"
    model.save(path)
    back = load_model(path)
    assert len(back.layers) == 1
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_loading_a_lambda_naming_an_unknown_function(tmp_path):
    import json
    import zipfile

    model = Sequential([Input((10, 4)), Lambda(last_three)])
    path = tmp_path / "m.regulab"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        cfg, weights = json.loads(z.read("regulab.json")), z.read("model.safetensors")
    cfg["config"]["layers"][0]["config"]["function"] = "os>system"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("regulab.json", json.dumps(cfg))
        z.writestr("model.safetensors", weights)
    with pytest.raises(ValueError, match=re.escape("names the function 'os>system', which is not registered")):
        load_model(path)
