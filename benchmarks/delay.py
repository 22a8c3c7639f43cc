"""Benchmark: the paper's Loihi delay network, exact vs spiking nengo vs Loihi.

Settings of the paper's Loihi demo (REFERENCE section 3): order 6,
theta 1 s, 1 Hz white noise with RMS 0.3, tau 0.1 s, dt 1 ms, 100
SpikingRectifiedLinear neurons per dimension. For each network seed it runs
the exact linear system, the spiking network in nengo and on the Loihi
emulator, then prints NRMSE per r and wall time (and their mean over seeds),
and writes ``OUT/delay.json`` and ``OUT/delay.png``.

    python benchmarks/delay.py [--sim-time 50] [--seeds 0 1 2] [--out DIR]
"""

import argparse
import sys

import numpy as np

from nengo_lmu.tasks.delay import format_delay_table, plot_delay, run_delay
from nengo_lmu.tasks.reporting import write_report

SYSTEMS = {
    "exact linear system": dict(n_neurons=0, backend="nengo"),
    "spiking, nengo": dict(n_neurons=100, backend="nengo"),
    "spiking, Loihi emulator": dict(n_neurons=100, backend="loihi"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sim-time", type=float, default=50.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--systems", nargs="+", choices=list(SYSTEMS), default=list(SYSTEMS))
    parser.add_argument("--out", default="results/benchmarks")
    args = parser.parse_args(argv)

    results = {name: [] for name in args.systems}
    for seed in args.seeds:
        for name in args.systems:
            print(f"seed {seed}: {name}", flush=True)
            res = run_delay(sim_time=args.sim_time, seed=seed, progress_bar=False,
                            **SYSTEMS[name])
            res["name"] = f"{name} (seed {seed})"
            results[name].append(res)

    table = []
    for name, runs in results.items():
        table.extend(runs)
    means = []
    for name, runs in results.items():
        r = runs[0]["r"]
        means.append({
            "name": f"{name}, mean",
            "r": r,
            "nrmse": {str(float(x)): float(np.mean([res["nrmse"][str(float(x))] for res in runs]))
                      for x in r},
            "wall_s": float(np.mean([res["wall_s"] for res in runs])),
        })
    print()
    print(format_delay_table(table))
    print()
    print(f"Mean over seeds {args.seeds}, {args.sim_time:g} s simulated each:")
    print(format_delay_table(means))
    ratio = None
    if "spiking, nengo" in results and "spiking, Loihi emulator" in results:
        ratio = means[list(results).index("spiking, Loihi emulator")]["wall_s"] / means[
            list(results).index("spiking, nengo")]["wall_s"]
        print(f"\nwall time, Loihi emulator / nengo reference: {ratio:.2f}")

    keys = ("nrmse", "wall_s", "seed", "backend", "n_neurons_total")
    write_report(args.out, "delay", {
        "settings": {"order": 6, "theta": 1.0, "freq": 1.0, "rms": 0.3, "tau": 0.1,
                     "dt": 0.001, "neurons_per_dimension": 100,
                     "sim_time": args.sim_time, "seeds": args.seeds},
        "runs": {name: [{k: res[k] for k in keys} for res in runs]
                 for name, runs in results.items()},
        "mean": {m["name"]: {"nrmse": m["nrmse"], "wall_s": m["wall_s"]} for m in means},
        "wall_ratio_loihi_over_nengo": ratio,
    }, fig=plot_delay([runs[0] for runs in results.values()]))
    print(f"wrote {args.out}/delay.json and {args.out}/delay.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
