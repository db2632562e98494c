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
    stacked_histories = [h.history for h in
                         fit_variants(stacked, x, y, seeds=seeds, epochs=2, validation_data=(x[:64], y[:64]))]
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
        np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-4)
    for a, b in zip(eager, compiled):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)


def test_variants_must_share_architecture_and_seeds_must_match():
    x, y = linear_data(32)
    other = Sequential([Dense(32, input_dim=100, activation="relu"), Dense(1, activation="sigmoid")])
    other.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match="model 1 .* differs from model 0"):
        fit_variants([seed_model("plain"), other], x, y, seeds=[0, 1])
    # another regularizer kind runs other step code; another factor is state (see below)
    lasso = Sequential([Dense(64, input_dim=100, activation="relu", kernel_regularizer=regulab.regularizers.l1(0.1)),
                        Dense(1, activation="sigmoid")])
    lasso.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match="Only seeds, initial weights, learning rates, regularizer factors, "
                                         "dropout rates and noise levels may differ"):
        fit_variants([seed_model("l2"), lasso], x, y, seeds=[0, 1])
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


def _hyper_model(seed, l2, rate, lr, proximal_l1=0.0, noise=0.0):
    from regulab import optimizers, regularizers
    from regulab.layers import Dropout, GaussianNoise

    regulab.set_random_seed(seed)
    model = Sequential([GaussianNoise(noise, input_shape=(100,)),
                        Dense(32, activation="relu", kernel_regularizer=regularizers.l2(l2)),
                        Dropout(rate),
                        Dense(1, activation="sigmoid", kernel_regularizer=regularizers.l1(proximal_l1, proximal=True))])
    model.compile(optimizer=optimizers.Adam(learning_rate=lr), loss="binary_crossentropy", metrics=["accuracy"])
    return model


HYPER = [(0.0, 0.0, 1e-3, 0.0, 0.0), (0.01, 0.5, 1e-3, 20.0, 0.1), (0.1, 0.2, 3e-3, 0.0, 0.5)]


def test_variants_with_their_own_hyper_parameters_equal_separate_fits():
    # regularizer factors, dropout rates, noise levels and learning rates are state: one stacked
    # step trains each variant with its own values, as its own fit would
    x, y = linear_data(200)
    val = (x[:50], y[:50])
    separate = [_hyper_model(i, *h) for i, h in enumerate(HYPER)]
    expected = [m.fit(x, y, epochs=3, verbose=0, seed=10 + i, validation_data=val).history
                for i, m in enumerate(separate)]
    stacked = [_hyper_model(i, *h) for i, h in enumerate(HYPER)]
    got = fit_variants(stacked, x, y, seeds=[10, 11, 12], epochs=3, validation_data=val)
    # within float rounding: a stacked step computes 1 / (1 - rate) in float32, eager in float64
    for a, b, ha, hb in zip(separate, stacked, expected, got):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)
        assert set(ha) == set(hb.history)
        for key in ha:
            np.testing.assert_allclose(ha[key], hb.history[key], rtol=1e-4, atol=1e-5)
    # proximal L1 reached exact zeros in the variant that has it, in both
    zeros = [(m.layers[-1].get_weights()[0] == 0).sum() for m in (stacked[1], separate[1], stacked[0])]
    assert zeros[0] == zeros[1] > 0 == zeros[2]
    assert stacked[1].optimizer.learning_rate == pytest.approx(1e-3)
    assert stacked[2].optimizer.learning_rate == pytest.approx(3e-3)


