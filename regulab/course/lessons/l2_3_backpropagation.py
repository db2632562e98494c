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
# # 2.3 Forward and backward propagation from scratch
#
# Training a network means lowering a loss $L$ by moving every weight a little against its
# gradient, $w \leftarrow w - \eta\,\partial L / \partial w$. **Backpropagation** is the
# bookkeeping that computes all those gradients in one backward sweep: the forward pass stores
# each layer's intermediate values, then the chain rule runs from the loss back to the input,
# each layer turning "how the loss changes with my output" into "how it changes with my weights"
# and "how it changes with my input", which it hands to the layer before.
#
# Here is the whole of it for a two-layer network with a softmax output and the cross-entropy
# loss, in NumPy. With $X$ a batch of $n$ rows and $Y$ the one-hot labels:
#
# $$Z_1 = X W_1 + b_1,\quad H = \mathrm{relu}(Z_1),\quad Z_2 = H W_2 + b_2,\quad
#   P = \mathrm{softmax}(Z_2),\quad L = -\tfrac1n \textstyle\sum_i \log P_{i, y_i}.$$
#
# Backwards, the one step that needs care is the first: the gradient of softmax followed by
# cross-entropy with respect to the scores is simply $\partial L / \partial Z_2 = (P - Y)/n$.
# Then every line is the chain rule:
#
# $$\frac{\partial L}{\partial W_2} = H^\top \frac{\partial L}{\partial Z_2},\quad
#   \frac{\partial L}{\partial b_2} = \textstyle\sum_i \frac{\partial L}{\partial Z_2},\quad
#   \frac{\partial L}{\partial H} = \frac{\partial L}{\partial Z_2} W_2^\top,\quad
#   \frac{\partial L}{\partial Z_1} = \frac{\partial L}{\partial H} \odot [Z_1 > 0],$$
#
# and the same two lines again for $W_1$ and $b_1$ with $X$ in place of $H$.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split

from regulab import course
from regulab.datasets import load_digits

QUICK = course.quick()
EPOCHS = 15 if QUICK else 40
rng = np.random.default_rng(0)

# %% [markdown]
# ## The network in NumPy

# %%
def init_params(n_in, n_hidden, n_out, rng):
    """He initialization for the ReLU layer, Glorot-like for the output; zero biases."""
    return {"W1": rng.normal(0, np.sqrt(2 / n_in), (n_in, n_hidden)), "b1": np.zeros(n_hidden),
            "W2": rng.normal(0, np.sqrt(1 / n_hidden), (n_hidden, n_out)), "b2": np.zeros(n_out)}


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(params, X):
    """The predictions and what the backward pass needs."""
    z1 = X @ params["W1"] + params["b1"]
    h = np.maximum(z1, 0)
    p = softmax(h @ params["W2"] + params["b2"])
    return p, (X, z1, h, p)


def cross_entropy(p, y):
    return float(-np.log(p[np.arange(len(y)), y]).mean())


def backward(params, cache, y):
    """The gradient of the mean cross-entropy with respect to every parameter."""
    X, z1, h, p = cache
    dz2 = p.copy()
    dz2[np.arange(len(y)), y] -= 1          # P - Y
    dz2 /= len(y)                           # the loss is a mean over the batch
    dh = dz2 @ params["W2"].T
    dz1 = dh * (z1 > 0)                     # relu passes the gradient where it was active
    return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": h.T @ dz2, "b2": dz2.sum(axis=0)}


# %% [markdown]
# ## Check 1: against PyTorch's autograd
#
# We compute the same loss with PyTorch on the same float64 numbers and let autograd find the
# gradients. The relative error $\lVert g_{ours} - g_{torch} \rVert / (\lVert g_{ours} \rVert +
# \lVert g_{torch} \rVert)$ should be at the level of float64 rounding.

# %%
images, labels = load_digits()
X_all = images.reshape(len(images), -1).astype(np.float64)   # 8x8 pixels -> 64 features
X_train, X_test, y_train, y_test = train_test_split(X_all, labels, test_size=0.25, random_state=0, stratify=labels)

