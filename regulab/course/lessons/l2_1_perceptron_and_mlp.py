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
# # 2.1 Perceptron and multilayer perceptron
#
# A **perceptron** (in the modern sense: one layer of neurons, straight from inputs to outputs)
# draws a single straight boundary. A **multilayer perceptron** (MLP) puts one or more hidden
# layers in between. How much a network can represent, its **capacity**, grows with the number
# of hidden units: with ReLU activations each hidden unit contributes one straight "fold", and
# the output unit combines the folds into a boundary made of straight pieces. One hidden layer
# that is wide enough can approximate any reasonable boundary (the *universal approximation
# theorem*); how wide is "wide enough" depends on the problem.
#
# We measure it: the same MLP with one hidden layer of 0 (a plain perceptron), 1, 2, 3, 4, 8, 16
# and 64 ReLU units, on two problems no line can solve, the moons and concentric circles.

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_circles, make_moons
from sklearn.model_selection import train_test_split

import regulab
from regulab import course, lab
from regulab.layers import Dense
from regulab.models import Sequential
from regulab.optimizers import Adam

QUICK = course.quick()
WIDTHS = [0, 2, 8] if QUICK else [0, 1, 2, 3, 4, 8, 16, 64]
EPOCHS = 80 if QUICK else 400
SEEDS = 1 if QUICK else 4
regulab.set_random_seed(0)


def split(x, y):
    x_train, x_test, y_train, y_test = train_test_split(x.astype(np.float32), y.astype(np.float32),
                                                        test_size=0.25, random_state=0, stratify=y)
    return x_train, y_train, x_test, y_test


problems = {
    "moons": split(*make_moons(n_samples=600, noise=0.2, random_state=0)),
    "circles": split(*make_circles(n_samples=600, noise=0.1, factor=0.5, random_state=0)),
}

# %% [markdown]
# ## One model per width, from several seeds
#
# Width 0 means no hidden layer at all: `Dense(1, activation="sigmoid")` on the two coordinates.
# Every model trains with full-batch Adam for the same number of steps. A tiny network's result
# depends on its random start (a ReLU unit can end up unused), so each width is trained from
# several seeds; `lab.fit_variants` trains the copies of one architecture together, as one
# stacked model, which costs little more than training one.

# %%
def mlp(width):
    hidden = [Dense(width, activation="relu")] if width else []
    model = Sequential([regulab.layers.Input((2,)), *hidden, Dense(1, activation="sigmoid")])
    model.compile(optimizer=Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    return model


scores, models = {}, {}
for name, (x_train, y_train, x_test, y_test) in problems.items():
    for width in WIDTHS:
        copies = []
        for seed in range(SEEDS):
            regulab.set_random_seed(seed)
            copies.append(mlp(width))
        lab.fit_variants(copies, x_train, y_train, seeds=list(range(SEEDS)), epochs=EPOCHS, batch_size=len(x_train))
        train = [m.evaluate(x_train, y_train, verbose=0, return_dict=True)["accuracy"] for m in copies]
        test = [m.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"] for m in copies]
        scores[name, width] = (np.mean(train), np.mean(test), np.max(test))
        models[name, width] = copies[int(np.argmax(train))]  # the seed that fit its training data best
        course.result(f"{name}: width {width} held-out accuracy, mean of {SEEDS} seeds", float(np.mean(test)))

# %% [markdown]
# ## Accuracy against width
#
# Width 0 is stuck at what a line can do: about 85% on the moons, and no better than chance on
# the circles, where any line leaves part of each ring on each side. The circles need at least
# three ReLU units, enough for a triangle around the inner ring; with three or four units some
# seeds find it and others get stuck with a unit that does nothing, which drags the mean down.
# On the moons, one to four units do no better than the perceptron, and sometimes worse: a relu
# unit that ends up inactive on every point outputs 0 and leaves the output unit with fewer
# inputs than the perceptron had. From eight units on, every seed succeeds, and on both problems
# more width adds little: the held-out accuracy is then limited by the noise in the data, not by
# the model.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, colour in (("moons", "tab:blue"), ("circles", "tab:orange")):
    ax.plot(range(len(WIDTHS)), [scores[name, w][1] for w in WIDTHS], "o-", color=colour, label=f"{name}, held out")
    ax.plot(range(len(WIDTHS)), [scores[name, w][0] for w in WIDTHS], ":", color=colour, label=f"{name}, training")
ax.set_xticks(range(len(WIDTHS)), [str(w) for w in WIDTHS])
ax.set_xlabel("hidden units (0 = perceptron, no hidden layer)")
ax.set_ylabel("accuracy")
ax.legend()
course.save_figure(fig, "accuracy_by_width")

# %% [markdown]
# ## What the extra units draw
#
# The circles' boundary at each width (from the seed that fit its training points best): one line
# for the perceptron, then polygons with more and more sides, approaching a circle.

# %%
x_train, y_train, x_test, y_test = problems["circles"]
g0, g1 = np.meshgrid(np.linspace(-1.6, 1.6, 120), np.linspace(-1.6, 1.6, 120))
grid = np.c_[g0.ravel(), g1.ravel()].astype(np.float32)
fig, axes = plt.subplots(1, len(WIDTHS), figsize=(2.2 * len(WIDTHS), 2.4))
for ax, width in zip(axes, WIDTHS):
    p = models["circles", width].predict(grid, verbose=0).reshape(g0.shape)
    ax.contourf(g0, g1, p, levels=[0, 0.5, 1], colors=["#c6dbef", "#fcbba1"])
    ax.scatter(x_test[:, 0], x_test[:, 1], c=y_test, cmap="coolwarm", s=6)
    accuracy = models["circles", width].evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    ax.set_title(f"width {width}: {accuracy:.0%} held out", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
course.save_figure(fig, "circles_boundaries")

# %% [markdown]
# ## What to take away
#
# - A perceptron is limited to a straight boundary, whatever it is trained on.
# - One hidden layer adds capacity in proportion to its width: each ReLU unit adds a fold.
#   Too narrow (here fewer than 3 units for the circles) underfits whatever the training.
# - Just enough width is fragile: an unlucky start leaves a unit unused. A little spare width
#   makes training reliable, which is one reason practical networks are wider than the minimum.
# - Exercise 2.1.1 asks you to find a small hidden layer that solves the circles:
#   `regulab exercise start 2.1.1`.
