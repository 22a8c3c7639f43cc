"""Benchmark: trained LMUs as spiking networks on the Loihi emulator.

Parts (``--parts``, all by default), measured in one run. Every psMNIST
evaluation runs ``--batch-size`` images side by side on the emulator, each
from rest (`nengo_lmu.batching.run_batched`, as ``nengo-lmu psmnist
evaluate --backend loihi --batch-size B``), on the first ``--n-test`` /
``--n-spiking`` test images (all 10,000 by default), and is checked against
the one-image-at-a-time path in the same run: each of the first
``--n-check`` / ``--n-spiking-check`` images alone in a `nengo_loihi.Simulator`
(``classifier.run(x[i:i + 1])``; predictions and readout-window spike
counts must be identical, else the script fails), and the same images back
to back in one simulation (``classifier.run(x[:n])``, ``evaluate`` without
``--batch-size``), both timed for the ratios.

- ``exact``: the psMNIST model of ``--model`` (trained by the parallel path;
  trained here with the package defaults when the directory does not exist)
  with its hidden layer spiking on the emulator and the memory exact (off
  chip); the rate model on the same images; seconds per image; Loihi
  resources and weight quantization.
- ``spiking``: a low-order model (``--spiking-order``, trained here with
  ``readout="hold"`` and training seed ``--seed`` if ``--spiking-model``
  does not exist) with the memory spiking on chip too (``--memory-neurons``
  per dimension firing at up to ``--memory-max-rate``, tuning seed
  ``--seed``); its resources; the exact-memory accuracy of the same model
  for comparison.
- ``seeds``: the same model fine-tuned against its spiking memory, over
  training seeds (``--seeds``; training seed = fine-tuning seed = the
  memory's tuning seed): for each seed S the model
  ``OUT/psmnist-order-ORDER-hold-seed-S`` and its fine-tuned version
  ``...-finetuned-seed-S`` (`nengo_lmu.tasks.finetune.finetune_psmnist`,
  hidden neurons at ``--finetune-max-rate``), made here unless finished
  (``nengo-lmu psmnist train --order 16 --epochs 20 --readout hold --seed
  S`` and ``nengo-lmu psmnist finetune --seed S --max-rate 500`` make the
  same), the fine-tuned model spiking on the emulator with its memory on
  chip, each image from rest and, as it was trained to be read, back to
  back in ``--batch-size`` streams of consecutive images
  (``run_batched(reset=False)``), against its rate model (before
  fine-tuning) read as the chip reads it and on ``m_T``; median and range.
- ``speed``: steps per second of the paper's delay network (order 6, 100
  neurons per dimension), nengo reference simulator vs nengo_loihi emulator.
- ``learning``: online PES learning (`nengo_lmu.tasks.learning.online_learning`)
  on nengo and on the emulator: error in the first and last 20 %.

Prints a table, writes (when parts are rerun: updates) ``OUT/loihi.json``,
``OUT/psmnist-loihi.json`` (`nengo_lmu.tasks.peers.LOIHI_JSON`: the row
that ``benchmarks/psmnist.py`` adds to its table) and ``OUT/loihi.png``::

    python benchmarks/loihi.py [--parts exact spiking seeds speed learning] [--out DIR]
        [--seeds 0 1 2] [--n-test 10000] [--n-spiking 10000] [--batch-size 64]
        [--n-check 100] [--n-spiking-check 50]
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from nengo_lmu.batching import DEFAULT_BATCH_SIZE
from nengo_lmu.io import write_json
from nengo_lmu.tasks.peers import LOIHI_JSON
from nengo_lmu.tasks.finetune import FINETUNE
from nengo_lmu.tasks.reporting import (
    format_table,
    load_results,
    machine,
    save_part,
    write_report,
)
from nengo_lmu.tasks.reporting import log as _log

PARTS = ("exact", "spiking", "seeds", "speed", "learning")


def finished(path):
    """Whether the model directory ``path`` holds a model trained to its last
    epoch (a run still going, or interrupted, has fewer in its history)."""
    try:
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            epochs = json.load(f)["epochs"]
        with open(os.path.join(path, "history.json"), encoding="utf-8") as f:
            done = json.load(f)["epoch"]
    except (OSError, ValueError, KeyError):
        return False
    return os.path.exists(os.path.join(path, "params.npz")) and len(done) >= epochs


def _model(path, **train_kwargs):
    """A trained model at ``path``: the one there, or trained (or resumed) here."""
    from nengo_lmu.tasks.psmnist import train_psmnist  # pylint: disable=import-outside-toplevel

    if not finished(path):
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


def checked_against_alone(model, n_check, result, batch_size, **spiking):
    """The batched ``result`` of ``evaluate_psmnist(model, backend="loihi", ...)``
    against the one-image-at-a-time path, on its first ``n_check`` images:
    each alone in a nengo_loihi simulator (predictions and readout spike
    counts must be identical) and back to back in one simulation; both timed."""
    from nengo_lmu.batching import run_batched  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.psmnist import (  # pylint: disable=import-outside-toplevel
        deployed_classifier,
    )

    net, data = deployed_classifier(model, **spiking)
    x = data["test"][0][:n_check]
    _log(f"{n_check} images alone, a nengo_loihi simulator each")
    start = time.perf_counter()
    alone = [net.run(x[i:i + 1], backend="loihi", progress_bar=False) for i in range(len(x))]
    alone_s = time.perf_counter() - start
    value = net.neuron_type.amplitude / net.dt
    counts = np.rint(np.concatenate([a[1] for a in alone]) * net.window / value)
    predictions = np.concatenate([a[0] for a in alone]).argmax(axis=1)
    _log(f"the same {n_check} images back to back in one simulation")
    start = time.perf_counter()
    back = net.run(x, backend="loihi", progress_bar=False)[0].argmax(axis=1)
    back_s = time.perf_counter() - start
    batched = run_batched(net, x, batch_size=batch_size, progress_bar=False)
    per_image = result["s_per_image"]
    return {
        "n": int(len(x)),
        "identical_to_alone": bool(
            np.array_equal(result["predictions"][:len(x)], predictions)
            and np.array_equal(batched.predictions, predictions)
            and np.array_equal(batched.counts, counts)),
        "alone_s_per_image": alone_s / len(x), "back_to_back_s_per_image": back_s / len(x),
        "back_to_back_agreement": float(np.mean(back == predictions)),
        "speedup_over_alone": alone_s / len(x) / per_image,
        "speedup_over_back_to_back": back_s / len(x) / per_image,
    }


def _evaluate(model, n_test, batch_size, **kwargs):
    from nengo_lmu.tasks.psmnist import evaluate_psmnist  # pylint: disable=import-outside-toplevel

    return evaluate_psmnist(model, backend="loihi", n_test=n_test, batch_size=batch_size,
                            progress_bar=False, **kwargs)


def run_exact(args):
    from nengo_lmu.tasks.psmnist import loihi_report  # pylint: disable=import-outside-toplevel

    model = _model(args.model)
    settings = dict(memory="exact", max_rate=args.max_rate, hold_steps=args.hold_steps,
                    window=args.window)
    _log(f"psMNIST, hidden layer spiking, memory exact: {args.n_test} images, "
         f"{args.batch_size} side by side")
    res = _evaluate(model, args.n_test, args.batch_size, **settings)
    res["check"] = checked_against_alone(model, args.n_check, res, args.batch_size, **settings)
    res["resources"] = _resources(loihi_report(model, memory="exact"))
    res["model"] = model
    return res


def _spiking_model(args, seed, path=None):
    """The low-order model trained for the chip's readout (images back to
    back, read during the hold), training seed ``seed``."""
    path = path or os.path.join(args.out, f"psmnist-order-{args.spiking_order}-hold-seed-{seed}")
    return _model(path, order=args.spiking_order, epochs=20, readout="hold",
                  hold_steps=args.hold_steps, window=args.window, seed=seed)


def run_spiking(args):
    from nengo_lmu.tasks.psmnist import loihi_report  # pylint: disable=import-outside-toplevel

    model = _spiking_model(args, args.seed, args.spiking_model)
    settings = dict(max_rate=args.max_rate, hold_steps=args.hold_steps, window=args.window)
    _log(f"psMNIST, order {args.spiking_order}: memory exact on the same {args.n_spiking} "
         "images")
    exact = _evaluate(model, args.n_spiking, args.batch_size, memory="exact", **settings)
    _log(f"memory spiking on chip, {args.memory_neurons} neurons per dimension")
    memory = dict(memory_neurons=args.memory_neurons, memory_max_rate=args.memory_max_rate,
                  seed=args.seed)
    res = _evaluate(model, args.n_spiking, args.batch_size, memory="spiking", **memory,
                    **settings)
    res["check"] = checked_against_alone(model, args.n_spiking_check, res, args.batch_size,
                                         memory="spiking", **memory, **settings)
    res["exact_memory_accuracy"] = exact["accuracy"]
    res["exact_memory_s_per_image"] = exact["s_per_image"]
    res["resources"] = _resources(
        loihi_report(model, memory="spiking", **memory))
    res["model"] = model
    return res


def _finetuned(args, model, seed):
    """``model`` fine-tuned against its spiking memory (seed ``seed``) into
    ``MODEL-finetuned-seed-SEED``, made here if that holds no finished model."""
    from nengo_lmu.tasks.finetune import finetune_psmnist  # pylint: disable=import-outside-toplevel

    tuned = f"{model.rstrip(os.sep)}-finetuned-seed-{seed}"
    if args.finetune_n_train != FINETUNE["n_train"]:
        tuned += f"-n-train-{args.finetune_n_train}"
    if not finished(tuned):
        _log(f"fine-tuning {model} against its spiking memory into {tuned}")
        finetune_psmnist(model, tuned, memory_neurons=args.memory_neurons,
                         memory_max_rate=args.memory_max_rate, seed=seed,
                         n_train=args.finetune_n_train,
                         max_rate=args.finetune_max_rate, hold_steps=args.hold_steps,
                         window=args.window, progress_bar=False, verbose=0)
    return tuned


def run_finetuned(args, tuned):
    """The fine-tuned model, memory spiking on chip, on ``--n-spiking`` images;
    its memory's settings, seed and hidden rate from its ``config.json``."""
    _log(f"fine-tuned model {tuned}, memory spiking on chip: {args.n_spiking} images")
    res = _evaluate(tuned, args.n_spiking, args.batch_size, memory="spiking")
    out = {"streams_accuracy": _streams_accuracy(tuned, args.n_spiking, args.batch_size)}
    out.update({k: res[k] for k in ("accuracy", "rate_accuracy", "final_state_accuracy",
                                    "rate_stream_accuracy", "base_rate_stream_accuracy",
                                    "n_test", "s_per_image", "wall_s", "batch_size", "seed",
                                    "memory_neurons", "max_rate", "predictions")
                if k in res})
    out["model"] = tuned
    history = os.path.join(tuned, "history.json")
    if os.path.exists(history):
        with open(history, encoding="utf-8") as f:
            history = json.load(f)
        out["finetune"] = {k: history[k] for k in (
            "best", "val_accuracy_before", "val_spiking_accuracy_before",
            "val_spiking_accuracy", "simulate_s", "wall_s") if k in history}
    return out


