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
# # 2.4 Optimizers and loss functions
#
# Training needs two choices besides the architecture. The **loss function** says what "wrong"
# means: one number, for a batch, that training makes smaller. The **optimizer** says how to use
# the gradient of that number to change the weights. They are the two arguments of
# `model.compile(optimizer=..., loss=...)`.
#
# The optimizers, for a weight $w$ with gradient $g$ and learning rate $\eta$:
#
# - **SGD**: $w \leftarrow w - \eta g$. Simple, but slow where the loss surface is flat and
#   jittery where it is steep.
# - **SGD with momentum**: keeps a velocity $v \leftarrow \mu v - \eta g$ and moves by $v$;
#   steps in a consistent direction build up, oscillations cancel.
# - **RMSprop**: divides each weight's step by a running average of its squared gradient, so
#   every weight moves at a similar pace whatever the scale of its gradient.
# - **Adam**: momentum and RMSprop together, with a correction for the first steps. The usual
#   default.
# - **AdamW**: Adam plus *decoupled weight decay*: every step also shrinks the weights by a small
#   fraction, independently of the gradient (unlike an L2 penalty, which Adam's scaling distorts).
#
# We compare them on one task, the 8x8 digits with a small MLP, each with its Keras default
# learning rate, from the same initial weights and the same batches.

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

import regulab
from regulab import course, optimizers
from regulab.datasets import load_digits
from regulab.layers import Dense, Flatten
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 4 if QUICK else 30
images, labels = load_digits()
X_train, X_test, y_train, y_test = train_test_split(images, labels, test_size=0.25, random_state=0, stratify=labels)


def digits_mlp(optimizer, loss="sparse_categorical_crossentropy"):
    regulab.set_random_seed(0)  # the same initial weights for every model
    model = Sequential([Flatten(input_shape=(8, 8, 1)), Dense(64, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer=optimizer, loss=loss)
    return model


def held_out_accuracy(model):
    return float((model.predict(X_test, verbose=0).argmax(axis=1) == y_test).mean())


# %% [markdown]
# ## Five optimizers, one task

# %%
choices = {
    "SGD (lr 0.01)": optimizers.SGD(),
    "SGD + momentum 0.9": optimizers.SGD(momentum=0.9),
    "RMSprop (lr 0.001)": optimizers.RMSprop(),
    "Adam (lr 0.001)": optimizers.Adam(),
    "AdamW (lr 0.001, decay 0.004)": optimizers.AdamW(),
}
curves = {}
for name, optimizer in choices.items():
    model = digits_mlp(optimizer)
    curves[name] = model.fit(X_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0, seed=0).history["loss"]
    course.result(f"{name}: held-out accuracy after {EPOCHS} epochs", held_out_accuracy(model))

fig, ax = plt.subplots(figsize=(7, 4))
for name, losses in curves.items():
    ax.plot(range(1, EPOCHS + 1), losses, "o-" if QUICK else "-", label=name)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy)")
ax.legend()
course.save_figure(fig, "optimizer_loss_curves")

# %% [markdown]
# Plain SGD at its default step is far behind: with a learning rate of 0.01 it moves slowly,
# and after 30 epochs its loss is where the others' was after four or five. Momentum multiplies
# its effective step by about $1/(1-\mu) = 10$ and here lowers the loss fastest of all. The
# adaptive methods (RMSprop, Adam, AdamW) are close to each other and need no tuning to do well,
# which is why Adam is the default; on held-out data the four end within a point of each other.
# AdamW's decay of 0.004 per step (times the learning rate) is too gentle to matter on a short
# run; its benefit is as a regularizer on long ones. None of this ranking is universal: with a
# tuned learning rate SGD often catches up, and on other problems the order changes. Compare
# optimizers on your task, not in general.
#
# ## Loss functions: mean squared error or cross-entropy for classification?
#
# Mean squared error, $\frac1K\sum_k (p_k - y_k)^2$, is the natural loss for predicting numbers.
# It can be used for classes too (on one-hot labels), but it learns badly there. Take a sigmoid
# output $p = \sigma(z)$ for a sample of class 1. The gradient with respect to the score $z$ is
#
# - cross-entropy $-\log p$: $\;p - 1$, large whenever the model is wrong;
# - squared error $(p - 1)^2$: $\;2(p-1)\,p(1-p)$, which goes to 0 as $p \to 0$: the more
#   confidently wrong the model, the less it learns.

# %%
z = np.linspace(-8, 8, 401)
p = 1 / (1 + np.exp(-z))
ce_gradient, mse_gradient = p - 1, 2 * (p - 1) * p * (1 - p)
course.result("gradient at z = -6 (confidently wrong), cross-entropy", float(np.interp(-6, z, ce_gradient)))
course.result("gradient at z = -6 (confidently wrong), squared error", float(np.interp(-6, z, mse_gradient)))

# %% [markdown]
# The same network on the digits, trained with SGD (learning rate 0.1) once with mean squared
# error on one-hot labels and once with cross-entropy, held-out accuracy after every epoch:

# %%
one_hot = np.eye(10, dtype=np.float32)[y_train]
accuracy_curves = {}
for name, loss, targets in (("squared error", "mse", one_hot),
                            ("cross-entropy", "sparse_categorical_crossentropy", y_train)):
    model = digits_mlp(optimizers.SGD(learning_rate=0.1), loss)
    accuracy_curves[name] = []
    for epoch in range(EPOCHS):
        model.fit(X_train, targets, epochs=epoch + 1, initial_epoch=epoch, batch_size=32, verbose=0, seed=0)
        accuracy_curves[name].append(held_out_accuracy(model))
    course.result(f"{name} loss: held-out accuracy after {EPOCHS} epochs", accuracy_curves[name][-1])

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))
left.plot(z, -ce_gradient, label="cross-entropy")
left.plot(z, -mse_gradient, label="squared error")
left.set_xlabel("score z of the right class (sigmoid output)")
left.set_ylabel("size of the gradient")
left.legend()
for name, accuracies in accuracy_curves.items():
    right.plot(range(1, EPOCHS + 1), accuracies, "o-" if QUICK else "-", label=name)
right.set_xlabel("epoch")
right.set_ylabel("held-out accuracy")
right.legend()
course.save_figure(fig, "mse_vs_cross_entropy")

# %% [markdown]
# With the same optimizer and step, cross-entropy is above 90% within a few epochs; squared error
# crawls. (An adaptive optimizer like Adam rescales small gradients and hides part of the
# difference, but cross-entropy still trains faster and gives calibrated probabilities.)
#
# ## What to take away
#
# - Adam with its default learning rate is a strong first choice; SGD needs a well-chosen
#   learning rate, and momentum, to compete.
# - For classification use cross-entropy: `binary_crossentropy` with a sigmoid output,
#   `sparse_categorical_crossentropy` with a softmax and integer labels (or
#   `categorical_crossentropy` with one-hot labels). Keep mean squared error for regression.
# - Exercise 2.4.1 gives you a badly configured training run to fix:
#   `regulab exercise start 2.4.1`.
