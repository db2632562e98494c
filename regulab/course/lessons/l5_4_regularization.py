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
# # 5.4 Regularization and improvement techniques
#
# A model **overfits** when it learns the noise of its training set along with the pattern: its
# training accuracy keeps climbing while its accuracy on new data stalls or falls. It
# **underfits** when it is too simple to capture the pattern at all, and does badly on both.
# Regularization is the family of techniques that trade a little training fit for better
# generalization, by constraining the model or by showing it more varied data.
#
# This lesson measures each technique the section teaches on the same small problem: 400
# training samples with 100 features, of which only 10 carry signal. That is the situation where
# a 64-unit network overfits easily, and where the techniques have something to fix.

# %%
import matplotlib.pyplot as plt
import numpy as np
from rich.console import Console

import regulab
from regulab import course, lab
from regulab.callbacks import EarlyStopping
from regulab.datasets import seed_task
from regulab.layers import BatchNormalization, Dense, Dropout
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 15 if QUICK else 100
SEEDS = 2 if QUICK else 5
regulab.set_random_seed(0)
task = seed_task()
X_train, y_train, X_test, y_test = task.x_train, task.y_train, task.x_test, task.y_test
print(X_train.shape, X_test.shape)

# %% [markdown]
# ## The plain model overfits
#
# First the model with no regularization at all. We train it and compare its accuracy on the
# data it saw with its accuracy on 2,000 samples it did not see.

