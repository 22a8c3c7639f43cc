"""The memory-capacity task of the LMU paper (Voelker et al. 2019, section 4.1).

White noise (10 Hz cut-off) sampled with ``T`` steps per 1 s window
``theta``, sequences ``2.5 T`` steps long with ``max |x| = 1``
(`white_noise`); the targets are the input delayed by ``n_delays`` = 5
delays evenly spaced in ``[0, T]`` steps (`capacity_delays`,
`delayed_targets`); the score is the test MSE per delay on the steps after
``T`` (`delay_mse`). Systems (`SYSTEMS`): ``lmu0``, an order-100
ZOH-discretised `LegendreDelay` read out with its analytic Legendre
decoders, evaluated as an FFT convolution (`filter_sequences`); ``lmu``, the
same memory with least-squares readouts (`fit_readout`); ``lstm``, a Keras
``LSTM(100)`` + ``Dense(5)`` trained on the MSE after ``T`` (`train_lstm`).
`run_capacity` runs them, `capacity_ratio` gives the paper's comparison
(LSTM at ``T = 100`` against LMU-0 at the largest ``T``).

The readout alignment (``readout="midpoint"``: ``theta = T + 1`` steps,
``r = (d + 1/2) / (T + 1)``; ``"edge"``: ``theta = T``, ``r = d / T``), why
it matters and the measured results are in ``docs/capacity.md``.
"""

import math
import time

import numpy as np
import scipy.signal

from nengo_lmu.systems import LegendreDelay
from nengo_lmu.tasks import baselines
from nengo_lmu.validation import (
    check_choice,
    check_integer,
    check_memory,
    check_positive,
    check_seed,
)

SYSTEMS = ("lmu0", "lmu", "lstm")
READOUTS = ("midpoint", "edge")
DEFAULTS = {
    "T": (100, 1000, 10000, 100000),
    "lstm_T": (25, 100, 400),
    "order": 100,
    "freq": 10.0,
    "n_delays": 5,
    "length": 2.5,
    "period": None,
    "n_train": 32,
    "n_test": 8,
    "readout": "midpoint",
    "lstm_units": 100,
    "lstm_epochs": 500,
    "lstm_batch_size": 8,
    "lstm_learning_rate": 1e-3,
    "max_fit_rows": 2000,
    "lstm_time_budget": None,
    "seed": 0,
}
#: The paper's comparison is the LSTM at this T against LMU-0 at the largest T
#: (100,000 by default): `capacity_ratio`.
RATIO_LSTM_T = 100


def capacity_delays(T, n_delays=DEFAULTS["n_delays"]):
    """``n_delays`` delays (in steps) evenly spaced in ``[0, T]``, rounded.

    Returns
    -------
    ndarray of int, shape ``(n_delays,)``
        ``np.round(np.linspace(0, T, n_delays))`` (ties to even).
    """
    T = check_integer("T", T, minimum=2)
    n_delays = check_integer("n_delays", n_delays, minimum=2)
    return np.round(np.linspace(0, T, n_delays)).astype(int)


