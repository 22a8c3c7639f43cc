"""Batched evaluation (nengo_lmu.batching): every image as if run alone, on the
Loihi emulator and on nengo; the batched emulator against nengo_loihi's."""

import ast
import pathlib
import subprocess
import sys

import nengo
import numpy as np
import pytest

from nengo_lmu.batched_emulator import BatchedEmulator
from nengo_lmu.batching import BatchedNetwork, BatchedRun, predict_batched, run_batched
from nengo_lmu.lmu import build_classifier
from nengo_lmu.spiking import SpikingLMUClassifier
from tests.classifiers import CONFIG, small_classifier

#: Short holds keep the emulator runs short; spiking memory of 10 neurons per dimension.
SETTINGS = dict(hold_steps=20, window=10, memory_neurons=10, max_rate=400, seed=3)


@pytest.fixture(scope="module")
def small():
    """A small random classifier's weights and sequences for it."""
    return small_classifier()


def classifier(small, memory):
    params, x = small
    return SpikingLMUClassifier(CONFIG, params, x[:20], memory=memory, **SETTINGS)


def counts_of(clf, rates):
    """Window spike counts from `SpikingLMUClassifier.run`'s rates."""
    counts = rates * clf.window / (clf.neuron_type.amplitude / clf.dt)
    assert np.allclose(counts, np.rint(counts), atol=1e-9)
    return np.rint(counts).astype(int)


@pytest.mark.parametrize("memory", ["exact", "spiking"])
@pytest.mark.parametrize("backend", ["loihi", "nengo"])
def test_batched_equals_each_image_alone(small, backend, memory):
    """Any batch size gives every image the spikes and prediction it has when
    run alone, in a simulator of its own."""
    _, x = small
    clf = classifier(small, memory)
    xt = x[20:27]
    alone = [clf.run(xt[i:i + 1], backend=backend, progress_bar=False) for i in range(len(xt))]
    logits = np.concatenate([a[0] for a in alone])
    counts = counts_of(clf, np.concatenate([a[1] for a in alone]))
    for batch_size in (1, 3, 4, 7, 100):
        run = run_batched(clf, xt, batch_size=batch_size, backend=backend, progress_bar=False)
        assert isinstance(run, BatchedRun) and run.batch_size == batch_size and run.reset
        assert np.array_equal(run.counts, counts), batch_size
        assert np.array_equal(run.predictions, logits.argmax(axis=1)), batch_size
        assert np.allclose(run.logits, logits, rtol=0, atol=1e-12)
        assert run.counts.shape == (len(xt), CONFIG["units"])
        assert run.steps_per_image == clf.steps_per_sequence
    # the spikes differ from image to image (the test is not vacuous)
    assert len({tuple(c) for c in counts}) >= 4 and counts.sum() > 0


def test_order_and_split_do_not_matter(small):
    _, x = small
    clf = classifier(small, "exact")
    xt = x[20:30]
    whole = run_batched(clf, xt, batch_size=4, progress_bar=False)
    order = np.random.RandomState(1).permutation(len(xt))
    shuffled = run_batched(clf, xt[order], batch_size=3, progress_bar=False)
    assert np.array_equal(shuffled.counts, whole.counts[order])
    parts = [run_batched(clf, xt[s], batch_size=2, progress_bar=False)
             for s in (slice(0, 3), slice(3, 10))]
    assert np.array_equal(np.concatenate([p.counts for p in parts]), whole.counts)


@pytest.mark.parametrize("memory, backend", [("exact", "loihi"), ("spiking", "loihi"),
                                             ("exact", "nengo")])
def test_streams_run_back_to_back(small, memory, backend):
    """``reset=False``: batch size 1 is `SpikingLMUClassifier.run` (images back
    to back) bit for bit; with B streams, each stream is run() of its slice."""
    _, x = small
    clf = classifier(small, memory)
    xt = x[20:27]
    logits, rates = clf.run(xt, backend=backend, progress_bar=False)
    one = run_batched(clf, xt, batch_size=1, backend=backend, reset=False, progress_bar=False)
    assert not one.reset
    assert np.array_equal(one.rates, rates) and np.array_equal(one.logits, logits)
    three = run_batched(clf, xt, batch_size=3, backend=backend, reset=False,
                        progress_bar=False)
    slices = np.array_split(np.arange(len(xt)), 3)  # 3, 2, 2 consecutive images
    expected = np.concatenate([clf.run(xt[s], backend=backend, progress_bar=False)[1]
                               for s in slices])
    assert np.array_equal(three.rates, expected)
    # the first image of each stream starts from rest: it is the image run alone
    first = run_batched(clf, xt[[s[0] for s in slices]], batch_size=3, progress_bar=False,
                        backend=backend)
    assert np.array_equal(three.counts[[s[0] for s in slices]], first.counts)


