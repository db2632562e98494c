import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Input, Conv2D, MaxPooling2D, Flatten, Dense

# X_train: (1347, 8, 8, 1) images in [0, 1], y_train: labels 0-9; X_test, y_test: 450 held-out digits
tf.keras.utils.set_random_seed(0)

model = Sequential([
    Input((8, 8, 1)),
    Conv2D(16, 3, padding='same', activation='relu'),
    MaxPooling2D(2),
    Conv2D(32, 3, padding='same', activation='relu'),
    Flatten(),
    Dense(64, activation='relu'),
    Dense(10, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])

model.fit(X_train, y_train, epochs=20, batch_size=32, verbose=0)

print(model.evaluate(X_test, y_test, verbose=0))
