"""7.1.1: a trained digits classifier with at least 97% held-out accuracy, no horizontal flips,
trained on the training images only."""
import numpy as np

from regulab.layers import RandomFlip
from regulab.models import Model
from regulab.preprocessing.image import ImageDataGenerator

TARGET = 0.97


def _flip_finding(run):
    for layer in getattr(run.model, "layers", []):
        if isinstance(layer, RandomFlip) and layer.mode != "vertical":
            return (f"the model has RandomFlip(mode={layer.mode!r}), which flips digits left to right: a flipped "
                    "2, 3 or 7 is no longer that digit; remove it and shift the images instead "
                    "(RandomTranslation(0.125, 0.125))")
    for name, generator in run.values_of_type(ImageDataGenerator).items():
        if generator.horizontal_flip:
            return (f"{name} = ImageDataGenerator(horizontal_flip=True, ...) flips digits left to right: a flipped "
                    "2, 3 or 7 is no longer that digit; set horizontal_flip=False and use width_shift_range and "
                    "height_shift_range instead")
    return None


def _trained_on_test(run):
    test = run.data["X_test"]
    for call in run.fits_of(run.model):
        x = call.arguments.get("x")
        if x is test or (isinstance(x, np.ndarray) and x.shape == test.shape and np.array_equal(x, test)):
            return True
    return False


def check(run):
    model = run.model
    if not isinstance(model, Model):
        yield f"`model` is a {type(model).__name__}, not a model; build it with Sequential([...]) or Model(inputs, outputs)"
        return
    if not model.compiled:
        yield ("the model is not compiled; call model.compile(optimizer='adam', "
               "loss='sparse_categorical_crossentropy', metrics=['accuracy']) before fit")
        return
    if run.fits is not None and not run.fits_of(model):
        yield "model.fit is never called, so the model is untrained; train it with model.fit(X_train, y_train, epochs=20)"
        return
    finding = _flip_finding(run)
    if finding:
        yield finding
        return
    if run.fits is not None and _trained_on_test(run):
        yield ("the model was trained on X_test, so its test accuracy says nothing about new digits; train on "
               "X_train, y_train and keep X_test for the check")
        return
    x_test, y_test = run.data["X_test"], run.data["y_test"]
    try:
        probabilities = np.asarray(model.predict(x_test, verbose=0))
    except Exception as error:  # the learner's model does not take the images as they are
        yield (f"model.predict(X_test) fails ({type(error).__name__}: {error}); X_test has shape {x_test.shape}, "
               "so start the model with Input((8, 8, 1)) (and Flatten() before any Dense layer)")
        return
    if probabilities.ndim != 2 or probabilities.shape[1] != 10:
        per_image = "x".join(str(n) for n in probabilities.shape[1:]) or "1"
        yield (f"the model outputs {per_image} number(s) per image, not one probability for each of the 10 digits; "
               "end it with Dense(10, activation='softmax') (labels are the integers 0-9, so use "
               "loss='sparse_categorical_crossentropy')")
        return
    accuracy = float((probabilities.argmax(axis=1) == y_test).mean())
    if accuracy < TARGET:
        yield (f"the model gets {accuracy:.1%} of the 450 held-out digits right, below the {TARGET:.0%} the task "
               "asks; add convolutional layers (Conv2D, MaxPooling2D) before Flatten and train for about 20 epochs")
