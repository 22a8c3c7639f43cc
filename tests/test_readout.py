"""Deployment-aware training: the ``"hold"`` readout of the spiking memory."""

import json

import numpy as np
import pytest

from nengo_lmu.lmu import LMU
from nengo_lmu.readout import (
    READOUT_LOSSES,
    READOUTS,
    feedforward_logits,
    hold_memory,
    hold_shifts,
    readout_settings,
    stream_logits,
    stream_memories,
    stream_memory,
)
from nengo_lmu.training import _window_crossentropy, train


def _lmu(order=6, theta=40.0):
    return LMU(units=8, order=order, theta=theta, input_d=1, closed_form=True, seed=0)


def _step(lmu, stream):
    """The exact discrete memory stepped over a 1-D input stream (final state)."""
    Ad, Bd = lmu.system.discretize(1.0, method=lmu.discretizer)
    m = np.zeros(lmu.order)
    for u in stream:
        m = Ad @ m + Bd[:, 0] * (lmu.params["e_x"][0, 0] * u)
    return m


def test_stream_memory_equals_stepping(rng, allclose):
    lmu = _lmu()
    T, hold = 40, 9
    x = rng.uniform(-1, 1, (5, T, 1))
    x_prev = rng.uniform(-1, 1, (5, T, 1))
    shifts = np.array([0, 4, 9, 4, 2])
    m = stream_memory(lmu, x, shifts, x_prev=x_prev, hold_steps=hold)
    for i in range(len(x)):
        stream = np.concatenate([x_prev[i, :, 0], np.zeros(hold), x[i, :, 0],
                                 np.zeros(shifts[i])])
        assert allclose(m[i], _step(lmu, stream), atol=1e-12)
    # no shift, nothing before: the closed-form final memory
    assert allclose(stream_memory(lmu, x, 0), lmu.closed_form_memory(x), atol=1e-12)


def test_stream_memories_back_to_back(rng, allclose):
    """Every shift of the readout window equals the whole stream stepped."""
    lmu = _lmu()
    T, hold, window = 40, 8, 5
    x = rng.uniform(-1, 1, (3, T, 1))
    memories = stream_memories(lmu, x, hold, window)
    shifts = hold_shifts(hold, window)
    assert memories.shape == (window + 1, 3, lmu.order)
    assert list(shifts) == list(range(hold - window, hold + 1))
    # the three sequences back to back, each followed by hold zeros
    full = np.concatenate([np.concatenate([xi[:, 0], np.zeros(hold)]) for xi in x])
    for i in range(3):
        for j, s in enumerate(shifts):
            # after sequence i (its predecessors included, from rest) and s zeros
            end = i * (T + hold) + T + s
            # older sequences than the previous one are not in the closed form;
            # with theta = T their contribution is small but not zero, so
            # compare against the stream without them
            start = max(0, (i - 1) * (T + hold))
            assert allclose(memories[j, i], _step(lmu, full[start:end]), atol=1e-6)


def test_hold_memory_augmentation(rng, allclose):
    lmu = _lmu()
    x = rng.uniform(-1, 1, (6, 40, 1))
    m = hold_memory(lmu, x, hold_steps=8, window=5, draws=3, rng=np.random.RandomState(1))
    assert m.shape == (18, lmu.order)
    # every row is the memory of its sequence after some other sequence and a shift
    for row in range(18):
        i = row % 6
        candidates = [
            stream_memory(lmu, x[i:i + 1], s, x_prev=x[k:k + 1], hold_steps=8)[0]
            for k in range(6) if k != i for s in hold_shifts(8, 5)
        ]
        assert min(np.abs(c - m[row]).max() for c in candidates) < 1e-12
    noisy = hold_memory(lmu, x, 8, 5, draws=3, memory_noise=0.1,
                        rng=np.random.RandomState(1))
    scale = np.abs(lmu.closed_form_memory(x)).max(axis=0)
    rel = np.std((noisy - m) / scale)
    assert 0.07 < rel < 0.13


def test_hold_memory_all_shifts(rng, allclose):
    lmu = _lmu()
    x = rng.uniform(-1, 1, (5, 40, 1))
    m = hold_memory(lmu, x, hold_steps=8, window=5, draws=2, rng=np.random.RandomState(1),
                    all_shifts=True)
    assert m.shape == (10, 6, lmu.order)
    # each row: one other sequence before it, read at every shift in order
    for row in range(10):
        i = row % 5
        errors = [max(np.abs(stream_memory(lmu, x[i:i + 1], s, x_prev=x[k:k + 1],
                                           hold_steps=8)[0] - m[row, j]).max()
                      for j, s in enumerate(hold_shifts(8, 5)))
                  for k in range(5) if k != i]
        assert min(errors) < 1e-12


