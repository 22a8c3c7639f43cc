"""Mackey-Glass prediction: an LMU trained with NengoDL against an LSTM.

The task of the LMU paper (Voelker, Kajić & Eliasmith 2019, section 4.3):
predict the chaotic Mackey-Glass series (``tau = 17``, by the paper's
generator `generate`) ``horizon = 15`` samples ahead. Full size
(`DEFAULTS`): 128 series of 5,000 samples, a quarter of them for testing,
standardised with the training statistics and cut into windows of 500
samples that overlap by a warm-up of 50 (`make_dataset`, `make_windows`;
the series and windows are `nengo_lmu.tasks.mackey_glass_data`'s,
importable from here too). Two models of about 18k parameters: one
`nengo_lmu.LMU` cell (order 16, theta 50 steps, 950 ReLU units, the
current input into the hidden layer; `lmu_config`) and a linear readout,
trained by the parallel path in NengoDL (`train_lmu`), and 4 stacked Keras
LSTMs of matched size (`train_lstm`). The score is the test
NRMSE, ``RMSE / std(target)`` over the steps after the warm-up
(`nengo_lmu.metrics.nrmse_std`); `persistence_nrmse` gives the scale.
`run_mackey_glass` runs it all.

What follows the paper and where it deviates, and the measured results:
``docs/mackey_glass.md``.
"""

import time

import numpy as np
import scipy.signal

from nengo_lmu._deprecated import moved_attributes
from nengo_lmu.metrics import nrmse_std
from nengo_lmu.tasks.baselines import (  # noqa: F401 (lstm_param_count: part of this API)
    build_lstm,
    lstm_param_count,
    match_lstm_units,
)
from nengo_lmu.tasks.mackey_glass_data import (  # noqa: F401 (generate, make_windows: too)
    DATA_DEFAULTS,
    SUBSTEPS,
    generate,
    make_dataset,
    make_windows,
    persistence_nrmse,
)
from nengo_lmu.validation import (
    check_choice,
    check_integer,
    check_memory,
    check_positive,
    check_seed,
    is_finite_real,
)

#: The systems `run_mackey_glass` can train.
SYSTEMS = ("lmu", "lstm")

#: Full-size defaults (``benchmarks/mackey_glass.py``); the CLI uses the same.
#: The data's (`DATA_DEFAULTS`) come first.
DEFAULTS = dict(
    **DATA_DEFAULTS, units=950, order=16, theta=50.0,
    neuron_type="RectifiedLinear", lstm_layers=4, lstm_units="auto", epochs=10,
    batch_size=256, lstm_batch_size=32, learning_rate=2e-3, seed=0,
)

#: A small run (seconds of training on two cores), the base of the notebook's
#: experiment and of ``benchmarks/mackey_glass.py --quick``.
SMALL = dict(n_series=16, n_steps=1000, window=200, warmup=50, units=200, order=16,
             epochs=3)


# --- the LMU ---------------------------------------------------------------


def lmu_config(units=DEFAULTS["units"], order=DEFAULTS["order"], theta=DEFAULTS["theta"],
               neuron_type=DEFAULTS["neuron_type"]):
    """The `LMUClassifier` config (one output) of the Mackey-Glass LMU.

    One `LMU` cell whose hidden layer sees the memory and the current input
    (``input_to_hidden``), then a linear readout: the config format of
    `nengo_lmu.lmu.build_classifier`.
    """
    from nengo_lmu.neurons import NEURON_TYPES  # pylint: disable=import-outside-toplevel

    check_choice("neuron_type", neuron_type, sorted(NEURON_TYPES))
    return dict(n_classes=1, units=check_integer("units", units),
                order=check_integer("order", order), theta=check_positive("theta", theta),
                input_d=1, input_to_hidden=True, hidden_neuron_type=neuron_type)


