import subprocess
import sys

import nengo
import numpy as np
import pytest

from nengo_lmu import LegendreMemory, make_simulator
from nengo_lmu.loihi import format_resource_report, resource_report

pytest.importorskip("nengo_loihi")

ORDER, N = 3, 20


@pytest.fixture(scope="module")
def tiny():
    """A spiking memory of order 3, 20 neurons per dimension, probed output."""
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(np.sin)
        net.memory = LegendreMemory(
            0.5, ORDER, n_neurons=N, loihi_input=True, seed=0
        )
        nengo.Connection(stim, net.memory.input, synapse=None)
        nengo.Probe(net.memory.output, synapse=None)
    with make_simulator(net, "loihi") as sim:
        pass  # built only; the report reads the build
    return net, sim, resource_report(sim)


def test_report_matches_independent_count(tiny):
    net, sim, report = tiny
    d, n = ORDER, N
    assert net.memory.n_neurons_total == d * n

    # on chip: d ensembles of n neurons, plus the pair of non-spiking
    # compartments per probed decoded dimension (the probe of ``output``
    # becomes one decoded probe per state ensemble once nengo_loihi removes
    # the passthrough node)
    assert report["neurons_ensembles"] == d * n
    assert report["neurons"] == d * n + 2 * d
    assert report["neurons_other"] == 2 * d
    # one core per ensemble (n <= 1024) and per probe decoder block
    assert report["cores"] == d + d
    assert report["chips"] == 1

    # synapse entries: full n x n recurrent weights between every pair of
    # ensembles (weights=True solver), 2 on/off input spikes x n neurons per
    # ensemble, n neurons x 2 probe compartments per probe decoder
    assert report["synapses"] == d * d * n * n + d * 2 * n + d * n * 2
    assert 0 < report["synapses_nonzero"] <= report["synapses"]
    assert report["synapse_bits"] > 0
    # out axons: each neuron feeds its probe decoder and the d ensembles
    assert report["axons"] == d * n * (d + 1)
    # in axons: n per recurrent synapse, 2 per input, n per probe decoder
    assert report["in_axons"] == d * d * n + 2 * d + d * n

    # host -> chip: the input u[0] reaches each ensemble's neurons through
    # its own connection, sent as spikes of 2 on/off neurons on the host
    assert report["input_channels"] == d
    assert report["input_neurons"] == 2 * d
    assert report["output_channels"] == d
    assert report["output_values"] == d

    assert report["fits_one_chip"] is True
    assert report["violations"] == []
    assert report["chip_limits"]["cores_per_chip"] == 128
    assert report["chip_limits"]["compartments"] == 1024
    assert len(report["per_core"]) == report["cores"]
    # nengo_loihi's own per-block utilization agrees
    util = [b.utilization() for b in sim.model.blocks]
    assert sum(u["compartments"][0] for u in util) == report["neurons"]
    assert sum(u["synapses"][0] for u in util) == report["synapse_bits"]


def test_core_limit_violation(tiny):
    _, sim, _ = tiny
    report = resource_report(sim, cores_per_chip=4, allocate=False)
    assert report["chips"] is None
    assert not report["fits_one_chip"]
    assert "6 cores > 4" in report["violations"][0]


def test_format(tiny):
    text = format_resource_report(tiny[2], per_core=True)
    assert "fits one chip      yes" in text
    assert "m[2]" in text and len(text.splitlines()) > 10


