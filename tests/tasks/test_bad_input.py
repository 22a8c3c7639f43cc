"""Bad input at the Python API of the tasks: every row raises an error that
names the parameter and the value, before any work (the guards of
`tests.tasks.fakes.forbid_work` fail a row that loads data, builds,
simulates, trains or writes) and with nothing written.

``"{out}"`` (nothing there), ``"{file}"``, ``"{dir}"``, ``"{ro}"`` (not
writable) and ``"{model}"`` (a small model directory) in a row's arguments
are the paths of `tests.tasks.fakes.places`.
"""

import importlib
import re

import numpy as np
import pytest

from nengo_lmu.validation import InsufficientMemoryError
from tests.tasks.fakes import forbid_work, model_dir, places, snapshot  # noqa: F401 (fixtures)

NAN, INF = float("nan"), float("inf")
BIG = r"would need about [0-9.]+ [KMGTP]iB, more than the [0-9.]+ [KMGTP]iB of memory of " \
      r"this machine: lower {}"
SEED = r"{} must be an integer in 0\.\.4294967295( or None)?, got {}"

DELAY = "nengo_lmu.tasks.delay:run_delay"
DELAY_REPORT = "nengo_lmu.tasks.delay:delay_report"
LEARNING = "nengo_lmu.tasks.learning:online_learning"
CAPACITY = "nengo_lmu.tasks.capacity:run_capacity"
MACKEY_GLASS = "nengo_lmu.tasks.mackey_glass:run_mackey_glass"
TRAIN = "nengo_lmu.tasks.psmnist:train_psmnist"
FINETUNE = "nengo_lmu.tasks.finetune:finetune_psmnist"
EVALUATE = "nengo_lmu.tasks.psmnist:evaluate_psmnist"
REPORT = "nengo_lmu.tasks.psmnist:loihi_report"

