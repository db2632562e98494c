"""The course's outline: seven modules of four lessons, each lesson one file in ``lessons/``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

MODULES = {
    1: "Introduction to deep learning",
    2: "Fundamentals of neural networks",
    3: "Convolutional neural networks",
    4: "Recurrent neural networks",
    5: "Advanced techniques",
    6: "Tools and frameworks",
    7: "Practical projects",
}

# (id, title, file in lessons/)
_OUTLINE = [
    ("1.1", "What is deep learning? A network learns what a linear model cannot", "l1_1_what_is_deep_learning.py"),
    ("1.2", "History and evolution: the perceptron against XOR, then an MLP", "l1_2_history.py"),
    ("1.3", "Applications of deep learning: a tour of the bundled data", "l1_3_applications.py"),
    ("1.4", "Neurons and layers: a forward pass by hand", "l1_4_neurons_and_layers.py"),
    ("2.1", "Perceptron and multilayer perceptron", "l2_1_perceptron_and_mlp.py"),
    ("2.2", "Activation functions and their derivatives", "l2_2_activations.py"),
    ("2.3", "Forward and backward propagation from scratch", "l2_3_backpropagation.py"),
    ("2.4", "Optimizers and loss functions", "l2_4_optimizers_and_losses.py"),
    ("3.1", "Introduction to CNNs: what a convolution does", "l3_1_convolution.py"),
    ("3.2", "Convolutional and pooling layers: shapes and parameters", "l3_2_conv_and_pooling.py"),
    ("3.3", "Popular CNN architectures: LeNet, a mini-VGG and a mini-ResNet", "l3_3_architectures.py"),
    ("3.4", "CNNs for image recognition: the digits CNN", "l3_4_digits_cnn.py"),
    ("4.1", "Introduction to RNNs: learning from sequences", "l4_1_rnn.py"),
    ("4.2", "LSTM and GRU on MNIST-1D", "l4_2_lstm_and_gru.py"),
    ("4.3", "RNNs for language: a character model", "l4_3_char_model.py"),
    ("4.4", "Sequences and time series: forecasting against a naive baseline", "l4_4_time_series.py"),
    ("5.1", "Generative adversarial networks", "l5_1_gan.py"),
    ("5.2", "Autoencoders", "l5_2_autoencoders.py"),
    ("5.3", "Transfer learning", "l5_3_transfer_learning.py"),
    ("5.4", "Regularization and improvement techniques", "l5_4_regularization.py"),
    ("6.1", "Introduction to TensorFlow: its spelling on regulab", "l6_1_tensorflow.py"),
    ("6.2", "Introduction to PyTorch: the engine underneath", "l6_2_pytorch.py"),
    ("6.3", "Framework comparison", "l6_3_framework_comparison.py"),
    ("6.4", "Development environments: notebooks, TensorBoard and repeatability", "l6_4_environments.py"),
    ("7.1", "Project: image classification with a CNN", "l7_1_image_classification.py"),
    ("7.2", "Project: text generation with an RNN", "l7_2_text_generation.py"),
    ("7.3", "Project: anomaly detection with autoencoders", "l7_3_anomaly_detection.py"),
    ("7.4", "Project: a GAN for image generation", "l7_4_gan_project.py"),
]


@dataclass(frozen=True)
class Lesson:
    """One lesson: its id (``"5.4"``), module, title and file."""

    id: str
    module: int
    title: str
    file: str

    @property
    def module_title(self) -> str:
        return MODULES[self.module]

    @property
    def path(self) -> Path:
        """Where the lesson's file is installed."""
        return Path(str(resources.files("regulab.course") / "lessons" / self.file))

    def source(self) -> str:
        """The lesson's text: a script in jupytext's percent format."""
        return self.path.read_text(encoding="utf-8")

    @property
    def runtime(self) -> dict | None:
        """The measured run time in seconds, ``{"full": s, "quick": s}``, or None if never measured."""
        return _runtimes().get(self.id)


LESSONS = tuple(Lesson(id, int(id.split(".")[0]), title, file) for id, title, file in _OUTLINE)


def _runtimes() -> dict:
    path = Path(str(resources.files("regulab.course") / "runtimes.json"))
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8")).get("lessons", {})


def lessons() -> tuple[Lesson, ...]:
    """All 28 lessons, in order.

    >>> from regulab import course
    >>> len(course.lessons()), course.lessons()[19].title
    (28, 'Regularization and improvement techniques')
    """
    return LESSONS


def lesson(id) -> Lesson:
    """The lesson with this id (``"5.4"``); an unknown id is an error that lists them."""
    key = str(id).strip()
    for item in LESSONS:
        if item.id == key:
            return item
    listing = ", ".join(item.id for item in LESSONS)
    raise ValueError(f"There is no lesson {key!r}. The lessons are: {listing}.")
