"""matplotlib, headless-safe: the one way the package gets ``pyplot``.

Each task draws its own figures (`nengo_lmu.tasks`); this module only makes
sure that a machine without a display gets the Agg backend.
"""

from nengo_lmu._deprecated import moved_attributes


def pyplot():
    """``matplotlib.pyplot``, switched to Agg unless an inline backend is set."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    return plt


# names that moved out of this module in 0.2 (the tasks draw their own figures)
__getattr__ = moved_attributes(__name__, {"plot_delay": "nengo_lmu.tasks.delay",
                                          "_pyplot": "nengo_lmu.plots:pyplot"})
