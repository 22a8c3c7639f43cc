"""``nengo-lmu online-learning``, ``capacity`` and ``mackey-glass``: the paper's
other experiments.

The task functions (`nengo_lmu.tasks.capacity.run_capacity`,
`nengo_lmu.tasks.mackey_glass.run_mackey_glass`) validate all their
settings before any work, so these commands leave the checks to them; a
`ValueError` exits with status 2 (`nengo_lmu.cli.main`).
"""

import os

from nengo_lmu.cli.common import (
    add_no_progress,
    add_out,
    add_seed,
    check_out,
    number,
    progress_verbose,
)

# --- online-learning ---------------------------------------------------------


def cmd_online_learning(args, parser):  # pylint: disable=unused-argument
    check_out(args)
    from nengo_lmu.io import save_figure, write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.learning import (  # pylint: disable=import-outside-toplevel
        DEFAULTS,
        check_online_learning,
        learning_summary,
        online_learning,
        plot_online_learning,
    )

    params = dict(order=args.order, theta=args.theta, r=args.r, freq=args.freq,
                  rms=args.rms, n_neurons=args.neurons, learning_rate=args.learning_rate,
                  sim_time=args.sim_time, test_fraction=args.test_fraction, seed=args.seed)
    for backend in args.backend:  # every backend checked before the first run
        check_online_learning(backend=backend, **dict(DEFAULTS, **params))
    results = []
    for backend in args.backend:
        print(f"-> {backend}", flush=True)
        results.append(online_learning(backend, progress_bar=not args.no_progress, **params))
    print("\nerror of the learned readout (RMSE, lowpassed 0.05 s), first and last 20 %")
    for res in results:
        print(f"{res['backend']:>6} ({res['target_name']}): first {res['rmse_first']:.4f}, "
              f"last {res['rmse_last']:.4f}, ratio {res['ratio']:.3f} "
              f"(NRMSE {res['nrmse_first']:.3f} -> {res['nrmse_last']:.3f}, "
              f"{res['wall_s']:.0f} s)")
    write_json(os.path.join(args.out, "online_learning.json"),
               {"results": {res["backend"]: learning_summary(res) for res in results}})
    save_figure(plot_online_learning(results), os.path.join(args.out, "online_learning.png"),
                dpi=110)
    print(f"wrote {os.path.join(args.out, 'online_learning.json')} and online_learning.png")
    return 0


def _add_online_learning(subparsers):
    from nengo_lmu.tasks.learning import (  # pylint: disable=import-outside-toplevel
        DEFAULTS as LEARNING,
        LEARNING_BACKENDS,
        MAX_RMS,
    )

    ol = subparsers.add_parser(
        "online-learning", help="a spiking LMU memory whose readout learns online with PES",
        description="Drive a spiking LegendreMemory with white noise; the readout, "
        "starting at zero, learns with PES to output u(t - r theta). Learning starts "
        "after a warm-up of theta and is off for the last --test-fraction. Prints the "
        "RMSE in the first and last 20 % of the run and their ratio; writes "
        "DIR/online_learning.json and DIR/online_learning.png.",
    )
    ol.add_argument("--backend", choices=LEARNING_BACKENDS, nargs="+", default=["nengo"],
                    help="simulator(s) (default: %(default)s)")
    ol.add_argument("--order", type=number(int, "--order", 1), default=LEARNING["order"],
                    help="Legendre order of the memory (default: %(default)s)")
    ol.add_argument("--theta", type=number(float, "--theta", 0, exclusive=True),
                    default=LEARNING["theta"], help="window in s (default: %(default)s)")
    ol.add_argument("--r", type=number(float, "--r", 0), default=LEARNING["r"],
                    help="relative delay of the target u(t - r theta), in [0, 1] "
                    "(default: %(default)s)")
    ol.add_argument("--freq", type=number(float, "--freq", 0, exclusive=True),
                    default=LEARNING["freq"],
                    help="cut-off of the white-noise input in Hz (default: %(default)s)")
    ol.add_argument("--rms", type=number(float, "--rms", 0, exclusive=True, maximum=MAX_RMS),
                    default=LEARNING["rms"], help="RMS of the input (default: %(default)s)")
    ol.add_argument("--neurons", type=number(int, "--neurons", 1),
                    default=LEARNING["n_neurons"],
                    help="neurons per state variable (default: %(default)s)")
    ol.add_argument("--learning-rate", type=number(float, "--learning-rate", 0, exclusive=True),
                    default=LEARNING["learning_rate"],
                    help="PES learning rate (default: %(default)s)")
    ol.add_argument("--sim-time", type=number(float, "--sim-time", 0, exclusive=True),
                    default=LEARNING["sim_time"],
                    help="simulated seconds, warm-up included (default: %(default)s)")
    ol.add_argument("--test-fraction", type=number(float, "--test-fraction", 0),
                    default=LEARNING["test_fraction"],
                    help="last fraction of the run with learning off (default: %(default)s)")
    add_seed(ol, "seed of the input and the network", default=LEARNING["seed"])
    add_out(ol, "where online_learning.json and .png go", default="results/online_learning")
    add_no_progress(ol)
    ol.set_defaults(func=cmd_online_learning)