def memory_sequence(lmu, x):
    """The LMU memory ``m_t`` at every step of every window, in closed form.

    ``m_t = sum_{k <= t} H[t - k] e_x x_k``, the memory of the temporal
    network started from rest at the window's first step, computed as a
    causal convolution (`scipy.signal.fftconvolve`) with the impulse response
    ``H`` of the discretized Legendre system
    (`LegendreDelay.impulse_response`).

    Parameters
    ----------
    lmu : `nengo_lmu.LMU`
        With ``input_d = memory_d = 1``.
    x : ndarray, shape ``(n, T)``

    Returns
    -------
    ndarray, shape ``(n, T, order)``
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n_windows, n_steps), got {x.shape}")
    if lmu.input_d != 1 or lmu.memory_d != 1:
        raise ValueError("memory_sequence needs an LMU with input_d = memory_d = 1")
    H = lmu.system.impulse_response(1.0, x.shape[1], method=lmu.discretizer)
    u = x * float(lmu.params["e_x"][0, 0])
    return scipy.signal.fftconvolve(u[:, :, None], H[None], axes=1)[:, : x.shape[1]]


def _one_step_network(clf):
    """NengoDL settings for the closed-form (one-step) network: those of
    training (`nengo_lmu.training.configure_nengo_dl`: dense transforms as
    plain matrix products, some 20 times faster here than NengoDL's default
    plan) and no TensorFlow loop over the single step."""
    import nengo_dl  # pylint: disable=import-outside-toplevel

    from nengo_lmu.training import configure_nengo_dl  # pylint: disable=import-outside-toplevel

    configure_nengo_dl(clf)
    with clf:
        nengo_dl.configure_settings(use_loop=False)
    return clf


def _flat_samples(clf, x, warmup):
    """NengoDL feeds for the scored steps of windows ``x``, one sample each."""
    m = memory_sequence(clf.lmu, x)[:, warmup:]
    return {clf.lmu.memory_input: m.reshape(-1, 1, m.shape[-1]).astype(np.float32),
            clf.input: x[:, warmup:].reshape(-1, 1, 1).astype(np.float32)}


def _predict_flat(sim, clf, feeds, batch_size):
    n = len(feeds[clf.input])
    pad = (-n) % batch_size
    if pad:
        feeds = {k: np.concatenate([v, np.repeat(v[-1:], pad, axis=0)]) for k, v in feeds.items()}
    out = sim.predict(feeds, n_steps=1, verbose=0)[clf.probe][:, -1, 0]
    return out[:n]


def _adam(learning_rate, total_steps):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    schedule = tf.keras.optimizers.schedules.CosineDecay(learning_rate, max(1, total_steps))
    return tf.keras.optimizers.Adam(schedule)


def train_lmu(data, config=None, epochs=DEFAULTS["epochs"], batch_size=DEFAULTS["batch_size"],
              learning_rate=DEFAULTS["learning_rate"], seed=0, verbose=1):
    """Train the Mackey-Glass LMU with NengoDL by the parallel path.

    The memory of every step of every training window is computed once in
    closed form (`memory_sequence`); NengoDL then fits the hidden layer and
    the readout of the one-step network (``closed_form=True``) to the target
    of each scored step, an independent sample, with Adam on the mean
    squared error (learning rate cosine-decayed to 0 over the epochs).
    NengoDL needs whole minibatches, so a random remainder of fewer than
    ``batch_size`` samples is left out of training (``batch_size`` is
    reduced to the number of samples if that is smaller).

    Parameters
    ----------
    data : dict
        From `make_dataset`.
    config : dict, optional
        From `lmu_config` (default: its defaults).
    verbose : int
        Keras progress (0: none, 1: bar).

    Returns
    -------
    dict
        ``params`` (the weights, which build the temporal network with
        `nengo_lmu.lmu.build_classifier`), ``config``, ``n_params``,
        ``nrmse`` (test), ``loss`` (training MSE per epoch), ``train_s``
        (time in ``fit``), ``test_pred`` (predictions of the test windows'
        scored steps, ``(n_windows, window - warmup)``).
    """
    import nengo_dl  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from nengo_lmu.lmu import build_classifier  # pylint: disable=import-outside-toplevel

    config = lmu_config() if config is None else config
    epochs = check_integer("epochs", epochs)
    batch_size = check_integer("batch_size", batch_size)
    learning_rate = check_positive("learning_rate", learning_rate)
    warmup = data["settings"]["warmup"]
    (x_train, y_train), (x_test, y_test) = data["train"], data["test"]

    tf.random.set_seed(seed)
    clf = _one_step_network(build_classifier(config, method="parallel", seed=seed))
    feeds = _flat_samples(clf, x_train, warmup)
    targets = y_train[:, warmup:].reshape(-1, 1, 1).astype(np.float32)
    # NengoDL needs whole minibatches: drop a random remainder of the samples
    batch_size = min(batch_size, len(targets))
    rng = np.random.RandomState(seed)
    keep = np.sort(rng.permutation(len(targets))[: len(targets) - len(targets) % batch_size])
    feeds = {k: v[keep] for k, v in feeds.items()}
    targets = targets[keep]
    test_feeds = _flat_samples(clf, x_test, warmup)
    with nengo_dl.Simulator(clf, minibatch_size=batch_size, progress_bar=False,
                            seed=seed) as sim:
        sim.compile(optimizer=_adam(learning_rate, epochs * len(targets) // batch_size),
                    loss={clf.probe: tf.losses.MeanSquaredError()})
        start = time.perf_counter()
        fit = sim.fit(feeds, {clf.probe: targets}, epochs=epochs, n_steps=1,
                      shuffle=True, verbose=verbose)
        train_s = time.perf_counter() - start
        params = clf.get_params(sim)
        pred = _predict_flat(sim, clf, test_feeds, batch_size)
    test_pred = pred.reshape(len(x_test), -1)
    return {
        "params": params,
        "config": config,
        "n_params": int(clf.n_trainable),
        "nrmse": nrmse_std(y_test[:, warmup:], test_pred),
        "loss": [float(v) for v in fit.history["loss"]],
        "train_s": train_s,
        "test_pred": test_pred,
    }


def predict_temporal(config, params, x, backend="nengo"):
    """Run the *temporal* LMU network over one window, one step per sample.

    Builds the `LMUClassifier` of ``config`` with the trained ``params`` and
    its memory as a Nengo network (``closed_form=False``) and runs it from
    rest through ``x`` in ``backend`` (see `nengo_lmu.make_simulator`). With
    the same weights this gives what the parallel path computes, step by
    step.

    Parameters
    ----------
    x : ndarray, shape ``(T,)``

    Returns
    -------
    ndarray, shape ``(T,)``
        The prediction at every step.
    """
    import nengo  # pylint: disable=import-outside-toplevel

    from nengo_lmu.backends import make_simulator  # pylint: disable=import-outside-toplevel
    from nengo_lmu.lmu import build_classifier  # pylint: disable=import-outside-toplevel

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be one window, shape (n_steps,), got {x.shape}")
    clf = build_classifier(config, params=params, method="sequential")
    dt = 0.001
    clf.input.output = nengo.processes.PresentInput(x[:, None], presentation_time=dt)
    with make_simulator(clf, backend, dt=dt, progress_bar=False) as sim:
        sim.run_steps(len(x))
        return np.array(sim.data[clf.probe][:, 0])


def predict_lmu(config, params, x, batch_size=DEFAULTS["batch_size"]):
    """Predictions of the trained LMU at every step of windows ``x``, by the
    parallel (closed-form) network in NengoDL; shape ``x.shape``."""
    import nengo_dl  # pylint: disable=import-outside-toplevel

    from nengo_lmu.lmu import build_classifier  # pylint: disable=import-outside-toplevel

    x = np.asarray(x, dtype=np.float64)
    clf = _one_step_network(build_classifier(config, params=params, method="parallel"))
    feeds = _flat_samples(clf, x, 0)
    batch_size = min(batch_size, len(feeds[clf.input]))
    with nengo_dl.Simulator(clf, minibatch_size=batch_size, progress_bar=False) as sim:
        return _predict_flat(sim, clf, feeds, batch_size).reshape(x.shape)


# --- the LSTM --------------------------------------------------------------


def train_lstm(data, units=25, layers=DEFAULTS["lstm_layers"], epochs=DEFAULTS["epochs"],
               batch_size=DEFAULTS["lstm_batch_size"], learning_rate=DEFAULTS["learning_rate"],
               seed=0, verbose=1):
    """Train the stacked LSTM on the same windows with Keras ``fit``.

    Adam on the mean squared error of the scored steps (the first ``warmup``
    steps of each window get sample weight 0), learning rate cosine-decayed
    over the epochs.

    Returns
    -------
    dict
        ``n_params``, ``nrmse`` (test), ``loss`` (training MSE per epoch),
        ``train_s``, ``test_pred``, ``units``, ``layers``, ``model`` (the
        Keras model).
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    units = check_integer("lstm_units", units)
    layers = check_integer("lstm_layers", layers)
    epochs = check_integer("epochs", epochs)
    batch_size = check_integer("lstm_batch_size", batch_size)
    learning_rate = check_positive("learning_rate", learning_rate)
    warmup = data["settings"]["warmup"]
    (x_train, y_train), (x_test, y_test) = data["train"], data["test"]
    tf.keras.utils.set_random_seed(seed)
    model = build_lstm(units, layers)
    steps = int(np.ceil(len(x_train) / batch_size)) * epochs
    model.compile(optimizer=_adam(learning_rate, steps), loss="mse")
    weights = np.ones(x_train.shape, dtype=np.float32)
    weights[:, :warmup] = 0.0
    start = time.perf_counter()
    fit = model.fit(x_train[..., None].astype(np.float32), y_train[..., None].astype(np.float32),
                    sample_weight=weights, batch_size=batch_size, epochs=epochs,
                    shuffle=True, verbose=verbose)
    train_s = time.perf_counter() - start
    test_pred = model.predict(x_test[..., None].astype(np.float32), batch_size=batch_size,
                              verbose=0)[:, warmup:, 0]
    return {
        "n_params": int(model.count_params()),
        "nrmse": nrmse_std(y_test[:, warmup:], test_pred),
        "loss": [float(v) for v in fit.history["loss"]],
        "train_s": train_s,
        "test_pred": test_pred,
        "units": units,
        "layers": layers,
        "model": model,
    }


