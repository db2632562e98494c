import tensorflow as tf
from tensorflow.keras.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from tensorflow.keras.models import Sequential

tf.keras.utils.set_random_seed(0)

# Pretraining: a convolutional base and a head for the digits 0-4 (X_source, y_source)
base = Sequential([
    Input((8, 8, 1)),
    Conv2D(32, 3, padding='same', activation='relu'),
    MaxPooling2D(2),
    Conv2D(64, 3, padding='same', activation='relu'),
    MaxPooling2D(2),
    Flatten(),
], name='base')
pretrained = Sequential([base, Dense(5, activation='softmax')])
pretrained.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
pretrained.fit(X_source, y_source, epochs=5, verbose=0)

# Transfer to the digits 5-9 (X_train holds 20 labelled images per class): freeze the base, new head
base.trainable = False
model = Sequential([base, Dense(5, activation='softmax')])
model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit(X_train, y_train, epochs=30, verbose=0)
print(model.evaluate(X_test, y_test, verbose=0))
