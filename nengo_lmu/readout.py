"""The readout scheme: how a classifier reads an LMU's memory, in one place.

The rate model reads the final memory state ``m_T`` of each sequence
(scheme ``"exact"``). A spiking hidden layer cannot read a value in one step,
so on chip each sequence is followed by ``hold_steps`` steps and the logits
are ``W_out`` times the hidden neurons' spike rates over the last ``window``
of them (`ReadoutScheme`). With the memory on chip the sequences run back to
back, so each one starts from the memory the previous one left
(`hold_stream`), and the window keeps sliding during the hold: the memory is
read at every shift of `hold_shifts`. Scheme ``"hold"`` trains the rate model
for that readout on the exact memory (`hold_memory`, `stream_memories`),
scheme ``"spiking"`` on a simulated spiking memory
(`nengo_lmu.spiking.SpikingLMUClassifier.memory_states`).

Everything here is numpy on the closed-form memory of a feed-forward `LMU`
(`LMU.closed_form_memory`); NengoDL trains on what it returns
(`nengo_lmu.training.train`), and `nengo_lmu.spiking` deploys with the same
`ReadoutScheme`. Not to be confused with the *Legendre readout*
(`nengo_lmu.systems.LegendreDelay.readout`), which decodes the delayed input
from the memory state.
"""

import dataclasses

import numpy as np

from nengo_lmu.neurons import make_neuron_type
from nengo_lmu.validation import check_choice, check_integer, is_finite_real

#: Memory readout schemes the parallel path trains for: ``"exact"`` reads
#: ``m_T`` (the rate model's scheme); ``"hold"`` reads the memory as the
#: spiking classifier does with ``memory="spiking"``: sequences back to
#: back, each followed by ``hold_steps`` zero inputs, read during the last
#: ``window`` of them (`hold_shifts`); ``"spiking"`` reads the same way the
#: spiking memory itself, simulated with Loihi's neuron model
#: (`nengo_lmu.spiking.SpikingLMUClassifier.memory_states`).
READOUTS = ("exact", "hold", "spiking")

#: Losses of the ``"hold"`` and ``"spiking"`` readouts: ``"draw"`` is the
#: cross-entropy of the logits at one shift of the readout window drawn per
#: training copy (``readout_draws`` copies); ``"window"`` is the cross-entropy
#: of the logits averaged over all the window's shifts, which is what the
#: spiking classifier reads out (`stream_logits`).
READOUT_LOSSES = ("draw", "window")


