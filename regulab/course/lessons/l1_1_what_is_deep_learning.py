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
# # 1.1 What is deep learning? A network learns what a linear model cannot
#
# **Machine learning** fits a function to examples: given inputs and the answers we want, it
# adjusts the numbers inside a model until the model's answers match. **Deep learning** is
# machine learning with models built from **layers**: each layer takes the previous layer's
# output, mixes it with a weighted sum and bends it with a non-linear function. Stacking layers
# lets the model build its own features out of simpler ones, instead of relying on features a
# person designed.
#
# The smallest way to see why the layers matter is to compare a **linear model** with a network
# that has one hidden layer. A linear classifier (logistic regression) computes
# $\sigma(w \cdot x + b)$: whatever it learns, its decision boundary, the line where
# $w \cdot x + b = 0$, is straight. Two problems whose classes no straight line can separate:
#
# - **XOR**: four points, $(0,0)$ and $(1,1)$ in one class, $(0,1)$ and $(1,0)$ in the other;
# - **two moons**: two interleaving half circles with noise (scikit-learn's `make_moons`).

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

import regulab
from regulab import course
from regulab.layers import Dense
from regulab.models import Sequential
from regulab.optimizers import Adam

QUICK = course.quick()
XOR_EPOCHS = 100 if QUICK else 300
MOONS_EPOCHS = 120 if QUICK else 250
regulab.set_random_seed(0)

X_xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
y_xor = np.array([0, 1, 1, 0], dtype=np.float32)

x, y = make_moons(n_samples=600, noise=0.2, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(x.astype(np.float32), y.astype(np.float32),
                                                    test_size=0.25, random_state=0, stratify=y)
print("moons:", X_train.shape, "training points,", X_test.shape, "held-out points")

# %% [markdown]
# ## Two models
#
# The linear model is a single `Dense(1, activation="sigmoid")` layer: one weighted sum, one
# sigmoid. That *is* logistic regression. The network adds two hidden layers of 16 units with a
# `tanh` non-linearity; its last layer is the same sigmoid unit, now reading features the hidden
# layers compute instead of the raw coordinates.

# %%
def linear_model():
    model = Sequential([Dense(1, input_dim=2, activation="sigmoid")])
    model.compile(optimizer=Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def network():
    model = Sequential([
        Dense(16, input_dim=2, activation="tanh"),
        Dense(16, activation="tanh"),
        Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    return model


network().summary()

# %% [markdown]
# ## XOR
#
# The four points are the whole data set, so we train on them and measure on them. A straight
# line can put at most three of the four on the right side: the linear model's accuracy can
# never exceed 75%, however long it trains.

# %%
models = {}
for name, build in (("linear", linear_model), ("network", network)):
    model = build()
    model.fit(X_xor, y_xor, epochs=XOR_EPOCHS, batch_size=4, verbose=0, seed=0)
    models["xor", name] = model
    accuracy = model.evaluate(X_xor, y_xor, verbose=0, return_dict=True)["accuracy"]
    course.result(f"XOR: {name} model accuracy", accuracy)

# %% [markdown]
# ## Two moons
#
# Here we train on 450 points and measure on 150 the models never saw: **held-out accuracy** is
# the figure that says whether a model learned the pattern rather than the particular points.
# The batch is the whole training set, so each epoch is one step of gradient descent.

# %%
for name, build in (("linear", linear_model), ("network", network)):
    model = build()
    model.fit(X_train, y_train, epochs=MOONS_EPOCHS, batch_size=len(X_train), verbose=0, seed=0)
    models["moons", name] = model
    accuracy = model.evaluate(X_test, y_test, verbose=0, return_dict=True)["accuracy"]
    course.result(f"moons: {name} model held-out accuracy", accuracy)

# %% [markdown]
# ## Decision boundaries
#
# To see what each model learned we ask it for a prediction at every point of a grid and colour
# the plane by the answer. The linear model can only cut the plane in two with a straight line;
# the network bends its boundary around the data.

# %%
def boundary(ax, model, x, y, title):
    lo, hi = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
    grid = np.c_[g0.ravel(), g1.ravel()].astype(np.float32)
    p = model.predict(grid, verbose=0).reshape(g0.shape)
    ax.contourf(g0, g1, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(g0, g1, p, levels=[0.5], colors="k", linewidths=1)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=40 if len(x) < 10 else 12)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


fig, axes = plt.subplots(2, 2, figsize=(8, 8))
for row, (task, xs, ys) in enumerate((("xor", X_xor, y_xor), ("moons", X_test, y_test))):
    for col, name in enumerate(("linear", "network")):
        boundary(axes[row, col], models[task, name], xs, ys, f"{task}: {name} model")
course.save_figure(fig, "decision_boundaries")

# %% [markdown]
# ## What to take away
#
# - A linear model draws one straight boundary. On XOR it is stuck at 75% or less; on the moons
#   it gets the easy points and misses every point inside the curves.
# - Adding a hidden layer with a non-linear activation lets the model compose bent boundaries:
#   100% on XOR and about 95% on the moons, close to what the noise in the data allows.
# - Without the non-linearity the hidden layers would collapse into a single linear map, and the
#   network would be no better than logistic regression.
# - Exercise 1.1.1 asks you to turn the linear model into a network that reaches 95% on the moons:
#   `regulab exercise start 1.1.1`.
