# Output shape (height, width, channels) and parameter count of each layer, on its own input.
answers = {
    "a": ((26, 26, 16), 448),   # Conv2D(16, 3)                             on (28, 28, 3)
    "b": ((28, 28, 16), 448),   # Conv2D(16, 3, padding="same")             on (28, 28, 3)
    "c": ((12, 12, 32), 2432),  # Conv2D(32, 5, strides=2)                  on (28, 28, 3)
    "d": ((24, 24, 8), 224),    # Conv2D(8, 3, dilation_rate=2)             on (28, 28, 3)
    "e": ((14, 14, 3), 0),      # MaxPooling2D(2)                           on (28, 28, 3)
    "f": ((14, 14, 64), 2112),  # Conv2D(64, 1)                             on (14, 14, 32)
    "g": ((4, 4, 10), 370),     # Conv2D(10, 3, strides=2, padding="same")  on (7, 7, 4)
}
