import re

from regulab.layers import BatchNormalization, Dense, Dropout
from regulab.models import Sequential
from regulab import regularizers


def _text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_seed_model_summary_totals():
    model = Sequential([Dense(64, input_dim=100, activation="relu", kernel_regularizer=regularizers.l2(0.01)),
                        Dense(1, activation="sigmoid")])
    text = _text(model)
    assert "Total params: 6,529 (25.50 KB)" in text
    assert "Trainable params: 6,529 (25.50 KB)" in text
    assert "Non-trainable params: 0 (0.00 B)" in text
    assert re.search(r"\(Dense\)\s+│ \(None, 64\)\s+│\s+6,464 │", text)


def test_batchnorm_model_summary_totals():
    model = Sequential([Dense(64, input_dim=100, activation="relu"), BatchNormalization(),
                        Dense(1, activation="sigmoid")])
    text = _text(model)
    assert "Total params: 6,785" in text
    assert "Trainable params: 6,657" in text
    assert "Non-trainable params: 128" in text
    assert model.count_params() == 6785


def test_unbuilt_summary_shows_question_marks():
    model = Sequential([Dense(4), Dropout(0.5)])
    assert "?" in _text(model)