def _loihi_spikes(net, probes, n_steps):
    import nengo_loihi  # pylint: disable=import-outside-toplevel

    with nengo_loihi.Simulator(net, target="sim") as sim:
        sim.run_steps(n_steps)
        return [sim.data[p] != 0 for p in probes]


def test_batched_emulator_matches_nengo_loihi():
    """A network other than the classifier: LIF neurons (leak, refractory
    period), a node to an ensemble (host encoding through a pass-through
    node, radius and transform), decoded and recurrent connections on chip."""
    n_steps = 150
    signals = [nengo.processes.WhiteSignal(0.15, high=10, rms=0.5, seed=s).run_steps(n_steps)
               for s in range(3)]

    def network(values):
        with nengo.Network(seed=1) as net:
            node = nengo.Node(nengo.processes.PresentInput(values, presentation_time=0.001))
            relay = nengo.Node(size_in=1)
            nengo.Connection(node, relay, synapse=None)
            a = nengo.Ensemble(40, 1, radius=2.0)
            b = nengo.Ensemble(30, 1, neuron_type=nengo.SpikingRectifiedLinear())
            nengo.Connection(relay, a, transform=1.5, synapse=None)
            nengo.Connection(a, b, synapse=0.01, function=np.square)
            nengo.Connection(b, b, synapse=0.05, transform=0.5)
            probes = [nengo.Probe(a.neurons), nengo.Probe(b.neurons)]
        return net, node, probes

    expected = [_loihi_spikes(*network(v)[::2], n_steps) for v in signals]
    net, node, probes = network(signals[0])
    emulator = BatchedEmulator(net, [node], probes)
    spikes = emulator.run({node: np.array(signals)}, n_steps)
    for k in range(len(signals)):
        for p, e in zip(probes, expected[k]):
            assert np.array_equal(spikes[p][k], e), (k, p)
    assert all(e.sum() > 0 for e in expected[0])
    # continuing the streams is one longer run: the second half of 2 x 75 steps
    first = emulator.run({node: np.array(signals)[:, :75]}, 75)
    second = emulator.run({node: np.array(signals)[:, 75:]}, 75, reset=False,
                          record=[0, 74])
    assert np.array_equal(second[probes[1]], spikes[probes[1]][:, [75, 149]])
    assert np.array_equal(first[probes[0]], spikes[probes[0]][:, :75])


def test_overflow_as_nengo_loihi():
    """Out-of-range values wrap as nengo_loihi's ``overflow_signed`` wraps them,
    with its warning; values in range are untouched."""
    from nengo_loihi.builder.discretize import (  # pylint: disable=import-outside-toplevel
        overflow_signed,
    )

    from nengo_lmu.batched_emulator import _overflow  # pylint: disable=import-outside-toplevel

    x = np.array([[-2**21 - 3, -2**21, -5, 0, 2**21 - 1, 2**21, 2**22 + 7]], dtype=np.int32)
    expected, _ = overflow_signed(x.copy(), bits=21)
    with pytest.warns(UserWarning, match="Overflow in q0"):
        _overflow(x, 21, "q0")
    assert np.array_equal(x, expected)
    inside = np.array([[-2**21, -5, 0, 2**21 - 1]], dtype=np.int32)
    _overflow(inside, 21, "q0")
    assert np.array_equal(inside, [[-2**21, -5, 0, 2**21 - 1]])


# -- bad arguments --------------------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), r"batch_size must be an integer >= 1, got 0"),
    (dict(batch_size=-2), r"batch_size must be an integer >= 1, got -2"),
    (dict(batch_size=2.5), r"batch_size must be an integer >= 1, got 2.5"),
    (dict(batch_size=True), r"batch_size must be an integer >= 1, got True"),
    (dict(batch_size="4"), r"batch_size must be an integer >= 1, got '4'"),
    (dict(backend="dl"), r"backend must be one of \('nengo', 'loihi'\), got 'dl'"),
    (dict(reset="no"), r"reset must be True or False, got 'no'"),
])
def test_bad_settings(small, kwargs, message):
    _, x = small
    with pytest.raises(ValueError, match=message):
        run_batched(classifier(small, "exact"), x[:3], progress_bar=False, **kwargs)


