"""Typical wrong answers to the exercises of lessons 5.1-5.3 (GANs, autoencoders, transfer learning)
and module 6 (tools and frameworks), and the findings they get.

Most wrong answers are the shipped solution with one typical slip put in (``_slip``), so that each
test reads as the one line a learner got wrong. Findings that quote a measured figure (a time, a
weight difference) are matched with the figure as a pattern; the rest exactly.
"""
import re
import textwrap

import pytest

from regulab.course._exercise import exercise
from regulab.course._sandbox import check_in_process


def findings(exercise_id, tmp_path, source):
    path = tmp_path / "answer.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return check_in_process(exercise(exercise_id), path).findings


def _slip(exercise_id, old, new, count=1):
    """The solution of ``exercise_id`` with ``old`` replaced by ``new`` (``count`` times)."""
    source = exercise(exercise_id).solution()
    assert source.count(old) >= count, f"{old!r} is not in the solution of {exercise_id}"
    return source.replace(old, new, count)


def _generator_half(old, new):
    """5.1.1's solution with a slip in the generator's half of train_step only."""
    source = exercise("5.1.1").solution()
    at = source.index("# 2. the generator")
    assert old in source[at:]
    return source[:at] + source[at:].replace(old, new, 1)


def _one_matching(patterns, got):
    assert len(got) == len(patterns), got
    for pattern, finding in zip(patterns, got):
        assert re.fullmatch(pattern, finding), finding


# -- 5.1.1 the generator's half of a GAN's train_step

ADVICE_5_1 = ("after the discriminator's update, compute g_loss = self.loss_fn(torch.zeros((n, 1)), "
              "self.discriminator(self.generator(z))) on new latent points z, call self.zero_grad(), "
              "g_loss.backward() and self.g_optimizer.apply(grads, self.generator.trainable_weights)")


def test_5_1_1_the_starter_never_trains_the_generator(tmp_path):
    assert findings("5.1.1", tmp_path, exercise("5.1.1").starter()) == [
        f"train_step never calls self.g_optimizer.apply, so the generator never learns; {ADVICE_5_1}"]


def test_5_1_1_the_discriminators_labels_for_the_generator_make_fakes_look_fake(tmp_path):
    source = _generator_half("g_loss = self.loss_fn(torch.zeros((n, 1), device=device)",
                             "g_loss = self.loss_fn(torch.ones((n, 1), device=device)")
    _one_matching([
        r"the generator's update makes its fakes look more fake \(its gradient has cosine -\d\.\d\d with the "
        r"gradient of the fakes' loss against 'real'\): score the generator's fakes against labels that say real, "
        r"torch\.zeros\(\(n, 1\)\): the discriminator labels fakes 1, and the generator wants the opposite verdict"],
        findings("5.1.1", tmp_path, source))


def test_5_1_1_updating_every_weight_in_the_generators_step_is_named(tmp_path):
    source = _generator_half("weights = self.generator.trainable_weights", "weights = self.trainable_weights")
    assert findings("5.1.1", tmp_path, source) == [
        "self.g_optimizer.apply is also given the discriminator's weights, so the generator's step trains the "
        "discriminator to be fooled; pass self.generator.trainable_weights only"]


def test_5_1_1_the_discriminators_weights_in_the_generators_step(tmp_path):
    source = _generator_half("weights = self.generator.trainable_weights",
                             "weights = self.discriminator.trainable_weights")
    assert findings("5.1.1", tmp_path, source) == [
        "self.g_optimizer.apply is given the discriminator's weights instead of the generator's, so the generator's "
        "step trains the discriminator to be fooled; pass self.generator.trainable_weights only"]


def test_5_1_1_a_train_step_without_g_loss_in_its_logs(tmp_path):
    source = _slip("5.1.1", 'return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}',
                   'return {"d_loss": self.d_loss_tracker.result()}')
    assert findings("5.1.1", tmp_path, source) == [
        "train_step returns no 'g_loss'; update self.g_loss_tracker with g_loss and return "
        "{'d_loss': ..., 'g_loss': self.g_loss_tracker.result()}"]


# -- 5.2.1 an autoencoder with an 8-number code

