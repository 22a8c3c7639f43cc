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
