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

`train` checks every argument before it builds or writes anything
(`check_train_args`, `check_model_size`, the model config, the readout, the
data, the initial weights; what it writes to ``config.json`` is what
`nengo_lmu.model_dir.read_config` accepts), and stops with
`TrainingDiverged` when an epoch's loss or weights are NaN or infinite,
before that epoch is committed.

Both run with the NengoDL settings of `configure_nengo_dl`: only the LMU's
weights are trainable (the memory's ``Abar``, ``Bbar`` stay fixed), and by
default (``fast=True``) NengoDL computes each Dense transform as one 2-D
matrix product written straight into its target signal (the plan of
`nengo_lmu.dl_plan`), which makes backpropagation through the 784 steps of
psMNIST several times faster on a CPU than NengoDL's default plan.
"""

import os
import time

import nengo
import numpy as np

from nengo_lmu._deprecated import moved_attributes
from nengo_lmu.dl_plan import dense_settings
from nengo_lmu.io import write_json
from nengo_lmu.lmu import build_classifier, check_params, param_shapes, used_params
from nengo_lmu.metrics import accuracy
from nengo_lmu.model_dir import (  # METHODS: also training.METHODS
    CONFIG,
    METHODS,
    TrainingState,
    check_augment,
    check_meta,
    check_model_config,
    check_run_config,
    check_setting,
    check_spiking_memory,
    empty_history,
    resume,
    save_checkpoint,
)
from nengo_lmu.readout import (
    ReadoutScheme,
    hold_memory,
    readout_settings,
    stream_logits,
    stream_memories,
)
from nengo_lmu.validation import (check_integer, check_sequences, check_steps, format_bytes,
                                  memory_limit)


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


class TrainingDiverged(ValueError):
    """An epoch ended with a loss or weights that are NaN or infinite. Nothing
    of that epoch was committed: the model directory keeps the checkpoint of
    the last good epoch. A `ValueError`: the settings (learning rate, gradient
    clipping, data scale) are its cause, and the same settings diverge again."""


def check_train_args(epochs, method, batch_size, learning_rate, weight_decay, clipnorm,
                     decay_epochs, seed):
    """Check `train`'s training settings before anything is built or written.

    ``epochs`` and ``batch_size`` integers >= 1, ``method`` one of `METHODS`,
    ``learning_rate`` a finite real > 0, ``weight_decay`` a finite real >= 0,
    ``clipnorm`` None or a finite real > 0, ``decay_epochs`` None or an
    integer >= 1, ``seed`` an integer in 0..2**32 - 1 (it seeds numpy): the
    values ``config.json`` accepts (`nengo_lmu.model_dir.RUN_SETTINGS`).

    Returns None; raises a `ValueError` naming the parameter, the accepted
    values and the value given (``batch_size must be an integer >= 1, got 0``).
    """
    for name, value in (("epochs", epochs), ("method", method), ("batch_size", batch_size),
                        ("learning_rate", learning_rate), ("weight_decay", weight_decay),
                        ("clipnorm", clipnorm), ("seed", seed)):
        check_setting(name, value)
    check_integer("decay_epochs", decay_epochs, allow_none=True)


#: Bytes of the estimate per trained weight (four float32 copies in
#: TensorFlow: the weight, its gradient, Adam's two moments; two float64 copies
#: in numpy: the last and the best weights), per float of the training data
#: (float64, and the shuffled copy of each epoch) and per float of NengoDL's
#: activations (float32).
_BYTES_PER_WEIGHT, _BYTES_PER_DATUM, _BYTES_PER_ACTIVATION = 32, 16, 4


def estimate_training_memory(config, n_sequences, batch_size=100, n_steps=1,
                             method="parallel"):
    """A rough estimate (bytes) of what training a model config holds in memory.

    ``weights``: the trained weights with their gradients and Adam's moments,
    the numpy copies of the last and best ones, and the memory's fixed
    ``Abar``, ``Bbar``; ``data``: ``n_sequences`` x ``n_steps`` floats of the
    input and, with ``method="parallel"``, of the closed-form memory
    (``memory_d * order`` per step), with each epoch's shuffled copy;
    ``activations``: NengoDL's signals of one minibatch of ``batch_size``
    over ``n_steps`` steps (hidden layer, memory and logits, their gradients
    and the currents), which backpropagation keeps.
    """
    shapes = param_shapes(config)
    trained = sum(int(np.prod(shapes[k])) for k in used_params(config))
    size = config.get("memory_d", 1) * config["order"]
    fixed = size * size + size * config.get("memory_d", 1)
    per_step = config["input_d"] + (size if method == "parallel" else 0)
    signals = config["units"] + size + config["n_classes"]
    return {
        "weights": trained * _BYTES_PER_WEIGHT + fixed * _BYTES_PER_ACTIVATION,
        "data": int(n_sequences) * int(n_steps) * per_step * _BYTES_PER_DATUM,
        "activations": int(batch_size) * int(n_steps) * 4 * signals * _BYTES_PER_ACTIVATION,
    }


def check_model_size(config, n_sequences, batch_size=None, n_steps=1, method=None):
    """Refuse to train a model that cannot fit in this machine's memory.

    Estimates the memory the training needs (`estimate_training_memory`:
    the weights and optimizer state, the closed-form memory of
    ``n_sequences`` x ``memory_d * order`` floats and the inputs, NengoDL's
    activations of a minibatch) and raises a `ValueError` naming the
    estimate, the machine's memory (``SC_PAGE_SIZE * SC_PHYS_PAGES``) and the
    setting to lower when it exceeds it.

    Parameters
    ----------
    config : dict
        A model config (`train`'s ``config``: ``units``, ``order``, ...) or a
        whole ``config.json`` (then its ``batch_size`` and ``method`` are the
        defaults of those arguments).
    n_sequences : int
        Training sequences (or copies of them), validation sequences included.
    batch_size : int, optional
        Minibatch size (default: the run config's, else 100).
    n_steps : int
        Steps NengoDL runs per sequence (1 for the parallel method, the
        sequence length for the sequential one).
    method : {"parallel", "sequential"}, optional
        Default: the run config's, else ``"parallel"``.

    Returns
    -------
    int
        The estimate in bytes.
    """
    if isinstance(config, dict) and "model" in config:
        batch_size = config.get("batch_size", 100) if batch_size is None else batch_size
        method = config.get("method", "parallel") if method is None else method
        config = config["model"]
    batch_size = 100 if batch_size is None else batch_size
    method = "parallel" if method is None else method
    check_model_config(config, name="config")
    n_sequences = check_integer("n_sequences", n_sequences)
    check_setting("batch_size", batch_size)
    n_steps = check_integer("n_steps", n_steps)
    check_setting("method", method)
    parts = estimate_training_memory(config, n_sequences, batch_size, n_steps, method)
    total = sum(parts.values())
    machine = memory_limit()
    if machine is None or total <= machine:
        return total
    largest = max(parts, key=parts.get)
    lower = {
        "weights": f"units (now {config['units']}) or order (now {config['order']})",
        "data": f"the number of training sequences (now about {n_sequences})"
                + (f" or order (now {config['order']})" if method == "parallel" else ""),
        "activations": f"batch_size (now {batch_size})"
                       + (f" or units (now {config['units']})" if n_steps == 1 else
                          " or the sequence length"),
    }[largest]
    raise ValueError(
        f"training this model needs an estimated {format_bytes(total)} of memory "
        f"({format_bytes(parts['weights'])} for the weights and optimizer state, "
        f"{format_bytes(parts['data'])} for the "
        + ("closed-form memory and inputs" if method == "parallel" else "input sequences")
        + f" of {n_sequences} sequences, {format_bytes(parts['activations'])} for "
        f"NengoDL's activations of a minibatch of {batch_size}"
        + (f" over {n_steps} steps" if n_steps > 1 else "")
        + f"), more than this machine's {format_bytes(machine)}: lower {lower}")


def _check_memory_states(memory_states, readout_config, n_train, n_valid, window, size):
    """Validated ``(train, valid)`` memory states for ``readout="spiking"``, and the
    settings of their memory; None, refusing any states, for the other readouts."""
    if readout_config["scheme"] != "spiking":
        if memory_states is not None:
            raise ValueError("memory_states go with readout='spiking' only")
        return None
    if not isinstance(memory_states, (tuple, list)) or len(memory_states) != 2:
        raise ValueError("readout='spiking' needs memory_states=(train_states, valid_states), "
                         f"got {type(memory_states).__name__}")
    out = []
    for name, m, n in zip(("training", "validation"), memory_states, (n_train, n_valid)):
        try:
            m = np.asarray(m, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name} memory_states must be an array of real numbers of "
                             f"shape {(window + 1, n, size)} ({e})") from None
        if m.shape != (window + 1, n, size):
            raise ValueError(f"{name} memory_states must have shape (window + 1, n, "
                             f"memory_d * order) = {(window + 1, n, size)}, got {m.shape}")
        if not np.all(np.isfinite(m)):
            raise ValueError(f"{name} memory_states contain NaN or inf (or values beyond "
                             "float32)")
        out.append(m)
    check_spiking_memory(readout_config["spiking_memory"])
    return out


def _inputs(clf, x, method, steps=None):
    """NengoDL input dict for sequences ``x`` (n, T, input_d); with ``method="parallel"``,
    one network step per entry of ``steps`` (default: ``[T]``), fed the closed-form memory
    of the first ``steps[j]`` elements (the hidden layer has no recurrence there)."""
    if method == "parallel":
        steps = [x.shape[1]] if steps is None else steps
        memory = np.stack([clf.lmu.closed_form_memory(x[:, :s]) for s in steps], axis=1)
        return {clf.lmu.memory_input: memory.astype(np.float32),
                clf.input: np.asarray(x[:, np.asarray(steps) - 1, :], dtype=np.float32)}
    return {clf.input: np.asarray(x, dtype=np.float32)}


def predict(clf, x, method="sequential", batch_size=100, backend="dl", steps=None):
    """Logits of ``clf`` for sequences ``x`` at the last step, shape (n, n_classes).

    ``backend="dl"`` runs NengoDL in minibatches; ``"nengo"`` runs the
    reference simulator sequence by sequence (slow; for checking; it sets
    ``clf.input.output`` to present ``x``). Every sequence starts from rest.

    ``steps`` (integers in ``1..T``, counted from the start of each
    sequence) reads the logits after each of those steps instead, shape
    ``(n, len(steps), n_classes)``: e.g. ``x`` followed by zeros, read
    during the zeros, is the ``"hold"`` readout
    (`nengo_lmu.readout.ReadoutScheme`). With ``method="parallel"`` each
    is the one-step network fed the closed-form memory of the first
    ``steps[j]`` elements.
    """
    x = np.asarray(x)
    read = check_steps(steps, x.shape[1])
    read = np.array([x.shape[1]]) if read is None else read
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
                sim.run_steps(int(read.max()))
                out.append(sim.data[clf.probe][read - 1])
        out = np.array(out)
        return out if steps is not None else out[:, 0]

    import nengo_dl  # pylint: disable=import-outside-toplevel

    n = len(x)
    pad = (-n) % batch_size
    if pad:
        x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
    configure_nengo_dl(clf)
    clf.config[clf.probe].keep_history = steps is not None  # every step, to read some
    if method == "parallel":  # one network step per step read
        feeds, n_steps, rows = _inputs(clf, x, method, read), len(read), slice(None)
    else:
        feeds, n_steps = _inputs(clf, x, method), x.shape[1]
        rows = [-1] if steps is None else read - 1  # without history, only the last step
    with nengo_dl.Simulator(clf, minibatch_size=batch_size, progress_bar=False) as sim:
        out = sim.predict(feeds, n_steps=n_steps, verbose=0)[clf.probe][:, rows]
    out = out[:n]
    return out if steps is not None else out[:, 0]


def _window_crossentropy(y_true, y_pred):
    """Cross-entropy of the logits averaged over the steps (the readout window)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return tf.keras.losses.sparse_categorical_crossentropy(
        y_true[:, -1], tf.reduce_mean(y_pred, axis=1), from_logits=True)


def train(config, train_data, valid_data, out_dir, epochs=10, method="parallel",
          batch_size=100, learning_rate=1e-3, weight_decay=0.0, clipnorm=None,
          decay_epochs=None, seed=0, verbose=1, log=print, meta=None, readout="exact",
          hold_steps=ReadoutScheme.hold_steps, window=ReadoutScheme.window, memory_noise=0.0,
          readout_draws=2, memory_states=None, spiking_memory=None, initial_params=None,
          readout_loss="draw", augment=None):
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
    seed : int
        In 0..2**32 - 1; fixes the initial weights, the order of the training
        data and NengoDL.
    meta : dict, optional
        Recorded in ``config.json``: the task's metadata, the keys of
        `nengo_lmu.model_dir.META_KEYS` (e.g. the data's permutation seed).
    readout : {"exact", "hold", "spiking"}
        What the classifier learns to read: the final memory ``m_T``
        (``"exact"``) or, with ``method="parallel"``, the memory as the
        spiking classifier with ``memory="spiking"`` delivers it during the
        hold, exact (``"hold"``, `hold_memory`) or spiking (``"spiking"``,
        ``memory_states``), validated on the same readout (`stream_logits`).
        With its settings below, recorded in ``config.json`` as ``readout``
        and described in detail in `nengo_lmu.readout.readout_settings`.
    hold_steps, window, memory_noise, readout_draws, readout_loss
        ``"hold"`` and ``"spiking"``: zero steps after each sequence and the
        last of them read out, noise on the memory (``"hold"`` only),
        augmented copies of the training set, and the loss
        (`READOUT_LOSSES`: at one shift per copy, or averaged over the window).
    memory_states, spiking_memory : ``readout="spiking"`` only
        The memory as the hidden layer reads it (after ``e_x``) for the
        training and the validation sequences (back to back, as
        `evaluate_psmnist` presents them), two arrays ``(window + 1, n,
        order)``, one row per shift of `hold_shifts`
        (`nengo_lmu.spiking.SpikingLMUClassifier.memory_states` times
        ``e_x``); and the dict of the settings that produced them, with which
        `nengo_lmu.model_dir.deployment_settings` deploys the model.
    initial_params : dict, optional
        Start from these weights (e.g. a trained model's, to fine-tune it):
        every weight the model uses, of its shape, finite
        (`nengo_lmu.model_dir.check_params`); a checkpoint in ``out_dir``
        takes precedence.
    augment : callable, optional
        Augmentation of the training sequences (``readout="exact"`` only),
        e.g. `nengo_lmu.data.TranslateAugmentation`: called as ``augment(x,
        rng)`` on the training sequences at the start of every epoch ``k``
        (from 0) with ``rng = np.random.RandomState([seed, k, 1])``, it
        returns new sequences of the same shape that the epoch trains on (with
        ``method="parallel"`` their closed-form memory is computed anew). Its
        ``settings`` (a JSON object, `nengo_lmu.model_dir.check_augment`) are
        recorded in ``config.json`` as ``augment``, so a resumed run refuses
        other settings and continues with the same draws.

    Returns
    -------
    history : dict
        ``epoch``, ``loss``, ``val_accuracy``, ``epoch_s`` lists, ``best``.

    Raises
    ------
    ValueError
        Before anything is built or written, for any argument it cannot
        train with, naming it (`check_train_args`, `check_model_size`, the
        model config, the readout, the data, ``initial_params``,
        ``memory_states``, ``meta``: `nengo_lmu.model_dir.check_run_config`).
    TrainingDiverged
        If an epoch ends with a NaN or infinite loss or weights; nothing of
        that epoch is committed (the last good checkpoint stays).
    """
    # every argument is checked before anything is built or written
    check_train_args(epochs, method, batch_size, learning_rate, weight_decay, clipnorm,
                     decay_epochs, seed)
    check_model_config(config, name="config")
    readout_config = readout_settings(readout, hold_steps, window, memory_noise, readout_draws,
                                      spiking_memory, readout_loss)
    _check_method(config, method, readout)
    (x_train, y_train), (x_val, y_val) = _check_data(config, train_data, valid_data, batch_size)
    memory_states = _check_memory_states(memory_states, readout_config, len(x_train), len(x_val),
                                         window, config.get("memory_d", 1) * config["order"])
    if initial_params is not None:
        check_params(config, initial_params, name="initial_params")
    if meta is not None:
        check_meta(meta)
    augment_settings = _check_augment(augment, readout_config)
    run_config = {"model": config, "method": method, "batch_size": batch_size,
                  "learning_rate": learning_rate, "weight_decay": weight_decay,
                  "clipnorm": clipnorm, "epochs": epochs, "decay_epochs": decay_epochs,
                  "seed": seed, "readout": readout_config, **(meta or {})}
    if augment is not None:
        run_config["augment"] = augment_settings
    check_run_config(run_config)  # config.json will be what read_config accepts
    n_sequences, n_steps = _training_size(readout_config, method, x_train, x_val)
    check_model_size(config, n_sequences, batch_size=batch_size, n_steps=n_steps,
                     method=method)
    state = resume(out_dir, run_config, log)
    params = initial_params if state is None else state.params
    write_json(os.path.join(out_dir, CONFIG), run_config)

    # the training seed also fixes the initial weights
    clf = configure_nengo_dl(build_classifier(config, params=params, method=method, seed=seed))
    if readout == "exact":
        fit_data = _exact_fit_data(clf, method, x_train, y_train, x_val, y_val, augment, seed)
    else:
        fit_data = _hold_fit_data(clf, config, readout_config, seed, x_train, y_train, y_val,
                                  x_val=x_val, memory_states=memory_states)
    schedule = dict(epochs=epochs, learning_rate=learning_rate, decay_epochs=decay_epochs or epochs)
    optimizer = dict(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm)
    return _fit_epochs(clf, config, fit_data, state, out_dir, batch_size, seed, schedule,
                       optimizer, verbose, log)


def _check_method(config, method, readout):
    """Refuse a ``method`` or ``readout`` that cannot train the model ``config``."""
    recurrent = [k for k in ("hidden_to_memory", "memory_to_memory", "hidden_recurrent")
                 if config.get(k)]
    if method == "parallel" and recurrent:
        raise ValueError(f"method='parallel' needs a memory that is a linear filter of the "
                         f"input and a hidden layer without recurrence: config sets "
                         f"{', '.join(recurrent)}; use method='sequential'")
    if readout != "exact" and method != "parallel":
        raise ValueError(f"readout={readout!r} needs method='parallel' (closed form)")
    if readout != "exact" and config.get("input_to_hidden"):
        raise ValueError(f"readout={readout!r} does not support input_to_hidden")


def _training_size(readout_config, method, x_train, x_val):
    """``(n_sequences, n_steps)`` of a training run, for `check_model_size`."""
    if readout_config["scheme"] == "exact":
        return len(x_train) + len(x_val), 1 if method == "parallel" else x_train.shape[1]
    shifts = readout_config["window"] + 1
    n_steps = shifts if readout_config["loss"] == "window" else 1
    n_valid = -(-len(x_val) * shifts // n_steps)  # the validation stream, every shift
    return len(x_train) * readout_config["readout_draws"] + n_valid, n_steps


def _check_data(config, train_data, valid_data, batch_size):
    """Checked ``(x, y)`` of the training and validation data."""
    input_d, n_classes = int(config["input_d"]), int(config["n_classes"])
    try:
        x_train, y_train = check_sequences(
            *train_data, n_steps=np.shape(train_data[0])[1], input_d=input_d,
            n_classes=n_classes,
        )
    except ValueError as e:
        raise ValueError(f"training data: {e}") from None
    try:
        x_val, y_val = check_sequences(*valid_data, n_steps=x_train.shape[1], input_d=input_d,
                                       n_classes=n_classes)
    except ValueError as e:
        raise ValueError(f"validation data (must match the training data): {e}") from None
    check_batches(batch_size, len(x_train), len(x_val))
    return (x_train, y_train), (x_val, y_val)


def check_batches(batch_size, n_train, n_valid, names=("", "")):
    """Refuse numbers of training and validation sequences that
    ``batch_size`` does not divide (training runs whole minibatches);
    ``names`` precede the numbers in the message (e.g. ``"n_valid = "``)."""
    if n_train % batch_size or n_valid % batch_size:
        raise ValueError(
            f"batch_size ({batch_size}) must divide the numbers of training "
            f"({names[0]}{n_train}) and validation ({names[1]}{n_valid}) sequences"
        )


def _check_augment(augment, readout_config):
    """The checked ``settings`` of ``train``'s ``augment`` (None without one)."""
    if augment is None:
        return None
    if not callable(augment):
        raise ValueError(f"augment must be None or a callable augment(x, rng), got "
                         f"{type(augment).__name__}")
    if readout_config["scheme"] != "exact":
        raise ValueError(f"augment goes with readout='exact' only, got "
                         f"readout={readout_config['scheme']!r}")
    settings = getattr(augment, "settings", None)
    check_augment("augment.settings", settings)
    return dict(settings)


def _augmented(augment, x, seed, epoch):
    """The training sequences of epoch ``epoch``: ``augment``'s draw from
    ``RandomState([seed, epoch, 1])``, refused unless of ``x``'s shape and finite."""
    out = augment(x, np.random.RandomState([seed, epoch, 1]))
    try:
        out = np.asarray(out, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"augment must return real sequences of shape {x.shape} ({e})") from None
    if out.shape != x.shape or not np.all(np.isfinite(out)):
        raise ValueError(f"augment must return finite sequences of shape {x.shape}, got "
                         f"shape {out.shape}")
    return out


def _exact_fit_data(clf, method, x_train, y_train, x_val, y_val, augment=None, seed=0):
    """NengoDL feeds and validation of the ``"exact"`` readout (``m_T``); with
    ``augment``, ``"x"`` is a function of the epoch (`_augmented`)."""
    n_steps = 1 if method == "parallel" else x_train.shape[1]
    v_feed = _inputs(clf, x_val, method)

    def validate(sim, params):  # pylint: disable=unused-argument
        logits = sim.predict(v_feed, n_steps=n_steps, verbose=0)[clf.probe][:, -1]
        return accuracy(logits, y_val)

    if augment is None:
        x = _inputs(clf, x_train, method)
    else:
        def x(epoch):
            x_epoch = _augmented(augment, x_train, seed, epoch)
            if method != "parallel":
                return _inputs(clf, x_epoch, method)
            # float32: each epoch's 50,000 augmented sequences in well under a second
            memory = clf.lmu.closed_form_memory(x_epoch, dtype=np.float32)
            return {clf.lmu.memory_input: memory[:, None, :],
                    clf.input: x_epoch[:, -1:, :]}
    return {"x": x, "y": y_train.reshape(-1, 1, 1),
            "n_steps": n_steps, "loss": None, "validate": validate}


def _hold_fit_data(clf, config, readout_config, seed, x_train, y_train, y_val, x_val,
                   memory_states=None):
    """NengoDL feeds and validation of the ``"hold"`` and ``"spiking"`` readouts."""
    scheme = ReadoutScheme.from_json(readout_config)
    draws, window_loss = readout_config["readout_draws"], readout_config["loss"] == "window"
    if readout_config["scheme"] == "hold":
        m = hold_memory(clf.lmu, x_train, scheme.hold_steps, scheme.window, draws=draws,
                        memory_noise=readout_config["memory_noise"],
                        rng=np.random.RandomState(seed), all_shifts=window_loss)
        v_memories = stream_memories(clf.lmu, x_val, scheme.hold_steps, scheme.window)
    else:
        m_train, v_memories = memory_states
        if window_loss:
            m = m_train.transpose(1, 0, 2)  # every shift of each training stream
        else:
            # one shift per draw and sequence, as hold_memory draws them
            n = len(x_train)
            shift = np.random.RandomState(seed).randint(len(m_train), size=(draws, n))
            m = np.concatenate([m_train[shift[j], np.arange(n)] for j in range(draws)])
    m = m.reshape(len(m), -1, m.shape[-1]).astype(np.float32)  # (copies, steps, size)
    n_steps = m.shape[1]
    x_feed = {clf.lmu.memory_input: m,
              clf.input: np.zeros((len(m), n_steps, clf.lmu.input_d), dtype=np.float32)}
    # one target per copy and step (the window loss reads the last)
    y_fit = np.repeat(np.tile(y_train, len(m) // len(y_train))[:, None, None], n_steps, axis=1)
    if window_loss:
        clf.config[clf.probe].keep_history = True  # the loss reads every step

    def validate(sim, params):  # pylint: disable=unused-argument
        return accuracy(stream_logits(config, params, v_memories), y_val)

    return {"x": x_feed, "y": y_fit, "n_steps": n_steps,
            "loss": _window_crossentropy if window_loss else None, "validate": validate}


def _optimizer(learning_rate, weight_decay, clipnorm):
    """Adam, or AdamW with ``weight_decay > 0``; gradients clipped to ``clipnorm``."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    clip = {} if clipnorm is None else {"global_clipnorm": clipnorm}
    if weight_decay > 0:
        return tf.optimizers.AdamW(learning_rate, weight_decay=weight_decay, **clip)
    return tf.optimizers.Adam(learning_rate, **clip)


def _check_finite_epoch(epoch, loss, params, out_dir, learning_rate, epoch_rate):
    """Raise `TrainingDiverged` if epoch ``epoch`` (from 0) ended with a loss or
    weights that are NaN or infinite, before anything of it is committed."""
    bad = [k for k, v in params.items() if not np.all(np.isfinite(v))]
    if np.isfinite(loss) and not bad:
        return
    kept = (f"{out_dir} keeps the checkpoint of epoch {epoch}" if epoch else
            "no epoch was saved")
    raise TrainingDiverged(
        f"training diverged in epoch {epoch + 1}: the loss is {loss}"
        + (f" and the weights {', '.join(bad)} hold NaN or inf" if bad else "")
        + f"; nothing of epoch {epoch + 1} was saved ({kept}). The same settings diverge "
        f"again (training is deterministic): train into another directory with a lower "
        f"learning_rate (now {learning_rate:.3g}; {epoch_rate:.3g} in this epoch) or a "
        f"clipnorm, or with inputs of a smaller scale")


def _fit_epochs(clf, config, fit_data, state, out_dir, batch_size, seed, schedule,
                optimizer, verbose, log):
    """Train epoch after epoch (cosine-decayed learning rate), committing each.

    The order of the training data in epoch ``k`` is a permutation drawn from
    ``RandomState([seed, k])`` (and its augmentation, if any, from
    ``RandomState([seed, k, 1])``: ``fit_data["x"]`` is then a function of
    the epoch) and the optimizer's variables are restored from ``state``, so
    that a resumed run continues exactly as an uninterrupted one would.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    import nengo_dl  # pylint: disable=import-outside-toplevel

    epochs, decay_epochs = schedule["epochs"], schedule["decay_epochs"]
    loss = fit_data["loss"] or tf.losses.SparseCategoricalCrossentropy(from_logits=True)
    history = empty_history() if state is None else state.history
    best_params = None if state is None else state.best_params
    best = history["best"]["val_accuracy"] if history["best"] else -1.0
    n = len(fit_data["y"])
    with nengo_dl.Simulator(clf, minibatch_size=batch_size, progress_bar=False,
                            seed=seed) as sim:
        # compile once: recompiling every epoch retraces the whole graph
        opt = _optimizer(**optimizer)
        sim.compile(optimizer=opt, loss={clf.probe: loss})
        opt.build(sim.keras_model.trainable_variables)
        if state is not None:
            if len(opt.variables) != len(state.optimizer):
                raise ValueError(f"the checkpoint in {out_dir} holds {len(state.optimizer)} "
                                 f"optimizer variables, this optimizer has "
                                 f"{len(opt.variables)}")
            for variable, value in zip(opt.variables, state.optimizer):
                variable.assign(value)
        for epoch in range(len(history["epoch"]), epochs):
            lr = 0.5 * schedule["learning_rate"] * (
                1 + np.cos(np.pi * min(epoch, decay_epochs) / decay_epochs))
            sim.keras_model.optimizer.learning_rate.assign(lr)
            order = np.random.RandomState([seed, epoch]).permutation(n)
            start = time.perf_counter()
            if verbose:
                log(f"Epoch {epoch + 1}/{epochs} (learning rate {lr:.2e})")
            x = fit_data["x"](epoch) if callable(fit_data["x"]) else fit_data["x"]
            fit = sim.fit({k: v[order] for k, v in x.items()},
                          {clf.probe: fit_data["y"][order]}, epochs=1,
                          n_steps=fit_data["n_steps"], verbose=verbose, shuffle=False)
            epoch_s = time.perf_counter() - start
            loss_value = float(fit.history["loss"][-1])
            params = clf.get_params(sim)
            _check_finite_epoch(epoch, loss_value, params, out_dir,
                                schedule["learning_rate"], lr)
            val_acc = fit_data["validate"](sim, params)
            history["epoch"].append(epoch + 1)
            history["loss"].append(loss_value)
            history["val_accuracy"].append(val_acc)
            history["epoch_s"].append(epoch_s)
            if val_acc > best:
                best, best_params = val_acc, params
                history["best"] = {"epoch": epoch + 1, "val_accuracy": val_acc}
            save_checkpoint(out_dir, TrainingState(
                params, best_params, [v.numpy() for v in opt.variables], history), config)
            log(f"epoch {epoch + 1}: loss {history['loss'][-1]:.4f}, "
                f"val_accuracy {val_acc:.4f}, {epoch_s:.1f} s")
    return history


# names that moved out of this module in 0.2 (it holds NengoDL code only)
__getattr__ = moved_attributes(__name__, {
    **dict.fromkeys(("NEURON_TYPES", "make_neuron_type"), "nengo_lmu.neurons"),
    **dict.fromkeys(("READOUTS", "READOUT_LOSSES", "hold_shifts", "stream_memory",
                     "hold_memory", "stream_memories", "readout_settings", "hidden_rates",
                     "feedforward_logits", "stream_logits"), "nengo_lmu.readout"),
    **dict.fromkeys(("save_params", "load_params"), "nengo_lmu.model_dir"),
    "build_classifier": "nengo_lmu.lmu",
    "accuracy": "nengo_lmu.metrics",
    # dense_settings moved there too, and stays importable from here (imported above)
    "dense_step_simplification": "nengo_lmu.dl_plan",
})
