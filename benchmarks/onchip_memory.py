"""Benchmark: the LMU's memory itself on the chip, one row per realisation.

For each realisation of the memory (``--realisations``, each
``KIND-ORDER[xK][@RATE]``: a memory kind of `nengo_lmu.systems.MEMORY_KINDS`,
an order, K chip steps per sequence element, 1 by default, and the highest
rate of the memory's neurons in Hz, ``--memory-max-rate`` by default, with
``--memory-neurons`` per state variable) this
trains the psMNIST classifier for the chip's readout (`nengo-lmu psmnist
train --readout hold --memory-kind KIND`), optionally fine-tunes it against
its spiking memory (``--finetune NAMES``: `nengo-lmu psmnist finetune`), and
measures:

- the rate ceiling: the best validation accuracy of the rate model trained
  for the hold readout, and the rate model read as the chip reads it
  (``rate_stream_accuracy`` on the test images evaluated);
- the spiking state's NRMSE against the exact memory, over the readout
  window of ``--n-nrmse`` validation images, in units of each dimension's
  calibration range: in nengo's arithmetic with Loihi's neuron model
  (`nengo_lmu.memory_simulation.simulate_memory`) and with the recurrent
  weights Loihi stores (``quantized``), and on the emulator itself (the
  classifier's memory on the batched emulator, ``--n-nrmse-emulator``
  images), against 0.3 or so for a memory stuck at zero (``zero``);
- psMNIST accuracy on the Loihi emulator with memory and hidden layer
  spiking, on the first ``--n-test`` test images (the batched emulator,
  each image from rest), and the chip steps per image;
- with K > 1 (``steps_per_element`` of `nengo_lmu.tasks.psmnist.chip_time`)
  the same trained model (one model directory per ``KIND-ORDER``) runs K
  chip steps per element and per hold step, its memory K times slower;
  fine-tuning (``--finetune``) is against the memory at the realisation's
  own K and rate (``finetune --steps-per-element K``), simulated in nengo's
  arithmetic or, with ``--finetune-simulation emulator``, on the emulator
  (what the best figure so far used, with ``--finetune-learning-rate 0.003
  --finetune-epochs 60``), optionally with ``--finetune-synthetic N`` more
  training images whose states are synthesised from the simulated ones
  (``finetune --n-synthetic``), into
  ``KIND-ORDER-finetuned[-kK][-rRATE][-emulator][-lrLR-epN][-synN]``, the
  simulated states kept beside it (``...-states.npz``) so that an
  interrupted fine-tune resumes without simulating them again;
- the chip resources (`nengo-lmu loihi-report`): cores, neurons, synapses,
  input axons, ``fits_one_chip``.

Every step writes its result into the realisation's model directory under
``--out`` and is skipped when rerun (training and fine-tuning resume from
their checkpoints), so an interrupted run continues where it stopped.
Prints a table and writes ``DOCS/onchip_memory.json`` and ``.png``; rows
of an earlier ``DOCS/onchip_memory.json`` that this run does not measure
are kept there, marked ``earlier``::

    python benchmarks/onchip_memory.py --out results/onchip \\
        [--realisations oscillators-16,oscillators-128,legendre-64x4] [--n-test 500] \\
        [--finetune oscillators-16]
"""

import argparse
import os
import sys
import time

import nengo
import numpy as np

from nengo_lmu.batching import emulated_memory_states
from nengo_lmu.io import write_json
from nengo_lmu.model_dir import SpikingSettings
from nengo_lmu.plots import pyplot
from nengo_lmu.readout import hold_stream
from nengo_lmu.systems import MEMORY_KINDS
from nengo_lmu.tasks.finetune import FINETUNE, MEMORY_SIMULATIONS, finetune_psmnist
from nengo_lmu.tasks.psmnist import (
    N_CALIBRATION,
    deployed_classifier,
    evaluate_psmnist,
    loihi_report,
    train_psmnist,
)
from nengo_lmu.tasks.reporting import format_table, load_results, log, write_report