def test_window_crossentropy(rng, allclose):
    """The window loss is the cross-entropy of the logits averaged over the steps."""
    logits = rng.normal(size=(4, 6, 3)).astype(np.float32)
    y = rng.randint(3, size=4)
    mean = logits.mean(axis=1)
    expected = np.log(np.exp(mean).sum(axis=1)) - mean[np.arange(4), y]
    targets = np.repeat(y[:, None, None], 6, axis=1)
    assert allclose(_window_crossentropy(targets, logits).numpy(), expected, rtol=1e-5)


def test_train_window_loss(tmp_path, rng):
    """The hold readout trains with the window loss too, and records it."""
    T = 20
    y = np.tile([0, 1], 50)
    x = np.zeros((100, T, 1))
    x[:, T // 2:, 0] = np.where(y == 1, 1.0, -1.0)[:, None]
    x += 0.1 * rng.normal(size=x.shape)
    config = dict(n_classes=2, units=16, order=4, theta=float(T), input_d=1)
    out = tmp_path / "model"
    # 15 epochs: seeds 0-3 all reach 100 % by epoch 9 (some sit at 50 % until 7)
    history = train(config, (x, y), (x, y), str(out), epochs=15, batch_size=50,
                    learning_rate=1e-2, verbose=0, log=lambda *a: None, readout="hold",
                    hold_steps=6, window=4, readout_draws=1, readout_loss="window")
    with open(out / "config.json", encoding="utf-8") as f:
        assert json.load(f)["readout"]["loss"] == "window"
    assert history["best"]["val_accuracy"] > 0.9
    assert history["loss"][-1] < history["loss"][0]


def test_stream_logits_average(rng, allclose):
    config = {"hidden_neuron_type": "RectifiedLinear"}
    params = {"W_m": rng.normal(size=(7, 4)), "bias": rng.normal(size=7),
              "W_out": rng.normal(size=(3, 7)), "b_out": rng.normal(size=3)}
    memories = rng.normal(size=(5, 10, 4))
    act = np.maximum(memories @ params["W_m"].T + params["bias"], 0).mean(axis=0)
    assert allclose(stream_logits(config, params, memories),
                    act @ params["W_out"].T + params["b_out"])
    assert allclose(feedforward_logits(config, params, memories[0]),
                    np.maximum(memories[0] @ params["W_m"].T + params["bias"], 0)
                    @ params["W_out"].T + params["b_out"])


@pytest.mark.parametrize("kwargs, match", [
    ({"readout": "on-chip"}, "readout must be one of"),
    ({"readout": "spiking"}, "spiking_memory .* goes with readout=.spiking."),
    ({"readout": "hold", "window": 50}, "window .* at most hold_steps"),
    ({"readout": "hold", "hold_steps": 0}, "hold_steps"),
    ({"readout": "hold", "memory_noise": -0.1}, "memory_noise"),
    ({"readout": "hold", "readout_draws": 0}, "readout_draws"),
    ({"readout": "hold", "method": "sequential"}, "needs method='parallel'"),
])
def test_train_bad_readout_raises(tmp_path, kwargs, match):
    config = dict(n_classes=2, units=4, order=3, theta=10.0, input_d=1)
    x, y = np.zeros((10, 10, 1)), np.zeros(10, dtype=int)
    out = tmp_path / "model"
    with pytest.raises(ValueError, match=match):
        train(config, (x, y), (x, y), str(out), batch_size=10, **kwargs)
    assert not out.exists()  # nothing written before the check


def test_readout_settings():
    assert readout_settings("exact") == {"scheme": "exact"}
    assert readout_settings("hold", 20, 10, 0.05, 1) == {
        "scheme": "hold", "hold_steps": 20, "window": 10, "memory_noise": 0.05,
        "readout_draws": 1, "loss": "draw"}
    assert readout_settings("spiking", 20, 10, readout_draws=3,
                            spiking_memory={"seed": 2}) == {
        "scheme": "spiking", "hold_steps": 20, "window": 10, "memory_noise": 0.0,
        "readout_draws": 3, "loss": "draw", "spiking_memory": {"seed": 2}}
    assert readout_settings("spiking", 20, 10, readout_draws=1, spiking_memory={"seed": 2},
                            readout_loss="window")["loss"] == "window"
    with pytest.raises(ValueError, match="readout_draws must be 1 with readout='spiking' "
                       "and readout_loss='window'"):
        readout_settings("spiking", readout_draws=2, spiking_memory={}, readout_loss="window")
    with pytest.raises(ValueError, match="readout_loss must be one of"):
        readout_settings("hold", readout_loss="mean")
    assert READOUT_LOSSES == ("draw", "window")
    with pytest.raises(ValueError, match="memory_noise applies to readout='hold' only"):
        readout_settings("spiking", memory_noise=0.1, spiking_memory={"seed": 2})
    assert READOUTS == ("exact", "hold", "spiking")


@pytest.mark.parametrize("kwargs, match", [
    # every value is checked, whichever the scheme (exact ignores them otherwise)
    (dict(readout="exact", readout_draws=0), r"readout_draws must be an integer >= 1, got 0"),
    (dict(readout="exact", hold_steps=-1), r"hold_steps must be an integer >= 1, got -1"),
    (dict(readout="exact", window=50), r"window \(50\) must be at most hold_steps \(40\)"),
    (dict(readout="exact", readout_loss="mean"), r"readout_loss must be one of"),
    (dict(readout="exact", memory_noise=0.1),
     r"memory_noise applies to readout='hold' only, got memory_noise=0\.1 with "
     r"readout='exact'"),
    (dict(readout="exact", spiking_memory={"seed": 1}), r"spiking_memory .* goes with"),
    (dict(readout="hold", memory_noise=float("inf")), r"memory_noise must be a finite number"),
    (dict(readout="hold", readout_draws=1.0), r"readout_draws must be an integer >= 1, got 1\.0"),
    (dict(readout="spiking", spiking_memory=[("seed", 1)]),
     r"spiking_memory must be a dict of the memory's settings, got list"),
    (dict(readout=None), r"readout must be one of \('exact', 'hold', 'spiking'\), got None"),
])
def test_readout_settings_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        readout_settings(**kwargs)


def test_train_hold_readout_recorded(tmp_path, rng):
    """A tiny separable task trains under the hold readout; config records it."""
    T = 20
    y = np.tile([0, 1], 50)
    x = np.zeros((100, T, 1))
    x[:, T // 2:, 0] = np.where(y == 1, 1.0, -1.0)[:, None]  # sign of the second half
    x += 0.1 * rng.normal(size=x.shape)
    config = dict(n_classes=2, units=16, order=4, theta=float(T), input_d=1)
    out = tmp_path / "model"
    history = train(config, (x, y), (x, y), str(out), epochs=8, batch_size=50,
                    learning_rate=1e-2, verbose=0, log=lambda *a: None,
                    readout="hold", hold_steps=6, window=4, memory_noise=0.01)
    with open(out / "config.json", encoding="utf-8") as f:
        run_config = json.load(f)
    assert run_config["readout"] == {"scheme": "hold", "hold_steps": 6, "window": 4,
                                     "memory_noise": 0.01, "readout_draws": 2, "loss": "draw"}
    assert history["best"]["val_accuracy"] > 0.9
    # resuming with another readout is refused
    with pytest.raises(ValueError, match="readout"):
        train(config, (x, y), (x, y), str(out), epochs=9, batch_size=50, verbose=0,
              log=lambda *a: None, readout="hold", hold_steps=7, window=4)


def test_spiking_rate_logits_stream(rng, allclose):
    """The spiking classifier's stream-scheme rate logits, stepped by hand."""
    from nengo_lmu.spiking import SpikingLMUClassifier
    from nengo_lmu.lmu import build_classifier

    T, hold, window = 30, 6, 4
    config = dict(n_classes=3, units=10, order=4, theta=float(T), input_d=1,
                  hidden_neuron_type="RectifiedLinear")
    params = build_classifier(config, method="parallel").get_params()
    x = rng.uniform(-1, 1, (3, T, 1))
    net = SpikingLMUClassifier(config, params, x, memory="spiking", hold_steps=hold,
                               window=window, memory_neurons=5)
    lmu = net._rate.lmu  # pylint: disable=protected-access
    full = np.concatenate([np.concatenate([xi[:, 0], np.zeros(hold)]) for xi in x])
    expected = []
    for i in range(3):
        start = max(0, (i - 1) * (T + hold))
        ends = [i * (T + hold) + T + s for s in hold_shifts(hold, window)]
        m = np.array([_step(lmu, full[start:end]) for end in ends])
        expected.append(feedforward_logits(config, net.params, m).mean(axis=0))
    assert allclose(net.rate_logits(x, scheme="stream"), expected, atol=1e-5)
    assert allclose(net.rate_logits(x), feedforward_logits(config, net.params,
                                                           lmu.closed_form_memory(x)))
    with pytest.raises(ValueError, match="scheme must be one of"):
        net.rate_logits(x, scheme="hold")
