"""The model directory and the one set of deployment defaults."""

import inspect
import json
import os
import re
import zipfile

import numpy as np
import pytest

from nengo_lmu.io import write_json
from nengo_lmu.lmu import LMU, build_classifier
from nengo_lmu.model_dir import (
    MODEL_OPTIONAL,
    MODEL_REQUIRED,
    SPIKING_MEMORY_OPTIONAL,
    SPIKING_MEMORY_REQUIRED,
    ModelDirError,
    SpikingSettings,
    TrainingState,
    check_run_config,
    deployment_settings,
    load_checkpoint,
    load_model,
    load_params,
    read_config,
    resume,
    save_checkpoint,
    save_params,
)
from nengo_lmu.readout import ReadoutScheme, readout_settings


def test_spiking_settings_defaults_and_json():
    s = SpikingSettings()
    assert (s.max_rate, s.memory_neurons, s.memory_max_rate) == (250.0, 30, 700.0)
    assert SpikingSettings.from_json({**s.to_json(), "seed": 3}) == s
    assert SpikingSettings.from_json(json.loads(json.dumps(s.to_json()))) == s
    with pytest.raises(Exception):  # frozen
        s.max_rate = 1.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_rate=0), "max_rate must be a positive"),
    (dict(max_rate=1500), "max_rate must be below 1/dt"),
    (dict(memory_max_rate=2000.0), "memory_max_rate must be at most 1/dt"),
    (dict(memory_neurons=0), "memory_neurons must be an integer >= 1"),
    (dict(memory_synapse=float("nan")), "memory_synapse must be a positive"),
    (dict(dt=-1), "dt must be a positive"),
])
def test_spiking_settings_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SpikingSettings(**kwargs)


def test_readout_scheme():
    scheme = ReadoutScheme()
    assert (scheme.hold_steps, scheme.window) == (40, 30)
    assert list(scheme.shifts) == list(range(10, 41))
    assert ReadoutScheme.from_json({"scheme": "hold", **scheme.to_json()}) == scheme
    with pytest.raises(ValueError, match=r"window \(41\) must be at most hold_steps \(40\)"):
        ReadoutScheme(40, 41)


def test_deployment_settings():
    exact = {"readout": {"scheme": "exact"}}
    assert deployment_settings(exact, "exact", max_rate=300.0) == {"max_rate": 300.0}
    hold = {"readout": {"scheme": "hold", "hold_steps": 20, "window": 10}}
    assert deployment_settings(hold, window=5) == {"hold_steps": 20, "window": 5}
    tuned = {"memory_neurons": 20, "memory_max_rate": 600.0, "memory_synapse": 0.1,
             "hidden_synapse": 0.005, "seed": 2, "max_rate": 500.0, "dt": 0.001,
             "weights": "loihi"}
    spiking = {"readout": {"scheme": "spiking", "hold_steps": 40, "window": 30,
                           "spiking_memory": tuned}}
    settings = deployment_settings(spiking)
    assert settings["memory_neurons"] == 20 and settings["max_rate"] == 500.0
    assert settings["seed"] == 2
    with pytest.warns(UserWarning, match="fine-tuned against a spiking memory with "
                      "memory_neurons=20, not memory_neurons=30"):
        deployment_settings(spiking, memory_neurons=30)
    # the chip steps per element it was simulated at: 1 when not recorded, and
    # only for the spiking memory (the exact one runs one step per element)
    assert settings["steps_per_element"] == 1
    assert "steps_per_element" not in deployment_settings(spiking, "exact")
    at_4 = {"readout": {**spiking["readout"],
                        "spiking_memory": {**tuned, "steps_per_element": 4}}}
    assert deployment_settings(at_4)["steps_per_element"] == 4
    assert deployment_settings(at_4, steps_per_element=4)["steps_per_element"] == 4
    with pytest.warns(UserWarning, match="steps_per_element=4, not steps_per_element=2"):
        assert deployment_settings(at_4, steps_per_element=2)["steps_per_element"] == 2
    with pytest.warns(UserWarning, match="steps_per_element=1, not steps_per_element=4"):
        deployment_settings(spiking, steps_per_element=4)


