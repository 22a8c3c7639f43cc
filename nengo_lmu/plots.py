"""Plots of the package's results (matplotlib, headless-safe)."""

import numpy as np


def _pyplot():
    import matplotlib  # pylint: disable=import-outside-toplevel

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    return plt


def plot_delay(results, window=(None, None)):
    """Decoded delayed signals against the truth, one panel per ``r``.

    Parameters
    ----------
    results : dict or list of dict
        Outputs of `nengo_lmu.delay.run_delay` (several are overlaid, e.g.
        the exact system and spiking backends).
    window : (float, float)
        Time range to show (s); by default the last 5 s.
    """
    plt = _pyplot()
    results = [results] if isinstance(results, dict) else list(results)
    first = results[0]
    t, r = first["t"], first["r"]
    lo, hi = window
    hi = t[-1] if hi is None else hi
    lo = max(t[0], hi - 5.0) if lo is None else lo
    show = (t >= lo) & (t <= hi)
    fig, axes = plt.subplots(len(r), 1, figsize=(9, 1.8 * len(r)), sharex=True)
    axes = np.atleast_1d(axes)
    for k, (ax, rk) in enumerate(zip(axes, r)):
        ax.plot(t[show], first["truth"][show, k], "k", lw=2, label="true u(t - r theta)")
        for res in results:
            label = f"{res['backend']}, " + (
                f"{res['n_neurons_total']} neurons" if res["n_neurons_total"] else "exact"
            )
            ax.plot(
                t[show],
                res["decoded"][show, k],
                lw=1,
                label=f"{label} (NRMSE {res['nrmse'][str(float(rk))]:.3f})",
            )
        ax.set_ylabel(f"r = {rk:g}")
        ax.legend(loc="upper right", fontsize="x-small", ncol=2)
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(
        f"Legendre delay network: order {first['order']}, theta {first['theta']:g} s, "
        f"{first['freq']:g} Hz white noise"
    )
    fig.tight_layout()
    return fig