# (function, keyword arguments, exception, regex of the message)
ROWS = [
    # --- run_delay ----------------------------------------------------------
    (DELAY, dict(rms=1e300), ValueError,
     r"rms must be a finite real number > 0 and <= 1e\+06, got 1e\+300"),
    (DELAY, dict(rms=NAN), ValueError, "rms must be a finite real number > 0.*got nan"),
    (DELAY, dict(rms=0), ValueError, "rms must be a finite real number > 0"),
    (DELAY, dict(theta=NAN), ValueError, "theta must be a finite real number > 0, got nan"),
    (DELAY, dict(theta=-1), ValueError, "theta must be a finite real number > 0, got -1"),
    (DELAY, dict(sim_time=INF), ValueError, "sim_time must be a finite real number > 0, got inf"),
    (DELAY, dict(sim_time=0.5), ValueError, r"sim_time must exceed theta \(1 s\), got 0.5"),
    (DELAY, dict(sim_time=1.0004), ValueError, "by at least one step of dt"),
    (DELAY, dict(freq=INF), ValueError, "freq must be a finite real number > 0, got inf"),
    (DELAY, dict(freq=0.01), ValueError, r"freq must lie between 1 / sim_time \(0.1 Hz\)"),
    (DELAY, dict(freq=501), ValueError, r"the Nyquist frequency 0.5 / dt \(500 Hz\), got 501"),
    (DELAY, dict(dt=0), ValueError, "dt must be a finite real number > 0, got 0"),
    (DELAY, dict(order=0), ValueError, "order must be an integer >= 1, got 0"),
    (DELAY, dict(order=2.5), ValueError, "order must be an integer >= 1, got 2.5"),
    (DELAY, dict(n_neurons=-1), ValueError, "n_neurons must be an integer >= 0, got -1"),
    (DELAY, dict(seed=-1), ValueError, SEED.format("seed", "-1")),
    (DELAY, dict(seed=2**32), ValueError, SEED.format("seed", "4294967296")),
    (DELAY, dict(seed=1.5), ValueError, SEED.format("seed", "1.5")),
    (DELAY, dict(r=[0.5, 1.5]), ValueError, r"r must be a non-empty list of relative delays"),
    (DELAY, dict(r=[]), ValueError, r"r must be a non-empty list of relative delays"),
    (DELAY, dict(probe_synapse=NAN), ValueError, "probe_synapse must be a finite real number"),
    (DELAY, dict(state="voltage"), ValueError, "state must be one of"),
    (DELAY, dict(backend="gpu"), ValueError, "backend"),
    (DELAY, dict(order=100000), InsufficientMemoryError, BIG.format("n_neurons or order")),
    (DELAY, dict(order=100000, n_neurons=0), InsufficientMemoryError, BIG.format("order")),
    (DELAY, dict(sim_time=1e9), InsufficientMemoryError, BIG.format(r"sim_time \(or raise dt\)")),
    # --- delay_report -------------------------------------------------------
    (DELAY_REPORT, dict(order=0), ValueError, "order must be an integer >= 1"),
    (DELAY_REPORT, dict(n_neurons=0), ValueError, "n_neurons must be an integer >= 1"),
    (DELAY_REPORT, dict(theta=NAN), ValueError, "theta must be a finite real number"),
    (DELAY_REPORT, dict(seed=2**32), ValueError, SEED.format("seed", "4294967296")),
    (DELAY_REPORT, dict(order=1000), InsufficientMemoryError, BIG.format("n_neurons or order")),
    # --- online_learning ----------------------------------------------------
    (LEARNING, dict(learning_rate=NAN), ValueError, "learning_rate must be a positive"),
    (LEARNING, dict(learning_rate=-1e-4), ValueError, "learning_rate must be a positive"),
    (LEARNING, dict(rms=INF), ValueError, "rms must be a finite real number"),
    (LEARNING, dict(r=NAN), ValueError, r"r must be a relative delay in \[0, 1\]"),
    (LEARNING, dict(seed=2**32), ValueError, SEED.format("seed", "4294967296")),
    (LEARNING, dict(sim_time=0.5), ValueError, "must exceed the warm-up theta"),
    (LEARNING, dict(sim_time=1e9), InsufficientMemoryError, BIG.format("sim_time")),
    (LEARNING, dict(order=1000), InsufficientMemoryError, BIG.format("n_neurons or order")),
    # --- run_capacity -------------------------------------------------------
    (CAPACITY, dict(T=[10**9]), InsufficientMemoryError, BIG.format("T or n_test")),
    (CAPACITY, dict(systems=["lstm"], lstm_T=[10**6]), InsufficientMemoryError,
     BIG.format("lstm_T or lstm_batch_size")),
    (CAPACITY, dict(seed=2**32), ValueError, SEED.format("seed", "4294967296")),
    (CAPACITY, dict(lstm_time_budget=NAN), ValueError, "lstm_time_budget must be a positive"),
    (CAPACITY, dict(freq=INF), ValueError, "freq must be a positive"),
    (CAPACITY, dict(T=[]), ValueError, "T must list at least one T"),
    # --- run_mackey_glass ---------------------------------------------------
    (MACKEY_GLASS, dict(n_series=10**6), InsufficientMemoryError,
     BIG.format("n_series, n_steps or order")),
    (MACKEY_GLASS, dict(systems=["lmu"], units=10**8), InsufficientMemoryError,
     BIG.format("units")),
    (MACKEY_GLASS, dict(seed=-1), ValueError, SEED.format("seed", "-1")),
    (MACKEY_GLASS, dict(learning_rate=NAN), ValueError, "learning_rate must be a positive"),
    (MACKEY_GLASS, dict(theta=INF), ValueError, "theta must be a positive"),
    # --- train_psmnist ------------------------------------------------------
    (TRAIN, dict(out="{file}"), NotADirectoryError, r"out: '{file}' is a file, not a directory"),
    (TRAIN, dict(out="{file}/model"), NotADirectoryError,
     r"out: '{file}' is not a directory, so the directory '{file}/model' cannot be created"),
    (TRAIN, dict(out="{ro}"), PermissionError, r"out: the directory '{ro}' is not writable"),
    (TRAIN, dict(out="{out}", learning_rate=NAN), ValueError, "learning_rate"),
    (TRAIN, dict(out="{out}", learning_rate=-1e-3), ValueError, "learning_rate"),
    (TRAIN, dict(out="{out}", weight_decay=NAN), ValueError, "weight_decay"),
    (TRAIN, dict(out="{out}", clipnorm=-1), ValueError, "clipnorm"),
    (TRAIN, dict(out="{out}", epochs=0), ValueError, "epochs"),
    (TRAIN, dict(out="{out}", batch_size=0), ValueError, "batch_size"),
    (TRAIN, dict(out="{out}", seed=2**32), ValueError, "seed"),
    (TRAIN, dict(out="{out}", method="bptt"), ValueError, "method must be one of"),
    (TRAIN, dict(out="{out}", permutation_seed=2**32), ValueError,
     SEED.format("permutation_seed", "4294967296")),
    (TRAIN, dict(out="{out}", units=0), ValueError, "units must be an integer >= 1"),
    (TRAIN, dict(out="{out}", n_train=0), ValueError, "n_train must be an integer >= 1"),
    (TRAIN, dict(out="{out}", neuron_type="Sigmoid"), ValueError, "neuron_type must be one of"),
    (TRAIN, dict(out="{out}", hidden_recurrent=True), ValueError,
     "hidden_recurrent need.* method='sequential'"),
    (TRAIN, dict(out="{out}", readout="hold", input_to_hidden=True), ValueError,
     "readout='hold' does not support input_to_hidden"),
    (TRAIN, dict(out="{out}", readout="hold", method="sequential"), ValueError,
     "readout='hold' needs method='parallel'"),
    (TRAIN, dict(out="{out}", readout="hold", memory_noise=NAN), ValueError, "memory_noise"),
    (TRAIN, dict(out="{out}", input_to_memory=True), ValueError, "unknown LMU option"),
    (TRAIN, dict(out="{out}", units=10**8), ValueError, "lower units"),
    (TRAIN, dict(out="{out}", translate=28), ValueError,
     r"translate must be 'auto' or an integer in 0\.\.27 \(pixels\), got 28"),
    (TRAIN, dict(out="{out}", translate=-1), ValueError, r"translate must be .* got -1"),
    (TRAIN, dict(out="{out}", translate=1.0), ValueError, r"translate must be .* got 1\.0"),
    (TRAIN, dict(out="{out}", translate=True), ValueError, r"translate must be .* got True"),
    (TRAIN, dict(out="{out}", translate="shift"), ValueError,
     r"translate must be .* got 'shift'"),
    (TRAIN, dict(out="{out}", translate=1, readout="hold"), ValueError,
     r"translate=1 needs readout='exact' \(got 'hold'\)"),
    # --- finetune_psmnist ---------------------------------------------------
    (FINETUNE, dict(model_dir="{file}", out="{out}"), NotADirectoryError,
     r"model_dir: '{file}' is a file, not a model directory"),
    (FINETUNE, dict(model_dir="{out}", out="{dir}"), FileNotFoundError,
     r"model_dir: the model directory '{out}' does not exist"),
    (FINETUNE, dict(model_dir="{model}", out="{file}"), NotADirectoryError,
     r"out: '{file}' is a file"),
    (FINETUNE, dict(model_dir="{model}", out="{model}"), ValueError,
     "out must be a new model directory"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", learning_rate=NAN), ValueError,
     "learning_rate"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", epochs=0), ValueError, "epochs"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", seed=2**32), ValueError, "seed"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", memory_neurons=0), ValueError,
     "memory_neurons must be an integer >= 1"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", memory_copies=0), ValueError,
     "memory_copies must be an integer >= 1"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", max_rate=NAN), ValueError,
     "max_rate must be a positive"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", memory_max_rate=5000), ValueError,
     "memory_max_rate must be at most 1/dt"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", n_valid=0), ValueError,
     "n_valid must be an integer >= 1"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", weights="int4"), ValueError,
     "weights must be one of"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", readout_loss="mean"), ValueError,
     "readout_loss must be one of"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", window=50), ValueError, "window"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", steps_per_element=0), ValueError,
     "steps_per_element must be an integer >= 1, got 0"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", steps_per_element=1.5), ValueError,
     "steps_per_element must be an integer >= 1, got 1.5"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", memory_dtype="float16"), ValueError,
     "memory_dtype must be one of"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", from_rest="yes"), ValueError,
     "from_rest must be True or False, got 'yes'"),
    (FINETUNE, dict(model_dir="{model}", out="{out}", n_train=10**8), InsufficientMemoryError,
     BIG.format("n_train or n_valid")),
    # --- evaluate_psmnist ---------------------------------------------------
    (EVALUATE, dict(model_dir="{file}"), NotADirectoryError,
     r"model_dir: '{file}' is a file, not a model directory"),
    (EVALUATE, dict(model_dir="{out}"), FileNotFoundError, "does not exist"),
    (EVALUATE, dict(model_dir="{model}", n_test=0), ValueError, "n_test must be an integer >= 1"),
    (EVALUATE, dict(model_dir="{model}", batch_size=0), ValueError, "batch_size"),
    (EVALUATE, dict(model_dir="{model}", memory="on-chip"), ValueError, "memory must be one of"),
    (EVALUATE, dict(model_dir="{model}", backend="loihi", max_rate=INF), ValueError,
     "max_rate must be a positive"),
    (EVALUATE, dict(model_dir="{model}", backend="loihi", seed=2**32), ValueError,
     SEED.format("seed", "4294967296")),
    (EVALUATE, dict(model_dir="{model}", backend="loihi", neurons=10), ValueError,
     r"unknown spiking setting\(s\) \['neurons'\]"),
    (EVALUATE, dict(model_dir="{model}", backend="loihi", memory="spiking",
                    memory_neurons=10**6), InsufficientMemoryError, BIG.format("memory_neurons")),
    (EVALUATE, dict(model_dir="{model}", max_rate=100), ValueError,
     "apply to backend='loihi' only"),
    # --- loihi_report -------------------------------------------------------
    (REPORT, dict(model_dir="{file}"), NotADirectoryError, "is a file, not a model directory"),
    (REPORT, dict(model_dir="{model}", memory="on-chip"), ValueError, "memory must be one of"),
    (REPORT, dict(model_dir="{model}", seed=-1), ValueError, SEED.format("seed", "-1")),
    (REPORT, dict(model_dir="{model}", hold_steps=0), ValueError, "hold_steps"),
    (REPORT, dict(model_dir="{model}", memory="spiking", memory_neurons=10**6),
     InsufficientMemoryError, BIG.format("memory_neurons")),
    # the copies share each ensemble: their weights count as copies * neurons
    (REPORT, dict(model_dir="{model}", memory="spiking", memory_neurons=1000,
                  memory_copies=1000), InsufficientMemoryError, BIG.format("memory_neurons")),
    (REPORT, dict(model_dir="{model}", memory="spiking", memory_copies=1.5), ValueError,
     "memory_copies must be an integer >= 1"),
]


