"""5.2.1: an encoder to 8 numbers, a decoder back to (8, 8, 1), trained on its own input, and a
held-out reconstruction error below PCA's with the same 8 numbers."""
import numpy as np

CODE = 8


def _pca_error(data) -> float:
    from sklearn.decomposition import PCA

    train = data["X_train"].reshape(len(data["X_train"]), -1)
    test = data["X_test"].reshape(len(data["X_test"]), -1)
    pca = PCA(CODE, random_state=0).fit(train)
    return float(np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2))


def check(run):
    encoder, decoder, model = run.namespace["encoder"], run.namespace["decoder"], run.model
    x_test = np.asarray(run.data["X_test"], dtype=np.float32)
    for name, value in (("encoder", encoder), ("decoder", decoder), ("model", model)):
        if not hasattr(value, "predict"):
            yield f"`{name}` is a {type(value).__name__}, not a model; build it with Sequential([...])"
            return
    code = np.asarray(encoder.predict(x_test[:4], verbose=0))
    size = int(np.prod(code.shape[1:]))
    if size >= 64:
        yield (f"the encoder's code has {size} numbers, as many as an image has pixels, so the autoencoder can "
               f"learn to copy its input instead of compressing it; end the encoder with Dense({CODE})")
        return
    if size != CODE:
        yield f"the encoder's code has {size} numbers; the task asks for {CODE}: end the encoder with Dense({CODE})"
        return
    try:
        rebuilt = np.asarray(decoder.predict(code.reshape(len(code), -1), verbose=0))
    except Exception as error:  # noqa: BLE001 - the decoder does not take 8 numbers
        yield (f"the decoder cannot take the encoder's {CODE} numbers ({type(error).__name__}: {error}); "
               f"start it with Input(({CODE},))")
        return
    if rebuilt.shape[1:] != (8, 8, 1):
        yield (f"the decoder outputs shape {rebuilt.shape[1:]}, not an image (8, 8, 1); end it with "
               "Dense(64, activation='sigmoid') and Reshape((8, 8, 1))")
        return
    if encoder not in model.layers or decoder not in model.layers:
        yield "`model` is not made of your encoder and decoder; build model = Sequential([encoder, decoder])"
        return
    if run.fits is not None:
        calls = run.fits_of(model)
        if not calls:
            yield "model.fit is never called; train the autoencoder with model.fit(X_train, X_train, epochs=30)"
            return
        x, y = calls[-1].arguments.get("x"), calls[-1].arguments.get("y")
        if y is None or np.shape(y) != np.shape(x) or not np.array_equal(np.asarray(y), np.asarray(x)):
            yield ("the fit's target is not its input; an autoencoder learns to rebuild the images it is given: "
                   "model.fit(X_train, X_train, ...)")
            return
    error = float(np.mean((np.asarray(model.predict(x_test, verbose=0)) - x_test) ** 2))
    reference = _pca_error(run.data)
    if error >= reference:
        yield (f"the held-out reconstruction error is {error:.4f}, no better than PCA with {CODE} components "
               f"({reference:.4f}); train longer (epochs=30) and give the encoder and decoder a hidden "
               "Dense(128, activation='relu') layer each")
