import json

import numpy as np
import pytest

from nengo_lmu.cli import main
from nengo_lmu.tasks import capacity
from nengo_lmu.tasks.baselines import lstm_param_count


def test_delays_data_and_targets():
    assert capacity.capacity_delays(100).tolist() == [0, 25, 50, 75, 100]
    assert capacity.capacity_delays(25).tolist() == [0, 6, 12, 19, 25]  # ties to even
    x = capacity.white_noise(40, 3, seed=[1, 2])
    assert x.shape == (3, 100)
    assert np.allclose(np.abs(x).max(axis=1), 1)
    assert np.all(np.abs(x[:, 0]) < 0.2)  # y0=0: starts near zero
    assert np.array_equal(x, capacity.white_noise(40, 3, seed=[1, 2]))
    assert not np.allclose(x, capacity.white_noise(40, 3, seed=[1, 3]))
    # band-limited to 10 Hz: no power above 12 Hz (dt = 1/40 s, 2.5 s long)
    spectrum = np.abs(np.fft.rfft(x, axis=1)) ** 2
    freqs = np.fft.rfftfreq(100, d=1 / 40)
    assert spectrum[:, freqs > 12].sum() < 1e-20 * spectrum.sum()
    y = capacity.delayed_targets(x, [0, 7])
    assert np.array_equal(y[:, :, 0], x)
    assert np.array_equal(y[:, 7:, 1], x[:, :-7]) and not y[:, :7, 1].any()


def test_closed_form_equals_stepping(allclose):
    T, order = 30, 20
    x = capacity.white_noise(T, 2, freq=5, seed=0)
    memory, r = capacity.lmu_memory(T, order=order)
    Ad, Bd = memory.discretize(1.0)
    states = np.zeros(x.shape + (order,))
    m = np.zeros((len(x), order))
    for k in range(x.shape[1]):  # m[k] = Ad m[k-1] + Bd x[k]
        m = m @ Ad.T + x[:, k : k + 1] * Bd[:, 0]
        states[:, k] = m
    H = memory.impulse_response(1.0, x.shape[1])
    y = capacity.filter_sequences(x, H @ memory.readout(r))
    assert allclose(y, states @ memory.readout(r), atol=1e-12)
    steps, strided = capacity.strided_states(memory, x, 7)
    assert steps.tolist() == list(range(6, x.shape[1], 7))
    assert allclose(strided, states[:, steps], atol=1e-12)


def test_lmu0_accuracy_and_readout_alignment():
    T = 100
    x = capacity.white_noise(T, 4, seed=5)
    delays = capacity.capacity_delays(T)
    target = capacity.delayed_targets(x, delays)
    mse = {}
    for readout in capacity.READOUTS:
        memory, r = capacity.lmu_memory(T, readout=readout)
        y = capacity.filter_sequences(x, memory.impulse_response(1.0, x.shape[1])
                                      @ memory.readout(r))
        mse[readout] = capacity.delay_mse(y, target, T)
    # measured 6e-6 .. 4e-5 (midpoint); the paper's LSTM at T = 100 is > 1e-4
    assert np.all(mse["midpoint"] < 1e-4)
    assert np.all(mse["midpoint"][1:4] < 2e-5)
    # reading the boundary between two held samples costs ~ (x' / 2)^2 per step
    assert np.all(mse["edge"][1:4] > 30 * mse["midpoint"][1:4])


def test_fitted_readout_not_worse_on_training_data():
    T = 100
    x = capacity.white_noise(T, 6, seed=1)
    delays = capacity.capacity_delays(T)
    memory, r = capacity.lmu_memory(T)
    H = memory.impulse_response(1.0, x.shape[1])
    fitted = capacity.fit_readout(memory, r, x, delays, T, H=H)
    target = capacity.delayed_targets(x, delays)
    train_fitted = capacity.delay_mse(capacity.filter_sequences(x, H @ fitted), target, T)
    train_analytic = capacity.delay_mse(
        capacity.filter_sequences(x, H @ memory.readout(r)), target, T)
    assert np.all(train_fitted <= train_analytic)
    x_test = capacity.white_noise(T, 2, seed=2)
    test_fitted = capacity.delay_mse(capacity.filter_sequences(x_test, H @ fitted),
                                     capacity.delayed_targets(x_test, delays), T)
    assert np.all(test_fitted < 1e-6)  # band-limited input: far below LMU-0


def test_lstm_tiny_run():
    T = 25
    x = capacity.white_noise(T, 4, seed=0)
    delays = capacity.capacity_delays(T)
    model, history = capacity.train_lstm(x, capacity.delayed_targets(x, delays), T,
                                         epochs=20, units=8, batch_size=4,
                                         learning_rate=1e-2, verbose=0)
    assert history["epochs"] == 20 and not history["stopped_by_time_budget"]
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    assert np.all(np.diff(history["loss"]) < 0)
    y = model.predict(x[:, :, None].astype(np.float32), verbose=0)
    assert y.shape == (4, x.shape[1], 5)