@pytest.mark.parametrize("change, message", [
    (lambda x: x[:, :20], r"x must have shape \(n >= 1, 30, 1\), got \(3, 20, 1\)"),
    (lambda x: x[:0], r"x must have shape \(n >= 1, 30, 1\), got \(0, 30, 1\)"),
    (lambda x: x[..., 0], r"x must have shape \(n >= 1, 30, 1\), got \(3, 30\)"),
    (lambda x: (x * 255).astype(np.uint8), r"x must be a float array, got dtype uint8"),
    (lambda x: np.where(np.arange(30)[None, :, None] == 4, np.nan, x), r"x contains NaN"),
])
def test_bad_sequences(small, change, message):
    _, x = small
    with pytest.raises(ValueError, match=message):
        run_batched(classifier(small, "exact"), change(x[:3]), progress_bar=False)


def test_not_a_classifier(small):
    _, x = small
    with pytest.raises(ValueError, match="classifier must be a SpikingLMUClassifier"):
        run_batched(nengo.Network(), x[:3])


def test_emulator_refuses_what_it_does_not_emulate():
    def net_with(extra):
        with nengo.Network(seed=0) as net:
            node = nengo.Node(nengo.processes.PresentInput(np.zeros((1, 1)), 0.001))
            ens = nengo.Ensemble(10, 1)
            probe = extra(node, ens)
        return net, node, probe

    def unlisted(node, ens):
        other = nengo.Node(np.ones(1))
        nengo.Connection(other, ens, synapse=None)
        nengo.Connection(node, ens, synapse=None)
        return nengo.Probe(ens.neurons)

    net, node, probe = net_with(unlisted)
    with pytest.raises(ValueError, match="feeds the chip but is not one of the inputs"):
        BatchedEmulator(net, [node], [probe])

    def filtered(node, ens):
        nengo.Connection(node, ens, synapse=0.01)
        return nengo.Probe(ens.neurons)

    net, node, probe = net_with(filtered)
    with pytest.raises(NotImplementedError, match="no synapse and no function"):
        BatchedEmulator(net, [node], [probe])

    def probe_with_synapse(node, ens):
        nengo.Connection(node, ens, synapse=None)
        return nengo.Probe(ens.neurons, synapse=0.01)

    net, node, probe = net_with(probe_with_synapse)
    with pytest.raises(NotImplementedError, match="without a synapse only"):
        BatchedEmulator(net, [node], [probe])

    def plain(node, ens):
        nengo.Connection(node, ens, synapse=None)
        return nengo.Probe(ens.neurons)

    net, node, probe = net_with(plain)
    emulator = BatchedEmulator(net, [node], [probe])
    with pytest.raises(ValueError, match=r"must have shape \(n_streams, 5, 1\)"):
        emulator.run({node: np.zeros((2, 4, 1))}, 5)
    with pytest.raises(ValueError, match="values has no entry"):
        emulator.run({}, 5)
    emulator.run({node: np.zeros((2, 5, 1))}, 5)
    with pytest.raises(ValueError, match="the streams continue with 2 streams, got 3"):
        emulator.run({node: np.zeros((3, 5, 1))}, 5, reset=False)
    with pytest.raises(ValueError, match="inputs must be nengo.Node"):
        BatchedEmulator(net, [probe], [probe])


# -- the rate classifier on nengo ------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_rate_batched_equals_one_at_a_time(small, batch_size, allclose):
    """B sequences side by side in one nengo simulator, each from rest: the
    logits `training.predict` gives one sequence after another, whatever B
    (64 > 40 sequences: one batch); a last batch padded (7) or not (1)."""
    from nengo_lmu.training import predict  # pylint: disable=import-outside-toplevel

    params, x = small
    clf = build_classifier(CONFIG, params, method="sequential")
    reference = predict(clf, x, backend="nengo")
    logits = predict_batched(clf, x, batch_size=batch_size)
    assert logits.shape == (40, CONFIG["n_classes"])
    assert allclose(logits, reference, atol=1e-12)
    assert np.array_equal(logits.argmax(axis=1), reference.argmax(axis=1))
    # each image from rest: alone, or after other images, the same logits
    assert allclose(predict_batched(clf, x[::-1], batch_size=batch_size)[::-1], logits,
                    atol=1e-12)


def test_rate_batched_recurrent_lmu(rng, allclose):
    """The LMU's recurrent options (h -> memory, memory -> memory, h -> h, x -> h)
    widen too: their one-step-delay synapses act on every copy."""
    from nengo_lmu.training import predict  # pylint: disable=import-outside-toplevel

    config = dict(CONFIG, hidden_to_memory=True, memory_to_memory=True,
                  hidden_recurrent=True, input_to_hidden=True)
    clf = build_classifier(config, method="sequential", seed=1)
    params = clf.get_params()
    params = {k: v + 0.1 * rng.normal(size=np.shape(v)) for k, v in params.items()}
    clf = build_classifier(config, params, method="sequential")
    x = rng.uniform(0, 1, size=(5, 30, 1))
    assert allclose(predict_batched(clf, x, batch_size=3), predict(clf, x, backend="nengo"),
                    atol=1e-12)


