"""Online learning: the readout of a spiking LMU memory learns with PES.

A spiking `LegendreMemory` is driven by band-limited white noise ``u``; the
readout of its state, initially zero, learns online with nengo's PES rule to
output the delayed input ``u(t - r * theta)``. No decoders are solved for
the readout: PES adjusts them from the error ``output - target`` alone, on
`nengo.Simulator` or on the Loihi emulator (`nengo_loihi`, where the learning
happens on chip).

The run has three phases:

1. ``[0, theta)``: warm-up. The memory fills its window; the target is not
   yet decodable, the error is not passed to PES and nothing is scored.
2. ``[theta, learn_stop)``: learning. The error drives PES.
3. ``[learn_stop, sim_time]``: test, the last ``test_fraction`` of the
   scored period. The error is no longer passed to PES, so the decoders are
   frozen and the error measures the learned readout itself. (During
   learning, a large learning rate makes the output *track* the target
   through the error feedback, whatever the decoders have learned; a frozen
   test is not fooled by that.)

The score compares the first and the last ``score_fraction`` (20 %) of the
scored period ``[theta, sim_time]``: the RMSE (and the NRMSE, RMSE over the
RMS of the target in the same window) of the output against the target, both
lowpassed by ``probe_synapse``, and the ratio last / first.

How the readout is built, and why: each of the memory's state variables is
a one-dimensional ensemble (`LegendreMemory.state_ensembles`); one decoded
connection per ensemble, each with its own PES rule and the same scalar
error, sums into the output. The target is linear in the state, so this sum
of per-ensemble decoders can represent it exactly, and on Loihi every
learned connection is an ordinary decoded chip-to-host connection from an
ensemble (the case nengo_loihi's on-chip PES supports), while the memory's
recurrent connections keep their neuron-to-neuron weights. The output and
the error (which gates learning by time) are nodes, so on Loihi they run on
the host, and the simulator runs without precomputing host inputs because
the error fed to the chip depends on the chip's output. The ensembles' radii are matched
to the RMS of each state variable (``radius_scale * state_rms``): that
equalises the neurons' activity across the Legendre dimensions, which
speeds up PES (it is gradient descent, slow along weakly driven directions)
and lowers the spike noise of the readout.
"""

import time
import warnings

import nengo
import numpy as np

from nengo_lmu.backends import make_simulator, run_with_progress
from nengo_lmu.networks import LegendreMemory
from nengo_lmu.systems import LegendreDelay
from nengo_lmu.tasks.delay import MAX_RMS, PROBE_STEP_OVERHEAD
from nengo_lmu.validation import (
    check_choice,
    check_integer,
    check_memory,
    check_positive,
    check_real,
    check_seed,
    is_finite_real,
)

#: Simulators that run the online learning (nengo's PES; nengo_loihi's on chip).
LEARNING_BACKENDS = ("nengo", "loihi")

#: Defaults of `online_learning`: a small memory that learns within seconds.
DEFAULTS = dict(
    order=4,
    theta=0.5,
    r=0.5,
    freq=2.0,
    rms=0.3,
    n_neurons=100,
    learning_rate=5e-4,
    sim_time=10.5,
    test_fraction=0.2,
    score_fraction=0.2,
    radius_scale=1.5,
    synapse=0.1,
    readout_synapse=0.005,
    probe_synapse=0.05,
    dt=0.001,
    seed=0,
)