#: No progress output from the functions that have some.
QUIET = {DELAY: dict(progress_bar=False), LEARNING: dict(progress_bar=False),
         EVALUATE: dict(progress_bar=False), CAPACITY: dict(verbose=0),
         MACKEY_GLASS: dict(verbose=0), TRAIN: dict(verbose=0), FINETUNE: dict(verbose=0)}


def _function(name):
    module, attr = name.split(":")
    return getattr(importlib.import_module(module), attr)


def _fill(value, places):
    return value.format(**places) if isinstance(value, str) else value


def _id(row):
    name, kwargs = row[0].split(":")[1], row[1]
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


@pytest.mark.parametrize("function, kwargs, error, pattern", ROWS, ids=map(_id, ROWS))
def test_bad_input_raises_before_any_work(function, kwargs, error, pattern, places,
                                          monkeypatch):
    kwargs = dict(QUIET.get(function, {}), **{k: _fill(v, places) for k, v in kwargs.items()})
    pattern = _fill(pattern, {k: re.escape(v) for k, v in places.items()})
    before = snapshot(places["tmp"]), snapshot(places["model"])
    forbid_work(monkeypatch)
    with pytest.raises(error) as e:
        _function(function)(**kwargs)
    assert re.search(pattern, str(e.value)), str(e.value)
    assert (snapshot(places["tmp"]), snapshot(places["model"])) == before  # nothing written


