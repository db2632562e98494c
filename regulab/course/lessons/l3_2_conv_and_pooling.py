# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3.2 Convolutional and pooling layers: shapes and parameters
#
# Before training a CNN it pays to know what each layer does to the shape of the data and how
# many weights it adds. Both follow from a few arguments:
#
# - `kernel_size` $k$: the size of the window each output cell looks at;
# - `strides` $s$: how far the window moves between outputs (2 halves the map);
# - `padding`: `"valid"` uses only positions where the window fits inside the image, `"same"`
#   pads the border with zeros so that, with stride 1, the output has the input's size;
# - `dilation_rate` $d$: spreads the kernel's taps $d$ pixels apart, so a 3x3 kernel with
#   $d=2$ covers a 5x5 area with still 9 weights.
#
# For an input of size $n$ along one axis the output size is
#
# $$n_\text{out} = \left\lfloor \frac{n - d(k-1) - 1}{s} \right\rfloor + 1 \quad\text{("valid")},
# \qquad n_\text{out} = \left\lceil \frac{n}{s} \right\rceil \quad\text{("same")}.$$
#
# A `Conv2D` with $F$ filters on $C$ input channels has one $k_h \times k_w \times C$ kernel per
# filter plus one bias each: $(k_h k_w C + 1)\,F$ parameters, whatever the image size. A pooling
# layer follows the same size rule (with its `pool_size` as $k$ and `strides` defaulting to it)
# and has no parameters at all.

# %%
import math

import matplotlib.pyplot as plt

import regulab
from regulab import course
from regulab.layers import (AveragePooling2D, Conv2D, Dense, Flatten, GlobalAveragePooling2D, Input,
                            MaxPooling2D)
from regulab.models import Sequential

QUICK = course.quick()   # nothing is trained here: both modes compute the same figures
regulab.set_random_seed(0)


def output_size(n, k, strides=1, padding="valid", dilation=1):
    """The formula above, along one axis."""
    if padding == "same":
        return math.ceil(n / strides)
    return (n - dilation * (k - 1) - 1) // strides + 1


def conv_shape_and_params(input_shape, filters, k, strides=1, padding="valid", dilation=1, bias=True):
    h, w, c = input_shape
    shape = (output_size(h, k, strides, padding, dilation), output_size(w, k, strides, padding, dilation), filters)
    return shape, (k * k * c + bias) * filters


def pool_shape(input_shape, pool, strides=None, padding="valid"):
    h, w, c = input_shape
    strides = pool if strides is None else strides
    return (output_size(h, pool, strides, padding), output_size(w, pool, strides, padding), c), 0


# %% [markdown]
# ## The formula against the layers
#
# Each configuration below is computed twice: by the formulas, and by building the layer on an
# input of that shape and asking it for its `output_shape` and `count_params()`.

# %%
configurations = [
    # description, input shape, the layer, the formulas' answer
    ("Conv2D(16, 3) valid", (28, 28, 3), lambda: Conv2D(16, 3),
     conv_shape_and_params((28, 28, 3), 16, 3)),
    ("Conv2D(16, 3) same", (28, 28, 3), lambda: Conv2D(16, 3, padding="same"),
     conv_shape_and_params((28, 28, 3), 16, 3, padding="same")),
    ("Conv2D(32, 5, strides=2) valid", (28, 28, 3), lambda: Conv2D(32, 5, strides=2),
     conv_shape_and_params((28, 28, 3), 32, 5, strides=2)),
    ("Conv2D(32, 3, strides=2) same", (28, 28, 3), lambda: Conv2D(32, 3, strides=2, padding="same"),
     conv_shape_and_params((28, 28, 3), 32, 3, strides=2, padding="same")),
    ("Conv2D(8, 3, dilation_rate=2) valid", (28, 28, 3), lambda: Conv2D(8, 3, dilation_rate=2),
     conv_shape_and_params((28, 28, 3), 8, 3, dilation=2)),
    ("Conv2D(64, 1) on 64 channels", (14, 14, 64), lambda: Conv2D(64, 1),
     conv_shape_and_params((14, 14, 64), 64, 1)),
    ("Conv2D(16, 3, use_bias=False)", (8, 8, 1), lambda: Conv2D(16, 3, use_bias=False),
     conv_shape_and_params((8, 8, 1), 16, 3, bias=False)),
    ("MaxPooling2D(2)", (28, 28, 16), lambda: MaxPooling2D(2), pool_shape((28, 28, 16), 2)),
    ("MaxPooling2D(2) on odd size", (7, 7, 16), lambda: MaxPooling2D(2), pool_shape((7, 7, 16), 2)),
    ("MaxPooling2D(2, padding='same') odd", (7, 7, 16), lambda: MaxPooling2D(2, padding="same"),
     pool_shape((7, 7, 16), 2, padding="same")),
    ("MaxPooling2D(3, strides=2)", (28, 28, 16), lambda: MaxPooling2D(3, strides=2),
     pool_shape((28, 28, 16), 3, strides=2)),
    ("AveragePooling2D(2, strides=1)", (8, 8, 4), lambda: AveragePooling2D(2, strides=1),
     pool_shape((8, 8, 4), 2, strides=1)),
]

