import numpy as np


def train_perceptron(X, y, epochs=20, lr=1.0):
    w = np.zeros(X.shape[1])
    b = 0.0
    for epoch in range(epochs):
        for i in range(len(X)):
            prediction = 1.0 if X[i] @ w + b > 0 else 0.0
            error = y[i] - prediction          # 0 when right, +1 or -1 when wrong
            w = w + lr * error * X[i]
            b = b + lr * error
    return w, b


w, b = train_perceptron(X_train, y_train)
xor_accuracy = float(np.mean((X_train @ w + b > 0) == y_train))
print("XOR accuracy:", xor_accuracy)   # at most 0.75: no line separates XOR
