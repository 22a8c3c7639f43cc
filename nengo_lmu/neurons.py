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
