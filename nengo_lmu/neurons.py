"""Every neuron-type mapping of the package, in one place.

A trained LMU names its hidden neuron type in ``config.json``
(`NEURON_TYPES`, `make_neuron_type`); the spiking classifier runs the spiking
counterpart of that rate type (`SPIKING_COUNTERPARTS`,
`spiking_neuron_type`); and Loihi runs each spiking type the way nengo_loihi
models the chip (`chip_neuron_type`, `loihi_memory_neuron`):

=========================  ==========================  ===================================
rate type (training)       spiking counterpart         on chip (nengo_loihi's model)
=========================  ==========================  ===================================
``RectifiedLinear``        ``SpikingRectifiedLinear``  ``LoihiSpikingRectifiedLinear``
``LIFRate``                ``LIF``                     ``LoihiLIF``
``LoihiLIFRate``           ``LoihiLIF``                ``LoihiLIF``
``Tanh``                   (none: Loihi cannot run it)
=========================  ==========================  ===================================

nengo_loihi is imported only for the types that need it.
"""

import importlib

import nengo
import numpy as np
import scipy.sparse

#: Hidden neuron types by name: name -> (module, class, keyword arguments).
#: LIF types get ``amplitude=0.01`` so that their rates (up to a few hundred
#: Hz) enter the readout at the scale of a ReLU's outputs; ``Tanh`` gets
#: ``tau_ref=1`` so that it computes tanh itself (nengo's default scales it
#: to 400 Hz).
NEURON_TYPES = {
    "RectifiedLinear": ("nengo", "RectifiedLinear", {}),
    "SpikingRectifiedLinear": ("nengo", "SpikingRectifiedLinear", {}),
    "LIFRate": ("nengo", "LIFRate", {"amplitude": 0.01}),
    "LIF": ("nengo", "LIF", {"amplitude": 0.01}),
    "Tanh": ("nengo", "Tanh", {"tau_ref": 1.0}),
    "LoihiLIFRate": ("nengo_loihi.neurons", "LoihiLIFRate", {"amplitude": 0.01}),
    "LoihiSpikingRectifiedLinear": ("nengo_loihi.neurons", "LoihiSpikingRectifiedLinear", {}),
}

#: The spiking counterpart of each hidden rate type (names of `NEURON_TYPES`);
#: rate types absent here cannot run on Loihi.
SPIKING_COUNTERPARTS = {
    "RectifiedLinear": "SpikingRectifiedLinear",
    "SpikingRectifiedLinear": "SpikingRectifiedLinear",
    "LoihiSpikingRectifiedLinear": "LoihiSpikingRectifiedLinear",
    "LIFRate": "LIF",
    "LIF": "LIF",
    "LoihiLIFRate": "LoihiLIF",
}

#: Spiking types whose rate is homogeneous in the input current (ReLU): their
#: rates can be scaled up without changing the rate model.
HOMOGENEOUS = ("SpikingRectifiedLinear", "LoihiSpikingRectifiedLinear")

#: Loihi starts every neuron at rest; so does nengo with this initial state.
AT_REST = {"voltage": nengo.dists.Choice([0.0])}


def make_neuron_type(name):
    """A nengo neuron type from its name in `NEURON_TYPES` (or an instance)."""
    if isinstance(name, nengo.neurons.NeuronType):
        return name
    if name not in NEURON_TYPES:
        raise ValueError(
            f"hidden_neuron_type must be one of {sorted(NEURON_TYPES)}, got {name!r}"
        )
    module, cls, kwargs = NEURON_TYPES[name]
    return getattr(importlib.import_module(module), cls)(**kwargs)


def check_spiking_counterpart(rate_type):
    """``rate_type`` if it has a spiking counterpart Loihi can run.

    Raises a `ValueError` naming the Loihi-compatible types for types Loihi
    cannot run (``Tanh``, ``Sigmoid``, ...).
    """
    if rate_type not in SPIKING_COUNTERPARTS:
        raise ValueError(
            f"hidden neuron type {rate_type!r} cannot run on Loihi; train with one of "
            f"{sorted(SPIKING_COUNTERPARTS)} (e.g. --neuron-type RectifiedLinear)"
        )
    return rate_type


