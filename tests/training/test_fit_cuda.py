"""The same fit on CUDA as on CPU (skipped where no GPU is present)."""
import warnings

import numpy as np
import pytest
import torch

import regulab
from regulab.training._captured import StaticStep
from tests.helpers import linear_data, seed_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("kind", ["l2", "dropout", "batchnorm"])
def test_cuda_fit_matches_cpu_fit(kind):
    x, y = linear_data(512)
    results = []
    for device in ("cpu", "cuda"):
        regulab.set_random_seed(0)
        model = seed_model(kind)
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", "auc"], device=device)
        h = model.fit(x, y, epochs=3, validation_split=0.2, verbose=0, seed=0)
        results.append((h.history, model.get_weights()))
    (h_cpu, w_cpu), (h_gpu, w_gpu) = results
    for a, b in zip(w_cpu, w_gpu):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)  # same masks: counter-based RNG
    assert h_cpu["val_accuracy"] == pytest.approx(h_gpu["val_accuracy"], abs=0.01)


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_captured_step_matches_eager_on_cuda(precision):
    x, y = linear_data(512)
    results = []
    for jit, k in ((False, 1), (True, 1), (True, 4)):
        regulab.set_random_seed(0)
        model = seed_model("dropout")
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cuda",
                      jit_compile=jit, steps_per_execution=k, precision=precision)
        start = model.get_weights()
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a failed capture warns: fail on it
            # 460 training samples: 14 full batches (groups of 4 and leftovers run eagerly) and a partial one
            model.fit(x, y, epochs=2, validation_split=0.1, verbose=0, seed=0)
            # weights and learning rate replaced from outside between fits of one captured step
            model.set_weights(start)
            model.optimizer.learning_rate = 0.002
            h = model.fit(x, y, epochs=2, validation_split=0.1, verbose=0, seed=1)
        assert h.params["engine"] == ("compiled" if jit else "eager")
        if jit:
            (step,) = [s for s in model._compiled_steps.values() if isinstance(s, StaticStep)]
            assert step.graph is not None  # captured, not merely compiled
        results.append((h.history, model.get_weights()))
    tol = dict(rtol=1e-3, atol=1e-5) if precision == "float32" else dict(rtol=0.05, atol=0.02)
    (h_e, w_e), *others = results
    for h_c, w_c in others:
        for a, b in zip(w_e, w_c):
            np.testing.assert_allclose(a, b, **tol)
        np.testing.assert_allclose(h_e["val_loss"], h_c["val_loss"], **tol)


def test_captured_stacked_variants_match_eager_on_cuda():
    from regulab.lab import fit_variants

    x, y = linear_data(300)  # 9 full batches (two calls of 4 steps, one left over) and a partial one
    runs = []
    for jit in (False, True):
        models = []
        for seed in range(4):
            regulab.set_random_seed(seed)
            model = seed_model("dropout")
            model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cuda")
            models.append(model)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            h = fit_variants(models, x, y, seeds=[0, 1, 2, 3], epochs=2, jit_compile=jit, steps_per_execution=4)
        if jit:
            (step,) = models[0]._compiled_steps.values()
            assert step.graph is not None
        runs.append((h, [m.get_weights() for m in models]))
    (h_e, w_e), (h_c, w_c) = runs
    for a, b in zip(h_e, h_c):
        np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-4)
    for wa, wb in zip(w_e, w_c):
        for a, b in zip(wa, wb):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_compiled_evaluate_and_predict_on_cuda():
    x, y = linear_data(300)
    results = []
    for jit in (False, True):
        regulab.set_random_seed(0)
        model = seed_model("batchnorm")
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", "auc"], device="cuda",
                      jit_compile=jit)
        results.append((model.evaluate(x, y, batch_size=128, verbose=0), model.predict(x, batch_size=128)))
    (ev_e, p_e), (ev_c, p_c) = results
    np.testing.assert_allclose(ev_c, ev_e, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(p_c, p_e, rtol=1e-4, atol=1e-5)