@dataclasses.dataclass(frozen=True)
class ReadoutScheme:
    """How long each sequence is held, and how much of the hold is read out.

    Parameters
    ----------
    hold_steps : int
        Steps after each sequence during which the final memory state is held
        (exact memory) or the input is zero (spiking memory).
    window : int
        The last ``window`` of the ``hold_steps`` over which the hidden
        neurons' spikes are averaged (at most ``hold_steps``); the first
        ``hold_steps - window`` let the input filters and the neurons settle.
    """

    hold_steps: int = 40
    window: int = 30

    def __post_init__(self):
        object.__setattr__(self, "hold_steps", check_integer("hold_steps", self.hold_steps))
        object.__setattr__(self, "window", check_integer("window", self.window))
        if self.window > self.hold_steps:
            raise ValueError(
                f"window ({self.window}) must be at most hold_steps ({self.hold_steps})")

    @property
    def shifts(self):
        """Zero steps after a sequence at which the memory is read:
        ``hold_steps - window, ..., hold_steps`` (``window + 1`` values; the
        one extra step earlier covers the chip's one-step input delay)."""
        return np.arange(self.hold_steps - self.window, self.hold_steps + 1)

    def to_json(self):
        """The settings as a JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data):
        """The scheme of a dict with ``hold_steps`` and ``window`` (other keys,
        e.g. those of a ``config.json`` ``readout`` entry, are ignored)."""
        return cls(data["hold_steps"], data["window"])


def hold_shifts(hold_steps, window):
    """Shifts ``s`` (zero steps after a sequence) of the ``"hold"`` readout.

    ``hold_steps - window, ..., hold_steps`` (``window + 1`` values): the
    spiking readout averages over the last ``window`` steps of the hold, and
    the one extra step earlier covers the one-step input delay of the chip.
    """
    return ReadoutScheme(hold_steps, window).shifts


def stream_memory(lmu, x, shifts, x_prev=None, hold_steps=0, params=None):
    """Exact memory of sequences in a back-to-back stream, read after a shift.

    The stream is ``x_prev[i]``, ``hold_steps`` zeros, ``x[i]``, then
    ``shifts[i]`` zeros; the result is the memory state at its end,

    computed with `LMU.closed_form_memory` of that stream (one matrix
    product per distinct shift, no loop over time). With ``shifts = 0`` and
    no ``x_prev`` this is `LMU.closed_form_memory` of ``x``.

    Parameters
    ----------
    lmu : `nengo_lmu.lmu.LMU`
        A feed-forward LMU (its system, discretizer and ``e_x``).
    x : ndarray, shape ``(n, T, input_d)``
    shifts : int or array of int, shape ``(n,)``
        Zero steps after each sequence (>= 0).
    x_prev : ndarray, shape ``(n, T, input_d)``, optional
        The sequence before each one (default: nothing, the memory starts
        at rest).
    hold_steps : int
        Zero steps between ``x_prev[i]`` and ``x[i]``.
    params : dict, optional
        Weights (``e_x`` is used); ``lmu``'s by default.

    Returns
    -------
    ndarray, shape ``(n, memory_d * order)``
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[2] != lmu.input_d:
        raise ValueError(f"x must have shape (n, n_steps, input_d={lmu.input_d}), got {x.shape}")
    n, T, _ = x.shape
    shifts = np.broadcast_to(np.asarray(shifts), (n,))
    if not np.issubdtype(shifts.dtype, np.integer) or np.any(shifts < 0):
        raise ValueError("shifts must be integers >= 0")
    hold_steps = check_integer("hold_steps", hold_steps, minimum=0)
    if x_prev is not None:
        x_prev = np.asarray(x_prev, dtype=np.float64)
        if x_prev.shape != x.shape:
            raise ValueError(f"x_prev must have the shape of x {x.shape}, got {x_prev.shape}")
    out = np.empty((n, lmu.memory_d * lmu.order))
    for s in np.unique(shifts):
        rows = np.flatnonzero(shifts == s)
        # the stream itself, zeros included, through the one closed form
        stream = hold_stream(x[rows], hold_steps, s,
                             x_prev=None if x_prev is None else x_prev[rows])
        out[rows] = lmu.closed_form_memory(stream, params=params)
    return out


def hold_memory(lmu, x, hold_steps, window, draws=1, memory_noise=0.0, rng=None,
                all_shifts=False):
    """Training memory states for the ``"hold"`` readout (data augmentation).

    For each of ``draws`` copies of ``x``: a shift drawn uniformly from
    `hold_shifts` (or, with ``all_shifts``, every shift), a random other
    sequence of ``x`` (followed by ``hold_steps`` zeros) before the
    sequence, and, with ``memory_noise > 0``, Gaussian noise of that
    fraction of each dimension's largest ``|m_T|`` on ``x`` (spike noise).

    Returns
    -------
    m : ndarray, shape ``(draws * n, memory_d * order)``
        Copy ``j`` of sequence ``i`` in row ``j * n + i``; with
        ``all_shifts``, shape ``(draws * n, window + 1, memory_d * order)``,
        one column per shift.
    """
    rng = np.random.RandomState(0) if rng is None else rng
    x = np.asarray(x)
    n = len(x)
    shifts = hold_shifts(hold_steps, window)
    scale = np.abs(lmu.closed_form_memory(x)).max(axis=0) if memory_noise > 0 else None
    # all random choices first, so that the noise does not change them
    prev = (np.arange(n) + rng.randint(1, max(n, 2), size=(draws, n))) % n  # never itself
    if all_shifts:
        m = np.stack([np.concatenate([stream_memory(lmu, x, s, x_prev=x[prev[j]],
                                                    hold_steps=hold_steps)
                                      for j in range(draws)]) for s in shifts], axis=1)
    else:
        shift = rng.choice(shifts, size=(draws, n))
        m = np.concatenate([stream_memory(lmu, x, shift[j], x_prev=x[prev[j]],
                                          hold_steps=hold_steps) for j in range(draws)])
    if memory_noise > 0:
        m += memory_noise * scale * rng.normal(size=m.shape)
    return m


