"""The delay task: how well a `LegendreMemory` remembers band-limited noise.

The memory is driven by white noise (``freq`` Hz cut-off, ``rms``, starting
at zero so that switching it on is no step the memory must ring out); the
window is decoded at relative delays ``r`` with the Legendre readout and
compared with the truly delayed input. Both signals are lowpassed by
``probe_synapse`` and the first ``theta`` seconds are ignored; the score is
NRMSE = RMSE / RMS of the true delayed signal.
"""

import contextlib
import time

import nengo
import numpy as np

from nengo_lmu._deprecated import moved_attributes
from nengo_lmu.backends import check_backend, loihi_realisation, make_simulator
from nengo_lmu.backends import run_with_progress
from nengo_lmu.metrics import nrmse_rms
from nengo_lmu.networks import LegendreMemory
from nengo_lmu.validation import (
    check_choice,
    check_integer,
    check_memory,
    check_real,
    check_seed,
)

R_VALUES = (0.0, 0.25, 0.5, 0.75, 1.0)
STATES = ("current", "decoded")

#: The largest RMS of the white-noise input (`run_delay`, `check_delay`). The
#: task is linear and its NRMSE does not depend on the scale, but squares of
#: larger inputs summed over a long run leave float64 (``rms = 1e300`` gives
#: NaN everywhere), and a spiking memory represents ``|u| <= 1`` anyway.
MAX_RMS = 1e6

#: Bytes a nengo probe keeps per step beside its data (one small array each).
PROBE_STEP_OVERHEAD = 112


def delay_memory_bytes(order, n_neurons, sim_time, dt, n_r=len(R_VALUES)):
    """An estimate of the memory (bytes) a `run_delay` needs, by part:
    ``{"probes": ..., "network": ...}``.

    The probes and what is computed from them: the input and the memory
    state at every step (``n_steps x (1 + order)`` float64, with nengo's
    per-step overhead), the state estimate and the decoded and true signals
    (``n_steps x len(r)``), the white noise. The network: the exact system's
    ``order x order`` matrices (about ten copies while discretized and
    built), or the spiking memory's neuron-to-neuron weights (``order**2``
    connections of ``n_neurons x n_neurons``, twice while solved).
    """
    n_steps = int(round(sim_time / dt))
    per_step = 2 * PROBE_STEP_OVERHEAD + 8 * (4 * (1 + order) + 6 * n_r + 4)
    if n_neurons:
        network = 2 * 8 * order**2 * n_neurons**2
    else:
        network = 10 * 8 * order**2
    return {"probes": n_steps * per_step, "network": network}


def check_delay(order=6, theta=1.0, freq=1.0, rms=0.3, n_neurons=100, sim_time=10.0,
                seed=0, dt=0.001, probe_synapse=0.05, r=R_VALUES, state="current"):
    """Check the settings of `run_delay`; raise `ValueError` (naming the
    setting) if one is bad, `nengo_lmu.validation.InsufficientMemoryError`
    if the run would not fit in memory (`delay_memory_bytes`). Returns nothing;
    `run_delay` calls it before anything is built.
    """
    check_integer("order", order)
    theta = check_real("theta", theta, 0, exclusive_minimum=True)
    rms = check_real("rms", rms, 0, MAX_RMS, exclusive_minimum=True)
    if n_neurons is not None:
        check_integer("n_neurons", n_neurons, minimum=0)
    dt = check_real("dt", dt, 0, exclusive_minimum=True)
    sim_time = check_real("sim_time", sim_time, 0, exclusive_minimum=True)
    if sim_time <= theta:
        raise ValueError(f"sim_time must exceed theta ({theta:g} s), got {sim_time!r}")
    if int(round(sim_time / dt)) <= int(round(theta / dt)):
        raise ValueError(f"sim_time must exceed theta ({theta:g} s) by at least one "
                         f"step of dt ({dt:g} s) to score the delay task, got {sim_time!r}")
    freq = check_real("freq", freq, 0, exclusive_minimum=True)
    if not 1 / sim_time <= freq <= 0.5 / dt:
        raise ValueError(f"freq must lie between 1 / sim_time ({1 / sim_time:g} Hz) and "
                         f"the Nyquist frequency 0.5 / dt ({0.5 / dt:g} Hz), got {freq!r}")
    check_seed("seed", seed)
    if probe_synapse is not None:
        check_real("probe_synapse", probe_synapse, 0)
    try:
        r_ = np.asarray(r, dtype=float)
    except (TypeError, ValueError):
        r_ = None
    if r_ is None or r_.ndim != 1 or r_.size == 0 or not np.all((r_ >= 0) & (r_ <= 1)):
        raise ValueError(f"r must be a non-empty list of relative delays in [0, 1], got {r!r}")
    check_choice("state", state, STATES)
    parts = delay_memory_bytes(order, n_neurons, sim_time, dt, len(r_))
    lower = ("sim_time (or raise dt)" if parts["probes"] >= parts["network"]
             else "n_neurons or order" if n_neurons else "order")
    check_memory(lower, sum(parts.values()),
                 f"the delay task ({int(round(sim_time / dt)):,} steps, order {order}"
                 + (f", {n_neurons} neurons per dimension)" if n_neurons else ")"))