def _streams_accuracy(model, n, batch_size):
    """The spiking classifier's accuracy on the first ``n`` test images run
    back to back in ``batch_size`` streams of consecutive images
    (``evaluate_psmnist(streams=True)``): how a model trained for the hold
    readout (images back to back) is read; from rest it sees an input it
    never saw."""
    _log(f"{model}: {n} images back to back in {batch_size} streams")
    return _evaluate(model, n, batch_size, memory="spiking", streams=True)["accuracy"]


def run_seeds(args):
    """The fine-tuned on-chip model over training seeds, all ``--n-spiking`` images."""
    rows = []
    for seed in args.seeds:
        model = _spiking_model(args, seed)
        _log(f"seed {seed}: {model}, memory exact (m_T, and hidden layer spiking)")
        exact = _evaluate(model, args.n_spiking, args.batch_size, memory="exact",
                          hold_steps=args.hold_steps, window=args.window)
        row = run_finetuned(args, _finetuned(args, model, seed))
        row.update(training_seed=seed, base_model=model, finetune_n_train=args.finetune_n_train,
                   base_rate_accuracy=exact.get("final_state_accuracy", exact["rate_accuracy"]),
                   base_exact_memory_accuracy=exact["accuracy"])
        rows.append(row)
    summary = {}
    for key in ("accuracy", "streams_accuracy", "base_rate_stream_accuracy",
                "base_rate_accuracy", "rate_stream_accuracy", "base_exact_memory_accuracy"):
        values = [r[key] for r in rows if key in r]
        if values:
            summary[key] = {"median": float(np.median(values)), "min": float(min(values)),
                            "max": float(max(values))}
    return {"seeds": list(args.seeds), "runs": rows, "summary": summary,
            "n_test": rows[0]["n_test"] if rows else 0}


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


