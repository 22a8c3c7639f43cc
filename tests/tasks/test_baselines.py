"""Tests of nengo_lmu.tasks.baselines: the Keras baselines, the peers and their timing."""

import json

import numpy as np
import pytest

from nengo_lmu.data import load_psmnist
from nengo_lmu.tasks import baselines, peers
from nengo_lmu.tasks.psmnist import model_config
from nengo_lmu.tasks.reporting import format_table


@pytest.fixture(scope="module")
def data():
    return load_psmnist(0)


@pytest.fixture(scope="module")
def sequences():
    """300 random sequences of 32 steps (the NengoDL docs example unrolls 16)
    and labels: three minibatches of 100."""
    rng = np.random.RandomState(0)
    return rng.rand(300, 32, 1).astype(np.float32), rng.randint(10, size=300)


def test_import_is_cheap():
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    code = ("import sys, nengo_lmu.tasks.baselines; "
            "print(*[m for m in ('tensorflow', 'nengo_dl', 'keras_lmu') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == []


def test_baseline_parameter_counts():
    # dense: W, b per layer; LSTM: 4 gates of (input + recurrent) weights and a bias
    assert baselines.ff_baseline(125).count_params() == 784 * 125 + 125 + 125 * 10 + 10 == 99385
    n_lstm = 4 * (128 * (1 + 128) + 128) + 128 * 10 + 10
    assert baselines.lstm_baseline(128).count_params() == n_lstm == 67850
    assert baselines.lstm_baseline(156).count_params() == 100162
    assert set(baselines.BASELINES) == {"ff", "lstm"}
    assert baselines.lstm_baseline(4).name == "lstm_4" and baselines.ff_baseline(4).name == "ff_4"


@pytest.mark.parametrize("units, layers, n_outputs", [(7, 3, 1), (5, 1, 5), (25, 4, 1)])
def test_lstm_param_count_matches_keras(units, layers, n_outputs):
    model = baselines.build_lstm(units, layers, n_outputs=n_outputs)
    assert baselines.lstm_param_count(units, layers, n_outputs=n_outputs) == model.count_params()


def test_build_lstm_shapes():
    # sequences out (capacity, Mackey-Glass) or the last step (psMNIST)
    assert baselines.build_lstm(3, 2, n_outputs=5).output_shape == (None, None, 5)
    last = baselines.build_lstm(3, 2, n_outputs=10, n_steps=784, return_sequences=False)
    assert last.input_shape == (None, 784, 1) and last.output_shape == (None, 10)
    # every LSTM but the last returns sequences
    layers = [layer for layer in last.layers if "lstm" in layer.name]
    assert [layer.return_sequences for layer in layers] == [True, False]
    y = baselines.build_lstm(3, n_outputs=2)(np.zeros((4, 9, 1), dtype=np.float32))
    assert y.shape == (4, 9, 2)


def test_match_lstm_units():
    units = baselines.match_lstm_units(18000, 4)
    assert units == 25  # 18,026 parameters; 24 and 26 are further off
    for other in (24, 26):
        assert (abs(baselines.lstm_param_count(units, 4) - 18000)
                < abs(baselines.lstm_param_count(other, 4) - 18000))
    with pytest.raises(ValueError, match="lstm_units must be an integer"):
        baselines.lstm_param_count(2.5, 1)


def _tiny_fit(callback, epochs):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((40, 3), dtype=np.float32)
    return model.fit(x, x[:, :1], batch_size=10, epochs=epochs, verbose=0,
                     callbacks=[callback]).history


def test_epoch_budget_stops_after_the_epoch():
    cb = baselines.budget_callback(1e-6, epochs=5, per="epoch")
    assert len(_tiny_fit(cb, 5)["loss"]) == 1 and cb.stopped
    cb = baselines.budget_callback(1e-6, epochs=1, per="epoch")
    assert len(_tiny_fit(cb, 1)["loss"]) == 1 and not cb.stopped  # no epoch was left
    cb = baselines.budget_callback(None, epochs=3, per="epoch")
    assert len(_tiny_fit(cb, 3)["loss"]) == 3 and not cb.stopped


def test_epoch_progress_bar(capsys):
    cb = baselines.budget_callback(epochs=2, progress=True)
    _tiny_fit(cb, 2)
    assert "2/2" in capsys.readouterr().out


def test_minibatch_budget_stops_mid_epoch():
    lines = []
    cb = baselines.budget_callback(1e-6, epochs=3, per="batch", n_val_batches=1,
                                   batches_per_epoch=4, name="tiny", log=lines.append)
    history = _tiny_fit(cb, 3)
    # the first minibatch (tracing) alone takes longer than the budget
    assert cb.stopped and len(cb.batch_s) == 1 and len(history["loss"]) == 1
    assert cb.s_per_batch() == cb.batch_s[0]
    assert lines == [lines[0]] and lines[0].startswith("[tiny] time budget: stopping after "
                                                       "minibatch 1")


@pytest.mark.parametrize("kwargs, match", [
    (dict(per="step"), "per must be one of"),
    (dict(budget_s=0), "budget_s must be a positive"),
    (dict(progress=True), "progress needs the number of epochs"),
])
def test_budget_callback_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        baselines.budget_callback(**kwargs)


def test_ff_baseline_learns(data):
    r = baselines.train_keras_baseline("ff", 64, data, epochs=3, budget_s=600, n_train=2000,
                                       n_val=1000, n_test=1000, verbose=0, log=lambda m: None)
    assert not r["stopped_by_budget"]
    assert r["epochs_done"] == 3 and r["batches_done"] == 60 and len(r["val_accuracy"]) == 3
    assert r["best_val_accuracy"] == max(r["val_accuracy"])
    assert r["best_epoch"] == 1 + int(np.argmax(r["val_accuracy"]))
    assert r["n_trainable"] == 784 * 64 + 64 + 64 * 10 + 10
    assert r["n_test"] == 1000 and r["n_train"] == 2000
    # chance is 10 %; this small network reaches about 80 % here
    assert 0.6 < r["test_accuracy"] <= 1
    json.dumps(r)  # JSON-serializable


def test_time_budget_stops_mid_epoch(data, capsys):
    # the first minibatch (with tracing) alone takes longer than the budget
    r = baselines.train_keras_baseline("lstm", 4, data, epochs=3, budget_s=0.05, n_train=2000,
                                       n_val=100, n_test=100, verbose=0)
    assert r["stopped_by_budget"]
    assert r["batches_done"] == 1 and r["epochs_run"] == 1
    assert r["epochs_done"] == pytest.approx(1 / 20)
    assert len(r["val_accuracy"]) == 1 and len(r["val_s"]) == 1  # the partial epoch validated
    assert 0 <= r["test_accuracy"] <= 1
    assert r["architecture"] == "Input((784, 1)) -> LSTM(4) -> Dense(10)"
    assert "[lstm] time budget: stopping after minibatch 1" in capsys.readouterr().out


@pytest.mark.parametrize("bad, match", [
    (dict(kind="cnn"), "kind must be one of"),
    (dict(units=0), "units must be"),
    (dict(epochs=1.5), "epochs must be"),
    (dict(budget_s=0), "budget_s must be"),
    (dict(n_test=0), "n_test must be"),
])
def test_baseline_validation(bad, match):
    kw = dict(kind="ff", units=8, data=None, epochs=1, budget_s=1.0)
    kw.update(bad)
    with pytest.raises(ValueError, match=match):
        baselines.train_keras_baseline(**kw)


def test_time_keras_lmu_quick(sequences):
    x, y = sequences
    r = peers.time_keras_lmu(x, y, 4, 4, probe_steps=1, quick=True, log=lambda m: None)
    assert r["keras_lmu_batches_per_epoch"] == 3 and r["keras_lmu_extrapolated"]
    assert r["keras_lmu_timed_batches"] == 1
    assert r["keras_lmu_epoch_s"] == pytest.approx(3 * r["keras_lmu_s_per_batch"])
    # hidden Dense(4) on the order-4 memory, Dense(10), and the 1 x 1 input encoder
    assert r["keras_lmu_n_trainable"] == (4 * 4 + 4) + (4 * 10 + 10) + 1


def test_nengo_dl_docs_lmu():
    for variant in peers.DOCS_VARIANTS:
        net, inp, probe = peers.nengo_dl_docs_lmu(units=4, order=3, theta=32,
                                                      variant=variant)
        assert probe.size_in == 10 and inp.size_out == 1 and probe in net.all_probes
    with pytest.raises(ValueError, match="variant must be one of"):
        peers.nengo_dl_docs_lmu(variant="latest")


def test_time_sequential_paths(sequences):
    x, y = sequences
    config = model_config(4, 3, neuron_type="Tanh", hidden_recurrent=True)
    lines = []
    r = peers.time_sequential_paths(x, y, config, 1, docs_variants=("current",),
                                        log=lines.append)
    ours, docs = r["ours_sequential"], r["nengo_dl_example"]["current"]
    assert ours["timed_batches"] == 1 and ours["n_steps"] == 32 and ours["plan"] == "dense"
    assert ours["n_trainable"] == ours["n_trainable_variables"]
    assert r["ours_sequential_nengo_dl_plan"]["plan"] == "nengo-dl default"
    # the docs example, current revision: x -> u, x -> h, h -> h, m -> h, h -> out
    assert docs["n_trainable_variables"] == 1 + 4 + 4 * 4 + 4 * 3 + 10 * 4
    assert r["speedup_vs_nengo_dl_example"] == pytest.approx(
        docs["s_per_batch"] / r["ours_sequential_s_per_batch"])
    assert r["nengo_dl_example_variant"] == "current"
    assert len(lines) == 6
    with pytest.raises(ValueError, match="need 200 sequences"):
        peers.time_nengo_dl_fit(None, None, None, x[:150], y[:150], 1)


def test_comparison_rows_and_table():
    b = dict(architecture="Input(784) -> Dense(8, relu) -> Dense(10)", test_accuracy=0.5,
             n_test=10000, n_trainable=6370, train_wall_s=12.0, epochs_done=2.0,
             budget_s=600.0, stopped_by_budget=True, quick=True)
    loihi = {"accuracy": 0.9, "rate_accuracy": 0.95, "n_test": 100, "s_per_image": 1.5}
    rows = peers.comparison_rows({"ff": b, "loihi": loihi})
    assert [r[0] for r in rows] == [
        "same LMU, spiking, Loihi emulator",
        "FF baseline: Input(784) -> Dense(8, relu) -> Dense(10), Keras (quick)",
        "paper: LMU", "paper: FF-baseline", "paper: LSTM"]
    assert rows[0][1] == "90.00 % (n=100) (rate on the same images 95.00 %)"
    assert rows[1][1:] == ("50.00 %", "6,370", "12 s, 2 epoch(s) (budget 10 min)")
    table = format_table(rows, peers.COMPARISON_HEADER, markdown=True).splitlines()
    assert table[0] == "| model | test accuracy | trainable parameters | training |"
    assert len(table) == 2 + len(rows)
    text = format_table(rows, peers.COMPARISON_HEADER).splitlines()
    assert len({len(line) for line in text[2:]}) == 1  # aligned