def realisation(name, args):
    """``KIND-ORDER[xK][@RATE]`` (e.g. ``oscillators-128``, ``legendre-64x4@950``)
    as the realisation's settings, or a `ValueError`."""
    kind, _, rest = name.rpartition("-")
    rest, at, rate = rest.partition("@")
    order, x, k = rest.partition("x")
    if kind not in MEMORY_KINDS or not order.isdigit() or int(order) < 1 or not (
            not x or k.isdigit() and int(k) >= 1) or not (
            not at or rate.isdigit() and int(rate) >= 1):
        raise ValueError(f"a realisation is KIND-ORDER[xK][@RATE] with KIND one of "
                         f"{MEMORY_KINDS}, K chip steps per element and the memory's "
                         f"highest rate RATE in Hz, got {name!r}")
    epochs = args.epochs or (20 if int(order) <= 32 else 15)
    return dict(memory_kind=kind, order=int(order), memory_neurons=args.memory_neurons,
                epochs=epochs, steps_per_element=int(k or 1), model=f"{kind}-{order}",
                memory_max_rate=float(rate or args.memory_max_rate))


def cached(path, compute):
    """The JSON at ``path``, or ``compute()`` written there."""
    if os.path.exists(path):
        return load_results(path)
    value = compute()
    write_json(path, value)
    return value


def state_nrmse(model_dir, n_images, simulation, steps_per_element=1, **spiking):
    """NRMSE of the classifier's spiking memory against the exact one.

    The memory of the deployed classifier (Loihi's neuron model, the model's
    settings and ``spiking``, e.g. ``seed``; ``steps_per_element`` chip steps
    per element) runs on validation images 1,000 on (after the calibration
    ones), each from rest followed by the hold: in nengo's arithmetic
    (`nengo_lmu.memory_simulation.simulate_memory`) with nengo's weights
    (``simulation="float"``) or those Loihi stores (``"loihi_weights"``;
    `SpikingLMUClassifier.memory_states`), or
    on the emulator (``"emulator"``: `nengo_lmu.batching.emulated_memory_states`,
    what fine-tuning with ``--memory-simulation emulator`` trains on). Its
    decoded output through the hidden synapse over the readout window is
    compared with the exact trajectory through the same synapse (one step
    later: the probe's lag; on the emulator, which reads the memory as a
    probe of ``memory.output`` does, the lag of 2-4 steps that fits best, as
    ``lag``), in units of each dimension's calibration range.
    """
    net, data = deployed_classifier(model_dir, memory="spiking",
                                    steps_per_element=steps_per_element, **spiking)
    x = np.repeat(data["valid"][0][N_CALIBRATION:N_CALIBRATION + n_images].astype(float),
                  steps_per_element, axis=1)
    stream = hold_stream(x, net.hold_steps, net.hold_steps)
    last = stream.shape[1] - net.hold_steps - 1
    steps = last + net.scheme.shifts
    lowpass = nengo.Lowpass(net.hidden_synapse)
    exact = np.stack([lowpass.filt(net.system.trajectory(s[:, 0], 1.0), dt=net.dt, y0=0)
                      for s in stream])
    start = time.perf_counter()
    lags = (1,)
    if simulation == "emulator":
        # read as a probe of memory.output reads it, one step later than
        # simulate_memory's filtered spikes: the lags are one step longer
        spiking = emulated_memory_states(net, x, progress_bar=False).transpose(1, 0, 2)
        lags = (2, 3, 4)
    else:
        spiking = net.memory_states(x, progress_bar=False,
                                    quantized=simulation == "loihi_weights").transpose(1, 0, 2)
    errors = {lag: (spiking - exact[:, steps - lag]) / net.m_scale for lag in lags}
    lag = min(lags, key=lambda k: np.mean(errors[k] ** 2))
    err = errors[lag]
    per_dim = np.sqrt(np.mean(err**2, axis=(0, 1)))
    # the oscillators' turn per step (theta is in steps); None for a Legendre memory
    turn = getattr(net.system, "frequencies", None)
    return {"turn_per_step": None if turn is None else turn.tolist(),
            "steps_per_element": int(steps_per_element), "simulation": simulation,
            "lag": int(lag),
            "nrmse": float(np.sqrt(np.mean(err**2))), "worst_dimension": float(per_dim.max()),
            "per_dimension": per_dim.tolist(),
            "zero": float(np.sqrt(np.mean((exact[:, steps - 1] / net.m_scale) ** 2))),
            "n_images": int(n_images), "quantized": simulation != "float",
            "wall_s": time.perf_counter() - start}


