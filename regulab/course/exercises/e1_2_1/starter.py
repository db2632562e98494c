import numpy as np


def train_perceptron(X, y, epochs=20, lr=1.0):
    w = np.zeros(X.shape[1])
    b = 0.0
    for epoch in range(epochs):
        for i in range(len(X)):
            prediction = 1.0 if X[i] @ w + b > 0 else 0.0
            # TODO: the perceptron learning rule: move w and b when the prediction is wrong
    return w, b


# TODO: train on XOR (X_train, y_train) and measure the accuracy of the weights on XOR
xor_accuracy = None
