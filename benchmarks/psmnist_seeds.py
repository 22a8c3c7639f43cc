"""Benchmark: the default psMNIST model over several training seeds, on all
10,000 test images, as a rate model and spiking on the Loihi emulator.

For each ``--seeds`` value: `nengo_lmu.tasks.psmnist.train_psmnist` with that
training seed (the default model: 346 ReLU units, order 256, parallel path;
``--epochs``, and the training images translated by up to ``--translate``
pixels, anew every epoch) into ``OUT/psmnist-seed-S`` (resumed if it is
there; ``train_s`` is the wall time of this run's training), then

- the rate model on the test images: the temporal network (784 NengoDL steps
  per image, as `nengo-lmu psmnist evaluate --model DIR` runs it), and the
  closed-form one-step network beside it (they should agree), and
- the same weights with the hidden layer spiking on the Loihi emulator, the
  memory exact off chip, ``--batch-size`` images side by side, each from rest
  (`nengo_lmu.batching.run_batched`), tuning seed ``--tuning-seed``.

Prints a table (per seed, then median and range), writes
``OUT/psmnist_seeds.json`` and ``OUT/psmnist_seeds.png``.
"""

import argparse
import os
import sys
import time

import numpy as np

from nengo_lmu.plots import pyplot
from nengo_lmu.tasks.psmnist import DEFAULTS, TRANSLATE, evaluate_psmnist, train_psmnist
from nengo_lmu.tasks.reporting import environment, format_table, log, write_report


def run_seed(seed, args):
    model = os.path.join(args.out, f"psmnist-seed-{seed}")
    start = time.perf_counter()
    history = train_psmnist(model, epochs=args.epochs, seed=seed, translate=args.translate,
                            verbose=0, log=lambda msg: None)
    train_s = time.perf_counter() - start
    log(f"seed {seed}: trained ({train_s:.0f} s this run), best validation "
        f"{history['best']['val_accuracy'] * 100:.2f} %")
    rate = evaluate_psmnist(model)  # the temporal network
    closed_form = evaluate_psmnist(model, network="closed-form")
    spiking = evaluate_psmnist(model, backend="loihi", batch_size=args.batch_size,
                               seed=args.tuning_seed, progress_bar=False)
    log(f"seed {seed}: rate {rate['accuracy'] * 100:.2f} %, spiking on the emulator "
        f"{spiking['accuracy'] * 100:.2f} % ({spiking['wall_s']:.0f} s)")
    return {"seed": seed, "model": model, "train_s": train_s,
            "val_accuracy": history["best"]["val_accuracy"],
            "rate_accuracy": rate["accuracy"], "rate_wall_s": rate["wall_s"],
            "closed_form_accuracy": closed_form["accuracy"],
            "loihi_accuracy": spiking["accuracy"],
            "loihi_rate_accuracy": spiking["rate_accuracy"], "n_test": spiking["n_test"],
            "loihi_wall_s": spiking["wall_s"], "n_trainable": rate["n_trainable"],
            "loihi_predictions": spiking["predictions"]}


def summary(rows, key):
    values = np.array([r[key] for r in rows])
    return {"median": float(np.median(values)), "min": float(values.min()),
            "max": float(values.max())}


def table(rows, summaries):
    lines = [(f"seed {r['seed']}", f"{r['rate_accuracy'] * 100:.2f} %",
              f"{r['loihi_accuracy'] * 100:.2f} %", f"{r['train_s']:.0f} s",
              f"{r['loihi_wall_s']:.0f} s") for r in rows]
    rate, loihi = summaries["rate_accuracy"], summaries["loihi_accuracy"]
    lines.append(("median (range)",
                  f"{rate['median'] * 100:.2f} % ({rate['min'] * 100:.2f}-{rate['max'] * 100:.2f})",
                  f"{loihi['median'] * 100:.2f} % ({loihi['min'] * 100:.2f}-"
                  f"{loihi['max'] * 100:.2f})", "", ""))
    return format_table(lines, header=("training seed", "rate model", "spiking, Loihi emulator",
                                       "training (this run)", "emulator, all images"))


def plot(rows):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    seeds = [r["seed"] for r in rows]
    x = np.arange(len(seeds))
    ax.bar(x - 0.2, [r["rate_accuracy"] * 100 for r in rows], 0.4, label="rate model")
    ax.bar(x + 0.2, [r["loihi_accuracy"] * 100 for r in rows], 0.4,
           label="spiking, Loihi emulator")
    ax.set_xticks(x, [f"seed {s}" for s in seeds])
    low = min(min(r["rate_accuracy"], r["loihi_accuracy"]) for r in rows) * 100
    ax.set_ylim(low - 1, 100)
    ax.set_ylabel("test accuracy (%), 10,000 images")
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title("psMNIST, default model, per training seed")
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    parser.add_argument("--translate", type=int, default=None,
                        help="largest move of the training images in pixels, 0 for none "
                        "(default: train_psmnist's, TRANSLATE)")
    parser.add_argument("--batch-size", type=int, default=64,
                        help="images side by side on the emulator (default: %(default)s)")
    parser.add_argument("--tuning-seed", type=int, default=0,
                        help="seed of the spiking network's tuning (default: %(default)s)")
    parser.add_argument("--out", default="results/benchmarks")
    args = parser.parse_args(argv)
    args.translate = TRANSLATE if args.translate is None else args.translate
    rows = [run_seed(seed, args) for seed in args.seeds]
    summaries = {k: summary(rows, k) for k in ("rate_accuracy", "loihi_accuracy")}
    write_report(args.out, "psmnist_seeds",
                 {"rows": rows, "summary": summaries, "environment": environment(),
                  "batch_size": args.batch_size, "tuning_seed": args.tuning_seed,
                  "epochs": args.epochs, "translate": args.translate},
                 fig=plot(rows), table=table(rows, summaries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
