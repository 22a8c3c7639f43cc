"""Backend glue: one call to build a simulator for nengo, NengoDL or Loihi.

The networks of `nengo_lmu` are plain `nengo.Network` objects, so any of the
three simulators runs them. `make_simulator` adds what each backend needs to
run them *well*: for `nengo_loihi`, the on-chip input filter of memories built
with ``loihi_input=True`` (and the host-side filter of the same memories on
the other backends), and a progress bar that nengo_loihi lacks.
"""

import warnings

import nengo
from nengo.utils.progress import Progress, ProgressTracker

BACKENDS = ("nengo", "dl", "loihi")


def check_backend(backend):
    """Raise a `ValueError` naming the accepted backends."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return backend


def loihi_input_memories(network):
    """The `nengo_lmu.LegendreMemory` networks in ``network`` (itself included)
    built with ``loihi_input=True``."""
    from nengo_lmu.networks import LegendreMemory  # pylint: disable=import-outside-toplevel

    return [net for net in [network, *network.all_networks]
            if isinstance(net, LegendreMemory) and net.loihi_input]


def loihi_decode_tau(network):
    """The on-chip input filter asked for by memories in ``network``, or None.

    `nengo_lmu.LegendreMemory` built with ``loihi_input=True`` leaves its
    input connection unfiltered on the host so that nengo_loihi filters the
    input spikes once, on chip, with the model's ``decode_tau``; this returns
    that time constant (the memories' ``synapse``).
    """
    taus = {net.synapse for net in loihi_input_memories(network)}
    if len(taus) > 1:
        raise ValueError(
            "memories with loihi_input=True must share one synapse (nengo_loihi "
            f"has a single on-chip input filter), got synapses {sorted(taus)}"
        )
    return taus.pop() if taus else None


def route_memory_inputs(network, backend):
    """Filter the input of ``loihi_input=True`` memories where ``backend`` needs it.

    On ``"loihi"`` their input connections stay unfiltered (nengo_loihi
    filters the input spikes on chip, `loihi_decode_tau`); on the other
    backends they get the memory's principle-3 lowpass on the host (with the
    time constant the chip realises, `LegendreMemory.realised_tau`).
    """
    for net in loihi_input_memories(network):
        for conn in net.input_connections:
            conn.synapse = None if backend == "loihi" else net.realised_tau


def loihi_model(network, dt=0.001):
    """A `nengo_loihi.builder.Model` for ``network``: its on-chip input filter
    (``decode_tau``) set to the memories' synapse (`loihi_decode_tau`)."""
    from nengo_loihi.builder import Model  # pylint: disable=import-outside-toplevel

    model = Model(dt=dt)
    tau = loihi_decode_tau(network)
    if tau is not None:
        model.decode_tau = tau
    return model


def make_simulator(network, backend="nengo", dt=0.001, seed=None, **kwargs):
    """Build a simulator of ``network`` for ``backend``.

    Parameters
    ----------
    network : `nengo.Network`
    backend : {"nengo", "dl", "loihi"}
        `nengo.Simulator`, `nengo_dl.Simulator`, or `nengo_loihi.Simulator`
        (the chip when one is attached, its emulator otherwise).
    dt : float
        Simulator time step (s).
    seed : int or None
        Simulator seed.
    **kwargs
        Passed on to the simulator (``progress_bar``, ``minibatch_size``,
        ``precompute``, ...).
    """
    check_backend(backend)
    route_memory_inputs(network, backend)
    if backend == "nengo":
        return nengo.Simulator(network, dt=dt, seed=seed, **kwargs)
    if backend == "dl":
        import nengo_dl  # pylint: disable=import-outside-toplevel

        return nengo_dl.Simulator(network, dt=dt, seed=seed, **kwargs)

    import nengo_loihi  # pylint: disable=import-outside-toplevel

    kwargs.pop("progress_bar", None)  # nengo_loihi warns that it has none
    model = loihi_model(network, dt)
    kwargs.setdefault("precompute", True)
    with warnings.catch_warnings():
        # nengo_loihi's emulator fills integer arrays with NaN placeholders
        warnings.filterwarnings(
            "ignore", "invalid value encountered in cast", RuntimeWarning
        )
        return nengo_loihi.Simulator(network, dt=dt, seed=seed, model=model, **kwargs)


def run_with_progress(sim, sim_time, progress_bar=True, chunk=1.0):
    """Run ``sim`` for ``sim_time`` seconds with a progress bar for any backend.

    `nengo.Simulator` and `nengo_dl.Simulator` show their own; nengo_loihi's
    simulator is run in chunks of ``chunk`` seconds under nengo's
    `ProgressTracker`.
    """
    if type(sim).__module__.startswith("nengo_loihi"):
        n_steps = int(round(sim_time / sim.dt))
        step_chunk = max(1, int(round(chunk / sim.dt)))
        with ProgressTracker(
            progress_bar, Progress("Simulating (Loihi)", "Simulation", n_steps)
        ) as tracker:
            done = 0
            while done < n_steps:
                k = min(step_chunk, n_steps - done)
                sim.run_steps(k)
                done += k
                tracker.total_progress.step(k)
    elif type(sim).__module__.startswith("nengo_dl"):
        sim.run(sim_time)
    else:
        sim.run(sim_time, progress_bar=progress_bar)