def _check_line(r):
    c = r["check"]
    return (f"    {r['n_test']:,} images {r['batch_size']} side by side in {r['wall_s']:.0f} s "
            f"({r['s_per_image']:.4f} s per image); one image alone "
            f"{c['alone_s_per_image']:.3f} s ({c['speedup_over_alone']:.0f}x), back to back "
            f"{c['back_to_back_s_per_image']:.3f} s ({c['speedup_over_back_to_back']:.0f}x), "
            f"on the first {c['n']}: identical to each image alone: {c['identical_to_alone']}")


def _pct(summary):
    return (f"{100 * summary['median']:.2f} % ({100 * summary['min']:.2f}-"
            f"{100 * summary['max']:.2f})")


def format_seeds(s):
    rows = [(str(r["training_seed"]), f"{100 * r['base_rate_stream_accuracy']:.2f} %",
             f"{100 * r['base_rate_accuracy']:.2f} %", f"{100 * r['streams_accuracy']:.2f} %",
             f"{100 * r['accuracy']:.2f} %", f"{r['wall_s']:.0f} s") for r in s["runs"]]
    summary = s["summary"]
    if rows:
        rows.append(("median (range)", _pct(summary["base_rate_stream_accuracy"]),
                     _pct(summary["base_rate_accuracy"]), _pct(summary["streams_accuracy"]),
                     _pct(summary["accuracy"]), ""))
    return (f"order-16 model fine-tuned against its spiking memory, memory spiking on chip, "
            f"all {s['n_test']:,} images:\n" + format_table(rows, markdown=True, header=(
                "training seed", "rate model, read as the chip reads it", "rate model, m_T",
                "fine-tuned, spiking, back to back", "fine-tuned, spiking, from rest",
                "emulator wall time, from rest")))


