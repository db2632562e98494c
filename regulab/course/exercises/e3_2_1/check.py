"""3.2.1: the learner's output shapes and parameter counts, against the layers themselves."""
from regulab.layers import Conv2D, Input, MaxPooling2D
from regulab.models import Sequential

# key: (how the task writes it, the input shape, the layer, the rule for its shape)
VALID = "with padding='valid' a side of n pixels gives floor((n - d*(k - 1) - 1) / s) + 1"
SAME = "with padding='same' a side of n pixels gives ceil(n / s), whatever the kernel size"
LAYERS = {
    "a": ("Conv2D(16, 3)", (28, 28, 3), lambda: Conv2D(16, 3), VALID),
    "b": ('Conv2D(16, 3, padding="same")', (28, 28, 3), lambda: Conv2D(16, 3, padding="same"), SAME),
    "c": ("Conv2D(32, 5, strides=2)", (28, 28, 3), lambda: Conv2D(32, 5, strides=2), VALID),
    "d": ("Conv2D(8, 3, dilation_rate=2)", (28, 28, 3), lambda: Conv2D(8, 3, dilation_rate=2),
          VALID + " (dilation d=2 spreads the 3 taps over 5 pixels)"),
    "e": ("MaxPooling2D(2)", (28, 28, 3), lambda: MaxPooling2D(2),
          "pooling follows the 'valid' rule with strides equal to the pool size, and keeps the channels"),
    "f": ("Conv2D(64, 1)", (14, 14, 32), lambda: Conv2D(64, 1), VALID),
    "g": ('Conv2D(10, 3, strides=2, padding="same")', (7, 7, 4),
          lambda: Conv2D(10, 3, strides=2, padding="same"), SAME + " (rounded up)"),
}
PARAMS = "a Conv2D has (kh * kw * input channels + 1) * filters parameters, the +1 being each filter's bias"


def _truth(key):
    _, shape, make, _ = LAYERS[key]
    layer = make()
    Sequential([Input(shape), layer])
    return tuple(layer.output_shape), layer.count_params()


def _shape(value):
    shape = tuple(value)
    if len(shape) == 4 and shape[0] is None:  # (None, h, w, c), as model.summary() prints it
        shape = shape[1:]
    return tuple(int(n) for n in shape)


def check(run):
    answers = run.namespace["answers"]
    if not isinstance(answers, dict):
        yield f"answers is a {type(answers).__name__}; make it a dict like {{'a': ((26, 26, 16), 448), ...}}"
        return
    for key, (text, shape, _, rule) in LAYERS.items():
        where = f"answers['{key}'] ({text} on {shape})"
        if key not in answers or answers[key] is None:
            yield f"{where} is missing: give (output shape, parameter count), e.g. ((26, 26, 16), 448)"
            continue
        answer = answers[key]
        try:
            given_shape, given_params = answer
            given_shape, given_params = _shape(given_shape), int(given_params)
        except (TypeError, ValueError):
            yield f"{where} is {answer!r}; write it as ((height, width, channels), parameters), e.g. ((26, 26, 16), 448)"
            continue
        real_shape, real_params = _truth(key)
        if len(given_shape) != 3:
            yield f"{where}: the shape {given_shape} should have three numbers, (height, width, channels)"
        elif given_shape[:2] != real_shape[:2]:
            yield f"{where}: the height and width {given_shape[:2]} are wrong; {rule}"
        elif given_shape[2] != real_shape[2]:
            what = ("a Conv2D outputs one channel per filter" if key != "e"
                    else "pooling works on each channel separately, so it keeps the input's channels")
            yield f"{where}: the {given_shape[2]} channels are wrong; {what}"
        if given_params != real_params:
            if key == "e":
                yield f"{where}: {given_params} parameters is wrong; a pooling layer has no weights to learn"
            else:
                yield f"{where}: {given_params} parameters is wrong; {PARAMS}"
