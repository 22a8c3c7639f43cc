"""NIR export and import: the round trip, the graphs' structure, bad input."""

import numpy as np
import pytest

nir = pytest.importorskip("nir")

import nengo  # noqa: E402

from nengo_lmu import LegendreMemory, SpikingLMUClassifier, from_nir, to_nir  # noqa: E402
from nengo_lmu import nir_graph  # noqa: E402
from nengo_lmu.backends import make_simulator  # noqa: E402
from nengo_lmu.lmu import build_classifier  # noqa: E402
from nengo_lmu.networks import memory_network  # noqa: E402
from nengo_lmu.neurons import chip_neuron_type  # noqa: E402
from tests.classifiers import CONFIG, small_classifier  # noqa: E402

#: A classifier whose memory window is psMNIST's 784 steps (a small order).
LONG = dict(CONFIG, order=8, theta=784.0)


def long_classifier(memory="exact", memory_kind="legendre"):
    rng = np.random.RandomState(3)
    config = dict(LONG, memory_kind=memory_kind)
    params = build_classifier(config, method="parallel").get_params()
    params["W_m"] = rng.normal(size=params["W_m"].shape)
    params["W_out"] = rng.normal(size=params["W_out"].shape)
    x = rng.uniform(0, 1, size=(4, 784, 1))
    return SpikingLMUClassifier(config, params, x, memory=memory, seed=2), params, x


def roundtrip(graph, tmp_path):
    path = tmp_path / "model.nir"
    nir_graph.write(graph, path)
    return from_nir(path)


@pytest.mark.parametrize("memory_kind", ["legendre", "oscillators"])
@pytest.mark.parametrize("discretization", ["zoh", "euler"])
def test_exact_memory_roundtrip_784_steps(discretization, memory_kind, tmp_path):
    """The imported memory equals the LMU's exact memory to 1e-6 over 784 steps."""
    clf, params, x = long_classifier(memory_kind=memory_kind)
    graph = to_nir(clf, discretization=discretization)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert kinds["memory"] == ("I" if discretization == "zoh" else "LI")
    assert kinds["memory_recurrent"] == kinds["memory_input"] == "Linear"
    assert ("memory", "memory_recurrent") in graph.edges
    assert ("memory_recurrent", "memory") in graph.edges
    net = roundtrip(graph, tmp_path)
    e_x = params["e_x"][0, 0]
    with nengo.Network() as model:
        u = nengo.Node(nengo.processes.PresentInput(x[0, :, 0], 0.001))
        memory = memory_network(memory_kind)(784, LONG["order"], dt=1.0)  # theta in steps
        nengo.Connection(u, memory.input, transform=e_x, synapse=None)
        model.networks.append(net)
        nengo.Connection(u, net.input, synapse=None)
        expected = nengo.Probe(memory.output)
        got = nengo.Probe(net.nir_objects["memory"])
    with nengo.Simulator(model, dt=0.001, progress_bar=False) as sim:
        sim.run_steps(784)
    assert np.abs(sim.data[expected]).max() > 0.1
    np.testing.assert_allclose(sim.data[got], sim.data[expected], atol=1e-6, rtol=0)
    # and the LMU's closed-form final memory
    m_T = clf.final_memory(x[:1])[0] * e_x
    np.testing.assert_allclose(sim.data[got][-1], m_T, atol=1e-6, rtol=0)


def test_metadata_and_readout(tmp_path):
    clf, _, x = long_classifier()
    net = roundtrip(to_nir(clf), tmp_path)
    meta = net.metadata
    assert meta["format"] == "nengo-lmu" and meta["memory"] == "exact"
    assert int(meta["hold_steps"]) == clf.hold_steps and int(meta["window"]) == clf.window
    assert float(meta["input_scale"]) == pytest.approx(1 / 255)
    assert float(meta["time_unit_s"]) == clf.dt and net.dt == clf.dt
    logits = nir_graph.run_nengo(net, x[:2])
    assert logits.shape == (2, LONG["n_classes"]) and np.all(np.isfinite(logits))


def chip_reference(clf, x):
    """The classifier's own network, hidden neurons as Loihi runs them (reset to
    zero: NIR's IF), each sequence from rest: logits (n, n_classes)."""
    clf.hidden.neuron_type = chip_neuron_type(clf.neuron_type)
    p, out = clf.params, []
    for seq in x:
        clf.set_inputs(seq[None])
        with make_simulator(clf, "nengo", dt=clf.dt, progress_bar=False) as sim:
            sim.run_steps(clf.steps_per_sequence)
            spikes = sim.data[clf.probe]
        out.append(spikes[-clf.window:].mean(axis=0) @ p["W_out"].T + p["b_out"])
    return np.asarray(out)


