"""Tests of benchmarks/memory_ceiling.py: the rate ceiling of a memory basis."""

import importlib.util
import json

import numpy as np
import pytest
import scipy.special

from tests.benchmarks.conftest import BENCHMARKS


def _module():
    spec = importlib.util.spec_from_file_location("memory_ceiling",
                                                  BENCHMARKS / "memory_ceiling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chain_impulse_response_is_negative_binomial():
    """Stage k, t steps after an impulse: (1 - c)^k c^(t - k + 1) C(t, k - 1)."""
    order, alpha, n = 5, 0.02, 40  # 1 - c = 5 / 15.68
    H = _module().chain_impulse_response(order, alpha, n)
    c = 1 - order / (alpha * 784)
    t, k = np.arange(n)[:, None], np.arange(1, order + 1)[None, :]
    expected = np.where(t >= k - 1, (1 - c) ** k * c ** np.maximum(t - k + 1, 0)
                        * scipy.special.comb(t, k - 1), 0.0)
    assert np.allclose(H, expected, rtol=1e-12, atol=1e-15)


def test_one_basis_end_to_end(run_benchmark, tmp_path):
    proc = run_benchmark("memory_ceiling", "--bases", "legendre-16", "--seeds", "0",
                         "--epochs", "1", "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads((tmp_path / "memory_ceiling.json").read_text())["rows"]
    assert row["basis"] == "legendre-16" and row["n_test"] == 10_000
    # 81 % after 15 epochs (README); one epoch already reads far above chance
    assert 0.6 < row["test_mean"] < 0.9
    assert (tmp_path / "memory_ceiling.png").stat().st_size > 10_000
    assert "legendre-16" in proc.stdout


@pytest.mark.parametrize("bad", ["chain-900", "oscillators-7", "legendre-16@2", "lstm-8"])
def test_bad_basis_before_work(run_benchmark, tmp_path, bad):
    proc = run_benchmark("memory_ceiling", "--bases", f"legendre-16,{bad}",
                         "--out", tmp_path / "x", timeout=120)
    assert proc.returncode != 0 and "--bases" in proc.stderr and bad in proc.stderr
    assert not (tmp_path / "x").exists()
