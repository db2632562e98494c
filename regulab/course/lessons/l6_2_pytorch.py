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
# # 6.2 Introduction to PyTorch: the engine underneath
#
# **PyTorch** is the other major deep learning framework. Where Keras gives you `compile` and
# `fit`, PyTorch gives you the pieces: tensors that remember how they were computed (so that
# `loss.backward()` can compute gradients), modules (`torch.nn.Linear`, `torch.nn.Conv2d`) that
# hold parameters, optimizers (`torch.optim.SGD`, `torch.optim.Adam`) that update them, and you
# write the training loop yourself.
#
# regulab is built on PyTorch: every layer computes with torch operations, every weight is a
# torch tensor, and `fit` runs a PyTorch training step. This lesson opens that up: a PyTorch
# module inside a regulab model, the same training written as a plain PyTorch loop, and the
# weights of both compared number by number.

# %%
import copy
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split

import regulab
from regulab import course
from regulab.layers import Dense, Input, Softmax, TorchModuleWrapper
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 3 if QUICK else 20
regulab.set_random_seed(0)
x, y = regulab.datasets.load_digits()
x = x.reshape(len(x), -1)                                  # 64 pixels per image
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)

# %% [markdown]
# ## Tensors and weights
#
# A regulab weight is a torch tensor, and calling a model on a torch tensor returns one
# (`predict` converts to NumPy for you). Note one convention: a Keras `Dense` kernel has shape
# `(inputs, units)` and computes `x @ kernel + bias`, while `torch.nn.Linear` stores
# `weight` as `(units, inputs)` and computes `x @ weight.T + bias`.

# %%
dense_model = Sequential([Input((64,)), Dense(10)])
kernel = dense_model.layers[0].weights[0]
print("a Dense kernel:", kernel.path, tuple(kernel.value.shape), type(kernel.value).__name__)
out = dense_model(torch.tensor(x_test[:4]))
print("calling the model on a torch tensor gives", type(out).__name__, tuple(out.shape))

linear = torch.nn.Linear(64, 10)
with torch.no_grad():                                      # the same layer in PyTorch: transpose the kernel
    linear.weight.copy_(kernel.value.T)
    linear.bias.copy_(dense_model.layers[0].weights[1].value)
    difference = (linear(torch.tensor(x_test)) - dense_model(torch.tensor(x_test))).abs().max()
course.result("Dense vs torch.nn.Linear with the kernel transposed: largest output difference", float(difference))

# %% [markdown]
# ## A PyTorch module inside a regulab model
#
# `TorchModuleWrapper` turns any `torch.nn.Module` into a regulab layer: its parameters become
# the layer's weights (under their PyTorch names, `0.weight`, `2.bias`), so `fit`, `summary`,
# saving and freezing all work on it. This is how a network from the PyTorch world (a
# pretrained torchvision model, say) joins a Keras-style model.

# %%
torch.manual_seed(0)
module = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
initial = copy.deepcopy(module)                            # kept for the plain PyTorch loop below
wrapper = TorchModuleWrapper(module, output_shape=(10,))   # output_shape: else inferred by a trial run
model = Sequential([Input((64,)), wrapper, Softmax()])
model.compile(optimizer=regulab.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()
print([(v.path, v.shape) for v in model.weights])

# %% [markdown]
# We train it with `fit`, without shuffling so that a hand-written loop can use the same batches.
# Afterwards `wrapper.module` is the PyTorch module holding the trained weights: it can be used
# on its own, in plain PyTorch, and gives exactly regulab's predictions.

# %%
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, shuffle=False, verbose=0)
course.result("regulab fit: held-out accuracy", model.evaluate(x_test, y_test, verbose=0)[1])
trained = wrapper.module
with torch.no_grad():
    torch_probabilities = torch.softmax(trained(torch.tensor(x_test)), dim=1).numpy()
course.result("trained module in plain PyTorch vs model.predict: largest difference",
              float(np.abs(torch_probabilities - model.predict(x_test, verbose=0)).max()))

# %% [markdown]
# ## The same training as a plain PyTorch loop
#
# Here is what `fit` did, written out in PyTorch, from the same initial weights: for each batch,
# clear the gradients, compute the loss, `backward()`, and let the optimizer step.
# `sparse_categorical_crossentropy` after a softmax is PyTorch's `cross_entropy` on the logits
# (regulab computes it that way too, which is more accurate than taking the log of a softmax).