def run_realisation(name, spec, args):
    """Train (resumable), measure and optionally fine-tune one realisation."""
    model = os.path.join(args.out, spec["model"])
    k = spec["steps_per_element"]
    # the results of K steps per element, and of another rate than the default
    tag = ("" if k == 1 else f"-k{k}") + (
        "" if spec["memory_max_rate"] == SpikingSettings.memory_max_rate
        else f"-r{spec['memory_max_rate']:g}")
    history_path = os.path.join(model, "history.json")
    if not os.path.exists(os.path.join(model, "params.npz")) or len(
            load_results(history_path).get("epoch", [])) < spec["epochs"]:
        log(f"{name}: training ({spec['memory_kind']}, order {spec['order']})")
        train_psmnist(model, epochs=spec["epochs"], order=spec["order"], n_train=args.n_train,
                      memory_kind=spec["memory_kind"], readout="hold", verbose=0,
                      log=lambda m: log(f"{name}: {m}"))
    rate_val = load_results(history_path)["best"]["val_accuracy"]
    row = {"name": name, **spec, "rate_val_accuracy": rate_val}
    spiking = dict(memory_neurons=spec["memory_neurons"], seed=args.seed,
                   memory_max_rate=spec["memory_max_rate"])
    row["report"] = cached(os.path.join(model, "onchip-report.json"), lambda: {
        key: v for key, v in loihi_report(model, memory="spiking", **spiking).items()
        if key in ("cores", "neurons", "synapses", "in_axons", "fits_one_chip", "chips")})
    models = [("rate-trained", model)]
    if name in args.finetune:
        tuned = model + "-finetuned" + tag + finetune_tag(args)
        if not os.path.exists(os.path.join(tuned, "params.npz")) or len(
                load_results(os.path.join(tuned, "history.json")).get("epoch", [])) < \
                args.finetune_epochs:
            log(f"{name}: fine-tuning against the spiking memory ({args.finetune_n_train} "
                f"images, memory simulated by {args.finetune_simulation})")
            # the emulator runs every image from rest; so do synthetic states
            from_rest = args.finetune_simulation == "emulator" or args.finetune_synthetic > 0
            # the simulated states are kept: an interrupted fine-tune resumes
            # from its checkpoint without simulating the memory again
            finetune_psmnist(model, tuned, memory_neurons=spec["memory_neurons"],
                             seed=args.seed, n_train=args.finetune_n_train,
                             n_valid=args.finetune_n_valid, max_rate=500,
                             memory_max_rate=spec["memory_max_rate"],
                             steps_per_element=k, epochs=args.finetune_epochs,
                             learning_rate=args.finetune_learning_rate,
                             memory_simulation=args.finetune_simulation, from_rest=from_rest,
                             n_synthetic=args.finetune_synthetic,
                             states_cache=tuned + "-states.npz", progress_bar=False,
                             verbose=0, workers=args.workers
                             if args.finetune_simulation == "emulator" else 1)
        models.append(("fine-tuned", tuned))
    for label, path in models:
        own = spiking if path == model else {}  # a fine-tuned model has its own settings
        for simulation in ("float", "loihi_weights", "emulator"):
            key = f"nrmse_{simulation}"
            if simulation == "emulator" and not args.n_nrmse_emulator:
                continue
            n = args.n_nrmse_emulator if simulation == "emulator" else args.n_nrmse
            log(f"{name} ({label}): state NRMSE, {key}")
            row.setdefault(label, {})[key] = cached(
                os.path.join(path, f"onchip-{key}-{n}{tag}.json"),
                lambda p=path, q=simulation, o=own, n=n: state_nrmse(
                    p, n, q, steps_per_element=k, **o))
        log(f"{name} ({label}): {args.n_test} test images on the emulator")
        row[label]["emulator"] = cached(
            os.path.join(path, f"onchip-eval-{args.n_test}{tag}.json"),
            lambda p=path, o=own: {key: v for key, v in evaluate_psmnist(
                p, backend="loihi", memory="spiking", n_test=args.n_test, batch_size=64,
                workers=args.workers, progress_bar=False, steps_per_element=k, **o).items()
                if not isinstance(v, (list, dict))})
    return row


