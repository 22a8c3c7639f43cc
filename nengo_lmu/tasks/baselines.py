"""Keras baselines of the experiments, and the time budget of their training.

What the LMUs of `nengo_lmu.tasks` are compared against:

- the LSTMs of the memory-capacity and Mackey-Glass tasks and the psMNIST
  LSTM baseline, all built by `build_lstm` (`lstm_param_count`,
  `match_lstm_units` size them);
- the psMNIST feed-forward and LSTM baselines (`ff_baseline`,
  `lstm_baseline`, `BASELINES`), trained and tested within a time budget by
  `train_keras_baseline`.

`budget_callback` is the one Keras callback of the package for progress
over epochs and a training-time budget (checked after each epoch, or
predicted before each minibatch). The LMU peers of the speed comparison
(keras-lmu, NengoDL's documentation example) are in `nengo_lmu.tasks.peers`.

TensorFlow and Keras are imported inside the functions, so importing this
module is cheap.
"""

import time

import numpy as np

from nengo_lmu.validation import check_choice, check_integer, check_positive

#: Minibatch size of the psMNIST baselines and of every timing here.
BATCH_SIZE = 100
#: Adam learning rate of the Keras baselines (Keras' default).
LEARNING_RATE = 1e-3
#: Before the first validation, a forward minibatch is taken to cost this
#: fraction of a training minibatch (measured for the psMNIST LSTM: 0.3-0.4).
VAL_FORWARD_FRACTION = 0.5


def _say(msg):
    print(msg, flush=True)


def count_trainable(model):
    """Trainable parameters of a Keras model."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


# --------------------------------------------------------------------------
# LSTMs


def build_lstm(units, layers=1, n_outputs=1, n_steps=None, return_sequences=True, name=None):
    """Stacked Keras LSTMs and a linear dense readout (not compiled).

    ``Input((n_steps, 1)) -> LSTM(units) x layers -> Dense(n_outputs)``;
    every LSTM but the last returns sequences, the last one if
    ``return_sequences`` (an output per step) or only its last step.

    Parameters
    ----------
    units : int
        Units of each LSTM.
    layers : int
        Number of stacked LSTMs.
    n_outputs : int
        Outputs of the readout.
    n_steps : int or None
        Sequence length (None: any).
    return_sequences : bool
        Output at every step (True) or at the last one.
    name : str or None
        Name of the Keras model.

    Returns
    -------
    ``tf.keras.Model``
        With `lstm_param_count` ``(units, layers, n_outputs=n_outputs)``
        trainable parameters.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    units = check_integer("lstm_units", units)
    layers = check_integer("lstm_layers", layers)
    inp = tf.keras.Input((n_steps, 1))
    h = inp
    for k in range(layers):
        h = tf.keras.layers.LSTM(units, return_sequences=return_sequences or k + 1 < layers)(h)
    return tf.keras.Model(inp, tf.keras.layers.Dense(n_outputs)(h), name=name)


def lstm_param_count(units, layers, input_d=1, n_outputs=1):
    """Trainable parameters of `build_lstm`: ``layers`` stacked LSTMs of
    ``units`` and a dense readout of ``n_outputs``."""
    units = check_integer("lstm_units", units)
    layers = check_integer("lstm_layers", layers)
    count, size_in = 0, input_d
    for _ in range(layers):
        count += 4 * (units * (size_in + units) + units)
        size_in = units
    return count + n_outputs * (units + 1)


def match_lstm_units(n_params, layers, n_outputs=1):
    """The LSTM width whose parameter count (`lstm_param_count`) is closest
    to ``n_params`` (the smaller one on a tie)."""
    n_params = check_integer("n_params", n_params)
    best, units = None, 1
    while True:
        err = abs(lstm_param_count(units, layers, n_outputs=n_outputs) - n_params)
        if best is not None and err > best[0]:
            return best[1]
        best = (err, units) if best is None or err < best[0] else best
        units += 1


# --------------------------------------------------------------------------
# Progress and time budget of Keras fit


