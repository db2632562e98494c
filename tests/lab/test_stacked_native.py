"""The stacked step without mapping (``training/_stacked_forward.py``): which layers run on
stacked tensors, and that the pass, the in-place updates and the per-variant penalties give
what the mapped step and single models give."""
import numpy as np
import pytest
import torch

import regulab
from regulab import _random, layers, optimizers, regularizers
from regulab.lab import fit_variants
from regulab.layers import Dense, Dropout, Input
from regulab.layers._context import CallContext, VariantContext
from regulab.models import Model, Sequential
from regulab.training import _stacked, _stacked_forward, _stacked_step
from tests.helpers import linear_data


def test_which_layers_and_models_stack():
    dense = Dense(3)
    assert dense.stacks() and Dropout(0.2).stacks() and layers.GaussianNoise(0.1).stacks()
    assert layers.Activation("softmax").stacks() and layers.Flatten().stacks() and layers.Add().stacks()
    assert not Dense(3, activity_regularizer="l2").stacks()  # its penalty divides by the batch size
    assert not Dropout(0.2, noise_shape=(None, 1)).stacks()
    assert not layers.SpatialDropout1D(0.2).stacks()  # a subclass must say so itself
    assert not layers.Concatenate(axis=1).stacks() and layers.Concatenate(axis=-1).stacks()
    assert layers.BatchNormalization().stacks() and not layers.Conv1D(2, 3).stacks()

    class MyDense(Dense):
        pass

    assert not MyDense(3).stacks()
    seq = Sequential([Dense(4, input_dim=3), Dropout(0.1), Dense(1)])
    assert seq.stacks()
    assert not Sequential([layers.Embedding(10, 4, mask_zero=True), layers.GlobalAveragePooling1D()]).stacks()
    assert not Sequential([layers.Reshape((3, 1), input_shape=(3,)), layers.Conv1D(2, 2)]).stacks()
    assert Sequential([Sequential([Dense(4, input_dim=3)]), Dense(1)]).stacks()  # nested


def test_variant_context_draws_what_each_key_draws_alone():
    keys = torch.tensor([3, 99, 2**31 + 5])
    ctx = VariantContext({}, {}, training=True, key=keys, variants=3)
    u, n = ctx.uniform((3, 4, 5), 17, None), ctx.normal((3, 4, 5), 17, None)
    for i, k in enumerate(keys):
        one = CallContext({}, {}, training=True, key=k)
        assert torch.equal(u[i], one.uniform((4, 5), 17, None))
        assert torch.equal(n[i], one.normal((4, 5), 17, None))
    # the hash by hand: row i is _random.uniform of key i's stream
    assert torch.equal(u[1], _random.uniform(_random.fold_in(keys[1], 17), (4, 5)))
    rate = torch.tensor([0.1, 0.2, 0.3])
    ctx = VariantContext({}, {}, training=True, key=keys, variants=3, hyper_values={"r": rate},
                         hyper_paths={("layer", "rate"): "r"})
    assert ctx.hyper("layer", "rate", like=torch.zeros(3, 4, 5)).shape == (3, 1, 1)


def _functional_model(seed, rate, smoothing):
    regulab.set_random_seed(seed)
    inp = Input((12,))
    a = Dense(16, activation="relu", kernel_regularizer=regularizers.l1_l2(1e-3, 1e-2 * (seed + 1)))(inp)
    a = Dropout(rate)(a)
    b = layers.GaussianNoise(0.1 * seed)(inp)
    b = Dense(16, activation="tanh", bias_regularizer=regularizers.l2(1e-3))(b)
    b = layers.GaussianDropout(0.2)(b)
    c = layers.BatchNormalization()(layers.Add()([a, b]))
    c = layers.Reshape((4, 4))(c)
    c = layers.BatchNormalization(momentum=0.5)(c)  # statistics over the batch and the first axis
    c = layers.AlphaDropout(0.1)(c)
    c = layers.Flatten()(c)
    c = layers.Concatenate()([c, Dropout(0.0)(a)])  # a rate 0 in every variant: skipped
    out = Dense(3, activation="softmax")(c)
    model = Model(inp, out)
    model.compile(optimizer=optimizers.Adam(1e-2 * (seed + 1)),
                  loss=regulab.losses.CategoricalCrossentropy(label_smoothing=smoothing),
                  metrics=["accuracy", regulab.metrics.Precision()])
    return model