def test_rate_batched_refuses(small):
    params, x = small
    clf = build_classifier(CONFIG, params, method="sequential")
    with pytest.raises(ValueError, match="classifier must be an LMUClassifier"):
        predict_batched(classifier(small, "exact"), x)
    with pytest.raises(ValueError, match="method='sequential'"):
        predict_batched(build_classifier(CONFIG, params, method="parallel"), x)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        predict_batched(clf, x, batch_size=0)
    with pytest.raises(ValueError, match=r"x must have shape \(n >= 1, T >= 1, 1\), got \(40, 30\)"):
        predict_batched(clf, x[..., 0])
    with pytest.raises(ValueError, match="x must hold finite floats"):
        predict_batched(clf, np.where(x > 0.5, np.nan, x))
    with pytest.raises(ValueError, match="n_copies must be an integer >= 1"):
        BatchedNetwork(clf, 0)
    with pytest.raises(ValueError, match="inputs must be nengo.Node objects without input"):
        BatchedNetwork(clf, 2, inputs=[clf.output])

    def net_with(extra):
        with nengo.Network() as net:
            a, b = nengo.Node(np.zeros(2)), nengo.Node(size_in=2)
            extra(a, b)
        return net

    for extra, message in [
            (lambda a, b: nengo.Connection(a[0], b[1]), "without slices or functions"),
            (lambda a, b: nengo.Connection(a, b, function=np.square), "without slices"),
            (lambda a, b: nengo.Connection(a, nengo.Ensemble(5, 2)), "through their neurons"),
            (lambda a, b: nengo.Connection(a, b, transform=nengo.Sparse(
                (2, 2), indices=[[0, 0]], init=[1.0])), "dense and scalar transforms"),
            (lambda a, b: nengo.Node(lambda t: t), "constant output"),
            (lambda a, b: nengo.Probe(b[:1]), "probes of whole nodes")]:
        with pytest.raises(NotImplementedError, match=message):
            BatchedNetwork(net_with(extra), 2)


# -- layers -------------------------------------------------------------------


def test_imports_no_training_stack():
    """The module sits in the backend layer beside `nengo_lmu.spiking`: no NengoDL,
    TensorFlow, training or application imports (nengo_loihi only when it builds)."""
    package = pathlib.Path(__file__).resolve().parents[1] / "nengo_lmu"
    found = set()
    for node in ast.walk(ast.parse((package / "batching.py").read_text()
                                   + (package / "batched_emulator.py").read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module)
    assert not found & {"tensorflow", "nengo_dl", "keras", "keras_lmu",
                        "nengo_lmu.training", "nengo_lmu.tasks", "nengo_lmu.cli"}
    code = ("import sys, numpy as np\n"
            "import nengo_lmu.batching\n"
            "print(*[m in sys.modules for m in ('tensorflow', 'nengo_dl', 'nengo_loihi')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False", "False"]


# -- the benchmark script -----------------------------------------------------------


def test_benchmark_script(tmp_path):
    """benchmarks/batched_loihi.py on a tiny model: the table, the JSON, the checks."""
    import json  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel

    from nengo_lmu.tasks.psmnist import train_psmnist  # pylint: disable=import-outside-toplevel

    model = tmp_path / "model"
    train_psmnist(str(model), epochs=1, units=16, order=8, n_train=1000, batch_size=100,
                  learning_rate=1e-2, verbose=0)
    script = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "batched_loihi.py"
    out = tmp_path / "out"
    env = dict(os.environ, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, str(script), "--model", str(model), "--n-test", "12",
                           "--batch-size", "1", "5", "--n-reference", "4", "--n-check", "2",
                           "--rate-n-test", "6", "--out", str(out)], capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "batched_loihi_exact.json").read_text())
    assert [b["batch_size"] for b in result["batched"]] == [1, 5]
    assert all(b["identical_to_alone"] and b["n"] == 12 for b in result["batched"])
    assert result["streams"]["identical_to_back_to_back"]
    assert result["back_to_back"]["n"] == 4 and result["alone"]["n"] == 2
    rate = result["rate_nengo"]
    assert rate["one_at_a_time"]["n"] == 4 and [b["n"] for b in rate["batched"]] == [6, 6]
    assert all(b["identical_predictions"] and b["allclose"] for b in rate["batched"])
    assert (out / "batched_loihi_exact.png").exists()
    assert "speed-up" in proc.stdout and "batched, batch size 5" in proc.stdout
    missing = subprocess.run([sys.executable, str(script), "--model", str(tmp_path / "none")],
                             capture_output=True, text=True, env=env, check=False)
    assert missing.returncode == 2 and "holds no trained model" in missing.stderr
