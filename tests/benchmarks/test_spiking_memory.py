"""Tests of benchmarks/spiking_memory.py: the spiking memory alone against the exact one."""

import json

import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("spiking_memory")


def test_ideal_neurons_track_the_exact_memory(bench, tmp_path):
    out = tmp_path / "out"
    assert bench.main(["--order", "4", "--neurons", "50", "--n-test", "3",
                       "--settings", "ideal IF neurons, nengo", "--out", str(out)]) == 0
    result = json.loads((out / "spiking_memory.json").read_text())
    (row,) = result["rows"]
    assert row["backend"] == "nengo" and len(row["nrmse_per_dim"]) == 4
    # order 4 from 50 ideal neurons per dimension: 0.05 here, against 0.31
    # for a memory stuck at zero
    assert row["nrmse"] < 0.5 * result["zero_memory_nrmse"]
    assert (out / "spiking_memory.png").exists()


def test_unknown_setting(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--settings", "chip", "--out", str(tmp_path)])
