"""How a study turns its variants into models, and which variants train together.

A variant's settings (``_settings.py``) are of three kinds:

- values the training step reads from its state (regularizer factors, dropout rates, noise levels,
  mixup's alpha, the learning rate) and loop settings (early stopping, epochs): variants that
  differ only in these train together as one stacked model;
- structure (batch normalization, width; augmentation's flips, fill mode and photometric
  transforms): a variant with other structure trains in another group. Augmentation magnitudes
  (rotation, shifts, shear, zoom) are state: a variant without augmentation gets the group's
  augmentation layer with every magnitude 0, the identity.

Within a group every model gets the group's union of layers and regularizers, with a value of 0
where a variant does not use one (a Dropout of rate 0 is the identity, an L2 factor of 0 adds
nothing, a mixup alpha of 0 leaves the batch as it is), so all of them run one step. Hidden
layers are the weighted layers (Dense, Conv) before the output layer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from regulab import optimizers, regularizers
from regulab._seed import set_random_seed
from regulab.callbacks import EarlyStopping
from regulab.layers import BatchNormalization, Dropout, GaussianNoise
from regulab.layers._structure import structure_changed
from regulab.models import Sequential

#: settings that change the step's code: variants differing in them train in different groups
STRUCTURE = ("batch_norm", "width", "augmentation")  # augmentation: its static part only
#: settings that change a layer (the others act on the optimizer, the callbacks or the loop)
_LAYERED = ("l1", "l1_proximal", "l2", "dropout", "gaussian_noise", "batch_norm", "width", "augmentation")


@dataclass
class Group:
    """Variants trained together: stacked (one step for all their models) or one by one."""

    name: str
    variants: list[str]
    key: tuple
    l1_mode: str | None  # "proximal", "subgradient" or None (no L1)
    features: set = field(default_factory=set)  # layered settings some variant of the group uses
    stacked: bool = True
    reason: str = ""
    #: the augmentation's settings that are not magnitudes (fill mode, ...), from its first augmented variant
    augmentation_static: dict | None = None

    @property
    def mode(self) -> str:
        return "stacked" if self.stacked else "one by one"


def _l1_mode(name: str, settings: dict) -> str | None:
    if "l1" in settings and "l1_proximal" in settings:
        raise ValueError(f"Variant '{name}' of study sets both `l1` and `l1_proximal`: L1 is applied either "
                         f"through its subgradient or by soft-thresholding; pick one.")
    return "proximal" if "l1_proximal" in settings else "subgradient" if "l1" in settings else None


def group_variants(variants: dict[str, dict]) -> list[Group]:
    """The study's groups, in the order their first variant appears."""
    groups: list[Group] = []
    for name, settings in variants.items():
        # a structure setting that is off (batch_norm False, width 1) builds the baseline's
        key = tuple(json.dumps(settings[k] if _on(k, settings.get(k)) else None, sort_keys=True)
                    for k in STRUCTURE if k != "augmentation") + (_augmentation_key(settings),)
        mode = _l1_mode(name, settings)
        static = _augmentation_static(settings)
        home = next((g for g in groups if g.key == key and (mode is None or g.l1_mode in (None, mode))
                     and (static is None or g.augmentation_static in (None, static))), None)
        if home is None:
            home = Group(f"group {len(groups) + 1}", [], key, mode)
            groups.append(home)
        home.variants.append(name)
        home.l1_mode = home.l1_mode or mode
        home.augmentation_static = home.augmentation_static or static
        # a value of 0 still joins the union (it is "off" for that variant); structure only when on
        home.features |= {k for k in _LAYERED if k in settings and (k not in STRUCTURE or _on(k, settings[k]))}
    return groups


def _augmentation_static(settings: dict) -> dict | None:
    """An augmentation's settings other than its magnitudes (None without augmentation)."""
    from regulab.lab._augment_layer import MAGNITUDES

    aug = settings.get("augmentation")
    return None if not aug else {k: v for k, v in aug.items() if k not in MAGNITUDES}


def _augmentation_key(settings: dict) -> str:
    """What of an augmentation changes the step's code in a way an identity cannot match: flips and
    photometric transforms (fill mode, cval and interpolation act on no pixel at magnitude 0)."""
    static = _augmentation_static(settings) or {}
    shaping = {k: v for k, v in static.items() if k not in ("fill_mode", "cval", "interpolation_order") and v}
    return json.dumps(shaping or None, sort_keys=True)


def _on(key: str, value) -> bool:
    return bool(value) and not (key == "width" and value == 1.0)


def _hidden_weighted(model) -> list:
    """The weighted layers (those with a kernel) before the output layer."""
    weighted = [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]
    return weighted[:-1]


def _factors(reg, layer_name: str) -> tuple[float, float]:
    if reg is None:
        return 0.0, 0.0
    if isinstance(reg, (regularizers.L1, regularizers.L2, regularizers.L1L2)):
        return getattr(reg, "l1", 0.0), getattr(reg, "l2", 0.0)
    raise ValueError(f"Layer '{layer_name}' has its own regularizer {reg!r}, which a study's `l1`/`l2` "
                     f"settings cannot combine with; build the model without it or leave those settings out.")


