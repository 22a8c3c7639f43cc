"""The model directory and the one set of deployment defaults."""

import json

import numpy as np
import pytest

from nengo_lmu.model_dir import (
    SpikingSettings,
    TrainingState,
    deployment_settings,
    load_model,
    load_params,
    resume,
    save_checkpoint,
    save_params,
)
from nengo_lmu.readout import ReadoutScheme


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
    run = {"model": {"units": 2}, "readout": {"scheme": "exact"}, "epochs": 2}
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
        resume(str(tmp_path), {**run, "epochs": 3, "model": {"units": 3}})
    assert resume(str(tmp_path / "new"), run) is None


def test_load_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="is not a trained model"):
        load_model(str(tmp_path))
