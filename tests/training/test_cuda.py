"""The same fit on CUDA as on CPU (skipped where no GPU is present)."""
import numpy as np
import pytest
import torch

import regulab
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


def test_captured_step_matches_eager_on_cuda():
    x, y = linear_data(512)
    weights = []
    for jit, k in ((False, 1), (True, 1), (True, 4)):
        regulab.set_random_seed(0)
        model = seed_model("dropout")
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device="cuda",
                      jit_compile=jit, steps_per_execution=k)
        h = model.fit(x, y, epochs=2, verbose=0, seed=0)
        assert h.params["engine"] == ("compiled" if jit else "eager")
        weights.append(model.get_weights())
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