# --- the experiment --------------------------------------------------------


def check_settings(**settings):
    """Validate `run_mackey_glass` arguments (a `ValueError` names the first
    bad one) before anything is generated or trained.

    Parameters
    ----------
    **settings
        ``systems`` and any keys of `DEFAULTS`; other keys are an error.

    Returns
    -------
    dict
        `DEFAULTS` updated with ``settings``.
    """
    unknown = set(settings) - set(DEFAULTS) - {"systems"}
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; accepted: "
                         f"{sorted(set(DEFAULTS) | {'systems'})}")
    s = dict(DEFAULTS, **settings)
    systems = s.get("systems", SYSTEMS)
    if not systems:
        raise ValueError(f"systems must name at least one of {SYSTEMS}")
    for name in systems:
        check_choice("systems", name, SYSTEMS)
    for key in ("n_steps", "horizon", "window", "units", "order", "lstm_layers", "epochs",
                "batch_size", "lstm_batch_size"):
        check_integer(key, s[key])
    check_integer("n_series", s["n_series"], minimum=2)
    for key in ("warmup", "washout"):
        check_integer(key, s[key], minimum=0)
    check_seed("seed", s["seed"])
    for key in ("theta", "learning_rate", "tau"):
        check_positive(key, s[key])
    if s["lstm_units"] != "auto":
        check_integer("lstm_units", s["lstm_units"])
    if not (is_finite_real(s["test_fraction"]) and 0 < s["test_fraction"] < 1):
        raise ValueError(f"test_fraction must lie in (0, 1), got {s['test_fraction']!r}")
    if abs(s["tau"] * SUBSTEPS - round(s["tau"] * SUBSTEPS)) > 1e-9:
        raise ValueError(f"tau * substeps must be an integer, got {s['tau']} * {SUBSTEPS}")
    if s["window"] > s["n_steps"]:
        raise ValueError(f"window ({s['window']}) must not exceed n_steps ({s['n_steps']})")
    if s["warmup"] >= s["window"]:
        raise ValueError(f"warmup must be < window ({s['window']}), got {s['warmup']}")
    lmu_config(s["units"], s["order"], s["theta"], s["neuron_type"])
    check_memory(*mackey_glass_memory(s, systems))
    return s


