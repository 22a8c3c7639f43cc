"""The spiking LMU classifier (nengo_lmu.spiking) on nengo and the Loihi emulator."""

import json

import nengo
import numpy as np
import pytest

from nengo_lmu.cli import main
from nengo_lmu.loihi import quantization_report
from nengo_lmu.psmnist import train_psmnist
from nengo_lmu.spiking import SpikingLMUClassifier, spiking_neuron_type
from nengo_lmu.training import build_classifier, predict

CONFIG = dict(n_classes=4, units=16, order=6, theta=30.0, input_d=1,
              hidden_neuron_type="RectifiedLinear")


@pytest.fixture(scope="module")
def small():
    """A small random classifier, its weights and sequences for it."""
    rng = np.random.RandomState(0)
    clf = build_classifier(CONFIG, method="parallel")
    params = clf.get_params()
    params["W_m"] = rng.normal(size=params["W_m"].shape) * 0.5
    params["bias"] = rng.uniform(-0.2, 0.5, size=CONFIG["units"])
    params["W_out"] = rng.normal(size=params["W_out"].shape)
    x = rng.uniform(0, 1, size=(40, 30, 1))
    return params, x


def test_rate_logits_match_temporal_rate_network(small, allclose):
    params, x = small
    net = SpikingLMUClassifier(CONFIG, params, x[:20])
    clf = build_classifier(CONFIG, params=params, method="sequential")
    # independent: the rate network stepped through time in nengo
    expected = predict(clf, x[:5], backend="nengo")
    assert allclose(net.rate_logits(x[:5]), expected, atol=1e-6)


@pytest.mark.parametrize("backend", ["nengo", "loihi"])
def test_spiking_hidden_layer_matches_rate_model(small, backend):
    params, x = small
    net = SpikingLMUClassifier(CONFIG, params, x, max_rate=400, hold_steps=60,
                               window=50, seed=1)
    logits, rates = net.run(x[20:], backend=backend, progress_bar=False)
    expected = net.rate_logits(x[20:])
    spread = np.std(expected)
    # spike counts over 50 steps at up to ~400 Hz: 0.04-0.08 of the logits'
    # spread over five weight seeds; on Loihi 8-bit weights and input spikes
    # encoding m_T add to that: 0.15-0.22
    tol = {"nengo": 0.12, "loihi": 0.3}[backend]
    assert np.sqrt(np.mean((logits - expected) ** 2)) < tol * spread
    assert np.mean(logits.argmax(1) == expected.argmax(1)) >= 0.85
    assert rates.shape == (20, CONFIG["units"])


def test_spiking_memory_on_nengo():
    T = 300  # a 0.3 s window at dt = 1 ms
    config = dict(CONFIG, theta=float(T))
    rng = np.random.RandomState(0)
    params = build_classifier(config, method="parallel").get_params()
    params["W_m"] = rng.normal(size=params["W_m"].shape) * 0.5
    params["bias"] = rng.uniform(-0.2, 0.5, size=config["units"])
    params["W_out"] = rng.normal(size=params["W_out"].shape)
    x = np.array([nengo.processes.WhiteSignal(T / 1000, high=5, rms=0.3, seed=i).run_steps(T)
                  for i in range(30)])
    net = SpikingLMUClassifier(config, params, x[:20], memory="spiking", memory_neurons=60,
                               hold_steps=10, window=5, memory_synapse=0.05, seed=2)
    assert net.steps_per_sequence == T + 10
    logits, _ = net.run(x[20:], backend="nengo", progress_bar=False)
    # the exact memory under the same readout: the window slid by hold_steps
    slid = np.concatenate([x[20:], np.zeros((10, 10, 1))], axis=1)[:, 10:]
    expected = net.rate_logits(slid)
    # order 6 from 60 spiking neurons per dimension: 0.73 here, 0 for unrelated logits
    assert np.corrcoef(logits.ravel(), expected.ravel())[0, 1] > 0.6


