import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense

tf.keras.utils.set_random_seed(0)

# Logistic regression: one weighted sum and a sigmoid, so the boundary is a straight line.
model = Sequential([
    Dense(1, input_dim=2, activation='sigmoid')
])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01), loss='binary_crossentropy',
              metrics=['accuracy'])
model.fit(X_train, y_train, epochs=50, verbose=0)

print(model.evaluate(X_test, y_test, verbose=0))   # [loss, accuracy] on the held-out points
