"""One place for argument checks, so every class words its errors the same way.

Messages name the argument, the expected value and the received one, e.g.
"Invalid value for argument `rate` of Dropout: expected a float in [0, 1). Received: rate=1.5".
"""
from __future__ import annotations

import difflib
import math
from typing import Any, Iterable


def _owner(where: str | None) -> str:
    return f" of {where}" if where else ""


def invalid(name: str, expected: str, value: Any, where: str | None = None) -> ValueError:
    """Build the standard error for an argument that has a wrong value."""
    return ValueError(
        f"Invalid value for argument `{name}`{_owner(where)}: expected {expected}. "
        f"Received: {name}={value!r}"
    )


def check_float(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False, where: str | None = None) -> float:
    """Return ``value`` as a float after checking it lies in the given interval."""
    lo_b = "(" if low_open or low is None else "["
    hi_b = ")" if high_open or high is None else "]"
    lo_s = "-inf" if low is None else f"{low:g}"
    hi_s = "inf" if high is None else f"{high:g}"
    expected = f"a float in {lo_b}{lo_s}, {hi_s}{hi_b}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np
            if isinstance(value, np.generic) and np.isreal(value):
                value = float(value)
            else:
                raise invalid(name, expected, value, where)
        except ImportError:  # pragma: no cover - numpy is a dependency
            raise invalid(name, expected, value, where) from None
    v = float(value)
    bad = not math.isfinite(v)
    if low is not None and (v < low or (low_open and v == low)):
        bad = True
    if high is not None and (v > high or (high_open and v == high)):
        bad = True
    if bad:
        raise invalid(name, expected, value, where)
    return v


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None,
              where: str | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer in [low, high]."""
    lo_s = "-inf" if low is None else str(low)
    hi_s = "inf" if high is None else str(high)
    expected = f"an integer in {'(' if low is None else '['}{lo_s}, {hi_s}{')' if high is None else ']'}"
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise invalid(name, expected, value, where)
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise invalid(name, expected, value, where)
    return v


def suggest(value: str, options: Iterable[str]) -> str:
    """Return a " Did you mean 'x'?" hint, or an empty string when nothing is close."""
    close = difflib.get_close_matches(str(value).lower(), list(options), n=1, cutoff=0.5)
    return f" Did you mean '{close[0]}'?" if close else ""


def check_choice(name: str, value: Any, options: Iterable[str], where: str | None = None) -> str:
    """Return ``value`` if it is one of ``options``; otherwise raise with a suggestion."""
    options = list(options)
    if value in options:
        return value
    raise ValueError(
        f"Invalid value for argument `{name}`{_owner(where)}: expected one of "
        f"{', '.join(repr(o) for o in options)}. Received: {name}={value!r}.{suggest(str(value), options)}"
    )


def unknown_name(kind: str, value: str, options: Iterable[str]) -> ValueError:
    """The error for a string identifier (optimizer, loss, ...) that no registry knows."""
    options = sorted(options)
    return ValueError(
        f"Unknown {kind} '{value}'.{suggest(value, options)} Known {kind}{'es' if kind.endswith('s') else 's'}: "
        f"{', '.join(options)}."
    )
