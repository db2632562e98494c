"""6.4.1: a repeatable run, checked by running the learner's file a second time, from other states of
every random generator, and comparing the two models' weights."""
import numpy as np

SEED = "tf.keras.utils.set_random_seed(0)"


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


def _run_again(run, path):
    """The ``model`` of a second run of the learner's file, started from other states of every random
    generator than the first run's (the checker seeds that one); an error message if it fails."""
    import contextlib
    import io
    from pathlib import Path

    import regulab
    from regulab.compat import aliased

    namespace = {"__name__": "__main__", "__file__": path, **run.exercise.data()}
    regulab.set_random_seed(12345)
    out = io.StringIO()
    try:
        code = compile(Path(path).read_text(encoding="utf-8"), path, "exec")
        with aliased(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(code, namespace)
    except Exception as error:  # noqa: BLE001 - reported as a finding
        return f"{type(error).__name__}: {error}"
    if "model" not in namespace:
        return "it defines no `model`"
    return namespace["model"]


def check(run):
    model = run.model
    if run.fits is not None and not run.fits_of(model):
        yield "model.fit is never called; keep the starting point's model.fit(...)"
        return
    path = run.namespace.get("__file__")
    if not path:  # a notebook: nothing to run again
        return
    again = _run_again(run, path)
    if isinstance(again, str):
        yield f"running your file a second time failed: {again}"
        return
    first, second = _weights(model), _weights(again)
    if len(first) == len(second) and all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, second)):
        return
    difference = max(float(np.abs(a - b).max()) for a, b in zip(first, second)) if len(first) == len(second) else None
    said = "two runs of your file train different weights" + (
        f" (largest difference {difference:.3g})" if difference is not None else "")
    seeded_fit = run.fits and run.fits_of(model) and run.fits_of(model)[-1].arguments.get("seed") is not None
    if seeded_fit:
        yield (f"{said}: fit(seed=...) fixes the fit's shuffles, dropout masks and split, but not the initial "
               f"weights, drawn when the model is built; call {SEED} at the top of the file")
    else:
        yield (f"{said}; call {SEED} at the top of the file, before the model is built, so that the initial "
               "weights, the shuffles, the dropout masks and the validation split repeat")
