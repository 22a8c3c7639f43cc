"""Benchmark: how much of the spiking memory's distortion averaged copies undo.

Loihi's neurons distort the spiking memory, and its recurrent loop amplifies
the distortion. Fine-tuning the classifier (`nengo-lmu psmnist finetune`,
with ``--n-synthetic``) can undo only the part that is an affine map of the
exact state; the rest is what limits the memory on chip. That rest is mostly
particular to each tuning of the neurons, so it averages out over
independent copies of the memory, which `nengo_lmu.networks.LegendreMemory`
(``copies``) packs into one ensemble, one core on Loihi, per state variable.

For a trained model (``--model``) and each layout in ``--layouts``
(``COPIESxNEURONS``: copies of the memory, neurons per state variable in
each), this builds the spiking classifier as ``psmnist evaluate --backend
loihi --memory spiking`` deploys it (``--steps-per-element``,
``--memory-max-rate``, each tuning seed of ``--seeds``), simulates its
memory on ``--n-images`` validation images after the calibration ones, each
from rest, in nengo's arithmetic with Loihi's neuron model and the weights
Loihi stores (`SpikingLMUClassifier.memory_states`), and reports:

- ``affine_r2``: the fraction of the spiking state's variance over the
  readout window that a per-shift affine map of the exact final state
  explains on held-out images (fitted on the first three quarters, scored on
  the rest): what fine-tuning can absorb; higher is better, 1 is a memory
  the classifier reads as well as the exact one;
- ``nrmse``: the spiking state against that affine prediction, in units
  of each dimension's calibration range (the part fine-tuning cannot undo);
- neurons per ensemble and, with ``--report``, the chip resources of the
  whole classifier (`nengo-lmu loihi-report`: cores, synapses, the busiest
  core's share of synapse memory, ``fits_one_chip``).

Prints a table and writes ``OUT/memory_copies.json`` and ``.png``::

    python benchmarks/memory_copies.py --model DIR --out results/copies \\
        [--layouts 1x30,2x15,4x10,2x20] [--seeds 2] [--n-images 400] [--report]
"""

import argparse
import os
import sys
import time

import numpy as np

from nengo_lmu.plots import pyplot
from nengo_lmu.tasks.psmnist import N_CALIBRATION, deployed_classifier, loihi_report
from nengo_lmu.tasks.reporting import environment, format_table, log, write_report

DEFAULT_LAYOUTS = "1x30,2x15,4x10,2x20"


def layout(name):
    """``COPIESxNEURONS`` as ``(copies, neurons)``, or a `ValueError`."""
    copies, x, neurons = name.partition("x")
    if not x or not copies.isdigit() or not neurons.isdigit() or int(copies) < 1 or (
            int(neurons) < 1):
        raise ValueError(f"a layout is COPIESxNEURONS with integers >= 1 (e.g. 2x15), "
                         f"got {name!r}")
    return int(copies), int(neurons)


def heldout_affine_fit(exact, states, n_fit):
    """Fit ``states[j] ~ exact @ W_j + b_j`` per shift ``j`` on the first
    ``n_fit`` sequences; return ``(r2, residual)`` on the others (``r2``
    pooled over shifts and dimensions, the residual ``(shifts, n - n_fit,
    size)``)."""
    X = np.c_[exact, np.ones(len(exact))]
    residual = np.empty_like(states[:, n_fit:])
    for j, s in enumerate(states):
        maps, *_ = np.linalg.lstsq(X[:n_fit], s[:n_fit], rcond=None)
        residual[j] = s[n_fit:] - X[n_fit:] @ maps
    held = states[:, n_fit:]
    total = ((held - held.mean(axis=1, keepdims=True)) ** 2).sum()
    return float(1 - (residual**2).sum() / total), residual


def measure(model, copies, neurons, seed, args):
    """One layout and tuning seed: the memory simulated and scored."""
    start = time.perf_counter()
    net, data = deployed_classifier(model, memory="spiking", seed=seed,
                                    memory_neurons=neurons, memory_copies=copies,
                                    steps_per_element=args.steps_per_element,
                                    memory_max_rate=args.memory_max_rate)
    x = data["valid"][0][N_CALIBRATION:N_CALIBRATION + args.n_images].astype(np.float64)
    x = np.repeat(x, args.steps_per_element, axis=1)
    states = net.memory_states(x, quantized=True, progress_bar=False).astype(np.float64)
    n_fit = (3 * len(x)) // 4
    r2, residual = heldout_affine_fit(net.final_memory(x), states, n_fit)
    return {"seed": seed, "affine_r2": r2,
            "nrmse": float(np.sqrt(np.mean((residual / net.m_scale) ** 2))),
            "n_fit": n_fit, "n_scored": len(x) - n_fit,
            "seconds": time.perf_counter() - start}


