from tensorflow.keras.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from tensorflow.keras.models import Sequential

print(X_train.shape, X_test.shape)       # (1347, 8, 8, 1) (450, 8, 8, 1)

model = Sequential([
    Input((8, 8, 1)),
    # TODO: Conv2D and MaxPooling2D layers here, before the Flatten
    Flatten(),
    Dense(64, activation="relu"),
    Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=10, batch_size=32, verbose=0)
print("held-out accuracy:", model.evaluate(X_test, y_test, verbose=0)[1])
