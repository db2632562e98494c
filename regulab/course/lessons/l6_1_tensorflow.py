# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6.1 Introduction to TensorFlow: its spelling on regulab
#
# **TensorFlow** is Google's deep learning framework, and **Keras** is its high-level API:
# `tf.keras.Sequential`, `tf.keras.layers.Dense`, `model.compile`, `model.fit`. Most tutorials and
# books (this course's exercises included) are written in that spelling. Keras 3 also runs on
# other engines (JAX, PyTorch) under the plain name `keras`.
#
# regulab implements the Keras API on PyTorch. It does not install TensorFlow; instead it can
# answer `import tensorflow` and `import keras` with its own modules, so that code written for
# TensorFlow's Keras runs unchanged. This lesson shows how that mapping works, what it does when
# a name is missing, and how to run a whole TensorFlow script with `regulab run`.

# %%
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import regulab
from regulab import compat, course

QUICK = course.quick()
print("regulab", regulab.__version__, "| aliases installed:", compat.installed())

# %% [markdown]
# ## `import tensorflow as tf`, answered by regulab
#
# `compat.aliased()` installs the aliases for the length of a `with` block. Inside it,
# `tensorflow`, `tensorflow.keras` and `keras` resolve to regulab, and the names you get are
# regulab's own classes. Outside it, nothing is aliased: a plain `import regulab` never touches
# `import tensorflow`.

# %%
with compat.aliased():
    import tensorflow as tf
    from tensorflow.keras.layers import Dense

    print("tf.keras.layers.Dense is", tf.keras.layers.Dense)
    print("the same class as regulab.layers.Dense:", tf.keras.layers.Dense is regulab.layers.Dense, Dense is
          regulab.layers.Dense)
    l2 = tf.keras.regularizers.l2
    print("tf.keras.regularizers.l2 is", f"{l2.__module__}.{l2.__name__}")
    print("tf.random.set_seed is regulab.set_random_seed:", tf.random.set_seed is regulab.set_random_seed)
course.result("aliases installed after the with block", compat.installed())

# %% [markdown]
# The mapping is one to one for the names regulab has:
#
# | TensorFlow / Keras 3 | regulab |
# |---|---|
# | `tf.keras.models`, `keras.models` | `regulab.models` |
# | `tf.keras.layers`, `keras.layers` | `regulab.layers` |
# | `tf.keras.regularizers`, `.optimizers`, `.losses`, `.metrics`, `.callbacks` | the regulab modules of the same names |
# | `tf.keras.preprocessing.image.ImageDataGenerator` | `regulab.preprocessing.image.ImageDataGenerator` |
# | `tf.random.set_seed`, `tf.keras.utils.set_random_seed` | `regulab.set_random_seed` |
#
# ## A Keras program, unchanged
#
# Here is ordinary TensorFlow code: a small network for the 8x8 digits of scikit-learn, built,
# compiled and trained with `tf.keras`. In a notebook, `compat.install()` installs the aliases
# for the rest of the session (and `compat.uninstall()` removes them).

# %%
compat.install()
import tensorflow as tf  # noqa: E402 - after install(), on purpose
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

tf.keras.utils.set_random_seed(0)
digits = load_digits()
x = (digits.images / 16.0).astype("float32")
x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, stratify=digits.target,
                                                    random_state=0)
