"""Old names that keep working, with a `DeprecationWarning`, after a move.

Two kinds of move are covered:

- a module that moved (``nengo_lmu.psmnist`` -> ``nengo_lmu.tasks.psmnist``):
  `MOVED_MODULES`, served by a finder that `install` puts on `sys.meta_path`,
  so ``import nengo_lmu.psmnist`` returns the new module itself;
- a name that moved to another module (``nengo_lmu.training.hold_shifts`` ->
  ``nengo_lmu.readout.hold_shifts``): `moved_attributes` makes a module-level
  ``__getattr__`` for the old module.

Base layer: imports nothing of the package at import time.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: Modules of nengo-lmu 0.1 that moved, old name -> new name.
MOVED_MODULES = {
    "nengo_lmu.delay": "nengo_lmu.tasks.delay",
    "nengo_lmu.psmnist": "nengo_lmu.tasks.psmnist",
    "nengo_lmu.capacity": "nengo_lmu.tasks.capacity",
    "nengo_lmu.mackey_glass": "nengo_lmu.tasks.mackey_glass",
    "nengo_lmu.learning": "nengo_lmu.tasks.learning",
}


def warn_moved(old, new, stacklevel=3):
    """Warn that ``old`` is deprecated in favour of ``new``."""
    warnings.warn(f"{old} is deprecated and will be removed; use {new}",
                  DeprecationWarning, stacklevel=stacklevel)


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports a moved module under its old name as the new module itself."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102
        if fullname in MOVED_MODULES:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):  # noqa: D102
        new = MOVED_MODULES[spec.name]
        warn_moved(spec.name, new, stacklevel=4)
        return importlib.import_module(new)

    def exec_module(self, module):  # noqa: D102
        """Nothing to do: the new module is already executed."""


def install():
    """Put the finder of `MOVED_MODULES` on `sys.meta_path` (once)."""
    if not any(isinstance(f, _MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())


def moved_attributes(module_name, moved):
    """A module ``__getattr__`` for names that moved out of ``module_name``.

    Parameters
    ----------
    module_name : str
        The old module (``__name__``).
    moved : dict
        Old attribute name -> ``"new.module"`` or ``"new.module:new_name"``.

    Returns
    -------
    callable
        To be assigned to the old module's ``__getattr__``: it warns and
        returns the object from its new home.
    """

    def __getattr__(name):  # noqa: N807 (module protocol)
        if name not in moved:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        target, _, new_name = moved[name].partition(":")
        new_name = new_name or name
        warn_moved(f"{module_name}.{name}", f"{target}.{new_name}")
        return getattr(importlib.import_module(target), new_name)

    return __getattr__
