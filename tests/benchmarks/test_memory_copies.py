"""Tests of benchmarks/memory_copies.py: what averaged copies of the spiking
memory leave that fine-tuning cannot undo."""

import importlib.util
import json

import numpy as np
import pytest

from nengo_lmu.tasks.psmnist import train_psmnist
from tests.benchmarks.conftest import BENCHMARKS


def _module():
    spec = importlib.util.spec_from_file_location("memory_copies", BENCHMARKS / "memory_copies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_heldout_affine_fit(rng):
    """An affine map of the exact state is explained fully; added noise of a
    known share of the variance is what is left, on held-out sequences."""
    fit = _module().heldout_affine_fit
    exact = rng.normal(size=(2000, 3))
    maps = rng.normal(size=(2, 3, 4))
    states = np.stack([exact @ m + 0.5 for m in maps])
    r2, residual = fit(exact, states, 1500)
    assert r2 == pytest.approx(1.0, abs=1e-12) and residual.shape == (2, 500, 4)
    noise = rng.normal(size=states.shape) * states.std(axis=1, keepdims=True)
    r2, _ = fit(exact, states + noise, 1500)  # half the variance is noise
    assert r2 == pytest.approx(0.5, abs=0.03)


def test_two_layouts_end_to_end(run_benchmark, tmp_path):
    model = tmp_path / "model"
    train_psmnist(str(model), epochs=1, units=16, order=6, n_train=500, batch_size=100,
                  learning_rate=1e-2, verbose=0)
    proc = run_benchmark("memory_copies", "--model", model, "--out", tmp_path / "out",
                         "--layouts", "1x8,2x8", "--n-images", "8", "--steps-per-element",
                         "1", "--report")
    assert proc.returncode == 0, proc.stderr
    one, two = json.loads((tmp_path / "out" / "memory_copies.json").read_text())["rows"]
    assert (one["copies"], two["copies"], two["neurons_per_ensemble"]) == (1, 2, 16)
    assert two["runs"][0]["n_fit"] == 6 and two["runs"][0]["n_scored"] == 2
    for row in (one, two):
        assert row["affine_r2"] <= 1 and row["nrmse"] >= 0
        # one core per state variable however many copies, plus the hidden layer's
        assert row["report"]["fits_one_chip"] and row["report"]["cores"] == 6 + 1
    assert two["report"]["neurons"] == one["report"]["neurons"] + 6 * 8
    assert (tmp_path / "out" / "memory_copies.png").stat().st_size > 10_000
    assert "2x8" in proc.stdout


@pytest.mark.parametrize("argv, message", [
    (["--layouts", "2x15,3"], "--layouts"),
    (["--layouts", "0x10"], "--layouts"),
    (["--n-images", "2"], "--n-images"),
])
def test_bad_arguments_before_work(run_benchmark, tmp_path, argv, message):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    proc = run_benchmark("memory_copies", "--model", tmp_path / "model", "--out",
                         tmp_path / "x", *argv, timeout=120)
    assert proc.returncode != 0 and message in proc.stderr
    assert not (tmp_path / "x").exists()
