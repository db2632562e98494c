"""Full-size runs of the results that tests/results/ check at a smaller size, on offline data.

Each figure is printed on its own line as the mean over seeds with its range, e.g.
``mnist1d cnn test accuracy: 0.972 (5 seeds: 0.970-0.975)``, next to the published figure it is
measured against:

- MNIST-1D (Greydanus & Kobak, ICML 2024): the paper's CNN architecture with its training recipe
  (94%), a CNN with pooling and batch normalization plain and with shifts and dropout (human: 96%),
  a GRU (88% asked, 91% in the paper);
- digits: a CNN on stratified 25% held-out splits (98%);
- digits autoencoder trained on 0-4: ROC-AUC of the reconstruction error for held-out 5-9 (0.95);
- char-RNN on Python's documentation: held-out cross-entropy against smoothed bigrams;
- a GAN on the digits: a separate classifier's mean top probability over its samples (0.8),
  the classes they cover, with a second classifier's opinion.

Run it from the repository root: ``python benchmarks/real_results.py`` (about 13 minutes on two
CPU cores); ``--only mnist1d,gan`` runs some of them. The figures were measured on one thread
(``--threads 1``, the default); ``--threads 0`` keeps torch's default.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import regulab  # noqa: E402
from examples import char_rnn, digits_autoencoder, digits_cnn, gan_digits, mnist1d  # noqa: E402
from regulab.layers import Conv1D, Dense, Flatten, Input, ZeroPadding1D  # noqa: E402
from regulab.models import Sequential  # noqa: E402


def summary(values, what: str = "seeds") -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} ({len(values)} {what}: {values.min():.3f}-{values.max():.3f})"


def paper_cnn() -> Sequential:
    """The paper's ConvBase: three ReLU convolutions of 25 channels, stride 2, padding 1
    (kernels 5, 3, 3), then a linear layer; 5,210 parameters."""
    layers = [Input((40, 1))]
    for kernel in (5, 3, 3):
        layers += [ZeroPadding1D(1), Conv1D(25, kernel, strides=2, activation="relu")]
    return Sequential([*layers, Flatten(), Dense(10, activation="softmax")], name="mnist1d_paper_cnn")


def run_mnist1d(seeds) -> None:
    data = regulab.datasets.load_mnist1d()
    (x_train, y_train), (x_test, y_test) = data
    paper = []
    for seed in seeds[:3]:
        # the paper's recipe: Adam at 1e-2, batches of 100, 6,000 steps (150 epochs)
        regulab.set_random_seed(seed)
        model = paper_cnn()
        model.compile(optimizer=regulab.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=False)
        model.fit(x_train, y_train, batch_size=100, epochs=150, verbose=0, seed=seed)
        paper.append(model.evaluate(x_test, y_test, verbose=0)[1])
    print(f"mnist1d paper's cnn (its recipe, 6000 steps) test accuracy: {summary(paper)} (paper: 0.94)", flush=True)
    plain = [mnist1d.cnn_accuracy(False, epochs=30, seed=s, data=data) for s in seeds]
    print(f"mnist1d cnn test accuracy: {summary(plain)} (paper's cnn: 0.94)", flush=True)
    regularized = [mnist1d.cnn_accuracy(True, epochs=50, seed=s, data=data) for s in seeds]
    print(f"mnist1d cnn + shift + dropout test accuracy: {summary(regularized)} (human: 0.96)", flush=True)
    gru = [mnist1d.gru_accuracy(epochs=20, units=128, seed=s, data=data, learning_rate=1e-2) for s in seeds[:3]]
    print(f"mnist1d gru(128) test accuracy: {summary(gru)} (asked: 0.88, paper's gru: 0.91)", flush=True)


def run_digits(seeds) -> None:
    accuracies = [digits_cnn.accuracy(epochs=40, seed=s, split_seed=split) for s in seeds[:3] for split in range(3)]
    print(f"digits cnn held-out accuracy: {summary(accuracies, 'seed x split runs')} (asked: 0.98)", flush=True)


def run_autoencoder(seeds) -> None:
    aucs = [digits_autoencoder.anomaly_auc(epochs=300, seed=s, split_seed=split)
            for s in seeds[:3] for split in range(3)]
    print(f"digits autoencoder anomaly roc-auc (5-9 vs 0-4): {summary(aucs, 'seed x split runs')} (asked: 0.95)",
          flush=True)


def run_char_rnn(seeds) -> None:
    results = [char_rnn.run(epochs=6, units=256, length=64, seed=s) for s in seeds[:2]]
    ce = [r[2]["model"] for r in results]
    print(f"char-rnn gru(256) validation cross-entropy: {summary(ce)} nats/char", flush=True)
    print(f"char-rnn add-one bigram validation cross-entropy: {results[0][2]['bigram_add_one']:.3f} nats/char "
          f"(best add-k: {results[0][2]['bigram_best']:.3f})", flush=True)
    model, vocab, _ = results[0]
    print("char-rnn sample (temperature 0.5): "
          + repr(char_rnn.generate(model, vocab, "The ", 200, temperature=0.5, seed=0)), flush=True)


def run_gan(seeds) -> None:
    from sklearn.linear_model import LogisticRegression

    (x_train, y_train), (x_test, _) = gan_digits.split()
    classify = gan_digits.judge(x_train, y_train)
    logistic = LogisticRegression(max_iter=5000).fit(x_train.reshape(len(x_train), -1), y_train)

    def second(images):
        return logistic.predict_proba(np.asarray(images).reshape(len(images), -1))

    noise = np.random.default_rng(0).random((500, 8, 8, 1))
    blends = 0.5 * x_test[:200] + 0.5 * x_test[200:400]
    for name, judge in (("cnn", classify), ("logistic regression", second)):
        references = (("real held-out", x_test), ("blend of two digits", blends), ("uniform noise", noise))
        refs = {what: gan_digits.score(judge(images))["mean_max_probability"] for what, images in references}
        print(f"gan judge ({name}) mean max-probability on references: "
              + ", ".join(f"{k} {v:.3f}" for k, v in refs.items()), flush=True)
    runs = []
    for seed in seeds[:3]:
        gan, generated, real = gan_digits.run(epochs=200, seed=seed, classify=classify)
        generated["second"] = gan_digits.score(second(gan_digits.sample(gan)))["mean_max_probability"]
        runs.append(generated)
    print(f"gan digits samples mean max-probability (cnn judge): "
          f"{summary([r['mean_max_probability'] for r in runs])} (asked: 0.8)", flush=True)
    print(f"gan digits samples mean max-probability (logistic regression): {summary([r['second'] for r in runs])}",
          flush=True)
    print(f"gan digits classes covered (>= 1% of 500 samples): {[r['classes_covered'] for r in runs]} of 10; "
          f"counts of seed {seeds[0]}: {runs[0]['class_counts']}", flush=True)
    print(f"gan digits median distance to the nearest training image: "
          f"{summary([r['nearest_training_distance'] for r in runs])} (real held-out digits: "
          f"{real['nearest_training_distance']:.3f})", flush=True)


RUNS = {"mnist1d": run_mnist1d, "digits": run_digits, "autoencoder": run_autoencoder, "char_rnn": run_char_rnn,
        "gan": run_gan}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(RUNS), help=f"comma-separated subset of {','.join(RUNS)}")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (some runs use the first 2 or 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    unknown = set(args.only.split(",")) - set(RUNS)
    if unknown:
        parser.error(f"unknown runs {sorted(unknown)}; choose from {', '.join(RUNS)}")
    seeds = list(range(args.seeds))
    for name in args.only.split(","):
        start = time.perf_counter()
        RUNS[name](seeds)
        print(f"({name}: {time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