# %%
def torch_loop(net, make_optimizer, epochs):
    net = copy.deepcopy(net)
    optimizer = make_optimizer(net.parameters())
    data, labels = torch.tensor(x_train), torch.tensor(y_train).long()
    losses = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(data), 32):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(data[start:start + 32]), labels[start:start + 32])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels[start:start + 32])
        losses.append(total / len(data))
    return net, losses


def largest_difference(a, b):
    """The largest difference between the parameters of two modules of the same shape."""
    with torch.no_grad():
        return max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters()))


plain, plain_losses = torch_loop(initial, lambda p: torch.optim.SGD(p, lr=0.1), EPOCHS)
largest = largest_difference(trained, plain)
course.result("SGD: regulab fit vs PyTorch loop, largest weight difference", largest)

# %%
fig, ax = plt.subplots(figsize=(5.5, 3))
ax.plot(range(1, EPOCHS + 1), history.history["loss"], "o-", label="regulab fit")
ax.plot(range(1, EPOCHS + 1), plain_losses, "x--", label="PyTorch loop")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title("the same training, two spellings")
ax.legend()
course.save_figure(fig, "fit_vs_torch_loop")

# %% [markdown]
# The two agree to the last few digits of float32: `fit` is that loop. (regulab runs it as one
# pure function per step and keeps the metrics on the device, which is why it is usually faster,
# as lesson 6.3 measures.)
#
# ## Adam: one convention differs
#
# With Adam the story has a twist. Keras and PyTorch both implement Adam, but they put the small
# constant $\epsilon$ in different places: PyTorch divides the bias-corrected moments,
# $\hat m / (\sqrt{\hat v} + \epsilon)$, while Keras folds the bias correction into the learning
# rate and adds $\epsilon$ to the uncorrected $\sqrt{v}$, which makes the effective $\epsilon$
# about 30 times larger at the first step. For weights with tiny gradients that shows. regulab
# follows Keras. Written by hand in PyTorch, the Keras update matches regulab exactly.

# %%
def keras_adam_step(parameters, state, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    state["t"] += 1
    t = state["t"]
    alpha = learning_rate * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    with torch.no_grad():
        for p, m, v in zip(parameters, state["m"], state["v"]):
            m += (p.grad - m) * (1 - beta_1)
            v += (p.grad ** 2 - v) * (1 - beta_2)
            p -= alpha * m / (v.sqrt() + epsilon)


class KerasAdam:
    """Keras's Adam as a PyTorch optimizer (just enough for the loop above)."""

    def __init__(self, parameters):
        self.parameters = list(parameters)
        self.state = {"t": 0, "m": [torch.zeros_like(p) for p in self.parameters],
                      "v": [torch.zeros_like(p) for p in self.parameters]}

    def zero_grad(self):
        for p in self.parameters:
            p.grad = None

    def step(self):
        keras_adam_step(self.parameters, self.state)


adam_wrapper = TorchModuleWrapper(copy.deepcopy(initial), output_shape=(10,))
adam_model = Sequential([Input((64,)), adam_wrapper, Softmax()])
adam_model.compile(optimizer=regulab.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
adam_model.fit(x_train, y_train, epochs=1, batch_size=32, shuffle=False, verbose=0)
for name, make in (("torch.optim.Adam", lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7)),
                   ("Keras's Adam written in PyTorch", KerasAdam)):
    net, _ = torch_loop(initial, make, 1)
    largest = largest_difference(adam_wrapper.module, net)
    course.result(f"Adam, one epoch: regulab fit vs {name}, largest weight difference", largest)

# %% [markdown]
# ## What to take away
#
# - regulab's weights are torch tensors and its training step is a PyTorch step: a
#   `torch.nn.Module` can sit inside a regulab model (`TorchModuleWrapper`), and its trained
#   module can leave it again.
# - A Dense kernel is the transpose of a `torch.nn.Linear` weight.
# - `fit` with SGD is exactly the hand-written loop; with Adam, the frameworks differ in where
#   $\epsilon$ goes, and regulab follows Keras.
# - Exercise 6.2.1 asks you to copy a trained regulab model into an equivalent
#   `torch.nn.Sequential`: `regulab exercise start 6.2.1`.