@pytest.mark.parametrize("discretization", ["zoh", "euler"])
def test_spiking_classifier_roundtrip(discretization, tmp_path):
    """Same spikes, same logits: the imported spiking classifier is the original."""
    params, x = small_classifier()
    clf = SpikingLMUClassifier(CONFIG, params, x, memory="spiking", seed=1, memory_neurons=10)
    graph = to_nir(clf, discretization=discretization)
    kinds = {type(node).__name__ for node in graph.nodes.values()}
    assert kinds == {"Input", "Output", "Linear", "Affine", "LI", "IF"}
    assert graph.nodes["memory_neurons"].metadata["v_min"] == 0
    logits = nir_graph.run_nengo(roundtrip(graph, tmp_path), x[:6])
    expected = chip_reference(clf, x[:6])
    np.testing.assert_allclose(logits, expected, atol=1e-8, rtol=0)
    assert np.array_equal(logits.argmax(1), expected.argmax(1))


@pytest.mark.parametrize("discretization", ["zoh", "euler"])
def test_cubalif_variant_for_hardware_importers(discretization, tmp_path):
    """No LI node (Lava-DL and SpiNNaker2 read none): CubaLIF neurons with full
    weights; only the biases' rise through the synapse differs from nengo's."""
    params, x = small_classifier()
    clf = SpikingLMUClassifier(CONFIG, params, x, memory="spiking", seed=1, memory_neurons=10)
    graph = to_nir(clf, discretization=discretization, synapses="cubalif")
    assert {type(node).__name__ for node in graph.nodes.values()} == {
        "Input", "Output", "Linear", "Affine", "CubaLIF"}
    neurons = graph.nodes["memory_neurons"]
    assert np.allclose(neurons.v_leak, 0) and np.allclose(neurons.w_in, 1)
    assert np.allclose(neurons.r, neurons.tau_mem)  # as Lava-DL's importer requires
    n = CONFIG["order"] * 10
    assert graph.nodes["memory_recurrent"].weight.shape == (n, n)
    logits = nir_graph.run_nengo(roundtrip(graph, tmp_path), x[:12])
    expected = chip_reference(clf, x[:12])
    assert np.mean(logits.argmax(1) == expected.argmax(1)) >= 0.9
    with pytest.raises(ValueError, match="needs a spiking memory"):
        to_nir(SpikingLMUClassifier(CONFIG, params, x), synapses="cubalif")


@pytest.mark.parametrize("memory_kind", ["legendre", "oscillators"])
def test_spiking_memory_factors_are_nengos_weights(memory_kind):
    params, x = small_classifier()
    clf = SpikingLMUClassifier(dict(CONFIG, memory_kind=memory_kind), params, x,
                               memory="spiking", seed=1, memory_neurons=10)
    parts = nir_graph.spiking_memory_parts(clf.memory)
    W = parts["E"] @ parts["A_rec"] @ parts["D"]
    np.testing.assert_allclose(W, parts["W"], atol=1e-12 * np.abs(parts["W"]).max())


def test_import_is_lazy():
    """The graph module loads nir only when used (checked for the package in
    tests/test_architecture.py); to_nir refuses what is not a classifier."""
    with pytest.raises(ValueError, match="SpikingLMUClassifier"):
        to_nir(object())
    params, x = small_classifier()
    clf = SpikingLMUClassifier(CONFIG, params, x)
    with pytest.raises(ValueError, match="discretization"):
        to_nir(clf, discretization="rk4")


def test_lif_as_nir_defines_it():
    """``tau dv/dt = v_leak - v + r I``, stepped by forward Euler; reset to v_reset."""
    tau, r, v_leak, u = 10.0, 5.0, 0.1, 0.3
    nodes = {"input": nir.Input(input_type=np.array([1])),
             "w": nir.Affine(weight=np.array([[1.0]]), bias=np.array([0.05])),
             "lif": nir.LIF(tau=np.array([tau]), r=np.array([r]), v_leak=np.array([v_leak]),
                            v_threshold=np.array([1.0]), v_reset=np.array([0.0])),
             "output": nir.Output(output_type=np.array([1]))}
    graph = nir.NIRGraph(nodes=nodes, edges=[("input", "w"), ("w", "lif"), ("lif", "output")])
    net = from_nir(graph, dt=1.0)  # graph time in seconds, one-second steps
    with nengo.Network() as model:
        model.networks.append(net)
        nengo.Connection(nengo.Node([u]), net.input, synapse=None)
        probe = nengo.Probe(net.output, synapse=None)
    with nengo.Simulator(model, dt=1.0, progress_bar=False) as sim:
        sim.run_steps(200)
    v, expected = 0.0, []
    for _ in range(200):
        v += (v_leak - v + r * (u + 0.05)) / tau
        expected.append(float(v > 1))
        v = 0.0 if v > 1 else v
    assert sum(expected) > 10
    np.testing.assert_array_equal(sim.data[probe][:, 0], expected)


