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
# # 5.3 Transfer learning
#
# Training a network from scratch needs many labelled examples. **Transfer learning** reuses a
# network trained on a large task for a new task with few labels: the early layers of a CNN
# learn general features (strokes, edges, corners) that are useful for many images, so we keep
# them, **freeze** them, and train only a new final layer (the *head*) on the new task.
#
# In practice the large task is ImageNet and the network a ResNet. Here everything is small
# enough to run in seconds, but the situation is the same: we pretrain a CNN on the digits
# 0-4, with plenty of labels, then learn the digits 5-9 from only **20 labelled images per
# class**, and compare with a CNN trained from scratch on those same 100 images.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

import regulab
from regulab import course
from regulab.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D, RandomTranslation
from regulab.models import Sequential

QUICK = course.quick()
PRETRAIN_EPOCHS = 2 if QUICK else 15
EPOCHS = 10 if QUICK else 60
FINE_TUNE_EPOCHS = 2 if QUICK else 20
SEEDS = 1 if QUICK else 5
LABELS_PER_CLASS = 20

regulab.set_random_seed(0)
x, y = regulab.datasets.load_digits()
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
source = y_train < 5                 # the large task: digits 0-4, every training label
x_source, y_source = x_train[source], y_train[source]
x_target_pool, y_target_pool = x_train[~source], y_train[~source] - 5   # the new task: 5-9 as classes 0-4
x_target_test, y_target_test = x_test[y_test >= 5], y_test[y_test >= 5] - 5
print("pretraining on", len(x_source), "images of 0-4; the new task has", len(x_target_test), "held-out images of 5-9")

# %% [markdown]
# ## Pretraining on the digits 0-4
#
# The convolutional **base** is a model of its own, so that we can reuse it; the pretrained
# model is the base plus a 5-way softmax head. During pretraining the images are shifted by up
# to a pixel (`RandomTranslation`, active in training only): features that survive small shifts
# are more general, which is what we want to reuse.

