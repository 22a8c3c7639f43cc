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


def test_spiking_classifier_roundtrip(tmp_path):
    """Same spikes, same logits: the imported spiking classifier is the original."""
    params, x = small_classifier()
    clf = SpikingLMUClassifier(CONFIG, params, x, memory="spiking", seed=1, memory_neurons=10)
    graph = to_nir(clf)
    assert graph.metadata["discretization"] == "euler"  # the spiking memory's only one
    kinds = {type(node).__name__ for node in graph.nodes.values()}
    assert kinds == {"Input", "Output", "Linear", "Affine", "LI", "IF"}
    assert graph.nodes["memory_neurons"].metadata["v_min"] == 0
    # the walk of the step semantics ends at the Output node (nirtorch returns
    # the last node's value); the edges it steps a step late are the loops'
    order = nir_graph.execution_order(graph)
    assert order[0] == "input" and order[-1] == "output" and len(order) == len(graph.nodes)
    position = {name: i for i, name in enumerate(order)}
    late = {(s, d) for s, d in graph.edges if position[s] >= position[d]}
    assert late == {("memory_recurrent", "memory_synapse"),
                    ("memory_synapse_recurrent", "memory_synapse"),
                    ("hidden_synapse_recurrent", "hidden_synapse")}
    logits = nir_graph.run_nengo(roundtrip(graph, tmp_path), x[:6])
    expected = chip_reference(clf, x[:6])
    np.testing.assert_allclose(logits, expected, atol=1e-8, rtol=0)
    assert np.array_equal(logits.argmax(1), expected.argmax(1))
    with pytest.raises(ValueError, match="only as discretization=.euler"):
        to_nir(clf, discretization="zoh")


def test_delayed_lowpass_is_nengos_lowpass():
    """The explicit-delay stage: ``v[k] = M v[k-1] + N x[k]`` read at ``y`` is
    nengo's Lowpass on a connection, step for step."""
    tau, steps = 4.0, 30
    M, N, _ = nir_graph.delayed_lowpass(tau, 2)
    x = np.random.RandomState(0).normal(size=(steps, 2))
    v, got = np.zeros(4), []
    for k in range(steps):
        v = M @ v + N @ x[k]
        got.append(v[2:])
    with nengo.Network() as model:
        u = nengo.Node(nengo.processes.PresentInput(x, 1.0))
        y = nengo.Node(size_in=2)
        nengo.Connection(u, y, synapse=nengo.Lowpass(tau))
        probe = nengo.Probe(y, synapse=None)
    with nengo.Simulator(model, dt=1.0, progress_bar=False) as sim:
        sim.run_steps(steps)
    np.testing.assert_allclose(got, sim.data[probe], atol=1e-12, rtol=0)


