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
# # 1.4 Neurons and layers: a forward pass by hand
#
# An artificial **neuron** takes its inputs $x_1, \dots, x_n$, multiplies each by a **weight**,
# adds a **bias** and passes the sum through an **activation function** $f$:
#
# $$a = f(w_1 x_1 + \dots + w_n x_n + b) = f(w \cdot x + b).$$
#
# A **layer** is many neurons reading the same inputs. Put each neuron's weights in one column
# of a matrix $W$ (shape: inputs x neurons) and the biases in a vector $b$; then the whole layer,
# applied to a whole batch of samples at once (one sample per row of $X$), is one line:
#
# $$A = f(X W + b).$$
#
# That is exactly what Keras's (and regulab's) `Dense` layer computes. A network is layers in a
# row, each reading the previous one's output; computing the output from the input is the
# **forward pass**. This lesson does it by hand with NumPy and checks it against the library.

# %%
import matplotlib.pyplot as plt
import numpy as np

import regulab
from regulab import course
from regulab.datasets import load_breast_cancer
from regulab.layers import Dense
from regulab.models import Sequential

QUICK = course.quick()
regulab.set_random_seed(0)

# %% [markdown]
# ## A small network
#
# Four inputs, a hidden layer of 5 ReLU neurons, a second of 3 tanh neurons, and an output layer
# of 2 softmax neurons. Each `Dense` layer holds a kernel $W$ and a bias $b$.

# %%
model = Sequential([
    Dense(5, input_dim=4, activation="relu"),
    Dense(3, activation="tanh"),
    Dense(2, activation="softmax"),
])
model.summary()
for layer in model.layers:
    kernel, bias = layer.get_weights()
    print(f"{layer.name}: kernel {kernel.shape}, bias {bias.shape}")

# %% [markdown]
# ## The forward pass in NumPy
#
# Three activation functions and three lines of algebra. Softmax turns the last layer's scores
# into probabilities: $\mathrm{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}$ (subtracting the largest
# score first changes nothing mathematically and avoids overflowing `exp`).

# %%
def relu(z):
    return np.maximum(z, 0.0)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(x, weights):
    W1, b1, W2, b2, W3, b3 = weights
    h1 = relu(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    return softmax(h2 @ W3 + b3)


x = np.random.default_rng(0).normal(size=(1000, 4)).astype(np.float32)
by_hand = forward(x.astype(np.float64), [w.astype(np.float64) for w in model.get_weights()])
by_model = model.predict(x, verbose=0)
difference = float(np.abs(by_hand - by_model).max())
course.result("max |forward by hand - model.predict| (untrained)", difference)
assert difference < 1e-6

# %% [markdown]
# The largest difference over 1,000 samples is of the order of $10^{-7}$: float32 rounding. The
# library does nothing more than these three lines.
#
# ## After training it is still the same arithmetic
#
# Training changes the numbers in $W$ and $b$, not the computation. We train a network on the
# breast cancer table (30 features) and repeat the check with its trained weights.

# %%
features, labels = load_breast_cancer()
features = (features - features.mean(axis=0)) / features.std(axis=0)
trained = Sequential([Dense(8, input_dim=30, activation="relu"), Dense(1, activation="sigmoid")])
trained.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
trained.fit(features, labels, epochs=5 if QUICK else 30, batch_size=32, verbose=0, seed=0)
W1, b1, W2, b2 = [w.astype(np.float64) for w in trained.get_weights()]
hand = 1 / (1 + np.exp(-(relu(features @ W1 + b1) @ W2 + b2)))
course.result("max |forward by hand - model.predict| (trained)",
              float(np.abs(hand - trained.predict(features, verbose=0)).max()))

# %% [markdown]
# ## Counting parameters
#
# A `Dense` layer with $n_{in}$ inputs and $n_{out}$ neurons has $n_{in} \times n_{out}$ weights
# and $n_{out}$ biases. For the first network: $4 \cdot 5 + 5 = 25$, $5 \cdot 3 + 3 = 18$ and
# $3 \cdot 2 + 2 = 8$, so 51 in all.

# %%
sizes = [4, 5, 3, 2]
by_hand_count = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
course.result("parameters counted by hand", by_hand_count)
course.result("model.count_params()", model.count_params())
course.result("trained network: 30*8 + 8 + 8*1 + 1 vs count_params()",
              f"{30 * 8 + 8 + 8 + 1} vs {trained.count_params()}")

# %% [markdown]
# ## A picture of the first network
#
# Each line is one weight: its colour is its sign (red positive, blue negative), its thickness
# its size. Every neuron of a layer is connected to every neuron of the next: that is why these
# layers are called *dense* or *fully connected*.

# %%
fig, ax = plt.subplots(figsize=(7, 4))
positions = [np.linspace(-(n - 1) / 2, (n - 1) / 2, n) for n in sizes]
kernels = [w for w in model.get_weights() if w.ndim == 2]
scale = max(np.abs(k).max() for k in kernels)
for layer, kernel in enumerate(kernels):
    for i, y0 in enumerate(positions[layer]):
        for j, y1 in enumerate(positions[layer + 1]):
            w = kernel[i, j]
            ax.plot([layer, layer + 1], [y0, y1], color="tab:red" if w > 0 else "tab:blue",
                    linewidth=0.3 + 3 * abs(w) / scale, alpha=0.7)
for layer, ys in enumerate(positions):
    ax.scatter(np.full(len(ys), layer), ys, s=300, color="white", edgecolors="k", zorder=3)
ax.set_xticks(range(4), ["inputs (4)", "relu (5)", "tanh (3)", "softmax (2)"])
ax.set_yticks([])
ax.set_frame_on(False)
course.save_figure(fig, "network_weights")

# %% [markdown]
# ## What to take away
#
# - A neuron is a weighted sum plus a bias through an activation; a `Dense` layer is
#   `f(X @ W + b)` with `W` of shape (inputs, neurons).
# - `layer.get_weights()` returns `[W, b]`; a forward pass written with them matches
#   `model.predict` to float rounding.
# - A Dense layer has inputs x neurons + neurons parameters; `model.count_params()` adds them up.
# - Exercise 1.4.1 asks you to write the forward pass of a network yourself:
#   `regulab exercise start 1.4.1`.
