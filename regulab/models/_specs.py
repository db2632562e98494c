"""Layers and models as JSON specs (``{"class_name", "config"}``) and back, through a registry.

A spec names a class; loading builds only regulab's own layer and model classes, classes
registered with ``regulab.saving.register_serializable``, and ``custom_objects``. A layer that
appears twice (shared) is written once; later places refer to it by name.
"""
from __future__ import annotations

from regulab import saving


def builtin_classes() -> dict[str, type]:
    from regulab.layers import REGISTRY
    from regulab.models._functional import Functional
    from regulab.models._sequential import Sequential

    return {**REGISTRY, "Sequential": Sequential, "Functional": Functional}


def class_name(obj) -> str:
    """The name a spec records for ``obj``'s class; unregistered user classes cannot be saved."""
    cls = getattr(type(obj), "_functional_of", type(obj))  # a subclass built as Model(inputs, outputs)
    registered = saving.get_registered_name(cls)
    if registered is not None:
        return registered
    name = cls.__name__
    if builtin_classes().get(name) is cls:
        return name
    raise ValueError(f"Cannot save {getattr(obj, 'name', obj)!r}: its class {cls.__module__}.{cls.__qualname__} is "
                     f"not registered. Decorate it with @regulab.saving.register_serializable() so that "
                     f"load_model can build it (and pass it in `custom_objects` when loading).")


def describe(layer) -> dict:
    """``layer``'s configuration for comparing and caching (not for saving): a layer that cannot be
    saved (a Lambda's function, a wrapped torch module) is described by its class and the
    identity of what it wraps."""
    try:
        return layer.get_config()
    except ValueError:
        wrapped = getattr(layer, "function", None) or getattr(layer, "module", None)
        return {"class": type(layer).__qualname__, "wraps": f"{type(wrapped).__qualname__}@{id(wrapped):x}",
                "layers": [describe(child) for child in layer._sublayers]}


def structural_config(layer) -> dict:
    """``describe(layer)`` without the values a training step reads from its state: the layer's
    ``hyper_parameters`` (a dropout rate) and its regularizers' factors (kept: their classes and
    whether they are proximal). Two layers with equal structural configurations run the same
    step code, whatever those values."""
    config = describe(layer)
    if not isinstance(config, dict):
        return config
    config = {k: v for k, v in config.items() if k not in type(layer).hyper_parameters}
    for key, value in list(config.items()):
        if key.endswith("_regularizer") and isinstance(value, dict) and isinstance(value.get("config"), dict):
            inner = {k: v for k, v in value["config"].items() if k not in ("l1", "l2")}
            config[key] = {**value, "config": inner}
    return config


def layer_spec(layer, written: set | None = None) -> dict:
    """``{"class_name", "config"}`` for ``layer``; ``{"shared": name}`` if ``written`` has it."""
    if written is not None:
        if id(layer) in written:
            return {"shared": layer.name}
        written.add(id(layer))
    return {"class_name": class_name(layer), "config": layer.get_config()}


def resolve_class(name, custom_objects=None):
    found = saving.get_registered_object(name, custom_objects) if isinstance(name, str) else None
    if found is None and isinstance(name, str):
        found = builtin_classes().get(name)
    if found is None:
        raise ValueError(f"Unknown layer class {name!r}: it is neither one of regulab's nor registered. "
                         f"Pass it to load_model(..., custom_objects={{{name.split('>')[-1] if isinstance(name, str) else name!r}: "
                         f"TheClass}}) or register it with @regulab.saving.register_serializable().")
    return found


def layer_from_spec(spec, built: dict, custom_objects=None):
    """Build a layer or model from ``spec``; ``built`` maps names to layers already built (for
    shared references)."""
    if not isinstance(spec, dict):
        raise ValueError(f"a layer entry is malformed (expected an object, got {type(spec).__name__})")
    if "shared" in spec:
        layer = built.get(spec["shared"])
        if layer is None:
            raise ValueError(f"a layer entry refers to the shared layer {spec['shared']!r} before it is defined")
        return layer
    if not isinstance(spec.get("config"), dict):
        raise ValueError("a layer entry is malformed (no config object)")
    cls = resolve_class(spec.get("class_name"), custom_objects)
    from regulab.models._model import Model

    try:
        if isinstance(cls, type) and issubclass(cls, Model):
            layer = cls.from_config(spec["config"], custom_objects=custom_objects)
        else:
            layer = cls.from_config(spec["config"])
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"the configuration of layer {spec['config'].get('name')!r} is invalid ({e})") from None
    built[layer.name] = layer
    return layer