def white_noise(T, n_sequences, freq=DEFAULTS["freq"], length=DEFAULTS["length"],
                period=DEFAULTS["period"], seed=0):
    """White-noise sequences of ``length * T`` steps, each with ``max |x| = 1``.

    `nengo.processes.WhiteSignal` with cut-off ``freq`` Hz, period ``period``
    seconds (default: the sequence length) and ``y0=0`` (each sequence starts
    where the noise is closest to zero, so switching it on is no jump),
    sampled with ``dt = 1 / T``; each sequence is the first ``length``
    seconds of one period.

    Parameters
    ----------
    T : int
        Steps per second (per window ``theta`` = 1 s).
    n_sequences : int
        Number of sequences.
    freq : float
        Cut-off frequency in Hz; must be below the Nyquist frequency ``T / 2``.
    length : float
        Sequence length in windows (seconds).
    period : float
        Period of the white noise in seconds, at least ``length``; None:
        ``length``.
    seed : int or sequence of int
        Seed of the sequences (``numpy.random.RandomState`` accepts both).

    Returns
    -------
    ndarray, shape ``(n_sequences, round(length * T))``, float64
    """
    import nengo  # pylint: disable=import-outside-toplevel

    T = check_integer("T", T, minimum=2)
    n_sequences = check_integer("n_sequences", n_sequences)
    freq = check_positive("freq", freq)
    length = check_positive("length", length)
    period = length if period is None else check_positive("period", period)
    if period < length:
        raise ValueError(f"period must be >= length ({length:g} s), got {period!r}")
    if freq >= T / 2:
        raise ValueError(f"freq must be below the Nyquist frequency T / 2 = {T / 2:g} Hz, "
                         f"got {freq!r}")
    n_steps = int(round(length * T))
    rng = np.random.RandomState(seed)
    process = nengo.processes.WhiteSignal(period=period, high=freq, y0=0)
    x = np.stack([process.run_steps(n_steps, dt=1.0 / T, rng=rng)[:, 0]
                  for _ in range(n_sequences)])
    return x / np.max(np.abs(x), axis=1, keepdims=True)


def delayed_targets(x, delays):
    """The inputs ``x`` delayed by each of ``delays`` steps (zeros before the start).

    Returns
    -------
    ndarray, shape ``x.shape + (len(delays),)``
    """
    x = np.asarray(x)
    y = np.zeros(x.shape + (len(delays),), dtype=x.dtype)
    for j, d in enumerate(delays):
        y[:, d:, j] = x[:, : x.shape[1] - d]
    return y


def delay_mse(y, target, T, start=None):
    """MSE per delay over all sequences and the steps from ``start`` (default ``T``) on.

    Returns
    -------
    ndarray, shape ``(n_delays,)``
    """
    start = T if start is None else start
    err = np.asarray(y, dtype=np.float64)[:, start:] - target[:, start:]
    return np.mean(err**2, axis=(0, 1))


def lmu_memory(T, order=DEFAULTS["order"], readout=DEFAULTS["readout"],
               n_delays=DEFAULTS["n_delays"]):
    """The LMU memory for window ``T`` and the relative delays its readout uses.

    Returns
    -------
    system : `LegendreDelay`
        ``theta = T + 1`` steps (``readout="midpoint"``) or ``T`` (``"edge"``).
    r : ndarray, shape ``(n_delays,)``
        Relative delays in ``[0, 1]`` of the `capacity_delays`:
        ``(d + 1/2) / (T + 1)`` or ``d / T``.
    """
    readout = check_choice("readout", readout, READOUTS)
    delays = capacity_delays(T, n_delays)
    if readout == "midpoint":
        return LegendreDelay(T + 1, order), (delays + 0.5) / (T + 1)
    return LegendreDelay(T, order), delays / T


def filter_sequences(x, kernels):
    """Each sequence of ``x`` convolved with each column of ``kernels`` (causal).

    ``y[n, k, j] = sum_i kernels[i, j] x[n, k - i]``, by
    `scipy.signal.fftconvolve` in float64.

    Returns
    -------
    ndarray, shape ``x.shape + (kernels.shape[1],)``
    """
    x = np.asarray(x, dtype=np.float64)
    n_steps = x.shape[1]
    kernels = np.asarray(kernels, dtype=np.float64)[:n_steps]
    return scipy.signal.fftconvolve(x[:, :, None], kernels[None], axes=1)[:, :n_steps]