def run_layout(name, args):
    copies, neurons = layout(name)
    runs = []
    for seed in args.seeds:
        runs.append(measure(args.model, copies, neurons, seed, args))
        log(f"{name} seed {seed}: affine R^2 {runs[-1]['affine_r2']:.3f}, "
            f"NRMSE {runs[-1]['nrmse']:.3f} ({runs[-1]['seconds']:.0f} s)")
    row = {"layout": name, "copies": copies, "neurons": neurons,
           "neurons_per_ensemble": copies * neurons, "runs": runs,
           "affine_r2": float(np.mean([r["affine_r2"] for r in runs])),
           "nrmse": float(np.mean([r["nrmse"] for r in runs]))}
    if args.report:
        report = loihi_report(args.model, memory="spiking", seed=args.seeds[0],
                              memory_neurons=neurons, memory_copies=copies,
                              steps_per_element=args.steps_per_element,
                              memory_max_rate=args.memory_max_rate)
        row["report"] = {k: report[k] for k in ("cores", "neurons", "synapses",
                                                "synapses_nonzero", "fits_one_chip")}
        # the busiest core's share of its synapse memory
        row["report"]["busiest_synapse_bits"] = report["max_utilization"]["synapse_bits"]
    return row


def plot(rows):
    """Affine R^2 against neurons per state variable, one line per number of copies."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for copies in sorted({r["copies"] for r in rows}):
        pts = sorted((r["neurons_per_ensemble"], r["affine_r2"]) for r in rows
                     if r["copies"] == copies)
        ax.plot(*zip(*pts), "o-", label=f"{copies} cop{'y' if copies == 1 else 'ies'}")
    ax.set_xlabel("neurons per state variable (all copies)")
    ax.set_ylabel("held-out affine R^2 of the spiking state")
    ax.set_title("Averaged copies of the spiking memory")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a trained model directory")
    parser.add_argument("--out", default="results/benchmarks", help="directory of the results")
    parser.add_argument("--layouts", default=DEFAULT_LAYOUTS,
                        help="comma-separated COPIESxNEURONS (default: %(default)s)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2],
                        help="tuning seeds of the memory (default: 2)")
    parser.add_argument("--n-images", type=int, default=400,
                        help="validation images simulated (default: %(default)s)")
    parser.add_argument("--steps-per-element", type=int, default=4,
                        help="chip steps per sequence element (default: %(default)s)")
    parser.add_argument("--memory-max-rate", type=float, default=950.0,
                        help="highest rate in Hz of the memory's neurons (default: %(default)s)")
    parser.add_argument("--report", action="store_true",
                        help="also build each classifier for Loihi and report its resources")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.layouts.split(",") if n.strip()]
    for name in names:  # every argument checked before anything is built
        try:
            layout(name)
        except ValueError as e:
            parser.error(f"--layouts: {e}")
    if not names:
        parser.error("--layouts: give at least one layout")
    if args.n_images < 4:
        parser.error(f"--n-images must be >= 4 (a quarter is held out), got {args.n_images}")
    if args.steps_per_element < 1:
        parser.error(f"--steps-per-element must be >= 1, got {args.steps_per_element}")
    if not 0 < args.memory_max_rate <= 1000:
        parser.error(f"--memory-max-rate must be in (0, 1000] Hz, got {args.memory_max_rate}")
    if not os.path.isfile(os.path.join(args.model, "config.json")):
        parser.error(f"--model: {args.model} is not a model directory (no config.json)")
    rows = [run_layout(name, args) for name in names]
    table = format_table(
        [(r["layout"], str(r["neurons_per_ensemble"]), f"{r['affine_r2']:.3f}",
          f"{r['nrmse']:.3f}",
          "" if "report" not in r else f"{r['report']['cores']} cores, busiest "
          f"{r['report']['busiest_synapse_bits']:.1%} synapse memory, "
          f"{'fits' if r['report']['fits_one_chip'] else 'does not fit'} one chip")
         for r in rows],
        header=("copies x neurons", "neurons per ensemble", "affine R^2 (held out)",
                "NRMSE after the map", "chip"))
    write_report(args.out, "memory_copies",
                 {"rows": rows, "model": os.path.abspath(args.model), "seeds": args.seeds,
                  "n_images": args.n_images, "steps_per_element": args.steps_per_element,
                  "memory_max_rate": args.memory_max_rate, "environment": environment()},
                 fig=plot(rows), table=table)


if __name__ == "__main__":
    sys.exit(main())
