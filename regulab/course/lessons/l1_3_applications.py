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
# # 1.3 Applications of deep learning: a tour of the bundled data
#
# Deep learning is used wherever there is a lot of data with structure a person finds hard to
# describe by rules: **tables** of measurements (medicine, finance), **images** (recognition,
# inspection, medical scans), **signals** (audio, sensors, ECGs), and **text** (translation,
# search, assistants). The same recipe works across all of them: turn the data into arrays of
# numbers, choose an output layer that fits the question, train, and measure on data the model
# never saw.
#
# This tour runs one small model on each kind of data that ships with regulab (no download).
# What changes from one to the next is only the shape of the input and the output layer.

# %%
import collections
import re

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

import regulab
from regulab import course
from regulab.datasets import load_breast_cancer, load_digits, load_mnist1d, load_python_docs
from regulab.layers import Dense, Embedding, Flatten
from regulab.models import Sequential
from regulab.optimizers import Adam

QUICK = course.quick()
EPOCHS = 5 if QUICK else 40
TEXT_CHARS = 12_000 if QUICK else 200_000
regulab.set_random_seed(0)
scores = {}

# %% [markdown]
# ## Tables: breast cancer diagnosis
#
# 569 tumours, 30 measurements each (radius, texture, ...), labelled malignant or benign. Input:
# a row of 30 numbers. Output: one sigmoid unit, the probability of "benign". The features have
# very different scales, so we standardize them with the training set's mean and spread first.
# The baseline to beat is always predicting the more common class.

# %%
x, y = load_breast_cancer()
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
mean, std = x_train.mean(axis=0), x_train.std(axis=0)
x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

tabular = Sequential([Dense(16, input_dim=30, activation="relu"), Dense(1, activation="sigmoid")])
tabular.compile(optimizer=Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
tabular.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, verbose=0, seed=0)
scores["tables\n(breast cancer)"] = (tabular.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"],
                                     max(y_test.mean(), 1 - y_test.mean()))
course.result("breast cancer: held-out accuracy", scores["tables\n(breast cancer)"][0])

# %% [markdown]
# ## Images: handwritten digits
#
# 1,797 grey images of 8x8 pixels, digits 0 to 9. Input: an image, shape `(8, 8, 1)` (height,
# width, channels), which `Flatten` unrolls into 64 numbers. Output: ten softmax units, one
# probability per digit, trained with `sparse_categorical_crossentropy` because the labels are
# integers. Chance is 10%. (Module 3 replaces the flattening with convolutions.)

# %%
images, digits = load_digits()
i_train, i_test, d_train, d_test = train_test_split(images, digits, test_size=0.25, random_state=0, stratify=digits)
vision = Sequential([Flatten(input_shape=(8, 8, 1)), Dense(64, activation="relu"), Dense(10, activation="softmax")])
vision.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
vision.fit(i_train, d_train, epochs=EPOCHS, batch_size=64, verbose=0, seed=0)
scores["images\n(digits)"] = (vision.evaluate(i_test, d_test, verbose=0, return_dict=True)["accuracy"], 0.1)
course.result("digits: held-out accuracy", scores["images\n(digits)"][0])

# %% [markdown]
# ## Signals: MNIST-1D
#
# MNIST-1D turns each digit into a 1-D signal of 40 steps, then shifts, scales and adds noise to
# it, so that the pattern has to be found anywhere along the signal. Shape `(40, 1)`: 40 time
# steps, one channel. Ten classes again. It is a hard problem for a plain MLP (the data set's
# authors report 68%, against 94% for a convolutional network): a good test bed for module 4.

# %%
(s_train, c_train), (s_test, c_test) = load_mnist1d()
signals = Sequential([Flatten(input_shape=(40, 1)), Dense(128, activation="relu"), Dense(128, activation="relu"),
                      Dense(10, activation="softmax")])
