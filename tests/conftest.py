import importlib.util
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "benchmarks")


@pytest.fixture(scope="session")
def load_benchmark():
    """Import a script of ``benchmarks/`` (not a package) by name, e.g. ``"psmnist"``."""

    def load(name):
        path = os.path.join(BENCHMARKS, f"{name}.py")
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