def strided_states(system, x, stride, H=None):
    """Memory states ``m[k]`` after steps ``k = stride - 1, 2 stride - 1, ...``.

    Blocks of ``stride`` steps at once, ``m[k + s] = Ad^s m[k] +
    sum_i H[s - i] x[k + i]`` (exact, float64), so the loop has
    ``n_steps / stride`` iterations, vectorized over the sequences.

    Parameters
    ----------
    system : `LegendreDelay`
        The memory (time in steps: ``dt = 1``).
    x : ndarray, shape ``(n_sequences, n_steps)``
    stride : int
    H : ndarray, optional
        ``system.impulse_response(1, >= stride)``, if already computed.

    Returns
    -------
    steps : ndarray of int, shape ``(n_rows,)``
    states : ndarray, shape ``(n_sequences, n_rows, order)``
    """
    stride = check_integer("stride", stride)
    x = np.asarray(x, dtype=np.float64)
    if H is None or len(H) < stride:
        H = system.impulse_response(1.0, stride)
    Ad, _ = system.discretize(1.0)
    power = np.linalg.matrix_power(Ad, stride)
    block_kernel = H[:stride][::-1]  # row i multiplies x[k + 1 + i]
    steps = np.arange(stride - 1, x.shape[1], stride)
    states = np.empty((x.shape[0], len(steps), system.order))
    m = np.zeros((x.shape[0], system.order))
    for n, k in enumerate(steps):
        m = m @ power.T + x[:, k + 1 - stride : k + 1] @ block_kernel
        states[:, n] = m
    return steps, states


def fit_readout(system, r, x, delays, T, max_rows=DEFAULTS["max_fit_rows"], H=None):
    """Least-squares readout of ``delays`` from the memory states of ``x``.

    The decoders are the analytic ones, ``system.readout(r)``, plus the
    least-squares (`numpy.linalg.lstsq`) correction that fits the residual
    on the training steps after ``T``, at most ``max_rows`` evenly strided
    steps per sequence (solving for the small correction keeps the float64
    precision of the analytic decoders).

    Returns
    -------
    ndarray, shape ``(order, len(delays))``
    """
    n_steps = x.shape[1]
    stride = max(1, math.ceil((n_steps - T) / max_rows))
    steps, states = strided_states(system, x, stride, H=H)
    keep = steps >= T
    steps, states = steps[keep], states[:, keep]
    target = np.stack([x[:, steps - d] for d in delays], axis=-1)
    states = states.reshape(-1, system.order)
    analytic = system.readout(r)
    residual = target.reshape(-1, len(delays)) - states @ analytic
    correction = np.linalg.lstsq(states, residual, rcond=None)[0]
    return analytic + correction


def build_lstm(units=DEFAULTS["lstm_units"], n_outputs=DEFAULTS["n_delays"],
               learning_rate=DEFAULTS["lstm_learning_rate"]):
    """``LSTM(units, return_sequences=True)`` + ``Dense(n_outputs)``
    (`nengo_lmu.tasks.baselines.build_lstm`), compiled with Adam and the MSE loss."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    model = baselines.build_lstm(units, n_outputs=n_outputs)
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def train_lstm(x, target, T, epochs=DEFAULTS["lstm_epochs"],
               units=DEFAULTS["lstm_units"], batch_size=DEFAULTS["lstm_batch_size"],
               learning_rate=DEFAULTS["lstm_learning_rate"], time_budget=None, seed=0,
               verbose=1):
    """Train the LSTM on ``x`` to output ``target``, loss on the steps after ``T``.

    The first ``T`` steps get zero sample weight (their targets reach back
    before the start of the sequence), matching the test MSE.

    Parameters
    ----------
    time_budget : float, optional
        Stop after the epoch during which this many seconds have passed
        (`nengo_lmu.tasks.baselines.budget_callback`).
    verbose : int
        1 shows one Keras progress bar over the epochs, 0 nothing.

    Returns
    -------
    model : ``tf.keras.Model``
    history : dict
        ``loss`` (per epoch), ``epochs`` (run), ``stopped_by_time_budget``.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.keras.utils.set_random_seed(seed)
    model = build_lstm(units, target.shape[-1], learning_rate)
    weight = np.zeros(x.shape, dtype=np.float32)
    weight[:, T:] = 1.0
    callback = baselines.budget_callback(time_budget, epochs=epochs, per="epoch",
                                         progress=bool(verbose))
    fit = model.fit(x[:, :, None].astype(np.float32), target.astype(np.float32),
                    sample_weight=weight, epochs=epochs, batch_size=batch_size,
                    shuffle=True, verbose=0, callbacks=[callback])
    loss = [float(v) for v in fit.history["loss"]]
    return model, {"loss": loss, "epochs": len(loss),
                   "stopped_by_time_budget": bool(callback.stopped)}