# --- capacity ----------------------------------------------------------------


def cmd_capacity(args, parser):  # pylint: disable=unused-argument
    check_out(args)
    from nengo_lmu.tasks import capacity  # pylint: disable=import-outside-toplevel

    # run_capacity validates every setting (check_settings) before any work
    result = capacity.run_capacity(
        T=args.T, systems=args.systems, lstm_T=args.lstm_T, order=args.order,
        n_train=args.n_train, n_test=args.n_test, readout=args.readout,
        lstm_epochs=args.lstm_epochs, lstm_batch_size=args.lstm_batch_size,
        lstm_time_budget=args.lstm_time_budget, seed=args.seed,
        verbose=progress_verbose(args),
    )
    capacity.save_result(result, args.out)
    return 0


def _add_capacity(subparsers):
    from nengo_lmu.tasks.capacity import (  # pylint: disable=import-outside-toplevel
        DEFAULTS as CAPACITY,
        READOUTS,
        SYSTEMS,
    )

    cap = subparsers.add_parser(
        "capacity", help="memory capacity: LMU-0, fitted LMU and LSTM on delayed white noise",
        description="The LMU paper's memory-capacity task: 10 Hz white noise, a 1 s "
        "window sampled with T steps, sequences of 2.5 T steps; outputs are the input "
        "delayed by 5 delays in [0, T] steps. Prints the test MSE per delay (steps "
        "after T) and the ratio LSTM MSE at T = 100 / LMU-0 MSE at the largest T; "
        "writes DIR/capacity.json and DIR/capacity.png.",
    )
    cap.add_argument("--T", type=number(int, "--T", 4), nargs="+", default=list(CAPACITY["T"]),
                     help="window lengths in steps for lmu0 and lmu (default: %(default)s)")
    cap.add_argument("--lstm-T", type=number(int, "--lstm-T", 4), nargs="+",
                     default=list(CAPACITY["lstm_T"]),
                     help="window lengths in steps for lstm (default: %(default)s)")
    cap.add_argument("--systems", choices=SYSTEMS, nargs="+", default=list(SYSTEMS),
                     help="systems to run (default: %(default)s)")
    add_out(cap, "where capacity.json and capacity.png go", default="results/capacity")
    cap.add_argument("--order", type=number(int, "--order", 1), default=CAPACITY["order"],
                     help="LMU memory order (default: %(default)s)")
    cap.add_argument("--readout", choices=READOUTS, default=CAPACITY["readout"],
                     help="midpoint: theta = T + 1 steps, r = (d + 1/2) / (T + 1); edge: "
                     "theta = T, r = d / T (half-step error) (default: %(default)s)")
    cap.add_argument("--lstm-epochs", type=number(int, "--lstm-epochs", 1),
                     default=CAPACITY["lstm_epochs"],
                     help="LSTM training epochs (default: %(default)s)")
    cap.add_argument("--lstm-batch-size", type=number(int, "--lstm-batch-size", 1),
                     default=CAPACITY["lstm_batch_size"],
                     help="LSTM minibatch size (default: %(default)s)")
    cap.add_argument("--lstm-time-budget",
                     type=number(float, "--lstm-time-budget", 0, exclusive=True),
                     default=None, metavar="SECONDS",
                     help="stop each LSTM training after this many seconds (default: none)")
    cap.add_argument("--n-train", type=number(int, "--n-train", 1),
                     default=CAPACITY["n_train"],
                     help="training sequences per T (default: %(default)s)")
    cap.add_argument("--n-test", type=number(int, "--n-test", 1), default=CAPACITY["n_test"],
                     help="test sequences per T (default: %(default)s)")
    add_seed(cap, "seed of the data and the LSTM")
    add_no_progress(cap, "no progress output")
    cap.set_defaults(func=cmd_capacity)


# --- mackey-glass ------------------------------------------------------------


