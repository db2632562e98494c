from tensorflow.keras.layers import Dense, Flatten, Input, Reshape
from tensorflow.keras.models import Sequential

# The encoder: 8x8 pixels -> a code (TODO: make it 8 numbers)
encoder = Sequential([
    Input((8, 8, 1)),
    Flatten(),
    Dense(128, activation='relu'),
    Dense(64),
], name='encoder')

# The decoder: the code -> 8x8 pixels in [0, 1]
decoder = Sequential([
    Input((64,)),
    Dense(128, activation='relu'),
    Dense(64, activation='sigmoid'),
    Reshape((8, 8, 1)),
], name='decoder')

model = Sequential([encoder, decoder], name='autoencoder')
model.compile(optimizer='adam', loss='mse')

# The target is the input itself
model.fit(X_train, X_train, epochs=30, batch_size=32, verbose=0)
print(model.evaluate(X_test, X_test, verbose=0))
