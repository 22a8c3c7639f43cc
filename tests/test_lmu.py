import nengo
import numpy as np
import pytest

from nengo_lmu import LegendreDelay
from nengo_lmu.lmu import LMU
from nengo_lmu.networks import OscillatorMemory


def numpy_lmu(x, params, order, theta, relu=True, **flags):
    """The LMU cell of the paper, step by step, in numpy."""
    Ad, Bd = LegendreDelay(theta, order).discretize(1.0)
    memory_d = params["e_x"].shape[0]
    units = params["W_m"].shape[0]
    m = np.zeros((memory_d, order))
    h = np.zeros(units)
    out = []
    for xt in x:
        u = params["e_x"] @ xt
        if flags.get("hidden_to_memory"):
            u = u + params["e_h"] @ h
        if flags.get("memory_to_memory"):
            u = u + params["e_m"] @ m.ravel()
        m = m @ Ad.T + u[:, None] * Bd[:, 0]
        j = params["W_m"] @ m.ravel() + params["bias"]
        if flags.get("input_to_hidden"):
            j = j + params["W_x"] @ xt
        if flags.get("hidden_recurrent"):
            j = j + params["W_h"] @ h
        h = np.maximum(j, 0) if relu else np.tanh(j)
        out.append(h)
    return np.array(out)


FLAGS = [
    dict(),
    dict(input_to_hidden=True),
    dict(hidden_to_memory=True, memory_to_memory=True),
    dict(hidden_recurrent=True, input_to_hidden=True, hidden_to_memory=True,
         memory_to_memory=True),
]


@pytest.mark.parametrize("flags", FLAGS)
def test_lmu_matches_numpy_cell(flags, rng, allclose):
    units, order, theta, input_d, memory_d = 7, 5, 12.0, 3, 2
    x = rng.uniform(-1, 1, size=(40, input_d))
    with nengo.Network() as net:
        stim = nengo.Node(nengo.processes.PresentInput(x, presentation_time=0.001))
        lmu = LMU(units, order, theta, input_d, memory_d=memory_d, seed=1, **flags)
        params = {k: rng.normal(scale=0.3, size=v.shape) for k, v in lmu.params.items()}
        lmu = LMU(units, order, theta, input_d, memory_d=memory_d, params=params, **flags)
        nengo.Connection(stim, lmu.input, synapse=None)
        p = nengo.Probe(lmu.output, synapse=None)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(len(x))
    expected = numpy_lmu(x, params, order, theta, **flags)
    assert allclose(sim.data[p], expected, atol=1e-10)


def test_tanh_hidden(rng, allclose):
    x = rng.uniform(-1, 1, size=(20, 1))
    with nengo.Network() as net:
        stim = nengo.Node(nengo.processes.PresentInput(x, presentation_time=0.001))
        lmu = LMU(4, 3, 8.0, 1, hidden_neuron_type=nengo.Tanh(tau_ref=1.0), seed=0)
        nengo.Connection(stim, lmu.input, synapse=None)
        p = nengo.Probe(lmu.output, synapse=None)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(len(x))
    assert allclose(sim.data[p], numpy_lmu(x, lmu.params, 3, 8.0, relu=False), atol=1e-10)


def test_parameter_count():
    # the paper's psMNIST configuration (without the Dense(10) readout and with
    # a hidden bias): 212 units, order 256, all connections on
    lmu = LMU(212, 256, 784.0, 1, input_to_hidden=True, hidden_recurrent=True,
              hidden_to_memory=True, memory_to_memory=True, seed=0)
    assert lmu.n_trainable == 1 + 212 + 256 + 212 + 212 * 212 + 212 * 256 + 212
    assert LMU(10, 4, 5.0, 1).n_trainable == 1 + 10 * 4 + 10


def test_initial_params():
    lmu = LMU(50, 20, 30.0, 2, memory_d=3, seed=0)
    p = lmu.params
    assert np.all(p["e_x"] == 1) and np.all(p["bias"] == 0)
    assert np.all(p["e_h"] == 0) and np.all(p["W_h"] == 0)
    assert np.isclose(p["W_m"].std(), np.sqrt(2 / (50 + 60)), rtol=0.1)


def test_bad_lmu_arguments():
    with pytest.raises(ValueError, match="units"):
        LMU(0, 4, 5.0, 1)
    with pytest.raises(ValueError, match="input_d"):
        LMU(4, 4, 5.0, 0)
    with pytest.raises(ValueError, match="theta"):
        LMU(4, 4, -5.0, 1)
    with pytest.raises(ValueError, match="hidden_neuron_type"):
        LMU(4, 4, 5.0, 1, hidden_neuron_type="relu")
    good = LMU(4, 4, 5.0, 1).params
    bad = dict(good, W_m=np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"params\['W_m'\] has shape \(4, 5\).*needs \(4, 4\)"):
        LMU(4, 4, 5.0, 1, params=bad)
    with pytest.raises(ValueError, match="missing 'W_m'"):
        LMU(4, 4, 5.0, 1, params={"e_x": good["e_x"]})