signals.compile(optimizer=Adam(0.003), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
signals.fit(s_train, c_train, epochs=EPOCHS, batch_size=128, verbose=0, seed=0)
scores["signals\n(MNIST-1D)"] = (signals.evaluate(s_test, c_test, verbose=0, return_dict=True)["accuracy"], 0.1)
course.result("MNIST-1D: held-out accuracy", scores["signals\n(MNIST-1D)"][0])

# %% [markdown]
# ## Text: the Python documentation
#
# Text must become numbers too. The corpus is the documentation that `help()` shows, split by
# topic into training and held-out text. First a look at it: the most frequent words.

# %%
train_text, held_out_text = load_python_docs()
words = collections.Counter(re.findall(r"[a-z]+", train_text.lower()))
print(f"{len(train_text):,} training characters, {len(words):,} distinct words")
print("most frequent:", ", ".join(f"{w} ({n})" for w, n in words.most_common(10)))

# %% [markdown]
# A small language model: from the previous 8 characters, predict the next one. Each character
# becomes an integer; an `Embedding` layer turns every integer into a learned vector of 16
# numbers. The output layer has one softmax unit per character of the alphabet. The baseline
# predicts the most common character (the space) every time.

# %%
CONTEXT = 8
alphabet = sorted(set(train_text))
index = {c: i for i, c in enumerate(alphabet)}


def windows(text, limit):
    codes = np.array([index.get(c, index[" "]) for c in text[:limit + CONTEXT]], dtype=np.int64)
    starts = np.arange(len(codes) - CONTEXT)
    return codes[starts[:, None] + np.arange(CONTEXT)], codes[starts + CONTEXT]


t_train, n_train = windows(train_text, TEXT_CHARS)
t_test, n_test = windows(held_out_text, TEXT_CHARS // 4)
language = Sequential([Embedding(len(alphabet), 16, input_shape=(CONTEXT,)), Flatten(),
                       Dense(128, activation="relu"), Dense(len(alphabet), activation="softmax")])
language.compile(optimizer=Adam(0.003), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
language.fit(t_train, n_train, epochs=2 if QUICK else 5, batch_size=256, verbose=0, seed=0)
space_share = float((n_test == index[" "]).mean())
scores["text\n(Python docs)"] = (language.evaluate(t_test, n_test, verbose=0, return_dict=True)["accuracy"],
                                 space_share)
course.result("Python docs: next-character held-out accuracy", scores["text\n(Python docs)"][0])
course.result("Python docs: always-a-space baseline", space_share)

prompt = held_out_text[:CONTEXT]
for _ in range(30 if QUICK else 60):
    codes = np.array([[index.get(c, index[" "]) for c in prompt[-CONTEXT:]]])
    prompt += alphabet[int(language.predict(codes, verbose=0)[0].argmax())]
print("the model continues", repr(held_out_text[:CONTEXT]), "as", repr(prompt))

# %% [markdown]
# ## Every model against its baseline
#
# A figure means little without a baseline: 90% is poor if 90% of the labels are the same class.
# Each bar pair shows a model's held-out accuracy next to what guessing (the most common class,
# or chance for balanced classes) would score.

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.3), gridspec_kw={"width_ratios": [1, 1.4, 2.2]})
axes[0].imshow(images[0, :, :, 0], cmap="gray_r")
axes[0].set_title(f"an image: digit {digits[0]}")
axes[0].axis("off")
for k in range(3):
    axes[1].plot(s_train[k, :, 0], label=f"digit {c_train[k]}")
axes[1].set_title("signals (MNIST-1D)")
axes[1].set_xlabel("time step")
axes[1].legend(fontsize=8)
names = list(scores)
positions = np.arange(len(names))
axes[2].bar(positions - 0.2, [scores[n][0] for n in names], 0.4, label="model (held out)")
axes[2].bar(positions + 0.2, [scores[n][1] for n in names], 0.4, color="gray", label="baseline")
axes[2].set_xticks(positions, names, fontsize=8)
axes[2].set_ylim(0, 1.15)
axes[2].set_ylabel("accuracy")
axes[2].legend(fontsize=8, loc="upper right", ncol=2)
course.save_figure(fig, "applications_tour")

# %% [markdown]
# ## What to take away
#
# - Every application starts by turning data into arrays: rows of features, images of pixels
#   with a channel axis, signals of time steps, text as integer codes fed to an `Embedding`.
# - The output layer follows the question: one sigmoid unit for yes/no, a softmax over the
#   classes for one-of-many, with the matching cross-entropy loss.
# - Always compare with a baseline. The MLP is excellent on the tables and the digits, only fair
#   on MNIST-1D and the text: the later modules bring architectures made for those shapes.
# - Exercise 1.3.1 asks you to finish the MNIST-1D model: `regulab exercise start 1.3.1`.
