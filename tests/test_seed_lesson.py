"""The lesson's exercises and examples, verbatim, with `tensorflow.keras`/`tf.keras` replaced by
`regulab`, run on the lesson's task."""
import textwrap

import numpy as np
import pytest

import regulab


def as_regulab(code: str) -> str:
    code = textwrap.dedent(code)
    return (code.replace("import tensorflow as tf", "import regulab")
                .replace("tensorflow.keras", "regulab").replace("tf.keras", "regulab"))


@pytest.fixture
def namespace():
    task = regulab.datasets.seed_task()
    regulab.set_random_seed(0)
    return {"X_train": task.x_train, "y_train": task.y_train, "task": task}


EXERCISE_1 = """
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
# Define the model
model = Sequential([
    Dense(64, input_dim=100, activation='relu', kernel_regularizer=tf.keras.regularizers.l2(0.01)),
    Dense(1, activation='sigmoid')
])
# Compile the model
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
# Summary of the model
model.summary()
"""

EXERCISE_2 = """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
from tensorflow.keras.layers import Dropout
# Define the model
model = Sequential([
    Dense(64, input_dim=100, activation='relu'),
    Dropout(0.5),
    Dense(1, activation='sigmoid')
])
# Compile the model
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
# Summary of the model
model.summary()
"""

EXERCISE_3 = """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
from tensorflow.keras.callbacks import EarlyStopping
# Define the model
model = Sequential([
    Dense(64, input_dim=100, activation='relu'),
    Dense(1, activation='sigmoid')
])
# Compile the model
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
# Define early stopping
early_stopping = EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True)
# Train the model with early stopping
model.fit(X_train, y_train, validation_split=0.2, epochs=100, callbacks=[early_stopping])
"""

EXAMPLE_BATCHNORM = """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
from tensorflow.keras.layers import BatchNormalization
model = Sequential([
    Dense(64, input_dim=100, activation='relu'),
    BatchNormalization(),
    Dense(1, activation='sigmoid')
])
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
"""


def test_exercise_1_l2(namespace, capsys):
    exec(as_regulab(EXERCISE_1), namespace)
    out = capsys.readouterr().out
    assert "Total params: 6,529" in out
    model = namespace["model"]
    kernel = model.layers[0].kernel.value
    assert float(model.losses[0]) == pytest.approx(0.01 * float((kernel ** 2).sum()), rel=1e-6)
    h = model.fit(namespace["X_train"], namespace["y_train"], epochs=3, verbose=0)
    assert h.history["loss"][-1] > h.history["data_loss"][-1]  # the penalty is in the reported loss


def test_exercise_2_dropout(namespace, capsys):
    exec(as_regulab(EXERCISE_2), namespace)
    assert "Total params: 6,529" in capsys.readouterr().out
    model = namespace["model"]
    x = namespace["X_train"][:8]
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))  # inference: no dropout


def test_exercise_3_early_stopping(namespace, capsys):
    exec(as_regulab(EXERCISE_3), namespace)
    es, model = namespace["early_stopping"], namespace["model"]
    hist = model.history.history
    assert 0 < es.stopped_epoch < 99  # the lesson's model overfits this task and stops early
    best = int(np.argmin(hist["val_loss"]))
    assert len(hist["val_loss"]) == best + 1 + 5  # patience 5 after the best epoch
    out = capsys.readouterr().out
    assert "held out for validation (stratified by class" in out


def test_example_batchnorm(namespace):
    exec(as_regulab(EXAMPLE_BATCHNORM), namespace)
    model = namespace["model"]
    assert model.count_params() == 6785
    assert sum(v.value.numel() for v in model.non_trainable_weights) == 128
    h = model.fit(namespace["X_train"], namespace["y_train"], epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()