def _check_T_list(name, values, minimum=4):
    values = [check_integer(name, v, minimum=minimum) for v in values]
    if not values:
        raise ValueError(f"{name} must list at least one T")
    return sorted(set(values))


def check_settings(T=DEFAULTS["T"], systems=SYSTEMS, lstm_T=DEFAULTS["lstm_T"], **settings):
    """Validate the settings of `run_capacity`; returns them completed with defaults."""
    systems = list(systems)
    if not systems:
        raise ValueError(f"systems must name at least one of {SYSTEMS}")
    for s in systems:
        check_choice("systems", s, SYSTEMS)
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; accepted: {sorted(DEFAULTS)}")
    out = {k: v for k, v in DEFAULTS.items() if k not in ("T", "lstm_T")}
    out.update(settings)
    out["T"] = _check_T_list("T", T)
    out["lstm_T"] = _check_T_list("lstm_T", lstm_T)
    out["systems"] = [s for s in SYSTEMS if s in systems]
    for name in ("order", "n_train", "n_test", "lstm_units", "lstm_epochs",
                 "lstm_batch_size", "max_fit_rows"):
        out[name] = check_integer(name, out[name])
    out["n_delays"] = check_integer("n_delays", out["n_delays"], minimum=2)
    out["seed"] = check_seed("seed", out["seed"])
    for name in ("freq", "lstm_learning_rate"):
        out[name] = check_positive(name, out[name])
    out["length"] = check_positive("length", out["length"])
    out["period"] = (out["length"] if out["period"] is None
                     else check_positive("period", out["period"]))
    if out["period"] < out["length"]:
        raise ValueError(f"period must be >= length ({out['length']:g} s), "
                         f"got {out['period']!r}")
    if out["length"] <= 1:
        raise ValueError(f"length must exceed 1 (window), got {out['length']!r}")
    check_choice("readout", out["readout"], READOUTS)
    budget = out.get("lstm_time_budget")
    out["lstm_time_budget"] = None if budget is None else check_positive(
        "lstm_time_budget", budget)
    used_T = (out["T"] if {"lmu0", "lmu"} & set(systems) else []) + (
        out["lstm_T"] if "lstm" in systems else [])
    for T_ in used_T:
        if out["freq"] >= T_ / 2:
            raise ValueError(f"freq ({out['freq']:g} Hz) must be below the Nyquist "
                             f"frequency T / 2 of every T, got T = {T_}")
    check_memory(*capacity_memory(out))
    return out


