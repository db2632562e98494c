"""Repeatable by construction: split fits see the batches of one fit, and a seeded script run twice
in two processes ends with the same weights and history, bit for bit, eager and compiled."""
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import regulab
from regulab.layers import BatchNormalization, Dense, Dropout, GaussianNoise
from regulab.models import Sequential
from regulab.training._batches import epoch_permutation
from tests.helpers import linear_data

ROOT = Path(__file__).resolve().parents[2]


def _model(jit=False, k=1):
    regulab.set_random_seed(0)
    model = Sequential([GaussianNoise(0.1, input_shape=(20,)), Dense(16, activation="relu"), BatchNormalization(),
                        Dropout(0.3), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"], jit_compile=jit, steps_per_execution=k)
    return model


def test_each_epochs_order_is_a_function_of_seed_and_epoch():
    a, b = epoch_permutation(3, 5, 100), epoch_permutation(3, 5, 100)
    assert np.array_equal(a.numpy(), b.numpy()) and sorted(a.tolist()) == list(range(100))
    assert not np.array_equal(a.numpy(), epoch_permutation(3, 6, 100).numpy())
    assert not np.array_equal(a.numpy(), epoch_permutation(4, 5, 100).numpy())


def _small(jit):
    regulab.set_random_seed(0)
    model = Sequential([Dense(8, input_dim=20, activation="relu"), Dropout(0.3), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", jit_compile=jit, steps_per_execution=2)
    return model


@pytest.mark.parametrize("jit", [False, True])
def test_a_fit_split_with_initial_epoch_equals_the_whole_fit(jit):
    # eagerly with noise, batch norm, dropout and a validation split; compiled with a small model
    # (each compile costs seconds)
    x, y = linear_data(160, 20)
    build = _small if jit else _model
    fit = {} if jit else {"validation_split": 0.2}
    whole = build(jit)
    h = whole.fit(x, y, epochs=3, seed=5, verbose=0, **fit)
    split = build(jit)
    h1 = split.fit(x, y, epochs=1, seed=5, verbose=0, **fit)
    h2 = split.fit(x, y, epochs=3, initial_epoch=1, seed=5, verbose=0, **fit)
    for a, b in zip(whole.get_weights(), split.get_weights()):
        assert np.array_equal(a, b)
    assert h.history["loss"] == h1.history["loss"] + h2.history["loss"]
    if not jit:
        assert h.history["val_loss"] == h1.history["val_loss"] + h2.history["val_loss"]


def _readme_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


SCRIPT_TAIL = '''
import hashlib as _h, json as _j
_weights = _h.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
print("RESULT", _j.dumps({"weights": _weights, "history": history.history}))
'''


def _run(script: str, tmp_path: Path, name: str) -> dict:
    path = tmp_path / name
    path.write_text(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(li for li in out.stdout.splitlines() if li.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


@pytest.mark.parametrize("block", [0, 3], ids=["quick start", "functional API"])
def test_the_readmes_examples_repeat_in_two_processes(block, tmp_path):
    # the README's examples, as printed, with a line reporting the weights and history
    script = _readme_blocks()[block].replace("epochs=100", "epochs=8") + SCRIPT_TAIL
    first, second = _run(script, tmp_path, "a.py"), _run(script, tmp_path, "b.py")
    assert first == second
    assert first["history"]["loss"]


def test_a_compiled_seeded_script_repeats_in_two_processes(tmp_path):
    script = '''
import regulab
from regulab.layers import Dense, Dropout
from regulab.models import Sequential
from tests.helpers import linear_data
regulab.set_random_seed(7)
x, y = linear_data(160, 20)
model = Sequential([Dense(16, input_dim=20, activation="relu"), Dropout(0.3), Dense(1, activation="sigmoid")])
model.compile("adam", "binary_crossentropy", metrics=["accuracy"], jit_compile=True, steps_per_execution=2)
history = model.fit(x, y, epochs=2, verbose=0)
''' + SCRIPT_TAIL
    first, second = _run(script, tmp_path, "a.py"), _run(script, tmp_path, "b.py")
    assert first == second


MANY_LAYERS = '''
import os, numpy as np
import regulab
from regulab import callbacks, layers as L, regularizers
from regulab.models import Model
regulab.set_random_seed(11)
rng = np.random.default_rng(0)
images = rng.random((96, 8, 8, 1)).astype("float32")
seqs = rng.integers(1, 20, (96, 6))
y = (images.mean(axis=(1, 2, 3)) > 0.5).astype("float32")
img_in, seq_in = L.Input((8, 8, 1), name="image"), L.Input((6,), name="tokens", dtype="int32")
a = L.RandomFlip("horizontal")(img_in)
a = L.RandomRotation(0.1)(a)
a = L.Conv2D(4, 3, padding="same", activation="relu", kernel_regularizer=regularizers.l2(1e-3))(a)
a = L.BatchNormalization()(a)
a = L.SpatialDropout2D(0.2)(a)
a = L.MaxPooling2D()(a)
a = L.SeparableConv2D(4, 3, padding="same")(a)
a = L.GlobalAveragePooling2D()(a)
b = L.Embedding(20, 4, mask_zero=True)(seq_in)
b = L.LSTM(4, return_sequences=True, dropout=0.1)(b)
b = L.GRU(4, recurrent_dropout=0.1)(b)
h = L.concatenate([a, b])
h = L.GaussianNoise(0.1)(h)
h = L.Dense(8, activation="elu", kernel_regularizer=regularizers.l1(1e-3, proximal=True))(h)
h = L.AlphaDropout(0.1)(h)
h = L.GaussianDropout(0.1)(h)
h = L.LayerNormalization()(h)
h = L.Dropout(0.2)(h)
out = L.Dense(1, activation="sigmoid")(h)
model = Model([img_in, seq_in], out)
model.compile("adam", "binary_crossentropy", metrics=["accuracy", "auc"])
history = model.fit({"image": images, "tokens": seqs}, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0,
                    callbacks=[callbacks.EarlyStopping(patience=2, restore_best_weights=True),
                               callbacks.ReduceLROnPlateau(patience=1), callbacks.TerminateOnNaN(),
                               callbacks.LearningRateScheduler(lambda e, lr: lr * 0.9),
                               callbacks.CSVLogger("log.csv"), callbacks.ModelCheckpoint("best.keras", save_best_only=True)])
history.history["csv"] = [open("log.csv").read()]
'''


def test_a_seeded_script_with_every_kind_of_layer_and_callback_repeats(tmp_path):
    # convolutions, recurrent layers with masks and both dropouts, every dropout and noise layer,
    # augmentation layers, batch and layer norm, proximal L1, and the core callbacks
    first = _run(MANY_LAYERS + SCRIPT_TAIL, tmp_path, "a.py")
    second = _run(MANY_LAYERS + SCRIPT_TAIL, tmp_path, "b.py")
    assert first == second
    assert len(first["history"]["loss"]) >= 3