def _fit_all(monkeypatch, native: bool, weighted: bool):
    if not native:
        monkeypatch.setattr(_stacked_step, "runs_natively", lambda spec: False)
        monkeypatch.setattr(_stacked, "evaluates_natively", lambda spec: False)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 12)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 150)]
    w = rng.uniform(0.5, 2.0, 150).astype("float32") if weighted else None
    models = [_functional_model(s, r, ls) for s, r, ls in [(0, 0.0, 0.0), (1, 0.3, 0.1), (2, 0.5, 0.0)]]
    calls = []
    real = _stacked_forward.variant_pass

    def counted(*args, **kwargs):
        calls.append(kwargs.get("training", True))
        return real(*args, **kwargs)

    monkeypatch.setattr(_stacked_step, "variant_pass", counted)
    monkeypatch.setattr(_stacked, "variant_pass", counted)
    hs = fit_variants(models, x, y, seeds=[5, 6, 7], epochs=3, batch_size=32, sample_weight=w,
                      validation_data=(x[:40], y[:40]))
    monkeypatch.undo()
    return models, [h.history for h in hs], calls


@pytest.mark.parametrize("weighted", [False, True])
def test_native_stacked_fit_equals_the_mapped_step(monkeypatch, weighted):
    mapped_models, mapped, mapped_calls = _fit_all(monkeypatch, native=False, weighted=weighted)
    native_models, native, native_calls = _fit_all(monkeypatch, native=True, weighted=weighted)
    assert not mapped_calls
    assert native_calls.count(True) == 3 * 5 and native_calls.count(False) == 3  # 5 batches, 3 validations
    for a, b in zip(mapped, native):
        assert set(a) == set(b)
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-6, err_msg=key)
    for a, b in zip(mapped_models, native_models):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def test_native_stacked_fit_equals_separate_fits():
    x, y = linear_data(200, 10)

    def build(seed, rate):
        regulab.set_random_seed(seed)
        model = Sequential([Dense(8, input_dim=10, activation="relu", kernel_regularizer=regularizers.l2(0.01)),
                            Dropout(rate), layers.GaussianNoise(0.05), Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy", "mse"])
        return model

    settings = [(0, 0.0), (1, 0.25), (2, 0.5)]
    alone = [build(s, r) for s, r in settings]
    histories = [m.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=s + 10, validation_data=(x[:50], y[:50]))
                 for m, (s, _) in zip(alone, settings)]
    stacked = [build(s, r) for s, r in settings]
    stacked_histories = fit_variants(stacked, x, y, seeds=[s + 10 for s, _ in settings], epochs=2,
                                     batch_size=16, validation_data=(x[:50], y[:50]))
    for a, b in zip(histories, stacked_histories):
        for key in a.history:
            np.testing.assert_allclose(a.history[key], b.history[key], rtol=1e-5, atol=1e-6, err_msg=key)
    for a, b in zip(alone, stacked):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: optimizers.SGD(0.1), lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: optimizers.Adam(), lambda: optimizers.AdamW(), lambda: optimizers.RMSprop(momentum=0.5, centered=True),
    lambda: optimizers.RMSprop(), lambda: optimizers.Adagrad(), lambda: optimizers.Adam(weight_decay=0.1)])
