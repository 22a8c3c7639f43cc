import json

import numpy as np
import pytest

import nengo_lmu
from nengo_lmu.cli import main
from nengo_lmu.metrics import nrmse_std
from nengo_lmu.model_dir import load_params
from nengo_lmu.tasks import mackey_glass as mg

TINY = dict(n_series=6, n_steps=400, window=200, warmup=30, units=120, order=8, theta=30.0)


def euler_reference(n_steps, washout, seed, tau=17, substeps=10):
    """A plain step-by-step Euler integration with a delay line, as the paper's
    generator does it (one series)."""
    rng = np.random.RandomState(seed)
    hist = tau * substeps
    line = list(1.2 + 0.2 * (rng.rand(hist) - 0.5))
    out = []
    for _ in range((washout + n_steps) * substeps):
        delayed, now = line[-hist], line[-1]
        line.append(now + (0.2 * delayed / (1 + delayed**10) - 0.1 * now) / substeps)
        out.append(line[-1])
    return np.array(out[substeps - 1 :: substeps][washout:])


def test_generate_matches_euler_loop(allclose):
    x = mg.generate(1, 300, washout=50, seed=3)
    assert x.shape == (1, 300)
    assert allclose(x[0], euler_reference(300, 50, seed=3), rtol=1e-10, atol=1e-12)


def test_generate_attractor_and_seeds():
    x = mg.generate(4, 3000, seed=1)
    # the tau = 17 attractor stays within about [0.2, 1.4] and oscillates
    # irregularly over most of it
    assert x.min() > 0.2 and x.max() < 1.4
    assert np.all(x.min(axis=1) < 0.6) and np.all(x.max(axis=1) > 1.1)
    assert np.array_equal(x, mg.generate(4, 3000, seed=1))
    assert not np.allclose(x, mg.generate(4, 3000, seed=2))
    # chaos: series from different histories decorrelate
    assert abs(np.corrcoef(x[0, 1000:], x[1, 1000:])[0, 1]) < 0.5


def test_windows_tile_series():
    inputs = np.arange(2 * 50, dtype=float).reshape(2, 50)
    x, y = mg.make_windows(inputs, inputs + 1000, window=20, warmup=5)
    assert x.shape == (2 * 3, 20) and np.array_equal(y, x + 1000)
    scored = x[:3, 5:].ravel()  # the first series' windows
    assert np.array_equal(scored, np.arange(5, 50))


def test_nrmse_and_persistence():
    y = np.array([1.0, -1.0, 1.0, -1.0])
    assert nrmse_std(y, y) == 0
    assert nrmse_std(y, np.zeros(4)) == pytest.approx(1.0)
    assert nrmse_std(y, y + 0.5) == pytest.approx(0.5)
    x = np.array([[9.0, 1.0, 2.0]])
    assert mg.persistence_nrmse(x, x, warmup=1) == 0
    # RMSE over the standard deviation, not the RMS: the series has a large mean
    assert mg.persistence_nrmse(x + 10, x[:, ::-1] + 10, warmup=0) == pytest.approx(
        nrmse_std(x[:, ::-1], x))


def test_nrmse_old_name_warns():
    with pytest.warns(DeprecationWarning, match="nengo_lmu.metrics.nrmse_std"):
        old = mg.nrmse
    assert old is nrmse_std
    with pytest.raises(AttributeError):
        mg.no_such_name  # noqa: B018 (the module __getattr__ still refuses other names)


def test_memory_sequence_is_closed_form_memory_of_every_prefix(rng, allclose):
    lmu = nengo_lmu.LMU(units=4, order=6, theta=20.0, input_d=1, seed=0)
    x = rng.randn(3, 40)
    m = mg.memory_sequence(lmu, x)
    assert m.shape == (3, 40, 6)
    for t in (0, 7, 39):
        assert allclose(m[:, t], lmu.closed_form_memory(x[:, : t + 1, None]), atol=1e-10)


def test_lstm_param_count_matches_keras():
    model = mg.build_lstm(7, 3)
    assert mg.lstm_param_count(7, 3) == model.count_params()
    assert model.output_shape == (None, None, 1)  # a prediction at every step
    units = mg.match_lstm_units(18000, 4)
    assert units == 25  # 18,026 parameters; 24 and 26 are further off
    assert abs(mg.lstm_param_count(units, 4) - 18000) < abs(mg.lstm_param_count(24, 4) - 18000)


@pytest.fixture(scope="module")
def trained():
    data = mg.make_dataset(**{k: TINY[k] for k in ("n_series", "n_steps", "window",
                                                   "warmup")}, seed=0)
    config = mg.lmu_config(units=TINY["units"], order=TINY["order"], theta=TINY["theta"])
    res = mg.train_lmu(data, config, epochs=8, batch_size=32, learning_rate=3e-3, verbose=0)
    return data, config, res


