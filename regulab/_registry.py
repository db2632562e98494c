"""Names and classes of one kind of object (optimizer, loss, regularizer).

Looking a name up suggests the closest known one; saving records the class name and config, and
loading constructs only registered classes, never arbitrary code.
"""
from __future__ import annotations

from typing import Callable

from regulab._validation import unknown_name


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


class Registry:
    """``get`` by name or instance, ``serialize``/``deserialize`` by registered class name."""

    def __init__(self, kind: str, base: type, names: dict[str, Callable], classes: dict[str, type]):
        self.kind, self.base, self.names, self.classes = kind, base, names, classes

    def get(self, identifier):
        if isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, str):
            factory = self.names.get(identifier.lower())
            if factory is None:
                raise unknown_name(self.kind, identifier, self.names)
            return factory()
        base = self.base.__name__
        raise TypeError(f"{_article(self.kind).capitalize()} {self.kind} must be a name or {_article(base)} {base} "
                        f"instance. Received: {identifier!r}")

    def serialize(self, obj) -> dict:
        if type(obj).__name__ not in self.classes:
            raise ValueError(f"Cannot save the custom {self.kind} {obj!r}; use one of "
                             f"{', '.join(self.classes)}.")
        return {"class_name": type(obj).__name__, "config": obj.get_config()}

    def deserialize(self, spec: dict):
        cls = self.classes.get(spec.get("class_name")) if isinstance(spec, dict) else None
        if cls is None:
            name = spec.get("class_name") if isinstance(spec, dict) else spec
            raise ValueError(f"Unknown {self.kind} class {name!r} in saved config.")
        return cls(**spec.get("config", {}))
