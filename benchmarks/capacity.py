"""Benchmark: the LMU paper's memory-capacity task at full size.

LMU-0 (order 100, analytic Legendre readout) and the fitted LMU for
T = 100, 1,000, 10,000, 100,000 steps per 1 s window; the LSTM (100 units +
Dense(5), Adam) for T = 25, 100, 400 with 500 epochs (or a time budget per
T). Prints the MSE table and the ratio LSTM at T = 100 / LMU-0 at
T = 100,000 (the paper's "10^6 x lower error on a 10^3 x longer delay"),
and writes ``OUT/capacity.json`` and ``OUT/capacity.png``.

    python benchmarks/capacity.py [--out results/benchmarks] [--lstm-epochs 500]
                                  [--lstm-time-budget 1800] [--quick]

``--quick`` is a smoke test (T up to 1,000, 2 LSTM epochs, few sequences).
"""

import argparse
import sys

from nengo_lmu.tasks import capacity


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/benchmarks")
    parser.add_argument("--T", type=int, nargs="+", default=list(capacity.DEFAULTS["T"]))
    parser.add_argument("--lstm-T", type=int, nargs="+",
                        default=list(capacity.DEFAULTS["lstm_T"]))
    parser.add_argument("--systems", nargs="+", choices=capacity.SYSTEMS,
                        default=list(capacity.SYSTEMS))
    parser.add_argument("--lstm-epochs", type=int, default=500)
    parser.add_argument("--lstm-time-budget", type=float, default=None,
                        help="seconds per LSTM training (default: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: T 100 1000, LSTM T 25 100, 2 epochs")
    args = parser.parse_args(argv)
    settings = dict(lstm_epochs=args.lstm_epochs, lstm_time_budget=args.lstm_time_budget,
                    seed=args.seed)
    T, lstm_T = args.T, args.lstm_T
    if args.quick:
        T, lstm_T = [100, 1000], [25, 100]
        settings.update(lstm_epochs=2, n_train=4, n_test=2)
    result = capacity.run_capacity(T=T, systems=args.systems, lstm_T=lstm_T, **settings)
    capacity.save_result(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
