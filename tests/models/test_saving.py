import json
import re
import zipfile

import numpy as np
import pytest

from regulab import regularizers
from regulab.layers import BatchNormalization, Dense, Dropout, GaussianNoise
from regulab.models import Sequential, load_model
from tests.helpers import linear_data


def _model():
    model = Sequential([Dense(16, input_dim=10, activation="relu", kernel_regularizer=regularizers.l1(0.01, proximal=True)),
                        BatchNormalization(), Dropout(0.3, seed=4), GaussianNoise(0.1),
                        Dense(3, activation="softmax", bias_regularizer="l2")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy", "auc"])
    return model


def test_round_trip_gives_identical_predictions(tmp_path):
    x, _ = linear_data(200, 10)
    y = np.random.default_rng(0).integers(0, 3, 200)
    model = _model()
    model.fit(x, y, epochs=2, verbose=0, seed=0)
    path = tmp_path / "m.regulab"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    assert loaded.layers[0].kernel_regularizer == regularizers.l1(0.01, proximal=True)
    assert loaded.optimizer.iterations == model.optimizer.iterations
    # training resumes identically: same optimizer state, same seed
    h1 = model.fit(x, y, epochs=1, verbose=0, seed=5).history
    h2 = loaded.fit(x, y, epochs=1, verbose=0, seed=5).history
    assert h1 == h2


def test_save_weights_load_weights(tmp_path):
    x, _ = linear_data(20, 10)
    a, b = _model(), _model()
    a.save_weights(tmp_path / "w.safetensors")
    b.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


def test_not_a_zip_is_a_clear_error(tmp_path):
    p = tmp_path / "bad.regulab"
    p.write_bytes(b"\x80\x04\x95 this is a pickle, not a model")
    with pytest.raises(ValueError, match=re.escape(f"Cannot load '{p}': it is not a zip archive.")):
        load_model(p)


def test_foreign_zip_is_a_clear_error(tmp_path):
    p = tmp_path / "foreign.keras"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("config.json", "{}")
        z.writestr("model.weights.h5", b"x")
    with pytest.raises(ValueError, match="it lacks regulab.json or model.safetensors"):
        load_model(p)


def test_unknown_layer_class_is_never_constructed(tmp_path):
    p = tmp_path / "m.regulab"
    _model().save(p)
    with zipfile.ZipFile(p) as z:
        cfg = json.loads(z.read("regulab.json"))
        weights = z.read("model.safetensors")
    cfg["config"]["layers"][0]["class_name"] = "os.system"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("regulab.json", json.dumps(cfg))
        z.writestr("model.safetensors", weights)
    with pytest.raises(ValueError, match=re.escape("Unknown layer class 'os.system': it is neither one of regulab's "
                                                   "nor registered. Pass it to load_model(..., custom_objects=")):
        load_model(p)


def test_corrupt_weights_are_a_clear_error(tmp_path):
    p = tmp_path / "m.regulab"
    _model().save(p)
    with zipfile.ZipFile(p) as z:
        cfg = z.read("regulab.json")
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("regulab.json", cfg)
        z.writestr("model.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00garbage")
    with pytest.raises(ValueError, match="the weights are not valid safetensors data"):
        load_model(p)


def test_truncated_file_is_a_clear_error(tmp_path):
    p = tmp_path / "m.regulab"
    _model().save(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="Cannot load"):
        load_model(p)