def test_neuron_types():
    relu = spiking_neuron_type("RectifiedLinear", amplitude=0.01)
    assert isinstance(relu, nengo.SpikingRectifiedLinear) and relu.amplitude == 0.01
    assert isinstance(spiking_neuron_type("LIFRate"), nengo.LIF)
    with pytest.raises(ValueError, match="'Tanh' cannot run on Loihi.*RectifiedLinear"):
        spiking_neuron_type("Tanh")


@pytest.mark.parametrize("change, message", [
    (dict(hidden_recurrent=True), "feed-forward LMU"),
    (dict(hidden_neuron_type="Tanh"), "cannot run on Loihi"),
])
def test_unsupported_models(small, change, message):
    params, x = small
    with pytest.raises(ValueError, match=message):
        SpikingLMUClassifier(dict(CONFIG, **change), params, x[:5])


@pytest.mark.parametrize("kwargs, message", [
    (dict(memory="chip"), "memory must be one of"),
    (dict(window=50, hold_steps=40), "window"),
    (dict(max_rate=2000), "max_rate must be below 1/dt"),
    (dict(memory_max_rate=1500), "memory_max_rate must be at most 1/dt"),
    (dict(memory_max_rate=-5), "memory_max_rate must be"),
])
def test_bad_settings(small, kwargs, message):
    params, x = small
    with pytest.raises(ValueError, match=message):
        SpikingLMUClassifier(CONFIG, params, x[:5], **kwargs)


def test_params_of_other_model(small):
    params, x = small
    with pytest.raises(ValueError, match="has shape .* but this LMU .*order=8"):
        SpikingLMUClassifier(dict(CONFIG, order=8), params, x[:5])


def test_quantization_report_counts_zeroed_weights():
    with nengo.Network(seed=0) as net:
        a = nengo.Ensemble(4, 1, neuron_type=nengo.SpikingRectifiedLinear())
        b = nengo.Ensemble(2, 1, neuron_type=nengo.SpikingRectifiedLinear())
        w = np.array([[1.0, 1e-4, 0.5, 0.0], [0.25, -1e-5, -1.0, 0.1]])
        nengo.Connection(a.neurons, b.neurons, transform=w)
    report = quantization_report(net)
    # 8-bit weights scaled to the largest (1.0): 1e-4 and 1e-5 round to zero
    assert report["weights"] == 7
    assert report["weights_zeroed"] == 2
    assert 0 < report["relative_error"] < 0.01


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("loihi") / "model"
    train_psmnist(str(out), epochs=1, units=16, order=12, n_train=2000, batch_size=100,
                  learning_rate=1e-2, verbose=0)
    return out


def test_evaluate_loihi_cli(model_dir, tmp_path, capsys):
    path = tmp_path / "ev.json"
    assert main(["psmnist", "evaluate", "--model", str(model_dir), "--backend", "loihi",
                 "--n-test", "20", "--seed", "3", "--json", str(path), "--no-progress"]) == 0
    result = json.loads(path.read_text())
    for key in ("accuracy", "rate_accuracy", "n_test", "backend", "s_per_image"):
        assert key in result
    assert result["backend"] == "loihi" and result["n_test"] == 20
    assert result["seed"] == 3
    assert abs(result["accuracy"] - result["rate_accuracy"]) <= 0.15
    assert "rate model on the same images" in capsys.readouterr().out


def test_loihi_report_cli(model_dir, tmp_path):
    path = tmp_path / "rep.json"
    assert main(["loihi-report", "--model", str(model_dir), "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    assert report["fits_one_chip"] is True
    assert report["neurons"] >= 16 and report["cores"] >= 1
    # W_m (16 x 12) stored for on and off input neurons of each memory dimension
    assert report["synapses"] >= 16 * 12


@pytest.mark.parametrize("argv, message", [
    (["psmnist", "evaluate", "--model", "X", "--memory", "spiking"], "need --backend loihi"),
    (["psmnist", "evaluate", "--model", "X", "--seed", "1"], "need --backend loihi"),
    (["psmnist", "evaluate", "--model", "X", "--backend", "loihi", "--memory-max-rate", "0"],
     "--memory-max-rate"),
    (["loihi-report"], "either --model DIR or --delay"),
    (["psmnist", "evaluate", "--model", "/nonexistent", "--backend", "loihi"],
     "does not exist"),
])
def test_cli_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err
