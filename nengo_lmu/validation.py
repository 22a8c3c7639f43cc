"""Argument checks shared by every layer: clear `ValueError`s that name the
parameter and the accepted values, raised before anything is built."""

import numbers

import numpy as np


def check_integer(name, value, minimum=1, allow_none=False):
    """``int(value)`` if it is an integer ``>= minimum`` (or None, if allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"{name} must be an integer >= {minimum}"
            + (" or None" if allow_none else "")
            + f", got {value!r}"
        )
    return int(value)


def check_positive(name, value):
    """``float(value)`` if it is a finite real number ``> 0``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive real number, got {value!r}")
    return float(value)


def check_choice(name, value, choices):
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value
