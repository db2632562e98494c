"""5.3.1: transfer learning, a pretrained convolutional base frozen under a new head, checked by the
weights that train, by what the fit did to the base (the pretrained model must still know 0-4)
and by the held-out accuracy on 5-9 from 20 labels per class."""
import numpy as np

LABELS_PER_CLASS = 20
MIN_ACCURACY = 0.85


def data() -> dict:
    """``X_source, y_source``: every training image of the digits 0-4; ``X_train, y_train``: 20
    images per class of 5-9 (labelled 0-4); ``X_test, y_test``: the held-out 5-9; and the held-out
    0-4 as ``X_source_test, y_source_test``."""
    from sklearn.model_selection import train_test_split

    from regulab.datasets import load_digits

    x, y = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
    pool_x, pool_y = x_train[y_train >= 5], y_train[y_train >= 5] - 5
    rng = np.random.default_rng(0)
    chosen = np.concatenate([rng.choice(np.flatnonzero(pool_y == c), LABELS_PER_CLASS, replace=False)
                             for c in range(5)])
    return {"X_source": x_train[y_train < 5], "y_source": y_train[y_train < 5],
            "X_train": pool_x[chosen], "y_train": pool_y[chosen],
            "X_test": x_test[y_test >= 5], "y_test": y_test[y_test >= 5] - 5,
            "X_source_test": x_test[y_test < 5], "y_source_test": y_test[y_test < 5]}


def _accuracy(model, x, y) -> float:
    return float((np.asarray(model.predict(x, verbose=0)).argmax(axis=1) == y).mean())


def check(run):
    base, model, pretrained = run.namespace["base"], run.model, run.namespace.get("pretrained")
    if base not in getattr(model, "layers", []):
        yield ("`model` does not contain the pretrained `base`; build "
               "model = Sequential([base, Dense(5, activation='softmax')])")
        return
    if base.trainable:
        yield ("the pretrained base is still trainable, so fitting on 100 images overwrites what it learnt on "
               "the digits 0-4; set base.trainable = False before training the new model")
        return
    head = model.layers[-1]
    if pretrained is not None and head in getattr(pretrained, "layers", []):
        yield ("the model reuses the pretrained model's 0-4 head, whose weights belong to the old classes; give "
               "it a new head, Dense(5, activation='softmax')")
        return
    trainable = {id(v) for v in model.trainable_weights}
    if not trainable:
        yield "the model has no trainable weights left: freeze the base only, not the new head"
        return
    if trainable & {id(v) for v in base.weights}:
        yield "some of the base's weights are still trainable; set base.trainable = False on the whole base"
        return
    if run.fits is not None and not run.fits_of(model):
        yield "the new model is never trained; call model.fit(X_train, y_train, epochs=30)"
        return
    data = run.data
    if pretrained is not None and hasattr(pretrained, "predict"):
        old = _accuracy(pretrained, data["X_source_test"], data["y_source_test"])
        if old < 0.8:
            yield (f"the pretrained model now gets only {old:.0%} of the held-out digits 0-4: training on 5-9 "
                   "changed the base it shares with your new model; freeze the base before that fit")
            return
    accuracy = _accuracy(model, data["X_test"], data["y_test"])
    if accuracy < MIN_ACCURACY:
        yield (f"the model gets {accuracy:.0%} of the held-out digits 5-9 (the task expects at least "
               f"{MIN_ACCURACY:.0%} from the frozen features); train the new head longer (epochs=30) or with a "
               "larger learning rate (Adam(0.01))")
