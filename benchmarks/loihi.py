"""Benchmark: trained LMUs as spiking networks on the Loihi emulator.

Parts (``--parts``, all by default), measured in one run:

- ``exact``: the psMNIST model of ``--model`` (trained by the parallel path;
  trained here with the package defaults when the directory does not exist)
  with its hidden layer spiking on the emulator and the memory exact (off
  chip), on the first ``--n-test`` test images; the rate model on the same
  images; seconds per image; Loihi resources and weight quantization.
- ``spiking``: a low-order model (``--spiking-order``, trained here with
  ``readout="hold"`` if ``--spiking-model`` does not exist) with the memory
  spiking on chip too (``--memory-neurons`` per dimension firing at up to
  ``--memory-max-rate``), on ``--n-spiking`` images; its
  resources; the exact-memory accuracy of the same model for comparison;
  and the same model fine-tuned against that spiking memory
  (``--finetuned-model``, made here with `nengo_lmu.tasks.psmnist.finetune_psmnist`
  and the same ``--seed`` if it does not exist) on the same images.
- ``speed``: steps per second of the paper's delay network (order 6, 100
  neurons per dimension), nengo reference simulator vs nengo_loihi emulator.
- ``learning``: online PES learning (`nengo_lmu.tasks.learning.online_learning`)
  on nengo and on the emulator: error in the first and last 20 %.

Prints a table, writes (when parts are rerun: updates) ``OUT/loihi.json``,
``OUT/psmnist-loihi.json`` (`nengo_lmu.tasks.peers.LOIHI_JSON`: the row
that ``benchmarks/psmnist.py`` adds to its table) and ``OUT/loihi.png``::

    python benchmarks/loihi.py [--parts exact spiking speed learning] [--out DIR]
"""

import argparse
import os
import sys
import time

import numpy as np

from nengo_lmu.io import write_json
from nengo_lmu.tasks.peers import LOIHI_JSON
from nengo_lmu.tasks.reporting import load_results, machine, save_part, write_report
from nengo_lmu.tasks.reporting import log as _log

PARTS = ("exact", "spiking", "speed", "learning")


def _model(path, **train_kwargs):
    from nengo_lmu.tasks.psmnist import train_psmnist  # pylint: disable=import-outside-toplevel

    if not os.path.exists(os.path.join(path, "params.npz")):
        _log(f"training {path} ({train_kwargs or 'package defaults'})")
        train_psmnist(path, verbose=0, **train_kwargs)
    return path


def _resources(report):
    keys = ("cores", "chips", "neurons", "synapses", "axons", "input_channels",
            "output_channels", "fits_one_chip")
    out = {k: report[k] for k in keys}
    q = report["quantization"]
    out["quantization"] = {k: q[k] for k in ("weights", "weights_zeroed", "relative_error")}
    out["quantization"]["blocks_losing_bits"] = len(q["lost_bits"])
    return out


def run_exact(args):
    from nengo_lmu.tasks.psmnist import (  # pylint: disable=import-outside-toplevel
        evaluate_psmnist,
        loihi_report,
    )

    model = _model(args.model)
    _log(f"psMNIST, hidden layer spiking, memory exact: {args.n_test} images")
    res = evaluate_psmnist(model, backend="loihi", n_test=args.n_test, memory="exact",
                           max_rate=args.max_rate, hold_steps=args.hold_steps,
                           window=args.window)
    res["resources"] = _resources(loihi_report(model, memory="exact"))
    res["model"] = model
    return res


def run_spiking(args):
    from nengo_lmu.tasks.psmnist import (  # pylint: disable=import-outside-toplevel
        evaluate_psmnist,
        loihi_report,
    )

    # trained for the chip's readout: images back to back, read during the hold
    model = _model(args.spiking_model, order=args.spiking_order, epochs=20, readout="hold",
                   hold_steps=args.hold_steps, window=args.window)
    settings = dict(max_rate=args.max_rate, hold_steps=args.hold_steps, window=args.window)
    _log(f"psMNIST, order {args.spiking_order}: memory exact on the same {args.n_spiking} images")
    exact = evaluate_psmnist(model, backend="loihi", n_test=args.n_spiking, memory="exact",
                             **settings)
    _log(f"memory spiking on chip, {args.memory_neurons} neurons per dimension")
    memory = dict(memory_neurons=args.memory_neurons, memory_max_rate=args.memory_max_rate,
                  seed=args.seed)
    res = evaluate_psmnist(model, backend="loihi", n_test=args.n_spiking, memory="spiking",
                           **memory, **settings)
    res["exact_memory_accuracy"] = exact["accuracy"]
    res["resources"] = _resources(
        loihi_report(model, memory="spiking", **memory))
    res["model"] = model
    res["finetuned"] = run_finetuned(args, model, memory, settings)
    return res


