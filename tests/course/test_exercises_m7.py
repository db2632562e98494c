"""The exercises of module 7 (the projects): typical wrong answers get the finding that explains them."""
import re

import pytest
import torch

from regulab.course import exercise
from regulab.course._sandbox import check_in_process


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def findings(tmp_path, id, source):
    path = tmp_path / f"answer_{id.replace('.', '_')}.py"
    path.write_text(source, encoding="utf-8")
    return check_in_process(exercise(id), path).findings


def edited(id, old, new, *more):
    """The exercise's solution with ``old`` replaced by ``new`` (and further pairs in ``more``)."""
    source = exercise(id).solution()
    for a, b in [(old, new), *zip(more[::2], more[1::2])]:
        assert a in source, a
        source = source.replace(a, b)
    return source


# -- 7.1.1: a digits classifier to 97%

def test_7_1_1_horizontal_flip_is_refused(tmp_path):
    source = edited("7.1.1", "    Input((8, 8, 1)),\n", "    Input((8, 8, 1)),\n    tf.keras.layers.RandomFlip('horizontal'),\n",
                    "epochs=20", "epochs=1")
    assert findings(tmp_path, "7.1.1", source) == [
        "the model has RandomFlip(mode='horizontal'), which flips digits left to right: a flipped 2, 3 or 7 is no "
        "longer that digit; remove it and shift the images instead (RandomTranslation(0.125, 0.125))"]


def test_7_1_1_image_data_generator_with_a_flip_is_refused(tmp_path):
    source = edited("7.1.1", "model.fit(X_train, y_train, epochs=20, batch_size=32, verbose=0)",
                    "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
                    "datagen = ImageDataGenerator(width_shift_range=0.125, horizontal_flip=True)\n"
                    "model.fit(datagen.flow(X_train, y_train, batch_size=32), epochs=1, verbose=0)")
    assert findings(tmp_path, "7.1.1", source) == [
        "datagen = ImageDataGenerator(horizontal_flip=True, ...) flips digits left to right: a flipped 2, 3 or 7 is "
        "no longer that digit; set horizontal_flip=False and use width_shift_range and height_shift_range instead"]


def test_7_1_1_training_on_the_test_set_is_refused(tmp_path):
    source = edited("7.1.1", "model.fit(X_train, y_train,", "model.fit(X_test, y_test,", "epochs=20", "epochs=1")
    assert findings(tmp_path, "7.1.1", source) == [
        "the model was trained on X_test, so its test accuracy says nothing about new digits; train on X_train, "
        "y_train and keep X_test for the check"]


def test_7_1_1_one_output_unit(tmp_path):
    source = edited("7.1.1", "Dense(10, activation='softmax')", "Dense(1)", "'sparse_categorical_crossentropy'", "'mse'",
                    "epochs=20", "epochs=1")
    assert findings(tmp_path, "7.1.1", source) == [
        "the model outputs 1 number(s) per image, not one probability for each of the 10 digits; end it with "
        "Dense(10, activation='softmax') (labels are the integers 0-9, so use loss='sparse_categorical_crossentropy')"]


def test_7_1_1_starter_is_below_the_target(tmp_path):
    [finding] = findings(tmp_path, "7.1.1", exercise("7.1.1").starter())
    assert re.fullmatch(r"the model gets \d+\.\d% of the 450 held-out digits right, below the 97% the task asks; add "
                        r"convolutional layers \(Conv2D, MaxPooling2D\) before Flatten and train for about 20 epochs",
                        finding)


# -- 7.2.1: bits per character of a bigram baseline

BIGRAM = '''import numpy as np
def bigram_bits_per_char(train_text, test_text, k=1.0):
    chars = sorted(set(train_text)); index = {c: i + 1 for i, c in enumerate(chars)}; V = len(chars) + 1
    train = np.array([index[c] for c in train_text]); test = np.array([index.get(c, 0) for c in test_text])
    counts = np.zeros((V, V)); np.add.at(counts, (train[:-1], train[1:]), 1.0)
    p = (counts + k) / (counts + k).sum(axis=1, keepdims=True)
    return float(-np.log2(p[test[:-1], test[1:]]).mean())
'''


def test_7_2_1_reference_on_the_worked_example():
    check = exercise("7.2.1")._module
    assert check.reference("abab", "abba", 1.0) == pytest.approx((0.7369655941662062 + 2 + 1) / 3)


