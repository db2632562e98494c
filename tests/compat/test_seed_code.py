"""The lesson's five examples and three exercises run through `regulab run` exactly as printed.

The lesson prints each snippet with its line breaks folded into spaces. Each snippet is kept here
twice: as printed, and with the line breaks put back (nothing else changed); a test checks that the
two are the same text. The scripts start with one line defining the data the lesson assumes
(`X_train`, `y_train`); the snippets follow in the lesson's order, since later ones use names the
earlier ones import (`Sequential`, `Dense`, `model`). The image example runs in a script of its own,
because its `X_train` is a set of images.
"""
import subprocess
import sys

import pytest

PRINTED = {
    "l2": "import tensorflow as tf from tensorflow.keras.models import Sequential from tensorflow.keras.layers import Dense model = Sequential([ Dense(64, input_dim=100, activation='relu', kernel_regularizer=tf.keras.regularizers.l2(0.01)), Dense(1, activation='sigmoid') ]) model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])",  # noqa: E501
    "dropout": "from tensorflow.keras.layers import Dropout model = Sequential([ Dense(64, input_dim=100, activation='relu'), Dropout(0.5), Dense(1, activation='sigmoid') ]) model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])",  # noqa: E501
    "augmentation": "from tensorflow.keras.preprocessing.image import ImageDataGenerator datagen = ImageDataGenerator( rotation_range=20, width_shift_range=0.2, height_shift_range=0.2, shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode='nearest' ) # Assuming X_train is your training data datagen.fit(X_train)",  # noqa: E501
    "early_stopping": "from tensorflow.keras.callbacks import EarlyStopping early_stopping = EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True) model.fit(X_train, y_train, validation_split=0.2, epochs=100, callbacks=[early_stopping])",  # noqa: E501
    "batch_norm": "from tensorflow.keras.layers import BatchNormalization model = Sequential([ Dense(64, input_dim=100, activation='relu'), BatchNormalization(), Dense(1, activation='sigmoid') ]) model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])",  # noqa: E501
    "exercise_1": "import tensorflow as tf from tensorflow.keras.models import Sequential from tensorflow.keras.layers import Dense # Define the model model = Sequential([ Dense(64, input_dim=100, activation='relu', kernel_regularizer=tf.keras.regularizers.l2(0.01)), Dense(1, activation='sigmoid') ]) # Compile the model model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy']) # Summary of the model model.summary()",  # noqa: E501
    "exercise_2": "from tensorflow.keras.layers import Dropout # Define the model model = Sequential([ Dense(64, input_dim=100, activation='relu'), Dropout(0.5), Dense(1, activation='sigmoid') ]) # Compile the model model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy']) # Summary of the model model.summary()",  # noqa: E501
    "exercise_3": "from tensorflow.keras.callbacks import EarlyStopping # Define the model model = Sequential([ Dense(64, input_dim=100, activation='relu'), Dense(1, activation='sigmoid') ]) # Compile the model model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy']) # Define early stopping early_stopping = EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True) # Train the model with early stopping model.fit(X_train, y_train, validation_split=0.2, epochs=100, callbacks=[early_stopping])",  # noqa: E501
}

WITH_LINE_BREAKS = {
    "l2": """\
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
model = Sequential([
    Dense(64, input_dim=100, activation='relu', kernel_regularizer=tf.keras.regularizers.l2(0.01)),
    Dense(1, activation='sigmoid')
])
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
""",
    "dropout": """\
from tensorflow.keras.layers import Dropout
model = Sequential([
    Dense(64, input_dim=100, activation='relu'),
    Dropout(0.5),
    Dense(1, activation='sigmoid')
])
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
""",
    "augmentation": """\
from tensorflow.keras.preprocessing.image import ImageDataGenerator
datagen = ImageDataGenerator(
    rotation_range=20,
    width_shift_range=0.2,
    height_shift_range=0.2,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
    fill_mode='nearest'
)
# Assuming X_train is your training data
datagen.fit(X_train)
""",
    "early_stopping": """\
from tensorflow.keras.callbacks import EarlyStopping
early_stopping = EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True)
model.fit(X_train, y_train, validation_split=0.2, epochs=100, callbacks=[early_stopping])
""",
    "batch_norm": """\
from tensorflow.keras.layers import BatchNormalization
model = Sequential([
    Dense(64, input_dim=100, activation='relu'),
    BatchNormalization(),
    Dense(1, activation='sigmoid')
])
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
""",
    "exercise_1": """\
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
""",
    "exercise_2": """\
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
""",
    "exercise_3": """\
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
""",
}

TABULAR_DATA = ("from regulab.datasets import seed_task; _task = seed_task(); "
                "X_train, y_train = _task.x_train, _task.y_train\n")
IMAGE_DATA = "from regulab.datasets import load_digits; X_train, y_train = load_digits()\n"

SCRIPTS = {
    "examples": (TABULAR_DATA, ["l2", "dropout", "early_stopping", "batch_norm"]),
    "image_example": (IMAGE_DATA, ["augmentation"]),
    "exercises": (TABULAR_DATA, ["exercise_1", "exercise_2", "exercise_3"]),
}


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_kept_text_is_the_lesson_text(name):
    assert " ".join(WITH_LINE_BREAKS[name].split()) == PRINTED[name]


def _run(tmp_path, name):
    data, snippets = SCRIPTS[name]
    script = tmp_path / f"{name}.py"
    checks = {
        "examples": "print('final model:', [type(l).__name__ for l in model.layers], "
                    "'early stopping epoch:', early_stopping.stopped_epoch)\n",
        "image_example": "batch, _ = next(datagen.flow(X_train, y_train, batch_size=8)); "
                         "print('augmented batch:', tuple(batch.shape))\n",
        "exercises": "print('epochs run:', len(model.history.history['loss']))\n",
    }
    script.write_text(data + "".join(WITH_LINE_BREAKS[s] for s in snippets) + checks[name])
    return subprocess.run([sys.executable, "-m", "regulab.cli", "run", str(script)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def test_examples_run_as_printed(tmp_path):
    done = _run(tmp_path, "examples")
    assert done.returncode == 0, done.stderr
    assert "final model: ['Dense', 'BatchNormalization', 'Dense']" in done.stdout
    stopped = int(done.stdout.split("early stopping epoch:")[1].split()[0])
    assert 0 < stopped < 99  # the dropout model's fit was stopped early


def test_image_example_runs_as_printed(tmp_path):
    done = _run(tmp_path, "image_example")
    assert done.returncode == 0, done.stderr
    assert "augmented batch: (8, 8, 8, 1)" in done.stdout


def test_exercises_run_as_printed(tmp_path):
    done = _run(tmp_path, "exercises")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Total params: 6,529") == 2  # the summaries of exercises 1 and 2
    ran = int(done.stdout.split("epochs run:")[1].split()[0])
    assert ran < 100