# %%
def plain_model():
    model = Sequential([Dense(64, input_dim=100, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


model = plain_model()
history = model.fit(X_train, y_train, epochs=EPOCHS, validation_split=0.2, verbose=0, seed=0)
train_acc = model.evaluate(X_train, y_train, verbose=0, return_dict=True)["accuracy"]
test_acc = model.evaluate(X_test, y_test, verbose=0, return_dict=True)["accuracy"]
course.result("plain model: training accuracy", train_acc)
course.result("plain model: held-out accuracy", test_acc)
course.result("plain model: gap (points)", 100 * (train_acc - test_acc))

# %% [markdown]
# `lab.diagnose` reads the learning curves the way an experienced practitioner would: where the
# validation loss bottomed out, how wide the gap is there and at the end, and whether the curves
# are still moving. It gives a verdict and says what to try.

# %%
diagnosis = lab.diagnose(history, y_train=y_train)
print(diagnosis)
course.result("plain model: verdict", diagnosis.verdict)

# %% [markdown]
# ## L1 and L2 penalties
#
# Both add a term to the loss that grows with the weights. **L2** adds $\lambda \sum_i w_i^2$: it
# shrinks every weight and spreads the work across features. **L1** adds
# $\lambda \sum_i |w_i|$: its pull towards zero does not fade as a weight gets small, so it can
# switch features off entirely. With plain gradient descent the weights only hover near zero;
# `regularizers.l1(λ, proximal=True)` applies the penalty as a soft-threshold after each step and
# reaches exact zeros, which is what "feature selection" means.
#
# The lesson's own code, with `regulab` in place of `tensorflow.keras`:

# %%
l2_model = Sequential([
    Dense(64, input_dim=100, activation="relu", kernel_regularizer=regulab.regularizers.l2(0.01)),
    Dense(1, activation="sigmoid"),
])
l2_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
l2_model.summary()

# %% [markdown]
# ## Dropout, batch normalization and early stopping
#
# **Dropout** zeroes a random fraction of a layer's outputs at each training step (and scales the
# rest up), so no unit can rely on a particular partner; at inference it does nothing.
# **Batch normalization** standardizes a layer's inputs over each batch, which mostly speeds up
# and steadies training. **Early stopping** watches the validation loss and stops when it has not
# improved for `patience` epochs; with `restore_best_weights=True` the model ends with the
# weights of its best epoch, whether or not it stopped early.

# %%
dropout_model = Sequential([Dense(64, input_dim=100, activation="relu"), Dropout(0.5),
                            Dense(1, activation="sigmoid")])
bn_model = Sequential([Dense(64, input_dim=100, activation="relu"), BatchNormalization(),
                       Dense(1, activation="sigmoid")])
early_stopping = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
stopped = plain_model()
stopped_history = stopped.fit(X_train, y_train, validation_split=0.2, epochs=EPOCHS, callbacks=[early_stopping],
                              verbose=0, seed=0)
course.result("early stopping: epochs run", len(stopped_history.history["loss"]))
course.result("early stopping: best epoch", early_stopping.best_epoch + 1)

# %% [markdown]
# ## Data augmentation
#
# Augmentation shows the model a slightly different version of each training image at every
# epoch (rotated, shifted, sheared, zoomed), so it cannot memorise the exact pixels. The
# lesson's `ImageDataGenerator` code runs as written; its transforms are drawn afresh for every
# sample. One setting needs care: a mirrored digit is another symbol (or none), so on digits we
# leave `horizontal_flip` out.

# %%
from regulab.datasets import load_digits
from regulab.layers import Conv2D, Flatten, MaxPooling2D
from regulab.preprocessing.image import ImageDataGenerator

images, labels = load_digits()
datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
                             shear_range=0.2, zoom_range=0.2, fill_mode="nearest")
datagen.fit(images)
batch, batch_labels = next(datagen.flow(images[:8], labels[:8], batch_size=8, shuffle=False, seed=0))
fig, axes = plt.subplots(2, 8, figsize=(8, 2.2))
for i in range(8):
    axes[0, i].imshow(images[i, :, :, 0], cmap="gray_r")
    axes[1, i].imshow(np.asarray(batch[i, :, :, 0]), cmap="gray_r")
    for ax in axes[:, i]:
        ax.axis("off")
course.save_figure(fig, "augmented_digits")


def digits_cnn():
    model = Sequential([Conv2D(16, 3, activation="relu", padding="same", input_shape=(8, 8, 1)), MaxPooling2D(2),
                        Flatten(), Dense(32, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


augmentation = {"rotation_range": 20, "width_shift_range": 0.2, "height_shift_range": 0.2, "shear_range": 0.2,
                "zoom_range": 0.2, "fill_mode": "nearest"}
digits_result = lab.study(digits_cnn, (images, labels), {"augmentation": {"augmentation": augmentation}},
                          seeds=SEEDS, epochs=3 if QUICK else 30, verbose=0)
for name in ("baseline", "augmentation"):
    course.result(f"digits CNN, {name}: gap (points)", 100 * digits_result.variants[name]["gap_summary"]["mean"])
print(digits_result.summary_sentence())

# %% [markdown]
# With augmentation the gap closes: the model is trained on harder, transformed images than the
# clean ones it is tested on, so its training accuracy can even fall below its held-out accuracy
# (a negative gap). Whether held-out accuracy also rises is what the study's summary sentence says.

# %% [markdown]
# ## Every technique, measured with error bars
#
# One run of each technique would not tell us much: on a task this small, two seeds of the same
# model differ by a point or two. `lab.study` trains every variant from several seeds (variants
# that share an architecture train together as one stacked model, which is why this is fast),
# and compares each with the plain model seed by seed: the difference, its 95% bootstrap
# interval and the probability that the technique does better.

# %%
variants = {
    "L1 0.001 proximal": {"l1_proximal": 0.001},
    "L2 0.01": {"l2": 0.01},
    "dropout 0.5": {"dropout": 0.5},
    "batch norm": {"batch_norm": True},
    "early stopping": {"early_stopping": 5},
}
result = lab.study(plain_model, task, variants, seeds=SEEDS, epochs=EPOCHS, verbose=0)
Console(width=140).print(result.table())
baseline_gap = 100 * result.variants["baseline"]["gap_summary"]["mean"]
for name in variants:
    gap = 100 * result.variants[name]["gap_summary"]["mean"]
    course.result(f"{name}: gap (points)", gap)
course.result("baseline: gap (points)", baseline_gap)
print(result.summary_sentence())

# %% [markdown]
# ## A picture of the gap
#
# The plot shows each variant's train-validation gap, averaged over seeds. Bars below the
# baseline's are techniques that closed some of the gap.

# %%
names = ["baseline", *variants]
gaps = [100 * result.variants[n]["gap_summary"]["mean"] for n in names]
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(names, gaps, color=["gray"] + ["tab:blue"] * len(variants))
ax.set_xlabel("train minus validation accuracy (points)")
ax.invert_yaxis()
course.save_figure(fig, "gap_by_technique")

# %% [markdown]
# ## What to take away
#
# - Measure the gap before choosing a fix, and measure the fix over several seeds.
# - On this task the L1 and L2 penalties halve the gap and raise held-out accuracy by about ten
#   points (in the full run): 90 of the 100 features are noise, and a penalty that quiets the
#   weights of useless inputs is what the model needs. Proximal L1 sets about two thirds of the
#   first layer's weights to exactly zero.
# - Dropout and batch normalization barely move the gap of a network this small; batch
#   normalization is a training aid more than a regularizer.
# - Early stopping watches the validation *loss*, which here starts rising (the model grows
#   over-confident) while the validation accuracy still improves, so stopping at the loss's
#   minimum costs accuracy. Monitor `val_accuracy` when accuracy is what matters, or combine early
#   stopping with a penalty.
# - Exercises 5.4.1, 5.4.2 and 5.4.3 ask you to add L2, dropout and early stopping yourself:
#   `regulab exercise start 5.4.1`, then `regulab exercise check 5.4.1 exercise_5_4_1.py`.
