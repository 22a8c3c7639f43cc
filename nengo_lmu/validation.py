"""Argument checks shared by every layer: clear `ValueError`s that name the
parameter and the accepted values, raised before anything is built."""

import math
import numbers
import os

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


# --- numbers, seeds, output paths and memory: the application boundary -------

#: Seeds numpy accepts: ``0 <= seed < SEED_LIMIT`` (2**32).
SEED_LIMIT = 2**32


def shown(value, limit=60):
    """``repr(value)``, cut to ``limit`` characters (a huge integer, an array)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _bound_text(minimum, maximum, exclusive_minimum, exclusive_maximum):
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if exclusive_minimum else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<' if exclusive_maximum else '<='} {maximum:g}")
    return " and ".join(parts)


def check_real(name, value, minimum=None, maximum=None, exclusive_minimum=False,
               exclusive_maximum=False, allow_inf=False, allow_none=False):
    """``float(value)`` if it is a real number within the bounds (or None, if allowed).

    NaN is always refused; ``inf`` and ``-inf`` only pass with ``allow_inf``
    (and the bounds still apply to them). The message names ``name`` and the
    value, e.g. ``rms must be a finite real number > 0, got nan``.
    """
    if value is None and allow_none:
        return None
    bounds = _bound_text(minimum, maximum, exclusive_minimum, exclusive_maximum)
    kind = "a real number" if allow_inf else "a finite real number"
    text = f"{name} must be {kind}" + (f" {bounds}" if bounds else "") + (
        " or None" if allow_none else "")
    try:
        number = float(value) if isinstance(value, numbers.Real) else None
    except OverflowError:  # an int beyond float64
        number = math.inf if value > 0 else -math.inf
    if (
        number is None
        or isinstance(value, (bool, np.bool_))
        or math.isnan(number)
        or (not allow_inf and math.isinf(number))
        or (minimum is not None
            and (number <= minimum if exclusive_minimum else number < minimum))
        or (maximum is not None
            and (number >= maximum if exclusive_maximum else number > maximum))
    ):
        raise ValueError(f"{text}, got {shown(value)}")
    return number


def check_seed(name, value, allow_none=False):
    """``int(value)`` if it is an integer seed numpy accepts, ``0 <= seed < 2**32``
    (or None, if allowed)."""
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not 0 <= value < SEED_LIMIT
    ):
        raise ValueError(
            f"{name} must be an integer in 0..{SEED_LIMIT - 1}"
            + (" or None" if allow_none else "")
            + f", got {shown(value)}"
        )
    return int(value)


def _writable(directory):
    """Whether we may create files in the existing ``directory`` (its
    permissions and a read-only mount; root passes `os.access` everywhere)."""
    if not os.access(directory, os.W_OK | os.X_OK):
        return False
    try:
        return not os.statvfs(directory).f_flag & os.ST_RDONLY
    except (OSError, AttributeError):  # no statvfs: trust os.access
        return True


def _check_creatable_dir(name, path, target=None):
    """Check that the directory ``path`` exists and is writable, or can be
    created (its nearest existing ancestor is a writable directory);
    ``target`` is the file to be written there, if that is what it is for."""
    path = os.path.abspath(path)
    probe = path
    while not os.path.exists(probe):
        if os.path.islink(probe):  # a dangling symlink: makedirs fails on it
            raise FileNotFoundError(f"{name}: {probe!r} is a broken symbolic link")
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if target is not None:
        consequence = f", so {target!r} cannot be written"
    elif probe != path:
        consequence = f", so the directory {path!r} cannot be created"
    else:
        consequence = ""
    if not os.path.isdir(probe):
        raise NotADirectoryError(f"{name}: {probe!r} is not a directory{consequence}")
    if not _writable(probe):
        raise PermissionError(
            f"{name}: the directory {probe!r} is not writable{consequence}"
        )


def check_output_dir(name, path):
    """``os.fspath(path)`` if it is, or can be made, a writable directory.

    Nothing is created. Raises `NotADirectoryError` if ``path`` (or one of its
    ancestors) is a file, `PermissionError` if the directory (or the nearest
    existing ancestor) is not writable, `ValueError` if ``path`` is not a path;
    the message names ``name`` (the flag or the parameter) and the path.
    """
    if not isinstance(path, (str, os.PathLike)) or os.fspath(path) in ("", b""):
        raise ValueError(f"{name} must be a directory path, got {path!r}")
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(f"{name}: {path!r} is a file, not a directory")
    _check_creatable_dir(name, path)
    return path


def check_output_file(name, path):
    """``os.fspath(path)`` if a file can be written there (atomically: the
    file need not be writable, its directory must be).

    Nothing is created. Raises `IsADirectoryError` if ``path`` is a directory,
    `NotADirectoryError` / `PermissionError` if its directory is not a
    writable directory and cannot be created (`check_output_dir`),
    `ValueError` if ``path`` is not a path.
    """
    if not isinstance(path, (str, os.PathLike)) or os.fspath(path) in ("", b""):
        raise ValueError(f"{name} must be a file path, got {path!r}")
    path = os.fspath(path)
    if os.path.isdir(path) or path.endswith(os.sep):
        raise IsADirectoryError(f"{name}: {path!r} is a directory, not a file")
    _check_creatable_dir(name, os.path.dirname(os.path.abspath(path)), target=path)
    return path


class InsufficientMemoryError(MemoryError, ValueError):
    """A run that would need more memory than the machine has: raised by
    `check_memory` before anything is allocated. Both a `MemoryError` and a
    `ValueError`, so that either handler catches it."""


def memory_limit():
    """The machine's physical memory in bytes (None where unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def format_bytes(n_bytes):
    """``n_bytes`` for people, in powers of 1024: ``'512 bytes'``, ``'3.2 MiB'``,
    ``'1.5 TiB'``."""
    n_bytes = float(n_bytes)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n_bytes) < 1024 or unit == "PiB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return None  # unreachable


