"""7.3.1: anomaly_scores(model, x) gives one score per image, larger for worse reconstructions, and
the ROC-AUC of the trained autoencoder's scores for the held-out 5-9 against the 0-4 is at least 0.9;
the autoencoder learned the digits 0-4 only."""
import numpy as np
from sklearn.metrics import roc_auc_score

from regulab.models import Model

TARGET = 0.9
FORMULA = "((model.predict(x, verbose=0) - x) ** 2).reshape(len(x), -1).mean(axis=1)"


def _trained_on_anomalies(run):
    y_train = run.data["y_train"]
    for call in run.fits_of(run.model):
        x = call.arguments.get("x")
        if isinstance(x, np.ndarray) and len(x) > int((y_train < 5).sum()):
            return len(x)
    return None


def check(run):
    model, function = run.model, run.namespace.get("anomaly_scores")
    if not isinstance(model, Model):
        yield f"`model` is a {type(model).__name__}, not a model; keep the starting point's autoencoder in `model`"
        return
    if not callable(function):
        yield "anomaly_scores is not a function; define it with def anomaly_scores(model, x):"
        return
    if run.fits is not None and not run.fits_of(model):
        yield "model.fit is never called, so the autoencoder is untrained; keep model.fit(normal, normal, epochs=30, ...)"
        return
    seen = _trained_on_anomalies(run) if run.fits is not None else None
    if seen:
        yield (f"the autoencoder was trained on {seen} images, more than X_train holds of the digits 0-4, so it "
               "learned the anomalies too; train it on normal = X_train[y_train < 5] only")
        return
    x_test, y_test = run.data["X_test"], run.data["y_test"]
    try:
        scores = function(model, x_test)
    except Exception as error:
        yield f"anomaly_scores(model, X_test) raises {type(error).__name__}: {error}"
        return
    try:
        scores = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        yield f"anomaly_scores returns a {type(scores).__name__}; return a NumPy array of one number per image"
        return
    if scores.size == x_test.size and scores.size != len(x_test):
        yield (f"anomaly_scores returns {scores.shape} numbers, one per pixel; average over each image's pixels "
               "to get one score per image: .reshape(len(x), -1).mean(axis=1)")
        return
    if scores.size != len(x_test):
        yield (f"anomaly_scores(model, X_test) returns {scores.size} number(s) for {len(x_test)} images; return "
               "one per image (a mean over the whole batch gives a single number): " + FORMULA)
        return
    scores = scores.reshape(-1)
    if not np.all(np.isfinite(scores)):
        yield "some anomaly scores are NaN or infinite; score each image by its mean squared reconstruction error"
        return
    if np.ptp(scores) == 0:
        yield ("anomaly_scores gives every image the same score, so it cannot tell anomalies apart; score each "
               "image by how badly the model reconstructs it: " + FORMULA)
        return
    auc = float(roc_auc_score(y_test >= 5, scores))
    if auc <= 1 - TARGET:
        yield (f"the ROC-AUC is {auc:.3f}: your scores are reversed, higher for the normal digits; return the "
               "reconstruction error itself (larger means more anomalous), not its negative or its inverse")
        return
    if auc < TARGET:
        yield (f"the ROC-AUC of your scores is {auc:.3f}, below {TARGET}; score each image by its mean squared "
               "reconstruction error: " + FORMULA)