def stream_memories(lmu, x, hold_steps, window, from_rest=False):
    """Exact memory of ``x`` run back to back (each after the previous one and
    ``hold_steps`` zeros, the first from rest), at every shift of `hold_shifts`;
    with ``from_rest``, of each sequence from rest (as a batched evaluation
    runs them).

    Returns
    -------
    ndarray, shape ``(window + 1, n, memory_d * order)``, float32
    """
    x = np.asarray(x)
    # x_prev zero for the first: it starts from rest
    prev = None if from_rest else np.concatenate([np.zeros_like(x[:1]), x[:-1]])
    out = [stream_memory(lmu, x, s, x_prev=prev, hold_steps=hold_steps).astype(np.float32)
           for s in hold_shifts(hold_steps, window)]
    return np.array(out)


def readout_settings(readout="exact", hold_steps=ReadoutScheme.hold_steps,
                     window=ReadoutScheme.window, memory_noise=0.0,
                     readout_draws=2, spiking_memory=None, readout_loss="draw"):
    """The validated readout settings as recorded in ``config.json``.

    The arguments are those of `nengo_lmu.training.train` (and
    `nengo_lmu.tasks.psmnist.train_psmnist`), which trains for the readout:

    - ``readout`` (`READOUTS`): ``"exact"`` trains on the final memory
      ``m_T``. ``"hold"`` (``method="parallel"`` only) trains on the memory
      as the spiking classifier with ``memory="spiking"`` delivers it: read
      ``s`` zero steps after the sequence, ``s`` uniform over `hold_shifts`,
      with a random other training sequence (and ``hold_steps`` zeros)
      before it, plus ``memory_noise`` (`hold_memory`); ``readout_draws``
      fixed draws per training sequence, made once. The validation accuracy
      is then that of the same scheme: validation sequences back to back,
      logits averaged over the shifts (`stream_memories`, `stream_logits`).
      ``"spiking"`` is ``"hold"`` with the memory states of a simulated
      spiking memory (train's ``memory_states``,
      `nengo_lmu.spiking.SpikingLMUClassifier.memory_states`) instead of the
      exact memory. `nengo_lmu.tasks.psmnist.evaluate_psmnist` takes
      ``hold_steps`` and ``window`` from the record.
    - ``hold_steps``, ``window``: zero steps after each sequence, and the
      last of them read out (`ReadoutScheme`).
    - ``memory_noise``: standard deviation of Gaussian noise on the memory,
      relative to each dimension's largest ``|m_T|`` on the training data
      (``"hold"`` only).
    - ``readout_draws``: augmented copies of the training set (``"hold"``
      and ``"spiking"``; ``"spiking"`` draws a shift of the memory states
      for each).
    - ``readout_loss`` (`READOUT_LOSSES`), recorded as ``loss``: ``"draw"``:
      each training copy is read at one shift of the window. ``"window"``:
      the loss is that of the logits averaged over every shift of the
      window, as the spiking classifier reads out (NengoDL then runs
      ``window + 1`` steps per copy, one per shift; the hidden layer has no
      recurrence, so the steps are independent). With ``readout="spiking"``
      and ``readout_loss="window"``, ``readout_draws`` must be 1: the given
      states hold every shift of one stream already.
    - ``spiking_memory`` (``readout="spiking"`` only, and required there):
      the settings of the spiking memory the states came from
      (``memory_neurons``, ``memory_max_rate``, ``seed``, ...), recorded so
      that the classifier is deployed with a memory of those settings
      (`nengo_lmu.model_dir.deployment_settings`;
      `nengo_lmu.model_dir.check_spiking_memory` checks its keys).

    Every argument is checked whichever the scheme (``hold_steps`` and
    ``window`` by `ReadoutScheme`, ``memory_noise`` a finite number >= 0,
    nonzero with ``"hold"`` only, ``readout_draws`` an integer >= 1,
    ``readout_loss`` one of `READOUT_LOSSES`); a `ValueError` names the
    argument and the value. ``"exact"`` records only its scheme.
    """
    check_choice("readout", readout, READOUTS)
    # every value is checked, whichever scheme uses it
    scheme = ReadoutScheme(hold_steps, window)
    if not is_finite_real(memory_noise) or memory_noise < 0:
        raise ValueError(f"memory_noise must be a finite number >= 0, got {memory_noise!r}")
    readout_draws = check_integer("readout_draws", readout_draws)
    check_choice("readout_loss", readout_loss, READOUT_LOSSES)
    if memory_noise and readout != "hold":
        raise ValueError(f"memory_noise applies to readout='hold' only, got "
                         f"memory_noise={memory_noise!r} with readout={readout!r}")
    if (readout == "spiking") != (spiking_memory is not None):
        raise ValueError("spiking_memory (the memory's settings) goes with readout='spiking', "
                         "and only with it")
    if readout == "exact":
        return {"scheme": "exact"}
    settings = {"scheme": readout, "hold_steps": scheme.hold_steps, "window": scheme.window,
                "memory_noise": float(memory_noise), "readout_draws": readout_draws,
                "loss": readout_loss}
    if readout == "spiking":
        if not isinstance(spiking_memory, dict):
            raise ValueError(f"spiking_memory must be a dict of the memory's settings, got "
                             f"{type(spiking_memory).__name__}")
        if readout_loss == "window" and readout_draws != 1:
            raise ValueError(
                f"readout_draws must be 1 with readout='spiking' and readout_loss='window' "
                f"(the memory states hold every shift of one stream), got {readout_draws!r}")
        settings["spiking_memory"] = dict(spiking_memory)
    return settings


