"""Online learning on Loihi: a spiking LMU memory whose readout learns by PES.

    python examples/loihi/online_learning.py [--sim-time 40.5] [--seed 0]
        [--learning-rate 5e-4] [--test-fraction 0.2] [--reference] [--out DIR]

A `nengo_lmu.LegendreMemory` (order 4, theta = 0.5 s, 100
SpikingRectifiedLinear neurons per state variable, input filtered on chip)
is driven by 2 Hz white noise of RMS 0.3. One decoded connection from each
state ensemble, all starting at zero, learns with nengo's PES rule (on chip)
to output the input delayed by theta / 2; the error (output - target) is
computed on the host and sent to the chip's learning rules. Learning starts
after a warm-up of theta and stops for the last 20 % of the run, which
tests the learned readout with frozen weights
(`nengo_lmu.tasks.learning.online_learning`).

With NxSDK installed and a Loihi board attached, nengo_loihi runs it on the
board; otherwise on its emulator (this is printed first). Prints the RMSE of
the learned output against the target in the first and the last 20 % of the
run after the warm-up, and their ratio; ``--reference`` also runs the same
network in `nengo.Simulator`. Writes ``DIR/online_learning.json`` and
``DIR/online_learning.png``.
"""

import argparse
import os
import sys

from nengo_lmu.tasks.learning import DEFAULTS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="A spiking LMU memory on Loihi (or nengo_loihi's emulator "
        "without a board) whose readout learns online with PES to output the "
        "delayed input.",
    )
    parser.add_argument(
        "--sim-time", type=float, default=40.5,
        help="simulated seconds, warm-up of theta included (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULTS["seed"],
        help="seed of the input, the network and the simulator (default: %(default)s)",
    )
    parser.add_argument(
        "--learning-rate", type=float, default=DEFAULTS["learning_rate"],
        help="PES learning rate (default: %(default)s)",
    )
    parser.add_argument(
        "--test-fraction", type=float, default=DEFAULTS["test_fraction"],
        help="last fraction of the run with learning off; 0 learns until the "
        "end (default: %(default)s)",
    )
    parser.add_argument(
        "--reference", action="store_true",
        help="also run the same network in nengo.Simulator for comparison",
    )
    parser.add_argument(
        "--out", default="results/online_learning", metavar="DIR",
        help="where online_learning.json and .png go (default: %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    theta = DEFAULTS["theta"]
    if not args.sim_time >= theta + 1:
        parser.error(f"--sim-time must be at least theta + 1 s ({theta + 1:g} s)")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    if not args.learning_rate > 0:
        parser.error("--learning-rate must be > 0")
    if not 0 <= args.test_fraction < 1:
        parser.error("--test-fraction must lie in [0, 1)")
    return args


def format_learning_table(results):
    """A text table of the first/last 20 % errors, one row per result."""
    head = (f"{'backend':<22}{'RMSE first':>11}{'RMSE last':>11}{'ratio':>7}"
            f"{'NRMSE first':>13}{'NRMSE last':>12}{'wall s':>8}")
    lines = [head, "-" * len(head)]
    for res in results:
        name = f"{res['backend']} ({res['target_name']})"
        lines.append(
            f"{name:<22}{res['rmse_first']:>11.4f}{res['rmse_last']:>11.4f}"
            f"{res['ratio']:>7.3f}{res['nrmse_first']:>13.3f}{res['nrmse_last']:>12.3f}"
            f"{res['wall_s']:>8.1f}"
        )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    import nengo_loihi  # pylint: disable=import-outside-toplevel
    from nengo_loihi.hardware import HAS_NXSDK  # pylint: disable=import-outside-toplevel

    from nengo_lmu.io import save_figure, write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.learning import (  # pylint: disable=import-outside-toplevel
        learning_summary,
        online_learning,
        plot_online_learning,
    )

    p = dict(DEFAULTS, sim_time=args.sim_time, seed=args.seed,
             learning_rate=args.learning_rate, test_fraction=args.test_fraction)
    print(
        f"Online learning: order {p['order']}, theta {p['theta']:g} s, "
        f"{p['n_neurons']} SpikingRectifiedLinear neurons per dimension; input "
        f"{p['freq']:g} Hz white noise, rms {p['rms']:g}; target u(t - {p['r']:g} theta); "
        f"PES learning rate {p['learning_rate']:g}; {p['sim_time']:g} s simulated "
        f"(learning off for the last {p['test_fraction'] * 100:g} %), seed {p['seed']}"
    )
    print(f"nengo_loihi {nengo_loihi.__version__}: NxSDK "
          f"{'found (a board is used if attached)' if HAS_NXSDK else 'not installed'}",
          flush=True)
    backends = ["loihi"] + (["nengo"] if args.reference else [])
    results = []
    for backend in backends:
        res = online_learning(backend, progress_bar=not args.no_progress, **p)
        if backend == "loihi":
            print("ran on " + ("the Loihi board" if res["target_name"] == "loihi"
                               else f"the emulator (target {res['target_name']!r})"))
        results.append(res)

    first, last = results[0]["first_window"], results[0]["last_window"]
    print(f"\nerror of the learned output against the target, lowpassed "
          f"{p['probe_synapse']:g} s; first 20 %: {first[0]:.2f}-{first[1]:.2f} s, "
          f"last 20 %: {last[0]:.2f}-{last[1]:.2f} s")
    print(format_learning_table(results))
    for res in results:
        verdict = "meets" if res["ratio"] <= 0.5 else "MISSES"
        print(f"{res['backend']}: last / first = {res['ratio']:.3f} ({verdict} <= 0.5)")

    json_path = os.path.join(args.out, "online_learning.json")
    png_path = os.path.join(args.out, "online_learning.png")
    write_json(json_path, {
        "nengo_loihi": nengo_loihi.__version__,
        "has_nxsdk": bool(HAS_NXSDK),
        "results": {res["backend"]: learning_summary(res) for res in results},
    })
    save_figure(plot_online_learning(results), png_path, dpi=110)
    print(f"\nwrote {json_path} and {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