def _loop_graph(neuron):
    """Input -> Affine -> LI -> Affine -> neurons -> Linear -> LI (a loop, one
    step late), neurons -> Linear -> LI -> Output."""
    rng = np.random.RandomState(5)
    n = 4
    if neuron == "IF":
        neurons = nir.IF(r=np.full(n, 0.8), v_threshold=np.ones(n), v_reset=np.zeros(n))
    else:
        neurons = nir.CubaLIF(tau_syn=np.full(n, 3.0), tau_mem=np.full(n, 20.0),
                              r=np.full(n, 20.0), v_leak=np.zeros(n), v_threshold=np.ones(n),
                              v_reset=np.zeros(n), w_in=np.full(n, 1.5))
    nodes = {"input": nir.Input(input_type=np.array([1])),
             "w_in": nir.Affine(weight=rng.uniform(0.5, 1, (3, 1)), bias=np.full(3, 0.1)),
             "li": nir.LI(tau=np.array([2.0, 5.0, 9.0]), r=np.array([1.0, 2.0, 0.5]),
                          v_leak=np.zeros(3)),
             "enc": nir.Affine(weight=rng.uniform(-0.5, 1.5, (n, 3)), bias=np.full(n, 0.05)),
             "neurons": neurons,
             "rec": nir.Linear(weight=rng.normal(scale=0.3, size=(3, n))),
             "out_w": nir.Linear(weight=rng.normal(size=(2, n))),
             "syn": nir.LI(tau=np.full(2, 6.0), r=np.ones(2), v_leak=np.zeros(2)),
             "output": nir.Output(output_type=np.array([2]))}
    edges = [("input", "w_in"), ("w_in", "li"), ("li", "enc"), ("enc", "neurons"),
             ("neurons", "rec"), ("rec", "li"), ("neurons", "out_w"), ("out_w", "syn"),
             ("syn", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def _reference(graph, u, discretization):
    """The step semantics written out by hand, one step per input value."""
    g = graph.nodes
    euler = discretization == "euler"

    def pole(tau):
        return 1 - 1 / tau if euler else np.exp(-1 / tau)

    neurons = g["neurons"]
    cuba = isinstance(neurons, nir.CubaLIF)
    li, syn, v, z, i_syn = np.zeros(3), np.zeros(2), np.zeros(4), np.zeros(4), np.zeros(4)
    out = []
    for k in range(len(u)):
        # LI: tau dv/dt = -v + r x, x of this step; rec: the spikes of the step before
        x = g["w_in"].weight @ [u[k]] + g["w_in"].bias + g["rec"].weight @ z
        a = pole(g["li"].tau)
        li = a * li + (1 - a) * g["li"].r * x
        J = g["enc"].weight @ li + g["enc"].bias
        if cuba:  # the synaptic current (a box LI), then tau_mem dv/dt = -v + r i
            a_s = pole(neurons.tau_syn)
            i_syn = a_s * i_syn + (1 - a_s) * neurons.w_in * J
            v = v + (neurons.r * i_syn - v) / neurons.tau_mem
        else:  # IF: dv/dt = r J
            v = v + neurons.r * J
        z = (v > neurons.v_threshold).astype(float)
        v = np.where(z > 0, neurons.v_reset, v)
        a = pole(g["syn"].tau)
        syn = a * syn + (1 - a) * (g["out_w"].weight @ z)
        out.append(syn.copy())
    return np.asarray(out)


@pytest.mark.parametrize("neuron", ["IF", "CubaLIF"])
@pytest.mark.parametrize("discretization", ["zoh", "euler"])
def test_import_follows_the_step_semantics(neuron, discretization):
    """`from_nir` in nengo is the hand-written step semantics (what Norse runs),
    step for step: LI with the input of the same step, the loop a step late,
    IF and CubaLIF voltages, thresholds and resets, Affine biases."""
    graph = _loop_graph(neuron)
    u = np.random.RandomState(1).uniform(0, 1, 300)
    expected = _reference(graph, u, discretization)
    net = from_nir(graph, dt=1.0, discretization=discretization)
    with nengo.Network() as model:
        model.networks.append(net)
        nengo.Connection(nengo.Node(nengo.processes.PresentInput(u, 1.0)), net.input,
                         synapse=None)
        probe = nengo.Probe(net.output, synapse=None)
        spikes = nengo.Probe(net.nir_objects["neurons"], synapse=None)
    with nengo.Simulator(model, dt=1.0, progress_bar=False) as sim:
        sim.run_steps(len(u))
    assert 20 < sim.data[spikes].astype(bool).sum() < 0.9 * sim.data[spikes].size
    np.testing.assert_allclose(sim.data[probe], expected, atol=1e-10, rtol=0)


def _hold_model_dir(path):
    """`write_model_dir`'s model, recorded as trained for the hold readout."""
    import json  # pylint: disable=import-outside-toplevel

    from tests.tasks.fakes import write_model_dir  # pylint: disable=import-outside-toplevel

    model = write_model_dir(path, units=8, order=4)
    config_path = f"{model}/config.json"
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    config["readout"] = {"scheme": "hold", "hold_steps": 40, "window": 30}
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f)
    return model


def test_exact_readout_model_refused(tmp_path):
    """A model trained for the exact readout reads m_T held still; a graph's
    memory keeps running: refused, naming the readout, before any file."""
    from nengo_lmu.cli import main  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.nir_export import export_psmnist  # pylint: disable=import-outside-toplevel
    from tests.tasks.fakes import write_model_dir  # pylint: disable=import-outside-toplevel

    params, x = small_classifier()
    clf = SpikingLMUClassifier(CONFIG, params, x)
    with pytest.raises(ValueError, match=r"trained_readout='exact'.*m_T.*'hold' or 'spiking'"):
        to_nir(clf, trained_readout="exact")
    with pytest.raises(ValueError, match="trained_readout"):
        to_nir(clf, trained_readout="held")
    assert to_nir(clf, trained_readout="hold").metadata["trained_readout"] == "hold"
    model = write_model_dir(str(tmp_path / "exact-model"), units=8, order=4)
    out = tmp_path / "lmu.nir"
    for memory in ("exact", "spiking"):
        with pytest.raises(ValueError, match="exact readout reads the final memory m_T"):
            export_psmnist(model, out, memory=memory)
    with pytest.raises((SystemExit, ValueError)):
        main(["export", "--model", model, "--out", str(out)])
    assert not out.exists()
def test_cubalif_variant_for_hardware_importers(tmp_path):
    """No LI node (Lava-DL and SpiNNaker2 read none): CubaLIF neurons with full
    weights; not exact (no node to carry nengo's synaptic delay, the biases
    rise through the synapse), but mostly the same predictions."""
    params, x = small_classifier()
    clf = SpikingLMUClassifier(CONFIG, params, x, memory="spiking", seed=1, memory_neurons=10)
    graph = to_nir(clf, synapses="cubalif")
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

    model = _hold_model_dir(str(tmp_path / "model"))
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
    assert graph.metadata["trained_readout"] == "hold"
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


def test_cli_export_spiking_is_euler_only(tmp_path, capsys):
    """The spiking memory defaults to euler and refuses zoh before any work."""
    from nengo_lmu.cli import main  # pylint: disable=import-outside-toplevel

    model = _hold_model_dir(str(tmp_path / "model"))
    out = tmp_path / "lmu.nir"
    with pytest.raises(SystemExit):
        main(["export", "--model", model, "--out", str(out), "--memory", "spiking",
              "--discretization", "zoh"])
    assert "written only as euler" in capsys.readouterr().err
    assert not out.exists()
