"""Benchmark: psMNIST on the Loihi emulator, image by image against batched.

A trained model (``--model DIR``) deployed as `SpikingLMUClassifier`
(``--memory exact|spiking``, tuning ``--seed``, otherwise as ``nengo-lmu
psmnist evaluate --backend loihi`` deploys it), on the first test images:

- ``back to back``: `SpikingLMUClassifier.run` on the first
  ``--n-reference`` images, one nengo_loihi simulation (today's ``evaluate``);
- ``alone``: each of the first ``--n-check`` images in a nengo_loihi
  simulator of its own, the definition the batched run reproduces: their
  predictions and readout-window spike counts must be identical (else the
  script fails);
- ``batched``: `nengo_lmu.batching.run_batched` on ``--n-test`` images for
  each ``--batch-size`` (every image from rest, one build);
- ``streams``: `run_batched` with ``reset=False`` and batch size 1 on the
  ``--n-reference`` images, which must equal ``back to back`` bit for bit;
- ``workers`` (with ``--workers N [N ...]``): `nengo_lmu.distributed.run_distributed`
  on the ``--n-test`` images with the largest ``--batch-size``, on N worker
  processes of this machine (1: `run_batched` here), as ``nengo-lmu psmnist
  evaluate --workers N`` runs them; with ``--ray``, also on a local Ray
  cluster of ``--ray-cpus`` CPUs (started by the script, its start timed
  apart). Their predictions and spike counts must equal the batched run's.
  Wall times include starting the worker processes, importing nengo_loihi in
  them and building the classifier in each: the cost of a run, on a machine
  with ``cpus`` cores (the gain is bounded by them).
- ``rate on nengo`` (with ``--rate-n-test N``): the rate model's temporal
  network on nengo, `nengo_lmu.training.predict` (one image after another,
  as ``nengo-lmu psmnist evaluate --backend nengo``) on the first
  ``--n-reference`` images against `nengo_lmu.batching.predict_batched` (as
  ``--batch-size B``) on N images for each ``--batch-size``: their logits
  must be allclose and their predictions identical (else the script fails).

Seconds per image include building the simulators, not importing
nengo_loihi (which imports NengoDL and TensorFlow; timed apart). Prints a table, writes
``OUT/batched_loihi_<memory>.json`` and ``.png`` (seconds per image against
batch size)::

    python benchmarks/batched_loihi.py --model DIR [--memory exact|spiking] [--n-test 1000]
        [--batch-size 1 16 64] [--n-reference 20] [--n-check 3] [--seed 0] [--out DIR]
        [--workers 1 2] [--ray] [--ray-cpus 2] [--chunk-size N] [--rate-n-test N]
"""

import argparse
import os
import sys
import time

import numpy as np

from nengo_lmu.distributed import DEFAULT_CHUNK_BATCHES, ClassifierSpec
from nengo_lmu.model_dir import deployment_settings, load_model
from nengo_lmu.tasks.psmnist import N_CALIBRATION
from nengo_lmu.tasks.reporting import format_table, log, machine, now, write_report