def test_insufficient_memory_is_both_errors():
    """A run too big for the machine is a `MemoryError` (what it is) and a
    `ValueError` (what a caller that checks settings catches)."""
    assert issubclass(InsufficientMemoryError, MemoryError)
    assert issubclass(InsufficientMemoryError, ValueError)


def test_valid_settings_pass_the_checks():
    """The defaults (and the small runs of the tests and notebooks) pass the
    checks that the rows above fail."""
    from nengo_lmu.tasks import capacity, delay, learning, mackey_glass  # pylint: disable=C0415

    delay.check_delay()
    delay.check_delay(order=4, theta=0.5, sim_time=3, n_neurons=50)
    delay.check_delay(n_neurons=0, sim_time=12, rms=1e6)
    learning.check_online_learning(**learning.DEFAULTS)
    capacity.check_settings()
    mackey_glass.check_settings()
    mackey_glass.check_settings(**mackey_glass.SMALL)


def test_input_to_hidden_with_the_parallel_method(monkeypatch, tmp_path):
    """The parallel path trains ``input_to_hidden`` (its one-step network
    reads ``x_T`` into the hidden layer): `train_psmnist` gets as far as
    loading the data."""
    from nengo_lmu.tasks import psmnist  # pylint: disable=import-outside-toplevel

    class Loaded(BaseException):
        pass

    def load(*args, **kwargs):
        raise Loaded

    monkeypatch.setattr(psmnist, "load_psmnist", load)
    with pytest.raises(Loaded):
        psmnist.train_psmnist(str(tmp_path / "m"), method="parallel", input_to_hidden=True)
    assert not (tmp_path / "m").exists()


