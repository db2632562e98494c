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
# # 7.3 Project: anomaly detection with autoencoders
#
# In anomaly detection we have plenty of examples of what is **normal** and few or none of what
# can go wrong: a factory has photos of good parts, not of every possible defect. So we learn what
# normal looks like and flag whatever does not fit.
#
# An autoencoder does this naturally. It squeezes each input through a narrow **bottleneck** and
# rebuilds it; trained on normal data only, it learns to rebuild normal data well. An input
# unlike anything it saw comes back worse, so the **reconstruction error** is an anomaly score.
#
# Our stand-in: the digits 0-4 are normal, and the model never sees a 5, 6, 7, 8 or 9 in training.
# On held-out images of all ten digits, does the reconstruction error pick out the 5-9?

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

import regulab
from regulab import course
from regulab.datasets import load_digits
from regulab.layers import Dense, Flatten, GaussianNoise, Input, Reshape
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 3 if QUICK else 100
SEEDS = [0] if QUICK else [0, 1, 2]
CODE = 8  # size of the bottleneck
regulab.set_random_seed(0)

x, y = load_digits()
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
normal = x_train[y_train < 5]
# the models learn from normal_train; normal_calibration is kept aside to set a threshold later
normal_train, normal_calibration = train_test_split(normal, test_size=0.2, random_state=0)
is_anomaly = y_test >= 5                   # what we want the score to find
print(f"{len(normal_train)} normal training images, {len(normal_calibration)} for calibration; "
      f"{len(x_test)} held-out images, {is_anomaly.sum()} of them anomalies")

# %% [markdown]
# ## Measuring a score: ROC-AUC
#
# A score flags an image when it is above some threshold. A low threshold catches every anomaly
# but raises many false alarms; a high one the reverse. The **ROC curve** draws this trade-off for
# every threshold: the share of anomalies caught (true positive rate) against the share of normal
# images flagged (false positive rate). The area under it, the **ROC-AUC**, is the probability
# that a random anomaly scores higher than a random normal image: 0.5 is a coin flip, 1.0 is a
# perfect ranking. It needs no threshold, so it compares scores fairly.
#
# ## A baseline: PCA reconstruction
#
# Principal component analysis is the linear autoencoder: it keeps the 8 directions of the pixel
# space along which the normal digits vary most and projects every image onto them. Its
# reconstruction error is a classic anomaly score.