def check_online_learning(
    order,
    theta,
    r,
    freq,
    rms,
    n_neurons,
    learning_rate,
    sim_time,
    test_fraction,
    score_fraction,
    radius_scale,
    synapse,
    readout_synapse,
    probe_synapse,
    dt,
    seed,
    backend="nengo",
):
    """Check the parameters of `online_learning`; raise `ValueError` if bad.

    Also warns (`UserWarning`) about an input that runs but that the memory
    does not represent faithfully on either backend (RMS above 0.5, so that
    ``|u|`` often exceeds 1). Returns nothing; called before anything is
    built.
    """
    check_choice("backend", backend, LEARNING_BACKENDS)
    order = check_integer("order", order)
    theta = check_positive("theta", theta)
    if not is_finite_real(r) or not 0 <= r <= 1:
        raise ValueError(f"r must be a relative delay in [0, 1], got {r!r}")
    check_positive("freq", freq)
    rms = check_real("rms", rms, 0, MAX_RMS, exclusive_minimum=True)
    n_neurons = check_integer("n_neurons", n_neurons)
    check_positive("learning_rate", learning_rate)
    sim_time = check_positive("sim_time", sim_time)
    for name, value in (("test_fraction", test_fraction), ("score_fraction", score_fraction)):
        if not is_finite_real(value) or not 0 <= value < 1:
            raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    if not 0 < score_fraction <= 0.5:
        raise ValueError(f"score_fraction must lie in (0, 0.5], got {score_fraction!r}")
    check_positive("radius_scale", radius_scale)
    synapse = check_positive("synapse", synapse)
    check_positive("readout_synapse", readout_synapse)
    check_positive("probe_synapse", probe_synapse)
    dt = check_positive("dt", dt)
    check_seed("seed", seed)
    if dt >= synapse:
        raise ValueError(f"dt ({dt}) must be smaller than synapse ({synapse})")
    window = (sim_time - theta) * score_fraction
    if window < 10 * dt:
        raise ValueError(
            f"sim_time ({sim_time} s) must exceed the warm-up theta ({theta} s) by "
            f"enough for score_fraction ({score_fraction}) of the rest to span "
            f"10 steps of dt; e.g. sim_time >= {theta + 1:g}"
        )
    check_memory(*learning_memory(order, n_neurons, sim_time, dt))
    if rms > 0.5:
        warnings.warn(
            f"rms = {rms} > 0.5: the white-noise input often leaves [-1, 1], which "
            "the memory's ensembles (and Loihi's input encoding) do not represent "
            "well",
            UserWarning,
            stacklevel=3,
        )


def learning_memory(order, n_neurons, sim_time, dt):
    """``(setting to lower, bytes, what)``: an estimate of the memory an
    `online_learning` run needs (for `nengo_lmu.validation.check_memory`).

    The input and target (``n_steps`` float64 each, twice), four probes of
    one dimension with nengo's per-step overhead, and the filtered score
    signals; the memory's neuron-to-neuron weights (``order**2`` connections of
    ``n_neurons x n_neurons``, twice while solved).
    """
    n_steps = int(round(sim_time / dt))
    signals = n_steps * (4 * (PROBE_STEP_OVERHEAD + 8) + 8 * 14)
    weights = 2 * 8 * order**2 * n_neurons**2
    setting = "sim_time (or raise dt)" if signals >= weights else "n_neurons or order"
    return (setting, signals + weights,
            f"online learning ({n_steps:,} steps, order {order}, {n_neurons} neurons per "
            "state variable)")


