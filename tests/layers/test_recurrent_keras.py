"""Keras 3's own tests of SimpleRNN, LSTM and GRU, ported (keras/src/layers/rnn/{simple_rnn,lstm,gru}_test.py).

The expected outputs are the figures Keras reports for constant initial weights
(``initializers.Constant(0.01)`` kernels, ``Constant(0.02)`` recurrent kernels, ``Constant(0.03)``
biases, with LSTM's default ``unit_forget_bias`` putting 1 on the forget gate). Keras's stateful
tests are not ported: regulab refuses ``stateful=True``.
"""
import numpy as np
import pytest
import torch

from regulab.layers import GRU, LSTM, SimpleRNN
from regulab.models import Sequential
from tests.helpers import RNN_CONSTANTS as CONSTANTS, seq


def close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected, dtype="float32"), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("kwargs, expected_shape, losses", [
    ({"units": 3, "dropout": 0.5}, (3, 3), 0),
    ({"units": 3, "dropout": 0.5, "recurrent_dropout": 0.5}, (3, 3), 0),
    ({"units": 3, "return_sequences": True, "bias_regularizer": "l1", "kernel_regularizer": "l2",
      "recurrent_regularizer": "l2"}, (3, 2, 3), 3),
])
def test_basics(cls, kwargs, expected_shape, losses):
    layer = cls(**kwargs)
    out = layer(np.random.default_rng(0).standard_normal((3, 2, 4)).astype("float32"), training=True)
    assert tuple(out.shape) == expected_shape
    assert len(layer.trainable_weights) == 3 and len(layer.non_trainable_weights) == 0
    model = Sequential([layer])
    assert len(model.losses) == losses


LSTM_CASES = [
    ({}, [0.6288687, 0.86899155, 0.9460773]),
    ({"go_backwards": True}, [0.35622165, 0.74789524, 0.8872726]),
    ({"unroll": True}, [0.6288687, 0.86899155, 0.9460773]),
    ({"unit_forget_bias": False}, [0.57019705, 0.8661914, 0.9459622]),
    ({"use_bias": False}, [0.54986924, 0.86226785, 0.9443936]),
]
GRU_CASES = [
    ({}, [0.5217289, 0.6371659, 0.39384964]),
    ({"go_backwards": True}, [0.24406259, 0.611516, 0.3928808]),
    ({"unroll": True}, [0.5217289, 0.6371659, 0.39384964]),
    ({"reset_after": False}, [0.51447755, 0.6426879, 0.40208298]),
    ({"use_bias": False}, [0.49988455, 0.64701194, 0.4103359]),
]


@pytest.mark.parametrize("cls, kwargs, rows",
                         [(LSTM, k, r) for k, r in LSTM_CASES] + [(GRU, k, r) for k, r in GRU_CASES])
@pytest.mark.parametrize("scan", [False, True], ids=["fused", "scan"])
def test_correctness(cls, kwargs, rows, scan):
    layer = cls(3, **CONSTANTS, **kwargs, **({"activation": torch.tanh} if scan else {}))
    close(layer(seq(3, 6, 4)), np.repeat(np.array(rows)[:, None], 3, axis=1))


@pytest.mark.parametrize("kwargs, rows", [
    ({}, [0.405432, 0.73605347]), ({"unroll": True}, [0.405432, 0.73605347]),
    ({"go_backwards": True}, [0.11144729, 0.5528889]),
    ({"go_backwards": True, "unroll": True}, [0.11144729, 0.5528889]),
])
def test_simple_rnn_correctness(kwargs, rows):
    close(SimpleRNN(4, **CONSTANTS, **kwargs)(seq(2, 3, 4)), np.repeat(np.array(rows)[:, None], 4, axis=1))


def test_lstm_pass_initial_state():
    state = [seq(2, 2), seq(2, 2)]
    close(LSTM(2, **CONSTANTS)(seq(2, 4, 3), initial_state=state), [[0.20574439, 0.3558822], [0.64930826, 0.66276]])
    close(LSTM(2, go_backwards=True, **CONSTANTS)(seq(2, 4, 3), initial_state=state),
          [[0.13281618, 0.2790356], [0.5839337, 0.5992567]])


