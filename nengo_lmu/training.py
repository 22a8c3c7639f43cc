"""Training `LMUClassifier` networks with NengoDL, in two equivalent ways.

``method="parallel"``: the memory is a linear time-invariant filter of the
input (no hidden-to-memory or memory-to-memory connections, no hidden
recurrence), so its final state ``m_T`` is computed for every sequence in
closed form (`LMU.closed_form_memory`, one matrix product) and NengoDL trains
the hidden and readout weights on a one-step network; no loop over time.

``method="sequential"``: NengoDL runs the temporal network over the whole
sequence and backpropagates through time. It works for every configuration
and is the path for GPUs.

Both write the same params dict, which builds the temporal network
(`LMUClassifier` with ``closed_form=False``) for nengo, NengoDL or Loihi.
Checkpoints are written atomically after every epoch, so a rerun of the same
call resumes after the last finished epoch.

Both run with the NengoDL settings of `configure_nengo_dl`: only the LMU's
weights are trainable (the memory's ``Abar``, ``Bbar`` stay fixed), and by
default (``fast=True``) NengoDL computes each Dense transform as one 2-D
matrix product written straight into its target signal (`dense_settings`),
which makes backpropagation through the 784 steps of psMNIST several times
faster on a CPU than NengoDL's default plan.
"""

import json
import os
import time

import nengo
import numpy as np

from nengo_lmu.io import atomic_path, write_json
from nengo_lmu.lmu import LMUClassifier
from nengo_lmu.validation import check_choice, check_integer, check_sequences, is_finite_real

METHODS = ("parallel", "sequential")

#: Memory readout schemes the parallel path trains for: ``"exact"`` reads
#: ``m_T`` (the rate model's scheme); ``"hold"`` reads the memory as the
#: spiking classifier does (`nengo_lmu.spiking`, ``memory="spiking"``):
#: sequences back to back, each followed by ``hold_steps`` zero inputs, read
#: during the last ``window`` of them (`hold_shifts`); ``"spiking"`` reads
#: the same way the spiking memory itself, simulated with Loihi's neuron model
#: (`nengo_lmu.spiking.SpikingLMUClassifier.memory_states`).
READOUTS = ("exact", "hold", "spiking")

#: Losses of the ``"hold"`` and ``"spiking"`` readouts: ``"draw"`` is the
#: cross-entropy of the logits at one shift of the readout window drawn per
#: training copy (``readout_draws`` copies); ``"window"`` is the cross-entropy
#: of the logits averaged over all the window's shifts, which is what the
#: spiking classifier reads out (`stream_logits`).
READOUT_LOSSES = ("draw", "window")

_DENSE_STEP = {}


def _dense_step_op():
    """The `DenseStep` operator class, with its NengoDL builder registered.

    Defined on first use so that importing this module does not import
    TensorFlow.
    """
    if "op" in _DENSE_STEP:
        return _DENSE_STEP["op"]
    # pylint: disable=import-outside-toplevel
    import tensorflow as tf
    from nengo.builder.operator import Operator
    from nengo_dl.builder import Builder, OpBuilder

    class DenseStep(Operator):
        """``Y = A X`` (``inc=False``) or ``Y += A X`` (``inc=True``).

        One Dense transform: ``A`` (weights, not minibatched) times the
        minibatched vector ``X``, written straight into ``Y`` (the
        connection's target signal or a slice of it).
        """

        def __init__(self, A, X, Y, inc, tag=None):
            super().__init__(tag=tag)
            self.inc = bool(inc)
            self.sets = [] if self.inc else [Y]
            self.incs = [Y] if self.inc else []
            self.reads = [A, X]
            self.updates = []

        @property
        def A(self):  # noqa: N802 (nengo's operator naming)
            return self.reads[0]

        @property
        def X(self):  # noqa: N802
            return self.reads[1]

        @property
        def Y(self):  # noqa: N802
            return (self.incs + self.sets)[0]

        def make_step(self, signals, dt, rng):
            A, X, Y, inc = signals[self.A], signals[self.X], signals[self.Y], self.inc

            def step_densestep():
                if inc:
                    Y[...] += A.dot(X)
                else:
                    Y[...] = A.dot(X)

            return step_densestep

    @Builder.register(DenseStep)
    class DenseStepBuilder(OpBuilder):  # pylint: disable=unused-variable
        """``X (batch, n) @ A.T`` with one ``tf.matmul``, no transposes."""

        def build_pre(self, signals, config):
            super().build_pre(signals, config)
            op = self.ops[0]
            self.A_data = signals.combine([op.A])
            self.X_data = signals.combine([op.X])
            self.Y_data = signals.combine([op.Y])
            self.mode = "inc" if op.inc else "update"

        def build_step(self, signals):
            A = signals.gather(self.A_data)
            X = signals.gather(self.X_data)
            signals.scatter(self.Y_data, tf.matmul(X, A, transpose_b=True), mode=self.mode)

        @staticmethod
        def mergeable(x, y):
            return False

    _DENSE_STEP["op"] = DenseStep
    return DenseStep