def test_7_2_1_the_written_out_answer_passes(tmp_path):
    assert findings(tmp_path, "7.2.1", BIGRAM) == []


def test_7_2_1_natural_log(tmp_path):
    assert findings(tmp_path, "7.2.1", BIGRAM.replace("np.log2(", "np.log(")) == [
        "bigram_bits_per_char('abab', 'abba', k=1) returns 0.8634, expected 1.2457: it is in nats, not bits: take "
        "logarithms to base 2 (np.log2), or divide by ln 2"]


def test_7_2_1_no_unknown_symbol(tmp_path):
    source = BIGRAM.replace("index = {c: i + 1 for i, c in enumerate(chars)}; V = len(chars) + 1",
                            "index = {c: i for i, c in enumerate(chars)}; V = len(chars)")
    assert findings(tmp_path, "7.2.1", source) == [
        "bigram_bits_per_char('abab', 'abba', k=1) returns 0.8617, expected 1.2457: its vocabulary lacks the unknown "
        "symbol: V must be len(set(train_text)) + 1, with one index (0) for any character train_text lacks"]


def test_7_2_1_vocabulary_from_both_texts(tmp_path):
    source = BIGRAM.replace("sorted(set(train_text))", "sorted(set(train_text + test_text))")
    [finding] = findings(tmp_path, "7.2.1", source)
    assert finding.startswith("bigram_bits_per_char(the predefined train_text, the predefined test_text, k=1) returns ")
    assert finding.endswith(": its vocabulary comes from both texts; the model may only know train_text: V = "
                            "len(set(train_text)) + 1, and characters of test_text that train_text lacks share the "
                            "unknown symbol")


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_7_2_1_no_smoothing(tmp_path):
    source = BIGRAM.replace("p = (counts + k) / (counts + k).sum(axis=1, keepdims=True)",
                            "p = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)")
    assert findings(tmp_path, "7.2.1", source) == [
        "bigram_bits_per_char('abab', 'abba', k=1) returns inf: some pair gets probability 0 or the division fails; "
        "add k to every count, the pairs never seen included, and divide by count(a) + k * V"]


def test_7_2_1_denominator_without_v(tmp_path):
    source = BIGRAM.replace("p = (counts + k) / (counts + k).sum(axis=1, keepdims=True)",
                            "p = (counts + k) / (counts.sum(axis=1, keepdims=True) + k)")
    assert findings(tmp_path, "7.2.1", source) == [
        "bigram_bits_per_char('abab', 'abba', k=1) returns 0.3333, expected 1.2457: its denominator is count(a) + k; "
        "add k once for every symbol of the vocabulary: count(a) + k * V"]


def test_7_2_1_total_instead_of_mean(tmp_path):
    assert findings(tmp_path, "7.2.1", BIGRAM.replace(").mean())", ").sum())")) == [
        "bigram_bits_per_char('abab', 'abba', k=1) returns 3.7370, expected 1.2457: it is the total over all pairs; "
        "return the mean, dividing by the number of pairs, len(test_text) - 1"]


def test_7_2_1_no_k_argument(tmp_path):
    source = BIGRAM.replace("def bigram_bits_per_char(train_text, test_text, k=1.0):",
                            "def bigram_bits_per_char(train_text, test_text):\n    k = 1.0")
    assert findings(tmp_path, "7.2.1", source) == [
        "bigram_bits_per_char('abab', 'abba', k=1) fails (bigram_bits_per_char() got an unexpected keyword argument "
        "'k'); the function must take the smoothing as a keyword argument k=1.0"]


# -- 7.3.1: anomaly scores from an autoencoder

SCORE = "    return ((reconstructed - x) ** 2).reshape(len(x), -1).mean(axis=1)"


def test_7_3_1_a_score_per_pixel(tmp_path):
    source = edited("7.3.1", SCORE, "    return (reconstructed - x) ** 2")
    assert findings(tmp_path, "7.3.1", source) == [
        "anomaly_scores returns (450, 8, 8, 1) numbers, one per pixel; average over each image's pixels to get one "
        "score per image: .reshape(len(x), -1).mean(axis=1)"]