def _compile_like(model, base) -> None:
    model.compile(optimizer=optimizers.fresh_copy(base.optimizer), loss=base.loss,
                  loss_weights=base.loss_weights, metrics=base._metric_args, device=base.device, jit_compile=False)


def _wider(base, width: float, seed: int):
    """``base`` rebuilt with ``width`` times the units or filters of its hidden layers (new weights)."""
    hidden = {layer.name for layer in _hidden_weighted(base)}
    config = base.get_config()
    for spec in config["layers"]:
        inner = spec.get("config", {})
        if inner.get("name") in hidden:
            for key in ("units", "filters"):
                if key in inner:
                    inner[key] = max(1, int(round(inner[key] * width)))
    set_random_seed(seed)
    wide = Sequential.from_config(config)
    _compile_like(wide, base)
    return wide


def build_variant(build_model, name: str, settings: dict, group: Group, seed: int):
    """``(model, callbacks, epochs or None)`` for one variant and seed: ``build_model()`` under
    ``seed``, changed by the variant's settings and given the group's union of layers."""
    set_random_seed(seed)
    base = build_model()
    from regulab.models._model import Model

    if not isinstance(base, Model):
        raise ValueError(f"Argument `build_model` of study must return a compiled regulab model; it returned "
                         f"{type(base).__name__}.")
    base._require_compiled("study")
    features = group.features
    structural = bool(features & {"batch_norm", "width", "augmentation", "gaussian_noise"})
    has_dropout = any(isinstance(layer, Dropout) for layer in getattr(base, "layers", []))
    structural |= "dropout" in features and not has_dropout
    if structural and not isinstance(base, Sequential):
        used = sorted(features & {"batch_norm", "width", "augmentation", "gaussian_noise", "dropout"})
        raise ValueError(f"Variant '{name}' of study adds layers ({', '.join(used)}), which needs a Sequential "
                         f"model; `build_model` returned a {type(base).__name__}. Build those layers into the "
                         f"model yourself, or leave these settings out.")
    if not base.built:
        raise ValueError("Argument `build_model` of study must return a built model: give its first layer "
                         "`input_shape` (or start it with `Input`).")
    if "width" in features:
        base = _wider(base, settings.get("width", 1.0), seed)
    model = base
    if features & {"l1", "l1_proximal", "l2"}:
        for layer in _hidden_weighted(base):
            l1, l2 = _factors(layer.kernel_regularizer, layer.name)
            l1 = settings.get("l1_proximal", settings.get("l1", l1))
            l2 = settings.get("l2", l2)
            reg = regularizers.L1L2(l1=l1, l2=l2, proximal=group.l1_mode == "proximal")
            layer.kernel_regularizer = reg
            layer.kernel.regularizer = reg
        structure_changed()
    if "dropout" in features and has_dropout and "dropout" in settings:
        for layer in base.layers:
            if isinstance(layer, Dropout):
                layer.rate = settings["dropout"]
    if structural:
        model = _with_layers(base, settings, group, has_dropout)
        _compile_like(model, base)
    if "learning_rate" in settings:
        model.optimizer.learning_rate = settings["learning_rate"]
    if "label_smoothing" in settings:
        model.loss = _smoothed(model.loss, settings["label_smoothing"], name)
    callbacks = []
    if "early_stopping" in settings:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=settings["early_stopping"],
                                       restore_best_weights=True))
    return model, callbacks, settings.get("epochs")


def _smoothed(loss, value: float, name: str):
    """A copy of the model's cross-entropy with ``label_smoothing=value`` (a value its step reads
    from its state: smoothed and plain variants stack)."""
    from regulab import losses

    resolved = None if isinstance(loss, (list, tuple, dict)) else losses.get(loss)
    if resolved is None or "label_smoothing" not in type(resolved).hyper_parameters:
        raise ValueError(f"Variant '{name}' of study sets `label_smoothing`, which needs a model with one output "
                         f"and a binary or categorical cross-entropy; its loss is {loss!r}.")
    copy = losses.deserialize(losses.serialize(resolved))
    copy.label_smoothing = value
    return copy


def _with_layers(base, settings: dict, group: Group, has_dropout: bool):
    """A Sequential of ``base``'s layers (their weights kept) with the group's layers added."""
    from regulab.lab._augment_layer import GeneratorAugmentation

    features = group.features
    hidden = {id(layer) for layer in _hidden_weighted(base)}
    front = []
    if "augmentation" in features:  # without its own: the group's, at magnitude 0
        front.append(GeneratorAugmentation(**(settings.get("augmentation") or group.augmentation_static or {})))
    if "gaussian_noise" in features:
        front.append(GaussianNoise(settings.get("gaussian_noise", 0.0)))
    layers = []
    own = {id(layer) for layer in base.layers}
    for layer in base.layers:
        layers.append(layer)
        if id(layer) in hidden:
            if "batch_norm" in features:
                layers.append(BatchNormalization())
            if "dropout" in features and not has_dropout:
                layers.append(Dropout(settings.get("dropout", 0.0)))
    for layer in front + [layer for layer in layers if id(layer) not in own]:
        layer._added_layer = True
    model = Sequential([*front, *layers], name=base.name)
    model.build(tuple(base.input_shape))
    return model