def capacity_memory(settings):
    """``(setting to lower, bytes, what)``: an estimate of the memory
    `run_capacity` needs with ``settings`` (`check_settings`' result), for
    `nengo_lmu.validation.check_memory`.

    The sequences of every T are kept (``(n_train + n_test) x length T``
    float64); on top, the largest T's work: the impulse response
    (``length T x order``), the FFT convolution of the test sequences with
    the readouts (complex spectra and outputs, ``n_test x length T x
    n_delays``, about six copies), the targets and errors, and for ``lmu``
    the memory states of the least-squares fit (about three copies of
    ``n_train x 1.7 max_fit_rows x order``); for ``lstm``, Keras' float32
    copies of the data and the activations it keeps for backpropagation
    (``lstm_batch_size x length T x lstm_units``, about ten per step).
    """
    s = settings
    n_d, order = s["n_delays"], s["order"]
    lmu_T = s["T"] if {"lmu0", "lmu"} & set(s["systems"]) else []
    lstm_T = s["lstm_T"] if "lstm" in s["systems"] else []
    n_train = s["n_train"] if {"lmu", "lstm"} & set(s["systems"]) else 0
    kept, work = 0, {}
    for T in sorted(set(lmu_T) | set(lstm_T)):
        length = int(round(s["length"] * T))
        kept += 8 * (n_train + s["n_test"]) * length
        need = 8 * s["n_test"] * length * n_d * 4  # targets, outputs, errors
        if T in lmu_T:
            need += 8 * length * (order + n_d)  # impulse response and kernels
            need += 8 * s["n_test"] * length * n_d * 6  # the FFT convolution
            if "lmu" in s["systems"]:
                need += 3 * 8 * n_train * int(1.7 * s["max_fit_rows"] + 1) * (order + n_d)
        if T in lstm_T:
            need += 4 * (n_train + s["n_test"]) * length * (2 + n_d)
            need += 4 * 10 * s["lstm_batch_size"] * length * s["lstm_units"]
        work[T] = need
    biggest = max(work, key=work.get)
    setting = ("lstm_T or lstm_batch_size" if biggest not in lmu_T
               else "T, lstm_T or n_test" if biggest in lstm_T else "T or n_test")
    return (f"{setting} (T = {biggest} needs the most)", kept + work[biggest],
            f"the capacity task (T = {', '.join(map(str, sorted(work)))})")