def mackey_glass_memory(settings, systems=SYSTEMS):
    """``(setting to lower, bytes, what)``: an estimate of the memory
    `run_mackey_glass` needs (for `nengo_lmu.validation.check_memory`).

    The data: the Euler integration of every series (``n_series x
    (washout + n_steps + horizon) x 10`` float64, twice) and its windows.
    Then the larger of the systems, trained one after the other: the LMU's
    memory at every step of every training window (a complex FFT
    convolution, ``n_windows x window x order``, about 40 bytes each), its
    float32 feeds and its weights with Adam's moments; the LSTM's float32
    data, the activations Keras keeps for backpropagation
    (``lstm_batch_size x window x lstm_units x lstm_layers``, about ten per
    step) and its weights.
    """
    s = settings
    n_test = min(max(1, int(round(s["test_fraction"] * s["n_series"]))), s["n_series"] - 1)
    per_series = (s["n_steps"] - s["window"]) // (s["window"] - s["warmup"]) + 1
    n_train_w, n_w = (s["n_series"] - n_test) * per_series, s["n_series"] * per_series
    steps = (s["washout"] + s["n_steps"] + s["horizon"] + s["tau"]) * SUBSTEPS
    parts = {"n_series or n_steps": 8 * s["n_series"] * (2 * steps + 4 * s["n_steps"])
             + 8 * 2 * n_w * s["window"]}
    n_lmu = s["units"] * (s["order"] + 3) + 2
    if "lmu" in systems:
        parts["n_series, n_steps or order"] = (
            40 * n_train_w * s["window"] * s["order"]
            + 3 * 4 * n_w * (s["window"] - s["warmup"]) * (s["order"] + 1))
        parts["units"] = 4 * 4 * n_lmu
    if "lstm" in systems:
        units, lower = s["lstm_units"], "lstm_batch_size, lstm_units or window"
        if units == "auto":
            units = match_lstm_units(n_lmu, s["lstm_layers"])
            lower = "units (the LSTM is matched to the LMU's size), lstm_batch_size or window"
        parts[lower] = (
            4 * 3 * n_w * s["window"]
            + 4 * 10 * s["lstm_batch_size"] * s["window"] * units * s["lstm_layers"]
            + 4 * 4 * lstm_param_count(units, s["lstm_layers"]))
    return (max(parts, key=parts.get), sum(parts.values()),
            f"the Mackey-Glass task ({s['n_series']} series of {s['n_steps']} samples, "
            f"{n_w} windows of {s['window']})")