def test_params_roundtrip(tmp_path):
    params = {"W_m": np.arange(6.0).reshape(2, 3), "bias": np.ones(2)}
    save_params(str(tmp_path / "a.npz"), params, epoch=1)
    loaded, meta = load_params(str(tmp_path / "a.npz"))
    assert meta == {"epoch": 1}
    assert all(np.array_equal(loaded[k], params[k]) for k in params)
    save_params(str(tmp_path / "b.npz"), params, epoch=1)  # byte for byte reproducible
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_checkpoint_commit_and_resume(tmp_path):
    params = {"W_m": np.arange(6.0).reshape(2, 3)}
    history = {"epoch": [1, 2], "loss": [1.0, 0.5], "val_accuracy": [0.5, 0.4],
               "epoch_s": [1.0, 1.0], "best": {"epoch": 1, "val_accuracy": 0.5}}
    state = TrainingState(params, {"W_m": -params["W_m"]}, [np.array(2), np.ones(3)], history)
    run = {"model": dict(MODEL, units=2), "readout": {"scheme": "exact"}, "epochs": 2}
    (tmp_path / "config.json").write_text(json.dumps(run))
    save_checkpoint(str(tmp_path), state, run["model"])
    (tmp_path / ".params.x1y2.tmp.npz").write_bytes(b"left by a kill")
    (tmp_path / "history.json").write_text("{}")  # a kill before the views were written
    resumed = resume(str(tmp_path), run, log=lambda msg: None)
    assert not (tmp_path / ".params.x1y2.tmp.npz").exists()
    assert json.loads((tmp_path / "history.json").read_text()) == history
    best, meta = load_params(str(tmp_path / "params.npz"))
    assert np.array_equal(best["W_m"], -params["W_m"]) and meta["epoch"] == 1
    assert resumed.history == history and np.array_equal(resumed.params["W_m"], params["W_m"])
    assert [np.asarray(v).tolist() for v in resumed.optimizer] == [2, [1.0, 1.0, 1.0]]
    with pytest.raises(ValueError, match=r"other settings \(epochs: 2 -> 3; model: "):
        resume(str(tmp_path), {**run, "epochs": 3, "model": dict(MODEL, units=3)})
    assert resume(str(tmp_path / "new"), run) is None


def test_load_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="is not a trained model"):
        load_model(str(tmp_path))


# --- the files refuse bad input clearly ----------------------------------------

MODEL = dict(n_classes=3, units=5, order=4, theta=10.0, input_d=1,
             hidden_neuron_type="RectifiedLinear")
#: A config.json as `nengo_lmu.training.train` writes it for psMNIST.
RUN = {"model": MODEL, "method": "parallel", "batch_size": 10, "learning_rate": 0.01,
       "weight_decay": 0.0, "clipnorm": None, "epochs": 2, "seed": 0,
       "readout": {"scheme": "exact"}, "task": "psmnist", "permutation_seed": 0,
       "data_source": "mnist.npz", "n_train": 100,
       "data_file": {"path": "/data/mnist.npz", "sha256": "ab" * 32}}
TUNED = {"memory_neurons": 20, "memory_max_rate": 600.0, "memory_synapse": 0.1,
         "hidden_synapse": 0.005, "seed": 2, "max_rate": 300.0, "dt": 0.001,
         "weights": "loihi"}
SPIKING = {"scheme": "spiking", "hold_steps": 40, "window": 30, "memory_noise": 0.0,
           "readout_draws": 1, "loss": "window", "spiking_memory": TUNED}


def _params():
    return build_classifier(MODEL, method="parallel", seed=0).get_params()


def _model_dir(path, config=None, params=None):
    """A model directory as `train` leaves it (without training)."""
    write_json(str(path / "config.json"), RUN if config is None else config)
    save_params(str(path / "params.npz"), _params() if params is None else params,
                config=MODEL, epoch=1, val_accuracy=0.5)
    return path


def _state():
    params = _params()
    history = {"epoch": [1], "loss": [1.0], "val_accuracy": [0.5], "epoch_s": [1.0],
               "best": {"epoch": 1, "val_accuracy": 0.5}}
    return TrainingState(params, params, [np.array(1), np.ones(3)], history)