def test_5_2_1_a_code_as_wide_as_the_image_can_copy(tmp_path):
    assert findings("5.2.1", tmp_path, exercise("5.2.1").starter()) == [
        "the encoder's code has 64 numbers, as many as an image has pixels, so the autoencoder can learn to copy its "
        "input instead of compressing it; end the encoder with Dense(8)"]


def test_5_2_1_a_code_of_the_wrong_size(tmp_path):
    source = _slip("5.2.1", "    Dense(8),", "    Dense(4),")
    source = source.replace("    Input((8,)),", "    Input((4,)),")
    assert findings("5.2.1", tmp_path, source) == [
        "the encoder's code has 4 numbers; the task asks for 8: end the encoder with Dense(8)"]


def test_5_2_1_a_decoder_that_outputs_pixels_not_an_image(tmp_path):
    assert findings("5.2.1", tmp_path, """
        from tensorflow.keras.layers import Dense, Flatten, Input, Reshape
        from tensorflow.keras.models import Sequential
        encoder = Sequential([Input((8, 8, 1)), Flatten(), Dense(128, activation='relu'), Dense(8)])
        decoder = Sequential([Input((8,)), Dense(128, activation='relu'), Dense(64, activation='sigmoid')])
        model = Sequential([encoder, decoder, Reshape((8, 8, 1))])
        model.compile(optimizer='adam', loss='mse')
        model.fit(X_train, X_train, epochs=1, verbose=0)
    """) == ["the decoder outputs shape (64,), not an image (8, 8, 1); end it with Dense(64, activation='sigmoid') "
             "and Reshape((8, 8, 1))"]


def test_5_2_1_a_linear_autoencoder_is_no_better_than_pca(tmp_path):
    source = _slip("5.2.1", "    Dense(128, activation='relu'),\n", "", count=2)
    _one_matching([
        r"the held-out reconstruction error is 0\.\d{4}, no better than PCA with 8 components \(0\.0246\); train "
        r"longer \(epochs=30\) and give the encoder and decoder a hidden Dense\(128, activation='relu'\) layer each"],
        findings("5.2.1", tmp_path, source))


# -- 5.3.1 a frozen base under a new head

def test_5_3_1_an_unfrozen_base(tmp_path):
    source = _slip("5.3.1", "base.trainable = False\n", "")
    assert findings("5.3.1", tmp_path, source) == [
        "the pretrained base is still trainable, so fitting on 100 images overwrites what it learnt on the digits "
        "0-4; set base.trainable = False before training the new model"]


def test_5_3_1_reusing_the_old_head(tmp_path):
    source = _slip("5.3.1", "model = Sequential([base, Dense(5, activation='softmax')])",
                   "model = Sequential([base, pretrained.layers[-1]])")
    assert findings("5.3.1", tmp_path, source) == [
        "the model reuses the pretrained model's 0-4 head, whose weights belong to the old classes; give it a new "
        "head, Dense(5, activation='softmax')"]


def test_5_3_1_freezing_after_the_fit_is_too_late(tmp_path):
    source = _slip("5.3.1", "base.trainable = False\n", "")
    source = source.replace("print(model.evaluate", "base.trainable = False\nprint(model.evaluate")
    _one_matching([
        r"the pretrained model now gets only \d+% of the held-out digits 0-4: training on 5-9 changed the base it "
        r"shares with your new model; freeze the base before that fit"],
        findings("5.3.1", tmp_path, source))


# -- 6.1.1 porting a tf.data pipeline

def test_6_1_1_the_starter_stops_at_tf_data(tmp_path):
    assert findings("6.1.1", tmp_path, exercise("6.1.1").starter()) == [
        "line 6: tf.data is not in regulab (pass NumPy arrays, or a generator such as datagen.flow(x, y), to fit)"]


def test_6_1_1_the_pipelines_settings_are_lost(tmp_path):
    source = _slip("6.1.1", "batch_size=32, shuffle=True", "batch_size=128, shuffle=False")
    assert findings("6.1.1", tmp_path, source) == [
        "fit uses batch_size=128; the pipeline made batches of 32: pass batch_size=32",
        "fit has shuffle=False; the pipeline shuffled the samples every epoch: keep shuffle=True"]


# -- 6.2.1 a regulab model copied into torch.nn