def finetune_tag(args):
    """The fine-tuned model's name beyond the realisation's: the memory's
    simulation and the training settings, when not `FINETUNE`'s."""
    tag = "-emulator" if args.finetune_simulation == "emulator" else ""
    if (args.finetune_learning_rate, args.finetune_epochs) != (
            FINETUNE["learning_rate"], FINETUNE["epochs"]):
        tag += f"-lr{args.finetune_learning_rate:g}-ep{args.finetune_epochs}"
    if args.finetune_synthetic:
        tag += f"-syn{args.finetune_synthetic}"
    return tag


def earlier_rows(docs, names):
    """The rows of an earlier ``DOCS/onchip_memory.json`` whose realisations
    are not among ``names`` (this run's), marked ``earlier``."""
    path = os.path.join(docs, "onchip_memory.json")
    if not os.path.exists(path):
        return []
    return [dict(row, earlier=True, steps_per_element=row.get("steps_per_element", 1),
                 memory_max_rate=row.get("memory_max_rate", SpikingSettings.memory_max_rate))
            for row in load_results(path)["rows"] if row["name"] not in names]


def table(rows):
    out = []
    for row in rows:
        r = row["report"]
        for label in ("rate-trained", "fine-tuned"):
            if label not in row:
                continue
            res = row[label]
            em = res["emulator"]
            out.append((
                row["memory_kind"], str(row["order"]), str(row["memory_neurons"]),
                f"{row['memory_max_rate']:g}",
                str(row["steps_per_element"]),
                label + (" (earlier run)" if row.get("earlier") else ""),
                str(em["steps_per_image"]), f"{row['rate_val_accuracy'] * 100:.1f}",
                f"{em.get('rate_stream_accuracy', float('nan')) * 100:.1f}",
                f"{res['nrmse_float']['nrmse']:.3f}", f"{res['nrmse_loihi_weights']['nrmse']:.3f}",
                f"{res['nrmse_emulator']['nrmse']:.3f}" if "nrmse_emulator" in res else "",
                f"{res['nrmse_float']['zero']:.3f}",
                f"{em['accuracy'] * 100:.1f} ({em['n_test']})", str(r["cores"]),
                f"{r['neurons']:,}", f"{r['synapses']:,}", f"{r['in_axons']:,}",
                "yes" if r["fits_one_chip"] else "no"))
    return out


HEADER = ("memory", "order", "neurons/dim", "memory max rate Hz", "chip steps/element",
          "classifier",
          "chip steps/image",
          "rate val %", "rate as chip reads %", "NRMSE float", "NRMSE Loihi weights",
          "NRMSE emulator",
          "NRMSE zero", "emulator % (images)", "cores", "neurons", "synapses",
          "input axons", "one chip")


