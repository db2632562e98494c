import re

import numpy as np
import pytest
import torch

import regulab
from regulab import mixed_precision
from tests.helpers import linear_data, seed_model


def _fit(precision, jit=False):
    x, y = linear_data(512)
    regulab.set_random_seed(0)
    model = seed_model("batchnorm")
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"], precision=precision, jit_compile=jit)
    h = model.fit(x, y, epochs=5, verbose=0, seed=0)
    return model, h


def test_bfloat16_computes_in_bfloat16_and_keeps_float32_state():
    seen = []
    model, h = _fit("mixed_bfloat16")
    kernel = model.layers[0].kernel.value
    assert kernel.dtype == torch.float32 and model.optimizer.slots[model.layers[0].kernel]["m"].dtype == torch.float32
    x, y = linear_data(64)
    out = model(x)
    assert out.dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        seen.append(torch.matmul(torch.ones(2, 2), torch.ones(2, 2)).dtype)
    assert seen == [torch.bfloat16]
    ref, h32 = _fit("float32")
    # bfloat16 has 8 bits of mantissa: close to float32 training, not equal
    assert not np.array_equal(model.get_weights()[0], ref.get_weights()[0])
    assert h.history["accuracy"][-1] == pytest.approx(h32.history["accuracy"][-1], abs=0.05)
    assert h.history["loss"][-1] == pytest.approx(h32.history["loss"][-1], rel=0.1)


def test_global_policy_and_aliases():
    mixed_precision.set_global_policy("bf16")
    try:
        model = seed_model("plain")
        assert model.precision == "mixed_bfloat16"
    finally:
        mixed_precision.set_global_policy("float32")
    assert seed_model("plain").precision == "float32"


def test_mixed_float16_is_refused_with_a_reason():
    with pytest.raises(ValueError, match=re.escape("'mixed_float16' needs loss scaling")):
        mixed_precision.set_global_policy("mixed_float16")
    with pytest.raises(ValueError, match="Did you mean 'mixed_bfloat16'"):
        seed_model("plain").compile("adam", "mse", precision="mixed_bfloat61")


def test_bfloat16_compiled_step_tracks_the_eager_one():
    eager, h_e = _fit("mixed_bfloat16")
    compiled, h_c = _fit("mixed_bfloat16", jit=True)
    assert h_c.params["engine"] == "compiled"
    # bfloat16 rounding differs between fused and unfused kernels: close, not equal
    np.testing.assert_allclose(h_c.history["loss"], h_e.history["loss"], rtol=1e-2)
