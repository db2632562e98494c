import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Flatten

tf.keras.utils.set_random_seed(0)

model = Sequential([
    Flatten(input_shape=(40, 1)),      # 40 time steps, 1 channel -> 40 numbers
    Dense(128, activation='relu'),
    Dense(128, activation='relu'),
    Dense(10, activation='softmax'),   # one probability per digit
])

# integer labels 0-9: the sparse version of categorical cross-entropy
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.003), loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])
model.fit(X_train, y_train, epochs=10, batch_size=128, verbose=0)
print(model.evaluate(X_test, y_test, verbose=0))
