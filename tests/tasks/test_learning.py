"""Online learning with PES on a spiking LMU memory, on nengo and the Loihi emulator."""

import nengo
import numpy as np
import pytest

from nengo_lmu.tasks import learning
from nengo_lmu.tasks.learning import (
    online_learning,
    online_learning_network,
    plot_online_learning,
    score_learning,
)

#: A short run that still learns: 6 s of learning and testing after the warm-up.
SHORT = dict(sim_time=6.5, seed=0)


def _check_learned(res):
    # the criterion of the issue: last 20 % error at most half of the first 20 %
    assert res["ratio"] <= 0.5, res["ratio"]
    assert res["rmse_last"] <= 0.5 * res["rmse_first"]
    # and the learned readout is a real decoder, not a scaled-down echo
    assert res["nrmse_last"] < 0.4
    assert res["first_window"][0] == pytest.approx(res["theta"], abs=2 * res["dt"])
    assert res["last_window"][0] >= res["learn_stop"] - res["dt"]  # frozen weights


def test_online_learning_nengo():
    res = online_learning("nengo", progress_bar=False, **SHORT)
    _check_learned(res)
    assert res["target_name"] == "nengo"
    n = len(res["t"])
    assert all(len(res[k]) == n for k in ("output", "target", "error", "input"))
    assert res["n_neurons_total"] == res["order"] * res["n_neurons"]
    fig = plot_online_learning(res)
    assert len(fig.axes) == 3
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    plt.close(fig)


def test_online_learning_loihi_emulator():
    pytest.importorskip("nengo_loihi")
    res = online_learning("loihi", progress_bar=False, **SHORT)
    assert res["target_name"] in ("sim", "loihi")
    _check_learned(res)


def test_learning_is_gated(seed):
    """Decoders stay zero during warm-up, change while learning, freeze in the test."""
    net = online_learning_network(
        sim_time=1.5, theta=0.5, test_fraction=0.5, learning_rate=1e-3, seed=seed
    )
    assert (net.learn_start, net.learn_stop) == pytest.approx((0.5, 1.0))
    with net:
        p_w = nengo.Probe(net.readouts[0], "weights", synapse=None)
        p_err = nengo.Probe(net.error, synapse=None)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(1.5)
    t, w, err = sim.trange(), sim.data[p_w][:, 0, :], sim.data[p_err][:, 0]
    warmup, learn, test = t < 0.5, (t > 0.55) & (t < 0.99), t > 1.01
    assert np.all(w[warmup] == 0) and np.all(err[warmup] == 0)
    assert np.all(err[test] == 0)
    assert np.any(np.abs(err[learn]) > 0.01)
    assert np.any(w[test][0] != 0)  # learned something
    assert np.all(w[test] == w[test][0])  # frozen
    # the error fed to PES is output - target
    out, tgt = sim.data[net.p_output][:, 0], sim.data[net.p_target][:, 0]
    assert np.allclose(err[learn], (out - tgt)[learn])


def test_target_is_delayed_input():
    net = online_learning_network(sim_time=1.2, theta=0.4, r=0.5, seed=1)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(1.2)
    u, target = sim.data[net.p_input][:, 0], sim.data[net.p_target][:, 0]
    delay = int(round(0.5 * 0.4 / sim.dt))
    assert np.all(target[:delay] == 0)
    assert np.array_equal(target[delay:], u[:-delay])


def test_score_learning_known_errors(allclose):
    dt = 0.001
    t = dt * np.arange(1, 5001)
    target = np.sin(2 * np.pi * t)
    offset = np.where(t < 3, 1.0, 0.25)
    res = score_learning(t, target + offset, target, start=1.0, fraction=0.2,
                         probe_synapse=None, dt=dt)
    # scored period 1..5 s: first 20 % is 1..1.8 s, last 20 % 4.2..5 s
    assert allclose(res["first_window"], [1.0, 1.8], atol=dt)
    assert allclose(res["last_window"], [4.201, 5.0], atol=dt)
    assert allclose([res["rmse_first"], res["rmse_last"], res["ratio"]], [1.0, 0.25, 0.25])
    rms_first = np.sqrt(np.mean(target[(t > 0.9995) & (t < 1.7995)] ** 2))  # 800 steps
    assert allclose(res["nrmse_first"], 1.0 / rms_first)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(backend="dl"), r"backend must be one of \('nengo', 'loihi'\)"),
        (dict(learning_rate=0), "learning_rate must be a positive"),
        (dict(learning_rate=-1e-4), "learning_rate must be a positive"),
        (dict(sim_time=0.5), r"sim_time \(0.5 s\) must exceed the warm-up theta"),
        (dict(sim_time=-1), "sim_time must be a positive"),
        (dict(r=1.5), r"r must be a relative delay in \[0, 1\]"),
        (dict(order=0), "order must be an integer >= 1"),
        (dict(n_neurons=2.5), "n_neurons must be an integer >= 1"),
        (dict(test_fraction=1.0), r"test_fraction must be a number in \[0, 1\)"),
        (dict(score_fraction=0.7), r"score_fraction must lie in \(0, 0.5\]"),
        (dict(dt=0.2), r"dt \(0.2\) must be smaller than synapse"),
        (dict(freq=np.nan), "freq must be a positive"),
        (dict(seed=-1), r"seed must be an integer in 0\.\.4294967295, got -1"),
        (dict(learning_rte=1e-3), r"unknown parameter\(s\) \['learning_rte'\]"),
    ],
)
def test_bad_input_raises_before_simulating(monkeypatch, kwargs, match):
    def no_simulator(*args, **kw):
        raise AssertionError("a simulator was built")

    monkeypatch.setattr(learning, "make_simulator", no_simulator)
    monkeypatch.setattr(learning, "online_learning_network", no_simulator)
    with pytest.raises(ValueError, match=match):
        online_learning(progress_bar=False, **kwargs)


def test_large_input_warns_before_simulating(monkeypatch):
    class Built(Exception):
        pass

    def stop(*args, **kw):
        raise Built

    monkeypatch.setattr(learning, "make_simulator", stop)
    with pytest.warns(UserWarning, match=r"rms = 0.8 > 0.5"), pytest.raises(Built):
        online_learning("loihi", progress_bar=False, rms=0.8)


def test_cli_online_learning(tmp_path, capsys):
    import json  # pylint: disable=import-outside-toplevel

    from nengo_lmu.cli import main  # pylint: disable=import-outside-toplevel

    out = tmp_path / "ol"
    assert main(["online-learning", "--sim-time", "1.5", "--out", str(out),
                 "--no-progress"]) == 0
    assert "ratio" in capsys.readouterr().out
    saved = json.loads((out / "online_learning.json").read_text())["results"]["nengo"]
    assert saved["sim_time"] == 1.5 and saved["backend"] == "nengo"
    assert saved["ratio"] == pytest.approx(saved["rmse_last"] / saved["rmse_first"])
    assert (out / "online_learning.png").stat().st_size > 0

    with pytest.raises(SystemExit) as err:
        main(["online-learning", "--r", "2", "--out", str(tmp_path / "bad")])
    assert err.value.code == 2
    assert "r must be a relative delay in [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