def run_finetuned(args, model, memory, settings):
    """The spiking-memory model fine-tuned against its memory, on the same images."""
    from nengo_lmu.tasks.psmnist import (  # pylint: disable=import-outside-toplevel
        evaluate_psmnist,
        finetune_psmnist,
    )

    tuned = args.finetuned_model
    history = None
    if not os.path.exists(os.path.join(tuned, "params.npz")):
        _log(f"fine-tuning {model} against its spiking memory into {tuned}")
        history = finetune_psmnist(model, tuned, hold_steps=args.hold_steps, window=args.window,
                                   progress_bar=False, verbose=0, **memory)
    _log(f"fine-tuned model, memory spiking on chip: {args.n_spiking} images")
    # the hidden neurons' rate is the one fine-tuning chose (in its config.json)
    res = evaluate_psmnist(tuned, backend="loihi", n_test=args.n_spiking, memory="spiking",
                           **memory, hold_steps=settings["hold_steps"],
                           window=settings["window"])
    out = {k: res[k] for k in ("accuracy", "n_test", "s_per_image", "seed", "memory_neurons",
                               "max_rate")}
    out["model"] = tuned
    if history is not None:
        out["finetune"] = {k: history[k] for k in (
            "best", "val_accuracy_before", "val_spiking_accuracy_before",
            "val_spiking_accuracy", "simulate_s", "wall_s")}
    return out


def run_speed(args):
    from nengo_lmu.backends import make_simulator  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.delay import delay_network  # pylint: disable=import-outside-toplevel

    out = {}
    for backend in ("nengo", "loihi"):
        net = delay_network(n_neurons=100, sim_time=args.speed_time, seed=0,
                            loihi_input=backend == "loihi")
        start = time.perf_counter()
        with make_simulator(net, backend, progress_bar=False) as sim:
            built = time.perf_counter()
            steps = int(round(args.speed_time / sim.dt))
            sim.run_steps(steps)
            done = time.perf_counter()
        out[backend] = {"build_s": built - start, "run_s": done - built,
                        "steps_per_s": steps / (done - built), "steps": steps}
        _log(f"delay network on {backend}: {out[backend]['steps_per_s']:.0f} steps/s")
    out["ratio_loihi_over_nengo"] = out["loihi"]["steps_per_s"] / out["nengo"]["steps_per_s"]
    return out


def run_learning(args):
    from nengo_lmu.tasks.learning import (  # pylint: disable=import-outside-toplevel
        learning_summary,
        online_learning,
    )

    out = {}
    for backend in ("nengo", "loihi"):
        _log(f"online learning on {backend}")
        res = online_learning(backend=backend, progress_bar=False,
                              sim_time=args.learning_time)
        out[backend] = learning_summary(res)
    return out


def rate_reference(r):
    """The rate model's accuracy as the chip reads it: back to back, over the
    hold window, for the spiking memory (a model trained with readout="hold"
    is trained for that, not for m_T); on m_T for the exact memory."""
    return r.get("rate_stream_accuracy", r["rate_accuracy"])


