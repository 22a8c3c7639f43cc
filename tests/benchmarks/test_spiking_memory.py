"""Tests of benchmarks/spiking_memory.py (run as a script): the spiking memory
alone against the exact one."""

import json


def test_ideal_neurons_track_the_exact_memory(run_benchmark, tmp_path):
    out = tmp_path / "out"
    proc = run_benchmark("spiking_memory", "--order", "4", "--neurons", "50", "--n-test", "3",
                         "--settings", "ideal IF neurons, nengo", "--out", out)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "spiking_memory.json").read_text())
    (row,) = result["rows"]
    assert row["backend"] == "nengo" and len(row["nrmse_per_dim"]) == 4
    # order 4 from 50 ideal neurons per dimension: 0.05 here, against 0.31
    # for a memory stuck at zero
    assert row["nrmse"] < 0.5 * result["zero_memory_nrmse"]
    assert (out / "spiking_memory.png").stat().st_size > 10_000
    assert "| ideal IF neurons, nengo" in proc.stdout


def test_unknown_setting(run_benchmark, tmp_path):
    proc = run_benchmark("spiking_memory", "--settings", "chip", "--out", tmp_path)
    assert proc.returncode == 2 and "unknown settings ['chip']" in proc.stderr