def dense_step_simplification(operators):
    """NengoDL graph simplification: Dense transforms as `DenseStep` ops.

    Applies NengoDL's default simplifications until nothing changes, then
    replaces every ``DotInc``/``DotSet`` of a weight matrix (not minibatched)
    and a minibatched vector by a `DenseStep`. Where the product is only
    copied into the connection's target (synapse ``None``), the copy is
    dropped and the `DenseStep` writes (or adds) into the target directly.
    Idempotent, so NengoDL's repeated application stops after one more call.

    Parameters
    ----------
    operators : list of `nengo.builder.Operator`

    Returns
    -------
    list of `nengo.builder.Operator`
    """
    # pylint: disable=import-outside-toplevel
    from nengo.builder.operator import Copy, DotInc
    from nengo_dl import graph_optimizer, op_builders

    dense_step = _dense_step_op()
    if any(isinstance(op, dense_step) for op in operators):
        return operators
    while True:
        old = operators
        for simplify in graph_optimizer.default_simplifications:
            operators = simplify(operators)
        if len(old) == len(operators) and all(a is b for a, b in zip(old, operators)):
            break

    sets, incs, reads, updates = graph_optimizer.signal_io_dicts(operators)
    replace, drop = {}, set()
    for op in operators:
        if type(op) not in (DotInc, op_builders.DotSet):  # pylint: disable=unidiomatic-typecheck
            continue
        if op.A.ndim != 2 or op.A.minibatched or not op.X.minibatched:
            continue
        target, inc = op.Y, type(op) is DotInc
        w = op.Y
        if (not inc and not w.is_view and len(sets[w]) == 1 and not incs[w]
                and not updates[w] and len(reads[w]) == 1):
            copy = reads[w][0]
            if (type(copy) is Copy  # pylint: disable=unidiomatic-typecheck
                    and copy.src is w and copy.src_slice is None
                    and (copy.dst_slice is None or isinstance(copy.dst_slice, slice))):
                dst = copy.dst if copy.dst_slice is None else copy.dst[copy.dst_slice]
                if dst.shape == w.shape:
                    target, inc = dst, copy.inc
                    drop.add(copy)
        replace[op] = dense_step(op.A, op.X, target, inc, tag=op.tag)
    return [replace.get(op, op) for op in operators if op not in drop]


def dense_settings():
    """The NengoDL settings of the fast path (`configure_nengo_dl` ``fast=True``).

    ``simplifications``: `dense_step_simplification`; ``planner``: NengoDL's
    ``noop_planner`` and ``sorter``: ``noop_order_signals``. Without merged
    operator groups every signal gets its own base array, so every operator
    reads and writes whole tensors instead of gathering from and scattering
    into shared arrays (NengoDL's default plan merges a few copies and so
    makes most writes ``tensor_scatter_nd_update``; on a CPU those, and the
    batched matrix products with their transposes, cost far more than the
    arithmetic of a 212-unit LMU).
    """
    from nengo_dl import graph_optimizer  # pylint: disable=import-outside-toplevel

    return {
        "simplifications": [dense_step_simplification],
        "planner": graph_optimizer.noop_planner,
        "sorter": graph_optimizer.noop_order_signals,
    }