def check_memory(setting, n_bytes, what, limit=None):
    """Raise `InsufficientMemoryError` if ``n_bytes`` (an estimate of what
    ``what`` needs) exceeds ``limit`` (default: the machine's memory,
    `memory_limit`); ``setting`` names what to lower (e.g. ``"--sim-time"``,
    ``"sim_time or order"``). Returns ``n_bytes``.
    """
    limit = memory_limit() if limit is None else limit
    if limit is not None and n_bytes > limit:
        raise InsufficientMemoryError(
            f"{what} would need about {format_bytes(n_bytes)}, more than the "
            f"{format_bytes(limit)} of memory of this machine: lower {setting}"
        )
    return n_bytes


def check_input_dir(name, path, what="directory"):
    """``os.fspath(path)`` if it is an existing directory (e.g. a model
    directory to read): `FileNotFoundError` if there is nothing at ``path``,
    `NotADirectoryError` if it is a file; ``what`` names it in the message."""
    if not isinstance(path, (str, os.PathLike)) or os.fspath(path) in ("", b""):
        raise ValueError(f"{name} must be a {what} path, got {path!r}")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{name}: the {what} {path!r} does not exist")
    if not os.path.isdir(path):
        raise NotADirectoryError(f"{name}: {path!r} is a file, not a {what}")
    return path


def check_steps(steps, n_steps):
    """``steps`` (the steps, counted from 1, at which logits are read) as an int
    array of values in ``1..n_steps``; None stays None. A `ValueError` otherwise."""
    if steps is None:
        return None
    steps = np.asarray(steps)
    if (steps.ndim != 1 or len(steps) < 1 or not np.issubdtype(steps.dtype, np.integer)
            or steps.min() < 1 or steps.max() > n_steps):
        raise ValueError(f"steps must be a non-empty list of integers in 1..{n_steps} "
                         f"(the sequence length), got {steps!r}")
    return steps
