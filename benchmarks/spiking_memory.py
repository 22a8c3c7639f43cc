"""Benchmark: the psMNIST classifier's spiking memory alone, exact vs spiking.

Where does the spiking memory of `nengo_lmu.spiking.SpikingLMUClassifier`
lose accuracy on Loihi? This runs that memory (`nengo_lmu.spiking.spiking_memory`,
order ``--order`` over the 784-pixel window, ``--neurons`` per state
variable, radii from 1,000 validation images as the classifier sets them) on
the first ``--n-test`` permuted test images back to back, each followed by
40 zero steps, as the classifier runs them, in several settings:

- ideal integrate-and-fire neurons (`nengo.SpikingRectifiedLinear`, which
  keep the voltage above threshold after a spike) in the nengo reference
  simulator;
- the Loihi neuron model (`nengo_loihi.neurons.LoihiSpikingRectifiedLinear`:
  one spike per step at most, voltage reset to zero) in nengo, floating point;
- the Loihi emulator (adds 8-bit weights and input spikes);
- the Loihi emulator with the earlier settings (100-120 Hz, intercepts
  -1..0.5).

The score is the NRMSE of the decoded state (lowpass 5 ms, as the hidden
layer sees it) against the exact memory over the readout windows (last 30 of
the 40 zero steps), in units of each dimension's calibration range, averaged
over dimensions. Prints a table, writes ``OUT/spiking_memory.json`` and
``OUT/spiking_memory.png``::

    python benchmarks/spiking_memory.py [--order 16] [--neurons 30] [--n-test 20]
"""

import argparse
import sys
import time

import nengo
import numpy as np

from nengo_lmu.backends import make_simulator
from nengo_lmu.data import load_psmnist
from nengo_lmu.plots import pyplot
from nengo_lmu.spiking import MEMORY_INTERCEPTS, memory_radius, spiking_memory
from nengo_lmu.systems import LegendreDelay
from nengo_lmu.tasks.psmnist import N_CALIBRATION
from nengo_lmu.tasks.reporting import write_report

HOLD, WINDOW, DT = 40, 30, 0.001


def settings():
    """Name -> (backend, neuron type, max rate, intercepts)."""
    import nengo_loihi.neurons  # pylint: disable=import-outside-toplevel

    loihi_neuron = nengo_loihi.neurons.LoihiSpikingRectifiedLinear(
        initial_state={"voltage": nengo.dists.Choice([0.0])})
    return {
        "ideal IF neurons, nengo": ("nengo", None, 700.0, MEMORY_INTERCEPTS),
        "Loihi neuron model, nengo": ("nengo", loihi_neuron, 700.0, MEMORY_INTERCEPTS),
        "Loihi emulator": ("loihi", None, 700.0, MEMORY_INTERCEPTS),
        "Loihi emulator, 100-120 Hz, intercepts -1..0.5": (
            "loihi", None, 120.0, nengo.dists.Uniform(-1, 0.5)),
    }