def spiking_neuron_type(rate_type, amplitude=1.0):
    """The spiking counterpart of the rate type named ``rate_type``, at rest.

    ``amplitude`` applies to the homogeneous (ReLU) types; LIF types keep the
    ``amplitude=0.01`` they were trained with (`NEURON_TYPES`).
    """
    name = SPIKING_COUNTERPARTS[check_spiking_counterpart(rate_type)]
    if name.startswith("Loihi"):
        cls = getattr(importlib.import_module("nengo_loihi.neurons"), name)
    else:
        cls = getattr(nengo, name)
    return cls(amplitude=amplitude if name in HOMOGENEOUS else 0.01, initial_state=AT_REST)


def chip_neuron_type(neuron_type):
    """nengo_loihi's model of how Loihi runs ``neuron_type``.

    Loihi resets a neuron's voltage to zero after a spike and fires at most
    once per step, so `~nengo.SpikingRectifiedLinear` and `~nengo.LIF` run
    as nengo_loihi's `~nengo_loihi.neurons.LoihiSpikingRectifiedLinear` and
    `~nengo_loihi.neurons.LoihiLIF` (same parameters); other types are
    returned as they are.
    """
    loihi = importlib.import_module("nengo_loihi.neurons")
    if isinstance(neuron_type, (loihi.LoihiSpikingRectifiedLinear, loihi.LoihiLIF)):
        return neuron_type
    if isinstance(neuron_type, nengo.SpikingRectifiedLinear):
        return loihi.LoihiSpikingRectifiedLinear(amplitude=neuron_type.amplitude)
    if isinstance(neuron_type, nengo.LIF):
        return loihi.LoihiLIF(tau_rc=neuron_type.tau_rc, tau_ref=neuron_type.tau_ref,
                              min_voltage=neuron_type.min_voltage,
                              amplitude=neuron_type.amplitude)
    return neuron_type


def loihi_memory_neuron():
    """Loihi's spiking rectified-linear neuron (nengo_loihi's model of it),
    starting at rest: the neuron type of the spiking memory on chip.

    On `nengo_loihi.Simulator` it is the chip's neuron; on `nengo.Simulator`
    and in `nengo_lmu.memory_simulation.simulate_memory` it reproduces it (reset to
    zero, whole-step inter-spike intervals), so a classifier can be trained
    against the memory the chip runs.
    """
    loihi = importlib.import_module("nengo_loihi.neurons")
    return loihi.LoihiSpikingRectifiedLinear(initial_state=dict(AT_REST))


#: The reference drive of `decoded_lag`, in units of the memory's window
#: ``theta``: white noise up to ``1 / theta`` with this RMS (a third of the
#: ``|u| <= 1`` the memories are sized for), for this many windows, the
#: first of which is not scored.
LAG_PROBE_RMS = 0.3
LAG_PROBE_WINDOWS = 20