model = tf.keras.Sequential([
    tf.keras.layers.Input((8, 8)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(64, activation="relu", kernel_regularizer=tf.keras.regularizers.l2(1e-4)),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=5 if QUICK else 30, batch_size=32, validation_split=0.2, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
course.result("tf.keras digits model: held-out accuracy", accuracy)
print("its class:", type(model).__module__ + "." + type(model).__name__)
compat.uninstall()

# %%
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(history.history["accuracy"], label="training")
ax.plot(history.history["val_accuracy"], label="validation")
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy")
ax.set_title("a tf.keras program trained by regulab")
ax.legend()
course.save_figure(fig, "tf_keras_history")

# %% [markdown]
# ## What a missing name says
#
# regulab does not have all of TensorFlow: no `tf.constant`, no `tf.GradientTape`, no `tf.data`
# pipelines, not every layer. A missing name fails at once, where it is used, with an error that
# names it as the script spelled it and, where there is one, says what to use instead. A name
# that is missing is never replaced by a half-working stand-in.

# %%
attempts = {
    "tf.data.Dataset": lambda tf: tf.data.Dataset,
    "tf.function": lambda tf: tf.function,
    "tf.keras.layers.MultiHeadAttention": lambda tf: tf.keras.layers.MultiHeadAttention,
    "tf.keras.optimizers.Nadam": lambda tf: tf.keras.optimizers.Nadam,
}
with compat.aliased():
    import tensorflow as tf

    for spelled, use in attempts.items():
        try:
            use(tf)
        except compat.NotInRegulabError as error:
            message = str(error)
            print(f"{spelled}:\n    {message[:160]}{' ...' if len(message) > 160 else ''}")
    try:
        from tensorflow.keras.datasets import mnist  # noqa: F401
    except ImportError as error:  # an import statement raises an ImportError with the same message
        print(f"from tensorflow.keras.datasets import mnist:\n    {error}")
        course.result("error raised by a missing import", type(error).__name__)

# %% [markdown]
# ## `regulab run script.py`
#
# For a whole script there is a command: `regulab run script.py` runs it as `python script.py`
# would, with the aliases installed. Here we write a small TensorFlow script to this lesson's
# output folder and run it. A second script uses a name regulab lacks: `regulab run` stops it
# and reports the line, with exit status 1.
#
# Starting a new Python process takes a few seconds (PyTorch has to load), so the quick run of
# this lesson runs the scripts in this process instead, exactly as `regulab run` would.

# %%
folder = course.output_dir()
script = folder / "train_digits.py"
script.write_text('''\
import tensorflow as tf
from sklearn.datasets import load_digits

tf.random.set_seed(0)
digits = load_digits()
model = tf.keras.Sequential([tf.keras.layers.Input((64,)),
                             tf.keras.layers.Dense(32, activation="relu"),
                             tf.keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(digits.data / 16.0, digits.target, epochs=5, verbose=0)
print(f"trained by {type(model).__module__.split('.')[0]}: accuracy {history.history['accuracy'][-1]:.3f}")
''')
broken = folder / "uses_tf_data.py"
broken.write_text('''\
import tensorflow as tf

print("building the input pipeline")
dataset = tf.data.Dataset.from_tensor_slices([1.0, 2.0, 3.0])
''')


def regulab_command():
    """The `regulab` command of this Python environment."""
    found = Path(sys.executable).with_name("regulab")
    if found.exists():
        return [str(found)]
    if shutil.which("regulab"):
        return [shutil.which("regulab")]
    return [sys.executable, "-m", "regulab.cli"]


def run_script(path):
    """Run `regulab run path`; returns (exit status, output)."""
    if QUICK:  # the same as `regulab run`, in this process
        import contextlib
        import io
        import runpy
        import traceback

        out = io.StringIO()
        status = 0
        with contextlib.redirect_stdout(out), compat.aliased():
            try:
                runpy.run_path(str(path), run_name="__main__")
            except (compat.NotInRegulabError, compat.NotInRegulabImportError) as error:
                line = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)][-1]
                out.write(f"regulab run: {path}, line {line}: {error}\n")
                status = 1
        return status, out.getvalue()
    done = subprocess.run([*regulab_command(), "run", str(path)], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1")))
    return done.returncode, done.stdout + done.stderr


for path in (script, broken):
    start = time.perf_counter()
    status, output = run_script(path)
    print(f"$ regulab run {path.name}   (exit status {status}, {time.perf_counter() - start:.1f} s)")
    print("    " + output.strip().replace("\n", "\n    "))
    course.result(f"regulab run {path.name}: exit status", status)

# %% [markdown]
# ## What to take away
#
# - Keras code in TensorFlow's spelling runs on regulab through `compat.aliased()` (a block),
#   `compat.install()` (a notebook session) or `regulab run script.py` (a whole script).
# - The aliases are regulab's own classes, so everything of regulab (its checks, its exact
#   semantics, its speed) applies to that code.
# - A name regulab lacks fails where it is used, naming it and suggesting what to use.
# - Exercise 6.1.1 gives you a TensorFlow script with a `tf.data` pipeline to port:
#   `regulab exercise start 6.1.1`.
