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
"""

import json
import os
import time

import nengo
import numpy as np

from nengo_lmu.io import atomic_path, write_json
from nengo_lmu.lmu import LMUClassifier
from nengo_lmu.validation import check_sequences

METHODS = ("parallel", "sequential")


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
    with clf:
        nengo_dl.configure_settings(stateful=False, keep_history=True)
    clf.config[clf.probe].keep_history = False
    feeds = _inputs(clf, x, method)
    n_steps = 1 if method == "parallel" else x.shape[1]
    with nengo_dl.Simulator(clf, minibatch_size=batch_size, progress_bar=False) as sim:
        out = sim.predict(feeds, n_steps=n_steps, verbose=0)[clf.probe][:, -1]
    return out[:n]


def accuracy(logits, y):
    """Fraction of rows of ``logits`` whose argmax is the label ``y``."""
    return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(y).ravel()))


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

    Returns
    -------
    history : dict
        ``epoch``, ``loss``, ``val_accuracy``, ``epoch_s`` lists, ``best``.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    import nengo_dl  # pylint: disable=import-outside-toplevel

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
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
    os.makedirs(out_dir, exist_ok=True)
    config_path = os.path.join(out_dir, "config.json")
    ckpt_path = os.path.join(out_dir, "checkpoint.npz")
    run_config = {"model": config, "method": method, "batch_size": batch_size,
                  "learning_rate": learning_rate, "weight_decay": weight_decay,
                  "clipnorm": clipnorm,
                  "epochs": epochs, "seed": seed,
                  **(meta or {})}
    history = {"epoch": [], "loss": [], "val_accuracy": [], "epoch_s": [], "best": None}
    params = None
    if os.path.exists(config_path) and os.path.exists(ckpt_path):
        with open(config_path, encoding="utf-8") as f:
            previous = json.load(f)
        for key in ("model", *(meta or {})):
            if previous.get(key) != run_config[key]:
                raise ValueError(
                    f"{out_dir} holds a checkpoint of a different run ({key}: "
                    f"{previous.get(key)} != {run_config[key]}); use another --out directory"
                )
        params, meta = load_params(ckpt_path)
        history = meta["history"]
        log(f"resuming from {ckpt_path} after epoch {history['epoch'][-1]}")
    write_json(config_path, run_config)

    clf = build_classifier(config, params=params, method=method)
    with clf:
        nengo_dl.configure_settings(stateful=False, keep_history=True)
    clf.config[clf.probe].keep_history = False
    x_feed = _inputs(clf, x_train, method)
    v_feed = _inputs(clf, x_val, method)
    n_steps = 1 if method == "parallel" else x_train.shape[1]
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
            loss={clf.probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)},
        )
        for epoch in range(first, epochs):
            lr = 0.5 * learning_rate * (1 + np.cos(np.pi * min(epoch, decay_epochs) / decay_epochs))
            sim.keras_model.optimizer.learning_rate.assign(lr)
            start = time.perf_counter()
            if verbose:
                log(f"Epoch {epoch + 1}/{epochs} (learning rate {lr:.2e})")
            fit = sim.fit(
                x_feed, {clf.probe: y_train.reshape(-1, 1, 1)}, epochs=1,
                n_steps=n_steps, verbose=verbose, shuffle=True,
            )
            epoch_s = time.perf_counter() - start
            logits = sim.predict(v_feed, n_steps=n_steps, verbose=0)[clf.probe][:, -1]
            val_acc = accuracy(logits, y_val)
            params = clf.get_params(sim)
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
