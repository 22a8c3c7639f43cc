"""Checks of JSON objects read from a file, field by field.

A field is a check ``check(name, value)`` that raises a `ValueError` naming
the field (its path in the file, e.g. ``model.units``), what it accepts
(``check.description``) and the value found; `check_object` checks a
whole object against ``{key: field}``, refusing unknown and missing keys
with the list of known ones. The schema of a model directory's
``config.json`` (`nengo_lmu.model_dir.check_run_config`) is written in
these.

Base layer: imports nothing of nengo_lmu but `nengo_lmu.validation`.
"""

import numbers

from nengo_lmu.validation import is_finite_real
from nengo_lmu.validation import shown as _shown


def shown(value, limit=80):
    """``repr(value)``, cut to ``limit`` characters (`nengo_lmu.validation.shown`,
    with the longer limit of a value read from a file)."""
    return _shown(value, limit)


def field(description, accepts):
    """The check of a field whose values pass ``accepts(value)``; the message
    of a refused value says it must be ``description``."""
    def check(name, value):
        if not accepts(value):
            raise ValueError(f"{name} must be {description}, got {shown(value)}")
    check.description = description
    return check


def is_integer(value):
    """Whether ``value`` is an integer (not a bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def integer(minimum=1, maximum=None):
    """An integer ``>= minimum`` (and ``<= maximum``)."""
    if maximum is None:
        description = f"an integer >= {minimum}"
    else:
        description = f"an integer in {minimum}..{maximum}"
    return field(description, lambda v: is_integer(v) and v >= minimum
                 and (maximum is None or v <= maximum))


def real(minimum=0.0, strict=True):
    """A finite real number ``> minimum`` (``>=`` unless ``strict``)."""
    description = f"a finite real number {'>' if strict else '>='} {minimum:g}"
    return field(description, lambda v: is_finite_real(v)
                 and (v > minimum if strict else v >= minimum))


def choice(choices):
    """One of the strings ``choices``."""
    choices = tuple(choices)
    return field(f"one of {choices}", lambda v: isinstance(v, str) and v in choices)


def nullable(check):
    """What ``check`` accepts, or None (JSON null)."""
    return field(f"{check.description} or null (None)",
                 lambda v: v is None or _passes(check, v))


def _passes(check, value):
    try:
        check("", value)
    except ValueError:
        return False
    return True


STRING = field("a string", lambda v: isinstance(v, str))
BOOLEAN = field("true or false", lambda v: isinstance(v, bool))


def check_object(name, data, required, optional=None, known_label="known keys"):
    """Check that ``data`` is a dict with the ``required`` keys, no keys but
    those and the ``optional`` ones, and each value passing its field's check
    (``required`` and ``optional``: {key: check}); return ``data``. ``name``
    is its path in the file (``""`` for the whole file)."""
    optional = optional or {}
    known = {**required, **optional}
    if not isinstance(data, dict):
        raise ValueError(f"{name or 'it'} must be a JSON object (keys {', '.join(known)}), "
                         f"got {type(data).__name__} {shown(data)}")
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ValueError(f"{name + ' has u' if name else 'u'}nknown key"
                         f"{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))} "
                         f"({known_label}: {', '.join(known)})")
    missing = [k for k in required if k not in data]
    if missing:
        raise ValueError(f"{name or 'it'} lacks {', '.join(map(repr, missing))} "
                         f"(required keys: {', '.join(required)})")
    for key, value in data.items():
        known[key](f"{name}.{key}" if name else key, value)
    return data