def test_6_2_1_the_starter_copies_nothing(tmp_path):
    _one_matching([
        r"torch_model's outputs differ from model\.predict's by up to [\d.e-]+: its Linear weights are not the trained "
        r"Dense kernels; copy each kernel transposed \(linear\.weight\.copy_\(torch\.tensor\(kernel\.T\)\)\), since a "
        r"Dense kernel is \(inputs, units\) and a Linear weight \(units, inputs\)"],
        findings("6.2.1", tmp_path, exercise("6.2.1").starter()))


def test_6_2_1_forgotten_biases(tmp_path):
    source = _slip("6.2.1", "        linear.bias.copy_(torch.tensor(bias))\n", "")
    _one_matching([
        r"torch_model's outputs differ from model\.predict's by up to [\d.e-]+ although the kernels match: copy the "
        r"biases too \(linear\.bias\.copy_\(torch\.tensor\(bias\)\)\) and keep the ReLU between the Linear layers"],
        findings("6.2.1", tmp_path, source))


# -- 6.3.1 training throughput

CALL_6_3 = r"samples_per_second\(model, x, y, epochs=3, batch_size=50\) on 2000 samples"
SAID_6_3 = CALL_6_3 + r" returned [\d.e+-]+, but 6000 samples in the [\d.]+ s the call took make [\d.e+]+"


def test_6_3_1_the_starter_returns_nothing(tmp_path):
    assert findings("6.3.1", tmp_path, exercise("6.3.1").starter()) == [
        "samples_per_second(model, x, y, epochs=3, batch_size=50) on 2000 samples returned None, not a number; "
        "return the training samples processed per second: epochs * len(x) / seconds"]


@pytest.mark.parametrize("returned, diagnosis", [
    ("len(x) / seconds", "it counts one epoch's samples; multiply by the number of epochs"),
    ("epochs * -(-len(x) // batch_size) / seconds", r"it counts batches \(steps\), not samples; count the samples, "
                                                     r"epochs \* len\(x\)"),
    ("seconds / (epochs * len(x))", "it looks like seconds per sample; divide the samples by the seconds, not the "
                                    "other way round"),
])
def test_6_3_1_each_slip_is_told_by_the_factor_it_leaves(tmp_path, returned, diagnosis):
    source = _slip("6.3.1", "    return epochs * len(x) / seconds", f"    return {returned}")
    _one_matching([f"{SAID_6_3}: {diagnosis}"], findings("6.3.1", tmp_path, source))


def test_6_3_1_ignoring_the_epochs_argument(tmp_path):
    source = _slip("6.3.1", "model.fit(x, y, epochs=epochs,", "model.fit(x, y, epochs=1,")
    assert findings("6.3.1", tmp_path, source) == [
        "samples_per_second(model, x, y, epochs=3, batch_size=50) on 2000 samples trained 40 batches, not the 120 of "
        "3 epochs of batches of 50; call model.fit(x, y, epochs=epochs, batch_size=batch_size) with the function's "
        "arguments"]


# -- 6.4.1 a repeatable run

def test_6_4_1_the_starter_is_not_repeatable(tmp_path):
    _one_matching([
        r"two runs of your file train different weights \(largest difference [\d.e-]+\); call "
        r"tf\.keras\.utils\.set_random_seed\(0\) at the top of the file, before the model is built, so that the "
        r"initial weights, the shuffles, the dropout masks and the validation split repeat"],
        findings("6.4.1", tmp_path, exercise("6.4.1").starter()))


def test_6_4_1_a_seeded_fit_alone_leaves_the_initial_weights_random(tmp_path):
    source = exercise("6.4.1").starter().replace("verbose=0)", "verbose=0, seed=0)")
    _one_matching([
        r"two runs of your file train different weights \(largest difference [\d.e-]+\): fit\(seed=\.\.\.\) fixes the "
        r"fit's shuffles, dropout masks and split, but not the initial weights, drawn when the model is built; call "
        r"tf\.keras\.utils\.set_random_seed\(0\) at the top of the file"],
        findings("6.4.1", tmp_path, source))


def test_6_4_1_tf_random_set_seed_is_the_same_seed(tmp_path):
    source = _slip("6.4.1", "tf.keras.utils.set_random_seed(0)", "tf.random.set_seed(0)")
    assert findings("6.4.1", tmp_path, source) == []
