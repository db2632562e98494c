"""Typical wrong answers to the exercises of modules 3 (CNNs) and 4 (RNNs), and the findings they get."""
import textwrap

import pytest

from regulab.course._exercise import exercise
from regulab.course._sandbox import check_in_process


def findings(exercise_id, tmp_path, source):
    path = tmp_path / "answer.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return check_in_process(exercise(exercise_id), path).findings


# -- 3.1.1 a convolution by hand

CONV_FORMULA = "cell [i, j] is np.sum(image[i:i+kh, j:j+kw] * kernel)"


def test_3_1_1_a_flipped_kernel_is_a_convolution_not_what_conv2d_computes(tmp_path):
    assert findings("3.1.1", tmp_path, """
        import numpy as np

        def conv2d(image, kernel):
            kh, kw = kernel.shape
            out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
            for i in range(out.shape[0]):
                for j in range(out.shape[1]):
                    out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel[::-1, ::-1])
            return out
    """) == ["conv2d flips the kernel (it matches scipy.signal.convolve2d for an 8x8 digit and a 3x3 vertical-edge "
             f"kernel); a Conv2D layer does not flip it: {CONV_FORMULA}"]


def test_3_1_1_an_output_the_size_of_the_image_is_not_valid(tmp_path):
    assert findings("3.1.1", tmp_path, """
        import numpy as np

        def conv2d(image, kernel):
            return np.zeros(image.shape)
    """) == ["for an 8x8 digit and a 3x3 vertical-edge kernel conv2d returns shape (8, 8), but a 'valid' convolution "
             "gives (6, 6): (H - kh + 1, W - kw + 1), the positions where the whole kernel fits"]


def test_3_1_1_swapped_axes_are_named(tmp_path):
    assert findings("3.1.1", tmp_path, """
        import numpy as np

        def conv2d(image, kernel):
            kh, kw = kernel.shape
            out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
            for i in range(out.shape[0]):
                for j in range(out.shape[1]):
                    out[i, j] = np.sum(image[j:j + kh, i:i + kw] * kernel)
            return out
    """) == ["conv2d swaps rows and columns for an 8x8 digit and a 3x3 vertical-edge kernel: i runs over the image's "
             "rows (axis 0), j over its columns"]


def test_3_1_1_calling_scipy_is_not_the_exercise(tmp_path):
    assert findings("3.1.1", tmp_path, """
        from scipy.signal import correlate2d

        def conv2d(image, kernel):
            return correlate2d(image, kernel, mode="valid")
    """) == ["conv2d calls SciPy; the task is to write the sliding sum yourself with NumPy loops"]


# -- 3.2.1 output shapes and parameter counts

def test_3_2_1_wrong_shapes_and_counts_get_the_rule_not_the_answer(tmp_path):
    assert findings("3.2.1", tmp_path, """
        answers = {
            "a": ((26, 26, 16), 448),
            "b": ((28, 28, 16), 448),
            "c": ((13, 13, 32), 2400),      # floor wrongly rounded up, and no bias
            "d": ((26, 26, 8), 224),        # dilation ignored
            "e": ((14, 14, 3), 6),          # pooling given weights
            "f": ((14, 14, 64), 2112),
            "g": ((3, 3, 10), 370),         # 'same' rounded down
        }
    """) == [
        "answers['c'] (Conv2D(32, 5, strides=2) on (28, 28, 3)): the height and width (13, 13) are wrong; with "
        "padding='valid' a side of n pixels gives floor((n - d*(k - 1) - 1) / s) + 1",
        "answers['c'] (Conv2D(32, 5, strides=2) on (28, 28, 3)): 2400 parameters is wrong; a Conv2D has "
        "(kh * kw * input channels + 1) * filters parameters, the +1 being each filter's bias",
        "answers['d'] (Conv2D(8, 3, dilation_rate=2) on (28, 28, 3)): the height and width (26, 26) are wrong; with "
        "padding='valid' a side of n pixels gives floor((n - d*(k - 1) - 1) / s) + 1 (dilation d=2 spreads the 3 taps "
        "over 5 pixels)",
        "answers['e'] (MaxPooling2D(2) on (28, 28, 3)): 6 parameters is wrong; a pooling layer has no weights to learn",
        "answers['g'] (Conv2D(10, 3, strides=2, padding=\"same\") on (7, 7, 4)): the height and width (3, 3) are wrong; "
        "with padding='same' a side of n pixels gives ceil(n / s), whatever the kernel size (rounded up)",
    ]


