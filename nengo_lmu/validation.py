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


def is_finite_real(value):
    """Whether ``value`` is a finite real number (not a bool)."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
    )


def check_positive(name, value):
    """``float(value)`` if it is a finite real number ``> 0``."""
    if not is_finite_real(value) or value <= 0:
        raise ValueError(f"{name} must be a positive real number, got {value!r}")
    return float(value)


def check_choice(name, value, choices):
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_sequences(x, y=None, n_steps=784, input_d=1, n_classes=10):
    """Check user-provided sequences (and labels) before training on them.

    Parameters
    ----------
    x : array_like
        Float sequences of shape (n, n_steps, input_d); (n, n_steps) is
        accepted when ``input_d == 1`` and gets a last axis of size 1.
    y : array_like, optional
        Integer class labels in ``0..n_classes-1``, one per sequence: shape
        (n,) or (n, 1).
    n_steps : int
        Required number of time steps.
    input_d : int
        Required input dimension per step.
    n_classes : int
        Number of classes.

    Returns
    -------
    x : ndarray
        ``x`` with shape (n, n_steps, input_d) (its float dtype kept).
    y : ndarray or None
        ``y`` as int64 of shape (n,), or None if not given.

    Raises
    ------
    ValueError
        Naming the problem, e.g. "x contains NaN at 3 entries",
        "labels must lie in 0..9, got max 12", "x must have 784 steps, got 100".
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise ValueError(
            f"x must be a float array, got dtype {x.dtype} "
            "(scale 8-bit pixels to [0, 1] first, e.g. x / 255)"
        )
    if x.ndim == 2 and input_d == 1:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(
            f"x must have shape (n, {n_steps}, {input_d})"
            + (f" or (n, {n_steps})" if input_d == 1 else "")
            + f", got shape {x.shape}"
        )
    if len(x) == 0:
        raise ValueError("x is empty (0 sequences)")
    if x.shape[1] != n_steps:
        raise ValueError(f"x must have {n_steps} steps, got {x.shape[1]}")
    if x.shape[2] != input_d:
        raise ValueError(f"x must have input dimension {input_d}, got {x.shape[2]}")
    n_nan = int(np.count_nonzero(np.isnan(x)))
    if n_nan:
        raise ValueError(f"x contains NaN at {n_nan} entries")
    n_inf = int(np.count_nonzero(np.isinf(x)))
    if n_inf:
        raise ValueError(f"x contains inf at {n_inf} entries")

    if y is None:
        return x, None
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must have shape (n,) or (n, 1), got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    if len(y) != len(x):
        raise ValueError(
            f"y must have one label per sequence: len(y) = {len(y)}, len(x) = {len(x)}"
        )
    if y.min() < 0:
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got min {y.min()}")
    if y.max() >= n_classes:
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got max {y.max()}")
    return x, y.astype(np.int64)