def test_parallel_network_reads_the_last_input():
    """What makes ``input_to_hidden`` trainable by the parallel path: its
    one-step network, fed ``m_T`` and ``x_T``, gives the logits of the
    temporal network at the last step (same weights, here random ones; both
    run by nengo)."""
    import nengo  # pylint: disable=import-outside-toplevel

    from nengo_lmu.lmu import build_classifier  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.psmnist import model_config  # pylint: disable=import-outside-toplevel
    from nengo_lmu.training import predict  # pylint: disable=import-outside-toplevel

    config = dict(model_config(units=6, order=4, input_to_hidden=True), theta=8.0)
    rng = np.random.RandomState(0)
    params = build_classifier(config, method="parallel", seed=0).get_params()
    params["W_x"] = rng.normal(size=params["W_x"].shape)
    params["bias"] = rng.normal(size=params["bias"].shape)
    x = rng.uniform(0, 1, size=(2, 8, 1))
    temporal = predict(build_classifier(config, params=params, method="sequential"), x,
                       method="sequential", backend="nengo")
    parallel = []
    for seq in x:
        clf = build_classifier(config, params=params, method="parallel")
        clf.lmu.memory_input.output = clf.lmu.closed_form_memory(seq[None])[0]
        clf.input.output = seq[-1]
        with nengo.Simulator(clf, progress_bar=False) as sim:
            sim.run_steps(1)
            parallel.append(sim.data[clf.probe][-1])
    assert np.allclose(temporal, parallel, atol=1e-6)
