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
# # 5.2 Autoencoders
#
# An **autoencoder** is a network trained to output its own input. That sounds pointless until
# you squeeze the data through a narrow layer in the middle, the **bottleneck** or **code**: an
# *encoder* must compress each image into a few numbers, and a *decoder* must rebuild the image
# from them. To do that well, the code has to keep what matters about the image and drop the rest.
#
# The training needs no labels (the target is the input), which makes autoencoders useful for
# compression, for visualising data in two dimensions, for removing noise and for spotting
# unusual samples (lesson 7.3). We build a dense and a convolutional autoencoder on the 8x8
# digits.

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

import regulab
from regulab import course
from regulab.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D, Reshape, UpSampling2D
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 4 if QUICK else 60
CONV_EPOCHS = 1 if QUICK else 30
regulab.set_random_seed(0)
x, y = regulab.datasets.load_digits()
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
print(x_train.shape, x_test.shape)


def reconstruction_error(images, reconstructions):
    """Mean squared error per pixel, averaged over the images."""
    return float(np.mean((images - reconstructions) ** 2))


def show_rows(rows, title=None, count=10):
    """Draw rows of 8x8 images (a dict: row name -> images) as one picture."""
    gap = np.ones((8, 1))
    lines = [np.hstack([np.hstack([np.clip(img[..., 0], 0, 1), gap]) for img in images[:count]])
             for images in rows.values()]
    picture = np.vstack([np.vstack([line, np.ones((1, line.shape[1]))]) for line in lines])[:-1, :-1]
    fig, ax = plt.subplots(figsize=(0.8 * count, 0.8 * len(rows) + 0.4))
    ax.imshow(picture, cmap="gray_r", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([9 * r + 3.5 for r in range(len(rows))], list(rows))
    if title:
        ax.set_title(title)
    return fig


# %% [markdown]
# ## A dense autoencoder
#
# The encoder maps 64 pixels to a code of 8 numbers; the decoder maps the code back to 64
# pixels, with a sigmoid because pixels lie in [0, 1]. The two halves are models of their own,
# stacked into one: after training, `encoder.predict` gives the codes. The loss is the mean
# squared difference between input and output, and `fit` gets the images as both `x` and `y`.

# %%
CODE = 8


def dense_autoencoder(code):
    encoder = Sequential([Input((8, 8, 1)), Flatten(), Dense(128, activation="relu"), Dense(code)], name="encoder")
    decoder = Sequential([Input((code,)), Dense(128, activation="relu"), Dense(64, activation="sigmoid"),
                          Reshape((8, 8, 1))], name="decoder")
    autoencoder = Sequential([encoder, decoder], name="autoencoder")
    autoencoder.compile(optimizer=regulab.optimizers.Adam(3e-3), loss="mse")
    return encoder, autoencoder


encoder, dense_ae = dense_autoencoder(CODE)
dense_ae.summary()
dense_ae.fit(x_train, x_train, epochs=EPOCHS, batch_size=32, verbose=0, seed=0)
dense_error = reconstruction_error(x_test, dense_ae.predict(x_test, verbose=0))
course.result("dense autoencoder (code 8): held-out reconstruction error", dense_error)

# %% [markdown]
# What do those numbers mean? Two references: predicting the average training image for every
# digit (what a network that learnt nothing would do), and PCA with 8 components, the best
# *linear* compression into 8 numbers. An autoencoder with no nonlinearity learns exactly what
# PCA finds; the ReLU layers are what let it do better.

# %%
mean_error = reconstruction_error(x_test, np.broadcast_to(x_train.mean(axis=0), x_test.shape))
pca = PCA(CODE, random_state=0).fit(x_train.reshape(len(x_train), -1))
pca_error = reconstruction_error(x_test, pca.inverse_transform(pca.transform(x_test.reshape(len(x_test), -1)))
                                 .reshape(x_test.shape))
course.result("mean training image: held-out reconstruction error", mean_error)
course.result("PCA with 8 components: held-out reconstruction error", pca_error)

# %% [markdown]
# ## A convolutional autoencoder
#
# For images, convolutions are the natural encoder: `Conv2D` and `MaxPooling2D` shrink 8x8 to
# 2x2 while adding channels, and the decoder mirrors it with `UpSampling2D` (which repeats each
# pixel) and more convolutions. With 2 channels at 2x2 its code holds the same 8 numbers as the
# dense one.

# %%
regulab.set_random_seed(0)
conv_ae = Sequential([
    Input((8, 8, 1)),
    Conv2D(32, 3, padding="same", activation="relu"), MaxPooling2D(2),        # 4x4x32
    Conv2D(32, 3, padding="same", activation="relu"), MaxPooling2D(2),        # 2x2x32
    Conv2D(2, 1, name="code"),                                                # 2x2x2: 8 numbers
    UpSampling2D(2), Conv2D(32, 3, padding="same", activation="relu"),        # 4x4x32
    UpSampling2D(2), Conv2D(32, 3, padding="same", activation="relu"),        # 8x8x32
    Conv2D(1, 3, padding="same", activation="sigmoid"),                       # 8x8x1
], name="conv_autoencoder")
conv_ae.compile(optimizer=regulab.optimizers.Adam(3e-3), loss="mse")
conv_ae.fit(x_train, x_train, epochs=CONV_EPOCHS, batch_size=64, verbose=0, seed=0)
conv_reconstructions = conv_ae.predict(x_test, verbose=0)
course.result("convolutional autoencoder (code 8): held-out reconstruction error",
              reconstruction_error(x_test, conv_reconstructions))
course.result("parameters: dense / convolutional", f"{dense_ae.count_params()} / {conv_ae.count_params()}")

# %% [markdown]
# On images this small the convolutional autoencoder has no advantage: a dense layer already
# sees all 64 pixels at once, and the convolutional one spends its parameters on filters that
# are shared across positions. Convolutions pay off on larger images, where a dense layer
# would need millions of weights. Both beat PCA's linear code of the same size.

# %%
rows = {"original": x_test, "dense": dense_ae.predict(x_test, verbose=0), "convolutional": conv_reconstructions,
        "PCA": pca.inverse_transform(pca.transform(x_test.reshape(len(x_test), -1))).reshape(x_test.shape)}
fig = show_rows(rows, "held-out digits and their reconstructions from 8 numbers")
course.save_figure(fig, "reconstructions")

# %% [markdown]
# ## A two-dimensional code
#
# With a code of only 2 numbers we can *draw* what the encoder learnt: each held-out digit
# becomes a point, coloured here by its label, which the autoencoder never saw. Digits of the
# same class land near each other because they look alike, and classes that look similar sit
# side by side. PCA's first two components are shown for comparison.

# %%
regulab.set_random_seed(0)
encoder_2d, ae_2d = dense_autoencoder(2)
ae_2d.fit(x_train, x_train, epochs=EPOCHS, batch_size=32, verbose=0, seed=0)
codes = encoder_2d.predict(x_test, verbose=0)
pca_2d = PCA(2, random_state=0).fit(x_train.reshape(len(x_train), -1))
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
for ax, points, title in ((axes[0], codes, "autoencoder code (2 numbers)"),
                          (axes[1], pca_2d.transform(x_test.reshape(len(x_test), -1)), "PCA, 2 components")):
    scatter = ax.scatter(points[:, 0], points[:, 1], c=y_test, cmap="tab10", s=8)
    ax.set_title(title)
fig.colorbar(scatter, ax=axes, ticks=range(10), label="digit")
course.save_figure(fig, "bottleneck_2d")
course.result("2-D autoencoder: held-out reconstruction error",
              reconstruction_error(x_test, ae_2d.predict(x_test, verbose=0)))

# %% [markdown]
# How well separated are the classes in that picture? A nearest-neighbour classifier on the 2-D
# codes measures it: the share of held-out digits whose nearest training code has the same label.

# %%
from sklearn.neighbors import KNeighborsClassifier

train_codes = encoder_2d.predict(x_train, verbose=0)
knn_ae = KNeighborsClassifier(5).fit(train_codes, y_train).score(codes, y_test)
knn_pca = KNeighborsClassifier(5).fit(pca_2d.transform(x_train.reshape(len(x_train), -1)), y_train).score(
    pca_2d.transform(x_test.reshape(len(x_test), -1)), y_test)
course.result("5-nearest-neighbour accuracy on the 2-D autoencoder codes", knn_ae)
course.result("5-nearest-neighbour accuracy on the 2 PCA components", knn_pca)

# %% [markdown]
# Trained long enough, the autoencoder's two numbers separate the classes better than PCA's two
# components: its nonlinear encoder can bend the map so that each class gets its own region.

# %% [markdown]
# ## Denoising
#
# A **denoising autoencoder** gets a corrupted image as input and the clean image as target. To
# undo the noise it must learn what digits look like. We add Gaussian noise (standard deviation
# 0.3) and compare, on noisy held-out digits, the plain dense autoencoder (trained on clean
# images) with one trained on noisy inputs.

# %%
NOISE = 0.3
rng = np.random.default_rng(0)
noisy_train = np.clip(x_train + NOISE * rng.standard_normal(x_train.shape), 0, 1).astype(np.float32)
noisy_test = np.clip(x_test + NOISE * rng.standard_normal(x_test.shape), 0, 1).astype(np.float32)
regulab.set_random_seed(0)
_, denoiser = dense_autoencoder(CODE)
denoiser.fit(noisy_train, x_train, epochs=EPOCHS, batch_size=32, verbose=0, seed=0)
denoised = denoiser.predict(noisy_test, verbose=0)
course.result("noisy held-out digits: error of the noisy input itself", reconstruction_error(x_test, noisy_test))
course.result("noisy held-out digits: error after the plain autoencoder",
              reconstruction_error(x_test, dense_ae.predict(noisy_test, verbose=0)))
course.result("noisy held-out digits: error after the denoising autoencoder", reconstruction_error(x_test, denoised))

# %%
fig = show_rows({"clean": x_test, "noisy": noisy_test, "denoised": denoised})
course.save_figure(fig, "denoising")

# %% [markdown]
# The plain autoencoder removes some of the noise simply because its narrow code cannot
# represent it; the denoising autoencoder, which was trained for exactly this, removes much more.

# %% [markdown]
# ## What to take away
#
# - An autoencoder learns a compressed code without labels, by rebuilding its input.
# - Judge its reconstruction error against references: the mean image and PCA, the best linear code.
# - A 2-D code is a map of the data; a denoising autoencoder learns what clean data look like.
# - Exercise 5.2.1 asks you to build the encoder and decoder of a dense autoencoder with an
#   8-number code: `regulab exercise start 5.2.1`.