def test_3_2_1_channels_and_format(tmp_path):
    assert findings("3.2.1", tmp_path, """
        answers = {
            "a": ((None, 26, 26, 16), 448),   # with the batch axis, as summary() prints it: accepted
            "b": [[28, 28, 16], 448],         # lists are fine too
            "c": ((12, 12, 32), 2432),
            "d": ((24, 24, 8), 224),
            "e": ((14, 14, 1), 0),            # pooling keeps the channels
            "f": ((14, 14, 64), 2112),
            "g": "(4, 4, 10), 370",
        }
    """) == [
        "answers['e'] (MaxPooling2D(2) on (28, 28, 3)): the 1 channels are wrong; pooling works on each channel "
        "separately, so it keeps the input's channels",
        "answers['g'] (Conv2D(10, 3, strides=2, padding=\"same\") on (7, 7, 4)) is '(4, 4, 10), 370'; write it as "
        "((height, width, channels), parameters), e.g. ((26, 26, 16), 448)",
    ]


# -- 3.3.1 a residual block

RESNET = """
from tensorflow.keras.layers import Add, BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D, Input, ReLU
from tensorflow.keras.models import Model


def residual_block(x, filters):
    y = Conv2D(filters, 3, padding="same", use_bias=False)(x)
    y = BatchNormalization()(y)
    y = ReLU()(y)
    y = Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = BatchNormalization()(y)
    return {ending}


inputs = Input((8, 8, 1))
x = Conv2D(16, 3, padding="same", activation="relu")(inputs)
x = residual_block(x, 16)
outputs = Dense(10, activation="softmax")(GlobalAveragePooling2D()(x))
model = Model(inputs, outputs)
"""


def test_3_3_1_adding_the_conv_path_to_itself_is_no_skip_connection(tmp_path):
    assert findings("3.3.1", tmp_path, RESNET.format(ending="ReLU()(Add()([y, y]))")) == [
        "with its convolutions' weights set to zero, residual_block should return its input unchanged (relu(x + 0) = x "
        "for x >= 0), but it does not: the Add must take the block's input x itself; end the block with "
        "ReLU()(Add()([x, y])), where x is the block's input and y the second BatchNormalization's output"]


def test_3_3_1_a_block_that_changes_the_channels_cannot_add_its_input(tmp_path):
    source = RESNET.format(ending="ReLU()(y)").replace("Conv2D(filters, 3, padding=\"same\", use_bias=False)(y)",
                                                        "Conv2D(2 * filters, 3, padding=\"same\", use_bias=False)(y)")
    assert findings("3.3.1", tmp_path, source) == [
        "residual_block(x, 16) turns an (8, 8, 16) input into (8, 8, 32); a block with an identity shortcut keeps the "
        "shape: padding='same', stride 1 and `filters` filters in both Conv2D"]


# -- 3.4.1 from a dense network to a CNN

def test_3_4_1_convolutions_without_pooling(tmp_path):
    assert findings("3.4.1", tmp_path, """
        from tensorflow.keras.layers import Conv2D, Dense, Flatten, Input
        from tensorflow.keras.models import Sequential

        model = Sequential([Input((8, 8, 1)), Conv2D(16, 3, padding="same", activation="relu"), Flatten(),
                            Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    """) == ["the model has no MaxPooling2D layer; put MaxPooling2D(2) after a Conv2D to halve the 8x8 maps"]


def test_3_4_1_an_untrained_cnn(tmp_path):
    assert findings("3.4.1", tmp_path, """
        from tensorflow.keras.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
        from tensorflow.keras.models import Sequential

        model = Sequential([Input((8, 8, 1)), Conv2D(16, 3, padding="same", activation="relu"), MaxPooling2D(2),
                            Flatten(), Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    """) == ["model.fit is never called; train it, e.g. model.fit(X_train, y_train, epochs=10, batch_size=32)"]


