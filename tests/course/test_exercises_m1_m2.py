"""Exercises 1.1.1-2.4.1: a typical wrong answer to each gets the finding that explains it."""
import re

import pytest

from regulab.course._exercise import exercise
from regulab.course._sandbox import check_in_process

MOONS = """
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
tf.keras.utils.set_random_seed(0)
model = Sequential([Dense(16, input_dim=2), Dense(16), Dense(1, activation='sigmoid')])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01), loss='binary_crossentropy')
model.fit(X_train, y_train, epochs=20, verbose=0)
"""

MOONS_UNTRAINED = """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
model = Sequential([Dense(16, input_dim=2, activation='relu'), Dense(1, activation='sigmoid')])
model.compile(optimizer='adam', loss='binary_crossentropy')
"""

PERCEPTRON_NO_BIAS = """
import numpy as np
def train_perceptron(X, y, epochs=20, lr=1.0):
    w = np.zeros(X.shape[1])
    for epoch in range(epochs):
        for i in range(len(X)):
            prediction = 1.0 if X[i] @ w > 0 else 0.0
            w = w + lr * (y[i] - prediction) * X[i]
    return w, 0.0
xor_accuracy = 0.5
"""

PERCEPTRON_WRONG_XOR = """
import numpy as np
def train_perceptron(X, y, epochs=20, lr=1.0):
    w, b = np.zeros(X.shape[1]), 0.0
    for epoch in range(epochs):
        for i in range(len(X)):
            error = y[i] - (1.0 if X[i] @ w + b > 0 else 0.0)
            w, b = w + lr * error * X[i], b + lr * error
    return w, b
xor_accuracy = 1.0
"""

MNIST1D_SIGMOID = """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Flatten
model = Sequential([Flatten(input_shape=(40, 1)), Dense(32, activation='relu'), Dense(10, activation='sigmoid')])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
model.fit(X_train, y_train, epochs=1, batch_size=256, verbose=0)
"""

MNIST1D_NOT_TRAINED = """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Flatten
model = Sequential([Flatten(input_shape=(40, 1)), Dense(32, activation='relu'), Dense(10, activation='softmax')])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
"""

FORWARD_HEAD = """
import numpy as np
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
model = Sequential([Dense(8, input_dim=4, activation='relu'), Dense(3, activation='softmax')])
"""

FORWARD_LOGITS = FORWARD_HEAD + """
def forward(x, weights):
    W1, b1, W2, b2 = weights
    return np.maximum(x @ W1 + b1, 0) @ W2 + b2
"""

FORWARD_COPIED = FORWARD_HEAD + """
def forward(x, weights):
    return model.predict(x, verbose=0)
"""

CIRCLES_WIDE = """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
model = Sequential([Dense(64, input_dim=2, activation='relu'), Dense(1, activation='sigmoid')])
model.compile(optimizer='adam', loss='binary_crossentropy')
"""

CIRCLES_LINEAR = """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense
model = Sequential([Dense(1, input_dim=2, activation='sigmoid')])
model.compile(optimizer='adam', loss='binary_crossentropy')
"""

DERIVATIVES = """
import numpy as np
def derivative(name, x):
    s = 1 / (1 + np.exp(-x))
    return {'relu': np.where(x > 0, 1.0, 0.0), 'leaky_relu': np.where(x > 0, 1.0, 0.01),
            'sigmoid': s, 'tanh': 1 - np.tanh(x) ** 2, 'elu': np.where(x > 0, 1.0, np.exp(x)),
            'softplus': s}[name]
"""

BACKWARD_HEAD = """
import numpy as np
def backward(x, y, params):
    z1 = x @ params['W1'] + params['b1']
    h = np.maximum(z1, 0)
    z2 = h @ params['W2'] + params['b2']
    p = np.exp(z2 - z2.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dz2 = p.copy()
    dz2[np.arange(len(y)), y] -= 1
"""

BACKWARD_SUM = BACKWARD_HEAD + """
    dz1 = (dz2 @ params['W2'].T) * (z1 > 0)
    return {'W1': x.T @ dz1, 'b1': dz1.sum(axis=0), 'W2': h.T @ dz2, 'b2': dz2.sum(axis=0)}
"""

BACKWARD_NO_MASK = BACKWARD_HEAD + """
    dz2 /= len(y)
    dz1 = dz2 @ params['W2'].T
    return {'W1': x.T @ dz1, 'b1': dz1.sum(axis=0), 'W2': h.T @ dz2, 'b2': dz2.sum(axis=0)}
"""

DIGITS_HEAD = """
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Flatten
tf.keras.utils.set_random_seed(0)
model = Sequential([Flatten(input_shape=(8, 8, 1)), Dense(64, activation='relu'), Dense(10, activation='softmax')])
"""

DIGITS_MSE = DIGITS_HEAD + """
import numpy as np
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01), loss='mse')
model.fit(X_train, np.eye(10)[y_train], epochs=5, verbose=0)
"""