def run_mackey_glass(systems=SYSTEMS, verbose=1, log=print, **settings):
    """Generate the data, train the selected systems, score them on the test set.

    Parameters
    ----------
    systems : sequence of {"lmu", "lstm"}
    verbose : int
        Keras progress bars (0: none).
    log : callable
        Receives progress messages.
    **settings
        Overrides of `DEFAULTS` (``n_series``, ``n_steps``, ``window``,
        ``warmup``, ``units``, ``order``, ``theta``, ``neuron_type``,
        ``lstm_layers``, ``lstm_units`` (``"auto"``: match the LMU's
        parameter count), ``epochs``, ``batch_size`` (LMU),
        ``lstm_batch_size``, ``learning_rate``, ``seed``, ...).

    Returns
    -------
    dict
        ``settings``; ``systems``: per system ``n_params``, ``nrmse``,
        ``loss``, ``train_s`` (and ``config``, ``params``
        for the LMU); ``persistence_nrmse``; ``data`` (`make_dataset`);
        ``predictions`` (test windows' scored steps, per system).
    """
    s = check_settings(systems=tuple(systems), **settings)
    data_keys = ("n_series", "n_steps", "horizon", "tau", "washout", "test_fraction",
                 "window", "warmup", "seed")
    start = time.perf_counter()
    data = make_dataset(**{k: s[k] for k in data_keys})
    log(f"data: {data['settings']['n_series']} series of {s['n_steps']} samples "
        f"({data['settings']['n_test']} for testing), {len(data['train'][0])} training "
        f"and {len(data['test'][0])} test windows of {s['window']} "
        f"({time.perf_counter() - start:.1f} s)")
    config = lmu_config(s["units"], s["order"], s["theta"], s["neuron_type"])
    from nengo_lmu.lmu import build_classifier  # pylint: disable=import-outside-toplevel

    n_lmu = build_classifier(config, method="parallel").n_trainable
    lstm_units = (match_lstm_units(n_lmu, s["lstm_layers"]) if s["lstm_units"] == "auto"
                  else s["lstm_units"])
    results, predictions = {}, {}
    x_test, y_test = data["test"]
    predictions["target"] = y_test[:, s["warmup"]:]
    for name in systems:
        log(f"training {name} for {s['epochs']} epochs")
        if name == "lmu":
            res = train_lmu(data, config, epochs=s["epochs"], batch_size=s["batch_size"],
                            learning_rate=s["learning_rate"], seed=s["seed"], verbose=verbose)
        else:
            res = train_lstm(data, units=lstm_units, layers=s["lstm_layers"],
                             epochs=s["epochs"], batch_size=s["lstm_batch_size"],
                             learning_rate=s["learning_rate"], seed=s["seed"],
                             verbose=verbose)
            res.pop("model")
        predictions[name] = res.pop("test_pred")
        results[name] = res
        log(f"{name}: test NRMSE {res['nrmse']:.4f}, {res['n_params']:,} parameters, "
            f"{res['train_s']:.0f} s")
    settings_out = {k: s[k] for k in DEFAULTS}
    settings_out["systems"] = list(systems)
    settings_out["lstm_units"] = lstm_units
    settings_out["n_test"] = data["settings"]["n_test"]
    return {
        "settings": settings_out,
        "systems": results,
        "persistence_nrmse": persistence_nrmse(x_test, y_test, s["warmup"]),
        "data": data,
        "predictions": predictions,
        "wall_s": time.perf_counter() - start,
    }


