"""Tests of benchmarks/psmnist.py (run as a script): part ff and the report."""

import json

from nengo_lmu.tasks.peers import LOIHI_JSON


def test_ff_quick_and_report(run_benchmark, tmp_path):
    loihi = {"accuracy": 0.9, "rate_accuracy": 0.95, "n_test": 100, "s_per_image": 1.5}
    (tmp_path / LOIHI_JSON).write_text(json.dumps(loihi))
    earlier = {"notes": {"kept": True}}  # an earlier run's entries are kept
    (tmp_path / "psmnist.json").write_text(json.dumps(earlier))
    proc = run_benchmark("psmnist", "--parts", "ff", "--quick", "--out", tmp_path,
                         "--ff-minutes", "5")
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "psmnist.json").read_text())
    assert (tmp_path / "psmnist.png").stat().st_size > 10_000
    ff = results["ff"]
    assert ff["quick"] and ff["n_train"] == ff["n_val"] == 500 and ff["n_test"] == 500
    assert ff["epochs_done"] == 2 and ff["n_trainable"] == 99385
    assert results["notes"] == {"kept": True}
    assert results["last_run"]["parts"] == ["ff"]
    assert {"tensorflow", "nengo_dl", "keras_lmu"} <= set(results["environment"])
    assert "loihi" not in results  # read for the report only
    out = proc.stdout
    assert "| model | test accuracy | trainable parameters | training |" in out
    assert "| same LMU, spiking, Loihi emulator | 90.00 % (n=100)" in out
    assert "FF baseline: Input(784) -> Dense(125, relu) -> Dense(10), Keras (quick)" in out
    assert "| paper: LSTM | 89.86 % |" in out
    assert "[ff] test accuracy" in out and f"wrote {tmp_path / 'psmnist.json'}" in out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_rejects_bad_budget(run_benchmark, tmp_path):
    proc = run_benchmark("psmnist", "--parts", "lstm", "--lstm-minutes", "0", "--out", tmp_path)
    assert proc.returncode == 2 and "--lstm-minutes must be > 0" in proc.stderr
    assert not (tmp_path / "psmnist.json").exists()
