"""The compiled engine gives the eager engine's results (compiles take seconds: keep this file small)."""
import numpy as np
import pytest
import torch

import regulab
from regulab import regularizers
from regulab.layers import BatchNormalization, Dense, Dropout
from regulab.models import Sequential
from regulab.training import _engine
from tests.helpers import linear_data

OPTIMIZERS = {
    "sgd": lambda: regulab.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: regulab.optimizers.Adam(0.01),
    "adamw": lambda: regulab.optimizers.AdamW(0.01, weight_decay=0.01),
    "rmsprop": lambda: regulab.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: regulab.optimizers.Adagrad(0.05),
}


def _model(optimizer, jit, k=1, dropout=True):
    regulab.set_random_seed(0)
    model = Sequential([Dense(16, input_dim=20, activation="relu", kernel_regularizer=regularizers.l1(0.01, proximal=True),
                              bias_regularizer=regularizers.l2(0.01)),
                        BatchNormalization(), *([Dropout(0.3)] if dropout else []),
                        Dense(1, activation="sigmoid", kernel_regularizer=regularizers.l1_l2(0.001, 0.01))])
    model.compile(OPTIMIZERS[optimizer](), "binary_crossentropy", metrics=["accuracy", "auc"],
                  jit_compile=jit, steps_per_execution=k)
    return model


def _fit(model):
    x, y = linear_data(200, 20)
    h = model.fit(x, y, batch_size=32, epochs=2, validation_split=0.2, verbose=0, seed=3)
    return h, model.get_weights()


# each compile costs 10-30 s on a cold 2-core machine, a dropout layer ~10 s more: the slowest
# tests of the suite. Dropout rides with Adam only (other tests reuse that compiled step).
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_compiled_step_matches_eager_across_optimizers(optimizer):
    dropout = optimizer == "adam"
    h_e, w_e = _fit(_model(optimizer, False, dropout=dropout))
    h_c, w_c = _fit(_model(optimizer, True, dropout=dropout))
    assert h_c.params["engine"] == "compiled" and h_e.params["engine"] == "eager"
    for a, b in zip(w_e, w_c):
        # same dropout masks (counter-based keys), same formulas: float rounding only
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for name in h_e.history:
        np.testing.assert_allclose(h_e.history[name], h_c.history[name], rtol=1e-4, atol=1e-5)
    # proximal L1 produces the same exact zeros when compiled (Adam, with these settings, makes some)
    np.testing.assert_array_equal(w_c[0] == 0, w_e[0] == 0)
    assert (w_c[0] == 0).any() or optimizer != "adam"


