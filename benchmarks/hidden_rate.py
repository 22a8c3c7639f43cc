"""Benchmark: how fast the hidden neurons should fire on chip (validation data).

The spiking classifier's logits are ``W_out`` times the hidden neurons'
spike counts over the readout window (`nengo_lmu.spiking`). Slow neurons
give few spikes, so coarse counts; fast ones meet Loihi's whole-step
inter-spike intervals (1000, 500, 333, ... Hz). This simulates the
classifier's spiking memory on the first ``--n-valid`` validation images
back to back, as the chip runs them
(`nengo_lmu.spiking.SpikingLMUClassifier.memory_states`, with the weights
Loihi stores), and scores the hidden layer's spikes
(`SpikingLMUClassifier.simulate_readout`: Loihi's neuron model, ``--draws``
draws of the voltages at the window's start) for each of ``--max-rates``
(the 99th percentile of the hidden rates on calibration images), against the
rate neurons reading the same memory. Validation images only: this is how
the ``max_rate`` that ``nengo-lmu psmnist finetune`` records was chosen.
Prints a table, writes ``OUT/hidden_rate.json`` and ``OUT/hidden_rate.png``::

    python benchmarks/hidden_rate.py --model DIR [--n-valid 2000]
                                     [--max-rates 150 250 350 500 700 900] [--draws 3]
"""

import argparse
import os
import sys
import time

import numpy as np

from nengo_lmu.metrics import accuracy
from nengo_lmu.model_dir import deployment_settings, load_model
from nengo_lmu.readout import stream_logits
from nengo_lmu.tasks.psmnist import N_CALIBRATION
from nengo_lmu.tasks.reporting import write_report


def run(args):
    from nengo_lmu.data import load_psmnist  # pylint: disable=import-outside-toplevel
    from nengo_lmu.spiking import SpikingLMUClassifier  # pylint: disable=import-outside-toplevel

    run_config, params = load_model(args.model)
    config = run_config["model"]
    memory = run_config.get("readout", {}).get("spiking_memory", {})
    settings = deployment_settings(run_config)  # deployed as evaluate deploys it
    seed = settings.setdefault("seed", args.seed)  # for a model not fine-tuned
    xv, yv = load_psmnist(run_config.get("permutation_seed", 0))["valid"]
    x_cal, x, y = xv[:N_CALIBRATION], xv[:args.n_valid], yv[:args.n_valid]

    def classifier(max_rate):
        return SpikingLMUClassifier(config, params, x_cal, memory="spiking",
                                    **{**settings, "max_rate": max_rate})

    start = time.perf_counter()
    net = classifier(args.max_rates[0])
    states = net.memory_states(
        x, np.concatenate([np.zeros_like(x[:1]), x[:-1]]), progress_bar=False,
        quantized=memory.get("weights", "loihi") == "loihi")
    simulate_s = time.perf_counter() - start
    rate = accuracy(stream_logits(config, net.params, net.params["e_x"][0, 0] * states), y)
    rows = []
    for max_rate in args.max_rates:
        net = classifier(max_rate)
        draws = [accuracy(net.simulate_readout(states, rng=np.random.RandomState(d))[0], y)
                 for d in range(args.draws)]
        rows.append({"max_rate": float(max_rate), "accuracy": float(np.mean(draws)),
                     "accuracy_draws": draws})
    return {"model": os.path.abspath(args.model), "n_valid": int(len(x)), "seed": seed,
            "settings": settings, "rate_accuracy": rate, "rows": rows,
            "simulate_s": simulate_s}


def format_table(result):
    lines = [f"{result['model']}: {result['n_valid']} validation images, simulated memory "
             f"(seed {result['seed']}); rate neurons on the same memory "
             f"{100 * result['rate_accuracy']:.2f} %",
             f"{'max_rate (Hz)':>14} {'spiking hidden layer':>21} {'draws':>24}"]
    for r in result["rows"]:
        draws = " ".join(f"{100 * a:.2f}" for a in r["accuracy_draws"])
        lines.append(f"{r['max_rate']:14.0f} {100 * r['accuracy']:19.2f} % {draws:>24}")
    return "\n".join(lines)


def plot(result):
    from nengo_lmu.plots import pyplot  # pylint: disable=import-outside-toplevel

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    rates = [r["max_rate"] for r in result["rows"]]
    ax.errorbar(rates, [100 * r["accuracy"] for r in result["rows"]],
                yerr=[100 * np.std(r["accuracy_draws"]) for r in result["rows"]],
                marker="o", capsize=3, label="hidden neurons spiking (Loihi's model)")
    ax.axhline(100 * result["rate_accuracy"], color="k", ls="--",
               label="rate neurons, same memory")
    ax.set_xlabel("max_rate of the hidden neurons (Hz)")
    ax.set_ylabel(f"accuracy, {result['n_valid']} validation images (%)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="model directory (fine-tuned or not)")
    parser.add_argument("--n-valid", type=int, default=2000)
    parser.add_argument("--max-rates", type=float, nargs="+",
                        default=[150, 250, 350, 500, 700, 900])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0,
                        help="the memory's seed, unless the model records one")
    parser.add_argument("--out", default="results/benchmarks")
    args = parser.parse_args(argv)
    if not os.path.exists(os.path.join(args.model, "params.npz")):
        parser.error(f"--model {args.model} holds no trained model (params.npz)")
    if args.n_valid < 1 or args.draws < 1 or min(args.max_rates) <= 0:
        parser.error("--n-valid and --draws must be >= 1 and --max-rates > 0")
    result = run(args)
    write_report(args.out, "hidden_rate", result, fig=plot(result), table=format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