def test_3_4_1_one_epoch_is_too_little(tmp_path):
    found = findings("3.4.1", tmp_path, """
        import tensorflow as tf
        from tensorflow.keras.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
        from tensorflow.keras.models import Sequential

        tf.keras.utils.set_random_seed(0)
        model = Sequential([Input((8, 8, 1)), Conv2D(8, 3, padding="same", activation="relu"), MaxPooling2D(2),
                            Flatten(), Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(X_train, y_train, epochs=1, batch_size=32, verbose=0)
    """)
    assert len(found) == 1 and found[0].startswith("your CNN classifies ")
    assert found[0].endswith("% of the held-out digits correctly, below 95%; train a few more epochs (10-20) or add "
                             "a second Conv2D/MaxPooling2D block")


# -- 4.1.1 a SimpleRNN that predicts the next value

def test_4_1_1_return_sequences_predicts_one_value_per_step(tmp_path):
    assert findings("4.1.1", tmp_path, """
        from tensorflow.keras.layers import Dense, Input, SimpleRNN
        from tensorflow.keras.models import Sequential

        model = Sequential([Input((20, 1)), SimpleRNN(32, return_sequences=True), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
    """) == ["the last recurrent layer has return_sequences=True, so the Dense layer predicts one value per step; leave "
             "return_sequences=False so that it sees only the last state"]


def test_4_1_1_a_dense_network_on_the_flat_window_is_not_recurrent(tmp_path):
    assert findings("4.1.1", tmp_path, """
        from tensorflow.keras.layers import Dense, Flatten, Input
        from tensorflow.keras.models import Sequential

        model = Sequential([Input((20, 1)), Flatten(), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(X_train, y_train, epochs=1, verbose=0)
    """) == ["the model has no recurrent layer, so it cannot use the order of the steps; put SimpleRNN(32) between the "
             "Input and the Dense(1)"]


def test_4_1_1_an_untrained_rnn_is_reported(tmp_path):
    assert findings("4.1.1", tmp_path, """
        from tensorflow.keras.layers import Dense, Input, SimpleRNN
        from tensorflow.keras.models import Sequential

        model = Sequential([Input((20, 1)), SimpleRNN(32), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
    """) == ["model.fit is never called; train it, e.g. model.fit(X_train, y_train, epochs=10, batch_size=32)"]


# -- 4.2.1 a GRU classifier for MNIST-1D

def test_4_2_1_an_lstm_is_not_the_gru_asked_for(tmp_path):
    assert findings("4.2.1", tmp_path, """
        from tensorflow.keras.layers import LSTM, Dense, Input
        from tensorflow.keras.models import Sequential

        model = Sequential([Input((40, 1)), LSTM(32), Dense(10, activation="softmax")])
    """) == ["the model has an LSTM; the task asks for GRU(32) between the Input and the Dense(10) softmax"]


def test_4_2_1_one_output_unit_for_ten_classes(tmp_path):
    assert findings("4.2.1", tmp_path, """
        from tensorflow.keras.layers import GRU, Dense, Input
        from tensorflow.keras.models import Sequential

        model = Sequential([Input((40, 1)), GRU(32), Dense(1, activation="sigmoid")])
    """) == ["the last layer has 1 units; ten classes need Dense(10, activation='softmax')"]


def test_4_2_1_the_default_learning_rate_is_too_slow_for_five_epochs(tmp_path):
    found = findings("4.2.1", tmp_path, """
        import tensorflow as tf
        from tensorflow.keras.layers import GRU, Dense, Input
        from tensorflow.keras.models import Sequential

        tf.keras.utils.set_random_seed(0)
        model = Sequential([Input((40, 1)), GRU(32), Dense(10, activation="softmax")])
        model.compile(optimizer=tf.keras.optimizers.Adam(0.0003), loss="sparse_categorical_crossentropy")
        model.fit(X_train[:1000], y_train[:1000], epochs=1, batch_size=100, verbose=0)
    """)
    assert len(found) == 1 and found[0].startswith("your GRU classifies ")
    assert found[0].endswith("% of the held-out signals correctly, below 70%; train with Adam(0.03) for 5 epochs or "
                             "more, batch_size=100 (with Adam's default rate, 0.001, five epochs are too few)")