@pytest.mark.parametrize("go_backwards, expected", [
    (False, [[0.23774096, 0.33508456], [0.83659905, 1.0227708]]),
    (True, [[0.13486053, 0.23261218], [0.78257304, 0.9691353]]),
])
def test_gru_pass_initial_and_return_state(go_backwards, expected):
    close(GRU(2, go_backwards=go_backwards, **CONSTANTS)(seq(2, 4, 3), initial_state=seq(2, 2)), expected)
    output, state = GRU(2, go_backwards=go_backwards, return_state=True, **CONSTANTS)(seq(2, 4, 3),
                                                                                       initial_state=seq(2, 2))
    close(output, expected)
    close(state, expected)


def test_simple_rnn_pass_initial_state():
    close(SimpleRNN(4, **CONSTANTS)(seq(2, 4, 3), initial_state=seq(2, 4)),
          np.repeat([[0.33621645], [0.6262637]], 4, axis=1))
    close(SimpleRNN(4, go_backwards=True, **CONSTANTS)(seq(2, 4, 3), initial_state=seq(2, 4)),
          np.repeat([[0.07344437], [0.43043602]], 4, axis=1))


def _pairs(values):
    return np.repeat(np.array(values)[..., None], 2, axis=-1)


@pytest.mark.parametrize("scan", [False, True], ids=["fused", "scan"])
def test_lstm_masking(scan):
    extra = {"activation": torch.tanh} if scan else {}
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    close(LSTM(2, unroll=True, **CONSTANTS, **extra)(seq(2, 4, 3), mask=mask), _pairs([0.11755939, 0.28556206]))
    out = LSTM(2, return_sequences=True, **CONSTANTS, **extra)(seq(2, 4, 3), mask=mask)
    close(out[0], _pairs([0.01588910, 0.05552048, 0.11755939, 0.11755939]))
    close(out[1], _pairs([0.14185596, 0.28556206, 0.28556206, 0.28556206]))
    out = LSTM(2, return_sequences=True, zero_output_for_mask=True, **CONSTANTS, **extra)(seq(2, 4, 3), mask=mask)
    close(out[0], _pairs([0.01588910, 0.05552048, 0.11755939, 0.0]))
    close(out[1], _pairs([0.14185596, 0.28556206, 0.0, 0.0]))
    backwards_mask = np.array([[False, True, True, True], [False, False, True, True]])
    close(LSTM(2, go_backwards=True, **CONSTANTS, **extra)(seq(2, 4, 3), mask=backwards_mask),
          _pairs([0.15341201, 0.3844719]))


def test_gru_masking():
    mask = np.array([[True, True, False, True], [True, False, False, True]])
    close(GRU(2, unroll=True, **CONSTANTS)(seq(2, 4, 3), mask=mask), _pairs([0.19393763, 0.30818558]))
    out = GRU(2, return_sequences=True, **CONSTANTS)(seq(2, 4, 3), mask=mask)
    close(out[0], _pairs([0.03606692, 0.09497581, 0.09497581, 0.19393763]))
    close(out[1], _pairs([0.16051409, 0.16051409, 0.16051409, 0.30818558]))
    out = GRU(2, return_sequences=True, zero_output_for_mask=True, **CONSTANTS)(seq(2, 4, 3), mask=mask)
    close(out[0], _pairs([0.03606692, 0.09497581, 0.0, 0.19393763]))
    close(out[1], _pairs([0.16051409, 0.0, 0.0, 0.30818558]))
    close(GRU(2, go_backwards=True, **CONSTANTS)(seq(2, 4, 3), mask=mask), _pairs([0.11669192, 0.28380975]))


def test_simple_rnn_masking():
    mask = np.array([[True, True, False, True], [True, False, False, True]])
    close(SimpleRNN(4, unroll=True, **CONSTANTS)(seq(2, 4, 3), mask=mask),
          np.repeat([[0.32951632], [0.61799484]], 4, axis=1))
    out = SimpleRNN(2, return_sequences=True, **CONSTANTS)(seq(2, 4, 3), mask=mask)
    close(out[0], _pairs([0.0599281, 0.15122814, 0.15122814, 0.32394567]))
    close(out[1], _pairs([0.3969304, 0.3969304, 0.3969304, 0.608085]))
    out = SimpleRNN(2, return_sequences=True, zero_output_for_mask=True, **CONSTANTS)(seq(2, 4, 3), mask=mask)
    close(out[0], _pairs([0.0599281, 0.15122814, 0.0, 0.32394567]))
    close(out[1], _pairs([0.3969304, 0.0, 0.0, 0.608085]))
    close(SimpleRNN(4, go_backwards=True, **CONSTANTS)(seq(2, 4, 3), mask=mask),
          np.repeat([[0.07376196], [0.43645123]], 4, axis=1))
