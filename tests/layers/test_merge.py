"""Merge layers against NumPy, with Keras 3's cases (keras/src/layers/merging/merging_test.py)."""
import re

import numpy as np
import pytest
import torch

from regulab.layers import (Add, Average, Concatenate, Dot, Input, Maximum, Minimum, Multiply, Subtract, add,
                            average, concatenate, dot, maximum, minimum, multiply, subtract)
from regulab.models import Model


def np_dot(a, b, axes):
    out = np.stack([np.tensordot(a[i], b[i], axes=(axes[0] - 1, axes[1] - 1)) for i in range(a.shape[0])])
    return out.reshape(a.shape[0], 1) if out.ndim == 1 else out


CASES = [
    (Add, lambda a, b: a + b, (2, 4, 5)),
    (Subtract, lambda a, b: a - b, (2, 4, 5)),
    (Minimum, np.minimum, (2, 4, 5)),
    (Maximum, np.maximum, (2, 4, 5)),
    (Multiply, lambda a, b: a * b, (2, 4, 5)),
    (Average, lambda a, b: (a + b) * 0.5, (2, 4, 5)),
    (lambda: Concatenate(axis=-1), lambda a, b: np.concatenate([a, b], -1), (2, 4, 10)),
]


@pytest.mark.parametrize("make, ref, out_shape", CASES)
@pytest.mark.parametrize("batch", [2, None])
def test_correctness_in_a_model(make, ref, out_shape, batch):
    # Keras: test_correctness_static / test_correctness_dynamic
    i1, i2 = Input((4, 5), batch_size=batch), Input((4, 5), batch_size=batch)
    model = Model([i1, i2], make()([i1, i2]))
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 4, 5)).astype("float32"), rng.random((2, 4, 5)).astype("float32")
    out = model.predict([a, b], verbose=0)
    assert out.shape == out_shape
    np.testing.assert_allclose(out, ref(a, b), atol=1e-4)


@pytest.mark.parametrize("shape, axes, out_shape", [((4,), -1, (1,)), ((4, 5), -1, (4, 4))])
def test_dot_matches_numpy(shape, axes, out_shape):
    i1, i2 = Input(shape), Input(shape)
    model = Model([i1, i2], Dot(axes=axes)([i1, i2]))
    rng = np.random.default_rng(1)
    a, b = rng.random((2, *shape)).astype("float32"), rng.random((2, *shape)).astype("float32")
    out = model.predict([a, b], verbose=0)
    assert out.shape == (2, *out_shape)
    rank = len(shape) + 1
    np.testing.assert_allclose(out, np_dot(a, b, (axes % rank, axes % rank)), atol=1e-5)


def test_dot_higher_dim_and_normalize():
    # Keras: test_dot_higher_dim: (1,3,2) . (1,1,2,3) on axes (-2, -1) -> (1, 2, 1, 2)
    a, b = torch.rand(1, 3, 2), torch.rand(1, 1, 2, 3)
    layer = Dot(axes=(-2, -1))
    assert layer([a, b]).shape == (1, 2, 1, 2)
    assert Dot(axes=(-2, -1))([Input((3, 2)), Input((1, 2, 3))]).shape == (None, 2, 1, 2)
    np.testing.assert_allclose(layer([a, b]).numpy(), np_dot(a.numpy(), b.numpy(), (1, 3)), atol=1e-6)
    x, y = torch.rand(3, 5), torch.rand(3, 5)
    cos = torch.nn.functional.cosine_similarity(x, y).reshape(3, 1)
    torch.testing.assert_close(Dot(axes=1, normalize=True)([x, y]), cos)


def test_values_of_keras_masking_cases_without_masks():
    x1 = torch.tensor([[[0.0, 0], [1, 2], [0, 0], [3, 4]]])
    x2 = torch.tensor([[[0.0, 0], [0, 0], [1, 2], [3, 4]]])
    assert Add()([x1, x2]).tolist() == [[[0, 0], [1, 2], [1, 2], [6, 8]]]
    assert Subtract()([x1, x2]).tolist() == [[[0, 0], [1, 2], [-1, -2], [0, 0]]]
    assert Average()([x1, x2]).tolist() == [[[0, 0], [0.5, 1], [0.5, 1], [3, 4]]]
    assert Multiply()([x1, x2]).tolist() == [[[0, 0], [0, 0], [0, 0], [9, 16]]]
    assert Minimum()([x1, x2]).tolist() == [[[0, 0], [0, 0], [0, 0], [3, 4]]]
    assert Maximum()([-x1, -x2]).tolist() == [[[0, 0], [0, 0], [0, 0], [-3, -4]]]
    assert Concatenate(axis=1)([x1, x2]).shape == (1, 8, 2)
    assert Concatenate(axis=2)([x1, x2]).tolist() == [[[0, 0, 0, 0], [1, 2, 0, 0], [0, 0, 1, 2], [3, 4, 3, 4]]]


def test_functional_forms():
    a, b = Input((3,)), Input((3,))
    for fn in (add, subtract, multiply, average, maximum, minimum, concatenate):
        assert fn([a, b]).shape[0] is None
    assert dot([a, b], axes=1).shape == (None, 1)
    assert concatenate([a, b], axis=1).shape == (None, 6)


def test_subtract_needs_exactly_two_inputs():
    with pytest.raises(ValueError, match=re.escape("(Subtract) should be called on exactly 2 inputs. Received: 3 input(s).")):
        Subtract()([Input((2,)), Input((2,)), Input((2,))])
    with pytest.raises(ValueError, match=re.escape("should be called on a list of inputs")):
        Add()(Input((2,)))


def test_concatenate_errors_name_the_axis_and_shapes():
    # Keras: test_concatenate_errors
    assert Concatenate(axis=-1)([Input((1, 1, 1, 5)), Input((1, 1, 1, 4))]).shape == (None, 1, 1, 1, 9)
    with pytest.raises(ValueError, match=re.escape(
            "requires inputs with matching shapes except for the concatenation axis (axis=-1). Received: input "
            "shapes [(None, 2, 1, 1, 5), (None, 1, 1, 1, 4)]")):
        Concatenate(axis=-1)([Input((2, 1, 1, 5)), Input((1, 1, 1, 4))])


def test_elementwise_shapes_must_agree():
    with pytest.raises(ValueError, match=re.escape(
            "must have the same shape (axes of size 1 broadcast). Received: input shapes [(None, 3), (None, 4)]")):
        Add()([Input((3,)), Input((4,))])
    assert Add()([Input((3, 1)), Input((3, 4))]).shape == (None, 3, 4)


def test_merge_layers_train_in_a_model():
    a, b = Input((3,)), Input((3,))
    from regulab.layers import Dense
    out = Dense(1)(concatenate([Dense(2)(a), multiply([a, b])]))
    model = Model([a, b], out)
    model.compile("adam", "mse")
    rng = np.random.default_rng(0)
    xa, xb = rng.random((64, 3)), rng.random((64, 3))
    h = model.fit([xa, xb], (xa * xb).sum(1), epochs=30, verbose=0, seed=0)
    assert h.history["loss"][-1] < 0.7 * h.history["loss"][0]