def run_capacity(T=DEFAULTS["T"], systems=SYSTEMS, lstm_T=DEFAULTS["lstm_T"],
                 verbose=1, **settings):
    """Run the memory-capacity task for ``systems``; a JSON-ready result.

    Parameters
    ----------
    T : list of int
        Window lengths (steps per second) of ``lmu0`` and ``lmu``.
    systems : list of str
        Any of `SYSTEMS`.
    lstm_T : list of int
        Window lengths of ``lstm``.
    verbose : int
        0 silent, 1 progress lines and the LSTM's Keras progress bar.
    **settings
        Any key of `DEFAULTS` (``order``, ``freq``, ``n_train``, ``n_test``,
        ``readout``, ``lstm_epochs``, ``lstm_batch_size``, ...) and
        ``lstm_time_budget`` (seconds per LSTM training, default None).

    Returns
    -------
    dict
        ``delays`` (``{"<T>": [steps]}``), ``mse`` (``{"<system>": {"<T>":
        [MSE per delay]}}``), ``mse_from_1.5T`` (the same on steps from
        ``1.5 T`` on, after the start-up transient), ``wall_s``
        (``{"<system>": {"<T>": s}}``, data generation excluded),
        ``data_wall_s``, ``lstm_history``, ``ratio`` (see `capacity_ratio`)
        and ``settings``.
    """
    s = check_settings(T=T, systems=systems, lstm_T=lstm_T, **settings)
    say = print if verbose else (lambda *a, **k: None)
    result = {"delays": {}, "mse": {}, "mse_from_1.5T": {}, "wall_s": {},
              "data_wall_s": {}, "lstm_history": {}}
    plan = [(sys_, T_) for T_ in sorted(set(s["T"]) | set(s["lstm_T"])) for sys_ in s["systems"]
            if T_ in (s["lstm_T"] if sys_ == "lstm" else s["T"])]
    data = {}
    for system, T_ in plan:
        key = str(T_)
        delays = capacity_delays(T_, s["n_delays"])
        result["delays"][key] = delays.tolist()
        need_train = system != "lmu0"
        if T_ not in data or (need_train and data[T_][0] is None):
            start = time.perf_counter()
            x_train = (white_noise(T_, s["n_train"], s["freq"], s["length"],
                                   s["period"], seed=[s["seed"], T_, 0]) if need_train else None)
            x_test = data[T_][1] if T_ in data else white_noise(
                T_, s["n_test"], s["freq"], s["length"], s["period"], seed=[s["seed"], T_, 1])
            data[T_] = (x_train, x_test)
            result["data_wall_s"][key] = result["data_wall_s"].get(key, 0.0) + (
                time.perf_counter() - start)
        x_train, x_test = data[T_]
        say(f"{system} T={T_}: ", end="", flush=True)
        start = time.perf_counter()
        if system == "lstm":
            model, history = train_lstm(
                x_train, delayed_targets(x_train, delays), T_, epochs=s["lstm_epochs"],
                units=s["lstm_units"], batch_size=s["lstm_batch_size"],
                learning_rate=s["lstm_learning_rate"], time_budget=s["lstm_time_budget"],
                seed=s["seed"], verbose=verbose)
            y = model.predict(x_test[:, :, None].astype(np.float32), verbose=0)
            result["lstm_history"][key] = history
        else:
            memory, r = lmu_memory(T_, s["order"], s["readout"], s["n_delays"])
            H = memory.impulse_response(1.0, x_test.shape[1])
            decoders = (memory.readout(r) if system == "lmu0" else
                        fit_readout(memory, r, x_train, delays, T_, s["max_fit_rows"], H=H))
            y = filter_sequences(x_test, H @ decoders)
        wall = time.perf_counter() - start
        target = delayed_targets(x_test, delays)
        mse = delay_mse(y, target, T_)
        result["mse"].setdefault(system, {})[key] = mse.tolist()
        result["mse_from_1.5T"].setdefault(system, {})[key] = delay_mse(
            y, target, T_, start=int(round(1.5 * T_))).tolist()
        result["wall_s"].setdefault(system, {})[key] = wall
        say(f"MSE {' '.join(f'{v:.2e}' for v in mse)} ({wall:.1f} s)")
    result["ratio"] = capacity_ratio(result)
    settings_out = {k: v for k, v in s.items()}
    settings_out["theta"] = "T + 1 steps" if s["readout"] == "midpoint" else "T steps"
    settings_out["discretization"] = "zoh"
    settings_out["dt"] = "1 / T s"
    settings_out["test_steps"] = "T .. length * T - 1"
    result["settings"] = settings_out
    return result


def capacity_ratio(result, lstm_T=RATIO_LSTM_T, lmu_T=None):
    """LSTM test MSE at ``lstm_T`` over LMU-0 test MSE at ``lmu_T`` (default: largest T).

    The paper's claim is "10^6 x lower error on a 10^3 x longer delay": LSTM
    at T = 100 against LMU-0 at T = 100,000. The ratio is given per delay
    (same position in ``[0, T]``) and for the mean over delays (mean LSTM
    MSE over mean LMU-0 MSE), on all test steps and on the steps from
    ``1.5 T`` on.

    Returns
    -------
    dict or None
        ``lstm_T``, ``lmu0_T``, ``delay_factor`` (``lmu0_T / lstm_T``),
        ``per_delay``, ``mean``, ``per_delay_from_1.5T``, ``mean_from_1.5T``;
        None if either system was not run at those T.
    """
    lstm = result["mse"].get("lstm", {})
    lmu0 = result["mse"].get("lmu0", {})
    if str(lstm_T) not in lstm or not lmu0:
        return None
    lmu_T = max(map(int, lmu0)) if lmu_T is None else lmu_T
    if str(lmu_T) not in lmu0:
        return None
    out = {"lstm_T": lstm_T, "lmu0_T": lmu_T, "delay_factor": lmu_T / lstm_T}
    for suffix, key in (("", "mse"), ("_from_1.5T", "mse_from_1.5T")):
        a = np.asarray(result[key]["lstm"][str(lstm_T)])
        b = np.asarray(result[key]["lmu0"][str(lmu_T)])
        out["per_delay" + suffix] = (a / b).tolist()
        out["mean" + suffix] = float(a.mean() / b.mean())
    return out


