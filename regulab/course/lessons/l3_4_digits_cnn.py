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
# # 3.4 CNNs for image recognition: the digits CNN
#
# This lesson puts the pieces of the module together into a CNN that recognises handwritten
# digits, and tests it properly: on a quarter of the data it never saw, split so that every
# digit is as frequent in the test set as in the training set (a **stratified** split).
#
# With only 1,347 training images of 8x8 pixels, the danger is overfitting. Two remedies from
# module 5 are built into the model:
#
# - **data augmentation**: a `RandomTranslation` layer shifts every training image by up to one
#   pixel in each direction, a new random shift at every step, so the network never sees the
#   exact same image twice. A digit moved by a pixel is still the same digit. (We do not flip
#   images: a mirrored 2 or 7 is not a digit.) Augmentation layers act only in training; at test
#   time they pass the images through.
# - **dropout** before the classifier.
#
# A learning rate that decays along a half cosine over the epochs lets the last epochs settle.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split

import regulab
from regulab import course
from regulab.callbacks import LearningRateScheduler
from regulab.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D, RandomTranslation
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 2 if QUICK else 20
LEARNING_RATE = 3e-3
regulab.set_random_seed(0)
x, y = regulab.datasets.load_digits()
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
if QUICK:
    x_train, y_train = x_train[:300], y_train[:300]
print("train", x_train.shape, "test", x_test.shape)
print("digits per class in the test set:", np.bincount(y_test))

# %% [markdown]
# ## The model
#
# Two 3x3 convolutions with 32 filters and `"same"` padding, max pooling to 4x4, a convolution
# with 64 filters, pooling to 2x2, then dropout and the softmax. `RandomTranslation(0.125,
# 0.125)` shifts by up to 12.5% of 8 pixels, that is one pixel, and fills the uncovered border
# with zeros (the background).

# %%
def build(augment=True, dropout=0.3, width=32):
    layers = [Input((8, 8, 1))]
    if augment:
        layers.append(RandomTranslation(0.125, 0.125, fill_mode="constant"))
    layers += [
        Conv2D(width, 3, padding="same", activation="relu"),
        Conv2D(width, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Conv2D(2 * width, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Flatten(),
    ]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(10, activation="softmax"))
    return Sequential(layers, name="digits_cnn" if augment else "plain_cnn")


def cosine(epoch, lr):
    return LEARNING_RATE * 0.5 * (1.0 + math.cos(math.pi * epoch / EPOCHS))


def train(model):
    model.compile(optimizer=regulab.optimizers.Adam(LEARNING_RATE), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model.fit(x_train, y_train, batch_size=32, epochs=EPOCHS, verbose=0, seed=0,
                     callbacks=[LearningRateScheduler(cosine)])


regulab.set_random_seed(0)
model = build()
model.summary()

# %% [markdown]
# ## Training, with and without the regularization
#
# We train the same network twice from the same seed: once plain (no augmentation, no dropout),
# once as designed.

# %%
history = train(model)
regulab.set_random_seed(0)
plain = build(augment=False, dropout=0.0)
plain_history = train(plain)

for name, m, h in [("plain CNN", plain, plain_history), ("CNN with augmentation and dropout", model, history)]:
    train_acc = m.evaluate(x_train, y_train, verbose=0, return_dict=True)["accuracy"]
    test_acc = m.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    course.result(f"{name}: training accuracy", train_acc)
    course.result(f"{name}: held-out accuracy", test_acc)
    course.result(f"{name}: held-out errors", int(round((1 - test_acc) * len(y_test))), f"of {len(y_test)}")

# %% [markdown]
# Both fit the training set almost perfectly; the regularized one makes fewer mistakes on the
# held-out digits. On data this small the difference is a handful of images, so one seed does
# not prove much on its own; module 5 shows how to measure such differences over several seeds.
#
# ## Where the mistakes are: the confusion matrix
#
# Row $i$, column $j$ counts the test digits of class $i$ that the model called $j$. A perfect
# model has everything on the diagonal.

# %%
predicted = model.predict(x_test, verbose=0).argmax(axis=1)
matrix = confusion_matrix(y_test, predicted, labels=range(10))
course.result("digits CNN: accuracy from the confusion matrix", float(np.trace(matrix) / matrix.sum()))
off = matrix - np.diag(np.diag(matrix))
if off.any():
    i, j = np.unravel_index(off.argmax(), off.shape)
    course.result("most frequent confusion", f"{i} read as {j} ({off[i, j]} times)")

fig, ax = plt.subplots(figsize=(4.5, 4))
image = ax.imshow(matrix, cmap="Blues")
for i in range(10):
    for j in range(10):
        if matrix[i, j]:
            ax.text(j, i, matrix[i, j], ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted digit")
ax.set_ylabel("true digit")
ax.set_title("digits CNN, held-out confusion matrix", fontsize=9)
course.save_figure(fig, "confusion_matrix")

# %% [markdown]
# ## The digits it gets wrong
#
# Looking at the mistakes is the best way to see whether a model's errors are reasonable.

# %%
wrong = np.flatnonzero(predicted != y_test)[:8]
fig, axes = plt.subplots(1, max(len(wrong), 1), figsize=(1.3 * max(len(wrong), 1), 1.8), squeeze=False)
for ax, i in zip(axes[0], wrong):
    ax.imshow(x_test[i, :, :, 0], cmap="gray_r")
    ax.set_title(f"{y_test[i]} read as {predicted[i]}", fontsize=8)
for ax in axes[0]:
    ax.axis("off")
course.save_figure(fig, "mistakes")

# %% [markdown]
# ## The learning curves

# %%
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, EPOCHS + 1), plain_history.history["loss"], label="plain CNN")
ax.plot(range(1, EPOCHS + 1), history.history["loss"], label="with augmentation and dropout")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.legend(fontsize=8)
course.save_figure(fig, "training_loss")

# %% [markdown]
# The regularized model's training loss stays higher: shifted images are harder to fit than the
# originals, which is the point. It is the held-out figures that count.
#
# ## What to take away
#
# - A few convolution and pooling layers reach about 99% on the digits; held-out accuracy is
#   measured on a stratified split the model never trained on.
# - Augmentation layers (`RandomTranslation`, `RandomRotation`, `RandomZoom`, ...) act only in
#   training and make the network see a new variant of every image at every step; dropout and a
#   decaying learning rate help too.
# - The confusion matrix and the misclassified images tell you *which* mistakes the model makes.
# - Exercise 3.4.1 asks you to turn a dense network into a CNN that passes 95%:
#   `regulab exercise start 3.4.1`.