def delay_network(
    order=6,
    theta=1.0,
    freq=1.0,
    rms=0.3,
    n_neurons=100,
    sim_time=10.0,
    seed=0,
    dt=0.001,
    **memory_kwargs,
):
    """A `LegendreMemory` driven by white noise, with probes.

    Returns
    -------
    net : `nengo.Network`
        With attributes ``memory``, ``p_input`` (input probe) and
        ``p_memory`` (unfiltered probe of the memory state).
    """
    with nengo.Network(label="delay task", seed=seed) as net:
        net.stim = nengo.Node(
            nengo.processes.WhiteSignal(sim_time, high=freq, rms=rms, y0=0, seed=seed),
            label="white noise",
        )
        net.memory = LegendreMemory(
            theta, order, n_neurons=n_neurons or None, dt=dt, seed=seed, **memory_kwargs
        )
        nengo.Connection(net.stim, net.memory.input, synapse=None)
        net.p_input = nengo.Probe(net.stim, synapse=None)
        net.p_memory = nengo.Probe(net.memory.output, synapse=None)
    return net


def evaluate_delay(memory, u, m, dt, r=R_VALUES, probe_synapse=0.05):
    """NRMSE of the windows decoded from state ``m`` against the input ``u``.

    Returns
    -------
    nrmse : dict
        ``{r: NRMSE}``.
    decoded, truth : ndarray, shape ``(n_steps, len(r))``
        Filtered decoded and true delayed signals (the first ``theta``
        seconds included; they are excluded from the NRMSE).
    """
    r = np.asarray(r, dtype=float)
    u = np.asarray(u)[:, 0]
    delays = np.round(r * memory.theta / dt).astype(int)
    truth = np.stack([np.roll(u, k) for k in delays], axis=1)
    decoded = np.asarray(m) @ memory.system.readout(r)
    lowpass = nengo.Lowpass(probe_synapse)
    truth, decoded = lowpass.filt(truth, dt=dt, y0=0), lowpass.filt(decoded, dt=dt, y0=0)
    skip = int(round(memory.theta / dt))
    if skip >= len(u):
        raise ValueError(
            f"sim_time must exceed theta ({memory.theta} s) to score the delay task"
        )
    errors = nrmse_rms(decoded[skip:], truth[skip:])
    return dict(zip(map(float, r), map(float, errors))), decoded, truth


def run_delay(
    order=6,
    theta=1.0,
    freq=1.0,
    rms=0.3,
    n_neurons=100,
    backend="nengo",
    sim_time=10.0,
    seed=0,
    dt=0.001,
    probe_synapse=0.05,
    r=R_VALUES,
    progress_bar=True,
    state="current",
    **memory_kwargs,
):
    """Run the delay task on ``backend`` and score it.

    ``n_neurons=0`` (or None) runs the exact linear system. Keyword
    arguments not listed go to `LegendreMemory`; with its defaults the
    memory suits every backend (on ``backend="loihi"`` its input is filtered
    once, on chip: ``loihi_input=None``).

    ``state`` selects how the spiking memory's state is read: ``"current"``
    (default) filters the populations' input current,
    `LegendreMemory.state_estimate` (on ``"loihi"`` with the mapping the chip
    was built with, `nengo_lmu.backends.loihi_realisation`); ``"decoded"``
    uses the decoded output
    directly (both are then lowpassed by ``probe_synapse``).

    Returns
    -------
    dict
        ``nrmse`` (``{"0.0": ..., ...}``), ``backend``, ``n_neurons_total``,
        ``wall_s`` (build and run), ``sim_time``, ``order``, ``theta``,
        ``freq``, ``rms``, ``seed``, plus ``t``, ``decoded`` and ``truth``
        arrays (for plotting).

    Raises
    ------
    ValueError
        For a bad setting (`check_delay`: ``rms`` finite in ``(0, MAX_RMS]``,
        ``theta`` finite > 0, ``sim_time`` finite > ``theta``, ``freq`` between
        ``1 / sim_time`` and the Nyquist frequency, a seed numpy accepts, ...)
        or a run that would not fit in memory
        (`nengo_lmu.validation.InsufficientMemoryError`), before anything is
        built or simulated.
    """
    check_backend(backend)
    check_delay(order, theta, freq, rms, n_neurons, sim_time, seed, dt, probe_synapse, r,
                state)
    net = delay_network(
        order, theta, freq, rms, n_neurons, sim_time, seed, dt, **memory_kwargs
    )
    start = time.perf_counter()
    with make_simulator(net, backend, dt=dt, seed=seed, progress_bar=progress_bar) as sim:
        run_with_progress(sim, sim_time, progress_bar=progress_bar)
        u, m, t = sim.data[net.p_input], sim.data[net.p_memory], sim.trange()
    wall = time.perf_counter() - start
    if m.ndim == 3:  # nengo_dl: (minibatch, steps, d)
        u, m = u[0], m[0]
    if state == "current":
        with _as_built(net.memory, backend, dt):
            m = net.memory.state_estimate(m, u, dt)
    errors, decoded, truth = evaluate_delay(net.memory, u, m, dt, r, probe_synapse)
    return {
        "nrmse": {str(k): v for k, v in errors.items()},
        "backend": backend,
        "n_neurons_total": net.memory.n_neurons_total,
        "wall_s": wall,
        "sim_time": sim_time,
        "order": order,
        "theta": theta,
        "freq": freq,
        "rms": rms,
        "seed": seed,
        "state": state,
        "r": list(map(float, r)),
        "t": t,
        "decoded": decoded,
        "truth": truth,
    }


