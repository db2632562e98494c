"""Models are layers: nesting, sharing, trainable propagation, and the traps this design removes."""
import re

import numpy as np
import pytest
import torch

import regulab
from regulab.callbacks import Callback
from regulab.layers import BatchNormalization, Dense, Dropout, Input
from regulab.layers._context import CallContext, MissingVariableError
from regulab.models import Model, Sequential, load_model
from tests.helpers import linear_data


def test_a_layer_shared_by_two_models_survives_the_other_predicting_during_fit():
    # before, the other model's predict rewrote the shared variables' positions mid-fit
    x, y = linear_data(64, 4)
    shared = Dense(8, activation="relu")
    a = Sequential([Input((4,)), shared, Dense(1, activation="sigmoid")])
    b = Sequential([Input((4,)), Dense(3), Dense(4), shared, Dense(2)])
    a.compile("adam", "binary_crossentropy")
    outputs = []

    class PredictOther(Callback):
        def on_epoch_end(self, epoch, logs=None):
            outputs.append(b.predict(x[:5], verbose=0))

    a.fit(x, y, epochs=2, verbose=0, callbacks=[PredictOther()], seed=0)
    assert len(outputs) == 2 and outputs[0].shape == (5, 2)
    # the shared weights are one set: b sees what a trained
    assert b.layers[2].kernel is a.layers[0].kernel


def test_the_same_layer_twice_in_a_sequential_is_one_set_of_weights(tmp_path):
    layer = Dense(4, kernel_regularizer=regulab.regularizers.l2(0.1))
    model = Sequential([Input((4,)), layer, layer, Dense(1)])
    assert model.count_params() == 4 * 4 + 4 + 4 + 1
    assert len(model.weights) == 4 and len(model.losses) == 1
    kernel = layer.kernel.value
    np.testing.assert_allclose(model.penalty(), 0.1 * float((kernel ** 2).sum()), rtol=1e-6)
    x = np.random.rand(3, 4).astype("float32")
    by_hand = (x @ kernel.numpy() + layer.bias.numpy()) @ kernel.numpy() + layer.bias.numpy()
    by_hand = by_hand @ model.layers[2].kernel.numpy() + model.layers[2].bias.numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), by_hand, rtol=1e-5)
    model.compile("sgd", "mse")
    path = tmp_path / "twice.regulab"
    model.save(path)
    back = load_model(path)
    assert back.layers[0] is back.layers[1] and back.count_params() == model.count_params()
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_trainable_propagates_to_every_layer_inside():
    inner = Sequential([Dense(3, input_dim=2), BatchNormalization()], name="inner")
    x = Input((2,))
    outer = Model(x, Dense(1)(inner(x)))
    inner.trainable = False
    assert all(not v.trainable for v in inner.weights)
    assert len(outer.trainable_weights) == 2  # the head's kernel and bias
    inner.layers[0].trainable = True  # unfreezing one layer inside
    assert len(outer.trainable_weights) == 4
    outer.trainable = False
    assert outer.trainable_weights == [] and len(outer.non_trainable_weights) == len(outer.weights)


