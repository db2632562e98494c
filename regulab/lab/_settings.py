"""What a study variant may change: the settings vocabulary and how each value is checked.

``lab.study(build_model, data, variants)`` takes ``variants`` as ``{name: {setting: value}}``;
``"baseline"`` is the plain model (``{}``). The settings:

================  ===========================================================================
``l1``            subgradient L1 factor on every hidden layer's kernel (every weighted layer
                  but the output layer)
``l1_proximal``   proximal L1 (exact zeros) on the same kernels
``l2``            L2 factor on the same kernels
``dropout``       rate of a Dropout after every hidden Dense/Conv layer (a model's own Dropout
                  layers take this rate instead)
``batch_norm``    BatchNormalization after every hidden Dense/Conv layer
``gaussian_noise``  GaussianNoise(stddev) on the input
``augmentation``  ImageDataGenerator settings for image inputs (``{"rotation_range": 20, ...}``),
                  applied per sample in training, never to validation or test data
``early_stopping``  EarlyStopping(monitor="val_loss", patience=<int>, restore_best_weights=True)
``mixup``         ``fit(mixup=alpha)``
``learning_rate`` the optimizer's learning rate
``width``         multiplies the units or filters of every hidden layer
``label_smoothing``  the cross-entropy's label smoothing
``epochs``        epochs for this variant (default: the study's)
================  ===========================================================================
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from regulab._validation import check_float, check_int, suggest


def _boolean(key, v):
    if not isinstance(v, bool):
        raise ValueError(f"Invalid value for argument `{key}`: expected true or false. Received: {key}={v!r}")
    return v


def _table(key, v):
    if not isinstance(v, dict):
        raise ValueError(f"Invalid value for argument `{key}`: expected a table of settings. Received: {key}={v!r}")
    return dict(v)


_non_negative = lambda k, v: check_float(k, v, low=0.0)  # noqa: E731
_positive = lambda k, v: check_float(k, v, low=0.0, low_open=True)  # noqa: E731

#: the study's variant settings and how each value is checked
VARIANT_SETTINGS: dict[str, Callable[[str, Any], Any]] = {
    "l1": _non_negative, "l1_proximal": _non_negative, "l2": _non_negative,
    "dropout": lambda k, v: check_float(k, v, low=0.0, high=1.0, high_open=True),
    "batch_norm": _boolean, "gaussian_noise": _non_negative, "augmentation": _table,
    "early_stopping": lambda k, v: check_int(k, v, low=1), "mixup": _non_negative,
    "learning_rate": _positive, "width": _positive, "epochs": lambda k, v: check_int(k, v, low=1),
    "label_smoothing": lambda k, v: check_float(k, v, low=0.0, high=1.0),
}


def augmentation_keys() -> tuple[str, ...]:
    """ImageDataGenerator's arguments that describe a random transform."""
    from regulab.preprocessing.image import ImageDataGenerator

    return tuple(p for p in inspect.signature(ImageDataGenerator).parameters
                 if p not in ("preprocessing_function", "data_format", "validation_split", "dtype",
                              "featurewise_center", "samplewise_center", "featurewise_std_normalization",
                              "samplewise_std_normalization", "zca_whitening", "zca_epsilon", "rescale"))


def check_variants(variants) -> dict[str, dict]:
    """``variants`` checked, with ``"baseline": {}`` first if it is missing."""
    if not isinstance(variants, dict):
        raise ValueError("Argument `variants` of study maps a name to its settings, e.g. "
                         f"{{'L2 0.01': {{'l2': 0.01}}}}. Received: {type(variants).__name__}")
    if not variants:
        raise ValueError("Argument `variants` of study is empty: give at least one variant, e.g. "
                         "{'L2 0.01': {'l2': 0.01}}.")
    checked: dict[str, dict] = {} if "baseline" in variants else {"baseline": {}}
    for name, settings in variants.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"Variant names of study must be non-empty strings. Received: {name!r}")
        if not isinstance(settings, dict):
            raise ValueError(f"Variant '{name}' of study: expected a dict of settings, e.g. {{'dropout': 0.5}}. "
                             f"Received: {settings!r}")
        out = {}
        for key, value in settings.items():
            if key not in VARIANT_SETTINGS:
                raise ValueError(f"Variant '{name}' of study has an unknown setting '{key}'.{suggest(key, VARIANT_SETTINGS)} "
                                 f"Known settings: {', '.join(VARIANT_SETTINGS)}.")
            out[key] = VARIANT_SETTINGS[key](key, value)
        if "augmentation" in out:
            allowed = augmentation_keys()
            for key in out["augmentation"]:
                if key not in allowed:
                    raise ValueError(f"Variant '{name}' of study: unknown augmentation setting '{key}'."
                                     f"{suggest(key, allowed)} Known: {', '.join(allowed)}.")
        checked[name] = out
    return {"baseline": checked.pop("baseline"), **checked}
