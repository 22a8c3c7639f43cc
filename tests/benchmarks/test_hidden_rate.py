"""Tests of benchmarks/hidden_rate.py: the hidden neurons' rate, on validation data."""

import json

import numpy as np
import pytest

from nengo_lmu.psmnist import train_psmnist


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("hidden_rate")


def test_hidden_rate_sweep(bench, tmp_path):
    model = tmp_path / "model"
    train_psmnist(str(model), epochs=1, units=16, order=8, n_train=1000, batch_size=100,
                  learning_rate=1e-2, verbose=0, readout="hold", hold_steps=20, window=10)
    out = tmp_path / "out"
    assert bench.main(["--model", str(model), "--n-valid", "30", "--max-rates", "20", "600",
                       "--draws", "2", "--out", str(out)]) == 0
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


def test_missing_model(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--model", str(tmp_path / "none"), "--out", str(tmp_path)])