def test_a_frozen_batchnorm_runs_in_inference_mode_in_training():
    # Keras: a BatchNormalization with trainable=False normalizes with its moving statistics and
    # leaves them alone, even in a training step
    regulab.set_random_seed(0)
    bn = BatchNormalization()
    model = Sequential([Input((3,)), Dense(3), bn, Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.random.rand(32, 3).astype("float32") * 5, np.random.rand(32, 1).astype("float32")
    model.fit(x, y, epochs=1, verbose=0)
    bn.trainable = False
    stats = [bn.moving_mean.numpy(), bn.moving_variance.numpy(), bn.gamma.numpy(), bn.beta.numpy()]
    model.fit(x, y, epochs=2, verbose=0)
    for before, after in zip(stats, [bn.moving_mean, bn.moving_variance, bn.gamma, bn.beta]):
        np.testing.assert_array_equal(before, after.numpy())
    h = torch.randn(8, 3)
    ctx = bn.live_context(training=True)
    ref = (h - bn.moving_mean.value) / torch.sqrt(bn.moving_variance.value + 1e-3) * bn.gamma.value + bn.beta.value
    torch.testing.assert_close(bn.call(h, ctx), ref.detach())
    assert ctx.updates == {}


def test_eager_training_calls_draw_fresh_masks_and_follow_the_global_seed():
    x = np.ones((4, 50), dtype="float32")
    drop = Dropout(0.5)
    a, b = drop(x, training=True), drop(x, training=True)
    assert not torch.equal(a, b)
    model = Sequential([Input((50,)), Dropout(0.5)])
    assert not torch.equal(model(x, training=True), model(x, training=True))
    regulab.set_random_seed(3)
    first = model(x, training=True)
    regulab.set_random_seed(3)
    torch.testing.assert_close(model(x, training=True), first, rtol=0, atol=0)
    torch.testing.assert_close(model(x), torch.as_tensor(x))


def test_two_dropout_layers_never_share_a_stream():
    x = np.ones((1, 1000), dtype="float32")
    model = Sequential([Input((1000,)), Dropout(0.5), Dropout(0.5)])
    streams = model.layer_streams()
    assert streams[model.layers[0]] != streams[model.layers[1]]
    # one layer used twice in a model draws two different masks in one pass
    drop = Dropout(0.5)
    x1 = Input((1000,))
    twice = Model(x1, [drop(x1), drop(x1)])
    first, second = twice(x, training=True)
    assert not torch.equal(first != 0, second != 0)


def test_a_missing_variable_is_an_error_not_the_live_value():
    dense = Dense(2)
    dense(np.zeros((1, 3)))
    with pytest.raises(MissingVariableError, match=re.escape(
            f"Layer '{dense.name}' asked for its variable '{dense.name}/bias', which the state of this call does "
            "not hold (it holds 0 variables).")):
        dense.call(torch.zeros(1, 3), CallContext({}, {}))


def test_an_interrupted_fit_variants_leaves_the_optimizers_as_they_were(monkeypatch):
    from regulab.training import _stacked as _loop  # where the stacked engine makes its epoch logs

    x, y = linear_data(64, 4)
    models = []
    for s in range(3):
        regulab.set_random_seed(s)
        m = Sequential([Input((4,)), Dense(4, activation="relu"), Dense(1, activation="sigmoid")])
        m.compile("adam", "binary_crossentropy")
        models.append(m)
    calls = []
    real = _loop.epoch_logs

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) > 3:  # during the second epoch
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_loop, "epoch_logs", flaky)
    with pytest.raises(KeyboardInterrupt):
        regulab.lab.fit_variants(models, x, y, seeds=[0, 1, 2], epochs=3)
    monkeypatch.setattr(_loop, "epoch_logs", real)
    for m in models:
        assert m.optimizer.slots == {} and m.optimizer.iterations == 0
    models[0].fit(x, y, epochs=1, verbose=0)
    assert models[0].optimizer.iterations == 2


def test_jit_compile_true_says_why_it_runs_eagerly():
    x, y = linear_data(64, 4)
    model = Sequential([Input((4,)), Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", jit_compile=True)

    def batches():
        for i in range(0, 64, 16):
            yield x[i:i + 16], y[i:i + 16].astype(int).ravel()

    with pytest.warns(RuntimeWarning, match=re.escape(
            f"jit_compile=True: model '{model.name}' trains eagerly because compiling needs fixed-size batches "
            "from arrays.")):
        h = model.fit(batches(), epochs=1, verbose=0, steps_per_epoch=4)
    assert h.params["engine"].startswith("eager (compiling needs")


@pytest.mark.parametrize("how", ["mixup", "cutmix"])
def test_compiled_mixing_equals_eager(how):
    # the mixing draws are made outside the compiled graph, for each call's steps at once: drawn
    # inside, their hashing kept Inductor compiling for minutes
    x, y = linear_data(64, 6)

    def run(jit):
        regulab.set_random_seed(0)
        model = Sequential([Input((6,)), Dense(4, activation="relu"), Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", jit_compile=jit, steps_per_execution=2 if jit else 1)
        h = model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=3, **{how: 0.4})
        return model, h

    eager, h_e = run(False)
    compiled, h_c = run(True)
    assert h_c.params["engine"] == "compiled"
    np.testing.assert_allclose(h_e.history["loss"], h_c.history["loss"], rtol=1e-5)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_model_modules_import_without_a_cycle():
    # the module-level imports among regulab.models form no cycle, and loading finds classes
    # through the registry: _saving imports neither Sequential nor Functional
    import ast
    import pathlib

    folder = pathlib.Path(regulab.models.__file__).parent
    graph = {}
    for path in folder.glob("_*.py"):
        tree = ast.parse(path.read_text())
        graph[path.stem] = {node.module.rsplit(".", 1)[-1] for node in tree.body
                            if isinstance(node, ast.ImportFrom) and node.module
                            and node.module.startswith("regulab.models.")}
    assert not graph["_saving"] & {"_sequential", "_functional", "_model"}

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in graph.get(start, ()))

    assert [m for m in graph if reaches(m, m)] == []


def test_fit_before_compile_is_a_value_error():
    model = Sequential([Input((3,)), Dense(1)], name="raw")
    with pytest.raises(ValueError, match=re.escape(
            "You must call `compile(optimizer, loss, metrics)` on model 'raw' before `fit`.")):
        model.fit(np.zeros((4, 3)), np.zeros(4), verbose=0)


def test_learning_rate_zero_trains_nothing():
    x, y = linear_data(32, 4)
    model = Sequential([Input((4,)), Dense(1)])
    model.compile(regulab.optimizers.SGD(learning_rate=0.0), "mse")
    before = model.get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