# -- 4.3.1 sampling at a temperature

SAMPLER = """
import numpy as np


def sample_next(logits, temperature, rng):
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    {body}
"""


def test_4_3_1_multiplying_by_the_temperature(tmp_path):
    body = "z = logits * temperature\n    p = np.exp(z - z.max())\n    return int(rng.choice(len(p), p=p / p.sum()))"
    assert findings("4.3.1", tmp_path, SAMPLER.format(body=body)) == [
        "at temperature 0.5 the draws follow softmax(logits * 0.5): divide the logits by the temperature, do not "
        "multiply them"]


def test_4_3_1_ignoring_the_temperature(tmp_path):
    body = "p = np.exp(logits - logits.max())\n    return int(rng.choice(len(p), p=p / p.sum()))"
    assert findings("4.3.1", tmp_path, SAMPLER.format(body=body)) == [
        "at temperature 0.5 the draws follow softmax(logits), as if the temperature were 1; divide the logits by the "
        "temperature before the softmax"]


def test_4_3_1_drawing_with_numpys_global_generator(tmp_path):
    body = "p = np.exp((logits - logits.max()) / temperature)\n    return int(np.random.choice(len(p), p=p / p.sum()))"
    assert findings("4.3.1", tmp_path, SAMPLER.format(body=body)) == [
        "two runs with generators of the same seed drew different characters: draw with the rng sample_next is given "
        "(rng.choice), not with np.random"]


def test_4_3_1_overflowing_exponentials(tmp_path):
    body = "p = np.exp(logits / temperature)\n    return int(rng.choice(len(p), p=p / p.sum()))"
    with pytest.warns(RuntimeWarning):
        found = findings("4.3.1", tmp_path, SAMPLER.format(body=body))
    assert len(found) == 1 and found[0].startswith("with scores [1000, 999, 0] sample_next raised ValueError: ")
    assert found[0].endswith("np.exp(1000) overflows, so subtract logits.max() before np.exp")


def test_4_3_1_dividing_by_zero_at_temperature_zero(tmp_path):
    with pytest.warns(RuntimeWarning):
        found = findings("4.3.1", tmp_path, """
            import numpy as np

            def sample_next(logits, temperature, rng):
                z = np.asarray(logits, dtype=np.float64)
                z = (z - z.max()) / temperature
                p = np.exp(z)
                return int(rng.choice(len(p), p=p / p.sum()))
        """)
    assert len(found) == 1 and found[0].startswith("sample_next(logits, 0.0, rng) raised ValueError: ")
    assert found[0].endswith("; at temperature 0 return int(np.argmax(logits)) before dividing by the temperature")


# -- 4.4.1 beat the naive forecast

def test_4_4_1_a_model_trained_too_little_does_not_beat_the_naive_forecast(tmp_path):
    found = findings("4.4.1", tmp_path, """
        import tensorflow as tf
        from tensorflow.keras.layers import GRU, Dense, Input
        from tensorflow.keras.models import Sequential

        tf.keras.utils.set_random_seed(0)
        model = Sequential([Input((12, 1)), GRU(32), Dense(1)])
        model.compile(optimizer=tf.keras.optimizers.Adam(0.0003), loss="mae")
        model.fit(X_train, y_train, epochs=1, batch_size=32, verbose=0)
    """)
    assert len(found) == 1 and found[0].startswith("your model's test MAE is ")
    assert found[0].endswith("it must be at most 90%: train longer (about 50 epochs), on loss='mae', with Adam(0.003)")


def test_4_4_1_the_data_are_windows_before_and_after_1920():
    data = exercise("4.4.1").data()
    assert data["X_train"].shape[1:] == (12, 1) and data["X_test"].shape[1:] == (12, 1)
    assert len(data["X_train"]) == len(data["y_train"]) and len(data["X_test"]) == len(data["y_test"]) == 89
    # the target of each window is the step after it: the next window's last input
    assert data["y_test"][0] == pytest.approx(float(data["X_test"][1, -1, 0]))
