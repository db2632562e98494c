import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Flatten

tf.keras.utils.set_random_seed(0)

model = Sequential([
    Flatten(input_shape=(40, 1)),      # 40 time steps, 1 channel -> 40 numbers
    Dense(128, activation='relu'),
    Dense(128, activation='relu'),
    # TODO: the output layer for the ten digits
])

# TODO: compile with a loss that fits integer labels 0-9, then train on X_train, y_train
