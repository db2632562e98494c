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
# # 3.1 Introduction to CNNs: what a convolution does
#
# A **convolutional layer** slides a small grid of weights, the **kernel**, over an image. At
# every position it multiplies the kernel with the patch of pixels under it and adds the
# products up; the grid of those sums is a **feature map**. The same kernel is used at every
# position, so a layer that looks for a vertical stroke finds it wherever it is in the image,
# with only 9 weights for a 3x3 kernel.
#
# In this lesson we first choose kernels by hand (edge detectors and a blur), put them into a
# regulab `Conv2D` layer and check that it computes exactly the sums described above. Then we
# train a small CNN on handwritten digits and look at the kernels it found by itself.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.signal import convolve2d, correlate2d
from sklearn.model_selection import train_test_split

import regulab
from regulab import course
from regulab.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 2 if QUICK else 30
regulab.set_random_seed(0)
x, y = regulab.datasets.load_digits()
print(x.shape, y.shape, float(x.min()), float(x.max()))

# %% [markdown]
# The digits are 8x8 grey images with values in [0, 1], stored channels-last as
# `(samples, height, width, channels)`: one channel, since they have no colour.
#
# ## Kernels chosen by hand
#
# - A **vertical-edge** kernel (Sobel) is negative on the left and positive on the right: it
#   responds where the image gets brighter from left to right, and negatively where it gets darker.
# - A **horizontal-edge** kernel is the same turned by 90 degrees.
# - A **blur** kernel averages the 3x3 neighbourhood: every weight is 1/9.
# - A **sharpen** kernel weighs the centre against its neighbours, which exaggerates differences.

# %%
kernels = {
    "vertical edges": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
    "horizontal edges": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
    "blur": np.full((3, 3), 1 / 9, dtype=np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
}

# %% [markdown]
# A `Conv2D` layer holds its kernels in one array of shape
# `(kernel height, kernel width, input channels, filters)`. We make a layer with four filters and
# no bias, then overwrite its random weights with ours using `set_weights`.

# %%
conv = Conv2D(filters=len(kernels), kernel_size=3, use_bias=False)
hand_made = Sequential([Input((8, 8, 1)), conv])
print("kernel array:", conv.get_weights()[0].shape)
conv.set_weights([np.stack(list(kernels.values()), axis=-1)[:, :, None, :]])
maps = hand_made.predict(x[:100], verbose=0)
print("feature maps:", maps.shape)

# %% [markdown]
# Without padding (`padding="valid"`, the default) the 3x3 kernel fits in 6x6 positions of an
# 8x8 image, hence the 6x6 maps. Let's check every map against SciPy's `correlate2d`, which
# computes exactly "slide, multiply, add up".

# %%
worst = 0.0
for i in range(100):
    for k, kernel in enumerate(kernels.values()):
        expected = correlate2d(x[i, :, :, 0], kernel, mode="valid")
        worst = max(worst, float(np.abs(maps[i, :, :, k] - expected).max()))
course.result("largest difference from scipy's correlate2d (100 digits, 4 kernels)", worst)

# %% [markdown]
# The difference is at the level of float32 rounding: the layer computes a **cross-correlation**.
# Mathematicians' convolution flips the kernel first (`scipy.signal.convolve2d`); deep-learning
# libraries skip the flip, which changes nothing for learning (the network would just learn the
# flipped kernel), but it matters when you compare with a hand computation. The Sobel kernel is
# anti-symmetric, so the flip turns its output into its negative:

# %%
edge = kernels["vertical edges"]
flipped = convolve2d(x[0, :, :, 0], edge, mode="valid")
course.result("layer output vs convolve2d (flipped kernel): largest difference",
              float(np.abs(maps[0, :, :, 0] - flipped).max()))
course.result("layer output vs -convolve2d: largest difference", float(np.abs(maps[0, :, :, 0] + flipped).max()))

# %% [markdown]
# ## What the hand-made kernels see
#
# Each row is one digit: the image, then its four feature maps. Red is positive, blue negative.
# The vertical-edge map lights up on the left and right sides of strokes with opposite signs; the
# horizontal-edge map does the same on their tops and bottoms; the blur smooths the strokes away.

# %%
def show(ax, image, title=None, signed=False):
    if signed:
        limit = float(np.abs(image).max()) or 1.0
        ax.imshow(image, cmap="bwr", vmin=-limit, vmax=limit)
    else:
        ax.imshow(image, cmap="gray_r")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


fig, axes = plt.subplots(3, 5, figsize=(8, 5))
for row, i in enumerate([0, 3, 7]):
    show(axes[row, 0], x[i, :, :, 0], f"digit {y[i]}")
    for k, name in enumerate(kernels):
        show(axes[row, k + 1], maps[i, :, :, k], name if row == 0 else None, signed=True)
course.save_figure(fig, "hand_made_kernels")

# %% [markdown]
# ## Kernels a network learns
#
# Now the network chooses its kernels. A small CNN: a first `Conv2D` with 8 kernels of 3x3
# (padding `"same"` keeps the maps 8x8), max pooling, a second convolution, then a softmax over
# the ten digits. We train it on 75% of the digits and test it on the rest.

# %%
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
cnn = Sequential([
    Input((8, 8, 1)),
    Conv2D(8, 3, padding="same", activation="relu", name="first_conv"),
    MaxPooling2D(2),
    Conv2D(16, 3, padding="same", activation="relu"),
    MaxPooling2D(2),
    Flatten(),
    Dense(10, activation="softmax"),
])
cnn.compile(optimizer=regulab.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
start = time.perf_counter()
cnn.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0, seed=0)
print(f"trained {EPOCHS} epochs in {time.perf_counter() - start:.1f} s")
course.result("small CNN: held-out accuracy", cnn.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"])

# %% [markdown]
# The first layer's feature maps are what its kernels compute on an image. A layer is callable:
# `first(images)` gives its output directly (a torch tensor here), before the pooling and the
# layers after it.

# %%
first = cnn.get_layer("first_conv")
learned = first.get_weights()[0]                       # (3, 3, 1, 8)
feature_maps = first(x_test[:1]).detach().numpy()[0]   # (8, 8, 8), after the ReLU
print("learned kernels:", learned.shape, "feature maps of one digit:", feature_maps.shape)

fig, axes = plt.subplots(2, 9, figsize=(11, 2.8))
show(axes[0, 0], x_test[0, :, :, 0], f"digit {y_test[0]}")
axes[1, 0].axis("off")
for k in range(8):
    show(axes[0, k + 1], learned[:, :, 0, k], f"kernel {k}", signed=True)
    show(axes[1, k + 1], feature_maps[:, :, k], f"map {k}")
course.save_figure(fig, "learned_kernels_and_maps")
course.result("first layer: share of feature-map cells that are zero after ReLU", float((feature_maps == 0).mean()))

# %% [markdown]
# The learned kernels are rarely as tidy as Sobel's, but many are recognisably edge or stroke
# detectors with a positive and a negative side. After the ReLU each map keeps only the places
# where its pattern occurs; the rest is zero. The layers after it combine these maps into
# detectors of larger shapes, and the last layer into digits.
#
# ## What to take away
#
# - A convolution slides one small kernel over the image: each output cell is a weighted sum of
#   the patch under the kernel. Deep-learning layers do not flip the kernel (cross-correlation).
# - Kernels are weights: you can set them (`set_weights`) to build filters by hand, and a trained
#   network finds its own, many of them edge detectors.
# - Exercise 3.1.1 asks you to write the sliding sum yourself and compares it with SciPy:
#   `regulab exercise start 3.1.1`.
