"""What the bad-input tests of the tasks and the command line share: a tiny
model directory, a read-only directory, and guards that fail a test as soon
as any work starts (loading data, building or simulating a network,
training, writing a result)."""

import os

import pytest

from nengo_lmu import validation


class WorkStarted(BaseException):
    """Raised by the guards of `forbid_work`: a check did not fire before the
    work. A `BaseException`, so that nothing on the way catches it."""


def _refuse(what):
    def refuse(*args, **kwargs):
        raise WorkStarted(f"{what} was called: the checks did not stop the run first")

    return refuse


#: ``(module, attribute)``: the first step of every task's work.
WORK = (
    ("nengo_lmu.tasks.delay", "delay_network"),
    ("nengo_lmu.tasks.delay", "make_simulator"),
    ("nengo_lmu.tasks.learning", "online_learning_network"),
    ("nengo_lmu.tasks.capacity", "white_noise"),
    ("nengo_lmu.tasks.mackey_glass", "make_dataset"),
    ("nengo_lmu.tasks.psmnist", "load_psmnist"),
    ("nengo_lmu.tasks.psmnist", "train"),
    ("nengo_lmu.io", "write_json"),
    ("nengo_lmu.io", "save_figure"),
    ("nengo_lmu.io", "save_result"),
    ("nengo_lmu.io", "save_npz"),
)


def forbid_work(monkeypatch):
    """Make every step of `WORK` raise `WorkStarted`."""
    import importlib  # pylint: disable=import-outside-toplevel

    for module, name in WORK:
        monkeypatch.setattr(importlib.import_module(module), name, _refuse(f"{module}.{name}"))


def snapshot(root):
    """Every path below ``root`` with its size and modification time."""
    out = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            stat = os.lstat(path)
            out[os.path.relpath(path, root)] = (stat.st_size, stat.st_mtime_ns)
    return out


def write_model_dir(path, units=8, order=4):
    """A small untrained psMNIST model directory as `train_psmnist` writes it
    (``config.json``, ``params.npz``), in well under a second."""
    from nengo_lmu.io import write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.lmu import build_classifier  # pylint: disable=import-outside-toplevel
    from nengo_lmu.model_dir import save_params  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.psmnist import model_config  # pylint: disable=import-outside-toplevel

    os.makedirs(path)
    config = model_config(units=units, order=order)
    write_json(os.path.join(path, "config.json"), {
        "model": config, "readout": {"scheme": "exact"}, "method": "parallel",
        "batch_size": 100, "learning_rate": 1e-3, "weight_decay": 0.0, "clipnorm": None,
        "epochs": 1, "seed": 0, "task": "psmnist", "permutation_seed": 0})
    save_params(os.path.join(path, "params.npz"),
                build_classifier(config, method="parallel", seed=0).get_params())
    return path


def read_only(monkeypatch, directory):
    """Make `nengo_lmu.validation` see ``directory`` as not writable (as
    ``chmod a-w`` does for users other than root, who may write anywhere)."""
    writable = validation._writable  # pylint: disable=protected-access
    directory = os.path.abspath(directory)
    monkeypatch.setattr(validation, "_writable",
                        lambda path: os.path.abspath(path) != directory and writable(path))


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A small model directory, shared (never written to by the tests)."""
    return write_model_dir(str(tmp_path_factory.mktemp("model") / "model"))


@pytest.fixture
def places(tmp_path, monkeypatch, model_dir):
    """The paths the bad-input rows refer to, by name: ``out`` (nothing
    there yet), ``file`` (a file), ``dir`` (an empty directory), ``ro`` (a
    directory that is not writable), ``model`` (a model directory)."""
    (tmp_path / "file").write_text("not a directory\n")
    (tmp_path / "dir").mkdir()
    (tmp_path / "ro").mkdir()
    read_only(monkeypatch, tmp_path / "ro")
    return {"out": str(tmp_path / "out"), "file": str(tmp_path / "file"),
            "dir": str(tmp_path / "dir"), "ro": str(tmp_path / "ro"), "model": model_dir,
            "tmp": str(tmp_path)}
