"""Benchmark: the paper's Loihi delay network, exact vs spiking nengo vs Loihi.

Settings of the paper's Loihi demo (REFERENCE section 3): order 6,
theta 1 s, 1 Hz white noise with RMS 0.3, tau 0.1 s, dt 1 ms, 100
SpikingRectifiedLinear neurons per dimension. For each network seed it runs
the exact linear system, the spiking network in nengo and on the Loihi
emulator, then prints NRMSE per r and wall time (and their mean over seeds),
and writes ``OUT/delay.json`` and ``OUT/delay.png``. ``--systems`` picks
among them and ``"spiking, nengo, Loihi's neuron model"`` (not run by
default): the same network in nengo with nengo_loihi's model of the chip's
neurons (`nengo_loihi.neurons.LoihiSpikingRectifiedLinear`, reset to zero).

``--example nengo dl loihi`` also runs the README's example (its first
Python block, as written there, on each backend named) and scores the
window it decodes (the probe's 0.05 s lowpass) against the input delayed
by r theta and lowpassed alike, after the first 2 s; it is stored under
``readme_example`` with the ratio of each backend's NRMSE to nengo's.

    python benchmarks/delay.py [--sim-time 50] [--seeds 0 1 2] [--out DIR]
                               [--example nengo dl loihi]
"""

import argparse
import pathlib
import re
import sys
import time

import nengo
import numpy as np

from nengo_lmu.backends import use_line_progress
from nengo_lmu.metrics import nrmse_rms
from nengo_lmu.tasks.delay import format_delay_table, plot_delay, run_delay
from nengo_lmu.tasks.reporting import write_report

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
EXAMPLE_R = (0.0, 0.5, 1.0)

SYSTEMS = {
    "exact linear system": dict(n_neurons=0, backend="nengo"),
    "spiking, nengo": dict(n_neurons=100, backend="nengo"),
    "spiking, Loihi emulator": dict(n_neurons=100, backend="loihi"),
    # not run by default: where the emulator's extra error comes from
    "spiking, nengo, Loihi's neuron model": dict(n_neurons=100, backend="nengo",
                                                 neuron_type="loihi"),
}
DEFAULT_SYSTEMS = list(SYSTEMS)[:3]


def system_settings(name):
    """The `run_delay` arguments of system ``name`` (Loihi's neuron model,
    `nengo_loihi.neurons.LoihiSpikingRectifiedLinear`, made when asked for)."""
    settings = dict(SYSTEMS[name])
    if settings.get("neuron_type") == "loihi":
        from nengo_loihi.neurons import LoihiSpikingRectifiedLinear

        settings["neuron_type"] = LoihiSpikingRectifiedLinear()
    return settings


def example_code(readme=README):
    """The README's example: its first Python block that builds a LegendreMemory."""
    for block in re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S):
        if "LegendreMemory(" in block:
            return block
    raise ValueError(f"{readme} has no Python example building a LegendreMemory")


def run_readme_example(backend, code=None, skip=2.0):
    """Run the README's example on ``backend`` and score its window.

    The code runs as written, with the backend of its ``make_simulator``
    call replaced and a probe of its input (``stim``, lowpassed like the
    output) added before it is simulated (probes take no seeds from the
    other objects). Returns ``{"nrmse": {r: ...}, "wall_s": ...}``.
    """
    code = example_code() if code is None else code
    call = "with nengo_lmu.make_simulator(net, "
    build, _, run = code.partition(call)
    if not run.startswith('"nengo"') or "stim" not in build:
        raise ValueError(f"the README's example no longer reads {call}\"nengo\") after "
                         "building its input `stim`; update run_readme_example")
    run = call + repr(backend) + run[len('"nengo"'):]
    scope = {}
    exec(build, scope)  # pylint: disable=exec-used
    with scope["net"]:
        p_u = nengo.Probe(scope["stim"], synapse=0.05)
    start = time.perf_counter()
    exec(run, scope)  # pylint: disable=exec-used
    wall = time.perf_counter() - start
    sim, memory = scope["sim"], scope["memory"]
    window = np.asarray(scope["window"]).reshape(-1, len(EXAMPLE_R))
    u = np.asarray(sim.data[p_u]).reshape(-1)
    lags = np.round(np.asarray(EXAMPLE_R) * memory.theta / sim.dt).astype(int)
    truth = np.stack([np.roll(u, k) for k in lags], axis=1)
    first = int(round(skip / sim.dt))
    errors = nrmse_rms(window[first:], truth[first:])
    return {"nrmse": {str(r): float(e) for r, e in zip(EXAMPLE_R, errors)}, "wall_s": wall}


def readme_examples(backends):
    """`run_readme_example` on each backend, with the ratio to nengo's NRMSE."""
    use_line_progress()  # the example's progress bars, as lines in a log
    out = {}
    for backend in backends:
        print(f"README example: {backend}", flush=True)
        out[backend] = run_readme_example(backend)
    if "nengo" in out:
        for res in out.values():
            res["ratio_to_nengo"] = {r: res["nrmse"][r] / out["nengo"]["nrmse"][r]
                                     for r in res["nrmse"]}
    print("\nREADME example (10 s, seed 0), NRMSE of the decoded window:")
    print(f"{'backend':<8}" + "".join(f"{'r=' + format(float(r), 'g'):>8}" for r in EXAMPLE_R)
          + f"{'wall s':>9}" + ("   ratio to nengo" if "nengo" in out else ""))
    for backend, res in out.items():
        line = f"{backend:<8}" + "".join(f"{v:>8.3f}" for v in res["nrmse"].values())
        line += f"{res['wall_s']:>9.1f}"
        if "ratio_to_nengo" in res:
            line += "   " + " / ".join(f"{v:.2f}" for v in res["ratio_to_nengo"].values())
        print(line)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sim-time", type=float, default=50.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--systems", nargs="+", choices=list(SYSTEMS), default=DEFAULT_SYSTEMS)
    parser.add_argument("--out", default="results/benchmarks")
    parser.add_argument("--example", nargs="*", choices=["nengo", "dl", "loihi"], default=[],
                        help="also run the README's example on these backends")
    args = parser.parse_args(argv)
    example = readme_examples(args.example) if args.example else None

    results = {name: [] for name in args.systems}
    for seed in args.seeds:
        for name in args.systems:
            print(f"seed {seed}: {name}", flush=True)
            res = run_delay(sim_time=args.sim_time, seed=seed, progress_bar=False,
                            **system_settings(name))
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
    extra = {} if example is None else {"readme_example": example}
    write_report(args.out, "delay", {**extra,
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