def hidden_rates(config, params, m):
    """Rates of a feed-forward classifier's hidden (rate) neurons for memory
    states ``m``: ``rates(W_m m + bias)`` in numpy, with ``m`` including
    ``e_x`` (as `LMU.closed_form_memory` returns it) and no input to the
    hidden layer."""
    J = np.asarray(m) @ params["W_m"].T + params["bias"]
    neuron = make_neuron_type(config.get("hidden_neuron_type", "RectifiedLinear"))
    return neuron.rates(J, np.ones(J.shape[-1]), np.zeros(J.shape[-1]))


def feedforward_logits(config, params, m):
    """Logits of a feed-forward classifier (rate neurons) for memory states ``m``:
    ``W_out hidden_rates(m) + b_out`` (`hidden_rates`)."""
    return hidden_rates(config, params, m) @ params["W_out"].T + params["b_out"]


def stream_logits(config, params, memories):
    """Logits of the ``"hold"`` readout: `feedforward_logits` averaged over the
    shifts of ``memories`` (`stream_memories`); the readout is linear, so this
    is the readout of the hidden rates averaged over the window."""
    return np.mean([feedforward_logits(config, params, m) for m in memories], axis=0)


def hold_stream(x, hold_steps, tail, x_prev=None):
    """The input stream that presents ``x`` as the chip sees it.

    ``x_prev[i]``, ``hold_steps`` zeros, ``x[i]``, ``tail`` zeros, along the
    time axis (without ``x_prev``: ``x[i]`` and ``tail`` zeros).

    Parameters
    ----------
    x, x_prev : ndarray, shape ``(n, T, input_d)``
    hold_steps, tail : int

    Returns
    -------
    ndarray, shape ``(n, T + tail, input_d)`` or ``(n, 2 T + hold_steps + tail, input_d)``
    """
    x = np.asarray(x, dtype=np.float64)
    n, _, input_d = x.shape
    parts = [x, np.zeros((n, tail, input_d))]
    if x_prev is not None:
        x_prev = np.asarray(x_prev, dtype=np.float64)
        if x_prev.shape != x.shape:
            raise ValueError(f"x_prev must have the shape of x {x.shape}, got {x_prev.shape}")
        parts = [x_prev, np.zeros((n, hold_steps, input_d)), *parts]
    return np.concatenate(parts, axis=1)


def stream_rate_logits(lmu, config, params, x, hold_steps, window, from_rest=False):
    """The rate model's logits for ``x`` read as the chip reads the spiking
    memory: ``x`` back to back (`stream_memories`; with ``from_rest``, each
    sequence from rest, as a batched evaluation runs them), logits averaged
    over the readout window's shifts (`stream_logits`); ``params`` include
    ``e_x``."""
    memories = stream_memories(lmu, np.asarray(x), hold_steps, window, from_rest=from_rest)
    return stream_logits(config, params, memories)
