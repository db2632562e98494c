import tensorflow as tf

tf.random.set_seed(0)

model = tf.keras.Sequential([
    tf.keras.layers.Input((8, 8, 1)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(64, activation='relu'),
    tf.keras.layers.Dense(10, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
# fit takes the arrays: it shuffles every epoch (shuffle=True) and batches them itself
model.fit(X_train, y_train, batch_size=32, shuffle=True, epochs=20, verbose=0)
print(model.evaluate(X_test, y_test, verbose=0))
