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

How the chip's model of a neuron type differs in time from nengo's is
measured here too: `decoded_response`, the lag of a population's decoded
output behind the value it represents and its gain (with `chip_rates`, the
rates nengo_loihi solves decoders on), which nengo_loihi's build of a memory
maps principle 3 for (`nengo_lmu.backends.loihi_realisation`).

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


def decoded_lag(ensembles, x, dt, tau, neuron_type=None, rates=None, reg=0.1, seed=0,
                loop=None):
    """How far (s) spiking neurons' decoded output lags the value they represent:
    the ``lag`` of `decoded_response` (same arguments)."""
    return decoded_response(ensembles, x, dt, tau, neuron_type, rates, reg, seed, loop)["lag"]


def decoded_response(ensembles, x, dt, tau, neuron_type=None, rates=None, reg=0.1, seed=0,
                     loop=None):
    """How spiking neurons' decoded output follows the value they represent:
    its lag (s) and its gain in each dimension.

    Each ensemble (its explicit ``gain``, ``bias``, ``encoders`` and
    ``radius``) represents its part of ``x``: its neurons are driven by
    ``gain * (encoders . x / radius) + bias`` and their spikes decoded with
    decoders solved (`nengo.solvers.LstsqL2`, ``reg``) on the rates of the
    same neuron model. Against the rate model's decoded value at the same
    ``x`` (so that the static distortion cancels), the decoded spikes, both
    lowpassed by ``tau``, are fitted as ``g y(t) - lag g dy/dt``, pooled over
    all dimensions (each scaled to unit RMS): the lag to first order in
    frequency. The gains are fitted the same way, dimension by dimension,
    against the represented value itself (lowpassed alike): ``z_j = g_j
    y_j(t) - c_j dy_j/dt``, so that they include the decoders' static
    shrinkage (their regularization, the rate curve's distortion) and the
    spikes' (a population whose neurons' voltage is lost below threshold
    fires less than its rates say).

    With ``loop=(A, B, u)`` the ensembles are run as a principle-3 memory
    instead: ``x`` is then their filtered input current, ``x[k+1] = a x[k] +
    (1 - a) (A x_hat[k] + B u[k])`` with ``a = exp(-dt / tau)`` and ``x_hat``
    their decoded output, so that the lag is measured with the spike noise
    the recurrence brings (which makes neurons cross their threshold more
    often); the ``x`` argument is then ignored (pass None).

    Loihi's neurons hold their voltage at zero while their input is
    negative, so a neuron coming back above threshold starts its first
    interval from zero, where nengo's `~nengo.SpikingRectifiedLinear` keeps
    the voltage it had: their population output lags its input by a few
    steps (about 2-3 ms for the delay network's 100-120 Hz neurons at
    ``dt = 1`` ms), where nengo's lags by a fraction of a step.

    Parameters
    ----------
    ensembles : list of `nengo.Ensemble`
        With ``gain``, ``bias`` and ``encoders`` given as arrays.
    x : ndarray, shape ``(n_steps, sum of the ensembles' dimensions)``, or None
        The values the ensembles represent, in order (without ``loop``).
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
    loop : tuple ``(A, B, u)``, optional
        Recurrent and input transforms (``(dims, dims)``, ``(dims, d_u)``)
        and the input, shape ``(n_steps, d_u)``.

    Returns
    -------
    dict
        ``lag``: the lag in seconds (negative if the output leads);
        ``gains``: ndarray, one gain per dimension (1 for a dimension that
        does not move).
    """
    rng = np.random.RandomState(seed)
    rates = rates or (lambda nt, v, g, b, _: nt.rates(v, g, b))
    neuron_type = neuron_type or ensembles[0].neuron_type
    gains, biases, decoders = [], [], []
    encoders = [np.asarray(ens.encoders, float) / ens.radius for ens in ensembles]
    for ens, enc in zip(ensembles, encoders):
        gain, bias = np.asarray(ens.gain, float), np.asarray(ens.bias, float)
        if ens.dimensions == 1:
            points = np.linspace(-1, 1, 501)[:, None] * ens.radius
        else:
            points = rng.uniform(-1, 1, (1000, ens.dimensions)) * ens.radius
        dec, _ = nengo.solvers.LstsqL2(reg=reg)(
            rates(neuron_type, points @ enc.T, gain, bias, dt), points, rng=rng)
        gains.append(gain)
        biases.append(bias)
        decoders.append(dec)
    gain, bias = np.concatenate(gains), np.concatenate(biases)
    # block-diagonal (neurons x dimensions) encoders and decoders
    E = scipy.sparse.block_diag([scipy.sparse.csr_matrix(enc) for enc in encoders]).tocsr()
    D = scipy.sparse.block_diag(decoders).tocsr()
    state = neuron_type.make_state(len(gain), rng=rng, dtype=np.float64)
    spikes = np.zeros(len(gain))
    if loop is None:
        x = np.asarray(x, dtype=float)
        n_steps = x.shape[0]
    else:
        A, B, u = (np.asarray(v, dtype=float) for v in loop)
        n_steps, a = u.shape[0], np.exp(-dt / tau)
        x, drive = np.zeros((n_steps, D.shape[1])), (1 - a) * (u @ B.T)
    decoded = np.zeros((n_steps, D.shape[1]))
    for k in range(n_steps):
        neuron_type.step(dt, gain * (E @ x[k]) + bias, spikes, **state)
        decoded[k] = D.T @ spikes
        if loop is not None and k + 1 < n_steps:
            x[k + 1] = a * x[k] + (1 - a) * (A @ decoded[k]) + drive[k]
    # the rate model's decoded value of x, ensemble by ensemble
    reference, cols = [], 0
    for ens, enc, g, b, dec in zip(ensembles, encoders, gains, biases, decoders):
        xe = x[:, cols:cols + ens.dimensions]
        reference.append(rates(neuron_type, xe @ enc.T, g, b, dt) @ dec)
        cols += ens.dimensions
    lowpass = nengo.Lowpass(tau)
    skip = min(n_steps // 2, int(round(5 * tau / dt)))
    z = lowpass.filt(decoded, dt=dt, y0=0)[skip:]
    y = lowpass.filt(np.concatenate(reference, axis=1), dt=dt, y0=0)[skip:]
    scale = np.std(y, axis=0)
    scale[scale == 0] = 1
    y, zs = y / scale, z / scale
    dy = np.gradient(y, dt, axis=0)
    (g, c), *_ = np.linalg.lstsq(np.stack([y.ravel(), dy.ravel()], axis=1), zs.ravel(),
                                 rcond=None)
    # per dimension, against the represented value itself
    xf = lowpass.filt(x, dt=dt, y0=0)[skip:]
    dx = np.gradient(xf, dt, axis=0)
    gains = np.ones(xf.shape[1])
    for j in range(xf.shape[1]):
        if np.std(xf[:, j]) > 0:
            gains[j] = np.linalg.lstsq(np.stack([xf[:, j], dx[:, j]], axis=1), z[:, j],
                                       rcond=None)[0][0]
    return {"lag": float(-c / g), "gains": gains}


def chip_rates(neuron_type, x, gain, bias, dt):
    """The rates nengo_loihi solves decoders on (`nengo_loihi.neurons.loihi_rates`:
    whole-step inter-spike intervals) for neurons of ``neuron_type`` driven by
    ``x`` (already projected on the encoders), at step ``dt``."""
    loihi = importlib.import_module("nengo_loihi.neurons")
    return loihi.loihi_rates(neuron_type, x, gain, bias, dt)