def test_7_3_1_one_score_for_the_batch(tmp_path):
    source = edited("7.3.1", SCORE, "    return ((reconstructed - x) ** 2).mean()")
    assert findings(tmp_path, "7.3.1", source) == [
        "anomaly_scores(model, X_test) returns 1 number(s) for 450 images; return one per image (a mean over the "
        "whole batch gives a single number): ((model.predict(x, verbose=0) - x) ** 2).reshape(len(x), -1).mean(axis=1)"]


def test_7_3_1_reversed_scores(tmp_path):
    source = edited("7.3.1", SCORE, "    return -((reconstructed - x) ** 2).reshape(len(x), -1).mean(axis=1)")
    [finding] = findings(tmp_path, "7.3.1", source)
    assert re.fullmatch(r"the ROC-AUC is 0\.0\d\d: your scores are reversed, higher for the normal digits; return the "
                        r"reconstruction error itself \(larger means more anomalous\), not its negative or its inverse",
                        finding)


def test_7_3_1_trained_on_every_digit(tmp_path):
    source = edited("7.3.1", "model.fit(normal, normal,", "model.fit(X_train, X_train,")
    assert findings(tmp_path, "7.3.1", source) == [
        "the autoencoder was trained on 1347 images, more than X_train holds of the digits 0-4, so it learned the "
        "anomalies too; train it on normal = X_train[y_train < 5] only"]


def test_7_3_1_starter_gives_every_image_the_same_score(tmp_path):
    assert findings(tmp_path, "7.3.1", exercise("7.3.1").starter()) == [
        "anomaly_scores gives every image the same score, so it cannot tell anomalies apart; score each image by how "
        "badly the model reconstructs it: ((model.predict(x, verbose=0) - x) ** 2).reshape(len(x), -1).mean(axis=1)"]


# -- 7.4.1: the generator's half of a GAN step

def test_7_4_1_updating_the_discriminator_too(tmp_path):
    source = edited("7.4.1", """    grads = [v.value.grad for v in generator.trainable_weights]
    with torch.no_grad():
        g_optimizer.apply(grads, generator.trainable_weights)  # the generator's weights only""",
                    """    discriminator.zero_grad()
    loss = loss_fn(torch.ones((len(z), 1)), discriminator(generator(z)))
    loss.backward()
    weights = generator.trainable_weights + discriminator.trainable_weights
    with torch.no_grad():
        g_optimizer.apply([v.value.grad for v in weights], weights)""")
    assert findings(tmp_path, "7.4.1", source) == [
        "your step changed the discriminator's weights; the generator's half must update the generator only: pass "
        "generator.trainable_weights (and their gradients) to g_optimizer.apply"]


def test_7_4_1_labels_that_say_fake(tmp_path):
    source = edited("7.4.1", "loss = loss_fn(torch.ones((len(z), 1)), predictions)",
                    "loss = loss_fn(torch.zeros((len(z), 1)), predictions)")
    [finding] = findings(tmp_path, "7.4.1", source)
    assert re.fullmatch(r"after 30 steps the discriminator finds the samples less real, not more \(its mean output went "
                        r"from 0\.\d{3} to 0\.\d{3}\); the generator's labels must say 'real': torch\.ones\(\(len\(z\), "
                        r"1\)\), not zeros", finding)


def test_7_4_1_no_zero_grad(tmp_path):
    source = edited("7.4.1", "    generator.zero_grad()  #", "    #")
    assert findings(tmp_path, "7.4.1", source) == [
        "loss.backward() found nothing to differentiate (element 0 of tensors does not require grad and does not have "
        "a grad_fn); call generator.zero_grad() before generator(z): it clears old gradients and makes the "
        "generator's calls track them"]


def test_7_4_1_returns_nothing(tmp_path):
    source = edited("7.4.1", "    return loss\n", "    return None\n")
    assert findings(tmp_path, "7.4.1", source) == [
        "generator_step returns None; return the loss, so that train_step can report it"]


def test_7_4_1_starter_does_not_move_the_generator(tmp_path):
    assert findings(tmp_path, "7.4.1", exercise("7.4.1").starter()) == [
        "the generator's weights did not change after 30 steps; compute the loss, call loss.backward(), then "
        "g_optimizer.apply([v.value.grad for v in generator.trainable_weights], generator.trainable_weights) inside "
        "torch.no_grad()"]
