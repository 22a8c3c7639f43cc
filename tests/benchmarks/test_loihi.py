"""benchmarks/loihi.py (run as a script) on tiny models: the batched parts, their
check against each image alone, the seeds table, resuming finished models."""

import json

import pytest

from nengo_lmu.tasks.finetune import finetune_psmnist
from nengo_lmu.tasks.psmnist import train_psmnist

TINY = dict(units=16, n_train=500, batch_size=100, learning_rate=1e-2, verbose=0)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """Tiny models where the script looks for its models, so it trains none."""
    out = tmp_path_factory.mktemp("loihi")
    train_psmnist(str(out / "psmnist-parallel"), epochs=1, order=8, **TINY)
    for seed in (0, 1):
        model = out / f"psmnist-order-4-hold-seed-{seed}"
        train_psmnist(str(model), epochs=1, order=4, readout="hold", hold_steps=20, window=10,
                      seed=seed, **TINY)
        finetune_psmnist(str(model), str(model) + f"-finetuned-seed-{seed}", memory_neurons=5,
                         seed=seed, n_train=100, n_valid=100, epochs=1, max_rate=500,
                         progress_bar=False, verbose=0)
    return out


def test_batched_parts_and_seeds(run_benchmark, out):
    proc = run_benchmark("loihi", "--parts", "exact", "spiking", "seeds", "--out", out,
                         "--n-test", "12", "--n-check", "3", "--n-spiking", "6",
                         "--n-spiking-check", "2", "--batch-size", "4", "--spiking-order", "4",
                         "--memory-neurons", "5", "--hold-steps", "20", "--window", "10",
                         "--seeds", "0", "1", timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "] training " not in proc.stdout and "] fine-tuning " not in proc.stdout  # resumed
    results = json.loads((out / "loihi.json").read_text())
    exact, spiking, seeds = results["exact"], results["spiking"], results["seeds"]
    assert exact["n_test"] == 12 and exact["batch_size"] == 4 and len(exact["predictions"]) == 12
    assert exact["check"]["n"] == 3 and exact["check"]["identical_to_alone"]
    assert spiking["check"]["n"] == 2 and spiking["check"]["identical_to_alone"]
    assert spiking["memory"] == "spiking" and spiking["seed"] == 0
    assert [r["training_seed"] for r in seeds["runs"]] == [0, 1]
    assert all(r["n_test"] == 6 and r["seed"] == r["training_seed"] and r["max_rate"] == 500
               for r in seeds["runs"])
    assert all(0 <= r["streams_accuracy"] <= 1 for r in seeds["runs"])
    accuracies = [r["accuracy"] for r in seeds["runs"]]
    assert seeds["summary"]["accuracy"]["min"] == min(accuracies)
    assert "identical to each image alone: True" in proc.stdout
    assert "training seed" in proc.stdout and "median (range)" in proc.stdout
    assert (out / "loihi.png").exists() and (out / "psmnist-loihi.json").exists()