def run(args):
    from nengo_lmu.batching import run_batched  # pylint: disable=import-outside-toplevel
    from nengo_lmu.data import load_psmnist  # pylint: disable=import-outside-toplevel
    from nengo_lmu.spiking import SpikingLMUClassifier  # pylint: disable=import-outside-toplevel

    start = time.perf_counter()
    import nengo_loihi  # pylint: disable=import-outside-toplevel,unused-import

    import_s = time.perf_counter() - start  # not in the timings below
    log(f"imported nengo_loihi (and with it NengoDL and TensorFlow) in {import_s:.1f} s")
    run_config, params = load_model(args.model)
    data = load_psmnist(run_config.get("permutation_seed", 0))
    settings = deployment_settings(run_config, args.memory, seed=args.seed)
    net = SpikingLMUClassifier(run_config["model"], params, data["valid"][0][:N_CALIBRATION],
                               memory=args.memory, **settings)
    x, y = data["test"]
    n_ref, n_check = min(args.n_reference, args.n_test), min(args.n_check, args.n_test)
    x, y = x[:args.n_test], y[:args.n_test]
    result = {"started": now(), "machine": machine(), "load_average_at_start":
              list(os.getloadavg()), "model": os.path.abspath(args.model),
              "memory": args.memory, "settings": settings, "n_test": int(len(x)),
              "steps_per_image": net.steps_per_sequence, "import_nengo_loihi_s": import_s}

    log(f"back to back: SpikingLMUClassifier.run on {n_ref} images")
    start = time.perf_counter()
    logits, rates = net.run(x[:n_ref], backend="loihi", progress_bar=False)
    wall = time.perf_counter() - start
    back = logits.argmax(axis=1)
    result["back_to_back"] = {"n": n_ref, "wall_s": wall, "s_per_image": wall / n_ref,
                              "accuracy": float(np.mean(back == y[:n_ref]))}

    log(f"alone: {n_check} images, a simulator each")
    start = time.perf_counter()
    alone = [net.run(x[i:i + 1], backend="loihi", progress_bar=False) for i in range(n_check)]
    wall = time.perf_counter() - start
    value = net.neuron_type.amplitude / net.dt
    alone_counts = np.rint(np.concatenate([a[1] for a in alone]) * net.window / value)
    alone_pred = np.concatenate([a[0] for a in alone]).argmax(axis=1)
    result["alone"] = {"n": n_check, "wall_s": wall, "s_per_image": wall / n_check}

    log(f"streams: run_batched(reset=False, batch_size=1) on {n_ref} images")
    streams = run_batched(net, x[:n_ref], batch_size=1, reset=False, progress_bar=False)
    result["streams"] = {"n": n_ref, "wall_s": streams.wall_s,
                         "s_per_image": streams.s_per_image,
                         "identical_to_back_to_back": bool(np.array_equal(streams.rates, rates))}

    result["batched"] = []
    for batch_size in args.batch_size:
        log(f"batched: {len(x)} images, batch size {batch_size}")
        res = run_batched(net, x, batch_size=batch_size, progress_bar=False)
        result["batched"].append({
            "batch_size": batch_size, "n": int(len(x)), "wall_s": res.wall_s,
            "s_per_image": res.s_per_image,
            "speedup_over_back_to_back": result["back_to_back"]["s_per_image"]
            / res.s_per_image,
            "accuracy": float(np.mean(res.predictions == y)),
            "identical_to_alone": bool(
                np.array_equal(res.predictions[:n_check], alone_pred)
                and np.array_equal(res.counts[:n_check], alone_counts)),
            "agreement_with_back_to_back": float(np.mean(res.predictions[:n_ref] == back)),
        })
        batched = res
    if args.rate_n_test:
        result["rate_nengo"] = rate_nengo(args, run_config["model"], params, data["test"])
    if args.workers or args.ray:
        spec = ClassifierSpec(run_config["model"], params, data["valid"][0][:N_CALIBRATION],
                              args.memory, settings)
        result["distributed"] = distributed(args, spec, net, x, batched)
    result["load_average_at_end"] = list(os.getloadavg())
    return result


def rate_nengo(args, config, params, test):
    """The rate model on nengo: `predict` one image after another on the first
    ``--n-reference`` images, `predict_batched` on ``--rate-n-test`` images
    for each ``--batch-size``; logits allclose, predictions identical."""
    from nengo_lmu.batching import predict_batched  # pylint: disable=import-outside-toplevel
    from nengo_lmu.lmu import build_classifier  # pylint: disable=import-outside-toplevel
    from nengo_lmu.training import predict  # pylint: disable=import-outside-toplevel

    x, y = test[0][:args.rate_n_test], test[1][:args.rate_n_test]
    n_ref = min(args.n_reference, len(x))
    clf = build_classifier(config, params, method="sequential")
    log(f"rate model on nengo, one image after another: {n_ref} images")
    start = time.perf_counter()
    reference = predict(clf, x[:n_ref], backend="nengo")
    wall = time.perf_counter() - start
    out = {"n_test": int(len(x)), "steps_per_image": int(x.shape[1]),
           "one_at_a_time": {"n": n_ref, "wall_s": wall, "s_per_image": wall / n_ref,
                             "accuracy": float(np.mean(reference.argmax(1) == y[:n_ref]))},
           "batched": []}
    for batch_size in args.batch_size:
        log(f"rate model on nengo, batched: {len(x)} images, batch size {batch_size}")
        start = time.perf_counter()
        logits = predict_batched(clf, x, batch_size=batch_size)
        wall = time.perf_counter() - start
        error = float(np.max(np.abs(logits[:n_ref] - reference)))
        out["batched"].append({
            "batch_size": batch_size, "n": int(len(x)), "wall_s": wall,
            "s_per_image": wall / len(x),
            "speedup_over_one_at_a_time": out["one_at_a_time"]["s_per_image"]
            / (wall / len(x)),
            "accuracy": float(np.mean(logits.argmax(1) == y)),
            "max_abs_logit_difference": error,
            "identical_predictions": bool(np.array_equal(logits[:n_ref].argmax(1),
                                                         reference.argmax(1))),
            "allclose": bool(np.allclose(logits[:n_ref], reference, rtol=1e-7,
                                         atol=1e-9))})
    return out