def result_json(result):
    """The JSON-able summary of `run_mackey_glass` (no arrays but the loss)."""
    systems = {}
    for name, res in result["systems"].items():
        systems[name] = {k: res[k] for k in ("n_params", "nrmse", "loss", "train_s")}
        if name == "lstm":
            systems[name].update(units=res["units"], layers=res["layers"])
    return {
        "task": "mackey-glass",
        "settings": result["settings"],
        "systems": systems,
        "persistence_nrmse": result["persistence_nrmse"],
        "wall_s": result["wall_s"],
    }


def format_table(result):
    """A text table: system, parameters, test NRMSE, training wall time."""
    head = f"{'system':<14}{'parameters':>12}{'test NRMSE':>12}{'train wall s':>14}"
    lines = [head, "-" * len(head)]
    for name, res in result["systems"].items():
        lines.append(f"{name:<14}{res['n_params']:>12,}{res['nrmse']:>12.4f}"
                     f"{res['train_s']:>14.1f}")
    lines.append(f"{'persistence':<14}{0:>12}{result['persistence_nrmse']:>12.4f}{'':>14}")
    return "\n".join(lines)


def plot_result(result, n_show=400):
    """The start of the first test series' scored steps: target and each
    system's prediction, and their errors."""
    from nengo_lmu.plots import pyplot  # pylint: disable=import-outside-toplevel

    plt = pyplot()
    preds = result["predictions"]
    target = preds["target"][0][:n_show]
    warmup = result["settings"]["warmup"]
    horizon = result["settings"]["horizon"]
    t = np.arange(warmup, warmup + len(target))
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True,
                                   gridspec_kw={"height_ratios": [2, 1]})
    ax0.plot(t, target, "k", lw=2, label=f"x[t + {horizon}] (target)")
    for k, name in enumerate(result["systems"]):
        p = preds[name][0][:n_show]
        res = result["systems"][name]
        label = f"{name} ({res['n_params']:,} parameters, test NRMSE {res['nrmse']:.4f})"
        ax0.plot(t, p, color=f"C{k}", lw=1, label=label)
        ax1.plot(t, p - target, color=f"C{k}", lw=1, label=name)
    ax0.set_ylabel("standardised x")
    ax0.legend(loc="upper right", fontsize="small")
    ax1.set_ylabel("error")
    ax1.axhline(0, color="k", lw=0.5)
    ax1.set_xlabel("step t of the first test window")
    ax0.set_title(f"Mackey-Glass (tau = {result['settings']['tau']:g}), predicted "
                  f"{horizon} steps ahead; persistence NRMSE "
                  f"{result['persistence_nrmse']:.3f}")
    fig.tight_layout()
    return fig