def test_steps_per_execution_equals_single_steps_and_calls_hooks_per_execution():
    calls = []

    class Batches(regulab.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            calls.append(batch)

    h1, w1 = _fit(_model("adam", False))
    model = _model("adam", True, k=2)
    x, y = linear_data(200, 20)
    model.fit(x, y, batch_size=32, epochs=2, validation_split=0.2, verbose=0, seed=3, callbacks=[Batches()])
    for a, b in zip(w1, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # 160 training samples: 5 batches per epoch -> calls after batches 1, 3 (groups of 2), then 4 alone
    assert calls == [1, 3, 4, 1, 3, 4]


def test_auto_stays_eager_for_a_short_fit(monkeypatch):
    x, y = linear_data(64, 20)
    model = _model("adam", "auto")
    monkeypatch.setattr(regulab._seed, "_seeded", False)  # unseeded: "auto" times the first steps
    h = model.fit(x, y, epochs=1, verbose=0)
    assert h.params["engine"] == "eager"  # 2 steps: fewer than the probe


def test_auto_with_a_seed_decides_from_the_fit_length_alone(monkeypatch):
    # two runs of one seeded script must pick the same engine: no timing, no compile cache
    x, y = linear_data(800, 20)
    h = _model("adam", "auto").fit(x, y, batch_size=32, epochs=1, verbose=0, seed=1)
    assert h.params["engine"] == ("eager (auto with a seed: 25 steps, fewer than the 200000 a compile needs "
                                  "to pay for itself on any model)")
    monkeypatch.setattr(_engine, "_SEEDED_COMPILE_STEPS", {"cpu": 25})
    h = _model("adam", "auto").fit(x, y, batch_size=32, epochs=1, verbose=0, seed=1)
    assert h.params["engine"] == "compiled (auto with a seed: 25 steps, at least 25)"
    # set_random_seed makes a fit without seed= seeded too
    model = _model("adam", "auto")
    monkeypatch.setattr(regulab._seed, "_seeded", False)
    regulab.set_random_seed(3)
    h = model.fit(x[:64], y[:64], epochs=1, verbose=0)
    assert h.params["engine"].startswith("eager (auto with a seed: 2 steps")


def test_auto_decision_rule():
    # 1,000 steps at 0.5 ms: 0.5 s of eager work never repays 20 s of compiling
    assert not _engine.should_compile(1_000, 5e-4, 20.0)
    # 2 million steps at 0.5 ms (1,000 s eager) repay it easily
    assert _engine.should_compile(2_000_000, 5e-4, 20.0)


def test_auto_compiles_a_long_fit(monkeypatch):
    # pretend compiling is free, so a 25-step fit is "long"
    monkeypatch.setattr(_engine, "_COLD_COMPILE_S", {"cpu": 0.0})
    monkeypatch.setattr(_engine, "_WARM_COMPILE_S", 0.0)
    x, y = linear_data(800, 20)
    model = _model("adam", "auto")
    monkeypatch.setattr(regulab._seed, "_seeded", False)  # unseeded: "auto" times the first steps
    h = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert h.params["engine"] == "compiled"


def test_no_compiler_falls_back_with_one_warning(monkeypatch):
    monkeypatch.setattr(_engine.shutil, "which", lambda name: None)
    monkeypatch.setattr(_engine, "_warned_no_compiler", False)
    x, y = linear_data(64, 20)
    with pytest.warns(RuntimeWarning, match="no C\\+\\+ compiler"):
        h = _model("adam", True).fit(x, y, epochs=1, verbose=0)
    assert h.params["engine"] == "eager (no C++ compiler)"


def test_invalid_switches():
    model = Sequential([Dense(1, input_dim=2)])
    with pytest.raises(ValueError, match="Invalid value for argument `jit_compile` of compile: expected 'auto', True or False. Received: jit_compile='yes'"):
        model.compile("adam", "mse", jit_compile="yes")
    with pytest.raises(ValueError, match=r"`steps_per_execution` of compile: expected an integer in \[1, inf\)"):
        model.compile("adam", "mse", steps_per_execution=0)


def _all_layers_model(jit, loss, units, metrics):
    from regulab.layers import AlphaDropout, GaussianDropout, GaussianNoise, LayerNormalization
    regulab.set_random_seed(1)
    model = Sequential([Dense(12, input_dim=20, activation="selu", kernel_regularizer=regularizers.l2(0.01),
                              activity_regularizer=regularizers.l1(0.001)),
                        AlphaDropout(0.1), GaussianNoise(0.1), LayerNormalization(), GaussianDropout(0.2),
                        Dense(units, activation="softmax" if units > 1 else None)])
    model.compile(regulab.optimizers.Adam(0.01), loss, metrics=metrics, jit_compile=jit)
    return model


# random layers cost ~10 s of cold compile each: one model carries them all (the other losses and
# the image layers have tests of their own below)
def test_compiled_matches_eager_for_every_layer_loss_and_metric():
    x, _ = linear_data(200, 20)
    target = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)

    def build(jit):
        return _all_layers_model(jit, "sparse_categorical_crossentropy", 3, ["accuracy", "precision", "recall"])

    _assert_same(_eager_and_compiled(build, x, target, batch_size=32, epochs=2,
                                     validation_data=(x[:50], target[:50])))


def test_callbacks_drive_a_compiled_fit_without_recompiling():
    from regulab.callbacks import EarlyStopping, ReduceLROnPlateau
    x, y = linear_data(200, 20)
    model = _model("adam", True)
    es = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    h = model.fit(x, y, epochs=6, validation_split=0.2, verbose=0, seed=3,
                  callbacks=[ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, min_delta=10.0), es])
    assert h.params["engine"] == "compiled"
    # epoch 0 sets the best; epoch 1 fails min_delta and halves the rate (logged before it changes)
    assert h.history["learning_rate"][2] == pytest.approx(h.history["learning_rate"][0] / 2)
    assert len(model._compiled_steps) == 2  # one training step, one validation step