def distributed(args, spec, net, x, batched):
    """``run_distributed`` on N worker processes for each ``--workers`` N, and
    on a local Ray cluster (``--ray``), against ``batched`` (`run_batched` at
    the largest batch size, which they must reproduce)."""
    from nengo_lmu.distributed import run_distributed  # pylint: disable=import-outside-toplevel

    batch_size = max(args.batch_size)
    runs = []

    def record(label, res, **extra):
        runs.append({"path": label, "n": int(len(x)), "batch_size": batch_size,
                     "workers": res.workers, "chunk_size": res.chunk_size,
                     "n_chunks": res.n_chunks, "retries": res.retries, "wall_s": res.wall_s,
                     "s_per_image": res.s_per_image,
                     "identical_to_batched": bool(
                         np.array_equal(res.predictions, batched.predictions)
                         and np.array_equal(res.counts, batched.counts)), **extra})

    for workers in args.workers:
        log(f"workers: {len(x)} images, batch size {batch_size}, {workers} worker process(es)")
        res = run_distributed(spec, x, batch_size=batch_size, workers=workers,
                              chunk_size=args.chunk_size, progress_bar=False, classifier=net)
        record(f"{workers} worker process{'es' * (workers > 1)}", res)
    if args.ray:
        import ray  # pylint: disable=import-outside-toplevel

        start = time.perf_counter()
        ray.init(num_cpus=args.ray_cpus, include_dashboard=False, log_to_driver=False)
        init_s = time.perf_counter() - start
        log(f"ray: a local cluster of {args.ray_cpus} CPUs started in {init_s:.1f} s; "
            f"{len(x)} images, batch size {batch_size}")
        try:
            res = run_distributed(spec, x, batch_size=batch_size, ray_address="auto",
                                  chunk_size=args.chunk_size, progress_bar=False,
                                  classifier=net)
        finally:
            ray.shutdown()
        record(f"Ray, local cluster of {args.ray_cpus} CPUs", res, ray_init_s=init_s,
               ray_version=ray.__version__)
    base = next((r["wall_s"] for r in runs if r["workers"] == 1 and "ray_init_s" not in r),
                None)
    for r in runs:
        r["speedup_over_one_worker"] = None if base is None else base / r["wall_s"]
    return {"cpus": len(os.sched_getaffinity(0)), "batch_size": batch_size, "runs": runs}


def format_result(result):
    back = result["back_to_back"]
    rows = [("back to back (SpikingLMUClassifier.run)", str(back["n"]),
             f"{back['s_per_image']:.4f}", "1.0"),
            ("alone (a simulator per image)", str(result["alone"]["n"]),
             f"{result['alone']['s_per_image']:.4f}",
             f"{back['s_per_image'] / result['alone']['s_per_image']:.2f}"),
            ("streams, batch size 1 (reset=False)", str(result["streams"]["n"]),
             f"{result['streams']['s_per_image']:.4f}",
             f"{back['s_per_image'] / result['streams']['s_per_image']:.1f}")]
    rows += [(f"batched, batch size {b['batch_size']}", str(b["n"]),
              f"{b['s_per_image']:.4f}", f"{b['speedup_over_back_to_back']:.1f}")
             for b in result["batched"]]
    same = result["streams"]["identical_to_back_to_back"]
    checks = [f"streams identical to back to back: {same}"]
    checks += [f"batch size {b['batch_size']}: identical to alone {b['identical_to_alone']}, "
               f"accuracy {100 * b['accuracy']:.2f} %, agreement with back to back "
               f"{100 * b['agreement_with_back_to_back']:.1f} %" for b in result["batched"]]
    spread = result.get("distributed")
    if spread:
        rows += [(f"{r['path']}, batch size {r['batch_size']}", str(r["n"]),
                  f"{r['s_per_image']:.4f}", f"{back['s_per_image'] / r['s_per_image']:.1f}")
                 for r in spread["runs"]]
        checks += [
            f"{r['path']}: {r['wall_s']:.1f} s wall for {r['n']} images in {r['n_chunks']} "
            f"chunk(s) of {r['chunk_size']}"
            + ("" if r["speedup_over_one_worker"] is None
               else f", {r['speedup_over_one_worker']:.2f}x one worker")
            + (f" (Ray's start {r['ray_init_s']:.1f} s not included)" if "ray_init_s" in r
               else "")
            + f"; identical to batched {r['identical_to_batched']}"
            for r in spread["runs"]]
        checks.append(f"{spread['cpus']} CPUs on this machine: N workers gain at most "
                      f"min(N, {spread['cpus']})x")
    rate = result.get("rate_nengo")
    if rate:
        one = rate["one_at_a_time"]
        rows += [("rate model on nengo, one at a time (predict)", str(one["n"]),
                  f"{one['s_per_image']:.4f}", "-")]
        rows += [(f"rate model on nengo, batch size {b['batch_size']} (predict_batched)",
                  str(b["n"]), f"{b['s_per_image']:.4f}",
                  f"{b['speedup_over_one_at_a_time']:.1f} (over one at a time)")
                 for b in rate["batched"]]
        checks += [f"rate model on nengo, batch size {b['batch_size']}: identical predictions "
                   f"to one at a time on {one['n']} images {b['identical_predictions']}, logits "
                   f"allclose {b['allclose']} (max difference "
                   f"{b['max_abs_logit_difference']:.1e}), accuracy "
                   f"{100 * b['accuracy']:.2f} % on {b['n']}" for b in rate["batched"]]
    head = (f"{result['model']}, memory {result['memory']}, {result['steps_per_image']} chip "
            f"steps per image; load average {result['load_average_at_start'][0]:.1f} at "
            f"start (a shared machine: timings vary)")
    return "\n".join([head, format_table(rows, header=("path", "images", "s / image",
                                                         "speed-up")), *checks])