def online_learning_network(
    order=DEFAULTS["order"],
    theta=DEFAULTS["theta"],
    r=DEFAULTS["r"],
    freq=DEFAULTS["freq"],
    rms=DEFAULTS["rms"],
    n_neurons=DEFAULTS["n_neurons"],
    learning_rate=DEFAULTS["learning_rate"],
    sim_time=DEFAULTS["sim_time"],
    test_fraction=DEFAULTS["test_fraction"],
    radius_scale=DEFAULTS["radius_scale"],
    synapse=DEFAULTS["synapse"],
    readout_synapse=DEFAULTS["readout_synapse"],
    dt=DEFAULTS["dt"],
    seed=DEFAULTS["seed"],
    loihi_input=False,
):
    """A spiking `LegendreMemory` whose readout learns ``u(t - r theta)`` by PES.

    Parameters are those of `online_learning` (``loihi_input=True`` for the
    Loihi backend). They are not validated here; `online_learning` does.

    Returns
    -------
    net : `nengo.Network`
        With attributes ``memory`` (the `LegendreMemory`), ``stim``
        (input ``u``), ``target`` (``u(t - r theta)``), ``output`` (the
        learned readout), ``error`` (``output - target`` while learning, 0
        otherwise), ``readouts`` (the learned connections, one per state
        ensemble), ``learn_start``, ``learn_stop`` (s), and the unfiltered
        probes ``p_input``, ``p_target``, ``p_output``, ``p_error``.
    """
    n_steps = int(round(sim_time / dt))
    u = nengo.processes.WhiteSignal(sim_time, high=freq, rms=rms, y0=0, seed=seed)
    u = u.run_steps(n_steps, dt=dt)
    delay = int(round(r * theta / dt))
    target = np.concatenate([np.zeros((delay, 1)), u[: n_steps - delay]])
    learn_start = theta
    learn_stop = sim_time - test_fraction * (sim_time - theta)
    radius = radius_scale * LegendreDelay(theta, order).state_rms(freq, rms)

    def error_gate(t, x):
        # PES sees the error only during the learning phase
        return x[:1] - x[1:] if learn_start <= t < learn_stop else 0.0 * x[:1]

    with nengo.Network(label="online learning", seed=seed) as net:
        # step k (t = k dt, k >= 1) presents sample k - 1
        net.stim = nengo.Node(nengo.processes.PresentInput(u, dt), label="u")
        net.target = nengo.Node(nengo.processes.PresentInput(target, dt), label="target")
        net.memory = LegendreMemory(
            theta,
            order,
            n_neurons=n_neurons,
            synapse=synapse,
            dt=dt,
            radius=radius,
            loihi_input=loihi_input,
            seed=seed,
        )
        nengo.Connection(net.stim, net.memory.input, synapse=None)
        # on Loihi both nodes run on the host: the learned connections are
        # chip-to-host, the error goes host-to-chip into the learning rules
        net.output = nengo.Node(lambda t, x: x, size_in=1, label="output")
        net.error = nengo.Node(error_gate, size_in=2, label="error")
        net.readouts = []
        for ens in net.memory.state_ensembles:
            conn = nengo.Connection(
                ens,
                net.output,
                function=lambda x: [0.0],  # the readout starts at zero
                synapse=readout_synapse,
                learning_rule_type=nengo.PES(learning_rate=learning_rate),
            )
            nengo.Connection(net.error, conn.learning_rule, synapse=None)
            net.readouts.append(conn)
        nengo.Connection(net.output, net.error[0], synapse=None)
        nengo.Connection(net.target, net.error[1], synapse=None)
        net.p_input = nengo.Probe(net.stim, synapse=None)
        net.p_target = nengo.Probe(net.target, synapse=None)
        net.p_output = nengo.Probe(net.output, synapse=None)
        net.p_error = nengo.Probe(net.error, synapse=None)
    net.learn_start, net.learn_stop = learn_start, learn_stop
    return net


def score_learning(t, output, target, start, fraction=0.2, probe_synapse=0.05, dt=None):
    """Error of ``output`` against ``target`` early and late in the scored period.

    Both signals are lowpassed by ``probe_synapse`` (None: not filtered);
    the scored period is ``t >= start``; its first and last ``fraction`` are
    compared.

    Returns
    -------
    dict
        ``rmse_first``, ``rmse_last``, ``nrmse_first``, ``nrmse_last``
        (RMSE over the RMS of the target in the same window), ``ratio``
        (``rmse_last / rmse_first``), ``nrmse_ratio``, ``first_window`` and
        ``last_window`` (``[t0, t1]`` in s), plus the filtered ``output``,
        ``target`` and ``error`` arrays (whole run).
    """
    t = np.asarray(t).ravel()
    dt = dt or float(t[1] - t[0])
    output = np.asarray(output, dtype=float).reshape(len(t), -1)
    target = np.asarray(target, dtype=float).reshape(len(t), -1)
    if probe_synapse:
        lowpass = nengo.Lowpass(probe_synapse)
        output = lowpass.filt(output, dt=dt, y0=0)
        target = lowpass.filt(target, dt=dt, y0=0)
    error = output - target
    scored = np.flatnonzero(t >= start - 1e-9)
    k = max(1, int(round(fraction * len(scored))))
    first, last = scored[:k], scored[-k:]

    def rmse(x, idx):
        return float(np.sqrt(np.mean(x[idx] ** 2)))

    res = {
        "rmse_first": rmse(error, first),
        "rmse_last": rmse(error, last),
        "nrmse_first": rmse(error, first) / rmse(target, first),
        "nrmse_last": rmse(error, last) / rmse(target, last),
        "first_window": [float(t[first[0]]), float(t[first[-1]])],
        "last_window": [float(t[last[0]]), float(t[last[-1]])],
    }
    res["ratio"] = res["rmse_last"] / res["rmse_first"]
    res["nrmse_ratio"] = res["nrmse_last"] / res["nrmse_first"]
    res.update(output=output[:, 0], target=target[:, 0], error=error[:, 0])
    return res