def _write_npz(path, arrays, pickled=False):
    """An .npz written by hand (e.g. with an object array)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, value in arrays.items():
            with zf.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=pickled)


def _config(**changes):
    """Write RUN with ``changes`` (None removes a key) and read it back."""
    def make(path):
        config = json.loads(json.dumps(RUN))
        for key, value in changes.items():
            target, _, leaf = key.rpartition(".")
            node = config
            for part in filter(None, target.split(".")):
                node = node[part]
            if value is None:
                del node[leaf]
            else:
                node[leaf] = value
        _model_dir(path, config)
        return lambda: load_model(str(path))
    return make


def _config_text(text):
    def make(path):
        _model_dir(path)
        (path / "config.json").write_bytes(text)
        return lambda: read_config(str(path))
    return make


def _params_file(write):
    """Replace params.npz by what ``write(path)`` makes of it."""
    def make(path):
        _model_dir(path)
        target = path / "params.npz"
        write(target)
        return lambda: load_model(str(path))
    return make


def _truncate(target, keep=0.5):
    data = target.read_bytes()
    target.write_bytes(data[:int(len(data) * keep)])


def _flip_byte(target, member="param/W_m.npy"):
    """Flip a bit of a float of ``member``'s data (the value stays finite)."""
    with zipfile.ZipFile(target) as zf:
        info = zf.getinfo(member)
    data = bytearray(target.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size - 8] ^= 0x01  # the last float's lowest byte
    target.write_bytes(bytes(data))


def _replace_by_dir(target):
    os.remove(target)
    target.mkdir()


def _with_params(**changes):
    def write(target):
        params = {**_params(), **changes}
        save_params(str(target), {k: v for k, v in params.items() if v is not None})
    return _params_file(write)


def _checkpoint(write):
    """A model directory with a checkpoint that ``write(path)`` spoils."""
    def make(path):
        _model_dir(path)
        save_checkpoint(str(path), _state(), MODEL)
        write(path / "checkpoint.npz")
        return lambda: resume(str(path), RUN, log=lambda msg: None)
    return make


def _checkpoint_history(**changes):
    def write(target):
        state = _state()
        state.history.update(changes)
        arrays = dict(np.load(target, allow_pickle=False))
        arrays["meta"] = np.array(json.dumps({"config": MODEL, "history": state.history}))
        _write_npz(target, arrays)
    return _checkpoint(write)


