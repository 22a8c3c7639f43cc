"""The paper's delay network on Loihi: run it as is.

    python examples/loihi/delay_network.py [--sim-time 50] [--seed 0] [--json PATH]

Deploys a `nengo_lmu.LegendreMemory` of order 6 remembering a window of
theta = 1 s, with 100 `nengo.SpikingRectifiedLinear` neurons per dimension
and the principle-3 lowpass tau = 0.1 s, at dt = 1 ms, driven by 1 Hz white
noise of RMS 0.3. The input is filtered on chip (``loihi_input=True``) and
the state is read as `LegendreMemory.state_estimate` does.

With NxSDK installed and a Loihi board attached, nengo_loihi runs it on the
board; otherwise on its emulator (this is printed first). Prints the NRMSE
of the window decoded at r = 0, .25, .5, .75, 1 against the truly delayed
input (the first theta seconds excluded) and the chip resources the model
takes (`nengo_lmu.loihi.resource_report`).
"""

import argparse
import sys
import time

from nengo_lmu.backends import make_simulator, run_with_progress
from nengo_lmu.loihi import format_resource_report, resource_report
from nengo_lmu.tasks.delay import R_VALUES, delay_network, evaluate_delay

#: The paper's Loihi delay network.
PARAMS = dict(
    order=6,
    theta=1.0,
    freq=1.0,
    rms=0.3,
    n_neurons=100,
    synapse=0.1,
    dt=0.001,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Run the order-6 Legendre delay network (100 spiking neurons "
        "per dimension) on a Loihi board, or on nengo_loihi's emulator without one.",
    )
    parser.add_argument(
        "--sim-time", type=float, default=50.0,
        help="simulated seconds, must exceed theta = 1 s (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=0,
        help="seed of the network and the input (default: %(default)s)",
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write the results as JSON to PATH",
    )
    parser.add_argument(
        "--per-core", action="store_true", help="list the resources of every core",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not args.sim_time > PARAMS["theta"]:
        parser.error(f"--sim-time must exceed theta ({PARAMS['theta']} s)")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    import nengo_loihi  # pylint: disable=import-outside-toplevel
    from nengo_loihi.hardware import HAS_NXSDK  # pylint: disable=import-outside-toplevel

    p = PARAMS
    print(
        f"Delay network: order {p['order']}, theta {p['theta']:g} s, "
        f"{p['n_neurons']} SpikingRectifiedLinear neurons per dimension, "
        f"tau {p['synapse']:g} s, dt {p['dt'] * 1000:g} ms; input "
        f"{p['freq']:g} Hz white noise, rms {p['rms']:g}; "
        f"{args.sim_time:g} s simulated, seed {args.seed}"
    )
    net = delay_network(
        p["order"], p["theta"], p["freq"], p["rms"], p["n_neurons"], args.sim_time,
        args.seed, p["dt"], synapse=p["synapse"], loihi_input=True,
    )

    start = time.perf_counter()
    sim = make_simulator(net, "loihi", dt=p["dt"], seed=args.seed)
    build_s = time.perf_counter() - start
    on_board = sim.target == "loihi"
    print(
        f"nengo_loihi {nengo_loihi.__version__}: NxSDK "
        f"{'found' if HAS_NXSDK else 'not installed'}; running on "
        + ("the Loihi board" if on_board else f"the emulator (target {sim.target!r})")
    )
    with sim:
        start = time.perf_counter()
        run_with_progress(sim, args.sim_time, progress_bar=not args.no_progress)
        run_s = time.perf_counter() - start
        u, m = sim.data[net.p_input], sim.data[net.p_memory]
    report = resource_report(sim)

    state = net.memory.state_estimate(m, u, p["dt"])
    errors, _, _ = evaluate_delay(net.memory, u, state, p["dt"], R_VALUES)

    print(f"\nNRMSE of the decoded window (first {p['theta']:g} s excluded)")
    print(f"{'r':>6}  {'delay s':>7}  {'NRMSE':>7}")
    for r, e in errors.items():
        print(f"{r:>6.2f}  {r * p['theta']:>7.3f}  {e:>7.3f}")
    print(f"{'mean':>6}  {'':>7}  {sum(errors.values()) / len(errors):>7.3f}")
    print(f"\nbuild {build_s:.1f} s, run {run_s:.1f} s "
          f"({args.sim_time / run_s:.2f}x real time)\n")
    print(format_resource_report(report, per_core=args.per_core))

    if args.json:
        from nengo_lmu.io import write_json  # pylint: disable=import-outside-toplevel

        write_json(
            args.json,
            {
                "params": dict(p, sim_time=args.sim_time, seed=args.seed),
                "target": sim.target,
                "on_board": on_board,
                "has_nxsdk": bool(HAS_NXSDK),
                "nengo_loihi": nengo_loihi.__version__,
                "nrmse": {str(r): e for r, e in errors.items()},
                "build_s": build_s,
                "run_s": run_s,
                "resources": report,
            },
        )
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
