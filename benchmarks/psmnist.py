"""Benchmark: psMNIST LMUs trained with NengoDL, accuracy and training speed.

Five parts, selected with ``--parts`` (all by default), measured in one run:

``accuracy``
    Trains the default psMNIST model (``--units`` ReLU units on an order
    ``--order`` memory of the whole 784-pixel sequence) for ``--epochs``
    epochs with the *parallel* method
    (`nengo_lmu.psmnist.train_psmnist`, into ``OUT/psmnist-parallel``,
    deleted first unless ``--resume``), then tests the *temporal* network
    (784 NengoDL steps per image) on the 10,000 test images with
    `nengo_lmu.psmnist.evaluate_psmnist` (about 400 s).
``speed``
    (a) ``parallel``: our parallel path's seconds per training epoch (the
    median ``epoch_s`` of the accuracy run, or of a 2-epoch run into
    ``OUT/psmnist-speed-parallel`` if that part is not run), and the one-off
    time of the closed-form memory of the 50,000 training sequences.
    (b) ``keras-lmu``: ``Input((784, 1)) -> keras_lmu.LMU(memory_d=1,
    order, theta=784, hidden_cell=Dense(units, relu), no recurrent
    connections) -> Dense(10)``, Adam, sparse cross-entropy from logits,
    batch 100: one epoch of ``fit`` on the same 50,000 sequences, timed after
    a one-batch warm-up (tracing). If a 10-batch probe predicts more than
    ``--keras-max-epoch-s`` (300) for the epoch, only ``--keras-steps`` (100)
    batches, the probe's included, are timed and scaled to the epoch
    (``keras_lmu_extrapolated`` says so). keras-lmu picks its FFT
    ``LMUFeedforward`` layer here; the JSON records the layer it used.
    (c) ``sequential``: seconds per minibatch of 100 of NengoDL ``sim.fit``
    through time (784 steps, backpropagation through time) for the paper's
    recurrent psMNIST configuration (212 ``Tanh`` units, order 256,
    theta 784, ``hidden_to_memory``, ``memory_to_memory``,
    ``input_to_hidden`` and ``hidden_recurrent``), built by
    `nengo_lmu.training.build_classifier` and simulated with the settings of
    `nengo_lmu.training.train` (`nengo_lmu.training.configure_nengo_dl`);
    and the same figure for the LMU example of NengoDL's documentation
    (`nengo_dl_docs_lmu`, see there). ``sequential-nengo-dl-plan``: our
    network again with NengoDL's default plan (``configure_nengo_dl(...,
    fast=False)``), to show what the dense plan gains. Protocol for all:
    build the simulator, compile, one warm-up minibatch (tracing), then
    ``--timing-batches`` minibatches in one ``fit`` call, timed (wall and
    this process's CPU seconds; ratios are of runs in the same process, back
    to back).
``sequential``
    Trains the same recurrent configuration with
    `nengo_lmu.training.train` (``method="sequential"``, into
    ``OUT/psmnist-sequential``, always fresh) on as many training images as
    fit in ``--seq-minutes`` (one pass over the first N images, N sized from
    the measured seconds per minibatch and the build / tracing / validation
    overheads), then reports the accuracy on the first 1,000 validation
    images and the time used. It is the path meant for GPUs; on a CPU it
    gets through only a small part of one epoch within the budget.
``ff``
    The feed-forward baseline (`ff_baseline`): the flattened permuted image
    (784 pixels) through ``Dense(--ff-units=125, relu) -> Dense(10)``
    (99,385 trainable parameters, about the LMU's), Adam (learning rate
    1e-3), sparse cross-entropy from logits, minibatch 100, on the same
    50,000 training images (``load_psmnist(permutation_seed=0)``) for
    ``--ff-epochs`` (30) epochs or ``--ff-minutes`` (15) of training wall
    time, whichever comes first; the weights of the best epoch by accuracy
    on the 10,000 validation images are tested on the 10,000 test images.
    A dense network does not care about the order of its inputs, so the
    permutation does not hinder it (measured here: 98.05 % after 30
    epochs, 57 s; the paper's FF-baseline figure, 92.65 %, comes without an
    architecture).
``lstm``
    The LSTM baseline (`lstm_baseline`): the permuted sequence
    ``(n, 784, 1)`` through ``keras.layers.LSTM(--lstm-units=128)`` (last
    step) ``-> Dense(10)`` (67,850 trainable parameters; 156 units would
    give 100,162), trained and tested like ``ff`` within ``--lstm-minutes``
    (15, the LMU's training-time target) or ``--lstm-epochs`` (30). On a
    2-core CPU one minibatch takes about 0.9 s, one epoch about 450 s, so
    the budget allows about two epochs. Training stops cleanly after the
    minibatch past which the next one and the validation that follows it
    would overrun the budget (`train_keras_baseline`); a partial last epoch
    is validated like a full one.

Prints a table of all figures, a comparison table of the models (test
accuracy, trainable parameters, training time; also in Markdown for the
README) and writes ``OUT/psmnist.json`` and ``OUT/psmnist.png``. Parts not
run in this invocation keep their entries from an earlier
``OUT/psmnist.json`` (each part records its settings and when it was
measured). A Loihi row is added to the comparison from ``OUT/`` `LOIHI_JSON`
if that file exists (see `comparison_rows`).

    python benchmarks/psmnist.py [--parts accuracy speed sequential ff lstm] [--out DIR]
        [--epochs 30] [--units 346] [--order 256] [--seq-minutes 10]
        [--ff-units 125] [--ff-epochs 30] [--lstm-units 128] [--lstm-minutes 15] [--quick]

``--quick`` shortens every part for a check of the script: 500 test
images, 2 epochs at most for ``accuracy``, a 3-batch keras-lmu probe
extrapolated to the epoch, 2 timed minibatches in (c), and for ``ff`` and
``lstm`` 500 training and 500 validation images and 2 (ff) or 1 (lstm)
epochs; the tables mark quick parts. ``--speed-items``, ``--docs-variants``,
``--seq-units`` and ``--seq-order`` select or shrink the speed measurements
(see ``--help``).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from nengo_lmu.data import load_psmnist  # noqa: E402
from nengo_lmu.io import save_figure, write_json  # noqa: E402
from nengo_lmu.plots import _pyplot  # noqa: E402
from nengo_lmu.psmnist import (  # noqa: E402
    DEFAULTS,
    evaluate_psmnist,
    model_config,
    train_psmnist,
)
from nengo_lmu.training import build_classifier, configure_nengo_dl, train  # noqa: E402

PARTS = ("accuracy", "speed", "sequential", "ff", "lstm")
#: Gradient-norm clipping of the sequential run (without it, backpropagation
#: through 784 steps of the fully recurrent cell diverges to NaN here).
SEQ_CLIPNORM = 1.0
SPEED_ITEMS = ("parallel", "keras-lmu", "sequential", "sequential-nengo-dl-plan")
DOCS_VARIANTS = ("current", "earlier")
BATCH = 100
N_VAL_SEQUENTIAL = 1000

#: The paper's recurrent psMNIST configuration (Voelker et al. 2019), as the
#: keyword arguments of `nengo_lmu.psmnist.model_config`.
PAPER_RECURRENT = dict(units=212, order=256, neuron_type="Tanh", hidden_to_memory=True,
                       memory_to_memory=True, input_to_hidden=True, hidden_recurrent=True)

#: Adam learning rate of the Keras baselines (Keras' default).
BASELINE_LR = 1e-3
#: Training and validation images of the Keras baselines with ``--quick``.
QUICK_BASELINE_N = 500
#: Before the first validation, a forward minibatch is taken to cost this
#: fraction of a training minibatch (measured here for the LSTM: 0.3-0.4).
VAL_FORWARD_FRACTION = 0.5
#: Results of the spiking LMU on the Loihi emulator, written by another
#: script into the output directory; if present, `comparison_rows` adds a
#: row from its keys ``accuracy``, ``rate_accuracy``, ``n_test`` and
#: ``s_per_image`` (and ``n_trainable``, if given).
LOIHI_JSON = "psmnist-loihi.json"
#: Table 1 of the LMU paper (Voelker et al. 2019): (model, test accuracy,
#: trainable parameters or None where not quoted here).
PAPER_TABLE = (("LMU", 0.9715, 102027), ("FF-baseline", 0.9265, None),
               ("LSTM", 0.8986, None))


def _now():
    return datetime.datetime.now().isoformat(timespec="seconds")


def _log(msg):
    print(msg, flush=True)


def _versions():
    import keras_lmu  # pylint: disable=import-outside-toplevel
    import nengo  # pylint: disable=import-outside-toplevel
    import nengo_dl  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "nengo": nengo.__version__, "nengo_dl": nengo_dl.__version__,
            "keras_lmu": keras_lmu.__version__, "cpu_count": os.cpu_count(),
            "machine": platform.machine(), "load_average_at_start": list(os.getloadavg())}


# --------------------------------------------------------------------------
# Part 1: accuracy of the parallel-trained model, tested as a temporal network


def run_accuracy(args):
    model_dir = os.path.join(args.out, "psmnist-parallel")
    resumed = bool(args.resume and os.path.exists(os.path.join(model_dir, "checkpoint.npz")))
    if not args.resume and os.path.exists(model_dir):
        shutil.rmtree(model_dir)
    _log(f"[accuracy] training {args.epochs} epochs, parallel, units {args.units}, "
         f"order {args.order} -> {model_dir}")
    history = train_psmnist(model_dir, epochs=args.epochs, method="parallel",
                            units=args.units, order=args.order, verbose=0)
    _log(f"[accuracy] trained in {history['wall_s']:.1f} s; testing the temporal network "
         f"in NengoDL on {args.n_test or 10000} test images")
    ev = evaluate_psmnist(model_dir, backend="dl", n_test=args.n_test)
    _log(f"[accuracy] test accuracy {ev['accuracy']:.4f} ({ev['wall_s']:.1f} s)")
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        run_config = json.load(f)
    return {
        "test_accuracy": ev["accuracy"],
        "n_test": ev["n_test"],
        "test_backend": ev["backend"],
        "test_wall_s": ev["wall_s"],
        "n_trainable": ev["n_trainable"],
        "train_wall_s": history["wall_s"],
        "train_wall_s_note": ("wall time of this invocation only (resumed from a checkpoint)"
                              if resumed else
                              "includes the closed-form memory, every epoch and validation"),
        "resumed": resumed,
        "epochs": len(history["epoch"]),
        "epoch_s": history["epoch_s"],
        "epoch_s_median": float(np.median(history["epoch_s"])),
        "val_accuracy": history["val_accuracy"],
        "loss": history["loss"],
        "best_val_accuracy": history["best"]["val_accuracy"],
        "best_epoch": history["best"]["epoch"],
        "n_val": 10000,
        "method": "parallel",
        "units": args.units,
        "order": args.order,
        "theta": 784,
        "neuron_type": run_config["model"]["hidden_neuron_type"],
        "batch_size": run_config["batch_size"],
        "learning_rate": run_config["learning_rate"],
        "data_source": run_config.get("data_source"),
        "model_dir": model_dir,
    }


# --------------------------------------------------------------------------
# Part 2: speed


def closed_form_memory_s(units, order, x):
    """Seconds to compute the closed-form memory ``m_T`` of sequences ``x``."""
    clf = build_classifier(model_config(units, order), method="parallel")
    start = time.perf_counter()
    clf.lmu.closed_form_memory(x)
    return time.perf_counter() - start


def time_keras_lmu(x, y, units, order, probe_steps=10, max_epoch_s=300.0, fixed_steps=100,
                   quick=False, seed=0):
    """Training time of one epoch of the keras-lmu psMNIST model (see module doc).

    After a one-batch warm-up (tracing), ``probe_steps`` batches predict the
    epoch. With ``quick`` that prediction is the result; if it is at most
    ``max_epoch_s`` a full shuffled epoch is timed; otherwise ``fixed_steps``
    batches in all (the probe's included) are timed and scaled to the epoch.
    """
    import keras_lmu  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.keras.backend.clear_session()
    tf.random.set_seed(seed)
    inp = tf.keras.Input((x.shape[1], 1))
    lmu = keras_lmu.LMU(
        memory_d=1, order=order, theta=x.shape[1],
        hidden_cell=tf.keras.layers.Dense(units, activation="relu"),
        hidden_to_memory=False, memory_to_memory=False, input_to_hidden=False,
    )
    model = tf.keras.Model(inp, tf.keras.layers.Dense(10)(lmu(inp)))
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    n_batches = len(x) // BATCH
    res = {"keras_lmu_layer": type(lmu.layer).__name__,
           "keras_lmu_conv_mode": getattr(lmu.layer, "conv_mode", None),
           "keras_lmu_n_trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
           "keras_lmu_batches_per_epoch": n_batches}

    def fit(first, last, shuffle=False):
        """Seconds to fit batches ``first`` to ``last - 1`` in one ``fit`` call."""
        start = time.perf_counter()
        model.fit(x[first * BATCH:last * BATCH], y[first * BATCH:last * BATCH],
                  batch_size=BATCH, epochs=1, shuffle=shuffle, verbose=0)
        return time.perf_counter() - start

    res["keras_lmu_warmup_s"] = fit(0, 1)  # tracing + one batch
    probe_s = fit(1, 1 + probe_steps)
    estimate = probe_s / probe_steps * n_batches
    _log(f"[speed] keras-lmu ({res['keras_lmu_layer']}): {probe_s / probe_steps:.3f} s/batch "
         f"over {probe_steps} batches, epoch estimated at {estimate:.0f} s")
    if quick:
        steps, epoch_s, extrapolated = probe_steps, estimate, True
    elif estimate <= max_epoch_s:
        steps, epoch_s, extrapolated = n_batches, fit(0, n_batches, shuffle=True), False
    else:
        # the probe's batches count towards the fixed number of timed batches
        steps = max(probe_steps, min(fixed_steps, n_batches - 1))
        more = fit(1 + probe_steps, 1 + steps) if steps > probe_steps else 0.0
        epoch_s, extrapolated = (probe_s + more) / steps * n_batches, True
    res.update({
        "keras_lmu_epoch_s": epoch_s,
        "keras_lmu_s_per_batch": epoch_s / n_batches,
        "keras_lmu_timed_batches": steps,
        "keras_lmu_extrapolated": extrapolated,
        "keras_lmu_note": (f"time of {steps} batches of 100 scaled to the {n_batches}-batch "
                           "epoch" if extrapolated else
                           f"one full epoch of fit ({n_batches} batches) after a 1-batch warm-up"),
        "keras_lmu_path_note": (
            "LMUFeedforward computes the memory m_t of every step on every batch by FFT "
            f"convolution (rfft/irfft of length {2 * x.shape[1]}, not a power of two), although "
            "the classifier reads only the last step; on a CPU these FFTs dominate"),
    })
    return res


def nengo_dl_docs_lmu(units=212, order=256, theta=784, input_d=1, seed=0, variant="current"):
    """The LMU psMNIST network of NengoDL's documentation example.

    A reconstruction of the example "Legendre Memory Units in NengoDL"
    (``docs/examples/lmu.ipynb`` of nengo-dl 3.x). Its ``LMUCell`` is a
    `nengo.Network` with nodes ``x`` (input), ``u`` (size 1), ``m`` (size
    ``order``) and ``h``, a `nengo_dl.TensorNode` applying ``tf.nn.tanh``;
    ``A`` and ``B`` come from the Legendre formula, discretized with
    ``nengo.utils.filter_design.cont2discrete(..., dt=1, method="zoh")``,
    and sit on the non-trainable connections ``m -> m`` (transform ``A``,
    ``synapse=0``: a one-step delay) and ``u -> m`` (transform ``B``,
    ``synapse=None``). ``x -> u`` is ones. The network around it sets
    ``configure_settings(trainable=None, stateful=False,
    keep_history=False)`` and reads the logits of a Glorot ``h -> out``
    readout with a probe; the example simulates it with
    ``nengo_dl.Simulator(net, minibatch_size=100, unroll_simulation=16)``
    and compiles Adam, sparse cross-entropy from logits, ``metrics=["accuracy"]``.

    ``variant="current"`` is the notebook's latest revision: no ``e_h``, ``e_m``
    ("not needed in this task"), and Glorot-initialized trainable ``x -> h``,
    ``h -> h`` (``synapse=0``) and ``m -> h``. ``variant="earlier"`` is its
    earlier revision, the full cell of the paper like our recurrent
    configuration: trainable ``h -> u`` and ``m -> u`` (zeros, ``synapse=0``),
    ``x -> h`` and ``h -> h`` (zeros) and ``m -> h`` (Glorot normal).

    Returns ``(net, input node, probe)``.
    """
    import nengo  # pylint: disable=import-outside-toplevel
    import nengo_dl  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from nengo.utils.filter_design import cont2discrete  # pylint: disable=import-outside-toplevel

    if variant not in DOCS_VARIANTS:
        raise ValueError(f"variant must be one of {DOCS_VARIANTS}, got {variant!r}")

    class LMUCell(nengo.Network):
        def __init__(self, units, order, theta, input_d, **kwargs):
            super().__init__(**kwargs)
            Q = np.arange(order, dtype=np.float64)
            R = (2 * Q + 1)[:, None] / theta
            j, i = np.meshgrid(Q, Q)
            A = np.where(i < j, -1, (-1.0) ** (i - j + 1)) * R
            B = (-1.0) ** Q[:, None] * R
            C = np.ones((1, order))
            D = np.zeros((1,))
            A, B, _, _, _ = cont2discrete((A, B, C, D), dt=1.0, method="zoh")

            with self:
                nengo_dl.configure_settings(trainable=None)
                self.x = nengo.Node(size_in=input_d)
                self.u = nengo.Node(size_in=1)
                self.m = nengo.Node(size_in=order)
                self.h = nengo_dl.TensorNode(tf.nn.tanh, shape_in=(units,), pass_time=False)
                nengo.Connection(self.x, self.u, transform=np.ones((1, input_d)), synapse=None)
                if variant == "earlier":
                    nengo.Connection(self.h, self.u, transform=np.zeros((1, units)), synapse=0)
                    nengo.Connection(self.m, self.u, transform=np.zeros((1, order)), synapse=0)
                conn_A = nengo.Connection(self.m, self.m, transform=A, synapse=0)
                self.config[conn_A].trainable = False
                conn_B = nengo.Connection(self.u, self.m, transform=B, synapse=None)
                self.config[conn_B].trainable = False
                if variant == "current":
                    nengo.Connection(self.x, self.h, transform=nengo_dl.dists.Glorot(),
                                     synapse=None)
                    nengo.Connection(self.h, self.h, transform=nengo_dl.dists.Glorot(),
                                     synapse=0)
                    nengo.Connection(self.m, self.h, transform=nengo_dl.dists.Glorot(),
                                     synapse=None)
                else:
                    nengo.Connection(self.x, self.h, transform=np.zeros((units, input_d)),
                                     synapse=None)
                    nengo.Connection(self.h, self.h, transform=np.zeros((units, units)),
                                     synapse=0)
                    nengo.Connection(self.m, self.h,
                                     transform=nengo_dl.dists.Glorot(distribution="normal"),
                                     synapse=None)

    with nengo.Network(seed=seed) as net:
        nengo_dl.configure_settings(trainable=None, stateful=False, keep_history=False)
        inp = nengo.Node(np.zeros(input_d))
        lmu = LMUCell(units=units, order=order, theta=theta, input_d=input_d)
        conn = nengo.Connection(inp, lmu.x, synapse=None)
        net.config[conn].trainable = False
        out = nengo.Node(size_in=10)
        nengo.Connection(lmu.h, out, transform=nengo_dl.dists.Glorot(), synapse=None)
        p = nengo.Probe(out)
    return net, inp, p


def time_nengo_dl_fit(net, inp, probe, x, y, n_batches, unroll_simulation=1, metrics=None,
                      learning_rate=1e-3, seed=0):
    """Seconds per minibatch of 100 of NengoDL ``sim.fit`` through time.

    Builds the simulator, compiles, fits one warm-up minibatch (tracing),
    then times ``n_batches`` minibatches in one ``fit`` call: wall seconds
    (``s_per_batch``) and this process's CPU seconds (``cpu_s_per_batch``,
    less sensitive to other jobs on a shared machine). Also counts the
    trainable values (``n_trainable_variables``).
    """
    import nengo_dl  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.keras.backend.clear_session()
    need = (1 + n_batches) * BATCH
    if len(x) < need:
        raise ValueError(f"need {need} sequences, got {len(x)}")
    x = np.asarray(x[:need], dtype=np.float32)
    y = np.asarray(y[:need]).reshape(-1, 1, 1)
    start = time.perf_counter()
    with nengo_dl.Simulator(net, minibatch_size=BATCH, unroll_simulation=unroll_simulation,
                            progress_bar=False, seed=seed) as sim:
        build_s = time.perf_counter() - start
        sim.compile(optimizer=tf.optimizers.Adam(learning_rate),
                    loss={probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)},
                    metrics=metrics)
        t0 = time.perf_counter()
        sim.fit({inp: x[:BATCH]}, {probe: y[:BATCH]}, epochs=1, verbose=0)
        warmup_s = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        sim.fit({inp: x[BATCH:]}, {probe: y[BATCH:]}, epochs=1, verbose=0, shuffle=False)
        timed_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        n_trainable = int(sum(np.prod(w.shape) for w in sim.keras_model.trainable_weights))
    return {"s_per_batch": timed_s / n_batches, "cpu_s_per_batch": cpu_s / n_batches,
            "timed_batches": n_batches, "build_s": build_s, "warmup_batch_s": warmup_s,
            "n_steps": int(x.shape[1]), "unroll_simulation": unroll_simulation,
            "n_trainable_variables": n_trainable}


def time_ours_sequential(x, y, config, n_batches, fast=True):
    """`time_nengo_dl_fit` for our recurrent `LMUClassifier`, set up as `training.train`.

    ``fast=True``: `nengo_lmu.training.configure_nengo_dl` as `training.train`
    uses it (`nengo_lmu.training.dense_settings`); ``fast=False``: the same
    network and trainable weights with NengoDL's default plan.
    """
    clf = configure_nengo_dl(build_classifier(config, method="sequential"), fast=fast)
    res = time_nengo_dl_fit(clf, clf.input, clf.probe, x, y, n_batches)
    res["n_trainable"] = clf.n_trainable
    res["plan"] = "dense" if fast else "nengo-dl default"
    return res


def sequential_config(args):
    kw = dict(PAPER_RECURRENT, units=args.seq_units, order=args.seq_order)
    return model_config(**kw)


def run_speed(args, accuracy_result):
    data = load_psmnist(0)
    x, y = data["train"]
    res = {"batch_size": BATCH, "n_train": int(len(x)), "items": list(args.speed_items)}

    if "parallel" in args.speed_items:
        if accuracy_result is not None:
            epoch_s = accuracy_result["epoch_s"]
            source = f"median over the {len(epoch_s)} epochs of the accuracy run"
        else:
            speed_dir = os.path.join(args.out, "psmnist-speed-parallel")
            if os.path.exists(speed_dir):
                shutil.rmtree(speed_dir)
            n_epochs = 2
            _log(f"[speed] parallel: training {n_epochs} epochs to time them -> {speed_dir}")
            history = train_psmnist(speed_dir, epochs=n_epochs, method="parallel",
                                    units=args.units, order=args.order, verbose=0)
            epoch_s = history["epoch_s"]
            source = f"median over a {n_epochs}-epoch run (part accuracy not run)"
        memory_s = closed_form_memory_s(args.units, args.order, x)
        res.update({
            "ours_parallel_epoch_s": float(np.median(epoch_s)),
            "ours_parallel_epoch_s_all": list(epoch_s),
            "ours_parallel_epoch_s_source": source,
            "ours_parallel_closed_form_memory_s": memory_s,
            "ours_parallel_closed_form_memory_note": (
                "one-off per training run: m_T of all 50,000 training sequences, in closed form"),
            "parallel_units": args.units,
            "parallel_order": args.order,
        })
        _log(f"[speed] parallel: {res['ours_parallel_epoch_s']:.2f} s per epoch "
             f"(+ {memory_s:.1f} s once for the closed-form memory)")

    if "keras-lmu" in args.speed_items:
        _log("[speed] keras-lmu: timing one epoch")
        res.update(time_keras_lmu(x, y, args.units, args.order,
                                  probe_steps=3 if args.quick else 10,
                                  max_epoch_s=args.keras_max_epoch_s,
                                  fixed_steps=args.keras_steps, quick=args.quick))
        _log(f"[speed] keras-lmu: {res['keras_lmu_epoch_s']:.1f} s per epoch "
             f"({res['keras_lmu_note']})")

    if "parallel" in res["items"] and "keras-lmu" in res["items"]:
        res["ratio_ours_over_keras_lmu"] = res["ours_parallel_epoch_s"] / res["keras_lmu_epoch_s"]
        res["ratio_ours_first_epoch_with_memory_over_keras_lmu"] = (
            res["ours_parallel_epoch_s"] + res["ours_parallel_closed_form_memory_s"]
        ) / res["keras_lmu_epoch_s"]
        res["ratio_target"] = "<= 0.1"

    if "sequential" in args.speed_items:
        n = args.timing_batches
        config = sequential_config(args)
        _log(f"[speed] sequential (ours): units {args.seq_units}, order {args.seq_order}, "
             f"all recurrent connections, Tanh; 1 warm-up + {n} timed minibatches")
        ours = time_ours_sequential(x, y, config, n)
        _log(f"[speed] sequential (ours): {ours['s_per_batch']:.2f} s per minibatch "
             f"({ours['cpu_s_per_batch']:.2f} CPU s; build {ours['build_s']:.1f} s, "
             f"warm-up {ours['warmup_batch_s']:.1f} s)")
        res.update({
            "ours_sequential_s_per_batch": ours["s_per_batch"],
            "ours_sequential": dict(
                ours, config=config,
                setup="nengo_lmu.training.configure_nengo_dl(build_classifier(config,"
                      " method='sequential')) as in training.train: stateful=False, probe"
                      " keep_history=False, memory Abar/Bbar not trainable, dense_settings()"
                      " (DenseStep ops, noop planner/sorter), unroll_simulation=1"),
        })
        docs = {}
        for variant in args.docs_variants:
            _log(f"[speed] sequential (NengoDL docs example, {variant} revision): 1 warm-up + "
                 f"{n} timed minibatches")
            net, inp, probe = nengo_dl_docs_lmu(args.seq_units, args.seq_order, 784, 1,
                                                variant=variant)
            r = time_nengo_dl_fit(net, inp, probe, x, y, n, unroll_simulation=16,
                                  metrics=["accuracy"])
            _log(f"[speed] sequential (docs, {variant}): {r['s_per_batch']:.2f} s per minibatch "
                 f"({r['cpu_s_per_batch']:.2f} CPU s; build {r['build_s']:.1f} s, "
                 f"warm-up {r['warmup_batch_s']:.1f} s)")
            docs[variant] = dict(r, units=args.seq_units, order=args.seq_order,
                                 speedup_ours=r["s_per_batch"] / ours["s_per_batch"],
                                 speedup_ours_cpu=r["cpu_s_per_batch"] / ours["cpu_s_per_batch"])
        if "sequential-nengo-dl-plan" in args.speed_items:
            _log("[speed] sequential (ours, NengoDL's default plan): 1 warm-up + "
                 f"{n} timed minibatches")
            plain = time_ours_sequential(x, y, config, n, fast=False)
            _log(f"[speed] sequential (ours, NengoDL's default plan): "
                 f"{plain['s_per_batch']:.2f} s per minibatch "
                 f"({plain['cpu_s_per_batch']:.2f} CPU s; build {plain['build_s']:.1f} s, "
                 f"warm-up {plain['warmup_batch_s']:.1f} s)")
            res["ours_sequential_nengo_dl_plan"] = dict(
                plain, speedup_dense_plan=plain["s_per_batch"] / ours["s_per_batch"])
        if docs:
            main_variant = "current" if "current" in docs else next(iter(docs))
            res.update({
                "nengo_dl_example_s_per_batch": docs[main_variant]["s_per_batch"],
                "nengo_dl_example_variant": main_variant,
                "speedup_vs_nengo_dl_example": docs[main_variant]["speedup_ours"],
                "speedup_vs_nengo_dl_example_cpu": docs[main_variant]["speedup_ours_cpu"],
                "speedup_target": ">= 2",
                "nengo_dl_example": docs,
                "nengo_dl_example_note": (
                    "reconstruction of NengoDL's docs example 'Legendre Memory Units in NengoDL'"
                    " (docs/examples/lmu.ipynb): 'current' = latest revision (no e_h, e_m),"
                    " 'earlier' = earlier revision (the paper's full cell with e_h, e_m, like"
                    " ours); simulated with unroll_simulation=16 as in the example"),
            })
    res["measured_at"] = _now()
    res["quick"] = args.quick
    return res


# --------------------------------------------------------------------------
# Part 3: sequential training within a time budget


def run_sequential(args, speed_result):
    start = time.perf_counter()
    budget = args.seq_minutes * 60.0
    config = sequential_config(args)
    data = load_psmnist(0)
    x, y = data["train"]
    xv, yv = data["valid"]
    xv, yv = xv[:N_VAL_SEQUENTIAL], yv[:N_VAL_SEQUENTIAL]
    timing = (speed_result or {}).get("ours_sequential")
    if timing is None or timing.get("config") != config:
        _log("[sequential] calibrating: 1 warm-up + 2 timed minibatches (counts to the budget)")
        timing = time_ours_sequential(x, y, config, 2)
        calibrated_here = True
    else:
        calibrated_here = False
    s_batch = timing["s_per_batch"]
    trace_s = max(timing["warmup_batch_s"] - s_batch, 0.0)
    n_val_batches = N_VAL_SEQUENTIAL // BATCH
    # build + tracing of fit + tracing of predict + validation (a forward pass is
    # taken as half a training minibatch) + 5% margin
    overhead = timing["build_s"] + 2 * trace_s + n_val_batches * 0.5 * s_batch
    available = budget - (time.perf_counter() - start)
    n_batches = int(max(1, min(len(x) // BATCH, (0.95 * available - overhead) // s_batch)))
    n_train = n_batches * BATCH
    out_dir = os.path.join(args.out, "psmnist-sequential")
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    _log(f"[sequential] budget {budget:.0f} s: {s_batch:.2f} s per minibatch, overhead "
         f"~{overhead:.0f} s -> training on {n_train} images ({n_batches} minibatches), "
         f"validating on {N_VAL_SEQUENTIAL}")
    t0 = time.perf_counter()
    history = train(config, (x[:n_train], y[:n_train]), (xv, yv), out_dir, epochs=1,
                    method="sequential", batch_size=BATCH, learning_rate=args.seq_lr, seed=0,
                    clipnorm=SEQ_CLIPNORM, verbose=0, meta={"task": "psmnist", "permutation_seed": 0,
                                     "data_source": data.source})
    train_s = time.perf_counter() - t0
    total_s = time.perf_counter() - start
    _log(f"[sequential] validation accuracy {history['val_accuracy'][-1]:.4f} after "
         f"{n_batches} minibatches; {total_s:.0f} s used of {budget:.0f} s")
    return {
        "val_accuracy": history["val_accuracy"][-1],
        "n_val": N_VAL_SEQUENTIAL,
        "n_train_sequences": n_train,
        "n_minibatches": n_batches,
        "epochs": 1,
        "loss": history["loss"][-1],
        "fit_s": history["epoch_s"][-1],
        "fit_s_per_batch": history["epoch_s"][-1] / n_batches,
        "train_call_s": train_s,
        "time_used_s": total_s,
        "budget_s": budget,
        "planned_s_per_batch": s_batch,
        "calibrated_here": calibrated_here,
        "learning_rate": args.seq_lr,
        "clipnorm": SEQ_CLIPNORM,
        "method": "sequential",
        "config": config,
        "n_trainable": timing.get("n_trainable"),
        "note": ("one pass over the first n_train training images at a constant learning rate,"
                 " sized to fit the budget; fit_s includes the tracing of the first minibatch;"
                 " time_used_s includes the build, tracing, the validation and, if"
                 " calibrated_here, the calibration"),
        "model_dir": out_dir,
        "measured_at": _now(),
        "quick": args.quick,
    }


# --------------------------------------------------------------------------
# Parts 4 and 5: Keras baselines (feed-forward and LSTM) on the same data


def ff_baseline(units=125, n_pixels=784, n_classes=10):
    """The feed-forward baseline: a dense network on the whole image.

    ``Input((n_pixels,)) -> Dense(units, relu) -> Dense(n_classes)`` (logits).
    ``units=125`` gives 99,385 trainable parameters, about the LMU's.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    inp = tf.keras.Input((n_pixels,))
    hidden = tf.keras.layers.Dense(units, activation="relu")(inp)
    return tf.keras.Model(inp, tf.keras.layers.Dense(n_classes)(hidden), name=f"ff_{units}")