#: One row per bad file: how to make it (a function of the model directory
#: that returns the call that reads it), the error and a regex of its message.
BAD_FILES = {
    # params.npz
    "params truncated": (_params_file(_truncate), ModelDirError,
                         r"params\.npz is truncated or corrupt: not a readable \.npz"),
    "params cut after the header": (_params_file(lambda t: _truncate(t, keep=0.05)),
                                    ModelDirError, r"params\.npz is truncated or corrupt"),
    "params bit flipped": (_params_file(_flip_byte), ModelDirError,
                           r"params\.npz is truncated or corrupt: the data of 'param/W_m\.npy' "
                           r"fail their checksum \(CRC-32\)"),
    "params a .npy": (_params_file(lambda t: np.save(open(t, "wb"), np.ones(3))),
                      ModelDirError, r"params\.npz is a single \.npy array, not a params "
                      r"file \(an \.npz archive of named arrays"),
    "params a directory": (_params_file(_replace_by_dir), ModelDirError,
                           r"params\.npz is a directory, not a file \(params file expected\)"),
    "params text": (_params_file(lambda t: t.write_text("W_m = [1, 2]\n")), ModelDirError,
                    r"params\.npz is not a params file: not an \.npz \(zip\) archive"),
    "params empty": (_params_file(lambda t: t.write_bytes(b"")), ModelDirError,
                     r"params\.npz is empty"),
    "params with objects": (_params_file(lambda t: _write_npz(
        t, {"param/W_m": np.array([{"a": 1}], dtype=object)}, pickled=True)),
        ModelDirError, r"params\.npz: array 'param/W_m' holds Python objects, which are "
                       r"never loaded \(no pickle\)"),
    "params of other names": (_params_file(lambda t: np.savez(t, W_m=np.ones(3))),
                              ModelDirError, r"params\.npz holds arrays 'W_m', not the "
                                             r"'param/NAME' arrays"),
    "params NaN": (_with_params(W_out=np.full((3, 5), np.nan)), ModelDirError,
                   r"params\.npz: array 'W_out' holds NaN or inf at 15 of 15 entries"),
    "params inf": (_with_params(bias=np.array([0, 0, np.inf, 0, 0])), ModelDirError,
                   r"array 'bias' holds NaN or inf at 1 of 5"),
    "params strings": (_with_params(bias=np.array(list("abcde"))), ModelDirError,
                       r"array 'bias' must be an array of real numbers, got dtype <U1"),
    "params lacks W_out": (_with_params(W_out=None), ModelDirError,
                           r"params\.npz: params lacks 'W_out' \(shape \(3, 5\)\), which "
                           r"this model uses \(the model of .*config\.json\)"),
    "params of another model": (_with_params(W_m=np.ones((6, 4))), ModelDirError,
                                r"params\['W_m'\] has shape \(6, 4\), but the model "
                                r"\(units=5, order=4, input_d=1, memory_d=1, n_classes=3\) "
                                r"needs \(5, 4\)"),
    "params unknown weight": (_with_params(W_in=np.ones(3)), ModelDirError,
                              r"params has unknown weight 'W_in' \(known: e_x, e_h, e_m, "
                              r"W_x, W_h, W_m, bias, W_out, b_out\)"),
    "params meta not JSON": (_params_file(lambda t: _write_npz(
        t, {**{f"param/{k}": v for k, v in _params().items()}, "meta": np.array("{oops")})),
        ModelDirError, r"params\.npz: its meta is not valid JSON"),
    # config.json
    "config a list": (_config_text(b"[1, 2]"), ModelDirError,
                      r"config\.json: it must hold a JSON object \(the run's settings\), "
                      r"got list"),
    "config invalid JSON": (_config_text(b'{"model": {"units": 5,}}'), ModelDirError,
                            r"config\.json is not valid JSON: Expecting property name "
                            r"enclosed in double quotes at line 1, column 23"),
    "config NaN": (_config_text(json.dumps({**RUN, "learning_rate": float("nan")}).encode()),
                   ModelDirError, r"config\.json is not strict JSON: NaN is not a JSON value"),
    "config empty": (_config_text(b"  \n"), ModelDirError, r"config\.json is empty"),
    "config not UTF-8": (_config_text(b'{"task": "\xff"}'), ModelDirError,
                         r"config\.json is not UTF-8 text"),
    "config a directory": (lambda path: (_model_dir(path), os.remove(path / "config.json"),
                                         (path / "config.json").mkdir(),
                                         lambda: read_config(str(path)))[-1],
                           ModelDirError, r"config\.json is a directory, not a file"),
    "config lacks model": (_config(model=None), ModelDirError,
                           r"config\.json: it lacks 'model' \(required keys: model, readout\)"),
    "config lacks readout": (_config(readout=None), ModelDirError, r"it lacks 'readout'"),
    "model lacks units": (_config(**{"model.units": None}), ModelDirError,
                          r"config\.json: model lacks 'units' \(required keys: n_classes, "
                          r"units, order, theta, input_d\)"),
    "model a list": (_config(model=[5, 4]), ModelDirError,
                     r"model must be a JSON object \(keys n_classes, units, .*got list"),
    "unknown key": (_config(lr=0.01), ModelDirError,
                    r"config\.json: unknown key 'lr' \(known keys: model, readout, method, "
                    r"batch_size, learning_rate, weight_decay, clipnorm, epochs, decay_epochs, seed, "
                    r"augment, task, "
                    r"permutation_seed, data_source, n_train, n_valid, n_synthetic, data_file, "
                    r"base_model\)"),
    "augment translate 0": (_config(augment={"translate": 0, "permutation_seed": 0}),
                            ModelDirError, r"config\.json: augment\.translate must be an "
                                           r"integer in 1\.\.27, got 0"),
    "augment unknown key": (_config(augment={"translate": 1, "permutation_seed": 0,
                                             "rotate": 10}), ModelDirError,
                            r"augment has unknown key 'rotate' \(known keys: translate, "
                            r"permutation_seed\)"),
    "unknown model key": (_config(**{"model.neurons": 5}), ModelDirError,
                          r"model has unknown key 'neurons' \(known keys: n_classes, units, "
                          r"order, theta, input_d, memory_d, hidden_neuron_type, "
                          r"hidden_to_memory, memory_to_memory, input_to_hidden, "
                          r"hidden_recurrent, discretizer, memory_kind\)"),
    "units a string": (_config(**{"model.units": "5"}), ModelDirError,
                       r"model\.units must be an integer >= 1, got '5'"),
    "units zero": (_config(**{"model.units": 0}), ModelDirError,
                   r"model\.units must be an integer >= 1, got 0"),
    "theta negative": (_config(**{"model.theta": -1}), ModelDirError,
                       r"model\.theta must be a finite real number > 0, got -1"),
    "flag not a bool": (_config(**{"model.hidden_recurrent": 1}), ModelDirError,
                        r"model\.hidden_recurrent must be true or false, got 1"),
    "unknown neuron type": (_config(**{"model.hidden_neuron_type": "ReLU"}), ModelDirError,
                            r"model\.hidden_neuron_type must be one of \('RectifiedLinear'"),
    "method unknown": (_config(method="fast"), ModelDirError,
                       r"method must be one of \('parallel', 'sequential'\), got 'fast'"),
    "learning rate a string": (_config(learning_rate="fast"), ModelDirError,
                               r"learning_rate must be a finite real number > 0, got 'fast'"),
    "seed negative": (_config(seed=-1), ModelDirError,
                      r"seed must be an integer in 0\.\.4294967295, got -1"),
    "batch_size a float": (_config(batch_size=10.0), ModelDirError,
                           r"batch_size must be an integer >= 1, got 10\.0"),
    "data_file wrong": (_config(data_file="mnist.npz"), ModelDirError,
                        r"data_file must be a JSON object \(keys path, sha256\)"),
    "readout a string": (_config(readout="exact"), ModelDirError,
                         r"readout must be a JSON object .*got str 'exact'"),
    "readout unknown scheme": (_config(readout={"scheme": "chip"}), ModelDirError,
                               r"readout\.scheme must be one of \('exact', 'hold', "
                               r"'spiking'\), got 'chip'"),
    "exact readout with hold": (_config(readout={"scheme": "exact", "window": 30}),
                                ModelDirError, r"readout has unknown key 'window' \(keys of "
                                               r"scheme 'exact': scheme\)"),
    "hold readout lacks window": (_config(readout={"scheme": "hold", "hold_steps": 40}),
                                  ModelDirError, r"readout lacks 'window' \(required keys: "
                                                 r"scheme, hold_steps, window\)"),
    "hold readout window too long": (
        _config(readout={"scheme": "hold", "hold_steps": 20, "window": 30}), ModelDirError,
        r"readout: window \(30\) must be at most hold_steps \(20\)"),
    "hold readout loss unknown": (
        _config(readout={"scheme": "hold", "hold_steps": 40, "window": 30, "loss": "mean"}),
        ModelDirError, r"readout\.loss must be one of \('draw', 'window'\), got 'mean'"),
    "spiking readout lacks its memory": (
        _config(readout={k: v for k, v in SPIKING.items() if k != "spiking_memory"}),
        ModelDirError, r"readout lacks 'spiking_memory'"),
    "spiking memory lacks seed": (
        _config(readout={**SPIKING, "spiking_memory": {k: v for k, v in TUNED.items()
                                                       if k != "seed"}}),
        ModelDirError, r"readout\.spiking_memory lacks 'seed' \(required keys: "
                       r"memory_neurons, memory_max_rate, memory_synapse, hidden_synapse, "
                       r"seed, max_rate\)"),
    "spiking memory too fast": (
        _config(readout={**SPIKING, "spiking_memory": {**TUNED, "max_rate": 2000.0}}),
        ModelDirError, r"readout\.spiking_memory: max_rate must be below 1/dt = 1000 Hz"),
    "spiking memory unknown key": (
        _config(readout={**SPIKING, "spiking_memory": {**TUNED, "neurons": 3}}),
        ModelDirError, r"readout\.spiking_memory has unknown key 'neurons'"),
    # checkpoint.npz
    "checkpoint truncated": (_checkpoint(_truncate), ModelDirError,
                             r"checkpoint\.npz is truncated or corrupt"),
    "checkpoint a .npy": (_checkpoint(lambda t: np.save(open(t, "wb"), np.ones(3))),
                          ModelDirError, r"checkpoint\.npz is a single \.npy array, "
                                         r"not a checkpoint .*save_checkpoint writes"),
    "checkpoint text": (_checkpoint(lambda t: t.write_text("epoch 1")), ModelDirError,
                        r"checkpoint\.npz is not a checkpoint: not an \.npz"),
    "checkpoint a directory": (_checkpoint(_replace_by_dir), ModelDirError,
                               r"checkpoint\.npz is a directory, not a file"),
    "checkpoint of params": (_checkpoint(lambda t: save_params(str(t), _params())),
                             ModelDirError, r"checkpoint\.npz: its meta lacks the "
                                            r"'history': not a checkpoint"),
    "checkpoint NaN loss": (_checkpoint_history(loss=[float("nan")]), ModelDirError,
                            r"checkpoint\.npz: history\.loss\[0\] must be a finite real "
                            r"number, got nan"),
    "checkpoint history short": (_checkpoint_history(val_accuracy=[]), ModelDirError,
                                 r"history must list at least one epoch, with as many"),
    "checkpoint NaN optimizer": (_checkpoint(lambda t: _write_npz(t, {
        **dict(np.load(t, allow_pickle=False)), "optimizer/0001": np.full(3, np.nan)})),
        ModelDirError, r"checkpoint\.npz: array 'optimizer/0001' holds NaN or inf at 3 of 3"),
}


