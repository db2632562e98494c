"""Registered classes, custom_objects, load_weights by path, and the one atomic writer."""
import os
import re
import stat

import numpy as np
import pytest
import torch

import regulab
from regulab._atomic import atomic_save, atomic_write
from regulab.layers import Dense, Input, Layer
from regulab.models import Model, Sequential, load_model


@regulab.saving.register_serializable(package="tests")
class Scale(Layer):
    """A user's layer: multiplies by a learned scalar."""

    def __init__(self, init: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.init = init

    def build(self, input_shape):
        self.alpha = self.add_weight("alpha", (1,), initializer="ones")

    def call(self, x, ctx):
        return x * ctx[self.alpha] * self.init

    def get_config(self):
        return {**super().get_config(), "init": self.init}


class Unregistered(Scale):
    pass


@regulab.saving.register_serializable(package="tests")
class Residual(Model):
    """A user's subclassed model: x + dense(x)."""

    def __init__(self, units: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = Dense(units)

    def call(self, inputs, training=None):
        return inputs + self.dense(inputs)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_a_registered_layer_round_trips(tmp_path):
    model = Sequential([Input((3,)), Scale(3.0), Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.random.rand(16, 3), np.random.rand(16), epochs=1, verbose=0)
    model.save(tmp_path / "m.regulab")
    back = load_model(tmp_path / "m.regulab")
    assert isinstance(back.layers[0], Scale) and back.layers[0].init == 3.0
    x = np.random.rand(4, 3)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_an_unregistered_class_cannot_be_saved_and_custom_objects_load_it(tmp_path):
    model = Sequential([Input((3,)), Unregistered(name="mine")])
    with pytest.raises(ValueError, match=r"Cannot save 'mine': its class [\w.]*test_registry_and_weights\.Unregistered "
                                         r"is not registered\. Decorate it with @regulab\.saving\.register_serializable\(\)"):
        model.save(tmp_path / "m.regulab")


def test_load_model_names_the_unknown_class_and_custom_objects(tmp_path):
    model = Sequential([Input((3,)), Scale()])
    model.save(tmp_path / "m.regulab")
    registry = regulab.saving._REGISTERED
    saved = registry.pop("tests>Scale")
    try:
        with pytest.raises(ValueError, match=re.escape(
                "Unknown layer class 'tests>Scale': it is neither one of regulab's nor registered. Pass it to "
                "load_model(..., custom_objects={'Scale': TheClass})")):
            load_model(tmp_path / "m.regulab")
        back = load_model(tmp_path / "m.regulab", custom_objects={"Scale": Scale})
        assert isinstance(back.layers[0], Scale)
    finally:
        registry["tests>Scale"] = saved


def test_a_subclassed_model_round_trips(tmp_path):
    regulab.set_random_seed(0)
    model = Residual(units=3, name="res")
    x = np.random.rand(5, 3).astype("float32")
    model(x)  # built on its first call
    model.compile("adam", "mse")
    model.fit(x, x, epochs=1, verbose=0)
    model.save(tmp_path / "r.regulab")
    back = load_model(tmp_path / "r.regulab")
    assert isinstance(back, Residual) and back.units == 3
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


def _body(name="body"):
    x = Input((4,))
    return Model(x, Dense(3, name="hidden")(x), name=name)


def test_load_weights_matches_by_path_and_skips_mismatches_on_request(tmp_path):
    regulab.set_random_seed(0)
    body = _body()
    x = Input((4,))
    pretrained = Model(x, Dense(2, name="head")(body(x)))
    pretrained.save_weights(tmp_path / "w.safetensors")
    # a new model: the same body, a head with another number of units
    regulab.set_random_seed(1)
    body2 = _body()
    x2 = Input((4,))
    fresh = Model(x2, Dense(5, name="head")(body2(x2)), name="fresh")
    with pytest.raises(ValueError, match=re.escape(
            f"Cannot load weights from '{tmp_path / 'w.safetensors'}' into model 'fresh': weight 'head/kernel' has "
            "shape (3, 5) in the model but (3, 2) in the file. Pass skip_mismatch=True to skip weights whose shape "
            "differs.")):
        fresh.load_weights(tmp_path / "w.safetensors")
    head_before = fresh.get_layer("head").get_weights()
    body_before = body2.get_weights()
    fresh.load_weights(tmp_path / "w.safetensors", skip_mismatch=True)
    for a, b in zip(body2.get_weights(), body.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(fresh.get_layer("head").get_weights(), head_before):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(body_before, body.get_weights()))


def test_load_weights_checks_everything_before_changing_anything(tmp_path):
    model = Sequential([Input((4,)), Dense(3, name="a"), Dense(2, name="b")])
    model.save_weights(tmp_path / "w.safetensors")
    other = Sequential([Input((4,)), Dense(3, name="a"), Dense(1, name="b")])
    before = other.get_weights()
    with pytest.raises(ValueError, match="weight 'b/kernel' has shape"):
        other.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(before, other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_atomic_write_uses_the_umask_and_syncs(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.bin", b"hello")
    finally:
        os.umask(old)
    assert (tmp_path / "a.bin").read_bytes() == b"hello"
    assert stat.S_IMODE(os.stat(tmp_path / "a.bin").st_mode) == 0o644
    assert len(synced) == 2  # the file, then its directory
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_a_failing_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "m.bin"
    target.write_bytes(b"old")

    def broken(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)
    with pytest.raises(RuntimeError, match="saver failed"):
        atomic_save(target, lambda path: (open(path, "wb").write(b"x"), (_ for _ in ()).throw(RuntimeError("saver failed"))))
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["m.bin"]


def test_saved_models_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        Sequential([Input((2,)), Dense(1)]).save(tmp_path / "m.regulab")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.regulab").st_mode) == 0o644


def test_a_killed_save_never_leaves_a_half_file(tmp_path):
    # a real process killed while writing: the target is either absent or the complete old file
    import subprocess
    import sys
    import textwrap

    target = tmp_path / "big.bin"
    target.write_bytes(b"old")
    script = textwrap.dedent(f"""
        import os, time
        from regulab._atomic import atomic_write
        def slow(f):
            f.write(b"x" * 1000)
            f.flush()
            print("writing", flush=True)
            time.sleep(30)
        atomic_write({str(target)!r}, slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=os.getcwd())
    assert proc.stdout.readline().strip() == b"writing"
    proc.kill()
    proc.wait()
    assert target.read_bytes() == b"old"


def test_torch_is_never_asked_to_unpickle(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("torch.load was called")

    monkeypatch.setattr(torch, "load", refuse)
    model = Sequential([Input((2,)), Dense(1)])
    model.compile("adam", "mse")
    model.save(tmp_path / "m.regulab")
    load_model(tmp_path / "m.regulab")


def test_load_weights_refuses_a_file_with_weights_the_model_lacks(tmp_path):
    big = Sequential([Input((4,)), Dense(4, name="a"), Dense(4, name="b"), Dense(1, name="c")])
    big.save_weights(tmp_path / "w.safetensors")
    small = Sequential([Input((4,)), Dense(4, name="a"), Dense(4, name="b")])
    with pytest.raises(ValueError, match=re.escape("the file has weights the model lacks: ['c/bias', 'c/kernel']. "
                                                   "Pass skip_mismatch=True to load the others.")):
        small.load_weights(tmp_path / "w.safetensors")
    small.load_weights(tmp_path / "w.safetensors", skip_mismatch=True)
    np.testing.assert_array_equal(small.get_layer("a").kernel.numpy(), big.get_layer("a").kernel.numpy())


def test_optimizer_state_round_trips_under_shifted_automatic_names(tmp_path):
    # the saved paths are structural; a model rebuilt in a process that numbered layers
    # differently keeps every weight's own moments
    Dense(1)
    model = Sequential([Input((4,)), Dense(4), Dense(4), Dense(4)])
    model.compile("adam", "mse")
    x = np.random.rand(32, 4).astype("float32")
    model.fit(x, x, epochs=2, verbose=0)
    model.save(tmp_path / "m.regulab")
    for _ in range(3):
        Dense(1)  # shift the numbering
    back = load_model(tmp_path / "m.regulab")
    for a, b in zip(model.trainable_weights, back.trainable_weights):
        for slot in ("m", "v"):
            torch.testing.assert_close(back.optimizer.slots[b][slot], model.optimizer.slots[a][slot], rtol=0, atol=0)


def test_a_subclass_built_from_inputs_and_outputs(tmp_path):
    # keras-io's "customizing fit()": CustomModel(inputs, outputs) with its own train_step
    class Custom(Model):
        def train_step(self, data):
            logs = super().train_step(data)
            logs["extra"] = 1.0
            return logs

    x = Input((3,))
    model = Custom(x, Dense(1)(x))
    assert isinstance(model, Custom) and model.output_names
    model.compile("sgd", "mse")
    h = model.fit(np.random.rand(16, 3), np.random.rand(16, 1), epochs=1, verbose=0)
    assert h.history["extra"] == [1.0]
    again = Model.from_config(model.get_config())
    assert again.count_params() == model.count_params()


def test_several_inputs_must_have_one_row_per_sample():
    a, b = Input((3,), name="a"), Input((4,), name="b")
    from regulab.layers import concatenate

    model = Model([a, b], Dense(2)(concatenate([a, b])))
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=re.escape(
            "Data cardinality is ambiguous: x['a'] has 7 samples, x['b'] has 10 samples. Make sure all arrays "
            "contain the same number of samples.")):
        model.fit([np.ones((7, 3)), np.ones((10, 4))], np.ones((7, 2)), verbose=0)
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        model.predict([np.ones((7, 3)), np.ones((10, 4))], verbose=0)