def format_table(results):
    lines = []
    for key, title in (("exact", "memory exact (off chip)"),
                       ("spiking", "memory spiking (on chip)")):
        if key not in results:
            continue
        r = results[key]
        res = r["resources"]
        lines.append(
            f"psMNIST, {title:<25} order {r['order']:>3}, {r['units']} units: "
            f"Loihi {100 * r['accuracy']:6.2f} %  rate {100 * rate_reference(r):6.2f} %  "
            f"({r['n_test']} images, {r['steps_per_image']} steps, {r['s_per_image']:.2f} s "
            f"per image); {res['cores']} cores, {res['neurons']:,} neurons, "
            f"{res['synapses']:,} synapses, fits one chip: {res['fits_one_chip']}"
        )
        if key == "spiking":
            lines.append(f"    rate: the rate model read as the chip reads it; on m_T it gives "
                         f"{100 * r['rate_accuracy']:.2f} %, and the spiking hidden layer on "
                         f"the exact m_T {100 * r['exact_memory_accuracy']:.2f} %")
            lines.append(f"    {r['memory_neurons']} neurons per memory dimension at up to "
                         f"{r.get('memory_max_rate', 120):.0f} Hz, tuning seed {r.get('seed')}")
            if "finetuned" in r:
                f = r["finetuned"]
                lines.append(
                    f"    fine-tuned against that spiking memory ({f['model']}): Loihi "
                    f"{100 * f['accuracy']:6.2f} % on the same images, "
                    f"{100 * (rate_reference(r) - f['accuracy']):.2f} points below the "
                    f"rate model ({f['s_per_image']:.2f} s per image, hidden neurons at "
                    f"{f.get('max_rate', r['max_rate']):.0f} Hz)")
    if "speed" in results:
        s = results["speed"]
        lines.append(
            f"delay network steps/s: nengo {s['nengo']['steps_per_s']:.0f}, Loihi emulator "
            f"{s['loihi']['steps_per_s']:.0f} (ratio {s['ratio_loihi_over_nengo']:.2f})"
        )
    if "learning" in results:
        for backend, r in results["learning"].items():
            lines.append(f"online learning on {backend}: RMSE first 20 % {r['rmse_first']:.4f}, "
                         f"last 20 % {r['rmse_last']:.4f}, ratio {r['ratio']:.3f}")
    return "\n".join(lines)


def plot(results):
    from nengo_lmu.plots import pyplot  # pylint: disable=import-outside-toplevel

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    names, rate, spiking = [], [], []
    for key in ("exact", "spiking"):
        if key in results:
            r = results[key]
            names.append(f"order {r['order']}\nmemory {key}\n({r['n_test']} images)")
            rate.append(100 * rate_reference(r))
            spiking.append(100 * r["accuracy"])
            if "finetuned" in r:
                names.append(f"order {r['order']}\nmemory spiking,\nfine-tuned")
                rate.append(100 * rate_reference(r))
                spiking.append(100 * r["finetuned"]["accuracy"])
    xs = np.arange(len(names))
    ax.bar(xs - 0.2, rate, 0.4, label="rate model, read as the chip reads it")
    ax.bar(xs + 0.2, spiking, 0.4, label="spiking, Loihi emulator")
    ax.set_xticks(xs, names)
    ax.set_ylabel("psMNIST test accuracy (%)")
    ax.legend(loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--out", default="results/benchmarks")
    parser.add_argument("--model", default=None,
                        help="psMNIST model dir (default: OUT/psmnist-parallel)")
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--max-rate", type=float, default=250.0)
    parser.add_argument("--hold-steps", type=int, default=40)
    parser.add_argument("--window", type=int, default=30)
    parser.add_argument("--spiking-model", default=None,
                        help="low-order model dir (default: OUT/psmnist-order-ORDER-hold)")
    parser.add_argument("--spiking-order", type=int, default=16)
    parser.add_argument("--finetuned-model", default=None,
                        help="the spiking model fine-tuned against its memory (default: "
                        "SPIKING_MODEL-finetuned-seed-SEED)")
    parser.add_argument("--memory-neurons", type=int, default=30)
    parser.add_argument("--memory-max-rate", type=float, default=700.0)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the spiking memory's neuron tuning")
    parser.add_argument("--n-spiking", type=int, default=20)
    parser.add_argument("--speed-time", type=float, default=5.0)
    parser.add_argument("--learning-time", type=float, default=40.5)
    args = parser.parse_args(argv)
    args.model = args.model or os.path.join(args.out, "psmnist-parallel")
    args.spiking_model = args.spiking_model or os.path.join(
        args.out, f"psmnist-order-{args.spiking_order}-hold")
    args.finetuned_model = args.finetuned_model or (
        f"{args.spiking_model.rstrip(os.sep)}-finetuned-seed-{args.seed}")

    json_path = os.path.join(args.out, "loihi.json")
    results = load_results(json_path)  # rerun parts update an earlier run's results
    results["machine"] = machine()
    started = time.perf_counter()
    for part in args.parts:
        save_part(json_path, results, part, globals()[f"run_{part}"](args))
    results["wall_s"] = time.perf_counter() - started
    print()
    print(format_table(results))
    fig = plot(results) if "exact" in results or "spiking" in results else None
    write_report(args.out, "loihi", results, fig=fig)
    if "exact" in results:
        write_json(os.path.join(args.out, LOIHI_JSON), results["exact"])
    print(f"\nwrote {args.out}/loihi.json ({results['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