def _as_built(memory, backend, dt):
    """``memory`` with the principle-3 mapping its ``backend`` built (on
    Loihi, for the chip's synapses and neurons: `backends.loihi_realisation`),
    so that `LegendreMemory.state_estimate` filters the current the neurons
    were actually driven with."""
    if backend != "loihi" or memory.loihi_input is False or memory.n_per_dimension is None:
        return contextlib.nullcontext(memory)
    real = loihi_realisation(memory, dt)
    return memory.realised_with(real.tau, input_synapse=memory.input_synapse, lag=real.lag,
                                gains=real.gains)


def delay_report(order=6, n_neurons=100, theta=1.0, seed=0, dt=0.001):
    """Loihi resources and weight quantization of the paper's delay network.

    The network of `run_delay` (its input filtered on chip, as nengo_loihi
    builds every default memory), built by nengo_loihi and not run (`nengo_lmu.loihi.network_report`).
    The settings, and whether the build fits in memory, are checked first.
    """
    from nengo_lmu.loihi import network_report  # pylint: disable=import-outside-toplevel

    check_integer("order", order)
    check_integer("n_neurons", n_neurons)
    check_real("theta", theta, 0, exclusive_minimum=True)
    check_seed("seed", seed)
    check_real("dt", dt, 0, exclusive_minimum=True)
    # built, not run: the neuron-to-neuron weights, and nengo_loihi's copies
    check_memory("n_neurons or order", 4 * 8 * order**2 * n_neurons**2,
                 f"the delay network's Loihi build (order {order}, {n_neurons} neurons "
                 "per dimension)")
    net = delay_network(order=order, theta=theta, n_neurons=n_neurons, sim_time=1.0,
                        seed=seed, dt=dt)
    report = network_report(net, dt=dt)
    report.update(order=order, n_neurons_per_dimension=n_neurons)
    return report


def plot_delay(results, window=(None, None)):
    """Decoded delayed signals against the truth, one panel per ``r``.

    Parameters
    ----------
    results : dict or list of dict
        Outputs of `nengo_lmu.tasks.delay.run_delay` (several are overlaid, e.g.
        the exact system and spiking backends).
    window : (float, float)
        Time range to show (s); by default the last 5 s.
    """
    from nengo_lmu.plots import pyplot  # pylint: disable=import-outside-toplevel

    plt = pyplot()
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


def format_delay_table(results):
    """A text table of NRMSE per ``r``, one row per result of `run_delay`."""
    r = results[0]["r"]
    head = f"{'system':<34}" + "".join(f"{'r=' + format(x, 'g'):>8}" for x in r)
    head += f"{'wall s':>9}"
    lines = [head, "-" * len(head)]
    for res in results:
        name = res.get("name") or (
            f"{res['backend']}, "
            + (f"{res['n_neurons_total']} neurons" if res["n_neurons_total"] else "exact")
        )
        row = f"{name:<34}" + "".join(f"{res['nrmse'][str(float(x))]:>8.3f}" for x in r)
        lines.append(row + f"{res['wall_s']:>9.1f}")
    return "\n".join(lines)


# names that moved here or away in 0.2
__getattr__ = moved_attributes(__name__, {"nrmse": "nengo_lmu.metrics:nrmse_rms"})