params = init_params(64, 32, 10, rng)
batch, targets = X_train[:50], y_train[:50]
p, cache = forward(params, batch)
ours = backward(params, cache, targets)

leaves = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
hidden = torch.relu(torch.tensor(batch) @ leaves["W1"] + leaves["b1"])
loss = torch.nn.functional.cross_entropy(hidden @ leaves["W2"] + leaves["b2"], torch.tensor(targets))
loss.backward()
course.result("loss: NumPy vs torch difference", abs(cross_entropy(p, targets) - loss.item()))


def relative_error(a, b):
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b) + 1e-300))


autograd_error = max(relative_error(ours[k], leaves[k].grad.numpy()) for k in params)
course.result("max relative error against autograd", autograd_error)

# %% [markdown]
# ## Check 2: against finite differences
#
# Autograd could share a misconception with us, so we also check against the definition of a
# derivative: nudge one weight by $\pm\epsilon$ and see how the loss moves,
# $\partial L/\partial w \approx (L(w+\epsilon) - L(w-\epsilon)) / 2\epsilon$. That needs two
# forward passes per weight, so we test 20 weights of each parameter, chosen at random.

# %%
def numerical_gradient(params, X, y, name, index, eps=1e-6):
    saved = params[name][index]
    params[name][index] = saved + eps
    up = cross_entropy(forward(params, X)[0], y)
    params[name][index] = saved - eps
    down = cross_entropy(forward(params, X)[0], y)
    params[name][index] = saved
    return (up - down) / (2 * eps)


errors = []
for name, value in params.items():
    for flat in rng.choice(value.size, size=min(20, value.size), replace=False):
        index = np.unravel_index(flat, value.shape)
        numeric = numerical_gradient(params, batch, targets, name, index)
        errors.append(abs(numeric - ours[name][index]) / max(abs(numeric) + abs(ours[name][index]), 1e-8))
course.result("max relative error against finite differences (80 weights)", float(max(errors)))

# %% [markdown]
# Finite differences agree to about $10^{-7}$ or better: that is the size of their own error
# (from $\epsilon$ and rounding), which is why autograd, not finite differences, is used to train.
#
# ## Training on the digits
#
# Gradient descent with mini-batches of 32 shuffled samples: forward, backward, step. That loop
# is all a deep learning framework runs, with many conveniences around it.

# %%
params = init_params(64, 64, 10, np.random.default_rng(0))
LEARNING_RATE, BATCH = 0.2, 32
curve = {"training loss": [], "held-out accuracy": []}
order = np.random.default_rng(1)
for epoch in range(EPOCHS):
    shuffled = order.permutation(len(X_train))
    losses = []
    for start in range(0, len(shuffled), BATCH):
        rows = shuffled[start:start + BATCH]
        p, cache = forward(params, X_train[rows])
        losses.append(cross_entropy(p, y_train[rows]))
        grads = backward(params, cache, y_train[rows])
        for name in params:
            params[name] -= LEARNING_RATE * grads[name]
    curve["training loss"].append(float(np.mean(losses)))
    curve["held-out accuracy"].append(float((forward(params, X_test)[0].argmax(axis=1) == y_test).mean()))
course.result("NumPy MLP on digits: held-out accuracy", curve["held-out accuracy"][-1])

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.3))
left.plot(range(1, EPOCHS + 1), curve["training loss"])
left.set_xlabel("epoch")
left.set_ylabel("mean training cross-entropy")
right.plot(range(1, EPOCHS + 1), curve["held-out accuracy"], color="tab:green")
right.set_xlabel("epoch")
right.set_ylabel("held-out accuracy")
course.save_figure(fig, "numpy_mlp_training")

# %% [markdown]
# ## What to take away
#
# - The forward pass stores its intermediate values; the backward pass reuses them, layer by
#   layer in reverse, each step one application of the chain rule.
# - Softmax with cross-entropy has the simplest gradient there is: $(P - Y)/n$ at the scores.
# - Check hand-written gradients against autograd and against finite differences: agreement to
#   $10^{-7}$ or better means the code is right.
# - Exercise 2.3.1 asks you to write the backward pass yourself; the check compares it with
#   autograd: `regulab exercise start 2.3.1`.
