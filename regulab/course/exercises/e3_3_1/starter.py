from tensorflow.keras.layers import (Add, BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D, Input,
                                     ReLU)
from tensorflow.keras.models import Model


def residual_block(x, filters):
    y = Conv2D(filters, 3, padding="same", use_bias=False)(x)
    y = BatchNormalization()(y)
    y = ReLU()(y)
    y = Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = BatchNormalization()(y)
    # TODO: add the block's input x to y (the skip connection) before the last ReLU
    return ReLU()(y)


inputs = Input((8, 8, 1))
x = Conv2D(16, 3, padding="same", activation="relu")(inputs)
x = residual_block(x, 16)
x = residual_block(x, 16)
x = GlobalAveragePooling2D()(x)
outputs = Dense(10, activation="softmax")(x)
model = Model(inputs, outputs)
model.summary()