def plot(result):
    from nengo_lmu.plots import pyplot  # pylint: disable=import-outside-toplevel

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    sizes = [b["batch_size"] for b in result["batched"]]
    ax.plot(sizes, [b["s_per_image"] for b in result["batched"]], "o-",
            label="batched (run_batched)")
    ax.axhline(result["back_to_back"]["s_per_image"], color="k", ls="--",
               label="back to back (run)")
    ax.axhline(result["alone"]["s_per_image"], color="C3", ls=":", label="alone")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("seconds per image")
    ax.set_title(f"Loihi emulator, memory {result['memory']}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, metavar="DIR", help="trained model directory")
    parser.add_argument("--memory", choices=("exact", "spiking"), default="exact")
    parser.add_argument("--n-test", type=int, default=1000, help="images of the batched runs")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[64])
    parser.add_argument("--n-reference", type=int, default=20,
                        help="images run back to back (SpikingLMUClassifier.run)")
    parser.add_argument("--n-check", type=int, default=3,
                        help="images run alone, which the batched runs must reproduce")
    parser.add_argument("--seed", type=int, default=0, help="tuning seed of the classifier")
    parser.add_argument("--out", default="results/benchmarks", metavar="DIR")
    parser.add_argument("--workers", type=int, nargs="+", default=[], metavar="N",
                        help="also time run_distributed on N worker processes for each N "
                        "(1: in this process), batch size the largest --batch-size")
    parser.add_argument("--ray", action="store_true",
                        help="also time run_distributed on a local Ray cluster (pip install "
                        "nengo-lmu[cluster])")
    parser.add_argument("--ray-cpus", type=int, default=2,
                        help="CPUs (workers) of the local Ray cluster (default: %(default)s)")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="images per chunk of the distributed runs (default: "
                        f"{DEFAULT_CHUNK_BATCHES} x the batch size)")
    parser.add_argument("--rate-n-test", type=int, default=0, metavar="N",
                        help="also time the rate model on nengo on N images, one at a time "
                        "(the first --n-reference) against batched (each --batch-size)")
    args = parser.parse_args(argv)
    if not os.path.exists(os.path.join(args.model, "params.npz")):
        parser.error(f"--model {args.model} holds no trained model (params.npz)")
    if min(args.n_test, args.n_reference, args.n_check, *args.batch_size) < 1:
        parser.error("--n-test, --n-reference, --n-check and --batch-size must be >= 1")
    if args.rate_n_test < 0:
        parser.error("--rate-n-test must be >= 0")
    if min(args.workers, default=1) < 1 or args.ray_cpus < 1 or (args.chunk_size or 1) < 1:
        parser.error("--workers, --ray-cpus and --chunk-size must be >= 1")
    if args.ray:
        try:
            import ray  # pylint: disable=import-outside-toplevel,unused-import
        except ImportError:
            parser.error("--ray needs Ray: pip install nengo-lmu[cluster]")
    result = run(args)
    write_report(args.out, f"batched_loihi_{args.memory}", result, fig=plot(result),
                 table=format_result(result))
    ok = (result["streams"]["identical_to_back_to_back"]
          and all(b["identical_to_alone"] for b in result["batched"])
          and all(r["identical_to_batched"]
                  for r in result.get("distributed", {}).get("runs", []))
          and all(b["identical_predictions"] and b["allclose"]
                  for b in result.get("rate_nengo", {}).get("batched", [])))
    if not ok:
        print("FAILED: the batched runs differ from the reference", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