# -- bad input --------------------------------------------------------------------


def small_graph(**replace):
    nodes = {"input": nir.Input(input_type=np.array([2])),
             "w": nir.Linear(weight=np.ones((3, 2))),
             "li": nir.LI(tau=np.ones(3), r=np.ones(3), v_leak=np.zeros(3)),
             "output": nir.Output(output_type=np.array([3]))}
    nodes.update(replace)
    edges = [("input", "w"), ("w", "li"), ("li", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def test_small_graph_builds():
    net = from_nir(small_graph(), dt=0.1)
    with nengo.Simulator(net, dt=0.1, progress_bar=False):
        pass


@pytest.mark.parametrize("node, kind", [
    (nir.Scale(scale=np.ones(3)), "Scale"),
    (nir.Threshold(threshold=np.ones(3)), "Threshold"),
])
def test_unsupported_node_named(node, kind):
    with pytest.raises(nir_graph.NIRImportError, match=rf"node 'li' has type {kind}.*supported"):
        from_nir(small_graph(li=node))


def test_shapes_that_disagree_name_the_edge():
    with pytest.raises(ValueError, match=r"edge 'w' -> 'li': 'w' gives 4 values but 'li' takes 3"):
        from_nir(small_graph(w=nir.Linear(weight=np.ones((4, 2)))))


def test_missing_node_and_algebraic_loop():
    graph = small_graph()
    graph.edges.append(("w", "nowhere"))
    with pytest.raises(ValueError, match="no node 'nowhere'"):
        from_nir(graph)
    loop = small_graph(li=nir.Linear(weight=np.ones((3, 3))))
    loop.nodes["w2"] = nir.Linear(weight=np.ones((3, 3)))
    loop.edges += [("li", "w2"), ("w2", "li")]
    with pytest.raises(ValueError, match="algebraic loop"):
        from_nir(loop)


def test_truncated_or_foreign_file_named(tmp_path):
    params, x = small_classifier()
    path = tmp_path / "model.nir"
    nir_graph.write(to_nir(SpikingLMUClassifier(CONFIG, params, x)), path)
    data = path.read_bytes()
    cut = tmp_path / "cut.nir"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(nir_graph.NIRImportError, match=r"cut\.nir: not a readable NIR graph"):
        from_nir(cut)
    text = tmp_path / "text.nir"
    text.write_text("not hdf5")
    with pytest.raises(nir_graph.NIRImportError, match=r"text\.nir"):
        from_nir(text)
    with pytest.raises(nir_graph.NIRImportError, match="missing.nir"):
        from_nir(tmp_path / "missing.nir")


# -- the command line ---------------------------------------------------------------


@pytest.mark.parametrize("memory", ["exact", "spiking"])
def test_cli_export(memory, tmp_path, capsys):
    from nengo_lmu.cli import main  # pylint: disable=import-outside-toplevel
    from tests.tasks.fakes import write_model_dir  # pylint: disable=import-outside-toplevel

    model = write_model_dir(str(tmp_path / "model"), units=8, order=4)
    out = tmp_path / "lmu.nir"
    argv = ["export", "--model", model, "--format", "nir", "--out", str(out),
            "--memory", memory, "--discretization", "euler"]
    if memory == "spiking":
        argv += ["--memory-neurons", "4"]
    assert main(argv) in (0, None)
    assert f"memory {memory}" in capsys.readouterr().out
    graph = nir.read(str(out))
    assert graph.metadata["memory"] == memory
    assert graph.metadata["discretization"] == "euler"
    assert int(graph.metadata["sequence_steps"]) == 784
    assert int(graph.metadata["seed"]) == 0  # the export's default seed: the same file
    net = from_nir(graph)
    assert net.nir_objects["hidden"].size_in == 8


def test_spiking_oscillator_classifier_roundtrip(tmp_path):
    """The oscillator bank's two-dimensional populations export as the Legendre
    memory's one-dimensional ones do: the same logits after the round trip."""
    params, x = small_classifier()
    clf = SpikingLMUClassifier(dict(CONFIG, memory_kind="oscillators"), params, x,
                               memory="spiking", seed=1, memory_neurons=10)
    logits = nir_graph.run_nengo(roundtrip(to_nir(clf), tmp_path), x[:4])
    expected = chip_reference(clf, x[:4])
    np.testing.assert_allclose(logits, expected, atol=1e-8, rtol=0)
