"""3.4.1: a CNN (Conv2D and MaxPooling2D before the Flatten) trained to 95% on the held-out digits."""
import numpy as np

from regulab.course._checks import layers_of
from regulab.layers import Conv2D, Flatten, MaxPooling2D

THRESHOLD = 0.95


def check(run):
    model = run.model
    convs = layers_of(model, Conv2D)
    if not convs:
        yield ("the model has no Conv2D layer, so it is still a dense network; add "
               "Conv2D(32, 3, padding='same', activation='relu') right after the Input, before the Flatten")
        return
    if not layers_of(model, MaxPooling2D):
        yield "the model has no MaxPooling2D layer; put MaxPooling2D(2) after a Conv2D to halve the 8x8 maps"
        return
    order = list(model.layers)
    flatten = layers_of(model, Flatten)
    if flatten and order.index(flatten[0]) < order.index(convs[0]):
        yield "the first Conv2D comes after Flatten, which has already lost the image layout; put it before Flatten"
        return
    if run.fits is not None and not run.fits_of(model):
        yield "model.fit is never called; train it, e.g. model.fit(X_train, y_train, epochs=10, batch_size=32)"
        return
    if not model.compiled:
        yield "the model is not compiled; keep model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', ...)"
        return
    predicted = np.asarray(model.predict(run.data["X_test"], verbose=0))
    if predicted.ndim != 2 or predicted.shape[1] != 10:
        yield f"the model outputs shape {predicted.shape[1:]} per image; end it with Dense(10, activation='softmax')"
        return
    accuracy = float((predicted.argmax(axis=1) == run.data["y_test"]).mean())
    if accuracy < THRESHOLD:
        yield (f"your CNN classifies {100 * accuracy:.1f}% of the held-out digits correctly, below "
               f"{100 * THRESHOLD:.0f}%; train a few more epochs (10-20) or add a second Conv2D/MaxPooling2D block")
