"""Benchmark: Mackey-Glass prediction, LMU (NengoDL) vs LSTM, full size.

The LMU paper's task (section 4.3; see ``docs/mackey_glass.md`` for what is
followed and where it deviates): 128 Mackey-Glass series (tau = 17) of
5,000 samples, a quarter of them for testing, predicted 15 steps ahead by

* ``lmu``: one `nengo_lmu.LMU` cell (order 16, theta 50 steps, 950 ReLU
  units, the current input into the hidden layer) and a linear readout,
  18,052 parameters, trained with NengoDL by the parallel path;
* ``lstm``: 4 stacked Keras LSTMs of 25 units and a dense readout, 18,026
  parameters;

both for the same number of epochs on the same windows. Prints a table
(system, parameters, test NRMSE, training wall time, and the persistence
baseline), then checks that the trained LMU run as a *temporal* network in
``nengo.Simulator`` (memory simulated step by step) reproduces the parallel
predictions over the first test window
(`nengo_lmu.tasks.mackey_glass.temporal_check`), and writes ``OUT/mackey_glass.json``
(with ``temporal_check``), ``OUT/mackey_glass.png`` and
``OUT/lmu_params.npz``.

    python benchmarks/mackey_glass.py [--epochs 10] [--systems lmu lstm]
        [--out results/benchmarks] [--seed 0] [--quick]

The full run took 4 min 14 s on two shared CPU cores (LMU 52 s and LSTM
172 s of training). ``--quick`` uses `nengo_lmu.tasks.mackey_glass.SMALL` (16
series of 1,000 samples, a 200-unit LMU, 3 epochs) to check the script in
well under a minute.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from nengo_lmu.tasks import mackey_glass as mg  # noqa: E402
from nengo_lmu.tasks.reporting import machine, now  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=mg.DEFAULTS["epochs"])
    parser.add_argument("--systems", nargs="+", choices=mg.SYSTEMS, default=list(mg.SYSTEMS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/benchmarks")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (nengo_lmu.tasks.mackey_glass.SMALL), to check the "
                             "script")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    settings = dict(mg.SMALL) if args.quick else {}
    if not args.quick or args.epochs != mg.DEFAULTS["epochs"]:
        settings["epochs"] = args.epochs
    settings["seed"] = args.seed
    result = mg.run_mackey_glass(systems=args.systems,
                                 verbose=0 if args.no_progress else 1, **settings)
    print()
    print(mg.format_table(result))
    extra = {}
    if "lmu" in result["systems"]:
        print("\nchecking the temporal LMU network in nengo.Simulator on the first test "
              "window ...", flush=True)
        check = mg.temporal_check(result)
        print(f"  {check['n_steps']} steps: max |temporal - parallel| = "
              f"{check['max_abs_diff']:.1e}; NRMSE on this window {check['nrmse_temporal']:.4f} "
              f"(temporal) vs {check['nrmse_parallel']:.4f} (parallel), "
              f"{check['wall_s']:.1f} s")
        extra["temporal_check"] = check
    extra.update(quick=bool(args.quick), measured=now(), machine=machine())
    mg.save_result(result, args.out, extra=extra)
    print(f"wrote {args.out}/mackey_glass.json, mackey_glass.png and lmu_params.npz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