def format_results(results):
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
            f"({r['n_test']} images, {r['steps_per_image']} steps); {res['cores']} cores, "
            f"{res['neurons']:,} neurons, {res['synapses']:,} synapses, fits one chip: "
            f"{res['fits_one_chip']}"
        )
        if "check" in r:
            lines.append(_check_line(r))
        if key == "spiking":
            lines.append(f"    rate: the rate model read as the chip reads it; on m_T it gives "
                         f"{100 * r.get('final_state_accuracy', r['rate_accuracy']):.2f} %, "
                         f"and the spiking hidden layer on "
                         f"the exact m_T {100 * r['exact_memory_accuracy']:.2f} %")
            lines.append(f"    {r['memory_neurons']} neurons per memory dimension at up to "
                         f"{r.get('memory_max_rate', 120):.0f} Hz, tuning seed {r.get('seed')}")
    if "seeds" in results:
        lines.append(format_seeds(results["seeds"]))
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
    fig, ax = plt.subplots(figsize=(7, 3.8))
    names, rate, spiking, rate_err, spiking_err = [], [], [], [], []

    def bar(name, r, s, r_range=(0, 0), s_range=(0, 0)):
        names.append(name)
        rate.append(100 * r)
        spiking.append(100 * s)
        rate_err.append(r_range)
        spiking_err.append(s_range)

    for key in ("exact", "spiking"):
        if key in results:
            r = results[key]
            bar(f"order {r['order']}\nmemory {key}\n({r['n_test']:,} images)",
                rate_reference(r), r["accuracy"])
    seeds = results.get("seeds", {}).get("summary")
    if seeds:
        target, acc = seeds["base_rate_stream_accuracy"], seeds["accuracy"]
        n = len(results["seeds"]["runs"])
        bar(f"order 16, memory spiking,\nfine-tuned, {n} seed{'s' * (n > 1)}"
            + ("\n(median, range)" if n > 1 else ""),
            target["median"], acc["median"],
            (100 * (target["median"] - target["min"]), 100 * (target["max"] - target["median"])),
            (100 * (acc["median"] - acc["min"]), 100 * (acc["max"] - acc["median"])))
    xs = np.arange(len(names))
    ax.bar(xs - 0.2, rate, 0.4, yerr=np.transpose(rate_err),
           label="rate model, read as the chip reads it")
    ax.bar(xs + 0.2, spiking, 0.4, yerr=np.transpose(spiking_err),
           label="spiking, Loihi emulator")
    ax.set_xticks(xs, names, fontsize=8)
    ax.set_ylabel("psMNIST test accuracy (%)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--out", default="results/benchmarks")
    parser.add_argument("--model", default=None,
                        help="psMNIST model dir (default: OUT/psmnist-parallel)")
    parser.add_argument("--n-test", type=int, default=10000)
    parser.add_argument("--n-check", type=int, default=100,
                        help="images of the exact part checked alone (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                        help="images side by side on the emulator (default: %(default)s)")
    parser.add_argument("--max-rate", type=float, default=250.0)
    parser.add_argument("--hold-steps", type=int, default=40)
    parser.add_argument("--window", type=int, default=30)
    parser.add_argument("--spiking-model", default=None,
                        help="low-order model dir (default: "
                        "OUT/psmnist-order-ORDER-hold-seed-SEED)")
    parser.add_argument("--spiking-order", type=int, default=16)
    parser.add_argument("--finetune-max-rate", type=float, default=500.0,
                        help="hidden neurons' rate the fine-tuned models are made with "
                        "(default: %(default)s)")
    parser.add_argument("--finetune-n-train", type=int, default=FINETUNE["n_train"],
                        help="training images the fine-tuning simulates the spiking memory "
                        "on (default: %(default)s; another number is recorded in the fine-"
                        "tuned model's directory name, MODEL-finetuned-seed-S-n-train-N)")
    parser.add_argument("--memory-neurons", type=int, default=30)
    parser.add_argument("--memory-max-rate", type=float, default=700.0)
    parser.add_argument("--seed", type=int, default=0,
                        help="training, fine-tuning and tuning seed of the spiking part")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="training seeds of the seeds part (default: 0 1 2)")
    parser.add_argument("--n-spiking", type=int, default=10000)
    parser.add_argument("--n-spiking-check", type=int, default=50,
                        help="images of the spiking part checked alone (default: %(default)s)")
    parser.add_argument("--speed-time", type=float, default=5.0)
    parser.add_argument("--learning-time", type=float, default=40.5)
    args = parser.parse_args(argv)
    for name in ("n_test", "n_check", "batch_size", "n_spiking", "n_spiking_check"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    args.model = args.model or os.path.join(args.out, "psmnist-parallel")

    json_path = os.path.join(args.out, "loihi.json")
    results = load_results(json_path)  # rerun parts update an earlier run's results
    results["machine"] = machine()
    started = time.perf_counter()
    for part in args.parts:
        save_part(json_path, results, part, globals()[f"run_{part}"](args))
    results["wall_s"] = time.perf_counter() - started
    print()
    print(format_results(results))
    fig = plot(results) if set(results) & {"exact", "spiking", "seeds"} else None
    write_report(args.out, "loihi", results, fig=fig)
    if "exact" in results:
        write_json(os.path.join(args.out, LOIHI_JSON), results["exact"])
    print(f"\nwrote {args.out}/loihi.json ({results['wall_s']:.0f} s)")
    failed = [part for part in ("exact", "spiking") if part in args.parts
              and not results[part]["check"]["identical_to_alone"]]
    if failed:
        print(f"FAILED: the batched runs of {', '.join(failed)} differ from each image alone",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
