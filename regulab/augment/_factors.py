"""Keras 3's ``factor`` and ``value_range`` arguments of the preprocessing layers, checked."""
from __future__ import annotations

from numbers import Real

from regulab._validation import invalid


def factor_bounds(name: str, factor, where: str, low: float = -1.0, high: float = 1.0,
                  symmetric: bool = True) -> tuple[float, float]:
    """Keras's factor: a number f gives (-|f|, |f|) (or (f, f) when not ``symmetric``), a pair
    gives (lower, upper) sorted; every value in [low, high]."""
    expected = f"a float in [{low:g}, {high:g}] or a pair of such floats"
    if isinstance(factor, (list, tuple)):
        if len(factor) != 2 or not all(isinstance(v, Real) and not isinstance(v, bool)
                                       for v in factor):
            raise invalid(name, expected, factor, where)
        values = sorted(float(v) for v in factor)
    elif isinstance(factor, Real) and not isinstance(factor, bool):
        f = float(factor)
        values = [-abs(f), abs(f)] if symmetric else [f, f]
    else:
        raise invalid(name, expected, factor, where)
    if not all(low <= v <= high for v in values):
        raise invalid(name, expected, factor, where)
    return values[0], values[1]


def check_value_range(value_range, where: str) -> tuple[float, float]:
    """A [low, high] pair of pixel values with low < high."""
    if (not isinstance(value_range, (list, tuple)) or len(value_range) != 2
            or not all(isinstance(v, Real) and not isinstance(v, bool) for v in value_range)
            or not float(value_range[0]) < float(value_range[1])):
        raise invalid("value_range", "a pair [low, high] with low < high", value_range, where)
    return float(value_range[0]), float(value_range[1])
