import numpy as np
import tensorflow as tf
from tensorflow.keras.layers import GRU, Dense, Input
from tensorflow.keras.models import Sequential

print(X_train.shape, X_test.shape)       # (208, 12, 1) (89, 12, 1)
naive_mae = np.abs(X_test[:, -1, 0] - y_test).mean()
print("naive forecast, test MAE:", naive_mae)

model = Sequential([Input((12, 1)), GRU(32), Dense(1)])
model.compile(optimizer=tf.keras.optimizers.Adam(0.003), loss="mae")
# TODO: train the model on the training windows

model_mae = np.abs(model.predict(X_test, verbose=0)[:, 0] - y_test).mean()
print("model, test MAE:", model_mae)
