"""MNIST-1D held-out accuracies against the paper's figures (Greydanus & Kobak, ICML 2024): its CNN
94%, humans 96%, and 88% for a GRU (the paper's GRU reaches 91%). Seeds 0-2 gave 97.1-97.2% (CNN),
97.5-98.1% (CNN with shifts and dropout) and 94.4-95.7% (GRU) at these sizes; seed 0 is asserted."""
import pytest

import regulab
from examples import mnist1d


@pytest.fixture(scope="module")
def data():
    return regulab.datasets.load_mnist1d()


def test_cnn_reaches_the_papers_cnn(data):
    assert mnist1d.cnn_accuracy(regularized=False, epochs=15, seed=0, data=data) >= 0.94


def test_cnn_with_shifts_and_dropout_reaches_the_human_figure(data):
    assert mnist1d.cnn_accuracy(regularized=True, epochs=15, seed=0, data=data) >= 0.96


def test_gru_reaches_88_percent(data):
    assert mnist1d.gru_accuracy(epochs=12, units=32, seed=0, data=data) >= 0.88
