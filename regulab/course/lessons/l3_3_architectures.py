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
# # 3.3 Popular CNN architectures: LeNet, a mini-VGG and a mini-ResNet
#
# Three designs mark the history of CNNs:
#
# - **LeNet** (LeCun et al., 1998) read handwritten cheque amounts: two convolutions with
#   `tanh`, each followed by average pooling, then three `Dense` layers.
# - **VGG** (Simonyan & Zisserman, 2014) showed that depth helps when every convolution is a
#   small 3x3: blocks of two or three convolutions, each block ending with a max pooling that
#   halves the map while the number of filters doubles.
# - **ResNet** (He et al., 2015) made networks of a hundred layers trainable with **residual
#   connections**: a block computes a correction $F(x)$ and adds it to its own input,
#   $y = \mathrm{relu}(x + F(x))$. If a block has nothing useful to add it can learn $F = 0$ and
#   pass $x$ through, and the gradient always has the short path through the addition.
#
# Here each one is scaled down to the 8x8 digits and trained the same way, so we can compare
# their size, their held-out accuracy and their training time. The residual connection needs the
# **functional API**: a `Sequential` model is a single chain, while a block's input has to reach
# the `Add` layer by two paths.

# %%
import time

import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split

import regulab
from regulab import course
from regulab.layers import (Add, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                            GlobalAveragePooling2D, Input, MaxPooling2D, ReLU)
from regulab.models import Model, Sequential

QUICK = course.quick()
EPOCHS = 2 if QUICK else 25
regulab.set_random_seed(0)
x, y = regulab.datasets.load_digits()
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
if QUICK:
    x_train, y_train = x_train[:400], y_train[:400]
print(x_train.shape, x_test.shape)

# %% [markdown]
# ## LeNet
#
# The original took 32x32 images and used 5x5 kernels; on 8x8 digits we use 3x3 kernels, keep
# its `tanh` activations, average pooling and its 120-84-10 classifier.

# %%
def lenet():
    return Sequential([
        Input((8, 8, 1)),
        Conv2D(6, 3, padding="same", activation="tanh"),
        AveragePooling2D(2),                                  # 4x4x6
        Conv2D(16, 3, activation="tanh"),                     # 2x2x16
        Flatten(),
        Dense(120, activation="tanh"),
        Dense(84, activation="tanh"),
        Dense(10, activation="softmax"),
    ], name="lenet")


# %% [markdown]
# ## A mini-VGG
#
# Two VGG blocks: two 3x3 convolutions and a max pooling, the second block with twice the
# filters; then a `Dense` classifier with dropout.

# %%
def vgg_block(filters):
    return [Conv2D(filters, 3, padding="same", activation="relu"),
            Conv2D(filters, 3, padding="same", activation="relu"),
            MaxPooling2D(2)]


def mini_vgg():
    return Sequential([Input((8, 8, 1)), *vgg_block(32), *vgg_block(64),    # 8x8 -> 4x4 -> 2x2
                       Flatten(), Dense(128, activation="relu"), Dropout(0.3),
                       Dense(10, activation="softmax")], name="mini_vgg")


# %% [markdown]
# ## A mini-ResNet, with the functional API
#
# In the functional API each layer is called on the tensor it takes, and `Model(inputs,
# outputs)` collects the graph. `residual_block` keeps the number of channels, so its input can
# be added to the output of its two convolutions as it is. Batch normalization after each
# convolution is part of the ResNet design.

# %%
def residual_block(x, filters):
    y = Conv2D(filters, 3, padding="same", use_bias=False)(x)
    y = BatchNormalization()(y)
    y = ReLU()(y)
    y = Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = BatchNormalization()(y)
    return ReLU()(Add()([x, y]))                              # the skip connection


def mini_resnet():
    inputs = Input((8, 8, 1))
    x = Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = residual_block(x, 16)
    x = residual_block(x, 16)
    x = Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)   # 4x4x32
    x = residual_block(x, 32)
    x = GlobalAveragePooling2D()(x)
    outputs = Dense(10, activation="softmax")(x)
    return Model(inputs, outputs, name="mini_resnet")


mini_resnet().summary()

# %% [markdown]
# The summary's "Connected to" column shows the two paths: each `add` layer takes the block's
# input and the last batch normalization.
#
# ## Training them the same way
#
# Same data, same optimizer (Adam, learning rate 0.003), same number of epochs and batch size,
# same seed. We time `fit` and test on the 450 held-out digits.

# %%
results = {}
for build in (lenet, mini_vgg, mini_resnet):
    regulab.set_random_seed(0)
    model = build()
    model.compile(optimizer=regulab.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0, seed=0)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    results[model.name] = {"params": model.count_params(), "accuracy": accuracy, "seconds": seconds,
                           "loss": history.history["loss"]}
    course.result(f"{model.name}: parameters", model.count_params())
    course.result(f"{model.name}: held-out accuracy", accuracy)
    course.result(f"{model.name}: training time", seconds, "s")

# %% [markdown]
# ## Side by side

# %%
names = list(results)
colors = ["tab:gray", "tab:blue", "tab:green"]
fig, axes = plt.subplots(1, 4, figsize=(14, 3))
for ax, key, label in [(axes[0], "params", "parameters"), (axes[1], "accuracy", "held-out accuracy"),
                       (axes[2], "seconds", "training time (s)")]:
    ax.bar(names, [results[n][key] for n in names], color=colors)
    ax.set_title(label, fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
axes[1].set_ylim(0.8 if not QUICK else 0.0, 1.0)
for name, color in zip(names, colors):
    axes[3].plot(range(1, EPOCHS + 1), results[name]["loss"], color=color, label=name)
axes[3].set_yscale("log")
axes[3].set_xlabel("epoch")
axes[3].set_title("training loss", fontsize=9)
axes[3].legend(fontsize=8)
course.save_figure(fig, "architectures")

# %% [markdown]
# What the figures say, on data this small:
#
# - LeNet, with `tanh` and average pooling, is the smallest and by far the quickest, and already
#   good: it was designed for exactly this kind of image.
# - The mini-VGG has the most parameters (two thirds in its convolutions); its deeper stack of
#   ReLU convolutions makes fewer mistakes than LeNet.
# - The mini-ResNet has a third of the VGG's parameters, thanks to global average pooling, and
#   makes the fewest mistakes; it is the slowest, as its convolutions run on full-size 8x8 maps
#   and batch normalization adds work. Residual connections pay off most in deep networks,
#   which 8x8 images do not need; the point here is how to build them.
# - The training losses jump up now and then: the learning rate stays at 0.003 throughout.
#   Lesson 3.4 lets it decay, which settles the last epochs.
#
# ## What to take away
#
# - LeNet: conv, pool, conv, pool, dense. VGG: blocks of 3x3 convolutions, pooling between
#   blocks, filters doubling. ResNet: blocks that add their input to their output.
# - A skip connection needs the functional API: call layers on tensors, merge two tensors with
#   `Add()([x, y])`, and build `Model(inputs, outputs)`.
# - Exercise 3.3.1 asks you to write the residual block: `regulab exercise start 3.3.1`.