def configure_nengo_dl(clf, fast=True):
    """Configure an `LMUClassifier` for `nengo_dl.Simulator` (training or inference).

    Stateless simulation, only the last step of ``clf.probe`` kept, the
    fixed connections of the LMU (`LMU.fixed_connections`: the memory's
    ``Abar`` and ``Bbar``) not trainable, so that exactly the weights of
    `LMUClassifier.get_params` are trained; with ``fast=True`` also
    `dense_settings`.

    Parameters
    ----------
    clf : `LMUClassifier`
    fast : bool
        Use `dense_settings` (same results, several times faster); False
        keeps NengoDL's default plan (for comparison).

    Returns
    -------
    clf : `LMUClassifier`
    """
    import nengo_dl  # pylint: disable=import-outside-toplevel

    settings = dense_settings() if fast else {}
    with clf:
        nengo_dl.configure_settings(stateful=False, keep_history=True, trainable=None,
                                    **settings)
    clf.config[clf.probe].keep_history = False
    for conn in clf.lmu.fixed_connections:
        clf.config[conn].trainable = False
    return clf


def save_params(path, params, **meta):
    """Save a params dict (and JSON-able metadata) as ``.npz``, atomically."""
    arrays = {f"param/{k}": np.asarray(v) for k, v in params.items()}
    arrays["meta"] = np.array(json.dumps(meta))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def load_params(path):
    """Load ``(params, meta)`` saved by `save_params`, without pickle."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no params file at {path}")
    with np.load(path, allow_pickle=False) as data:
        params = {k[len("param/"):]: data[k] for k in data.files if k.startswith("param/")}
        meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
    return params, meta


def hold_shifts(hold_steps, window):
    """Shifts ``s`` (zero steps after a sequence) of the ``"hold"`` readout.

    ``hold_steps - window, ..., hold_steps`` (``window + 1`` values): the
    spiking readout averages over the last ``window`` steps of the hold, and
    the one extra step earlier covers the one-step input delay of the chip.
    """
    hold_steps = check_integer("hold_steps", hold_steps)
    window = check_integer("window", window)
    if window > hold_steps:
        raise ValueError(f"window ({window}) must be at most hold_steps ({hold_steps})")
    return np.arange(hold_steps - window, hold_steps + 1)


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
    input_d = x.shape[2]
    out = np.empty((n, lmu.memory_d * lmu.order))
    for s in np.unique(shifts):
        rows = np.flatnonzero(shifts == s)
        # the stream itself, zeros included, through the one closed form
        parts = [x[rows], np.zeros((len(rows), s, input_d))]
        if x_prev is not None:
            parts = [x_prev[rows], np.zeros((len(rows), hold_steps, input_d)), *parts]
        out[rows] = lmu.closed_form_memory(np.concatenate(parts, axis=1), params=params)
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


def stream_memories(lmu, x, hold_steps, window):
    """Exact memory of ``x`` run back to back (each after the previous one and
    ``hold_steps`` zeros, the first from rest), at every shift of `hold_shifts`.

    Returns
    -------
    ndarray, shape ``(window + 1, n, memory_d * order)``, float32
    """
    x = np.asarray(x)
    prev = np.concatenate([np.zeros_like(x[:1]), x[:-1]])
    out = [stream_memory(lmu, x, s, x_prev=prev, hold_steps=hold_steps).astype(np.float32)
           for s in hold_shifts(hold_steps, window)]
    return np.array(out)  # x_prev zero for the first: it starts from rest


def readout_settings(readout="exact", hold_steps=40, window=30, memory_noise=0.0,
                     readout_draws=2, spiking_memory=None, readout_loss="draw"):
    """The validated readout settings as recorded in ``config.json``.

    ``readout_loss`` (`READOUT_LOSSES`) is recorded as ``loss``. With
    ``readout="spiking"`` and ``readout_loss="window"``, ``readout_draws``
    must be 1: the given states hold every shift of one stream already.

    ``spiking_memory`` (``readout="spiking"`` only, and required there):
    the settings of the spiking memory the states came from
    (``memory_neurons``, ``memory_max_rate``, ``seed``, ...), recorded so
    that the classifier is deployed with a memory of those settings.
    """
    check_choice("readout", readout, READOUTS)
    if readout == "exact":
        return {"scheme": "exact"}
    hold_shifts(hold_steps, window)  # validates both
    if not is_finite_real(memory_noise) or memory_noise < 0:
        raise ValueError(f"memory_noise must be a finite number >= 0, got {memory_noise!r}")
    settings = {"scheme": readout, "hold_steps": int(hold_steps), "window": int(window),
                "memory_noise": float(memory_noise),
                "readout_draws": check_integer("readout_draws", readout_draws),
                "loss": check_choice("readout_loss", readout_loss, READOUT_LOSSES)}
    if (readout == "spiking") != (spiking_memory is not None):
        raise ValueError("spiking_memory (the memory's settings) goes with readout='spiking', "
                         "and only with it")
    if readout == "spiking":
        if memory_noise:
            raise ValueError("memory_noise applies to readout='hold' only")
        if readout_loss == "window" and readout_draws != 1:
            raise ValueError(
                f"readout_draws must be 1 with readout='spiking' and readout_loss='window' "
                f"(the memory states hold every shift of one stream), got {readout_draws!r}")
        settings["spiking_memory"] = dict(spiking_memory)
    return settings


def _check_memory_states(memory_states, n_train, n_valid, window, size):
    """Validate ``(train, valid)`` memory states for ``readout="spiking"``."""
    if memory_states is None or len(memory_states) != 2:
        raise ValueError("readout='spiking' needs memory_states=(train_states, valid_states)")
    out = []
    for name, m, n in zip(("training", "validation"), memory_states, (n_train, n_valid)):
        m = np.asarray(m, dtype=np.float32)
        if m.shape != (window + 1, n, size):
            raise ValueError(f"{name} memory_states must have shape (window + 1, n, "
                             f"memory_d * order) = {(window + 1, n, size)}, got {m.shape}")
        if not np.all(np.isfinite(m)):
            raise ValueError(f"{name} memory_states contain NaN or inf")
        out.append(m)
    return out


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


def _inputs(clf, x, method):
    """NengoDL input dict for sequences ``x`` (n, T, input_d)."""
    if method == "parallel":
        feeds = {clf.lmu.memory_input: clf.lmu.closed_form_memory(x)[:, None, :]}
        feeds[clf.input] = np.asarray(x[:, -1:, :], dtype=np.float32)
        return feeds
    return {clf.input: np.asarray(x, dtype=np.float32)}


def build_classifier(config, params=None, method="sequential"):
    """The `LMUClassifier` of ``config`` for ``method`` (parallel: closed form)."""
    kwargs = dict(config)
    n_classes = kwargs.pop("n_classes")
    neuron = kwargs.pop("hidden_neuron_type", "RectifiedLinear")
    kwargs["hidden_neuron_type"] = make_neuron_type(neuron)
    kwargs["closed_form"] = method == "parallel"
    return LMUClassifier(n_classes, params=params, **kwargs)


#: Hidden neuron types by name: name -> (module, class, keyword arguments).
#: LIF types get ``amplitude=0.01`` so that their rates (up to a few hundred
#: Hz) enter the readout at the scale of a ReLU's outputs; ``Tanh`` gets
#: ``tau_ref=1`` so that it computes tanh itself (nengo's default scales it
#: to 400 Hz).
NEURON_TYPES = {
    "RectifiedLinear": ("nengo", "RectifiedLinear", {}),
    "SpikingRectifiedLinear": ("nengo", "SpikingRectifiedLinear", {}),
    "LIFRate": ("nengo", "LIFRate", {"amplitude": 0.01}),
    "LIF": ("nengo", "LIF", {"amplitude": 0.01}),
    "Tanh": ("nengo", "Tanh", {"tau_ref": 1.0}),
    "LoihiLIFRate": ("nengo_loihi.neurons", "LoihiLIFRate", {"amplitude": 0.01}),
    "LoihiSpikingRectifiedLinear": ("nengo_loihi.neurons", "LoihiSpikingRectifiedLinear", {}),
}


def make_neuron_type(name):
    """A nengo neuron type from its name in `NEURON_TYPES` (or an instance)."""
    if isinstance(name, nengo.neurons.NeuronType):
        return name
    if name not in NEURON_TYPES:
        raise ValueError(
            f"hidden_neuron_type must be one of {sorted(NEURON_TYPES)}, got {name!r}"
        )
    module, cls, kwargs = NEURON_TYPES[name]
    import importlib  # pylint: disable=import-outside-toplevel

    return getattr(importlib.import_module(module), cls)(**kwargs)


def predict(clf, x, method="sequential", batch_size=100, backend="dl"):
    """Logits of ``clf`` for sequences ``x`` at the last step, shape (n, n_classes).

    ``backend="dl"`` runs NengoDL in minibatches; ``"nengo"`` runs the
    reference simulator sequence by sequence (slow; for checking; it sets
    ``clf.input.output`` to present ``x``).
    """
    x = np.asarray(x)
    if backend == "nengo":
        if method == "parallel":
            raise ValueError("backend='nengo' evaluates the temporal network (method='sequential')")
        state = {"seq": 0}
        clf.input.output = lambda t: x[state["seq"], min(int(round(t / 0.001)) - 1, x.shape[1] - 1)]
        out = []
        with nengo.Simulator(clf, progress_bar=False) as sim:
            for i in range(len(x)):
                state["seq"] = i
                sim.reset()
                sim.run_steps(x.shape[1])
                out.append(sim.data[clf.probe][-1])
        return np.array(out)

    import nengo_dl  # pylint: disable=import-outside-toplevel

    n = len(x)
    pad = (-n) % batch_size
    if pad:
        x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
    configure_nengo_dl(clf)
    feeds = _inputs(clf, x, method)
    n_steps = 1 if method == "parallel" else x.shape[1]
    with nengo_dl.Simulator(clf, minibatch_size=batch_size, progress_bar=False) as sim:
        out = sim.predict(feeds, n_steps=n_steps, verbose=0)[clf.probe][:, -1]
    return out[:n]


def accuracy(logits, y):
    """Fraction of rows of ``logits`` whose argmax is the label ``y``."""
    return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(y).ravel()))


def _window_crossentropy(y_true, y_pred):
    """Cross-entropy of the logits averaged over the steps (the readout window)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return tf.keras.losses.sparse_categorical_crossentropy(
        y_true[:, -1], tf.reduce_mean(y_pred, axis=1), from_logits=True)


