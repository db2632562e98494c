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
    z1 = x @ W1 + b1
    # TODO: the hidden layer's activation, then the output layer and its softmax
    return z1


x = np.random.default_rng(0).normal(size=(5, 4)).astype('float32')
print(forward(x, model.get_weights()).shape, 'should be', model.predict(x, verbose=0).shape)
