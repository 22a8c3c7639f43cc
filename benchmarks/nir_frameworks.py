"""Benchmark: a trained LMU exported to NIR, run in nengo and in Norse.

For each memory (``--parts exact spiking``), in one run on the first
``--n-test`` psMNIST test images, each image from rest:

- the model's spiking classifier (`nengo_lmu.spiking.SpikingLMUClassifier`,
  calibrated as ``psmnist evaluate --backend loihi`` calibrates it, tuning
  seed ``--seed``) on the Loihi emulator (`nengo_lmu.batching.run_batched`)
  and, with ``--classifier-nengo``, in nengo;
- its NIR graph (`nengo_lmu.to_nir`, ``discretization="euler"``, written
  with ``nir.write``) read back by `nengo_lmu.from_nir` and run in
  `nengo.Simulator` ("NIR in nengo"); for the spiking memory also the graph
  of ``synapses="cubalif"`` (the nodes hardware importers read);
- the same file in Norse (``examples/nir/norse_psmnist.py`` under
  ``--norse-python``: Norse needs PyTorch, which does not install beside
  TensorFlow 2.12, so it runs in its own environment; its wall time is
  measured there, from reading the file to the logits);
- the round trip: for the spiking memory, the NIR network's predictions
  against the original network's with the hidden neurons Loihi runs (reset
  to zero, as NIR's IF) in nengo, on the first ``--n-roundtrip`` images;
  for the exact memory, the imported memory against `nengo_lmu.LegendreMemory`
  over the first image's 784 steps.

Both graphs follow the step semantics of `nengo_lmu.nir_graph` (Norse's
and nirtorch's), so nengo and Norse run the same network and should give
the same predictions up to Norse's float32 rounding. The exact memory
(``--model``) runs online in the graph, one step per pixel, where the
classifier's own exact mode holds the final memory ``m_T`` off chip: the
model must be trained for the ``hold`` (or ``spiking``) readout (`to_nir`
refuses one trained for the exact readout); the spiking memory
(``--spiking-model``, a low order) is the classifier's. Prints a table,
writes (when parts are rerun: updates) ``OUT/nir.json`` and ``OUT/nir.png``::

    python benchmarks/nir_frameworks.py --model DIR --spiking-model DIR
        [--n-test 1000] [--n-roundtrip 200] [--norse-python PYTHON] [--out docs]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from nengo_lmu.tasks.reporting import format_table, load_results, log, machine, write_report

HERE = os.path.dirname(os.path.abspath(__file__))
NORSE_SCRIPT = os.path.join(HERE, os.pardir, "examples", "nir", "norse_psmnist.py")
PARTS = ("exact", "spiking")


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def run_part(model, memory, args, workdir):
    import nir  # pylint: disable=import-outside-toplevel

    from nengo_lmu.batching import run_batched  # pylint: disable=import-outside-toplevel
    from nengo_lmu.neurons import chip_neuron_type  # pylint: disable=import-outside-toplevel
    from nengo_lmu.nir_graph import from_nir, run_nengo, to_nir, write  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.nir_export import psmnist_classifier, trained_readout  # pylint: disable=import-outside-toplevel

    readout = trained_readout(model)
    clf, data = psmnist_classifier(model, memory, seed=args.seed)
    x, y = data["test"]
    x, y = x[:args.n_test], y[:args.n_test]
    result = {"model": os.path.abspath(model), "memory": memory, "order": clf.order,
              "units": clf.units, "n_test": int(len(x)), "seed": clf.seed,
              "trained_readout": readout,
              "hold_steps": clf.hold_steps, "window": clf.window, "max_rate": clf.max_rate}
    rows = {}

    log(f"{memory}: the classifier on the Loihi emulator ({len(x)} images)")
    run, wall = _timed(run_batched, clf, x, backend="loihi", progress_bar=False)
    rows["Loihi emulator (classifier)"] = (run.predictions, wall)
    if args.classifier_nengo:
        log(f"{memory}: the classifier in nengo")
        run, wall = _timed(run_batched, clf, x, backend="nengo", progress_bar=False)
        rows["nengo (classifier)"] = (run.predictions, wall)

    variants = ["li"] + (["cubalif"] if memory == "spiking" else [])
    logits = {}
    for synapses in variants:
        suffix = "" if synapses == "li" else ", CubaLIF graph"
        graph, export_s = _timed(to_nir, clf, discretization="euler", synapses=synapses,
                                 trained_readout=readout)
        path = os.path.join(workdir, f"{memory}-{synapses}.nir")
        write(graph, path)
        result.setdefault("graphs", {})[synapses] = {
            "export_s": export_s, "nir_bytes": os.path.getsize(path),
            "nodes": {k: type(v).__name__ for k, v in graph.nodes.items()}}
        log(f"{memory}: the NIR graph{suffix} in nengo ({os.path.getsize(path) / 1e6:.1f} MB)")
        start = time.perf_counter()
        net = from_nir(nir.read(path))
        logits[synapses] = run_nengo(net, x)
        rows[f"NIR in nengo{suffix}"] = (logits[synapses].argmax(1),
                                         time.perf_counter() - start)
        if args.norse_python:
            log(f"{memory}: the NIR graph{suffix} in Norse")
            images = os.path.join(workdir, f"{memory}-images.npz")
            np.savez(images, x=x[:, :, 0].astype(np.float32), y=y)
            out = os.path.join(workdir, f"{memory}-{synapses}-norse.json")
            cmd = [args.norse_python, NORSE_SCRIPT, "--nir", path, "--images", images,
                   "--out", out] + (["--float64"] if args.norse_float64 else [])
            subprocess.run(cmd, check=True)
            with open(out, encoding="utf-8") as f:
                norse = json.load(f)
            rows[f"NIR in Norse{suffix}"] = (np.asarray(norse["predictions"]),
                                             norse["wall_s"] + norse["load_s"])
            result["norse"] = {k: norse[k] for k in ("norse_version", "torch_version",
                                                     "nir_version", "threads")}
            result.setdefault("norse_nengo_agreement", {})[synapses] = float(np.mean(
                rows[f"NIR in Norse{suffix}"][0] == rows[f"NIR in nengo{suffix}"][0]))

    n_rt = min(args.n_roundtrip, len(x))
    log(f"{memory}: round trip on {n_rt} images (original network, Loihi's hidden neurons)")
    if memory == "spiking":
        clf.hidden.neuron_type = chip_neuron_type(clf.neuron_type)
        ref, wall = _timed(classifier_in_nengo, clf, x[:n_rt])
        result["roundtrip"] = {"n": n_rt, "reference_wall_s": wall}
        for synapses, lg in logits.items():
            result["roundtrip"][synapses] = {
                "predictions_equal": int(np.sum(ref.argmax(1) == lg[:n_rt].argmax(1))),
                "max_logit_difference": float(np.abs(ref - lg[:n_rt]).max())}
    else:  # the graph runs the memory online; the classifier holds m_T
        result["roundtrip"] = {"n": 1, "memory_max_difference": memory_difference(
            from_nir(nir.read(os.path.join(workdir, "exact-li.nir"))), clf, x[0])}
    result["rows"] = [{"system": name, "accuracy": accuracy_of(pred, y), "wall_s": wall,
                       "s_per_image": wall / len(x)} for name, (pred, wall) in rows.items()]
    return result


def classifier_in_nengo(clf, x):
    """The spiking classifier's own network in one `nengo.Simulator`, reset
    before each image (each from rest): logits (n, n_classes)."""
    from nengo_lmu.backends import make_simulator  # pylint: disable=import-outside-toplevel
    from nengo_lmu.readout import hold_stream  # pylint: disable=import-outside-toplevel

    steps, p = clf.steps_per_sequence, clf.params
    stream = np.zeros(steps)
    clf.input.output = lambda t: stream[min(int(round(t / clf.dt)) - 1, steps - 1):][:1]
    logits = []
    with make_simulator(clf, "nengo", dt=clf.dt, progress_bar=False) as sim:
        for i, seq in enumerate(x):
            if i:
                sim.reset()
            stream[:] = hold_stream(seq[None], clf.hold_steps, clf.hold_steps)[0, -steps:, 0]
            sim.run_steps(steps)
            rates = sim.data[clf.probe][-clf.window:].mean(axis=0)
            logits.append(rates @ p["W_out"].T + p["b_out"])
    return np.asarray(logits)


def memory_difference(net, clf, seq):
    """Largest difference between the imported graph's memory and the LMU's
    exact memory (`nengo_lmu.LegendreMemory`, ZOH) over one sequence."""
    import nengo  # pylint: disable=import-outside-toplevel

    from nengo_lmu import LegendreMemory  # pylint: disable=import-outside-toplevel

    e_x = clf.params["e_x"][0, 0]
    with nengo.Network() as model:
        u = nengo.Node(nengo.processes.PresentInput(seq[:, 0], clf.dt))
        memory = LegendreMemory(clf.n_steps, clf.order, dt=1.0)  # theta in steps
        nengo.Connection(u, memory.input, transform=e_x, synapse=None)
        model.networks.append(net)
        nengo.Connection(u, net.input, synapse=None)
        expected = nengo.Probe(memory.output)
        got = nengo.Probe(net.nir_objects["memory"])
    with nengo.Simulator(model, dt=clf.dt, progress_bar=False) as sim:
        sim.run_steps(clf.n_steps)
    return float(np.abs(sim.data[got] - sim.data[expected]).max())


def accuracy_of(predictions, y):
    return float(np.mean(np.asarray(predictions) == np.asarray(y)))


def measured_parts(results):
    """The keys of ``results`` that hold a part's rows (a part's name, or the
    ``--label`` it was run under)."""
    return [k for k, v in results.items() if isinstance(v, dict) and "rows" in v]


def table(results):
    rows = []
    for memory in measured_parts(results):
        r = results[memory]
        for row in r["rows"]:
            rows.append((f"{memory} (order {r['order']})", row["system"],
                         f"{100 * row['accuracy']:.2f} %", f"{row['wall_s']:.1f} s",
                         f"{1e3 * row['s_per_image']:.1f} ms"))
    return format_table(rows, header=("memory", "system", "accuracy", "wall", "per image"))


def figure(results):
    from nengo_lmu.plots import pyplot  # pylint: disable=import-outside-toplevel

    plt = pyplot()
    parts = measured_parts(results)
    fig, axes = plt.subplots(1, 2, figsize=(12, 1.2 + 0.32 * sum(
        len(results[m]["rows"]) + 1 for m in parts)))
    ticks, labels, start = [], [], 0
    for memory in parts:  # one block of bars per part, a gap between blocks
        r = results[memory]
        pos = start + np.arange(len(r["rows"]))
        axes[0].barh(pos, [100 * row["accuracy"] for row in r["rows"]])
        axes[1].barh(pos, [row["wall_s"] for row in r["rows"]])
        ticks += list(pos)
        labels += [f"{memory} (order {r['order']}): {row['system']}" for row in r["rows"]]
        start += len(r["rows"]) + 1
    for ax in axes:
        ax.set_yticks(ticks)
        ax.set_yticklabels(labels if ax is axes[0] else [])
    axes[0].set_xlabel("psMNIST test accuracy (%)")
    axes[0].set_xlim(min(50, min(100 * row["accuracy"] for m in parts
                                 for row in results[m]["rows"]) - 5), 100)
    axes[1].set_xlabel("wall time (s)")
    axes[1].set_xscale("log")
    n = results[parts[0]]["n_test"] if parts else 0
    fig.suptitle(f"An LMU through NIR: the same {n} images in nengo, Norse and the "
                 "Loihi emulator (each block one run)")
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model for the exact memory")
    parser.add_argument("--spiking-model", help="model for the spiking memory (low order)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--n-roundtrip", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0, help="tuning seed of the spiking memory")
    parser.add_argument("--classifier-nengo", action="store_true",
                        help="also run the classifier itself in nengo (run_batched; slow)")
    parser.add_argument("--norse-python", help="python of an environment with norse, "
                        "torch and nir (none: no Norse rows)")
    parser.add_argument("--norse-float64", action="store_true",
                        help="Norse in float64 (as nengo) instead of its float32")
    parser.add_argument("--label", help="store the part's result under this key of "
                        "OUT/nir.json instead of the part's name (one part only; to keep "
                        "several models of a part)")
    parser.add_argument("--out", default="docs")
    parser.add_argument("--replot", action="store_true",
                        help="only print the table and redraw the figure of OUT/nir.json")
    args = parser.parse_args(argv)
    if "spiking" in args.parts and not args.spiking_model and not args.replot:
        parser.error("--parts spiking needs --spiking-model DIR")
    if args.label and len(args.parts) != 1:
        parser.error("--label needs exactly one part (--parts exact or --parts spiking)")
    # parts run earlier (another run, another command) stay in OUT/nir.json
    results = load_results(os.path.join(args.out, "nir.json"))
    if args.replot:
        write_report(args.out, "nir", results, fig=figure(results), table=table(results))
        return
    results.update(machine=machine())
    with tempfile.TemporaryDirectory(prefix="nengo-lmu-nir-") as workdir:
        for memory in args.parts:
            model = args.model if memory == "exact" else args.spiking_model
            load = list(os.getloadavg())
            key = args.label or memory
            results[key] = run_part(model, memory, args, workdir)
            results[key].update(command=" ".join(sys.argv), load_average_at_start=load,
                                load_average_at_end=list(os.getloadavg()))
    write_report(args.out, "nir", results, fig=figure(results), table=table(results))
    for memory in args.parts:
        r = results[args.label or memory]
        print(f"{memory}: round trip {r['roundtrip']}; Norse-nengo agreement "
              f"{r.get('norse_nengo_agreement')}")


if __name__ == "__main__":
    main()