def train(
    config,
    train_data,
    valid_data,
    out_dir,
    epochs=10,
    method="parallel",
    batch_size=100,
    learning_rate=1e-3,
    weight_decay=0.0,
    clipnorm=None,
    decay_epochs=None,
    seed=0,
    verbose=1,
    log=print,
    meta=None,
    readout="exact",
    hold_steps=40,
    window=30,
    memory_noise=0.0,
    readout_draws=2,
    memory_states=None,
    spiking_memory=None,
    initial_params=None,
    readout_loss="draw",
):
    """Train an `LMUClassifier` with NengoDL, checkpointing every epoch.

    Parameters
    ----------
    config : dict
        ``n_classes`` plus the `LMU` arguments (``units``, ``order``,
        ``theta``, ``input_d``, ...), ``hidden_neuron_type`` by name.
    train_data, valid_data : (x, y)
        Sequences ``(n, T, input_d)`` and integer labels ``(n,)``.
    out_dir : str
        Gets ``config.json``, ``checkpoint.npz`` (after every epoch),
        ``params.npz`` (best by validation accuracy) and ``history.json``.
        If a checkpoint of the same config is there, training resumes.
    method : {"parallel", "sequential"}
    weight_decay : float
        Decoupled weight decay (AdamW) when > 0; plain Adam otherwise.
    clipnorm : float, optional
        Clip the global norm of the gradients to this value (backpropagation
        through time with ``hidden_to_memory``/``memory_to_memory`` can
        otherwise diverge).
    decay_epochs : int, optional
        Cosine-decay the learning rate to 0 over this many epochs (default:
        ``epochs``).
    meta : dict, optional
        Recorded in ``config.json`` (e.g. the data's permutation seed).
    readout : {"exact", "hold", "spiking"}
        ``"exact"`` trains on the final memory ``m_T``. ``"hold"``
        (``method="parallel"`` only) trains on the memory as the spiking
        classifier with ``memory="spiking"`` delivers it: read ``s`` zero
        steps after the sequence, ``s`` uniform over `hold_shifts`, with a
        random other training sequence (and ``hold_steps`` zeros) before it,
        plus ``memory_noise`` (`hold_memory`); ``readout_draws`` fixed
        draws per training sequence, made once. The validation accuracy is
        then that of the same scheme: validation sequences back to back,
        logits averaged over the shifts (`stream_logits`). Recorded in
        ``config.json`` as ``readout`` (`evaluate_psmnist` takes
        ``hold_steps`` and ``window`` from there). ``"spiking"`` is
        ``"hold"`` with the memory states given in ``memory_states``
        (simulated spiking memory) instead of the exact memory.
    hold_steps, window : int
        Zero steps after each sequence, and the last of them read out
        (``"hold"`` only).
    memory_noise : float
        Standard deviation of Gaussian noise on the memory, relative to each
        dimension's largest ``|m_T|`` on the training data (``"hold"`` only).
    readout_draws : int
        Augmented copies of the training set (``"hold"`` and ``"spiking"``;
        ``"spiking"`` draws a shift of ``memory_states`` for each).
    memory_states : (ndarray, ndarray), ``readout="spiking"`` only
        The memory as the hidden layer reads it (after ``e_x``) for the
        training and the validation sequences, each of shape
        ``(window + 1, n, order)``, one row per shift of `hold_shifts`
        (`nengo_lmu.spiking.SpikingLMUClassifier.memory_states` times
        ``e_x``); the validation states as `evaluate_psmnist` presents them
        (back to back).
    spiking_memory : dict, ``readout="spiking"`` only
        The settings that produced ``memory_states``, recorded in
        ``config.json`` (see `readout_settings`).
    initial_params : dict, optional
        Start from these weights (e.g. a trained model's, to fine-tune it);
        a checkpoint in ``out_dir`` takes precedence.
    readout_loss : {"draw", "window"}
        ``"hold"`` and ``"spiking"`` only (`READOUT_LOSSES`). ``"draw"``:
        each training copy is read at one shift of the window. ``"window"``:
        the loss is that of the logits averaged over every shift of the
        window, as the spiking classifier reads out (NengoDL then runs
        ``window + 1`` steps per copy, one per shift; the hidden layer has no
        recurrence, so the steps are independent).

    Returns
    -------
    history : dict
        ``epoch``, ``loss``, ``val_accuracy``, ``epoch_s`` lists, ``best``.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    import nengo_dl  # pylint: disable=import-outside-toplevel

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    readout_config = readout_settings(readout, hold_steps, window, memory_noise, readout_draws,
                                      spiking_memory, readout_loss)
    if readout != "exact" and method != "parallel":
        raise ValueError(f"readout={readout!r} needs method='parallel' (closed form)")
    if readout != "exact" and config.get("input_to_hidden"):
        raise ValueError(f"readout={readout!r} does not support input_to_hidden")
    # validate the data before anything is built or written
    input_d = int(config["input_d"])
    try:
        x_train, y_train = check_sequences(
            *train_data, n_steps=np.shape(train_data[0])[1], input_d=input_d,
            n_classes=int(config["n_classes"]),
        )
    except ValueError as e:
        raise ValueError(f"training data: {e}") from None
    try:
        x_val, y_val = check_sequences(*valid_data, n_steps=x_train.shape[1], input_d=input_d,
                                       n_classes=int(config["n_classes"]))
    except ValueError as e:
        raise ValueError(f"validation data (must match the training data): {e}") from None
    if len(x_train) % batch_size or len(x_val) % batch_size:
        raise ValueError(
            f"batch_size ({batch_size}) must divide the numbers of training "
            f"({len(x_train)}) and validation ({len(x_val)}) sequences"
        )
    if readout == "spiking":
        m_train, m_val = _check_memory_states(
            memory_states, len(x_train), len(x_val), window,
            int(config.get("memory_d", 1)) * int(config["order"]))
    elif memory_states is not None:
        raise ValueError("memory_states go with readout='spiking' only")
    os.makedirs(out_dir, exist_ok=True)
    config_path = os.path.join(out_dir, "config.json")
    ckpt_path = os.path.join(out_dir, "checkpoint.npz")
    run_config = {"model": config, "method": method, "batch_size": batch_size,
                  "learning_rate": learning_rate, "weight_decay": weight_decay,
                  "clipnorm": clipnorm,
                  "epochs": epochs, "seed": seed, "readout": readout_config,
                  **(meta or {})}
    history = {"epoch": [], "loss": [], "val_accuracy": [], "epoch_s": [], "best": None}
    params = initial_params
    if os.path.exists(config_path) and os.path.exists(ckpt_path):
        with open(config_path, encoding="utf-8") as f:
            previous = json.load(f)
        previous.setdefault("readout", {"scheme": "exact"})  # written before readouts
        if previous["readout"]["scheme"] != "exact":
            previous["readout"].setdefault("loss", "draw")  # written before readout losses
        for key in ("model", "readout", *(meta or {})):
            if previous.get(key) != run_config[key]:
                raise ValueError(
                    f"{out_dir} holds a checkpoint of a different run ({key}: "
                    f"{previous.get(key)} != {run_config[key]}); use another --out directory"
                )
        params, meta = load_params(ckpt_path)
        history = meta["history"]
        log(f"resuming from {ckpt_path} after epoch {history['epoch'][-1]}")
    write_json(config_path, run_config)

    clf = configure_nengo_dl(build_classifier(config, params=params, method=method))
    n_steps = 1 if method == "parallel" else x_train.shape[1]
    loss = tf.losses.SparseCategoricalCrossentropy(from_logits=True)
    if readout != "exact":
        window_loss = readout_loss == "window"
        if readout == "hold":
            m = hold_memory(clf.lmu, x_train, hold_steps, window, draws=readout_draws,
                            memory_noise=memory_noise, rng=np.random.RandomState(seed),
                            all_shifts=window_loss)
            v_memories = stream_memories(clf.lmu, x_val, hold_steps, window)
        elif window_loss:
            m = m_train.transpose(1, 0, 2)  # every shift of each training stream
            v_memories = m_val
        else:
            # one shift per draw and sequence, as hold_memory draws them
            n = len(x_train)
            shift = np.random.RandomState(seed).randint(len(m_train), size=(readout_draws, n))
            m = np.concatenate([m_train[shift[j], np.arange(n)] for j in range(readout_draws)])
            v_memories = m_val
        m = m.reshape(len(m), -1, m.shape[-1]).astype(np.float32)  # (copies, steps, size)
        n_steps = m.shape[1]
        x_feed = {clf.lmu.memory_input: m,
                  clf.input: np.zeros((len(m), n_steps, input_d), dtype=np.float32)}
        # one target per copy and step (the window loss reads the last)
        y_fit = np.repeat(np.tile(y_train, len(m) // len(y_train))[:, None, None], n_steps, axis=1)
        if window_loss:
            loss = _window_crossentropy
            clf.config[clf.probe].keep_history = True  # the loss reads every step
    else:
        x_feed = _inputs(clf, x_train, method)
        y_fit = y_train.reshape(-1, 1, 1)
        v_feed = _inputs(clf, x_val, method)
    decay_epochs = decay_epochs or epochs
    first = len(history["epoch"])
    best = history["best"]["val_accuracy"] if history["best"] else -1.0
    with nengo_dl.Simulator(clf, minibatch_size=batch_size, progress_bar=False,
                            seed=seed) as sim:
        # compile once: recompiling every epoch retraces the whole graph
        clip = {} if clipnorm is None else {"global_clipnorm": clipnorm}
        optimizer = (
            tf.optimizers.AdamW(learning_rate, weight_decay=weight_decay, **clip)
            if weight_decay > 0
            else tf.optimizers.Adam(learning_rate, **clip)
        )
        sim.compile(
            optimizer=optimizer,
            loss={clf.probe: loss},
        )
        for epoch in range(first, epochs):
            lr = 0.5 * learning_rate * (1 + np.cos(np.pi * min(epoch, decay_epochs) / decay_epochs))
            sim.keras_model.optimizer.learning_rate.assign(lr)
            start = time.perf_counter()
            if verbose:
                log(f"Epoch {epoch + 1}/{epochs} (learning rate {lr:.2e})")
            fit = sim.fit(
                x_feed, {clf.probe: y_fit}, epochs=1,
                n_steps=n_steps, verbose=verbose, shuffle=True,
            )
            epoch_s = time.perf_counter() - start
            params = clf.get_params(sim)
            if readout in ("hold", "spiking"):
                logits = stream_logits(config, params, v_memories)
            else:
                logits = sim.predict(v_feed, n_steps=n_steps, verbose=0)[clf.probe][:, -1]
            val_acc = accuracy(logits, y_val)
            history["epoch"].append(epoch + 1)
            history["loss"].append(float(fit.history["loss"][-1]))
            history["val_accuracy"].append(val_acc)
            history["epoch_s"].append(epoch_s)
            if val_acc > best:
                best = val_acc
                history["best"] = {"epoch": epoch + 1, "val_accuracy": val_acc}
                save_params(os.path.join(out_dir, "params.npz"), params, config=config,
                            epoch=epoch + 1, val_accuracy=val_acc)
            save_params(ckpt_path, params, config=config, history=history)
            write_json(os.path.join(out_dir, "history.json"), history)
            log(f"epoch {epoch + 1}: loss {history['loss'][-1]:.4f}, "
                f"val_accuracy {val_acc:.4f}, {epoch_s:.1f} s")
    return history