def test_too_many_compartments_for_one_chip():
    import nengo_loihi

    n = 128 * 1024 + 1
    with nengo.Network(seed=0) as net:
        nengo.Ensemble(n, 1, neuron_type=nengo.SpikingRectifiedLinear())
    with nengo_loihi.Simulator(net) as sim:
        pass
    report = resource_report(sim)
    assert report["neurons"] == report["neurons_ensembles"] == n
    assert report["cores"] == -(-n // 1024) == 129  # split by split_blocks
    assert report["chips"] == 2
    assert max(c["compartments"] for c in report["per_core"]) <= 1024
    assert report["fits_one_chip"] is False
    assert report["violations"] == ["129 cores > 128 cores per chip"]


def test_import_is_light():
    code = "import sys, nengo_lmu.loihi; assert 'nengo_loihi' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def _heard_by_many(n_post=346, n_pre=52, n_synapses=64, seed=0):
    """A network whose ``post`` ensemble hears ``n_synapses`` ensembles of
    ``n_pre`` neurons, neuron to neuron: the hidden layer of a classifier
    whose order-64 memory has four copies of 13 neurons per state variable."""
    rng = np.random.RandomState(seed)
    lif = nengo.SpikingRectifiedLinear()
    with nengo.Network(seed=seed) as net:
        stim = nengo.Node(np.sin)
        net.post = nengo.Ensemble(n_post, 1, neuron_type=lif)
        for _ in range(n_synapses):
            pre = nengo.Ensemble(n_pre, 1, neuron_type=lif)
            nengo.Connection(stim, pre)
            nengo.Connection(pre.neurons, net.post.neurons,
                             transform=rng.uniform(-1e-3, 1e-3, (n_post, n_pre)))
    return net


def test_blocks_split_to_fit_cores():
    """nengo_loihi splits a block by its totals, and a piece of the hidden
    layer heard by 64 ensembles of 52 neurons needs more synapse memory than
    a core has; `loihi_model` splits it into the fewest pieces that fit
    (12 of at most 29 neurons, where 11 do not), as nengo_loihi counts
    them, and a block that fits nengo_loihi's own split keeps it."""
    import nengo_loihi  # pylint: disable=import-outside-toplevel
    from nengo_loihi.block import MAX_SYNAPSE_BITS  # pylint: disable=import-outside-toplevel
    from nengo.exceptions import BuildError  # pylint: disable=import-outside-toplevel

    net = _heard_by_many()
    with pytest.raises(BuildError, match=r"Total synapse bits \(1064960\) exceeded max "
                       r"\(1048576\)"):
        nengo_loihi.Simulator(net)
    with make_simulator(net, "loihi") as sim:
        report = resource_report(sim)
        pieces = sim.model.objs[net.post]["out"]
    assert [p.compartment.n_compartments for p in pieces] == [29] * 11 + [27]
    assert report["fits_one_chip"] and report["cores"] == 64 + 12
    assert max(sum(s.bits() for s in p.synapses) for p in pieces) <= MAX_SYNAPSE_BITS

    # eight copies' worth of 40 neurons: nengo_loihi's own 8 pieces fit, and stay
    fitting = _heard_by_many(n_pre=40)
    with nengo_loihi.Simulator(fitting) as sim:
        own = [p.compartment.n_compartments for p in sim.model.objs[fitting.post]["out"]]
    with make_simulator(fitting, "loihi") as sim:
        assert [p.compartment.n_compartments
                for p in sim.model.objs[fitting.post]["out"]] == own == [44] * 7 + [38]


def test_fitting_block_shape_is_the_fewest_pieces():
    """`fitting_block_shape` on a block by itself: one piece fewer than it
    gives leaves a piece over the synapse memory, as counted by nengo_loihi's
    own split of the block and its synapses."""
    from nengo_loihi.block import (  # pylint: disable=import-outside-toplevel
        MAX_SYNAPSE_BITS,
        LoihiBlock,
        Synapse,
    )
    from nengo_loihi.builder.split_blocks import (  # pylint: disable=import-outside-toplevel
        split_block,
        split_synapse,
    )
    from nengo_loihi.config import BlockShape  # pylint: disable=import-outside-toplevel

    from nengo_lmu.backends import fitting_block_shape  # pylint: disable=import-outside-toplevel

    rng = np.random.RandomState(1)
    block = LoihiBlock(346)
    for _ in range(64):
        synapse = Synapse(52)
        synapse.set_weights(rng.uniform(-1, 1, size=(52, 346)))
        block.add_synapse(synapse)

    def worst(shape):
        pieces = split_block(block, {block: shape})
        split = [list(split_synapse(block, s, pieces)) for s in block.synapses]
        return max(sum(new.bits() for new in piece) for piece in zip(*split))

    shape = fitting_block_shape(block)
    n_pieces = -(-346 // shape.shape[0])
    # nengo_loihi's split: its totals need 10
    assert n_pieces > -(-sum(s.bits() for s in block.synapses) // MAX_SYNAPSE_BITS) == 10
    assert worst(shape) <= MAX_SYNAPSE_BITS
    assert worst(BlockShape((-(-346 // (n_pieces - 1)),), (346,))) > MAX_SYNAPSE_BITS
    assert fitting_block_shape(LoihiBlock(346)) is None  # fits one core as it is