def online_learning(backend="nengo", progress_bar=True, **params):
    """Run the online-learning task on ``backend`` and score it.

    Parameters
    ----------
    backend : {"nengo", "loihi"}
        `nengo.Simulator`, or `nengo_loihi.Simulator` (the emulator without
        a board; the memory is then built with ``loihi_input=True`` and PES
        runs on chip).
    progress_bar : bool
        Show a progress bar while simulating.
    order : int
        Legendre order of the memory (default 4).
    theta : float
        Window of the memory (s, default 0.5); also the warm-up before
        learning starts.
    r : float
        Relative delay of the target ``u(t - r theta)``, in ``[0, 1]``
        (default 0.5).
    freq, rms : float
        Cut-off (Hz, default 2) and RMS (default 0.3) of the white-noise
        input (starts at 0; keep ``rms <= 0.5`` so that ``|u| <= 1``).
    n_neurons : int
        Spiking neurons per state variable (default 100).
    learning_rate : float
        PES learning rate (nengo's units; default 5e-4).
    sim_time : float
        Simulated seconds (default 10.5), warm-up included.
    test_fraction : float
        Last fraction of the scored period ``[theta, sim_time]`` during
        which learning is off (default 0.2; 0 learns until the end).
    score_fraction : float
        Fraction of the scored period in the first and last windows
        (default 0.2).
    radius_scale : float
        Radius of each state ensemble in units of that state variable's RMS
        (`LegendreDelay.state_rms`; default 1.5).
    synapse : float
        Principle-3 lowpass time constant of the memory (s, default 0.1).
    readout_synapse : float
        Synapse of the learned connections (s, default 0.005).
    probe_synapse : float
        Lowpass applied to output and target before scoring (s, default 0.05).
    dt : float
        Simulator time step (s, default 0.001).
    seed : int
        Seed of the input, the network and the simulator (default 0).

    Returns
    -------
    dict
        The `score_learning` keys (``rmse_first``, ``rmse_last``, ``ratio``,
        ``nrmse_first``, ``nrmse_last``, ``nrmse_ratio``, windows), the
        parameters, ``backend``, ``target_name`` (the simulator's target on
        nengo_loihi, e.g. ``"sim"`` for the emulator), ``learn_start``,
        ``learn_stop``, ``n_neurons_total``, ``wall_s`` (build and run), and
        the arrays ``t``, ``output``, ``target``, ``error`` (lowpassed by
        ``probe_synapse``) and ``input`` (unfiltered) for plotting.

    Raises
    ------
    ValueError
        For a bad parameter, before anything is built or simulated.
    """
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {sorted(unknown)}; accepted: {sorted(DEFAULTS)}"
        )
    p = dict(DEFAULTS, **params)
    check_online_learning(backend=backend, **p)
    net = online_learning_network(
        **{k: p[k] for k in p if k not in ("score_fraction", "probe_synapse")},
        loihi_input=backend == "loihi",
    )
    start = time.perf_counter()
    kwargs = {"precompute": False} if backend == "loihi" else {}
    with make_simulator(
        net, backend, dt=p["dt"], seed=p["seed"], progress_bar=progress_bar, **kwargs
    ) as sim:
        run_with_progress(sim, p["sim_time"], progress_bar=progress_bar)
        t = sim.trange()
        data = {k: sim.data[getattr(net, f"p_{k}")] for k in ("input", "target", "output")}
        target_name = getattr(sim, "target", "nengo")
    wall = time.perf_counter() - start
    score = score_learning(
        t,
        data["output"],
        data["target"],
        start=net.learn_start,
        fraction=p["score_fraction"],
        probe_synapse=p["probe_synapse"],
        dt=p["dt"],
    )
    return dict(
        p,
        **score,
        backend=backend,
        target_name=target_name,
        learn_start=net.learn_start,
        learn_stop=net.learn_stop,
        n_neurons_total=net.memory.n_neurons_total,
        wall_s=wall,
        t=t,
        input=data["input"][:, 0],
    )


