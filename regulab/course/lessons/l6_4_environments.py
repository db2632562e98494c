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
# # 6.4 Development environments: notebooks, TensorBoard and repeatability
#
# Three tools shape day-to-day work on neural networks: a **notebook** to try things cell by
# cell, **TensorBoard** to watch and compare training runs, and **seeds** so that a result can
# be reproduced tomorrow, by you or by someone else. This lesson uses each of them.

# %%
import importlib.util
import os
import shutil

import matplotlib.pyplot as plt
import numpy as np

import regulab
from regulab import course
from regulab.callbacks import TensorBoard
from regulab.layers import Dense, Dropout, Flatten, Input
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 3 if QUICK else 20
(x_train, y_train), (x_test, y_test) = regulab.datasets.load_mnist1d()
if QUICK:
    x_train, y_train = x_train[:1000], y_train[:1000]

# %% [markdown]
# ## Notebooks
#
# A Jupyter notebook mixes text, code and its output in cells that you run one at a time, in
# any order, keeping every variable in memory between cells. That is ideal for exploring data
# and trying a model, and risky for results: a notebook whose cells were run out of order may
# not run from top to bottom. Before trusting a notebook's figures, restart the kernel and run
# all cells.
#
# Every lesson of this course is a notebook too. Its file is a Python script in which `# %%`
# starts a code cell and `# %% [markdown]` a text cell (the "percent" format of jupytext), so it
# runs as a script and opens as a notebook:
#
# ```
# regulab course notebook 6.4      # writes l6_4_environments.ipynb
# jupyter lab l6_4_environments.ipynb
# ```
#
# In a notebook, an exercise is checked on the notebook's own variables:
# `regulab.course.exercise("6.4.1").check(globals())`.

# %%
source = course.lesson("6.4").source()
code_cells, text_cells = source.count("\n# %%\n"), source.count("\n# %% [markdown]")
course.result("this lesson's notebook: code cells / text cells", f"{code_cells} / {text_cells}")
if importlib.util.find_spec("jupytext") is not None:
    import jupytext

    notebook = jupytext.reads(source, fmt="py:percent")
    course.result("cells jupytext reads from this file", len(notebook.cells))
else:
    print("jupytext is not installed (pip install jupytext), so `regulab course notebook` cannot write notebooks")

# %% [markdown]
# ## TensorBoard
#
# TensorBoard is a web page that draws the logs of training runs: loss and metric curves,
# histograms of the weights, the model's structure. A callback writes the logs while `fit` runs;
# `tensorboard --logdir logs` (or `%load_ext tensorboard` then `%tensorboard --logdir logs` in a
# notebook) serves the page. Give each run its own folder (`logs/plain`, `logs/dropout`) and
# TensorBoard overlays them, which makes comparing runs easy.
#
# The callback has Keras's name and arguments: training logs go to `log_dir/train`, validation
# logs to `log_dir/validation`, each named `epoch_loss`, `epoch_accuracy` and so on;
# `histogram_freq=1` adds a histogram of every weight after every epoch.

# %%
logs = course.output_dir() / "logs"
shutil.rmtree(logs, ignore_errors=True)   # a fresh folder: event files of an earlier run would be drawn too


def mlp(dropout):
    layers = [Input((40, 1)), Flatten(), Dense(128, activation="relu")]
    layers += [Dropout(dropout)] if dropout else []
    layers += [Dense(128, activation="relu"), Dense(10, activation="softmax")]
    model = Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


histories = {}
for run, dropout in (("plain", 0.0), ("dropout", 0.3)):
    regulab.set_random_seed(0)
    model = mlp(dropout)
    board = TensorBoard(log_dir=logs / run, histogram_freq=1)
    histories[run] = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, validation_split=0.2, verbose=0,
                               callbacks=[board], seed=0)
for folder, _, files in sorted(os.walk(logs)):
    if files:
        size = sum(os.path.getsize(os.path.join(folder, name)) for name in files)
        print(f"{os.path.relpath(folder, logs)}: {len(files)} event file, {size:,} bytes")

# %% [markdown]
# Those are ordinary event files. TensorBoard's own reader (`EventAccumulator`) reads them back,
# which is what the web page does; here we print what it finds and check it against the
# History that `fit` returned.

# %%
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

curves = {}
for run in histories:
    for part in ("train", "validation"):
        events = EventAccumulator(str(logs / run / part), size_guidance={"scalars": 0, "histograms": 0}).Reload()
        tags = events.Tags()
        if part == "train" and run == "plain":
            print("scalars:", tags["scalars"])
            print("histograms:", tags["histograms"])
        curves[run, part] = [e.value for e in events.Scalars("epoch_loss")]
for run, history in histories.items():
    logged = np.float32(history.history["val_loss"])
    course.result(f"{run}: validation losses in the event file equal History's", bool(
        np.array_equal(np.float32(curves[run, "validation"]), logged)))
    course.result(f"{run}: last validation loss", float(curves[run, "validation"][-1]))

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
for (run, part), values in curves.items():
    ax.plot(range(len(values)), values, linestyle="-" if part == "train" else "--",
            color="tab:blue" if run == "plain" else "tab:orange", label=f"{run}/{part}")
ax.set_xlabel("epoch (the step TensorBoard uses)")
ax.set_ylabel("epoch_loss")
ax.set_title("the event files, drawn as TensorBoard would")
ax.legend()
course.save_figure(fig, "tensorboard_curves")

# %% [markdown]
# ## Seeds and repeatability
#
# Training is full of random draws: the initial weights, the order of the batches, the dropout
# masks, the validation split. Run the same code twice and, without seeds, you get two different
# models, which makes it hard to tell whether a change helped or you were lucky.
#
# `regulab.set_random_seed(0)` at the top of a script (Keras's `keras.utils.set_random_seed`)
# fixes all of them, so a run repeats bit for bit on a CPU. `fit(seed=...)` alone fixes only
# the fit's own draws: the initial weights still come from PyTorch's random generator.
# We train the dropout model three ways, twice each, and compare the pairs' final weights.

# %%
def final_weights(set_seed, fit_seed):
    if set_seed:
        regulab.set_random_seed(0)
    model = mlp(0.3)
    model.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0, seed=fit_seed)
    return model.get_weights()


def same(first, second):
    return all(np.array_equal(a, b) for a, b in zip(first, second))


cases = {"set_random_seed(0) before each": (True, None), "fit(seed=0) only": (False, 0), "no seed": (False, None)}
for name, (set_seed, fit_seed) in cases.items():
    first, second = final_weights(set_seed, fit_seed), final_weights(set_seed, fit_seed)
    difference = max(float(np.abs(a - b).max()) for a, b in zip(first, second))
    course.result(f"{name}: two runs give identical weights", same(first, second))
    course.result(f"{name}: largest weight difference", difference)

# %% [markdown]
# Identical weights mean every figure computed from them (the loss, the accuracy, the plots)
# repeats too. Seeds make runs *repeatable*, not *representative*: one seed is one draw, so
# compare models over several seeds (lesson 5.4 does), never on a single lucky one.
#
# On a GPU a few operations are not deterministic by default (they add numbers in a varying
# order), so GPU runs may differ in the last digits even with seeds.
#
# ## What to take away
#
# - Every lesson is a notebook (`regulab course notebook ID`); restart and run all before
#   trusting a notebook's results.
# - `callbacks.TensorBoard(log_dir=...)` writes event files TensorBoard reads; one folder per run.
# - `regulab.set_random_seed(s)` at the top makes a run repeat exactly; compare over several seeds.
# - Exercise 6.4.1 asks you to make a training script repeatable: `regulab exercise start 6.4.1`.
