"""The model directory and the one set of deployment defaults."""

import json

import numpy as np
import pytest

from nengo_lmu.model_dir import (
    SpikingSettings,
    deployment_settings,
    load_model,
    load_params,
    resume,
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


def test_params_roundtrip_and_resume(tmp_path):
    params = {"W_m": np.arange(6.0).reshape(2, 3), "bias": np.ones(2)}
    save_params(str(tmp_path / "checkpoint.npz"), params, history={"epoch": [1]})
    loaded, meta = load_params(str(tmp_path / "checkpoint.npz"))
    assert meta == {"history": {"epoch": [1]}}
    assert all(np.array_equal(loaded[k], params[k]) for k in params)
    run = {"model": {"units": 2}, "readout": {"scheme": "exact"}}
    (tmp_path / "config.json").write_text(json.dumps(run))
    p, history = resume(str(tmp_path), run, ("model", "readout"), log=lambda msg: None)
    assert history == {"epoch": [1]} and np.array_equal(p["W_m"], params["W_m"])
    with pytest.raises(ValueError, match="holds a checkpoint of a different run"):
        resume(str(tmp_path), {**run, "model": {"units": 3}}, ("model",))
    assert resume(str(tmp_path / "new"), run, ("model",))[0] is None


def test_load_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="is not a trained model"):
        load_model(str(tmp_path))