def test_lstm_time_budget_stops_after_an_epoch():
    T = 25
    x = capacity.white_noise(T, 2, seed=0)
    target = capacity.delayed_targets(x, capacity.capacity_delays(T))
    _, history = capacity.train_lstm(x, target, T, epochs=50, units=4, batch_size=2,
                                     time_budget=1e-6, verbose=0)
    # the budget is checked after each epoch: the first one ends past it
    assert history["epochs"] == 1 and history["stopped_by_time_budget"]
    _, history = capacity.train_lstm(x, target, T, epochs=1, units=4, batch_size=2,
                                     time_budget=1e-6, verbose=0)
    assert history["epochs"] == 1 and not history["stopped_by_time_budget"]  # nothing left


def test_lstm_is_the_baselines_lstm():
    model = capacity.build_lstm(units=6, n_outputs=5)
    assert model.count_params() == lstm_param_count(6, 1, n_outputs=5)
    assert model.output_shape == (None, None, 5)
    assert model.loss == "mse"


def test_ratio():
    result = {"mse": {"lstm": {"100": [1e-2, 2e-2]}, "lmu0": {"1000": [1e-9, 1e-8],
                                                              "100": [1.0, 1.0]}},
              "mse_from_1.5T": {"lstm": {"100": [1e-2, 1e-2]},
                                "lmu0": {"1000": [1e-9, 1e-9], "100": [1.0, 1.0]}}}
    ratio = capacity.capacity_ratio(result)
    assert ratio["lmu0_T"] == 1000 and ratio["delay_factor"] == 10
    assert np.allclose(ratio["per_delay"], [1e7, 2e6])
    assert np.isclose(ratio["mean"], 1.5e-2 / 5.5e-9)
    assert np.allclose(ratio["per_delay_from_1.5T"], [1e7, 1e7])
    assert capacity.capacity_ratio({"mse": {"lmu0": {"100": [1.0]}}}) is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(T=[2]), "T must be an integer >= 4"),
        (dict(T=[]), "T must list at least one T"),
        (dict(systems=["gru"]), "systems must be one of ('lmu0', 'lmu', 'lstm')"),
        (dict(systems=[]), "systems must name at least one"),
        (dict(T=[10]), "freq (10 Hz) must be below the Nyquist"),
        (dict(readout="middle"), "readout must be one of ('midpoint', 'edge')"),
        (dict(period=1.0), "period must be >= length"),
        (dict(n_train=0), "n_train must be an integer >= 1"),
        (dict(lstm_epochs=1.5), "lstm_epochs must be an integer"),
        (dict(lstm_time_budget=-1), "lstm_time_budget must be a positive"),
        (dict(units=3), "unknown settings ['units']"),
    ],
)
def test_bad_settings(kwargs, message, monkeypatch):
    # run_capacity checks every setting before any work
    monkeypatch.setattr(capacity, "white_noise",
                        lambda *a, **k: pytest.fail("work began before the settings' check"))
    with pytest.raises(ValueError) as e:
        capacity.run_capacity(**kwargs)
    assert message in str(e.value)
    with pytest.raises(ValueError) as e:
        capacity.check_settings(**kwargs)
    assert message in str(e.value)


def test_cli_small_run(tmp_path, capsys):
    out = tmp_path / "cap"
    assert main(["capacity", "--T", "100", "400", "--systems", "lmu0", "lmu",
                 "--n-train", "2", "--n-test", "2", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "LMU-0" in printed and "ratio: needs lstm" in printed
    data = json.loads((out / "capacity.json").read_text())
    assert data["delays"] == {"100": [0, 25, 50, 75, 100], "400": [0, 100, 200, 300, 400]}
    assert set(data["mse"]) == {"lmu0", "lmu"}
    assert set(data["mse"]["lmu0"]) == {"100", "400"}
    assert all(len(v) == 5 for v in data["mse"]["lmu"].values())
    assert all(max(v) < 1e-3 for v in data["mse"]["lmu0"].values())
    assert set(data["wall_s"]["lmu0"]) == {"100", "400"}
    assert data["ratio"] is None
    assert data["settings"]["order"] == 100 and data["settings"]["readout"] == "midpoint"
    assert (out / "capacity.png").stat().st_size > 10_000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_cli_bad_flags(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["capacity", "--systems", "gru", "--out", str(tmp_path / "x")])
    assert e.value.code == 2 and "invalid choice: 'gru'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # a ValueError before any work
        main(["capacity", "--T", "10", "--systems", "lmu0", "--out", str(tmp_path / "x")])
    assert e.value.code == 2 and "must be below the Nyquist" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