agree = 0
print(f"{'layer':38} {'input':>13} {'formula shape':>15} {'layer shape':>15} {'formula':>8} {'layer':>8}")
for description, shape, make, (formula_shape, formula_params) in configurations:
    layer = make()
    Sequential([Input(shape), layer])
    real_shape, real_params = tuple(layer.output_shape), layer.count_params()
    agree += (real_shape, real_params) == (formula_shape, formula_params)
    print(f"{description:38} {str(shape):>13} {str(formula_shape):>15} {str(real_shape):>15} "
          f"{formula_params:>8} {real_params:>8}")
course.result("configurations where the formulas match the layers", f"{agree} of {len(configurations)}")

# %% [markdown]
# Things to notice:
#
# - `"same"` padding with stride 1 keeps the size; with stride 2 it halves it, rounding up.
# - A 5x5 kernel with stride 2 on 28 pixels gives $\lfloor 23/2 \rfloor + 1 = 12$: the last
#   column that does not fit a full step is dropped.
# - A dilated 3x3 kernel shrinks the map like a 5x5 one, with the parameters of a 3x3.
# - A 1x1 convolution mixes channels at each pixel: $64 \cdot 64 + 64$ parameters.
# - Pooling on an odd size drops the last row and column in `"valid"` mode and keeps them in
#   `"same"` mode.
#
# ## Why convolutions are cheap: weight sharing
#
# The first configuration maps a 28x28x3 image to 26x26x16 outputs with 448 parameters. A `Dense`
# layer producing as many outputs from the same inputs would need a weight for every pair of
# input and output cells.

# %%
inputs, outputs = 28 * 28 * 3, 26 * 26 * 16
course.result("Conv2D(16, 3) on 28x28x3: parameters", configurations[0][3][1])
course.result("a Dense layer with the same inputs and outputs: parameters", inputs * outputs + outputs)

# %% [markdown]
# ## A whole model: where the parameters are
#
# Stacking the layers gives a CNN for 28x28 grey images. `model.summary()` prints every layer's
# output shape and parameters; we compute the same by hand, layer after layer. The two models
# differ only in their head: `Flatten` then `Dense` connects every cell of the last feature map
# to every unit, while `GlobalAveragePooling2D` first averages each map to a single number.

# %%
def cnn(head):
    body = [Input((28, 28, 1)),
            Conv2D(32, 3, padding="same", activation="relu"), MaxPooling2D(2),
            Conv2D(64, 3, padding="same", activation="relu"), MaxPooling2D(2),
            Conv2D(64, 3, activation="relu")]
    return Sequential(body + head)


flat = cnn([Flatten(), Dense(64, activation="relu"), Dense(10, activation="softmax")])
pooled = cnn([GlobalAveragePooling2D(), Dense(64, activation="relu"), Dense(10, activation="softmax")])
flat.summary()

shape, by_hand = (28, 28, 1), []
for filters, k, padding in [(32, 3, "same"), (64, 3, "same"), (64, 3, "valid")]:
    shape, params = conv_shape_and_params(shape, filters, k, padding=padding)
    by_hand.append(params)
    if padding == "same":
        shape, _ = pool_shape(shape, 2)
print("last feature map by hand:", shape)                  # (5, 5, 64)
flat_by_hand = sum(by_hand) + (math.prod(shape) + 1) * 64 + (64 + 1) * 10
pooled_by_hand = sum(by_hand) + (shape[2] + 1) * 64 + (64 + 1) * 10
course.result("Flatten head: parameters by hand", flat_by_hand)
course.result("Flatten head: model.count_params()", flat.count_params())
course.result("GlobalAveragePooling2D head: parameters by hand", pooled_by_hand)
course.result("GlobalAveragePooling2D head: model.count_params()", pooled.count_params())

# %% [markdown]
# The convolutions hold about 56,000 parameters in both models; the `Flatten` head adds 102,000
# more in one `Dense` layer ($5 \cdot 5 \cdot 64 \cdot 64 + 64$), the pooled head 4,000. The plot
# shows the parameters of each layer.

# %%
def per_layer(model):
    names = [f"{i + 1}. {type(layer).__name__}" for i, layer in enumerate(model.layers)]
    return names, [layer.count_params() for layer in model.layers]


fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), sharex=True, gridspec_kw={"wspace": 0.6})
for ax, model, title in [(axes[0], flat, "Flatten + Dense head"), (axes[1], pooled, "GlobalAveragePooling2D head")]:
    names, counts = per_layer(model)
    ax.barh(names, counts, color=["tab:blue" if "Conv" in n else "tab:orange" for n in names])
    ax.set_title(f"{title}: {model.count_params():,} parameters", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("parameters")
course.save_figure(fig, "parameters_per_layer")

# %% [markdown]
# ## What to take away
#
# - Output size: $\lfloor (n - d(k-1) - 1)/s \rfloor + 1$ for `"valid"`, $\lceil n/s \rceil$ for
#   `"same"`; pooling follows the same rule, with strides equal to the pool size by default.
# - A convolution's parameters, $(k_h k_w C + 1) F$, do not depend on the image size: that is
#   weight sharing. Pooling layers have none.
# - In a small CNN the `Dense` layer after `Flatten` often holds most of the parameters; global
#   pooling is the cheap alternative.
# - Exercise 3.2.1 asks you to predict shapes and parameters; the check builds the layers:
#   `regulab exercise start 3.2.1`.