def run_setting(system, radius, stream, args, backend, neuron_type, max_rate, intercepts):
    with nengo.Network(seed=args.seed) as net:
        inp = nengo.Node(nengo.processes.PresentInput(stream[:, None], DT))
        mem = spiking_memory(system.theta, system.order, radius, args.neurons, max_rate,
                             dt=DT, neuron_type=neuron_type, intercepts=intercepts,
                             seed=args.seed)
        nengo.Connection(inp, mem.input, synapse=None)
        probe = nengo.Probe(mem.output, synapse=0.005)
    start = time.perf_counter()
    with make_simulator(net, backend, dt=DT, progress_bar=False) as sim:
        sim.run_steps(len(stream))
    return sim.data[probe], time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--order", type=int, default=16)
    parser.add_argument("--neurons", type=int, default=30)
    parser.add_argument("--n-test", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settings", nargs="+", default=None,
                        help="names of the settings to run (default: all)")
    parser.add_argument("--out", default="results/benchmarks")
    args = parser.parse_args(argv)
    chosen = settings()
    if args.settings:
        unknown = sorted(set(args.settings) - set(chosen))
        if unknown:
            parser.error(f"unknown settings {unknown}; choose from {sorted(chosen)}")
        chosen = {k: v for k, v in chosen.items() if k in args.settings}

    data = load_psmnist()
    x_cal = data["valid"][0][:N_CALIBRATION, :, 0]
    x = data["test"][0][: args.n_test, :, 0]
    T = x.shape[1]
    system = LegendreDelay(T * DT, args.order)
    # radii as SpikingLMUClassifier sets them
    radius = memory_radius(system.final_state(x_cal, DT))

    stream = np.concatenate([x, np.zeros((len(x), HOLD))], axis=1).ravel()
    exact = system.trajectory(stream, DT)
    exact = nengo.Lowpass(0.005).filt(exact, dt=DT, y0=0)
    ends = np.arange(1, len(x) + 1) * (T + HOLD)
    window = np.concatenate([np.arange(e - WINDOW, e) for e in ends])

    # the score of a memory stuck at zero, for scale
    zero_nrmse = float(np.mean(np.sqrt(np.mean((exact[window] / radius) ** 2, axis=0))))

    rows, traces = [], {}
    for name, (backend, neuron_type, max_rate, intercepts) in chosen.items():
        print(f"{name} ...", flush=True)
        decoded, wall = run_setting(system, radius, stream, args, backend, neuron_type,
                                    max_rate, intercepts)
        err = (decoded - exact)[window] / radius
        per_dim = np.sqrt(np.mean(err**2, axis=0))
        rows.append({"setting": name, "backend": backend, "max_rate": max_rate,
                     "nrmse": float(np.mean(per_dim)), "nrmse_per_dim": per_dim.tolist(),
                     "wall_s": wall})
        traces[name] = decoded[: min(2, len(x)) * (T + HOLD)]

    print(f"\nspiking memory alone: order {args.order}, {args.neurons} neurons per "
          f"dimension, {args.n_test} test images; NRMSE over the readout windows")
    print(f"(a memory stuck at zero scores {zero_nrmse:.3f})")
    print(f"| {'setting':<48} | NRMSE | worst dim | wall (s) |")
    print(f"|{'-' * 50}|-------|-----------|----------|")
    for r in rows:
        print(f"| {r['setting']:<48} | {r['nrmse']:.3f} | {max(r['nrmse_per_dim']):9.3f} "
              f"| {r['wall_s']:8.1f} |")

    write_report(args.out, "spiking_memory", {
        "order": args.order, "neurons": args.neurons, "n_test": args.n_test,
        "seed": args.seed, "hold_steps": HOLD, "window": WINDOW,
        "zero_memory_nrmse": zero_nrmse, "rows": rows},
        fig=plot(exact, traces, radius, args.order, min(2, len(x)) * (T + HOLD)))
    print(f"wrote {args.out}/spiking_memory.json and .png")
    return 0


def plot(exact, traces, radius, order, n_steps):
    """Four memory dimensions over the first ``n_steps``: exact and each setting."""
    plt = pyplot()
    dims = [0, 1, order // 2, order - 1]
    fig, axes = plt.subplots(len(dims), 1, figsize=(9, 2.2 * len(dims)), sharex=True)
    t = np.arange(n_steps)
    for ax, d in zip(axes, dims):
        ax.plot(t, exact[t, d] / radius[d], "k", lw=2, label="exact")
        for name, trace in traces.items():
            ax.plot(t, trace[:, d] / radius[d], lw=0.8, label=name)
        ax.set_ylabel(f"m[{d}] / range")
    axes[0].legend(fontsize=7, loc="upper left")
    axes[-1].set_xlabel("step (the first test images, each + 40 zero steps)")
    return fig


if __name__ == "__main__":
    sys.exit(main())