def test_each_variant_has_its_own_early_stopping_and_restored_weights():
    from regulab.callbacks import EarlyStopping

    x, y = linear_data(40)  # 40 samples of 100 features: the validation loss soon turns up
    xv, yv = linear_data(60, seed=1)
    patience = [1, 3, 50]

    def callbacks(i):
        return [EarlyStopping(monitor="val_loss", patience=patience[i], restore_best_weights=True)]

    def models():
        # SGD: Adam divides tiny gradients by their tiny root mean square, which magnifies float
        # rounding (the stacked and the separate runs then differ by ~1e-4 after 80 steps)
        out = _models("plain", 3)
        for m in out:
            m.compile(regulab.optimizers.SGD(learning_rate=0.2), "binary_crossentropy")
        return out

    separate = models()
    expected = [m.fit(x, y, epochs=40, verbose=0, seed=i, validation_data=(xv, yv), callbacks=callbacks(i))
                for i, m in enumerate(separate)]
    stacked = models()
    got = fit_variants(stacked, x, y, seeds=[0, 1, 2], epochs=40, validation_data=(xv, yv), callbacks=callbacks)
    lengths = [len(h.epoch) for h in got]
    assert lengths == [len(h.epoch) for h in expected]
    assert lengths[0] < lengths[1] < lengths[2] == 40  # the impatient variant stopped early; the others went on
    for a, b in zip(separate, stacked):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def test_epochs_per_variant_and_callback_errors():
    x, y = linear_data(64)
    models = _models("plain", 2)
    got = fit_variants(models, x, y, seeds=[0, 1], epochs=[1, 3])
    assert [len(h.epoch) for h in got] == [1, 3]
    alone = _models("plain", 2)[0]
    alone.fit(x, y, epochs=1, seed=0, verbose=0)
    for wa, wb in zip(alone.get_weights(), models[0].get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    from regulab.callbacks import EarlyStopping

    with pytest.raises(ValueError, match=re.escape("Argument `callbacks` of fit_variants takes one list of "
                                                   "callbacks per model")):
        fit_variants(_models("plain", 2), x, y, seeds=[0, 1], callbacks=[EarlyStopping()])
    shared = EarlyStopping()
    with pytest.raises(ValueError, match="models 0 and 1 share the callback EarlyStopping"):
        fit_variants(_models("plain", 2), x, y, seeds=[0, 1], callbacks=[[shared], [shared]])
    with pytest.raises(ValueError, match=re.escape("Argument `epochs` of fit_variants takes one number or one "
                                                   "per model: 2 models, 3 values.")):
        fit_variants(_models("plain", 2), x, y, seeds=[0, 1], epochs=[1, 2, 3])


def test_an_interrupted_stacked_fit_leaves_every_model_as_it_was():
    from regulab.callbacks import Callback

    class Interrupt(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    x, y = linear_data(64)
    models = _models("dropout", 2)
    for m in models:
        m.fit(x, y, epochs=1, verbose=0, seed=0)  # optimizer state to keep
    weights = [m.get_weights() for m in models]
    iterations = [int(m.optimizer.iterations) for m in models]
    with pytest.raises(KeyboardInterrupt):
        fit_variants(models, x, y, seeds=[0, 1], epochs=4, callbacks=[[], [Interrupt()]])
    for m, ws, it in zip(models, weights, iterations):
        for a, b in zip(ws, m.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert int(m.optimizer.iterations) == it


def test_label_smoothing_is_state_per_variant_in_training_and_validation():
    from regulab import losses

    x, y = linear_data(96)
    val = (x[:40], y[:40])

    def models():
        out = _models("plain", 2)
        out[1].compile(optimizer="adam", loss=losses.BinaryCrossentropy(label_smoothing=0.2), metrics=["accuracy"])
        return out

    separate = models()
    expected = [m.fit(x, y, epochs=2, verbose=0, seed=i, validation_data=val).history for i, m in enumerate(separate)]
    got = fit_variants(models(), x, y, seeds=[0, 1], epochs=2, validation_data=val)
    for ha, hb in zip(expected, got):
        for key in ha:
            np.testing.assert_allclose(ha[key], hb.history[key], rtol=1e-4, atol=1e-6, err_msg=key)
    assert expected[0]["val_loss"] != pytest.approx(expected[1]["val_loss"], rel=1e-2)


def _optimizer(name):
    from regulab import optimizers

    if name == "custom":
        class HalfSGD(optimizers.SGD):
            def _update(self, params, grads, state, lr, t):
                return [p - 0.5 * lr * g for p, g in zip(params, grads)], {}
        return HalfSGD(learning_rate=0.05)
    return {"sgd": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
            "adamw": lambda: optimizers.AdamW(3e-3, weight_decay=0.05),
            "rmsprop": lambda: optimizers.RMSprop(1e-3, momentum=0.5, centered=True),
            "adagrad": lambda: optimizers.Adagrad(0.05)}[name]()


def _elastic_model(seed, name, l1, l2):
    from regulab import regularizers

    regulab.set_random_seed(seed)
    model = Sequential([Dense(16, input_dim=100, activation="relu",
                              kernel_regularizer=regularizers.l1_l2(l1=l1, l2=l2, proximal=True),
                              bias_regularizer=regularizers.l2(l2)),
                        Dense(1, activation="sigmoid", kernel_regularizer=regularizers.l1(l1))])
    model.compile(optimizer=_optimizer(name), loss="binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("name", ["sgd", "adamw", "rmsprop", "adagrad", "custom"])
def test_every_optimizer_stacked_equals_separate_fits_with_sample_weights(name):
    # the eager stacked step updates every variant's packed weights at once with each variant's
    # own factors; a user's optimizer runs the step mapped whole: both equal the variants' own fits
    x, y = linear_data(160)
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(x)).astype("float32")
    factors = [(0.0, 0.0), (1e-3, 1e-2), (1e-2, 0.0)]
    separate = [_elastic_model(i, name, *f) for i, f in enumerate(factors)]
    expected = [m.fit(x, y, sample_weight=w, epochs=2, verbose=0, seed=20 + i).history
                for i, m in enumerate(separate)]
    stacked = [_elastic_model(i, name, *f) for i, f in enumerate(factors)]
    got = fit_variants(stacked, x, y, sample_weight=w, seeds=[20, 21, 22], epochs=2)
    for a, b, ha, hb in zip(separate, stacked, expected, got):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)
        for key in ha:
            np.testing.assert_allclose(ha[key], hb.history[key], rtol=1e-4, atol=1e-5)
    # the proximal step reached zeros where the factor asked for them
    assert (stacked[2].layers[0].get_weights()[0] == 0).sum() > 0
    assert (stacked[0].layers[0].get_weights()[0] == 0).sum() == 0


def _mix_model(seed):
    from regulab import optimizers

    regulab.set_random_seed(seed)
    model = Sequential([Dense(16, input_dim=100, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("how", ["mixup", "cutmix"])
def test_mixing_alpha_is_state_per_variant_and_zero_trains_unmixed(how):
    # one stacked step mixes each variant's batches with its own alpha (0.3 < 1 and 2.0 > 1 take the
    # sampler's two branches); alpha 0 trains exactly as a fit without mixing
    x, y = linear_data(160)
    alphas = [0.0, 0.3, 2.0]
    separate = [_mix_model(i) for i in range(3)]
    expected = [m.fit(x, y, epochs=2, verbose=0, seed=30 + i, **({how: a} if a else {})).history
                for i, (m, a) in enumerate(zip(separate, alphas))]
    stacked = [_mix_model(i) for i in range(3)]
    got = fit_variants(stacked, x, y, seeds=[30, 31, 32], epochs=2, **{how: alphas})
    for a, b, ha, hb in zip(separate, stacked, expected, got):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ha["loss"], hb.history["loss"], rtol=1e-4)
    assert expected[0]["loss"] != expected[1]["loss"]


def test_mixing_arguments_of_fit_variants_are_checked():
    x, y = linear_data(64)
    models = [_mix_model(0), _mix_model(1)]
    with pytest.raises(ValueError, match=re.escape("Arguments `mixup` and `cutmix` of fit_variants are exclusive: "
                                                   "pass one. Received: mixup=0.2, cutmix=1.0")):
        fit_variants(models, x, y, seeds=[0, 1], mixup=0.2, cutmix=1.0)
    with pytest.raises(ValueError, match=re.escape("Argument `mixup` of fit_variants takes one alpha or one per "
                                                   "model: 2 models, 3 values.")):
        fit_variants(models, x, y, seeds=[0, 1], mixup=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=re.escape("Invalid value for argument `cutmix` of fit_variants: expected "
                                                   "a float in [0, inf). Received: cutmix=-1")):
        fit_variants(models, x, y, seeds=[0, 1], cutmix=[0.5, -1])


def test_stacked_backups_are_per_epoch(tmp_path):
    from regulab.callbacks import BackupAndRestore

    x, y = linear_data(64)
    models = [_mix_model(0), _mix_model(1)]
    with pytest.raises(ValueError, match=re.escape(
            "fit_variants backs models up at the end of an epoch; the BackupAndRestore of model 1 has save_freq=3. "
            "Pass save_freq='epoch'.")):
        fit_variants(models, x, y, seeds=[0, 1], callbacks=lambda i: [BackupAndRestore(tmp_path / str(i),
                                                                                       save_freq=3 if i else "epoch")])


def test_compiled_stacked_mixing_equals_eager():
    # the compiled stacked step takes each batch's mixing draws as an input, made eagerly for the
    # call's steps at once: each variant mixes as its eager step does, with its own alpha
    x, y = linear_data(96, 6)

    def build(seed):
        regulab.set_random_seed(seed)
        model = Sequential([Dense(4, input_dim=6, activation="relu"), Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy")
        return model

    eager, compiled = [build(i) for i in range(2)], [build(i) for i in range(2)]
    h_e = fit_variants(eager, x, y, seeds=[4, 5], epochs=2, batch_size=16, mixup=[0.0, 0.4])
    h_c = fit_variants(compiled, x, y, seeds=[4, 5], epochs=2, batch_size=16, mixup=[0.0, 0.4],
                       jit_compile=True, steps_per_execution=2)
    assert h_c[0].params["engine"].startswith("stacked compiled")
    for a, b in zip(h_e, h_c):
        np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-4)
    for a, b in zip(eager, compiled):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)