@pytest.mark.parametrize("make, error, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_model_files(tmp_path, make, error, message):
    read = make(tmp_path)
    with pytest.raises(error, match=message) as info:
        read()
    assert isinstance(info.value, ValueError)  # the CLI reports it as a usage error
    text = str(info.value)
    assert str(tmp_path) in text  # names the file
    assert "pickled" not in text and "Traceback" not in text


def test_good_model_dir_loads(tmp_path):
    _model_dir(tmp_path)
    config, params = load_model(str(tmp_path))
    assert config == json.loads(json.dumps(RUN))
    assert set(params) == set(_params())
    tuned = dict(RUN, readout=SPIKING, n_valid=100, base_model="/models/base")
    _model_dir(tmp_path, tuned)
    assert load_model(str(tmp_path))[0]["readout"] == SPIKING
    # a hand-made directory: only the model and its readout
    _model_dir(tmp_path, {"model": {k: MODEL[k] for k in MODEL_REQUIRED},
                          "readout": {"scheme": "hold", "hold_steps": 40, "window": 30}})
    assert load_model(str(tmp_path))[0]["readout"]["window"] == 30
    # the unused weights may be left out (they default to zero)
    params = {k: v for k, v in _params().items() if k not in ("e_h", "e_m", "W_x", "W_h")}
    _model_dir(tmp_path, params=params)
    assert set(load_model(str(tmp_path))[1]) == set(params)
    save_checkpoint(str(tmp_path), _state(), MODEL)
    assert load_checkpoint(str(tmp_path / "checkpoint.npz")).history["epoch"] == [1]


def test_model_schema_is_the_lmu_arguments():
    """``model``'s keys are LMUClassifier's n_classes and the LMU arguments a
    config records (build_classifier sets the others)."""
    lmu_args = set(inspect.signature(LMU.__init__).parameters) - {"self"}
    set_by_build = {"params", "closed_form", "label", "seed", "add_to_container"}
    assert set(MODEL_REQUIRED) | set(MODEL_OPTIONAL) == lmu_args - set_by_build | {"n_classes"}
    assert not set(MODEL_OPTIONAL) & set(MODEL_REQUIRED)


def test_readout_schema_is_what_readout_settings_records():
    for scheme in ("exact", "hold", "spiking"):
        recorded = readout_settings(scheme, spiking_memory=TUNED if scheme == "spiking"
                                    else None)
        config = {"model": MODEL, "readout": recorded}
        assert check_run_config(config) is config
        if scheme != "exact":  # every key it records is known, the deployed ones required
            for key in ("memory_noise", "readout_draws", "loss"):
                check_run_config({"model": MODEL, "readout": {
                    k: v for k, v in recorded.items() if k != key}})
    # what finetune_psmnist records: SpikingSettings, seed, weights and, when
    # not the defaults, the chip steps per element, dtype, from_rest and simulation
    assert set(SpikingSettings().to_json()) | {"seed", "weights", "steps_per_element", "dtype",
                                               "from_rest", "simulation"} == (
        set(SPIKING_MEMORY_REQUIRED) | set(SPIKING_MEMORY_OPTIONAL))
    # what deployment_settings reads (memory_copies, recorded only when > 1, optional)
    assert set(SpikingSettings.MEMORY_KEYS) - {"memory_copies"} | {"seed", "max_rate"} == set(
        SPIKING_MEMORY_REQUIRED)
    assert "memory_copies" in SPIKING_MEMORY_OPTIONAL


def test_missing_files_are_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "p.npz"))):
        load_params(str(tmp_path / "p.npz"))
    with pytest.raises(FileNotFoundError, match="no config.json at"):
        read_config(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(str(tmp_path / "checkpoint.npz"))


def test_memory_kind_in_config():
    """config.json's model.memory_kind: one of the memory kinds, optional."""
    from nengo_lmu.model_dir import check_model_config  # pylint: disable=import-outside-toplevel

    model = dict(n_classes=10, units=4, order=8, theta=784.0, input_d=1)
    check_model_config(dict(model, memory_kind="oscillators"))
    check_model_config(model)  # absent: the Legendre memory
    with pytest.raises(ValueError, match=r"model\.memory_kind must be one of.*'fourier'"):
        check_model_config(dict(model, memory_kind="fourier"))