def budget_callback(budget_s=None, epochs=None, per="epoch", n_val_batches=0,
                    batches_per_epoch=None, name="fit", probe_batches=5, progress=False,
                    log=_say):
    """A Keras callback that shows progress over epochs and keeps ``fit`` in a budget.

    Parameters
    ----------
    budget_s : float or None
        Time budget in seconds from the start of ``fit`` (None: no budget).
    epochs : int or None
        The epochs ``fit`` is asked for (for ``progress``, and with
        ``per="epoch"`` to tell a stop before the last epoch).
    per : {"epoch", "batch"}
        ``"epoch"``: after each epoch, stop if more than ``budget_s`` seconds
        have passed (the stop comes after the epoch during which the budget
        ran out). ``"batch"``: after each training minibatch, stop if one
        more minibatch (the median so far, the first one excluded: tracing)
        plus the validation that follows the stop (the last one measured,
        or before the first, `VAL_FORWARD_FRACTION` of a training minibatch
        per validation minibatch) would end past ``budget_s`` (after the
        first minibatch: if the budget is already spent). Keras then
        validates the partial epoch and ends.
    n_val_batches : int
        Validation minibatches after each epoch (``per="batch"``).
    batches_per_epoch : int or None
        Training minibatches per epoch (``per="batch"``: the per-epoch time
        estimated from the first ``probe_batches`` minibatches after the
        first is logged).
    name : str
        Prefix ``[name]`` of the log lines.
    probe_batches : int
        See ``batches_per_epoch``.
    progress : bool
        Show one Keras progress bar over the ``epochs`` (with the loss).
    log : callable
        Receives the log lines (``per="batch"``).

    Returns
    -------
    ``tf.keras.callbacks.Callback``
        After ``fit``: ``stopped`` (the budget stopped training; with
        ``per="epoch"`` only if that was before the last epoch), ``start``
        (``time.perf_counter()`` at the start of ``fit``) and, with
        ``per="batch"``, ``batch_s`` and ``val_s`` (seconds of each training
        minibatch and each validation) and ``s_per_batch()``.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    check_choice("per", per, ("epoch", "batch"))
    budget_s = None if budget_s is None else check_positive("budget_s", budget_s)
    if progress and epochs is None:
        raise ValueError("progress needs the number of epochs")

    class EpochBudget(tf.keras.callbacks.Callback):
        """Progress over epochs; the budget checked after each epoch."""

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()
            self.bar = tf.keras.utils.Progbar(epochs, unit_name="epoch") if progress else None
            self.stopped = False

        def on_epoch_end(self, epoch, logs=None):
            if self.bar is not None:
                self.bar.update(epoch + 1, [("loss", logs["loss"])], finalize=epoch + 1 == epochs)
            self.check_epoch(epoch)

        def check_epoch(self, epoch):
            if budget_s is not None and time.perf_counter() - self.start > budget_s:
                self.stopped = epochs is None or epoch + 1 < epochs
                self.model.stop_training = True

    class MinibatchBudget(EpochBudget):
        """The budget predicted before each minibatch (Keras' batch hooks are
        only called for this one: they cost a synchronisation per batch)."""

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            self.batch_s, self.val_s = [], []
            self._t = self.start

        def check_epoch(self, epoch):
            pass

        def s_per_batch(self):
            timed = self.batch_s[1:] or self.batch_s
            return float(np.median(timed))

        def on_train_batch_begin(self, batch, logs=None):
            self._t = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            self.batch_s.append(now - self._t)
            s_batch = self.s_per_batch()
            if len(self.batch_s) == probe_batches + 1 and batches_per_epoch:
                log(f"[{name}] {s_batch:.3f} s per minibatch (median of {probe_batches}, after "
                    f"the first, {self.batch_s[0]:.1f} s) -> about "
                    f"{s_batch * batches_per_epoch:.0f} s per epoch of {batches_per_epoch} "
                    f"minibatches; budget {budget_s:.0f} s")
            if budget_s is None:
                return
            if len(self.batch_s) == 1:  # tracing: no prediction from this minibatch
                ahead = 0.0
            else:
                ahead = s_batch + (self.val_s[-1] if self.val_s
                                   else VAL_FORWARD_FRACTION * n_val_batches * s_batch)
            if now - self.start + ahead > budget_s and not self.stopped:
                self.stopped = True
                self.model.stop_training = True
                log(f"[{name}] time budget: stopping after minibatch {len(self.batch_s)} "
                    f"({now - self.start:.0f} s of {budget_s:.0f} s used, validation next)")

        def on_test_begin(self, logs=None):
            self._t = time.perf_counter()

        def on_test_end(self, logs=None):
            self.val_s.append(time.perf_counter() - self._t)

    return EpochBudget() if per == "epoch" else MinibatchBudget()


# --------------------------------------------------------------------------
# psMNIST: the Keras baselines


def ff_baseline(units=125, n_pixels=784, n_classes=10):
    """The feed-forward baseline: a dense network on the whole image.

    ``Input((n_pixels,)) -> Dense(units, relu) -> Dense(n_classes)`` (logits).
    ``units=125`` gives 99,385 trainable parameters, about the LMU's.

    Returns
    -------
    ``tf.keras.Model``
        Named ``ff_<units>``, not compiled.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    inp = tf.keras.Input((n_pixels,))
    hidden = tf.keras.layers.Dense(units, activation="relu")(inp)
    return tf.keras.Model(inp, tf.keras.layers.Dense(n_classes)(hidden), name=f"ff_{units}")


