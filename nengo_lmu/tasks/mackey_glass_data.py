"""The Mackey-Glass series and the windows a model is trained and scored on.

The series solves the delay differential equation::

    dx/dt = beta x(t - tau) / (1 + x(t - tau)**n) - gamma x(t)

with ``beta = 0.2``, ``gamma = 0.1``, ``n = 10`` and ``tau = 17``,
integrated by forward Euler at `SUBSTEPS` sub-steps per sample from a
random history (`generate`, the paper's generator). `make_dataset`
standardises series with the training statistics and cuts them into
windows that overlap by a warm-up (`make_windows`); `persistence_nrmse`
scores the forecast ``y[t] ~ x[t]``, the scale of the task. Their full-size
defaults are `DATA_DEFAULTS`.

The experiment (`nengo_lmu.tasks.mackey_glass`) imports these names; they
are importable from there too.
"""

import numpy as np
import scipy.signal

from nengo_lmu.metrics import nrmse_std
from nengo_lmu.validation import check_integer, check_positive

#: Full-size defaults of the data (the first keys of
#: `nengo_lmu.tasks.mackey_glass.DEFAULTS`).
DATA_DEFAULTS = dict(
    n_series=128, n_steps=5000, horizon=15, tau=17.0, washout=100, test_fraction=0.25,
    window=500, warmup=50,
)

#: Euler steps per sample of `generate` (the paper's generator).
SUBSTEPS = 10


def generate(n_series, n_steps, tau=17.0, beta=0.2, gamma=0.1, n=10, washout=100,
             substeps=SUBSTEPS, seed=0):
    """Mackey-Glass series, sampled once per time unit.

    Integrates ``dx/dt = beta x(t - tau) / (1 + x(t - tau)**n) - gamma x(t)``
    by forward Euler with step ``1 / substeps`` from a random constant-ish
    history ``1.2 + 0.2 (U(0, 1) - 0.5)`` (one per series), keeps every
    ``substeps``-th value (one per time unit) and drops the first
    ``washout`` samples. This is the paper's generator; it is vectorised
    over the series, and the Euler recursion ``x[j+1] = (1 - gamma / substeps)
    x[j] + beta g(x[j+1-H]) / substeps`` (``H = tau * substeps``) is run in
    blocks of ``H`` steps, in which the delayed term is already known, by
    `scipy.signal.lfilter`.

    Parameters
    ----------
    n_series : int
        Number of independent series (different random histories).
    n_steps : int
        Samples per series (after the washout).
    tau, beta, gamma, n : float
        Parameters of the equation; ``tau * substeps`` must be an integer.
    washout : int
        Samples discarded at the start (the transient from the history).
    substeps : int
        Euler steps per time unit (per sample).
    seed : int
        Seed of the random histories.

    Returns
    -------
    ndarray, shape ``(n_series, n_steps)``
    """
    n_series = check_integer("n_series", n_series)
    n_steps = check_integer("n_steps", n_steps)
    tau = check_positive("tau", tau)
    beta = check_positive("beta", beta)
    gamma = check_positive("gamma", gamma)
    n = check_positive("n", n)
    washout = check_integer("washout", washout, minimum=0)
    substeps = check_integer("substeps", substeps)
    seed = check_integer("seed", seed, minimum=0)
    hist = tau * substeps
    if abs(hist - round(hist)) > 1e-9:
        raise ValueError(f"tau * substeps must be an integer, got {tau} * {substeps}")
    hist = int(round(hist))
    if gamma / substeps >= 1:
        raise ValueError(f"gamma / substeps must be < 1 for a stable Euler step, "
                         f"got {gamma} / {substeps}")

    rng = np.random.RandomState(seed)
    total = (washout + n_steps) * substeps
    x = np.empty((hist + total, n_series))
    x[:hist] = 1.2 + 0.2 * (rng.rand(hist, n_series) - 0.5)
    leak = 1.0 - gamma / substeps
    for start in range(hist, hist + total, hist):
        stop = min(start + hist, hist + total)
        delayed = x[start - hist: stop - hist]
        drive = beta * delayed / (1.0 + delayed**n) / substeps
        x[start:stop], _ = scipy.signal.lfilter(
            [1.0], [1.0, -leak], drive, axis=0, zi=leak * x[start - 1][None, :]
        )
    # x[hist + k*substeps - 1] is the value after k time units (k >= 1)
    samples = x[hist + substeps - 1 :: substeps].T
    return np.ascontiguousarray(samples[:, washout : washout + n_steps])


