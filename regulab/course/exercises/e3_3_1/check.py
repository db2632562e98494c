"""3.3.1: a residual block whose input reaches an Add layer unchanged (checked by zeroing its
convolutions: the block must then pass its input through), and a mini-ResNet built from it."""
import numpy as np

from regulab.course._checks import layers_of
from regulab.layers import Add, Conv2D, Dense, Input
from regulab.models import Model

SKIP = "end the block with ReLU()(Add()([x, y])), where x is the block's input and y the second BatchNormalization's output"


def _block(residual_block):
    inputs = Input((8, 8, 16))
    return Model(inputs, residual_block(inputs, 16))


def check(run):
    residual_block = run.namespace["residual_block"]
    if not callable(residual_block):
        yield "residual_block is not a function; define it with def residual_block(x, filters):"
        return
    try:
        block = _block(residual_block)
    except Exception as error:
        yield f"residual_block(x, 16) on an (8, 8, 16) input raised {type(error).__name__}: {error}"
        return
    if tuple(block.output_shape) != (8, 8, 16):
        yield (f"residual_block(x, 16) turns an (8, 8, 16) input into {tuple(block.output_shape)}; a block with an "
               "identity shortcut keeps the shape: padding='same', stride 1 and `filters` filters in both Conv2D")
        return
    if not layers_of(block, Add):
        yield f"residual_block has no skip connection (no Add layer); {SKIP}"
        return
    convs = layers_of(block, Conv2D)
    if len(convs) < 2:
        yield f"residual_block has {len(convs)} Conv2D layer(s); the task asks for two, Conv2D(filters, 3, padding='same')"
        return
    x = np.random.default_rng(0).uniform(0.0, 1.0, size=(4, 8, 8, 16)).astype(np.float32)
    if np.allclose(block.predict(x, verbose=0), x, atol=1e-5):
        yield "residual_block returns its input unchanged even before any zeroing: its convolutions are not used"
        return
    for conv in convs:
        conv.set_weights([np.zeros_like(w) for w in conv.get_weights()])
    out = block.predict(x, verbose=0)
    if not np.allclose(out, x, atol=1e-5):
        yield ("with its convolutions' weights set to zero, residual_block should return its input unchanged "
               f"(relu(x + 0) = x for x >= 0), but it does not: the Add must take the block's input x itself; {SKIP}")
        return
    model = run.model
    if not isinstance(model, Model) or not layers_of(model, Add):
        yield ("model has no Add layer: build it with the functional API and your residual_block, "
               "model = Model(inputs, outputs)")
        return
    dense = layers_of(model, Dense)
    if not dense or dense[-1].units != 10 or tuple(model.output_shape) != (10,):
        yield "model should end with Dense(10, activation='softmax'), one probability per digit"