def plot(rows):
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for row in rows:
        res = row["rate-trained"]["nrmse_loihi_weights"]
        if res.get("turn_per_step") is None:
            continue
        # each oscillator's worse state variable, against how far it turns per step
        per_block = np.asarray(res["per_dimension"]).reshape(-1, 2).max(axis=1)
        ax1.plot(res["turn_per_step"], per_block, ".-", label=row["name"])
    ax1.set_xscale("log")
    ax1.set_xlabel("oscillator's turn per chip step (rad)")
    ax1.set_ylabel("NRMSE of the spiking state (Loihi's weights)")
    ax1.axhline(rows[0]["rate-trained"]["nrmse_float"]["zero"], color="k", ls=":",
                label="memory stuck at zero")
    ax1.legend()
    names = [row["name"] + (" (earlier)" if row.get("earlier") else "") for row in rows]
    for k, (label, key) in enumerate((("rate model, as chip reads", None),
                                      ("emulator", "rate-trained"),
                                      ("emulator, fine-tuned", "fine-tuned"))):
        vals = []
        for row in rows:
            if key is None:
                vals.append(row["rate-trained"]["emulator"].get("rate_stream_accuracy", 0))
            else:
                vals.append(row[key]["emulator"]["accuracy"] if key in row else 0)
        ax2.bar(np.arange(len(rows)) + 0.27 * (k - 1), np.asarray(vals) * 100, 0.27,
                label=label)
    ax2.set_xticks(np.arange(len(rows)), names, rotation=30, ha="right", fontsize=8)
    ax2.set_ylabel("psMNIST accuracy (%)")
    ax2.axhline(96.2, color="k", ls=":", label="target 96.2 %")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="directory of the model directories")
    parser.add_argument("--realisations", default="oscillators-16,oscillators-128",
                        help="comma-separated KIND-ORDER, KIND one of "
                        f"{', '.join(MEMORY_KINDS)} (default: %(default)s)")
    parser.add_argument("--memory-neurons", type=int, default=30,
                        help="neurons per state variable (default: %(default)s)")
    parser.add_argument("--memory-max-rate", type=float,
                        default=SpikingSettings.memory_max_rate,
                        help="highest rate (Hz) of the memory's neurons, for realisations "
                        "without @RATE (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default: 20 up to order 32, else 15)")
    parser.add_argument("--n-train", type=int, default=None,
                        help="training images (default: all 50,000)")
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--n-nrmse", type=int, default=20)
    parser.add_argument("--n-nrmse-emulator", type=int, default=3,
                        help="validation images of the state NRMSE on the emulator "
                        "(0: none; default: %(default)s)")
    parser.add_argument("--finetune", default="",
                        help="comma-separated realisations to fine-tune against their "
                        "spiking memory as well (default: none)")
    parser.add_argument("--finetune-n-train", type=int, default=30000)
    parser.add_argument("--finetune-n-valid", type=int, default=2000)
    parser.add_argument("--finetune-simulation", choices=MEMORY_SIMULATIONS, default="nengo",
                        help="where fine-tuning runs the memory: nengo's arithmetic, or "
                        "the emulator itself (every image from rest; slower, and what "
                        "the chip holds) (default: %(default)s)")
    parser.add_argument("--finetune-learning-rate", type=float,
                        default=FINETUNE["learning_rate"],
                        help="fine-tuning's initial learning rate (default: %(default)s)")
    parser.add_argument("--finetune-epochs", type=int, default=FINETUNE["epochs"],
                        help="fine-tuning's epochs (default: %(default)s)")
    parser.add_argument("--finetune-synthetic", type=int, default=0, metavar="N",
                        help="training images beyond --finetune-n-train whose states are "
                        "synthesised from the simulated ones, never simulated (`psmnist "
                        "finetune --n-synthetic`; every image from rest) (default: none)")
    parser.add_argument("--seed", type=int, default=2, help="seed of the memory's tuning")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="processes that share the emulation: the test images "
                        "(`psmnist evaluate --workers`) and, with --finetune-simulation "
                        "emulator, the fine-tuning's states (`psmnist finetune --workers`); "
                        "the same results whatever N (default: %(default)s)")
    parser.add_argument("--docs", default="docs", help="where the table goes")
    args = parser.parse_args(argv)
    try:
        specs = {name: realisation(name, args) for name in args.realisations.split(",")}
    except ValueError as e:
        parser.error(str(e))
    if not args.finetune_learning_rate > 0 or args.finetune_epochs < 1:
        parser.error("--finetune-learning-rate must be > 0 and --finetune-epochs >= 1")
    if args.finetune_synthetic < 0:
        parser.error(f"--finetune-synthetic must be >= 0, got {args.finetune_synthetic}")
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    args.finetune = [n for n in args.finetune.split(",") if n]
    if any(n not in specs for n in args.finetune):
        parser.error("--finetune names realisations of --realisations")
    rows = [run_realisation(name, spec, args) for name, spec in specs.items()]
    rows += earlier_rows(args.docs, specs)
    text = format_table(table(rows), HEADER, markdown=True)
    write_report(args.docs, "onchip_memory", {"rows": rows, "n_test": args.n_test,
                                              "n_nrmse": args.n_nrmse, "seed": args.seed},
                 fig=plot(rows), table=text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
