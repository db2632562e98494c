"""2.1.1: one hidden layer of at most 8 units that separates the circles (95% held out)."""
import numpy as np

from regulab import activations
from regulab.layers import Dense

TARGET, MAX_UNITS = 0.95, 8


def data():
    from sklearn.datasets import make_circles
    from sklearn.model_selection import train_test_split

    x, y = make_circles(n_samples=600, noise=0.1, factor=0.5, random_state=0)
    x_train, x_test, y_train, y_test = train_test_split(x.astype(np.float32), y.astype(np.float32),
                                                        test_size=0.25, random_state=0, stratify=y)
    return {"X_train": x_train, "y_train": y_train, "X_test": x_test, "y_test": y_test}


def check(run):
    model = run.model
    if not hasattr(model, "layers") or not hasattr(model, "predict"):
        yield f"`model` is a {type(model).__name__}, not a model; build it with Sequential([...])"
        return
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    hidden = dense[:-1]
    if not hidden:
        yield ("the model has no hidden layer, so its boundary is a single straight line and no line separates two "
               "rings; put one hidden Dense layer with activation='relu' before the output")
        return
    if len(hidden) > 1:
        yield (f"the model has {len(hidden)} hidden Dense layers; the task asks for exactly one, to see how many "
               "units a single layer needs")
        return
    layer = hidden[0]
    if layer.units > MAX_UNITS:
        yield (f"the hidden layer has {layer.units} units; the task asks for at most {MAX_UNITS}: find out how few "
               "are enough for the circles")
        return
    if layer.activation is activations.linear:
        yield ("the hidden layer has no activation, so the model is linear and draws one straight line; give it "
               "activation='relu'")
        return
    if not model.compiled:
        yield "the model is not compiled; keep the starting point's model.compile(...)"
        return
    if run.fits is not None and not run.fits_of(model):
        yield "model.fit is never called, so the model keeps its random weights; train it as the starting point does"
        return
    p = np.asarray(model.predict(run.data["X_test"], verbose=0)).reshape(len(run.data["X_test"]), -1)
    predicted = p.argmax(axis=1) if p.shape[1] > 1 else (p[:, 0] > 0.5)
    accuracy = float((predicted == run.data["y_test"]).mean())
    if accuracy >= TARGET:
        return
    if layer.units < 3:
        yield (f"with {layer.units} hidden unit{'s' if layer.units > 1 else ''} the held-out accuracy is "
               f"{accuracy:.3f}, below {TARGET}: each relu unit adds one straight fold, and {layer.units} "
               f"fold{'s' if layer.units > 1 else ''} cannot close around the inner ring; use more units")
    else:
        yield (f"with {layer.units} hidden units the held-out accuracy is {accuracy:.3f}, below {TARGET}; this "
               "width can work but training got stuck or stopped early: use a few more units (spare units make "
               "training reliable) or train longer")