# %%
def errors(reconstructed: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Mean squared reconstruction error of each image."""
    return ((reconstructed - images) ** 2).reshape(len(images), -1).mean(axis=1)


flat_train, flat_test = normal_train.reshape(len(normal_train), -1), x_test.reshape(len(x_test), -1)
pca = PCA(CODE).fit(flat_train)
pca_scores = errors(pca.inverse_transform(pca.transform(flat_test)), flat_test)
pca_auc = roc_auc_score(is_anomaly, pca_scores)
course.result(f"PCA ({CODE} components): ROC-AUC", pca_auc)

# %% [markdown]
# ## The autoencoder
#
# The encoder maps the 64 pixels through 128 ReLU units to a code of 8 numbers; the decoder maps
# the code back through 128 units to 64 pixels in [0, 1] (a sigmoid). Unlike PCA, both halves
# are non-linear, so the code can describe curved families of images.
#
# `GaussianNoise(0.2)` adds noise to the input during training only: the model must rebuild the
# clean digit from a noisy one (a **denoising** autoencoder). It is a common guard against a
# model that learns to copy any input, anomalies included, instead of learning what a normal
# digit looks like. The loss is the mean squared error between the output and the clean input.

# %%
def build(noise: float = 0.2) -> Sequential:
    return Sequential([
        Input((8, 8, 1)),
        Flatten(),
        GaussianNoise(noise),
        Dense(128, activation="relu"),
        Dense(CODE),                       # the bottleneck
        Dense(128, activation="relu"),
        Dense(64, activation="sigmoid"),
        Reshape((8, 8, 1)),
    ])


def anomaly_scores(model: Sequential, images: np.ndarray) -> np.ndarray:
    return errors(model.predict(images, verbose=0), images)


def train(seed: int, noise: float = 0.2) -> Sequential:
    regulab.set_random_seed(seed)
    model = build(noise)
    model.compile(optimizer=regulab.optimizers.Adam(3e-3), loss="mse")
    model.fit(normal_train, normal_train, batch_size=32, epochs=EPOCHS, verbose=0, seed=seed)
    return model


build().summary()
aucs, models = [], []
for seed in SEEDS:
    models.append(train(seed))
    aucs.append(roc_auc_score(is_anomaly, anomaly_scores(models[-1], x_test)))
    print(f"seed {seed}: ROC-AUC {aucs[-1]:.4f}")

course.result(f"autoencoder: mean ROC-AUC over {len(SEEDS)} seeds", float(np.mean(aucs)))
course.result("autoencoder: lowest seed", float(np.min(aucs)))

# %% [markdown]
# The autoencoder ranks anomalies clearly better than PCA with the same 8 numbers per image.
# Does the input noise matter? The same autoencoder trained on clean inputs, from the same seeds:

# %%
plain_aucs = [roc_auc_score(is_anomaly, anomaly_scores(train(seed, noise=0.0), x_test)) for seed in SEEDS]
course.result("autoencoder without input noise: mean ROC-AUC", float(np.mean(plain_aucs)))

# %% [markdown]
# Here it makes little difference: a bottleneck of 8 numbers is already too narrow to copy 64
# pixels, so the model has to learn the normal digits either way. The noise earns its place with
# wider codes or convolutional models, which could otherwise copy. Try it: set `CODE = 32`.
#
# Could a PCA with more components catch up? Below, PCA with 2 to 32 components. Note that
# choosing the number of components by this AUC uses the test anomalies, which a real project
# does not have; it is the best PCA can do, with help.

# %%
pca_sweep = {}
for k in (2, 4, 8, 12, 16, 24, 32):
    fitted = PCA(k).fit(flat_train)
    pca_sweep[k] = roc_auc_score(is_anomaly, errors(fitted.inverse_transform(fitted.transform(flat_test)), flat_test))
best_k = max(pca_sweep, key=pca_sweep.get)
course.result(f"PCA, best number of components ({best_k}, chosen on the test set): ROC-AUC", pca_sweep[best_k])

# %% [markdown]
# ## The ROC curves and the scores
#
# On the left, the ROC curves of the autoencoder (seed 0) and of the 8-component PCA. On the
# right, the autoencoder's scores of held-out normal digits and anomalies: the two histograms
# overlap little, and the overlap is where the errors are.

# %%
model = models[0]
scores = anomaly_scores(model, x_test)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
for name, s in ((f"autoencoder (AUC {aucs[0]:.3f})", scores), (f"PCA, {CODE} components (AUC {pca_auc:.3f})", pca_scores)):
    fpr, tpr, _ = roc_curve(is_anomaly, s)
    left.plot(fpr, tpr, label=name)
left.plot([0, 1], [0, 1], color="gray", linestyle=":", label="chance")
left.set_xlabel("false positive rate (normal digits flagged)")
left.set_ylabel("true positive rate (anomalies caught)")
left.legend(loc="lower right", fontsize=8)
bins = np.linspace(0, scores.max(), 40)
right.hist(scores[~is_anomaly], bins=bins, alpha=0.6, label="normal (0-4)")
right.hist(scores[is_anomaly], bins=bins, alpha=0.6, label="anomaly (5-9)")
right.set_xlabel("reconstruction error")
right.set_ylabel("held-out images")
right.legend()
course.save_figure(fig, "roc_curve")

# %% [markdown]
# ## From a score to a decision
#
# A deployed detector needs a threshold. Without known anomalies, a common choice is a high
# percentile of the scores of normal data the model did not train on: here the 95th percentile
# of the calibration images set aside at the start, so that about 5% of normal images raise an
# alarm. The training images would be the wrong reference: the model rebuilds the images it
# trained on better than new ones, so a threshold set on them is too low and flags too many.

# %%
train_error = anomaly_scores(model, normal_train).mean()
calibration_error = anomaly_scores(model, normal_calibration).mean()
course.result("mean error: normal training images", float(train_error))
course.result("mean error: normal calibration images", float(calibration_error))
threshold = np.percentile(anomaly_scores(model, normal_calibration), 95)
flagged = scores > threshold
course.result("threshold at the 95th percentile: anomalies caught", float(flagged[is_anomaly].mean()))
course.result("threshold at the 95th percentile: normal digits flagged", float(flagged[~is_anomaly].mean()))

# %% [markdown]
# Finally, what the model does with each kind of image: a normal digit comes back close to
# itself, an anomaly comes back as something more like a 0-4.

# %%
examples = np.concatenate([np.flatnonzero(~is_anomaly)[:4], np.flatnonzero(is_anomaly)[:4]])
rebuilt = model.predict(x_test[examples], verbose=0)
fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
for column, index in enumerate(examples):
    axes[0, column].imshow(x_test[index, :, :, 0], cmap="gray_r")
    axes[0, column].set_title(f"{y_test[index]} ({scores[index]:.3f})", fontsize=8)
    axes[1, column].imshow(rebuilt[column, :, :, 0], cmap="gray_r")
for ax in axes.ravel():
    ax.axis("off")
course.save_figure(fig, "reconstructions")

# %% [markdown]
# ## What to take away
#
# - Train on normal data only; score new data by how badly the model rebuilds it.
# - Compare scores with ROC-AUC, which needs no threshold, against a simple baseline (PCA).
# - A non-linear autoencoder beats PCA with the same bottleneck, and beats the best PCA too.
# - Setting the threshold is a separate decision: a percentile of normal scores fixes the false
#   alarm rate you are willing to accept.
# - Exercise 7.3.1 asks you to write `anomaly_scores` for a trained autoencoder:
#   `regulab exercise start 7.3.1`, then `regulab exercise check 7.3.1 exercise_7_3_1.py`.