def temporal_check(result, n_steps=None, backend="nengo"):
    """Max |temporal - parallel| LMU prediction over the first test window.

    Runs the trained LMU of a `run_mackey_glass` result as the *temporal*
    network (`predict_temporal`, memory simulated step by step) over the
    first test window (its first ``n_steps`` steps, if given) and compares
    it with the parallel network's predictions (`predict_lmu`).

    Returns
    -------
    dict
        ``n_steps``, ``backend``, ``max_abs_diff``, the NRMSE of either
        prediction on the window's scored steps (``nrmse_temporal``,
        ``nrmse_parallel``) and the temporal run's ``wall_s``.
    """
    lmu = result["systems"]["lmu"]
    x = result["data"]["test"][0][0]
    x = x if n_steps is None else x[:n_steps]
    start = time.perf_counter()
    temporal = predict_temporal(lmu["config"], lmu["params"], x, backend=backend)
    wall = time.perf_counter() - start
    parallel = predict_lmu(lmu["config"], lmu["params"], x[None])[0]
    warmup = result["settings"]["warmup"]
    y = result["data"]["test"][1][0][: len(x)]
    return {
        "n_steps": int(len(x)),
        "backend": backend,
        "max_abs_diff": float(np.max(np.abs(temporal - parallel))),
        "nrmse_temporal": nrmse_std(y[warmup:], temporal[warmup:]),
        "nrmse_parallel": nrmse_std(y[warmup:], parallel[warmup:]),
        "wall_s": wall,
    }


def save_result(result, out_dir, extra=None):
    """Write ``mackey_glass.json`` (`result_json`, updated with ``extra``),
    ``mackey_glass.png`` (`plot_result`) and, if the LMU was trained, its
    weights ``lmu_params.npz`` (`nengo_lmu.model_dir.save_params`, with its
    config) into ``out_dir``, each atomically."""
    import os  # pylint: disable=import-outside-toplevel

    from nengo_lmu.io import save_result as save  # pylint: disable=import-outside-toplevel
    from nengo_lmu.model_dir import save_params  # pylint: disable=import-outside-toplevel

    save(out_dir, "mackey_glass", dict(result_json(result), **(extra or {})),
         fig=plot_result(result))
    if "lmu" in result["systems"]:
        lmu = result["systems"]["lmu"]
        save_params(os.path.join(out_dir, "lmu_params.npz"), lmu["params"],
                    config=lmu["config"], nrmse=lmu["nrmse"])


# names that moved away in 0.2
__getattr__ = moved_attributes(__name__, {"nrmse": "nengo_lmu.metrics:nrmse_std"})
