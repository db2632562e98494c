import torch
from tensorflow.keras.layers import Dense, Flatten, Input
from tensorflow.keras.models import Sequential

# A regulab (Keras-style) model, trained on the digits
model = Sequential([Input((8, 8, 1)), Flatten(), Dense(32, activation='relu'), Dense(10, activation='softmax')])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit(X_train, y_train, epochs=5, verbose=0)

# The same network in plain PyTorch
torch_model = torch.nn.Sequential(
    torch.nn.Flatten(),
    torch.nn.Linear(64, 32),
    torch.nn.ReLU(),
    torch.nn.Linear(32, 10),
    torch.nn.Softmax(dim=1),
)

# Copy the trained weights: a Dense kernel is (inputs, units), a Linear weight (units, inputs)
dense_layers = [layer for layer in model.layers if isinstance(layer, Dense)]
linear_layers = [module for module in torch_model if isinstance(module, torch.nn.Linear)]
with torch.no_grad():
    for dense, linear in zip(dense_layers, linear_layers):
        kernel, bias = dense.get_weights()
        # TODO: copy `kernel` and `bias` into `linear.weight` and `linear.bias`
        pass

print(torch_model(torch.tensor(X_test[:3])))
print(model.predict(X_test[:3], verbose=0))
