"""Benchmark scripts are run as subprocesses, with tiny arguments."""

import os
import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="session")
def run_benchmark():
    """Run ``benchmarks/<name>.py`` with ``args``; returns the `subprocess.CompletedProcess`
    (``stdout`` and ``stderr`` as text)."""

    def run(name, *args, timeout=600):
        env = dict(os.environ, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2")
        return subprocess.run([sys.executable, str(BENCHMARKS / f"{name}.py"), *map(str, args)],
                              capture_output=True, text=True, env=env, timeout=timeout,
                              check=False)

    return run
