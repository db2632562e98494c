import numpy as np
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense

tf.keras.utils.set_random_seed(0)

model = Sequential([
    Dense(8, input_dim=4, activation='relu'),
    Dense(3, activation='softmax'),
])


def forward(x, weights):
    W1, b1, W2, b2 = weights          # kernels have shape (inputs, units)
    h = np.maximum(x @ W1 + b1, 0)    # relu
    z = h @ W2 + b2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)   # softmax over each row


x = np.random.default_rng(0).normal(size=(5, 4)).astype('float32')
print(np.abs(forward(x, model.get_weights()) - model.predict(x, verbose=0)).max())