def lstm_baseline(units=128, n_steps=784, n_classes=10):
    """The LSTM baseline: one Keras LSTM over the pixel sequence.

    ``Input((n_steps, 1)) -> LSTM(units) (last step) -> Dense(n_classes)``
    (logits). ``units=128`` gives 67,850 trainable parameters, 156 give
    100,162.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    inp = tf.keras.Input((n_steps, 1))
    hidden = tf.keras.layers.LSTM(units)(inp)
    return tf.keras.Model(inp, tf.keras.layers.Dense(n_classes)(hidden), name=f"lstm_{units}")


BASELINES = {"ff": ff_baseline, "lstm": lstm_baseline}


def _time_budget(budget_s, n_val_batches, batches_per_epoch, name, probe_batches=5):
    """A Keras callback that stops ``fit`` cleanly within ``budget_s`` seconds.

    After each training minibatch it sets ``model.stop_training`` if one more
    minibatch (the median so far, the first one excluded: tracing) plus the
    validation that follows the stop (the last one measured, or before the
    first, `VAL_FORWARD_FRACTION` of a training minibatch per validation
    minibatch) would end past ``budget_s`` after the start of ``fit`` (after
    the first minibatch: if the budget is already spent). Keras then
    validates the partial epoch and ends. Records the minibatch and
    validation times and logs the per-epoch time estimated from the first
    ``probe_batches`` minibatches after the first.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    class TimeBudget(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()
            self.batch_s, self.val_s = [], []
            self.stopped = False
            self._t = self.start

        def s_per_batch(self):
            timed = self.batch_s[1:] or self.batch_s
            return float(np.median(timed))

        def on_train_batch_begin(self, batch, logs=None):
            self._t = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            self.batch_s.append(now - self._t)
            s_batch = self.s_per_batch()
            if len(self.batch_s) == probe_batches + 1:
                _log(f"[{name}] {s_batch:.3f} s per minibatch (median of {probe_batches}, after "
                     f"the first, {self.batch_s[0]:.1f} s) -> about "
                     f"{s_batch * batches_per_epoch:.0f} s per epoch of {batches_per_epoch} "
                     f"minibatches; budget {budget_s:.0f} s")
            if len(self.batch_s) == 1:  # tracing: no prediction from this minibatch
                ahead = 0.0
            else:
                ahead = s_batch + (self.val_s[-1] if self.val_s
                                   else VAL_FORWARD_FRACTION * n_val_batches * s_batch)
            if now - self.start + ahead > budget_s and not self.stopped:
                self.stopped = True
                self.model.stop_training = True
                _log(f"[{name}] time budget: stopping after minibatch {len(self.batch_s)} "
                     f"({now - self.start:.0f} s of {budget_s:.0f} s used, validation next)")

        def on_test_begin(self, logs=None):
            self._t = time.perf_counter()

        def on_test_end(self, logs=None):
            self.val_s.append(time.perf_counter() - self._t)

    return TimeBudget()


def train_keras_baseline(kind, units, data, epochs, budget_s, n_train=None, n_val=None,
                         n_test=None, learning_rate=BASELINE_LR, seed=0, verbose=2):
    """Train and test a Keras baseline on psMNIST within a time budget.

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
        validation after each epoch), enforced by `_time_budget`.
    n_train, n_val, n_test : int or None
        Use the first images of each split (None: all).
    learning_rate : float
        Adam's learning rate.
    seed : int
        Seed of Keras' initialisers and shuffling.
    verbose : int
        Verbosity of ``fit`` (1: progress bar, 2: one line per epoch).

    Returns
    -------
    dict
        Test accuracy of the best epoch's weights (by validation accuracy),
        trainable parameters, training wall time, epochs done and the
        training history (see the keys).
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from nengo_lmu.validation import (  # pylint: disable=import-outside-toplevel
        check_choice,
        check_integer,
        check_positive,
    )

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
    shape = tuple(model.input_shape[1:])

    def split(key):
        x, y = data[key]
        n = len(x) if sizes[key] is None else min(sizes[key], len(x))
        return np.asarray(x[:n], dtype=np.float32).reshape((n,) + shape), np.asarray(y[:n])

    (x, y), (xv, yv), (xt, yt) = split("train"), split("valid"), split("test")
    n_batches = -(-len(x) // BATCH)
    n_trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    _log(f"[{kind}] {model.name}: {n_trainable:,} trainable parameters; up to {epochs} epoch(s) "
         f"of {len(x)} images or {budget_s:.0f} s; validation on {len(xv)}, test on {len(xt)}")
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    budget = _time_budget(budget_s, -(-len(xv) // BATCH), n_batches, kind)
    best = tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                            patience=epochs + 1, restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=BATCH, epochs=epochs, validation_data=(xv, yv),
                        shuffle=True, callbacks=[budget, best], verbose=verbose).history
    train_s = time.perf_counter() - start
    # EarlyStopping restores the best weights only when its patience runs out
    model.set_weights(best.best_weights)
    start = time.perf_counter()
    _, test_accuracy = model.evaluate(xt, yt, batch_size=BATCH, verbose=0)
    test_s = time.perf_counter() - start
    _log(f"[{kind}] test accuracy {test_accuracy:.4f} (best epoch {best.best_epoch + 1}, "
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
        "n_train": len(x),
        "n_val": len(xv),
        "optimizer": "Adam",
        "learning_rate": learning_rate,
        "batch_size": BATCH,
        "seed": seed,
        "permutation_seed": 0,
        "data_source": data.source,
    }


def run_baseline(args, kind):
    """Part ``ff`` or ``lstm`` with the command-line settings."""
    units, epochs, minutes = (getattr(args, f"{kind}_{k}") for k in ("units", "epochs", "minutes"))
    n = QUICK_BASELINE_N if args.quick else None
    res = train_keras_baseline(kind, units, load_psmnist(0), epochs=epochs,
                               budget_s=minutes * 60.0, n_train=n, n_val=n, n_test=args.n_test,
                               verbose=1 if sys.stdout.isatty() else 2)
    res.update(measured_at=_now(), quick=args.quick)
    return res


# --------------------------------------------------------------------------
# Report


def table_rows(results):
    acc = results.get("accuracy") or {}
    sp = results.get("speed") or {}
    sq = results.get("sequential") or {}
    rows = []
    if acc:
        rows += [
            ("accuracy", f"test accuracy, temporal network in NengoDL (n={acc['n_test']})",
             f"{acc['test_accuracy'] * 100:.2f} %"),
            ("accuracy", "best validation accuracy (parallel training)",
             f"{acc['best_val_accuracy'] * 100:.2f} % (epoch {acc['best_epoch']})"),
            ("accuracy", "trainable parameters", f"{acc['n_trainable']:,}"),
            ("accuracy", f"training wall time, {acc['epochs']} epoch(s)",
             f"{acc['train_wall_s']:.1f} s"),
            ("accuracy", "median epoch time", f"{acc['epoch_s_median']:.2f} s"),
            ("accuracy", "test wall time", f"{acc['test_wall_s']:.1f} s"),
        ]
    if "ours_parallel_epoch_s" in sp:
        rows += [
            ("speed", "ours, parallel: s per epoch", f"{sp['ours_parallel_epoch_s']:.2f} s"),
            ("speed", "ours, parallel: closed-form memory (once)",
             f"{sp['ours_parallel_closed_form_memory_s']:.2f} s"),
        ]
    if "keras_lmu_epoch_s" in sp:
        rows.append(("speed", f"keras-lmu ({sp['keras_lmu_layer']}): s per epoch"
                     + (" (extrapolated)" if sp["keras_lmu_extrapolated"] else ""),
                     f"{sp['keras_lmu_epoch_s']:.1f} s"))
    if "ratio_ours_over_keras_lmu" in sp:
        rows += [
            ("speed", "ratio ours / keras-lmu (target <= 0.1)",
             f"{sp['ratio_ours_over_keras_lmu']:.3f}"),
            ("speed", "  same, first epoch incl. closed-form memory",
             f"{sp['ratio_ours_first_epoch_with_memory_over_keras_lmu']:.3f}"),
        ]
    if "ours_sequential_s_per_batch" in sp:
        rows.append(("speed", "ours, sequential: s per minibatch of 100",
                     f"{sp['ours_sequential_s_per_batch']:.2f} s"))
    if "ours_sequential_nengo_dl_plan" in sp:
        r = sp["ours_sequential_nengo_dl_plan"]
        rows.append(("speed", "  same network, NengoDL's default plan",
                     f"{r['s_per_batch']:.2f} s"))
    for variant, r in (sp.get("nengo_dl_example") or {}).items():
        rows += [
            ("speed", f"NengoDL docs example ({variant}): s per minibatch",
             f"{r['s_per_batch']:.2f} s"),
            ("speed", f"  speedup of ours vs docs ({variant}) (target >= 2)",
             f"{r['speedup_ours']:.2f} x"),
        ]
        if "speedup_ours_cpu" in r:
            rows.append(("speed", f"  same, in CPU seconds ({variant})",
                         f"{r['speedup_ours_cpu']:.2f} x"))
    if sq:
        rows += [
            ("sequential", f"validation accuracy (n={sq['n_val']})",
             f"{sq['val_accuracy'] * 100:.2f} %"),
            ("sequential", "training sequences (minibatches)",
             f"{sq['n_train_sequences']} ({sq['n_minibatches']})"),
            ("sequential", "fit s per minibatch", f"{sq['fit_s_per_batch']:.2f} s"),
            ("sequential", "time used / budget",
             f"{sq['time_used_s']:.0f} s / {sq['budget_s']:.0f} s"),
        ]
    for kind in BASELINES:
        b = results.get(kind)
        if not b:
            continue
        rows += [
            (kind, f"test accuracy, {b['architecture']} (n={b['n_test']})",
             f"{b['test_accuracy'] * 100:.2f} %"),
            (kind, f"best validation accuracy (n={b['n_val']})",
             f"{b['best_val_accuracy'] * 100:.2f} % (epoch {b['best_epoch']})"),
            (kind, "trainable parameters", f"{b['n_trainable']:,}"),
            (kind, "training wall time / budget",
             f"{b['train_wall_s']:.1f} s / {b['budget_s']:.0f} s"),
            (kind, "epochs done" + (" (stopped by the budget)" if b["stopped_by_budget"] else ""),
             f"{b['epochs_done']:.2f}"),
            (kind, "s per minibatch of 100 (median)", f"{b['s_per_batch_median']:.3f} s"),
            (kind, f"s per epoch of {b['n_train']} (from the median)",
             f"{b['epoch_s_estimate']:.2f} s"),
        ]
    quick = {part for part in PARTS if (results.get(part) or {}).get("quick")}
    return [(f"{a} (quick)" if a in quick else a, b, c) for a, b, c in rows]


def comparison_rows(results):
    """The model comparison: ``(model, test accuracy, trainable parameters, training)``.

    Rows, where measured: our LMU (rate neurons, trained by the parallel
    path in NengoDL, tested as the temporal network), the spiking LMU on the
    Loihi emulator (from ``results["loihi"]``, see `LOIHI_JSON`), the
    feed-forward and LSTM baselines, then the paper's figures.
    """
    acc = results.get("accuracy") or {}
    loihi = results.get("loihi") or {}

    def n_note(n):
        return "" if n == 10000 else f" (n={n})"

    def quick(part):
        return " (quick)" if (results.get(part) or {}).get("quick") else ""

    rows = []
    if acc:
        rows.append((f"LMU {acc['units']} ReLU, order {acc['order']}: rate, NengoDL-trained "
                     f"(parallel), temporal network{quick('accuracy')}",
                     f"{acc['test_accuracy'] * 100:.2f} %{n_note(acc['n_test'])}",
                     f"{acc['n_trainable']:,}",
                     f"{acc['train_wall_s']:.0f} s, {acc['epochs']} epochs"))
    if loihi:
        n_trainable = loihi.get("n_trainable", acc.get("n_trainable"))
        rows.append(("same LMU, spiking, Loihi emulator"
                     + (" (quick)" if loihi.get("quick") else ""),
                     f"{loihi['accuracy'] * 100:.2f} %{n_note(loihi['n_test'])}"
                     f" (rate on the same images {loihi['rate_accuracy'] * 100:.2f} %)",
                     "" if n_trainable is None else f"{n_trainable:,}",
                     f"rate row's weights; {loihi['s_per_image']:.1f} s per test image"))
    for kind, label in (("ff", "FF baseline"), ("lstm", "LSTM baseline")):
        b = results.get(kind)
        if b:
            rows.append((f"{label}: {b['architecture']}, Keras{quick(kind)}",
                         f"{b['test_accuracy'] * 100:.2f} %{n_note(b['n_test'])}",
                         f"{b['n_trainable']:,}",
                         f"{b['train_wall_s']:.0f} s, {b['epochs_done']:.3g} epoch(s)"
                         + (f" (budget {b['budget_s'] / 60:.3g} min)"
                            if b["stopped_by_budget"] else "")))
    rows += [(f"paper: {model}", f"{accuracy * 100:.2f} %",
              "" if n is None else f"{n:,}", "") for model, accuracy, n in PAPER_TABLE]
    return rows


COMPARISON_HEADER = ("model", "test accuracy", "trainable parameters", "training")


def format_table(rows, header=("part", "figure", "value"), markdown=False):
    """Rows as an aligned text table (last column right-aligned) or in Markdown."""
    if not rows:
        return "(no results)"
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(str(r[k])) for r in [header] + list(rows)) for k in range(len(header))]

    def line(row):
        cells = [f"{c:<{w}}" for c, w in zip(row[:-1], widths)]
        return "  ".join(cells + [f"{row[-1]:>{widths[-1]}}"])

    return "\n".join([line(header), "-" * (sum(widths) + 2 * (len(widths) - 1))]
                     + [line(r) for r in rows])


def plot_comparison(ax, results):
    """Test accuracy of each model (measured: filled; paper: open), annotated."""
    acc = results.get("accuracy") or {}
    loihi = results.get("loihi") or {}
    points = []  # (label, accuracy %, annotation, color; None: paper)
    if acc:
        points.append(("LMU, rate\n(NengoDL-trained)", acc["test_accuracy"] * 100,
                       f"{acc['n_trainable']:,} params, {acc['train_wall_s']:.0f} s", "C0"))
    if loihi:
        points.append(("LMU, spiking\n(Loihi emulator)", loihi["accuracy"] * 100,
                       f"n={loihi['n_test']}, {loihi['s_per_image']:.1f} s/image", "C1"))
    for kind, color in (("ff", "C4"), ("lstm", "C5")):
        b = results.get(kind)
        if b:
            points.append((f"{kind.upper()} baseline\n({b['architecture'].split(' -> ')[1]})",
                           b["test_accuracy"] * 100,
                           f"{b['n_trainable']:,} params, {b['train_wall_s']:.0f} s, "
                           f"{b['epochs_done']:.3g} ep.", color))
    points += [(f"paper:\n{model}", accuracy * 100, "" if n is None else f"{n:,} params", None)
               for model, accuracy, n in PAPER_TABLE]
    ys = np.arange(len(points))[::-1]
    for y, (_, value, note, color) in zip(ys, points):
        ax.plot(value, y, "D" if color is None else "o", ms=9, color=color or "k",
                mfc="none" if color is None else color)
        ax.annotate(f"{value:.2f} %  {note}", (value, y), xytext=(8, 0),
                    textcoords="offset points", va="center", fontsize="small")
    values = [p[1] for p in points]
    # room on the right for the annotations; no ticks past 100 %
    ax.set_xlim(min(values) - 2, 100 + 0.6 * (100 - min(values) + 2))
    ax.set_xticks([t for t in ax.get_xticks() if min(values) - 2 <= t <= 100])
    ax.set_yticks(ys)
    ax.set_yticklabels([p[0] for p in points], fontsize="small")
    ax.set_ylim(-0.7, len(points) - 0.3)
    ax.set_xlabel("test accuracy (%)")
    ax.set_title("psMNIST test accuracy (filled: measured here, open: paper)")
    ax.grid(alpha=0.3, axis="x")


def plot_results(results):
    plt = _pyplot()
    fig, ((ax0, ax3), (ax1, ax2)) = plt.subplots(2, 2, figsize=(14, 8))
    acc = results.get("accuracy")
    sq = results.get("sequential")
    baselines = {kind: results[kind] for kind in BASELINES if results.get(kind)}
    if acc:
        epochs = np.arange(1, len(acc["val_accuracy"]) + 1)
        ax0.plot(epochs, np.array(acc["val_accuracy"]) * 100, "o-",
                 label=f"parallel: validation (units {acc['units']}, order {acc['order']})")
        ax0.plot([epochs[-1]], [acc["test_accuracy"] * 100], "k*", ms=12,
                 label=f"test, temporal network: {acc['test_accuracy'] * 100:.2f} %")
    for kind, b in baselines.items():
        # a partial last epoch (stopped by the time budget) is drawn at its fraction
        epochs = np.minimum(np.arange(1, len(b["val_accuracy"]) + 1), b["epochs_done"])
        color = "C4" if kind == "ff" else "C5"
        ax0.plot(epochs, np.array(b["val_accuracy"]) * 100, "s-", color=color, ms=4,
                 label=f"{kind} baseline: validation ({b['n_trainable']:,} parameters)")
        ax0.plot([epochs[-1]], [b["test_accuracy"] * 100], "*", color=color, mec="k", ms=12,
                 label=f"{kind} baseline: test {b['test_accuracy'] * 100:.2f} %")
    if acc or baselines:
        ax0.set_xlabel("epoch")
        ax0.set_xlim(0, max([len(acc["val_accuracy"])] if acc else []
                            + [b["epochs_done"] for b in baselines.values()]) + 0.5)
        ax0.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    if sq:
        ax0.axhline(sq["val_accuracy"] * 100, color="C3", ls="--",
                    label=f"sequential, {sq['n_minibatches']} minibatches "
                          f"({sq['time_used_s'] / 60:.1f} min): {sq['val_accuracy'] * 100:.1f} %")
    ax0.set_ylabel("accuracy (%)")
    ax0.set_title("psMNIST accuracy")
    ax0.grid(alpha=0.3)
    if acc or sq or baselines:
        ax0.legend(fontsize="x-small", loc="lower right")
    else:
        ax0.set_axis_off()
    plot_comparison(ax3, results)

    sp = results.get("speed") or {}

    def bars(ax, names, values, ylabel, title):
        if not names:
            ax.set_axis_off()
            return
        colors = [f"C{k}" for k in range(len(names))]
        ax.bar(range(len(names)), values, color=colors)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, fontsize="small")
        if max(values) > 20 * min(values):
            ax.set_yscale("log")
            ax.set_ylim(min(values) / 3, max(values) * 3)
        else:
            ax.set_ylim(0, max(values) * 1.15)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        for k, v in enumerate(values):
            ax.text(k, v, f"{v:.3g} s", ha="center", va="bottom", fontsize="small")
        ax.grid(alpha=0.3, axis="y")

    names, values = [], []
    if "ours_parallel_epoch_s" in sp:
        names.append("ours\n(parallel)")
        values.append(sp["ours_parallel_epoch_s"])
    if "keras_lmu_epoch_s" in sp:
        names.append(f"keras-lmu\n({sp['keras_lmu_layer']})")
        values.append(sp["keras_lmu_epoch_s"])
    bars(ax1, names, values, "seconds per epoch (50,000 sequences)",
         "training epoch, feedforward LMU")
    names, values = [], []
    if "ours_sequential_s_per_batch" in sp:
        names.append("ours\n(sequential)")
        values.append(sp["ours_sequential_s_per_batch"])
    if "ours_sequential_nengo_dl_plan" in sp:
        names.append("ours, NengoDL's\ndefault plan")
        values.append(sp["ours_sequential_nengo_dl_plan"]["s_per_batch"])
    for variant, r in (sp.get("nengo_dl_example") or {}).items():
        names.append(f"NengoDL docs\nexample ({variant})")
        values.append(r["s_per_batch"])
    bars(ax2, names, values, "seconds per minibatch of 100",
         "BPTT through 784 steps, recurrent LMU")
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--out", default="results/benchmarks")
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    parser.add_argument("--units", type=int, default=346)
    parser.add_argument("--order", type=int, default=256)
    parser.add_argument("--resume", action="store_true",
                        help="resume the accuracy run's training from its checkpoint")
    parser.add_argument("--n-test", type=int, default=None,
                        help="test images for the accuracy, ff and lstm parts "
                             "(default all 10,000)")
    parser.add_argument("--speed-items", nargs="+", choices=SPEED_ITEMS,
                        default=list(SPEED_ITEMS), help="what the speed part measures")
    parser.add_argument("--keras-steps", type=int, default=100,
                        help="keras-lmu batches timed when a full epoch would be too long")
    parser.add_argument("--keras-max-epoch-s", type=float, default=300.0,
                        help="time a full keras-lmu epoch only if predicted below this")
    parser.add_argument("--timing-batches", type=int, default=5,
                        help="timed minibatches (after 1 warm-up) for the sequential speed")
    parser.add_argument("--docs-variants", nargs="*", choices=DOCS_VARIANTS,
                        default=list(DOCS_VARIANTS),
                        help="revisions of the NengoDL docs example to time")
    parser.add_argument("--seq-minutes", type=float, default=10.0,
                        help="time budget of the sequential part")
    parser.add_argument("--seq-units", type=int, default=PAPER_RECURRENT["units"])
    parser.add_argument("--seq-order", type=int, default=PAPER_RECURRENT["order"])
    parser.add_argument("--seq-lr", type=float, default=1e-4)
    parser.add_argument("--ff-units", type=int, default=125,
                        help="hidden ReLU units of the feed-forward baseline")
    parser.add_argument("--ff-epochs", type=int, default=30,
                        help="maximum epochs of the feed-forward baseline")
    parser.add_argument("--ff-minutes", type=float, default=15.0,
                        help="training time budget of the feed-forward baseline")
    parser.add_argument("--lstm-units", type=int, default=128,
                        help="units of the LSTM baseline (128: 67,850 parameters, 156: 100,162)")
    parser.add_argument("--lstm-epochs", type=int, default=30,
                        help="maximum epochs of the LSTM baseline")
    parser.add_argument("--lstm-minutes", type=float, default=15.0,
                        help="training time budget of the LSTM baseline")
    parser.add_argument("--quick", action="store_true",
                        help="shorten every part to check the script (see module doc)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_test = args.n_test or 500
        args.epochs = min(args.epochs, 2)
        args.timing_batches = min(args.timing_batches, 2)
        args.ff_epochs = min(args.ff_epochs, 2)
        args.lstm_epochs = min(args.lstm_epochs, 1)
    if args.n_test is not None and not 1 <= args.n_test <= 10000:
        parser.error("--n-test must lie in 1..10000")
    for name in ("epochs", "units", "order", "timing_batches", "seq_units", "seq_order",
                 "keras_steps", "ff_units", "ff_epochs", "lstm_units", "lstm_epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    for name in ("seq_minutes", "ff_minutes", "lstm_minutes"):
        if not getattr(args, name) > 0:
            parser.error(f"--{name.replace('_', '-')} must be > 0")

    json_path = os.path.join(args.out, "psmnist.json")
    results = {}
    if os.path.exists(json_path):
        with open(json_path, encoding="utf-8") as f:
            results = json.load(f)
    results["environment"] = _versions()
    started = time.perf_counter()

    if "accuracy" in args.parts:
        results["accuracy"] = run_accuracy(args)
        results["accuracy"].update(measured_at=_now(), quick=args.quick)
        write_json(json_path, results)
    if "speed" in args.parts:
        results["speed"] = run_speed(args, results["accuracy"] if "accuracy" in args.parts
                                     else None)
        write_json(json_path, results)
    if "sequential" in args.parts:
        results["sequential"] = run_sequential(args, results["speed"] if "speed" in args.parts
                                               else None)
        write_json(json_path, results)
    for kind in BASELINES:
        if kind in args.parts:
            results[kind] = run_baseline(args, kind)
            write_json(json_path, results)
    results["last_run"] = {"parts": args.parts, "wall_s": time.perf_counter() - started,
                           "argv": sys.argv[1:] if argv is None else list(argv),
                           "finished_at": _now()}

    write_json(json_path, results)
    report = dict(results)
    loihi_path = os.path.join(args.out, LOIHI_JSON)
    if os.path.exists(loihi_path):  # the spiking LMU on Loihi, measured by another script
        with open(loihi_path, encoding="utf-8") as f:
            report["loihi"] = json.load(f)
    print()
    print(format_table(table_rows(report)))
    comparison = comparison_rows(report)
    print()
    print(format_table(comparison, COMPARISON_HEADER))
    print()
    print(format_table(comparison, COMPARISON_HEADER, markdown=True))
    save_figure(plot_results(report), os.path.join(args.out, "psmnist.png"), dpi=110)
    print(f"\nwrote {json_path} and {os.path.join(args.out, 'psmnist.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