def test_lmu_beats_persistence(trained):
    data, _, res = trained
    x_test, y_test = data["test"]
    persistence = mg.persistence_nrmse(x_test, y_test, data["settings"]["warmup"])
    assert persistence > 1.0  # 15 steps is a large part of an oscillation
    assert res["nrmse"] < 0.2 * persistence
    assert res["n_params"] == 120 * (8 + 1 + 1) + 1 + 120 + 1
    assert len(res["loss"]) == 8 and res["loss"][-1] < res["loss"][0]


def test_temporal_network_equals_parallel(trained, allclose):
    data, config, res = trained
    warmup = data["settings"]["warmup"]
    window = data["test"][0][0][:120]
    temporal = mg.predict_temporal(config, res["params"], window, backend="nengo")
    parallel = mg.predict_lmu(config, res["params"], window[None])[0]
    assert temporal.shape == parallel.shape == (120,)
    assert allclose(temporal, parallel, atol=2e-4, rtol=1e-3)
    # and both give what training reported for the scored steps
    assert allclose(parallel[warmup:], res["test_pred"][0][: 120 - warmup], atol=1e-5)
    # what benchmarks/mackey_glass.py reports of it
    result = {"systems": {"lmu": dict(res, config=config)}, "data": data,
              "settings": data["settings"]}
    check = mg.temporal_check(result, n_steps=120)
    assert check["n_steps"] == 120 and check["backend"] == "nengo"
    assert check["max_abs_diff"] == pytest.approx(np.max(np.abs(temporal - parallel)), rel=1e-6)
    y = data["test"][1][0][warmup:120]
    assert check["nrmse_parallel"] == pytest.approx(nrmse_std(y, parallel[warmup:]))


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(systems=("gru",)), "systems must be one of ('lmu', 'lstm')"),
        (dict(systems=()), "systems must name at least one"),
        (dict(window=600, n_steps=500), "window (600) must not exceed n_steps (500)"),
        (dict(warmup=500), "warmup must be < window (500)"),
        (dict(units=0), "units must be an integer >= 1"),
        (dict(theta=-1.0), "theta must be a positive real number"),
        (dict(neuron_type="Sigmoid"), "neuron_type must be one of"),
        (dict(lstm_units=2.5), "lstm_units must be an integer"),
        (dict(test_fraction=1.0), "test_fraction must lie in (0, 1)"),
        (dict(n_series=1), "n_series must be an integer >= 2"),
        (dict(tau=17.05), "tau * substeps must be an integer"),
        (dict(test_fraction="half"), "test_fraction must lie in (0, 1)"),
        (dict(n_seres=16), "unknown settings ['n_seres']"),
    ],
)
def test_bad_settings(settings, message, monkeypatch):
    # run_mackey_glass checks every setting before any work
    monkeypatch.setattr(mg, "make_dataset",
                        lambda *a, **k: pytest.fail("work began before the settings' check"))
    with pytest.raises(ValueError) as e:
        mg.run_mackey_glass(verbose=0, log=lambda *a: None, **settings)
    assert message in str(e.value)


def test_bad_generator_args():
    with pytest.raises(ValueError, match="tau . substeps must be an integer"):
        mg.generate(1, 10, tau=17.05)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        mg.generate(1, 0)
    with pytest.raises(ValueError, match="same shape"):
        nrmse_std(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--systems", "gru"], "invalid choice: 'gru'"),
        (["--epochs", "0"], "--epochs must be >= 1"),
        (["--n-steps", "100"], "window (500) must not exceed n_steps (100)"),
        (["--lstm-units", "x"], "--lstm-units must be an integer"),
    ],
)
def test_cli_bad_flags(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["mackey-glass", "--out", str(tmp_path / "x"), "--no-progress"] + argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cli_small_run(tmp_path, capsys):
    out = tmp_path / "mg"
    argv = ["mackey-glass", "--out", str(out), "--epochs", "1", "--no-progress",
            "--n-series", "3", "--n-steps", "150", "--window", "100", "--warmup", "20",
            "--units", "40", "--order", "6", "--theta", "20", "--lstm-layers", "1"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "test NRMSE" in printed and "persistence" in printed and "lstm" in printed
    data = json.loads((out / "mackey_glass.json").read_text())
    assert set(data) >= {"task", "settings", "systems", "persistence_nrmse", "wall_s"}
    assert set(data["systems"]) == {"lmu", "lstm"}
    for res in data["systems"].values():
        assert set(res) >= {"n_params", "nrmse", "loss", "train_s"}
        assert np.isfinite(res["nrmse"]) and res["train_s"] > 0
    lmu, lstm = data["systems"]["lmu"]["n_params"], data["systems"]["lstm"]["n_params"]
    assert lmu == 40 * (6 + 2) + 1 + 41  # W_m, W_x, bias, e_x; W_out, b_out
    assert abs(lstm - lmu) < 0.2 * lmu  # "auto" matches the parameter counts
    assert data["settings"]["horizon"] == 15 and data["settings"]["tau"] == 17
    assert (out / "mackey_glass.png").stat().st_size > 10_000
    params, meta = load_params(out / "lmu_params.npz")
    assert params["W_m"].shape == (40, 6) and meta["config"]["order"] == 6
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