DIGITS_PLAIN_SGD = DIGITS_HEAD + """
model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.01), loss='sparse_categorical_crossentropy')
model.fit(X_train, y_train, epochs=5, verbose=0)
"""

DIGITS_MORE_EPOCHS = DIGITS_HEAD + """
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
model.fit(X_train, y_train, epochs=8, batch_size=256, verbose=0)
"""

DERIVATIVE_FINDINGS = [
    "derivative('leaky_relu', x) is 0.01 for x < 0, but regulab's leaky_relu (Keras 3's default) has slope 0.2 there",
    "derivative('sigmoid', x) returns sigmoid(x) itself, not its derivative",
]

CASES = [
    ("1.1.1", MOONS, [
        'the hidden Dense layers have no activation, so the model is still linear (linear layers in a row '
        "make one linear map) and its boundary a straight line; give them activation='relu'",
    ]),
    ("1.1.1", MOONS_UNTRAINED, [
        'model.fit is never called, so the network keeps its random weights; train it with model.fit(X_train,'
        ' y_train, ...)',
    ]),
    ("1.2.1", PERCEPTRON_NO_BIAS, [
        'after one epoch (lr=0.5, four points visited in order) train_perceptron returns b=0: the bias never '
        'changes; update it like a weight whose input is always 1, b += lr * (y[i] - prediction)',
    ]),
    ("1.2.1", PERCEPTRON_WRONG_XOR, [
        'xor_accuracy is 1 (more than 0.75 is impossible: no straight line separates XOR), but the weights '
        'train_perceptron(X_train, y_train) returns classify 50% of the XOR points correctly; compute it as '
        'np.mean((X_train @ w + b > 0) == y_train)',
    ]),
    ("1.3.1", MNIST1D_SIGMOID, [
        "the output layer's activation is sigmoid; the ten classes are exclusive, so use softmax, which turns"
        " the ten scores into probabilities that sum to 1: Dense(10, activation='softmax')",
    ]),
    ("1.3.1", MNIST1D_NOT_TRAINED, [
        'model.fit is never called, so the model keeps its random weights; train it with model.fit(X_train, '
        'y_train, ...)',
    ]),
    ("1.4.1", FORWARD_LOGITS, [
        "forward returns the output layer's scores before the softmax; apply softmax to them: exp of each "
        'score divided by the sum over the row',
    ]),
    ("1.4.1", FORWARD_COPIED, [
        'forward matches `model` but not a second network of the same shape with other weights; compute with '
        'the weights argument it receives, not with `model` or numbers copied from it',
    ]),
    ("2.1.1", CIRCLES_WIDE, [
        'the hidden layer has 64 units; the task asks for at most 8: find out how few are enough for the circles',
    ]),
    ("2.1.1", CIRCLES_LINEAR, [
        'the model has no hidden layer, so its boundary is a single straight line and no line separates two '
        "rings; put one hidden Dense layer with activation='relu' before the output",
    ]),
    ("2.2.1", DERIVATIVES, DERIVATIVE_FINDINGS),
    ("2.3.1", BACKWARD_SUM, [
        "every gradient is 16 times autograd's (the batch size): the loss is the mean over the batch, so "
        'divide the gradient at the scores by len(y)',
    ]),
    ("2.3.1", BACKWARD_NO_MASK, [
        "grads['W1'] and grads['b1'] let the gradient through where the relu was inactive; multiply dz2 @ "
        "W2.T by (z1 > 0) before the first layer's gradients",
    ]),
    ("2.4.1", DIGITS_MSE, [
        'the loss is mean_squared_error, a loss for predicting numbers whose gradient vanishes when a softmax'
        " output is confidently wrong; for ten classes use loss='sparse_categorical_crossentropy' and fit on "
        'the integer labels y_train',
    ]),
    ("2.4.1", DIGITS_MORE_EPOCHS, [
        "the model trained for 8 epochs; the task's budget is 5: reach the accuracy with a better optimizer, "
        'not more epochs',
    ]),
]


@pytest.mark.parametrize("exercise_id, source, expected", CASES,
                         ids=[f"{case[0]}-wrong-{i}" for i, case in enumerate(CASES)])
def test_wrong_answer_gets_its_finding(tmp_path, exercise_id, source, expected):
    path = tmp_path / "answer.py"
    path.write_text(source, encoding="utf-8")
    report = check_in_process(exercise(exercise_id), path)
    assert report.findings == expected


def test_plain_sgd_is_told_to_take_larger_steps(tmp_path):
    """The finding's measured accuracy depends on the training run; the rest of its text is fixed."""
    path = tmp_path / "answer.py"
    path.write_text(DIGITS_PLAIN_SGD, encoding="utf-8")
    (finding,) = check_in_process(exercise("2.4.1"), path).findings
    assert re.fullmatch(r"the held-out accuracy is 0\.\d{3} after 5 epochs, below 0\.95: plain SGD with learning rate "
                        r"0\.01 moves too little; use Adam\(learning_rate=0\.01\), or SGD with momentum=0\.9 and a "
                        r"larger learning rate", finding), finding