def cmd_mackey_glass(args, parser):  # pylint: disable=unused-argument
    check_out(args)
    from nengo_lmu.tasks import mackey_glass  # pylint: disable=import-outside-toplevel

    # run_mackey_glass validates every setting (check_settings) before any work
    result = mackey_glass.run_mackey_glass(
        systems=args.systems, n_series=args.n_series, n_steps=args.n_steps,
        window=args.window, warmup=args.warmup, units=args.units, order=args.order,
        theta=args.theta, lstm_layers=args.lstm_layers, lstm_units=args.lstm_units or "auto",
        epochs=args.epochs, batch_size=args.batch_size, lstm_batch_size=args.lstm_batch_size,
        learning_rate=args.learning_rate, seed=args.seed, verbose=progress_verbose(args),
    )
    print()
    print(mackey_glass.format_table(result))
    mackey_glass.save_result(result, args.out)
    print(f"wrote {os.path.join(args.out, 'mackey_glass.json')} and mackey_glass.png")
    return 0


def _add_mackey_glass(subparsers):
    from nengo_lmu.tasks.mackey_glass import (  # pylint: disable=import-outside-toplevel
        DEFAULTS as MG,
        SYSTEMS as MG_SYSTEMS,
    )

    mg = subparsers.add_parser(
        "mackey-glass", help="Mackey-Glass prediction: LMU (NengoDL) vs LSTM",
        description="The LMU paper's Mackey-Glass task: predict the chaotic series "
        "(tau = 17) 15 steps ahead with an LMU trained by NengoDL (parallel path) and "
        "a 4-layer LSTM of about the same parameter count. Prints the test NRMSE and "
        "parameters of each; writes DIR/mackey_glass.json, DIR/mackey_glass.png and "
        "the LMU's weights DIR/lmu_params.npz. The defaults are the full size (128 "
        "series of 5,000 samples); see --n-series, --n-steps for a small run.",
    )
    add_out(mg, "where the JSON, plot and weights go", default="results/mackey-glass")
    mg.add_argument("--systems", choices=MG_SYSTEMS, nargs="+", default=list(MG_SYSTEMS),
                    help="systems to train (default: %(default)s)")
    mg.add_argument("--epochs", type=number(int, "--epochs", 1), default=MG["epochs"],
                    help="training epochs of every system (default: %(default)s)")
    mg.add_argument("--n-series", type=number(int, "--n-series", 2), default=MG["n_series"],
                    help="series generated, a quarter for testing (default: %(default)s)")
    mg.add_argument("--n-steps", type=number(int, "--n-steps", 1), default=MG["n_steps"],
                    help="samples per series (default: %(default)s)")
    mg.add_argument("--window", type=number(int, "--window", 2), default=MG["window"],
                    help="samples per training/test window (default: %(default)s)")
    mg.add_argument("--warmup", type=number(int, "--warmup", 0), default=MG["warmup"],
                    help="unscored first steps of each window (default: %(default)s)")
    mg.add_argument("--units", type=number(int, "--units", 1), default=MG["units"],
                    help="LMU hidden units (default: %(default)s)")
    mg.add_argument("--order", type=number(int, "--order", 1), default=MG["order"],
                    help="LMU memory order (default: %(default)s)")
    mg.add_argument("--theta", type=number(float, "--theta", 0, exclusive=True),
                    default=MG["theta"], help="LMU memory window in steps (default: %(default)s)")
    mg.add_argument("--lstm-layers", type=number(int, "--lstm-layers", 1),
                    default=MG["lstm_layers"], help="stacked LSTM layers (default: %(default)s)")
    mg.add_argument("--lstm-units", type=number(int, "--lstm-units", 1), default=None,
                    help="units per LSTM layer (default: as many as match the LMU's "
                    "parameter count)")
    mg.add_argument("--batch-size", type=number(int, "--batch-size", 1),
                    default=MG["batch_size"],
                    help="LMU minibatch (time steps) (default: %(default)s)")
    mg.add_argument("--lstm-batch-size", type=number(int, "--lstm-batch-size", 1),
                    default=MG["lstm_batch_size"],
                    help="LSTM minibatch (windows) (default: %(default)s)")
    mg.add_argument("--learning-rate", type=number(float, "--learning-rate", 0, exclusive=True),
                    default=MG["learning_rate"],
                    help="Adam's initial learning rate, cosine-decayed (default: %(default)s)")
    add_seed(mg, "seed of the data and the models", default=MG["seed"])
    add_no_progress(mg)
    mg.set_defaults(func=cmd_mackey_glass)


def add_parser(subparsers):
    """Register ``online-learning``, ``capacity`` and ``mackey-glass``."""
    _add_online_learning(subparsers)
    _add_capacity(subparsers)
    _add_mackey_glass(subparsers)
