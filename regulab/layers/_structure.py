"""How a layer tree is keyed: names, paths of variables, random streams, and the cache of them.

Paths and streams are computed by walking the tree of layers, which costs more than a small step;
they are cached on each layer until any layer's structure changes (``structure_changed``).
"""
from __future__ import annotations

import itertools
import re

from regulab._validation import check_int
from regulab.layers._context import STREAM_SPACE, path_stream

Shape = tuple  # without the batch axis, e.g. (100,) or (28, 28, 1)

_name_counters: dict[str, itertools.count] = {}

#: bumped whenever any layer's structure may change (a layer made, a weight added, a layer
#: attribute set, a Sequential grown): cached paths, streams and weight lists are then recomputed
_structure_version = [0]


def structure_changed() -> None:
    _structure_version[0] += 1


def cached(layer, key: str, compute):
    """``compute()`` memoised on ``layer`` until the structure of any layer changes."""
    cache = layer.__dict__.get("_structure_cache")
    if cache is None or cache[0] != _structure_version[0]:
        cache = (_structure_version[0], {})
        object.__setattr__(layer, "_structure_cache", cache)
    values = cache[1]
    if key not in values:
        values[key] = compute()
    return values[key]


def snake_case(name: str) -> str:
    """Keras's rule: ``Conv2D`` -> ``conv2d``, ``SimpleRNN`` -> ``simple_rnn``, ``LSTM`` -> ``lstm``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """Keras-style names: dense, dense_1, dense_2, ..."""
    counter = _name_counters.setdefault(prefix, itertools.count())
    n = next(counter)
    return prefix if n == 0 else f"{prefix}_{n}"


def normalize_shape(shape, name: str, where: str) -> Shape:
    """Turn an int or a sequence into a tuple of positive ints (None allowed for sequence axes)."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"Invalid value for argument `{name}` of {where}: expected a tuple of "
                         f"positive integers. Received: {name}={shape!r}") from None
    return tuple(None if d is None else check_int(name, d, low=1, where=where) for d in dims)




def sublayer_keys(layer) -> list[tuple[str, object]]:
    """``[(key, child)]`` for the layers directly inside ``layer``: a child's name if it was given
    one, else its class in snake case numbered among its siblings (skipping given names)."""
    children = layer._sublayers
    taken: dict[str, object] = {}
    for child in children:
        if not child._auto_named:
            other = taken.get(child.name)
            if other is not None and other is not child:
                raise ValueError(f"The name '{child.name}' is used by 2 layers of '{layer.name}' "
                                 f"({type(other).__name__} and {type(child).__name__}). All layer names "
                                 f"within a model must be unique.")
            taken[child.name] = child
    keys = []
    counts: dict[str, int] = {}
    for child in children:
        if not child._auto_named:
            keys.append((child.name, child))
            continue
        base = snake_case(type(child).__name__)
        while True:
            n = counts.get(base, 0)
            counts[base] = n + 1
            key = base if n == 0 else f"{base}_{n}"
            if key not in taken:
                break
        taken[key] = child
        keys.append((key, child))
    return keys


def variable_paths(root) -> dict:
    """``{variable: path}`` below ``root`` (see ``Layer.variable_paths``)."""
    paths: dict = {}
    seen: set[int] = set()

    def collect(layer, prefix: str) -> None:
        if id(layer) in seen:
            return
        seen.add(id(layer))
        for v in layer._variables:
            paths.setdefault(v, prefix + v.short_name)
        for key, child in sublayer_keys(layer):
            collect(child, f"{prefix}{key}/")

    collect(root, "")
    return paths


def layer_paths(root) -> dict:
    """``{layer: path}`` for ``root``'s layers below it (the keys ``variable_paths`` uses; a layer
    used twice keeps its first path)."""
    paths: dict = {}

    def walk(layer, prefix: str) -> None:
        for key, child in sublayer_keys(layer):
            if child not in paths:
                paths[child] = prefix + key
                walk(child, f"{prefix}{key}/")

    walk(root, "")
    return paths


def layer_streams(root) -> dict:
    """``{layer: random stream}`` below ``root`` (see ``Layer.layer_streams``)."""
    streams: dict = {}
    used: set[int] = set()

    def walk(layer, path):
        if layer in streams:
            return
        s = path_stream(f"{path}:{type(layer).__name__}")
        while s in used:
            s = (s + 1) % STREAM_SPACE
        used.add(s)
        streams[layer] = s
        own = 0
        for child in layer._sublayers:
            # a layer added to a model by a study (an idle Dropout of rate 0, the input's noise)
            # counts apart, by where it sits among the model's own layers, so neither they nor
            # other added layers change streams when it is there
            if child._added_layer:
                walk(child, f"{path}/+{own}")
            else:
                walk(child, f"{path}/{own}")
                own += 1

    walk(root, "")
    return streams


def shapes_match(expected, received) -> bool:
    """Whether two sample shapes (or lists of them) agree, ``None`` matching any size."""
    if isinstance(expected, list) or isinstance(received, list):
        return (isinstance(expected, list) and isinstance(received, list) and len(expected) == len(received)
                and all(shapes_match(e, r) for e, r in zip(expected, received)))
    return len(expected) == len(received) and all(e is None or r is None or e == r
                                                  for e, r in zip(expected, received))


def batched(shape):
    """The shape with its batch axis, ``(None, *shape)`` (each of a list)."""
    if isinstance(shape, list):
        return [batched(s) for s in shape]
    return (None, *shape)
