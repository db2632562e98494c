"""Standard small architectures: output shapes and parameter counts equal Keras's.

The expected totals are Keras's ``model.summary()`` figures for the same definitions (the DCGAN
generator is TensorFlow's DCGAN tutorial's, 2,330,944 parameters; LeNet's is the classic 44,426),
each also derivable by hand from Keras's per-layer formulas written beside it.
"""
import pytest

from regulab import layers as L
from regulab.models import Model, Sequential


def _counts(model):
    return [layer.count_params() for layer in model.layers], model.count_params()


def test_lenet_cnn():
    model = Sequential([
        L.Input((28, 28, 1)),
        L.Conv2D(6, 5, activation="relu"),      # 5*5*1*6 + 6
        L.MaxPooling2D(),
        L.Conv2D(16, 5, activation="relu"),     # 5*5*6*16 + 16
        L.MaxPooling2D(),
        L.Flatten(),
        L.Dense(120, activation="relu"),        # 4*4*16*120 + 120
        L.Dense(84, activation="relu"),
        L.Dense(10, activation="softmax")])
    per_layer, total = _counts(model)
    assert per_layer == [156, 0, 2416, 0, 0, 30840, 10164, 850]
    assert total == 44426
    assert [layer.output_shape for layer in model.layers] == [
        (24, 24, 6), (12, 12, 6), (8, 8, 16), (4, 4, 16), (256,), (120,), (84,), (10,)]


def test_embedding_lstm_classifier():
    model = Sequential([L.Input((200,), dtype="int32"), L.Embedding(10000, 16), L.LSTM(32),
                        L.Dense(1, activation="sigmoid")])
    per_layer, total = _counts(model)
    assert per_layer == [160000, 4 * (16 * 32 + 32 * 32 + 32), 33]
    assert total == 166305
    assert model.output_shape == (1,)


def test_stacked_grus():
    model = Sequential([L.Input((None, 8)), L.GRU(32, return_sequences=True), L.GRU(16), L.Dense(1)])
    per_layer, total = _counts(model)
    # reset_after=True (Keras's default): two bias vectors per gate
    assert per_layer == [3 * (8 * 32 + 32 * 32 + 2 * 32), 3 * (32 * 16 + 16 * 16 + 2 * 16), 17]
    assert total == 4032 + 2400 + 17
    assert model.layers[0].output_shape == (None, 32)


def test_bidirectional_lstm():
    model = Sequential([L.Input((100,), dtype="int32"), L.Embedding(5000, 64),
                        L.Bidirectional(L.LSTM(64, return_sequences=True)), L.Bidirectional(L.LSTM(32)),
                        L.Dense(1, activation="sigmoid")])
    per_layer, total = _counts(model)
    assert per_layer == [320000, 2 * 4 * (64 * 64 + 64 * 64 + 64), 2 * 4 * (128 * 32 + 32 * 32 + 32), 65]
    assert total == 320000 + 66048 + 41216 + 65
    assert model.layers[1].output_shape == (100, 128)
    assert model.layers[2].output_shape == (64,)


def test_convolutional_autoencoder():
    inp = L.Input((28, 28, 1))
    x = L.Conv2D(16, 3, activation="relu", padding="same")(inp)
    x = L.MaxPooling2D(2, padding="same")(x)
    x = L.Conv2D(8, 3, activation="relu", padding="same")(x)
    encoded = L.MaxPooling2D(2, padding="same")(x)
    x = L.Conv2D(8, 3, activation="relu", padding="same")(encoded)
    x = L.UpSampling2D(2)(x)
    x = L.Conv2D(16, 3, activation="relu", padding="same")(x)
    x = L.UpSampling2D(2)(x)
    decoded = L.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    model = Model(inp, decoded)
    assert encoded.shape == (None, 7, 7, 8)
    assert decoded.shape == (None, 28, 28, 1)
    assert model.count_params() == 160 + 1160 + 584 + 1168 + 145


def test_dcgan_generator():
    model = Sequential([
        L.Input((100,)),
        L.Dense(7 * 7 * 256, use_bias=False), L.BatchNormalization(), L.LeakyReLU(),
        L.Reshape((7, 7, 256)),
        L.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False),
        L.BatchNormalization(), L.LeakyReLU(),
        L.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False),
        L.BatchNormalization(), L.LeakyReLU(),
        L.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh")])
    assert model.output_shape == (28, 28, 1)
    assert [layer.output_shape for layer in model.layers if isinstance(layer, L.Conv2DTranspose)] == [
        (7, 7, 128), (14, 14, 64), (28, 28, 1)]
    assert model.count_params() == 2330944
    trainable = sum(v.value.numel() for v in model.trainable_weights)
    assert trainable == 2330944 - (12544 + 128 + 64) * 2  # moving means and variances


@pytest.mark.parametrize("layer,shape,expected", [
    (lambda: L.Conv1D(32, 3, padding="causal", dilation_rate=2), (50, 4), (50, 32)),
    (lambda: L.SeparableConv2D(64, 3), (10, 10, 32), (8, 8, 64)),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2), (10, 10, 8), (8, 8, 16)),
    (lambda: L.TimeDistributed(L.Dense(5)), (7, 3), (7, 5)),
    (lambda: L.GlobalAveragePooling1D(), (7, 3), (3,)),
    (lambda: L.RepeatVector(4), (3,), (4, 3)),
])
def test_layer_shapes(layer, shape, expected):
    assert layer().build_for(shape) == expected