def make_windows(inputs, targets, window, warmup):
    """Cut series into windows that overlap by ``warmup`` samples.

    Window ``k`` of a series covers samples ``k * (window - warmup)`` to that
    plus ``window``; a model starts every window from rest and is scored on
    its steps ``warmup`` to ``window - 1``, so the scored steps of
    consecutive windows tile the series from step ``warmup`` on (samples
    after the last whole window are left out).

    Parameters
    ----------
    inputs, targets : ndarray, shape ``(n_series, n_steps)``
    window : int
        Samples per window.
    warmup : int
        Unscored steps at the start of each window (``0 <= warmup < window``).

    Returns
    -------
    x, y : ndarray, shape ``(n_windows, window)``
    """
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    if inputs.ndim != 2 or inputs.shape != targets.shape:
        raise ValueError(f"inputs and targets must be (n_series, n_steps) arrays of one "
                         f"shape, got {inputs.shape} and {targets.shape}")
    window = check_integer("window", window, minimum=2)
    warmup = check_integer("warmup", warmup, minimum=0)
    if warmup >= window:
        raise ValueError(f"warmup must be < window ({window}), got {warmup}")
    if window > inputs.shape[1]:
        raise ValueError(f"window ({window}) must not exceed the series' length "
                         f"({inputs.shape[1]})")
    stride = window - warmup
    starts = np.arange(0, inputs.shape[1] - window + 1, stride)
    idx = starts[:, None] + np.arange(window)[None, :]
    return (inputs[:, idx].reshape(-1, window), targets[:, idx].reshape(-1, window))


def make_dataset(n_series=DATA_DEFAULTS["n_series"], n_steps=DATA_DEFAULTS["n_steps"],
                 horizon=DATA_DEFAULTS["horizon"], tau=DATA_DEFAULTS["tau"],
                 washout=DATA_DEFAULTS["washout"],
                 test_fraction=DATA_DEFAULTS["test_fraction"],
                 window=DATA_DEFAULTS["window"], warmup=DATA_DEFAULTS["warmup"], seed=0):
    """Standardised training and test windows of Mackey-Glass series.

    Generates ``n_series`` series of ``n_steps + horizon`` samples
    (`generate`); the input is ``x[t]``, the target ``x[t + horizon]``,
    ``t < n_steps``. The last ``round(test_fraction * n_series)`` series
    (at least one) are the test set, the others the training set. Both are
    standardised with the mean and standard deviation of the training
    series and cut into windows (`make_windows`).

    Returns
    -------
    dict
        ``train``, ``test``: ``(x, y)`` windows, shape ``(n_windows,
        window)``; ``test_series``: ``(x, y)`` standardised test series,
        ``(n_test, n_steps)``; ``mean``, ``std``: the standardisation;
        ``settings``: the arguments.
    """
    n_series = check_integer("n_series", n_series, minimum=2)
    n_steps = check_integer("n_steps", n_steps)
    horizon = check_integer("horizon", horizon)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    n_test = min(max(1, int(round(test_fraction * n_series))), n_series - 1)
    check_integer("window", window, minimum=2)
    if window > n_steps:
        raise ValueError(f"window ({window}) must not exceed n_steps ({n_steps})")
    check_integer("warmup", warmup, minimum=0)
    if warmup >= window:
        raise ValueError(f"warmup must be < window ({window}), got {warmup}")

    series = generate(n_series, n_steps + horizon, tau=tau, washout=washout, seed=seed)
    train, test = series[:-n_test], series[-n_test:]
    mean, std = float(train.mean()), float(train.std())
    train, test = (train - mean) / std, (test - mean) / std
    data = {
        "train": make_windows(train[:, :n_steps], train[:, horizon:], window, warmup),
        "test": make_windows(test[:, :n_steps], test[:, horizon:], window, warmup),
        "test_series": (test[:, :n_steps], test[:, horizon:]),
        "mean": mean,
        "std": std,
        "settings": dict(n_series=n_series, n_steps=n_steps, horizon=horizon, tau=tau,
                         washout=washout, test_fraction=test_fraction, n_test=n_test,
                         window=window, warmup=warmup, seed=seed),
    }
    return data


def persistence_nrmse(x, y, warmup):
    """NRMSE of the persistence forecast ``y[t] ~ x[t]`` on the scored steps."""
    return nrmse_std(np.asarray(y)[:, warmup:], np.asarray(x)[:, warmup:])