def test_state_replaced_between_compiled_fits_is_used():
    # set_weights and a new learning rate replace the tensors a compiled step updates in place
    x, y = linear_data(200, 20)
    results = []
    for jit in (False, True):
        model = _model("adam", jit, k=2)
        start = model.get_weights()
        model.fit(x, y, batch_size=32, epochs=1, verbose=0, seed=3)
        model.set_weights(start)
        model.optimizer.learning_rate = 0.002
        h = model.fit(x, y, batch_size=32, epochs=2, verbose=0, seed=4)
        assert h.params["engine"] == ("compiled" if jit else "eager")
        # the learning rate is state, not code: one compiled step serves both fits
        assert len(model._compiled_steps) == (1 if jit else 0)
        results.append((h.history, model.get_weights()))
    (h_e, w_e), (h_c, w_c) = results
    for a, b in zip(w_e, w_c):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h_e["loss"], h_c["loss"], rtol=1e-4)


def test_every_model_gets_its_own_compiled_step():
    # Dynamo gives up compiling a function after recompile_limit versions of one code object and
    # runs it eagerly; each model's step must not count against the others'
    from torch._dynamo.utils import counters
    x, y = linear_data(64, 20)
    with torch._dynamo.config.patch(recompile_limit=1):
        for _ in range(2):
            before = counters["stats"]["unique_graphs"]
            _model("sgd", True).fit(x, y, epochs=1, verbose=0, validation_data=(x, y))
            assert counters["stats"]["unique_graphs"] == before + 2  # the training and the validation step


def test_identical_models_share_one_signature():
    # names are numbered per process: "auto" must still know the model was compiled before
    a, b = _model("adam", True), _model("adam", True)
    b.name, b.layers[0].name = "another", "another_dense"
    assert a.get_config() != b.get_config()
    assert (_engine.spec_signature(a, a._step_spec(), 1, 32, a.device)
            == _engine.spec_signature(b, b._step_spec(), 1, 32, b.device))


