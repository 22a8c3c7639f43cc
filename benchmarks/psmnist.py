"""Benchmark: psMNIST LMUs trained with NengoDL, accuracy and training speed.

Five parts, selected with ``--parts`` (all by default), measured in one run:

``accuracy``
    Trains the default psMNIST model (``--units`` ReLU units on an order
    ``--order`` memory of the whole 784-pixel sequence) for ``--epochs``
    epochs with the *parallel* method
    (`nengo_lmu.tasks.psmnist.train_psmnist`, into ``OUT/psmnist-parallel``,
    deleted first unless ``--resume``), then tests the *temporal* network
    (784 NengoDL steps per image) on the 10,000 test images with
    `nengo_lmu.tasks.psmnist.evaluate_psmnist` (about 400 s).
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
    `nengo_lmu.lmu.build_classifier` and simulated with the settings of
    `nengo_lmu.training.train` (`nengo_lmu.training.configure_nengo_dl`);
    and the same figure for the LMU example of NengoDL's documentation
    (`nengo_lmu.tasks.peers.nengo_dl_docs_lmu`, see there).
    ``sequential-nengo-dl-plan``: our network again with NengoDL's default
    plan (``configure_nengo_dl(..., fast=False)``), to show what the dense
    plan gains. Protocol for all
    (`nengo_lmu.tasks.peers.time_sequential_paths`): build the
    simulator, compile, one warm-up minibatch (tracing), then
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
    The feed-forward baseline (`nengo_lmu.tasks.baselines.ff_baseline`):
    the flattened permuted image (784 pixels) through ``Dense(--ff-units=125, relu) -> Dense(10)``
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
    The LSTM baseline (`nengo_lmu.tasks.baselines.lstm_baseline`): the
    permuted sequence ``(n, 784, 1)`` through ``keras.layers.LSTM(--lstm-units=128)`` (last
    step) ``-> Dense(10)`` (67,850 trainable parameters; 156 units would
    give 100,162), trained and tested like ``ff`` within ``--lstm-minutes``
    (15, the LMU's training-time target) or ``--lstm-epochs`` (30). On a
    2-core CPU one minibatch takes about 0.9 s, one epoch about 450 s, so
    the budget allows about two epochs. Training stops cleanly after the
    minibatch past which the next one and the validation that follows it
    would overrun the budget
    (`nengo_lmu.tasks.baselines.train_keras_baseline`); a partial last epoch
    is validated like a full one.

Prints a table of all figures, a comparison table of the models (test
accuracy, trainable parameters, training time; also in Markdown for the
README) and writes ``OUT/psmnist.json`` and ``OUT/psmnist.png``. Parts not
run in this invocation keep their entries from an earlier
``OUT/psmnist.json`` (each part records its settings and when it was
measured). A Loihi row is added to the comparison from
``OUT/psmnist-loihi.json`` (written by ``benchmarks/loihi.py``) if that file
exists (see `nengo_lmu.tasks.peers.comparison_rows`).

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
import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from nengo_lmu.data import load_psmnist  # noqa: E402
from nengo_lmu.model_dir import read_config  # noqa: E402
from nengo_lmu.plots import pyplot  # noqa: E402
from nengo_lmu.tasks.baselines import BASELINES, BATCH_SIZE, train_keras_baseline  # noqa: E402
from nengo_lmu.tasks.peers import (  # noqa: E402
    COMPARISON_HEADER,
    DOCS_VARIANTS,
    LOIHI_JSON,
    closed_form_memory_s,
    comparison_rows,
    plot_comparison,
    time_keras_lmu,
    time_ours_sequential,
    time_sequential_paths,
)
from nengo_lmu.tasks.psmnist import (  # noqa: E402
    DEFAULTS,
    evaluate_psmnist,
    model_config,
    train_psmnist,
)
from nengo_lmu.tasks.reporting import (  # noqa: E402
    environment,
    format_table,
    load_results,
    log,
    now,
    save_part,
    write_report,
)
from nengo_lmu.training import train  # noqa: E402

PARTS = ("accuracy", "speed", "sequential", "ff", "lstm")
#: Gradient-norm clipping of the sequential run (without it, backpropagation
#: through 784 steps of the fully recurrent cell diverges to NaN here).
SEQ_CLIPNORM = 1.0
SPEED_ITEMS = ("parallel", "keras-lmu", "sequential", "sequential-nengo-dl-plan")
N_VAL_SEQUENTIAL = 1000

#: The paper's recurrent psMNIST configuration (Voelker et al. 2019), as the
#: keyword arguments of `nengo_lmu.tasks.psmnist.model_config`.
PAPER_RECURRENT = dict(units=212, order=256, neuron_type="Tanh", hidden_to_memory=True,
                       memory_to_memory=True, input_to_hidden=True, hidden_recurrent=True)

#: Training and validation images of the Keras baselines with ``--quick``.
QUICK_BASELINE_N = 500


def _log(msg):
    log(msg, timestamp=False)


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
    run_config = read_config(model_dir)
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


def sequential_config(args):
    kw = dict(PAPER_RECURRENT, units=args.seq_units, order=args.seq_order)
    return model_config(**kw)


def run_speed(args, accuracy_result):
    data = load_psmnist(0)
    x, y = data["train"]
    res = {"batch_size": BATCH_SIZE, "n_train": int(len(x)), "items": list(args.speed_items)}

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
        memory_s = closed_form_memory_s(model_config(args.units, args.order), x)
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
        res.update(time_sequential_paths(
            x, y, sequential_config(args), args.timing_batches, args.docs_variants,
            nengo_dl_plan="sequential-nengo-dl-plan" in args.speed_items, log=_log))
    res["measured_at"] = now()
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
    n_val_batches = N_VAL_SEQUENTIAL // BATCH_SIZE
    # build + tracing of fit + tracing of predict + validation (a forward pass is
    # taken as half a training minibatch) + 5% margin
    overhead = timing["build_s"] + 2 * trace_s + n_val_batches * 0.5 * s_batch
    available = budget - (time.perf_counter() - start)
    n_batches = int(max(1, min(len(x) // BATCH_SIZE, (0.95 * available - overhead) // s_batch)))
    n_train = n_batches * BATCH_SIZE
    out_dir = os.path.join(args.out, "psmnist-sequential")
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    _log(f"[sequential] budget {budget:.0f} s: {s_batch:.2f} s per minibatch, overhead "
         f"~{overhead:.0f} s -> training on {n_train} images ({n_batches} minibatches), "
         f"validating on {N_VAL_SEQUENTIAL}")
    t0 = time.perf_counter()
    history = train(config, (x[:n_train], y[:n_train]), (xv, yv), out_dir, epochs=1,
                    method="sequential", batch_size=BATCH_SIZE, learning_rate=args.seq_lr,
                    seed=0, clipnorm=SEQ_CLIPNORM, verbose=0,
                    meta={"task": "psmnist", "permutation_seed": 0,
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
        "measured_at": now(),
        "quick": args.quick,
    }


# --------------------------------------------------------------------------
# Parts 4 and 5: Keras baselines (feed-forward and LSTM) on the same data


def run_baseline(args, kind):
    """Part ``ff`` or ``lstm`` with the command-line settings."""
    units, epochs, minutes = (getattr(args, f"{kind}_{k}") for k in ("units", "epochs", "minutes"))
    n = QUICK_BASELINE_N if args.quick else None
    res = train_keras_baseline(kind, units, load_psmnist(0), epochs=epochs,
                               budget_s=minutes * 60.0, n_train=n, n_val=n, n_test=args.n_test,
                               verbose=1 if sys.stdout.isatty() else 2)
    res.update(measured_at=now(), quick=args.quick)
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


def plot_results(results):
    plt = pyplot()
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
    results = load_results(json_path)  # parts not run keep their earlier entries
    results["environment"] = environment()
    started = time.perf_counter()

    if "accuracy" in args.parts:
        save_part(json_path, results, "accuracy",
                  dict(run_accuracy(args), measured_at=now(), quick=args.quick))
    if "speed" in args.parts:
        save_part(json_path, results, "speed",
                  run_speed(args, results["accuracy"] if "accuracy" in args.parts else None))
    if "sequential" in args.parts:
        save_part(json_path, results, "sequential",
                  run_sequential(args, results["speed"] if "speed" in args.parts else None))
    for kind in BASELINES:
        if kind in args.parts:
            save_part(json_path, results, kind, run_baseline(args, kind))
    results["last_run"] = {"parts": args.parts, "wall_s": time.perf_counter() - started,
                           "argv": sys.argv[1:] if argv is None else list(argv),
                           "finished_at": now()}

    report = dict(results)
    loihi = load_results(os.path.join(args.out, LOIHI_JSON))
    if loihi:  # the spiking LMU on Loihi, measured by benchmarks/loihi.py
        report["loihi"] = loihi
    print()
    print(format_table(table_rows(report)))
    comparison = comparison_rows(report)
    print()
    print(format_table(comparison, COMPARISON_HEADER))
    print()
    print(format_table(comparison, COMPARISON_HEADER, markdown=True))
    _, png_path = write_report(args.out, "psmnist", results, fig=plot_results(report))
    print(f"\nwrote {json_path} and {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