def decoded_lag(ensembles, x, dt, tau, neuron_type=None, rates=None, reg=0.1, seed=0):
    """How far (s) spiking neurons' decoded output lags the value they represent.

    Each ensemble (its explicit ``gain``, ``bias``, ``encoders`` and
    ``radius``) is driven open loop by its part of ``x``, as a population
    of a recurrent network is driven by its filtered input current; its
    spikes are decoded with decoders solved (`nengo.solvers.LstsqL2`, ``reg``)
    on the rates of the same neuron model. Against the rate model's decoded
    value at the same ``x`` (so that the static distortion cancels), the
    decoded spikes, both lowpassed by ``tau``, are fitted as
    ``g y(t) - lag g dy/dt``, pooled over all dimensions (each scaled to unit
    RMS). The result is the delay that principle 3 must take into its loop.

    Loihi's neurons clamp their voltage at zero while their input is
    negative, so a neuron coming back above threshold starts its first
    interval from zero, where nengo's `~nengo.SpikingRectifiedLinear`
    keeps the voltage it had: its population output lags its input by a few
    steps (about 3 ms for the delay network's 100-120 Hz neurons at
    ``dt = 1`` ms), where nengo's lags by none.

    Parameters
    ----------
    ensembles : list of `nengo.Ensemble`
        With ``gain``, ``bias`` and ``encoders`` given as arrays.
    x : ndarray, shape ``(n_steps, sum of the ensembles' dimensions)``
        The values the ensembles represent, in order.
    dt : float
        Simulator step (s).
    tau : float
        Lowpass (s) through which the output is read (the loop's synapse).
    neuron_type : `nengo.neurons.NeuronType`, optional
        The model to simulate, for every ensemble; the first ensemble's by
        default.
    rates : callable, optional
        ``rates(neuron_type, x, gain, bias, dt)``, the rate curve the decoders
        are solved on (`chip_rates` for nengo_loihi's); the neuron type's own
        ``rates`` by default.
    reg : float
        Regularisation of the decoders.
    seed : int
        Seeds the neurons' initial state.

    Returns
    -------
    float
        The lag in seconds (negative if the output leads).
    """
    rng = np.random.RandomState(seed)
    rates = rates or (lambda nt, v, g, b, _: nt.rates(v, g, b))
    neuron_type = neuron_type or ensembles[0].neuron_type
    x = np.asarray(x, dtype=float)
    gains, biases, decoders, reference = [], [], [], []
    cols = 0
    for ens in ensembles:
        gain, bias = np.asarray(ens.gain, float), np.asarray(ens.bias, float)
        enc = np.asarray(ens.encoders, float) / ens.radius
        if ens.dimensions == 1:
            points = np.linspace(-1, 1, 501)[:, None] * ens.radius
        else:
            points = rng.uniform(-1, 1, (1000, ens.dimensions)) * ens.radius
        dec, _ = nengo.solvers.LstsqL2(reg=reg)(
            rates(neuron_type, points @ enc.T, gain, bias, dt), points, rng=rng)
        xe = x[:, cols:cols + ens.dimensions]
        reference.append(rates(neuron_type, xe @ enc.T, gain, bias, dt) @ dec)
        gains.append(gain)
        biases.append(bias)
        decoders.append(dec)
        cols += ens.dimensions
    n = sum(len(g) for g in gains)
    # block-diagonal (neurons x dimensions) encoders and decoders
    gain, bias = np.concatenate(gains), np.concatenate(biases)
    E = scipy.sparse.block_diag(
        [scipy.sparse.csr_matrix(np.asarray(ens.encoders, float) / ens.radius)
         for ens in ensembles]).tocsr()
    D = scipy.sparse.block_diag(decoders).tocsr()
    J = (E @ x.T).T * gain + bias  # (n_steps, n): the input current
    state = neuron_type.make_state(n, rng=rng, dtype=np.float64)
    spikes = np.zeros(n)
    decoded = np.zeros((x.shape[0], cols))
    for k in range(x.shape[0]):
        neuron_type.step(dt, J[k], spikes, **state)
        decoded[k] = D.T @ spikes
    lowpass = nengo.Lowpass(tau)
    y = lowpass.filt(np.concatenate(reference, axis=1), dt=dt, y0=0)
    z = lowpass.filt(decoded, dt=dt, y0=0)
    skip = min(x.shape[0] // 2, int(round(5 * tau / dt)))
    y, z = y[skip:], z[skip:]
    scale = np.std(y, axis=0)
    scale[scale == 0] = 1
    y, z = y / scale, z / scale
    dy = np.gradient(y, dt, axis=0)
    (g, c), *_ = np.linalg.lstsq(np.stack([y.ravel(), dy.ravel()], axis=1), z.ravel(),
                                 rcond=None)
    return float(-c / g)


def chip_rates(neuron_type, x, gain, bias, dt):
    """The rates nengo_loihi solves decoders on (`nengo_loihi.neurons.loihi_rates`:
    whole-step inter-spike intervals) for neurons of ``neuron_type`` driven by
    ``x`` (already projected on the encoders), at step ``dt``."""
    loihi = importlib.import_module("nengo_loihi.neurons")
    return loihi.loihi_rates(neuron_type, x, gain, bias, dt)