# %%
def make_base():
    return Sequential([
        Input((8, 8, 1)),
        Conv2D(32, 3, padding="same", activation="relu"),
        Conv2D(32, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Conv2D(64, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Flatten(),
    ], name="base")


def compiled(model, learning_rate):
    model.compile(optimizer=regulab.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


base = make_base()
pretrained = compiled(Sequential([RandomTranslation(0.125, 0.125, fill_mode="constant"), base,
                                  Dense(5, activation="softmax", name="head_0_4")]), 3e-3)
pretrained.fit(x_source, y_source, epochs=PRETRAIN_EPOCHS, batch_size=32, verbose=0, seed=0)
held_out_0_4 = pretrained.evaluate(x_test[y_test < 5], y_test[y_test < 5], verbose=0, return_dict=True)
course.result("pretrained CNN: held-out accuracy on 0-4", held_out_0_4["accuracy"])
pretrained_weights = base.get_weights()

# %% [markdown]
# ## Transfer: a frozen base and a new head
#
# For the new task we put a fresh head on the pretrained base and set `base.trainable = False`:
# its weights stay as they are, and only the head's 256 x 5 + 5 weights learn. `summary()` shows
# the split between trainable and non-trainable parameters. With so few weights to learn, the
# head can take a larger learning rate.

# %%
def transfer_model():
    base.set_weights(pretrained_weights)      # every seed starts from the same pretrained base
    base.trainable = False
    return compiled(Sequential([base, Dense(5, activation="softmax", name="head_5_9")]), 1e-2)


def scratch_model():
    return compiled(Sequential([make_base(), Dense(5, activation="softmax", name="head_5_9")]), 3e-3)


transfer_model().summary()

# %% [markdown]
# ## Twenty labels per class, several draws
#
# Which 20 images we happen to label matters, so we repeat the comparison over several seeds:
# each seed draws another 20 images per class and initialises the new layers differently. Both
# models see exactly the same 100 images for the same number of epochs. We pass the held-out
# digits as `validation_data` only to *watch* the accuracy epoch by epoch; nothing is chosen
# with them.
#
# A third variant, **fine-tuning**, continues from the transferred model: it unfreezes the base
# (`base.trainable = True`), recompiles with a small learning rate and trains everything a few
# more epochs, so that the features can adapt to the new digits.

# %%
def labelled_subset(seed):
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(np.flatnonzero(y_target_pool == c), LABELS_PER_CLASS, replace=False)
                             for c in range(5)])
    return x_target_pool[chosen], y_target_pool[chosen]


curves = {"transfer (frozen base)": [], "from scratch": []}
seconds = {"transfer (frozen base)": [], "from scratch": []}
final = {"transfer (frozen base)": [], "from scratch": [], "transfer + fine-tuning": []}
for seed in range(SEEDS):
    x_few, y_few = labelled_subset(seed)
    for name, build in (("transfer (frozen base)", transfer_model), ("from scratch", scratch_model)):
        regulab.set_random_seed(seed)
        model = build()
        start = time.perf_counter()
        history = model.fit(x_few, y_few, epochs=EPOCHS, batch_size=32, verbose=0, seed=seed,
                            validation_data=(x_target_test, y_target_test))
        seconds[name].append(time.perf_counter() - start)
        curves[name].append(history.history["val_accuracy"])
        final[name].append(history.history["val_accuracy"][-1])
        if name.startswith("transfer"):
            base.trainable = True
            compiled(model, 3e-4).fit(x_few, y_few, epochs=FINE_TUNE_EPOCHS, batch_size=32, verbose=0, seed=seed)
            final["transfer + fine-tuning"].append(
                model.evaluate(x_target_test, y_target_test, verbose=0, return_dict=True)["accuracy"])
    print(f"seed {seed}: " + ", ".join(f"{name} {values[-1]:.3f}" for name, values in final.items()))

for name, values in final.items():
    course.result(f"{name}: held-out accuracy on 5-9, mean of {SEEDS} seeds", float(np.mean(values)))
gain = np.array(final["transfer (frozen base)"]) - np.array(final["from scratch"])
course.result("transfer minus scratch after all epochs (points), mean", float(100 * gain.mean()))
early = min(5, EPOCHS) - 1
for name, values in curves.items():
    course.result(f"{name}: held-out accuracy after {early + 1} epochs", float(np.mean([c[early] for c in values])))
    course.result(f"{name}: seconds per fit of {EPOCHS} epochs", float(np.median(seconds[name])))

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.2))
epochs = np.arange(1, EPOCHS + 1)
for name, values in curves.items():
    values = np.array(values)
    ax.plot(epochs, values.mean(axis=0), label=name)
    ax.fill_between(epochs, values.min(axis=0), values.max(axis=0), alpha=0.2)
ax.scatter([EPOCHS + FINE_TUNE_EPOCHS] * SEEDS, final["transfer + fine-tuning"], color="tab:green", s=12,
           label="transfer + fine-tuning (end)")
ax.set_xlabel("epoch")
ax.set_ylabel("held-out accuracy on 5-9")
ax.set_ylim(0, 1)
ax.set_title(f"{LABELS_PER_CLASS} labels per class; mean and range over {SEEDS} seeds")
ax.legend(loc="lower right")
course.save_figure(fig, "transfer_vs_scratch")

# %% [markdown]
# ## Reading the result
#
# The frozen features learnt on 0-4 do work for the digits 5-9, although the base never saw a
# 5: strokes and loops are shared between digits, and a linear head on them reaches about 96%.
# But on this task the CNN trained from scratch on the same 100 images does as well or slightly
# better, at almost every epoch: 8x8 digits are so easy that 100 labelled images teach a small
# CNN what it needs (even a logistic regression on the raw pixels gets about 95%). Fine-tuning
# changes little. What the transferred model does save is work: only its head is trained, and
# each fit takes less time.
#
# That is the general rule. Transfer learning pays off when the pretrained network has learnt
# from far more data than the new task has (ImageNet's 1.2 million photographs for a task with a
# few hundred), and when the new images are too varied for a network to learn good features
# from a handful of them. When the new task is easy, or unlike the old one, it may not help, so
# measure it on your task, as here, over several draws of the labelled data.
#
# ## What to take away
#
# - Reuse what a network learnt on a related task: freeze it with `layer.trainable = False`
#   and train a new head; optionally unfreeze and fine-tune with a small learning rate.
# - Compare with training from scratch on the same few labels, over several draws of them, and
#   look at the whole learning curve, not only the end.
# - Exercise 5.3.1 asks you to freeze a pretrained base and add a new head:
#   `regulab exercise start 5.3.1`.