#: Keys of an `online_learning` result that hold arrays (left out of JSON).
ARRAY_KEYS = ("t", "input", "output", "target", "error")


def learning_summary(result):
    """The JSON-ready part of an `online_learning` result (no arrays)."""
    return {k: v for k, v in result.items() if k not in ARRAY_KEYS}


def plot_online_learning(results, window=2.0):
    """Target vs learned output at the start and end, and the error over time.

    Parameters
    ----------
    results : dict or list of dict
        Outputs of `online_learning` (e.g. one per backend), one row each.
    window : float
        Seconds shown of the start of learning and of the test phase.
    """
    from nengo_lmu.plots import pyplot  # pylint: disable=import-outside-toplevel

    plt = pyplot()
    results = [results] if isinstance(results, dict) else list(results)
    fig, axes = plt.subplots(
        len(results), 3, figsize=(12, 2.6 * len(results)), squeeze=False,
        gridspec_kw={"width_ratios": [1, 1, 1.6]},
    )
    for row, res in zip(axes, results):
        t = res["t"]
        name = f"{res['backend']} ({res['target_name']})"
        spans = [(res["learn_start"], "start of learning"),
                 (t[-1] - window, "end (learning off)" if res["test_fraction"] else "end")]
        for ax, (t0, title) in zip(row[:2], spans):
            show = (t >= t0) & (t <= t0 + window)
            ax.plot(t[show], res["target"][show], "k", lw=2, label="target")
            ax.plot(t[show], res["output"][show], lw=1, label="learned output")
            ax.set_title(f"{name}: {title}", fontsize="medium")
            ax.set_xlabel("time (s)")
        row[0].legend(loc="upper right", fontsize="x-small")
        ax = row[2]
        ax.plot(t, np.abs(res["error"]), lw=0.5, color="0.6", label="|output - target|")
        # running RMSE over one theta
        k = max(1, int(round(res["theta"] / res["dt"])))
        running = np.sqrt(np.convolve(res["error"] ** 2, np.ones(k) / k, mode="same"))
        ax.plot(t, running, "C3", label=f"running RMSE ({res['theta']:g} s)")
        for key in ("first_window", "last_window"):
            ax.axvspan(*res[key], color="C0", alpha=0.1)
        ax.axvline(res["learn_stop"], color="k", ls=":", label="learning off")
        ax.set_title(
            f"{name}: RMSE first {res['rmse_first']:.3f}, last {res['rmse_last']:.3f} "
            f"(ratio {res['ratio']:.2f})",
            fontsize="medium",
        )
        ax.set_xlabel("time (s)")
        ax.legend(loc="upper right", fontsize="x-small")
    fig.suptitle(
        f"PES learns u(t - {results[0]['r']:g} theta) from a spiking LMU memory "
        f"(order {results[0]['order']}, theta {results[0]['theta']:g} s)"
    )
    fig.tight_layout()
    return fig
