"""Tests of benchmarks/psmnist.py: the Keras baselines (parts ff and lstm) and the report."""

import json
import os

import numpy as np
import pytest

from nengo_lmu.data import load_psmnist


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("psmnist")


@pytest.fixture(scope="module")
def data():
    return load_psmnist(0)


def test_baseline_parameter_counts(bench):
    # dense: W, b per layer; LSTM: 4 gates of (input + recurrent) weights and a bias
    assert bench.ff_baseline(125).count_params() == 784 * 125 + 125 + 125 * 10 + 10 == 99385
    n_lstm = 4 * (128 * (1 + 128) + 128) + 128 * 10 + 10
    assert bench.lstm_baseline(128).count_params() == n_lstm == 67850
    assert bench.lstm_baseline(156).count_params() == 100162


def test_ff_baseline_learns(bench, data):
    r = bench.train_keras_baseline("ff", 64, data, epochs=3, budget_s=600, n_train=2000,
                                   n_val=1000, n_test=1000, verbose=0)
    assert not r["stopped_by_budget"]
    assert r["epochs_done"] == 3 and r["batches_done"] == 60 and len(r["val_accuracy"]) == 3
    assert r["best_val_accuracy"] == max(r["val_accuracy"])
    assert r["best_epoch"] == 1 + int(np.argmax(r["val_accuracy"]))
    assert r["n_trainable"] == 784 * 64 + 64 + 64 * 10 + 10
    assert r["n_test"] == 1000 and r["n_train"] == 2000
    # chance is 10 %; this small network reaches about 80 % here
    assert 0.6 < r["test_accuracy"] <= 1
    json.dumps(r)  # JSON-serializable


def test_time_budget_stops_mid_epoch(bench, data):
    # the first minibatch (with tracing) alone takes longer than the budget
    r = bench.train_keras_baseline("lstm", 4, data, epochs=3, budget_s=0.05, n_train=2000,
                                   n_val=100, n_test=100, verbose=0)
    assert r["stopped_by_budget"]
    assert r["batches_done"] == 1 and r["epochs_run"] == 1
    assert r["epochs_done"] == pytest.approx(1 / 20)
    assert len(r["val_accuracy"]) == 1 and len(r["val_s"]) == 1  # the partial epoch validated
    assert 0 <= r["test_accuracy"] <= 1


@pytest.mark.parametrize("bad, match", [
    (dict(kind="cnn"), "kind must be one of"),
    (dict(units=0), "units must be"),
    (dict(epochs=1.5), "epochs must be"),
    (dict(budget_s=0), "budget_s must be"),
    (dict(n_test=0), "n_test must be"),
])
def test_baseline_validation(bench, bad, match):
    kw = dict(kind="ff", units=8, data=None, epochs=1, budget_s=1.0)
    kw.update(bad)
    with pytest.raises(ValueError, match=match):
        bench.train_keras_baseline(**kw)


def test_main_ff_quick_and_report(bench, tmp_path):
    out = str(tmp_path)
    loihi = {"accuracy": 0.9, "rate_accuracy": 0.95, "n_test": 100, "s_per_image": 1.5}
    with open(os.path.join(out, bench.LOIHI_JSON), "w", encoding="utf-8") as f:
        json.dump(loihi, f)
    assert bench.main(["--parts", "ff", "--quick", "--out", out, "--ff-minutes", "5"]) == 0
    with open(os.path.join(out, "psmnist.json"), encoding="utf-8") as f:
        results = json.load(f)
    assert os.path.getsize(os.path.join(out, "psmnist.png")) > 0
    ff = results["ff"]
    assert ff["quick"] and ff["n_train"] == ff["n_val"] == 500 and ff["n_test"] == 500
    assert ff["epochs_done"] == 2 and ff["n_trainable"] == 99385
    assert "loihi" not in results  # read for the report only
    rows = bench.comparison_rows(dict(results, loihi=loihi))
    models = [r[0] for r in rows]
    assert models[0].startswith("same LMU, spiking, Loihi") and rows[0][1].startswith("90.00 %")
    assert models[1].startswith("FF baseline") and models[1].endswith("(quick)")
    assert models[-3:] == ["paper: LMU", "paper: FF-baseline", "paper: LSTM"]
    table = bench.format_table(rows, bench.COMPARISON_HEADER, markdown=True).splitlines()
    assert table[0] == "| model | test accuracy | trainable parameters | training |"
    assert len(table) == 2 + len(rows)


def test_main_rejects_bad_budget(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--parts", "lstm", "--lstm-minutes", "0", "--out", str(tmp_path)])
    assert not os.path.exists(os.path.join(str(tmp_path), "psmnist.json"))
