"""Tests of benchmarks/hidden_rate.py (run as a script): the hidden neurons'
rate, on validation data."""

import json

import numpy as np

from nengo_lmu.tasks.psmnist import train_psmnist


def test_hidden_rate_sweep(run_benchmark, tmp_path):
    model = tmp_path / "model"
    train_psmnist(str(model), epochs=1, units=16, order=8, n_train=1000, batch_size=100,
                  learning_rate=1e-2, verbose=0, readout="hold", hold_steps=20, window=10)
    out = tmp_path / "out"
    proc = run_benchmark("hidden_rate", "--model", model, "--n-valid", "30",
                         "--max-rates", "20", "600", "--draws", "2", "--out", out)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "hidden_rate.json").read_text())
    assert [r["max_rate"] for r in result["rows"]] == [20, 600]
    assert result["settings"]["window"] == 10  # the model's readout
    slow, fast = result["rows"]
    assert all(0 <= a <= 1 for a in slow["accuracy_draws"] + fast["accuracy_draws"])
    # 20 Hz gives a neuron at most one spike in the 10-step window: much
    # further from the rate neurons than 600 Hz
    assert (abs(fast["accuracy"] - result["rate_accuracy"])
            <= abs(slow["accuracy"] - result["rate_accuracy"]) + 1 / 30)
    assert np.isclose(slow["accuracy"], np.mean(slow["accuracy_draws"]))
    assert (out / "hidden_rate.png").exists()
    assert "max_rate (Hz)" in proc.stdout


def test_missing_model(run_benchmark, tmp_path):
    proc = run_benchmark("hidden_rate", "--model", tmp_path / "none", "--out", tmp_path)
    assert proc.returncode == 2 and "holds no trained model" in proc.stderr