def test_in_place_updates_equal_the_pure_update(make):
    opt = make()
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(4, 30, generator=gen)]
    state = {"lr": torch.tensor([[1e-3], [1e-2], [0.1], [0.0]]), "t": torch.tensor([[0], [3], [7], [1]])}
    for slot in opt._slots:
        # a centered RMSprop's mean gradient squared stays below its mean square, as in training
        scale = 0.1 if slot == "average_gradient" else 1.0
        state[slot] = (torch.rand(4, 30, generator=gen) * scale + (0.0 if scale < 1 else 0.5),)
    for _ in range(3):
        grads = [torch.randn(4, 30, generator=gen)]
        copies = {"t": state["t"], "lr": state["lr"], **{s: (state[s][0].clone(),) for s in opt._slots}}
        pure_params, pure = opt.update(params, grads, state)
        before = params[0].clone()
        inplace_params, inplace = opt.update([params[0].clone()], grads, copies, in_place=True)
        assert torch.equal(params[0], before)  # the pure update left its inputs alone
        torch.testing.assert_close(inplace_params[0], pure_params[0], rtol=1e-6, atol=1e-7)
        for slot in opt._slots:
            assert inplace[slot][0] is copies[slot][0]  # written into the slot it was given
            torch.testing.assert_close(inplace[slot][0], pure[slot][0], rtol=1e-6, atol=1e-7)
        params, state = pure_params, pure


def test_per_variant_penalties_equal_each_variants_own():
    w = torch.randn(3, 5, 4)
    factors = torch.tensor([0.1, 0.0, 2.0])

    class Cubic(regularizers.Regularizer):
        def __call__(self, x):
            return (x ** 3).sum()

        def get_config(self):
            return {}

    for reg, kw in [(regularizers.L1(0.5), {"l1": factors}), (regularizers.L2(0.5), {"l2": factors}),
                    (regularizers.L1L2(0.1, 0.2), {"l1": factors, "l2": factors.flip(0)}),
                    (regularizers.L2(0.5), {}), (Cubic(), {})]:
        rows = reg.per_variant(w, **kw)
        expected = torch.stack([reg(w[i], **{k: v[i] for k, v in kw.items()}) for i in range(3)])
        torch.testing.assert_close(rows, expected)


class _Meddler(regulab.callbacks.Callback):
    """Changes its model between epochs, each way the stack must notice."""

    def __init__(self, how):
        super().__init__()
        self.how = how

    def on_epoch_end(self, epoch, logs=None):
        if epoch != 0:
            return
        if self.how == "weights":
            self.model.set_weights([w * 0.5 for w in self.model.get_weights()])
        elif self.how == "rate":
            self.model.layers[1].rate = 0.6
        elif self.how == "lr":
            self.model.optimizer.learning_rate = 0.05
        elif self.how == "factor":
            self.model.layers[0].kernel_regularizer.l2 = 0.5


@pytest.mark.parametrize("how", ["weights", "rate", "lr", "factor", None])
def test_changes_callbacks_make_between_epochs_reach_the_stack(how):
    # between epochs the stack goes on from where it is unless a model changed: each change
    # here must give what the same callback gives a fit of its own
    x, y = linear_data(120, 10)

    def build(seed):
        regulab.set_random_seed(seed)
        model = Sequential([Dense(8, input_dim=10, activation="relu", kernel_regularizer=regularizers.l2(0.01)),
                            Dropout(0.2), Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    alone = [build(s) for s in range(3)]
    expected = [m.fit(x, y, epochs=3, verbose=0, seed=s, callbacks=[_Meddler(how if s == 1 else None)]).history
                for s, m in enumerate(alone)]
    stacked = [build(s) for s in range(3)]
    got = fit_variants(stacked, x, y, seeds=[0, 1, 2], epochs=3,
                       callbacks=lambda i: [_Meddler(how if i == 1 else None)])
    for ha, hb in zip(expected, got):
        np.testing.assert_allclose(ha["loss"], hb.history["loss"], rtol=1e-5, atol=1e-6)
    for a, b in zip(alone, stacked):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