def test_compiled_evaluate_and_predict_match_eager_with_one_compile_each():
    from torch._dynamo.utils import counters
    x, y = linear_data(300, 20)
    results = []
    for jit in (False, True):
        model = _model("adam", jit)  # BatchNorm and dropout: inference mode matters
        before = counters["stats"]["unique_graphs"]
        # batches of 128, 128 and 44: the short batch reuses the compiled code (dynamic batch size)
        results.append((model.evaluate(x, y, batch_size=128, verbose=0, return_dict=True),
                        model.predict(x, batch_size=128),
                        model.predict(x, batch_size=128, mc_samples=3, seed=1)))
        assert counters["stats"]["unique_graphs"] - before == (2 if jit else 0)  # mc_samples: eager
    (ev_e, p_e, mc_e), (ev_c, p_c, mc_c) = results
    assert ev_e.keys() == ev_c.keys()
    for name in ev_e:
        assert ev_c[name] == pytest.approx(ev_e[name], rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(p_c, p_e, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mc_c, mc_e, rtol=1e-5, atol=1e-6)  # same dropout masks
    assert mc_e.std(0).mean() > 0  # Monte-Carlo passes differ


def _eager_and_compiled(build, x, y, **fit_kwargs):
    """Fit the model ``build(jit)`` makes, eagerly and compiled; return [(history, weights)] for each."""
    results = []
    for jit in (False, True):
        model = build(jit)
        h = model.fit(x, y, verbose=0, seed=0, **fit_kwargs)
        assert h.params["engine"] == ("compiled" if jit else "eager")
        results.append((h.history, model.get_weights()))
    return results


def _assert_same(results, rtol=1e-4, atol=1e-5):
    (h_e, w_e), (h_c, w_c) = results
    for a, b in zip(w_e, w_c):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert h_e.keys() == h_c.keys()
    for name in h_e:
        np.testing.assert_allclose(h_e[name], h_c[name], rtol=rtol, atol=atol)


def test_compiled_matches_eager_for_image_layers_and_categorical_crossentropy():
    from regulab import layers as L
    rng = np.random.default_rng(0)
    x = rng.random((96, 8, 8, 1)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 96)]

    def build(jit):
        regulab.set_random_seed(2)
        model = Sequential([
            L.Input((8, 8, 1)), L.RandomFlip(), L.RandomRotation(0.1), L.RandomZoom(0.1),
            L.RandomTranslation(0.1, 0.1), L.RandomBrightness(0.1, value_range=(0, 1)),
            L.RandomContrast(0.1), L.RandomCrop(6, 6), L.SpatialDropout2D(0.2), L.Flatten(), Dense(8),
            L.Activation("relu"), L.Reshape((8, 1)), L.RandomShift(0.1), L.SpatialDropout1D(0.2), L.Flatten(),
            Dense(3, activation="softmax")])
        model.compile(regulab.optimizers.Adam(0.01), "categorical_crossentropy",
                      metrics=["accuracy", "categorical_accuracy"], jit_compile=jit)
        return model

    _assert_same(_eager_and_compiled(build, x, y, batch_size=16, epochs=2, validation_split=0.25))


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_compiled_matches_eager_for_regression_losses(loss):
    x, _ = linear_data(128, 20)
    target = x[:, 0] - 0.5 * x[:, 1]

    def build(jit):
        regulab.set_random_seed(3)
        model = Sequential([Dense(8, input_dim=20, activation="tanh"), Dense(1)])
        model.compile(regulab.optimizers.SGD(0.05), loss, metrics=["mae", "mse"], jit_compile=jit)
        return model

    _assert_same(_eager_and_compiled(build, x, target, batch_size=32, epochs=2, validation_split=0.25))


def test_every_callback_drives_a_compiled_fit_as_an_eager_one(tmp_path):
    from regulab import callbacks as C
    x, y = linear_data(200, 20)
    results = []
    for jit in (False, True):
        folder = tmp_path / str(jit)
        folder.mkdir()
        cbs = [C.ModelCheckpoint(str(folder / "best.regulab"), monitor="val_loss", save_best_only=True),
               C.LearningRateScheduler(lambda epoch, lr: lr * 0.8), C.CSVLogger(str(folder / "log.csv")),
               C.TerminateOnNaN(), C.ReduceLROnPlateau(monitor="val_loss", patience=0, factor=0.5),
               C.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)]
        model = _model("adam", jit)
        h = model.fit(x, y, batch_size=32, epochs=8, validation_split=0.2, verbose=0, seed=3, callbacks=cbs)
        best = regulab.models.load_model(str(folder / "best.regulab"))
        results.append((h.history, model.get_weights(), best.get_weights(), (folder / "log.csv").read_text()))
    (h_e, w_e, b_e, csv_e), (h_c, w_c, b_c, csv_c) = results
    _assert_same([(h_e, w_e), (h_c, w_c)])
    for a, b in zip(b_e, b_c):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert csv_e.splitlines()[0] == csv_c.splitlines()[0] and len(csv_e.splitlines()) == len(csv_c.splitlines())


def test_compile_record_counts_only_while_inductors_cache_exists(tmp_path, monkeypatch):
    monkeypatch.setenv("REGULAB_CACHE_DIR", str(tmp_path / "regulab"))
    inductor = tmp_path / "inductor"
    monkeypatch.setattr(_engine, "_inductor_cache_dir", lambda: str(inductor))
    assert not _engine.compiled_before("abc")
    _engine.remember_compiled("abc", 12.5)
    assert not _engine.compiled_before("abc")  # Inductor's cache is gone (say /tmp was emptied)
    inductor.mkdir()
    assert _engine.compiled_before("abc") and not _engine.compiled_before("other")
    (tmp_path / "regulab" / "compiled_steps.json").write_text("{not json")
    assert not _engine.compiled_before("abc")  # a damaged record means "not compiled before"
