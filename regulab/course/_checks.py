"""What exercise checks share: finding layers, naming regularizers, and training a learner's model
against the starting point to compare their train/held-out gaps."""
from __future__ import annotations

import numpy as np


def layers_of(model, kind) -> list:
    """The layers of ``model`` that are instances of ``kind``, in order."""
    return [layer for layer in getattr(model, "layers", []) if isinstance(layer, kind)]


def regularizer_text(regularizer) -> str:
    """How a regularizer reads in a finding: ``l2(0.01)``, ``l1(0.01)``, ``l1_l2(l1=0.01, l2=0.01)``."""
    from regulab import regularizers

    if regularizer is None:
        return "none"
    if isinstance(regularizer, regularizers.L1):
        return f"l1({regularizer.l1:g}{', proximal=True' if regularizer.proximal else ''})"
    if isinstance(regularizer, regularizers.L2):
        return f"l2({regularizer.l2:g})"
    if isinstance(regularizer, regularizers.L1L2):
        return f"l1_l2(l1={regularizer.l1:g}, l2={regularizer.l2:g})"
    return type(regularizer).__name__


def plus_minus(values) -> str:
    """``"21 ± 3"``: the mean and standard deviation of some figures, rounded to whole numbers."""
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.0f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.0f}"


def rebuild(model, seed: int):
    """A new model with ``model``'s architecture and compile settings, initialised from ``seed``."""
    import regulab
    from regulab import optimizers

    regulab.set_random_seed(seed)
    copy = type(model).from_config(model.get_config())
    # accuracy whatever metrics the learner chose: the gap is measured in accuracy points
    copy.compile(optimizer=optimizers.fresh_copy(model.optimizer), loss=model.loss, metrics=["accuracy"])
    return copy


def accuracy_gaps(build, data: dict, seeds=(0, 1, 2), epochs: int = 20, batch_size: int = 32):
    """``(gaps, held_out)``: training minus held-out accuracy, and held-out accuracy, in points, of
    ``build(seed)`` trained on ``data``, per seed."""
    gaps, held_out = [], []
    for seed in seeds:
        model = build(seed)
        model.fit(data["X_train"], data["y_train"], epochs=epochs, batch_size=batch_size, verbose=0, seed=seed)
        train = model.evaluate(data["X_train"], data["y_train"], verbose=0, return_dict=True)
        test = model.evaluate(data["X_test"], data["y_test"], verbose=0, return_dict=True)
        gaps.append(100.0 * (train["accuracy"] - test["accuracy"]))
        held_out.append(100.0 * test["accuracy"])
    return np.array(gaps), np.array(held_out)


def lesson_model(seed: int, dropout: float | None = None, regularizer=None):
    """The regularization lesson's model (Dense 64 relu on 100 inputs, then a sigmoid unit), compiled
    as the lesson compiles it, optionally with a Dropout after the first layer or a kernel regularizer."""
    import regulab
    from regulab.layers import Dense, Dropout
    from regulab.models import Sequential

    regulab.set_random_seed(seed)
    layers = [Dense(64, input_dim=100, activation="relu", kernel_regularizer=regularizer)]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(1, activation="sigmoid"))
    model = Sequential(layers)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def gap_finding(run, starter_build, what: str, advice: str, seeds=(0, 1, 2), epochs: int = 20,
                margin: float = 1.0) -> str | None:
    """Train the learner's ``model`` and the starting point from the same seeds; a finding unless the
    learner's train/held-out accuracy gap is at least ``margin`` points smaller on average."""
    if not getattr(run.model, "compiled", False):
        return "the model is not compiled; keep model.compile(optimizer='adam', loss='binary_crossentropy', ...)"
    try:
        learner, learner_acc = accuracy_gaps(lambda seed: rebuild(run.model, seed), run.data, seeds, epochs)
    except (TypeError, NotImplementedError) as error:  # a subclassed model without get_config/from_config
        return (f"the check retrains your model from its configuration and could not rebuild it ({error}); build "
                "it with Sequential([...]) or the functional API")
    starter, starter_acc = accuracy_gaps(starter_build, run.data, seeds, epochs)
    if (starter - learner).mean() >= margin:
        if (starter_acc - learner_acc).mean() > 2.0:
            return (f"your {what} model's gap is small because it underfits: its held-out accuracy is "
                    f"{plus_minus(learner_acc)}%, below the starting point's {plus_minus(starter_acc)}%; "
                    "the technique is too strong, try a weaker setting")
        return None
    return (f"your {what} model's train-held-out accuracy gap is {plus_minus(learner)} points over {len(seeds)} "
            f"seeds ({epochs} epochs), no smaller than the starting point's {plus_minus(starter)}; {advice}")
