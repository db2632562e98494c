"""Registering your own layers, models and functions so that saved models can name them.

Loading a model file builds objects from class names it finds in the file's JSON. It only ever
builds regulab's own classes, classes and functions registered here, and what you pass as
``load_model(..., custom_objects={...})``: a file never makes regulab import or run anything else,
and nothing is unpickled.

>>> import regulab
>>> from regulab.layers import Layer
>>> @regulab.saving.register_serializable(package="demo")
... class Scale(Layer):
...     def call(self, x, ctx):
...         return 2 * x
>>> regulab.saving.get_registered_name(Scale)
'demo>Scale'
"""
from __future__ import annotations

from typing import Callable

__all__ = ["register_serializable", "register_keras_serializable", "get_registered_name",
           "get_registered_object", "load_model"]

_REGISTERED: dict[str, object] = {}
_NAMES: dict[int, str] = {}


def register_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Class or function decorator: ``@register_serializable(package="my_project")`` makes a
    layer, model or function nameable in saved files (as ``"my_project>ClassName"``), as Keras's
    ``register_keras_serializable``."""
    if not isinstance(package, str) or ">" in package or not package:
        raise ValueError(f"Invalid value for argument `package` of register_serializable: expected a "
                         f"non-empty string without '>'. Received: package={package!r}")

    def register(obj):
        key = f"{package}>{name or obj.__name__}"
        other = _REGISTERED.get(key)
        if other is not None and other is not obj:
            raise ValueError(f"{key!r} is already registered to {other!r}; choose another `name` or `package`.")
        _REGISTERED[key] = obj
        _NAMES[id(obj)] = key
        return obj

    return register


#: Keras's spelling
register_keras_serializable = register_serializable


def get_registered_name(obj) -> str | None:
    """The name ``obj`` was registered under, or None."""
    return _NAMES.get(id(obj))


def get_registered_object(name: str, custom_objects: dict | None = None):
    """What ``name`` refers to: ``custom_objects`` first (by the name or its part after '>'), then
    registered objects; None when nothing is known by that name."""
    if custom_objects:
        if name in custom_objects:
            return custom_objects[name]
        short = name.split(">")[-1]
        if short in custom_objects:
            return custom_objects[short]
    return _REGISTERED.get(name)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True):
    """``regulab.models.load_model``, here as in ``keras.saving.load_model``."""
    from regulab.models import load_model as _load

    return _load(filepath, custom_objects=custom_objects, compile=compile)
