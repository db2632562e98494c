# Output shape (height, width, channels) and parameter count of each layer, on its own input.
# The first one is done for you: 28 - 3 + 1 = 26, and (3 * 3 * 3 + 1) * 16 = 448.
answers = {
    "a": ((26, 26, 16), 448),   # Conv2D(16, 3)                             on (28, 28, 3)
    "b": None,                  # Conv2D(16, 3, padding="same")             on (28, 28, 3)
    "c": None,                  # Conv2D(32, 5, strides=2)                  on (28, 28, 3)
    "d": None,                  # Conv2D(8, 3, dilation_rate=2)             on (28, 28, 3)
    "e": None,                  # MaxPooling2D(2)                           on (28, 28, 3)
    "f": None,                  # Conv2D(64, 1)                             on (14, 14, 32)
    "g": None,                  # Conv2D(10, 3, strides=2, padding="same")  on (7, 7, 4)
}