def lstm_baseline(units=128, n_steps=784, n_classes=10):
    """The LSTM baseline: one Keras LSTM over the pixel sequence.

    ``Input((n_steps, 1)) -> LSTM(units) (last step) -> Dense(n_classes)``
    (logits), by `build_lstm`. ``units=128`` gives 67,850 trainable
    parameters, 156 give 100,162.

    Returns
    -------
    ``tf.keras.Model``
        Named ``lstm_<units>``, not compiled.
    """
    return build_lstm(units, n_outputs=n_classes, n_steps=n_steps, return_sequences=False,
                      name=f"lstm_{units}")


#: The psMNIST baselines by name: ``kind -> builder(units)``.
BASELINES = {"ff": ff_baseline, "lstm": lstm_baseline}


def _baseline_splits(data, sizes, shape):
    """``(x, y)`` of the train, valid and test splits of ``data``: the first
    ``sizes[split]`` images (None: all), as float32 of the model's input
    ``shape``."""
    out = []
    for key in ("train", "valid", "test"):
        x, y = data[key]
        n = len(x) if sizes[key] is None else min(sizes[key], len(x))
        out.append((np.asarray(x[:n], dtype=np.float32).reshape((n,) + shape),
                    np.asarray(y[:n])))
    return out


def _fit_within_budget(model, train, valid, epochs, budget_s, name, verbose, log):
    """``model.fit`` on ``train`` (``(x, y)``) for up to ``epochs`` epochs
    within ``budget_s`` (`budget_callback`, checked per minibatch), validated
    on ``valid`` after each epoch; leaves ``model`` with the weights of the
    best epoch by validation accuracy. Returns ``(history, budget callback,
    EarlyStopping callback, train_s)``."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    (x, y), (xv, yv) = train, valid
    budget = budget_callback(budget_s, epochs=epochs, per="batch",
                             n_val_batches=-(-len(xv) // BATCH_SIZE),
                             batches_per_epoch=-(-len(x) // BATCH_SIZE), name=name, log=log)
    best = tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                            patience=epochs + 1, restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=epochs, validation_data=(xv, yv),
                        shuffle=True, callbacks=[budget, best], verbose=verbose).history
    train_s = time.perf_counter() - start
    # EarlyStopping restores the best weights only when its patience runs out
    model.set_weights(best.best_weights)
    return history, budget, best, train_s


def _fit_record(history, budget, best, epochs, n_batches):
    """What `train_keras_baseline` reports of its ``fit``: the epochs and
    minibatches done within the budget (`budget_callback`), their times, the
    history and the best epoch (Keras' ``EarlyStopping``)."""
    return {
        "stopped_by_budget": budget.stopped,
        "epochs_max": epochs,
        "epochs_run": len(history["loss"]),
        "epochs_done": len(budget.batch_s) / n_batches,
        "batches_done": len(budget.batch_s),
        "batches_per_epoch": n_batches,
        "first_batch_s": budget.batch_s[0],
        "s_per_batch_median": budget.s_per_batch(),
        "epoch_s_estimate": budget.s_per_batch() * n_batches,
        "val_s": budget.val_s,
        "loss": [float(v) for v in history["loss"]],
        "accuracy": [float(v) for v in history["accuracy"]],
        "val_accuracy": [float(v) for v in history["val_accuracy"]],
        "best_val_accuracy": float(best.best),
        "best_epoch": best.best_epoch + 1,
    }


def train_keras_baseline(kind, units, data, epochs, budget_s, n_train=None, n_val=None,
                         n_test=None, learning_rate=LEARNING_RATE, seed=0, verbose=2,
                         log=_say):
    """Train and test a Keras baseline on psMNIST within a time budget.

    Adam, sparse cross-entropy from logits, minibatches of `BATCH_SIZE`,
    shuffled; validation after each epoch; the weights of the best epoch
    by validation accuracy are tested.

    Parameters
    ----------
    kind : {"ff", "lstm"}
        `ff_baseline` (on the flattened permuted image) or `lstm_baseline`
        (on the permuted sequence).
    units : int
        Hidden units of the baseline.
    data : Dataset
        As returned by `nengo_lmu.data.load_psmnist`.
    epochs : int
        Maximum number of epochs.
    budget_s : float
        Wall-time budget of the ``fit`` call (tracing, training and
        validation after each epoch), enforced by `budget_callback`
        (``per="batch"``).
    n_train, n_val, n_test : int or None
        Use the first images of each split (None: all).
    learning_rate : float
        Adam's learning rate.
    seed : int
        Seed of Keras' initialisers and shuffling.
    verbose : int
        Verbosity of ``fit`` (1: progress bar, 2: one line per epoch).
    log : callable
        Receives the progress lines.

    Returns
    -------
    dict
        Test accuracy of the best epoch's weights (by validation accuracy),
        trainable parameters, training wall time, epochs done and the
        training history (see the keys); JSON-serialisable.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    check_choice("kind", kind, tuple(BASELINES))
    units = check_integer("units", units)
    epochs = check_integer("epochs", epochs)
    budget_s = check_positive("budget_s", budget_s)
    learning_rate = check_positive("learning_rate", learning_rate)
    sizes = {split: check_integer(f"n_{split}", n, allow_none=True)
             for split, n in (("train", n_train), ("valid", n_val), ("test", n_test))}

    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(seed)
    model = BASELINES[kind](units)
    (x, y), (xv, yv), (xt, yt) = _baseline_splits(data, sizes, tuple(model.input_shape[1:]))
    n_batches = -(-len(x) // BATCH_SIZE)
    n_trainable = count_trainable(model)
    log(f"[{kind}] {model.name}: {n_trainable:,} trainable parameters; up to {epochs} epoch(s) "
        f"of {len(x)} images or {budget_s:.0f} s; validation on {len(xv)}, test on {len(xt)}")
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history, budget, best, train_s = _fit_within_budget(
        model, (x, y), (xv, yv), epochs, budget_s, name=kind, verbose=verbose, log=log)
    start = time.perf_counter()
    _, test_accuracy = model.evaluate(xt, yt, batch_size=BATCH_SIZE, verbose=0)
    test_s = time.perf_counter() - start
    log(f"[{kind}] test accuracy {test_accuracy:.4f} (best epoch {best.best_epoch + 1}, "
        f"validation {best.best:.4f}); trained {train_s:.0f} s, {len(budget.batch_s)} minibatches")
    return {
        "model": kind,
        "architecture": (f"Input(784) -> Dense({units}, relu) -> Dense(10)" if kind == "ff" else
                         f"Input((784, 1)) -> LSTM({units}) -> Dense(10)"),
        "units": units,
        "n_trainable": n_trainable,
        "test_accuracy": float(test_accuracy),
        "n_test": len(xt),
        "test_wall_s": test_s,
        "train_wall_s": train_s,
        "train_wall_s_note": ("one fit call: tracing, every minibatch, and the validation after"
                              " each (possibly partial) epoch"),
        "budget_s": budget_s,
        **_fit_record(history, budget, best, epochs, n_batches),
        "n_train": len(x),
        "n_val": len(xv),
        "optimizer": "Adam",
        "learning_rate": learning_rate,
        "batch_size": BATCH_SIZE,
        "seed": seed,
        "permutation_seed": 0,
        "data_source": data.source,
    }


# --------------------------------------------------------------------------
# psMNIST: the peers of the speed comparison, and the timing protocol