def test_closed_form_equals_temporal(rng, allclose):
    """The parallel network, fed m_T in closed form, gives the temporal
    network's last output."""
    units, order, theta, input_d, memory_d, T = 6, 8, 30.0, 2, 3, 50
    x = rng.uniform(0, 1, size=(4, T, input_d))
    temporal = LMU(units, order, theta, input_d, memory_d=memory_d,
                   input_to_hidden=True, seed=3)
    params = {k: rng.normal(scale=0.5, size=v.shape) for k, v in temporal.params.items()}
    with nengo.Network() as net:
        lmu = LMU(units, order, theta, input_d, memory_d=memory_d, input_to_hidden=True,
                  params=params)
        which = {"seq": 0}
        stim = nengo.Node(lambda t: x[which["seq"], int(round(t / 0.001)) - 1])
        nengo.Connection(stim, lmu.input, synapse=None)
        p_h = nengo.Probe(lmu.output, synapse=None)
        p_m = nengo.Probe(lmu.memory.output, synapse=None)
    with nengo.Simulator(net, progress_bar=False) as sim:
        last = []
        for seq in range(len(x)):
            which["seq"] = seq
            sim.reset()
            sim.run_steps(T)
            last.append((sim.data[p_h][-1], sim.data[p_m][-1]))
    h_T = np.array([a for a, _ in last])
    m_T = np.array([b for _, b in last])
    assert allclose(lmu.closed_form_memory(x), m_T, atol=1e-10)

    with nengo.Network() as pnet:
        par = LMU(units, order, theta, input_d, memory_d=memory_d, input_to_hidden=True,
                  params=params, closed_form=True)
        # the node NengoDL feeds; here nengo presents the same values
        par.memory_input.output = nengo.processes.PresentInput(
            par.closed_form_memory(x), 0.001
        )
        px = nengo.Node(nengo.processes.PresentInput(x[:, -1], 0.001))
        nengo.Connection(px, par.input, synapse=None)
        p = nengo.Probe(par.output, synapse=None)
    with nengo.Simulator(pnet, progress_bar=False) as sim:
        sim.run_steps(len(x))
    assert allclose(sim.data[p], h_T, atol=1e-10)


def test_closed_form_needs_lti_memory():
    with pytest.raises(ValueError, match="closed_form=True needs"):
        LMU(4, 4, 5.0, 1, hidden_recurrent=True, closed_form=True)


# -- seeds and bad input (issue 14; the full table is tests/test_bad_input_library.py)


def test_initial_weights_derive_from_a_seeded_parent():
    from nengo_lmu.lmu import LMUClassifier

    def build():
        with nengo.Network(seed=4):
            first = LMUClassifier(3, units=6, order=4, theta=10.0, input_d=1)
            second = LMU(6, 4, 10.0, 1)
        return first, second

    (a, b), (c, d) = build(), build()
    assert a.seed is not None and a.seed == c.seed and a.lmu.seed == a.seed
    assert np.array_equal(a.W_out, c.W_out)
    assert np.array_equal(a.lmu.params["W_m"], c.lmu.params["W_m"])
    assert np.array_equal(b.params["W_m"], d.params["W_m"])
    assert not np.array_equal(b.params["W_m"], a.lmu.params["W_m"][:, :4])
    with nengo.Network():  # no seeded parent: drawn anew, as in nengo
        e = LMU(6, 4, 10.0, 1)
    assert e.seed is None
    assert not np.array_equal(e.params["W_m"], LMU(6, 4, 10.0, 1).params["W_m"])


def test_largest_seed():
    from nengo_lmu.lmu import LMUClassifier

    clf = LMUClassifier(3, units=6, order=4, theta=10.0, input_d=1, seed=2**32 - 1)
    # W_out is drawn with (seed + 1) % 2**32
    expected = np.random.RandomState(0).normal(size=(3, 6)) * np.sqrt(2 / 9)
    assert np.allclose(clf.W_out, expected)


def test_nonfinite_params_refused():
    good = LMU(4, 4, 5.0, 1, seed=0).params
    for value in (np.nan, np.inf, -np.inf):
        W_m = good["W_m"].copy()
        W_m[1, 2] = value
        with pytest.raises(ValueError, match=r"params\['W_m'\] contains NaN or inf "
                                             r"\(1 of 16 values\)"):
            LMU(4, 4, 5.0, 1, params=dict(good, W_m=W_m))


def test_refused_classifier_joins_no_parent():
    from nengo_lmu.lmu import LMUClassifier

    with nengo.Network() as net:
        with pytest.raises(ValueError, match="discretizer='euler'"):
            LMUClassifier(3, units=4, order=256, theta=784.0, input_d=1, discretizer="euler")
        with pytest.raises(ValueError, match=r"params\['W_out'\] contains NaN"):
            LMUClassifier(3, params=dict(good_params(), W_out=np.full((3, 4), np.nan)),
                          units=4, order=4, theta=5.0, input_d=1)
    assert net.all_objects == []


def good_params():
    return LMU(4, 4, 5.0, 1, seed=0, add_to_container=False).params | {"b_out": np.zeros(3)}


def test_oscillator_memory_closed_form_equals_temporal(rng, allclose):
    """memory_kind="oscillators": the parallel path's m_T is the temporal network's."""
    x = rng.uniform(0, 1, size=(2, 40, 1))
    lmu = LMU(5, 6, 40.0, 1, memory_kind="oscillators", seed=0)
    assert lmu.memory_kind == "oscillators" and isinstance(lmu.memory, OscillatorMemory)
    with nengo.Network() as net:
        net.add(lmu)
        stim = nengo.Node(nengo.processes.PresentInput(np.concatenate(list(x)), 1.0))
        nengo.Connection(stim, lmu.input, synapse=None)
        p = nengo.Probe(lmu.memory.output, synapse=None)
    with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
        sim.run_steps(40)
    assert allclose(lmu.closed_form_memory(x[:1])[0], sim.data[p][-1], atol=1e-12)
    with pytest.raises(ValueError, match="memory_kind must be one of"):
        LMU(5, 6, 40.0, 1, memory_kind="fourier")
    with pytest.raises(ValueError, match="order must be even"):
        LMU(5, 5, 40.0, 1, memory_kind="oscillators")