SYSTEM_LABELS = {"lmu0": "LMU-0 (analytic readout)", "lmu": "LMU (fitted readout)",
                 "lstm": "LSTM"}


def format_capacity_table(result):
    """A text table: test MSE per delay (fraction of T), mean and wall time per system and T."""
    n_delays = len(next(iter(result["delays"].values())))
    fractions = np.linspace(0, 1, n_delays)
    head = f"{'system':<26}{'T':>8}" + "".join(f"{'d=' + format(f, 'g') + 'T':>10}"
                                              for f in fractions)
    head += f"{'mean':>10}{'wall s':>9}"
    lines = [head, "-" * len(head)]
    for system in [name for name in SYSTEMS if name in result["mse"]]:
        by_T = result["mse"][system]
        for key in sorted(by_T, key=int):
            mse = by_T[key]
            lines.append(f"{SYSTEM_LABELS[system]:<26}{int(key):>8}"
                         + "".join(f"{v:>10.2e}" for v in mse)
                         + f"{np.mean(mse):>10.2e}{result['wall_s'][system][key]:>9.1f}")
    return "\n".join(lines)


def format_ratio(ratio):
    """Text lines for `capacity_ratio`'s result."""
    if ratio is None:
        return ("ratio: needs lstm at T = 100 and lmu0 (run both systems, "
                "e.g. --systems lmu0 lstm)")
    per = " ".join(f"{v:.2g}" for v in ratio["per_delay"])
    late = " ".join(f"{v:.2g}" for v in ratio["per_delay_from_1.5T"])
    return (f"LSTM MSE at T = {ratio['lstm_T']} / LMU-0 MSE at T = {ratio['lmu0_T']} "
            f"({ratio['delay_factor']:g} x longer delay):\n"
            f"  per delay   {per}\n  mean over delays  {ratio['mean']:.2g}\n"
            f"  steps from 1.5 T on: per delay {late}, mean {ratio['mean_from_1.5T']:.2g}")


def plot_capacity(result):
    """Test MSE against relative delay, one panel per system, one line per T (log scale)."""
    from nengo_lmu.plots import pyplot  # pylint: disable=import-outside-toplevel

    plt = pyplot()
    systems = [name for name in SYSTEMS if name in result["mse"]]
    fig, axes = plt.subplots(1, len(systems), figsize=(4.2 * len(systems), 3.8),
                             sharey=True, squeeze=False)
    for ax, system in zip(axes[0], systems):
        for key in sorted(result["mse"][system], key=int):
            mse = result["mse"][system][key]
            ax.semilogy(np.linspace(0, 1, len(mse)), mse, "o-", label=f"T = {int(key):,}")
        ax.set_title(SYSTEM_LABELS[system])
        ax.set_xlabel("delay / T")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small")
    axes[0, 0].set_ylabel("test MSE")
    ratio = result.get("ratio")
    title = "Memory capacity: white noise (10 Hz, 1 s = T steps)"
    if ratio:
        title += (f"; LSTM@{ratio['lstm_T']} / LMU-0@{ratio['lmu0_T']:,}: "
                  f"{ratio['mean']:.1e} (mean over delays)")
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    return fig


def save_result(result, out_dir):
    """Print the table and the ratio of a `run_capacity` result and write
    ``capacity.json`` and ``capacity.png`` into ``out_dir``, each atomically."""
    from nengo_lmu.io import save_result as save  # pylint: disable=import-outside-toplevel

    print()
    print(format_capacity_table(result))
    print(format_ratio(result["ratio"]))
    json_path, _ = save(out_dir, "capacity", result, fig=plot_capacity(result))
    print(f"wrote {json_path} and capacity.png")
