"""A small CNN on scikit-learn's 8x8 digits, held-out accuracy on a stratified 25% split.

Two 3x3 Conv2D layers, max pooling, a third Conv2D and pooling, dropout and a softmax; in training
the images are shifted by up to one pixel (``RandomTranslation``, zeros filled in). It reaches
about 99% of the held-out digits.

Run it: ``python examples/digits_cnn.py``.
"""
from __future__ import annotations

import math

from sklearn.model_selection import train_test_split

import regulab
from regulab.callbacks import LearningRateScheduler
from regulab.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D, RandomTranslation
from regulab.models import Sequential


def split(test_size: float = 0.25, seed: int = 0):
    """``(x_train, y_train), (x_test, y_test)``: the digits split with stratification, seeded."""
    x, y = regulab.datasets.load_digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)
    return (x_train, y_train), (x_test, y_test)


def build(width: int = 32, dropout: float = 0.3) -> Sequential:
    """The CNN, for (8, 8, 1) images in [0, 1]."""
    return Sequential([
        Input((8, 8, 1)),
        RandomTranslation(0.125, 0.125, fill_mode="constant"),   # one pixel of eight
        Conv2D(width, 3, padding="same", activation="relu"),
        Conv2D(width, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Conv2D(2 * width, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Flatten(),
        Dropout(dropout),
        Dense(10, activation="softmax"),
    ], name="digits_cnn")


def fit(x_train, y_train, epochs: int = 20, seed: int = 0, learning_rate: float = 3e-3) -> Sequential:
    """The CNN trained on ``(x_train, y_train)`` with Adam and a cosine decay of the learning rate."""
    regulab.set_random_seed(seed)
    model = build()
    model.compile(optimizer=regulab.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    schedule = LearningRateScheduler(
        lambda epoch, lr: learning_rate * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs)))
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0, seed=seed, callbacks=[schedule])
    return model


def accuracy(epochs: int = 20, seed: int = 0, split_seed: int = 0) -> float:
    """Held-out accuracy of the CNN trained for ``epochs`` on the training part of the split."""
    (x_train, y_train), (x_test, y_test) = split(seed=split_seed)
    model = fit(x_train, y_train, epochs=epochs, seed=seed)
    return float(model.evaluate(x_test, y_test, verbose=0)[1])


if __name__ == "__main__":
    print(f"digits cnn held-out accuracy: {accuracy():.3f}")
