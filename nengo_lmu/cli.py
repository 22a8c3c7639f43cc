"""The ``nengo-lmu`` command line.

    nengo-lmu delay [--order 6] [--theta 1.0] [--freq 1.0] [--neurons 100]
                    [--backend nengo|dl|loihi] [--sim-time 20] [--seed 0]
                    [--out DIR]
    nengo-lmu demo  [--out DIR]
"""

import argparse
import os
import sys
import time


def _number(kind, name, minimum=None, exclusive=False):
    """An argparse type that parses ``kind`` and checks ``value >(=) minimum``."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if minimum is not None and (value <= minimum if exclusive else value < minimum):
            raise argparse.ArgumentTypeError(
                f"{name} must be {'>' if exclusive else '>='} {minimum}, got {text!r}"
            )
        return value

    return parse


def _add_delay_args(parser):
    parser.add_argument(
        "--order", type=_number(int, "--order", 1), default=6,
        help="Legendre order of the memory (default: %(default)s)",
    )
    parser.add_argument(
        "--theta", type=_number(float, "--theta", 0, exclusive=True), default=1.0,
        help="window length in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--freq", type=_number(float, "--freq", 0, exclusive=True), default=1.0,
        help="cut-off of the white-noise input in Hz (default: %(default)s)",
    )
    parser.add_argument(
        "--rms", type=_number(float, "--rms", 0, exclusive=True), default=0.3,
        help="RMS of the white-noise input (default: %(default)s)",
    )
    parser.add_argument(
        "--neurons", type=_number(int, "--neurons", 0), default=100,
        help="neurons per dimension; 0 runs the exact linear system "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--synapse", type=_number(float, "--synapse", 0, exclusive=True), default=0.1,
        help="principle-3 lowpass time constant tau in s (default: %(default)s)",
    )
    parser.add_argument(
        "--sim-time", type=_number(float, "--sim-time", 0, exclusive=True), default=20.0,
        help="simulated seconds, must exceed --theta (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=_number(int, "--seed", 0), default=0,
        help="seed of the network and the input (default: %(default)s)",
    )
    parser.add_argument(
        "--dt", type=_number(float, "--dt", 0, exclusive=True), default=0.001,
        help="simulator time step in s (default: %(default)s)",
    )


def _check_delay_args(parser, args):
    if args.sim_time <= args.theta:
        parser.error(
            f"argument --sim-time: must exceed --theta ({args.theta}), got {args.sim_time}"
        )
    if args.dt >= args.synapse and args.neurons:
        parser.error(f"argument --dt: must be smaller than --synapse ({args.synapse})")


def format_delay_table(results):
    """A text table of NRMSE per ``r``, one row per result of `run_delay`."""
    r = results[0]["r"]
    head = f"{'system':<34}" + "".join(f"{'r=' + format(x, 'g'):>8}" for x in r)
    head += f"{'wall s':>9}"
    lines = [head, "-" * len(head)]
    for res in results:
        name = res.get("name") or (
            f"{res['backend']}, "
            + (f"{res['n_neurons_total']} neurons" if res["n_neurons_total"] else "exact")
        )
        row = f"{name:<34}" + "".join(f"{res['nrmse'][str(float(x))]:>8.3f}" for x in r)
        lines.append(row + f"{res['wall_s']:>9.1f}")
    return "\n".join(lines)


def _delay_json(res):
    keys = ("nrmse", "backend", "n_neurons_total", "wall_s", "sim_time", "order",
            "theta", "freq", "rms", "seed", "state")
    return {k: res[k] for k in keys if k in res}


def cmd_delay(args, parser):
    _check_delay_args(parser, args)
    from nengo_lmu.delay import run_delay  # pylint: disable=import-outside-toplevel
    from nengo_lmu.io import save_figure, write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.plots import plot_delay  # pylint: disable=import-outside-toplevel

    res = run_delay(
        order=args.order, theta=args.theta, freq=args.freq, rms=args.rms,
        n_neurons=args.neurons, backend=args.backend, sim_time=args.sim_time,
        seed=args.seed, dt=args.dt, synapse=args.synapse,
        progress_bar=not args.no_progress,
    )
    print(format_delay_table([res]))
    write_json(os.path.join(args.out, "delay.json"), _delay_json(res))
    save_figure(plot_delay(res), os.path.join(args.out, "delay.png"), dpi=110)
    print(f"wrote {os.path.join(args.out, 'delay.json')} and delay.png")
    return 0


def cmd_demo(args, parser):  # pylint: disable=unused-argument
    from nengo_lmu.delay import run_delay  # pylint: disable=import-outside-toplevel
    from nengo_lmu.io import save_figure, write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.plots import plot_delay  # pylint: disable=import-outside-toplevel

    start = time.perf_counter()
    print(
        f"Delay network (order 6, theta 1 s, 1 Hz white noise, rms 0.3, "
        f"{args.sim_time:g} s simulated): exact system vs 100 spiking neurons "
        "per dimension on nengo and on the Loihi emulator\n"
    )
    runs = [("exact linear system", dict(n_neurons=0, backend="nengo")),
            ("spiking, nengo", dict(n_neurons=100, backend="nengo")),
            ("spiking, Loihi emulator", dict(n_neurons=100, backend="loihi"))]
    results = []
    for name, kw in runs:
        print(f"-> {name}", flush=True)
        res = run_delay(sim_time=args.sim_time, seed=args.seed,
                        progress_bar=not args.no_progress, **kw)
        res["name"] = name
        results.append(res)
    print()
    print(format_delay_table(results))
    summary = {"delay": {res["name"]: _delay_json(res) for res in results}}
    if args.psmnist_epochs:
        summary["psmnist"] = _demo_psmnist(args)
    summary["wall_s"] = time.perf_counter() - start
    write_json(os.path.join(args.out, "demo.json"), summary)
    save_figure(plot_delay(results), os.path.join(args.out, "delay.png"), dpi=110)
    print(f"\nwrote {args.out}/demo.json and {args.out}/delay.png "
          f"({time.perf_counter() - start:.0f} s)")
    return 0


RECURRENT_FLAGS = ("hidden_to_memory", "memory_to_memory", "input_to_hidden",
                   "hidden_recurrent")


def cmd_psmnist_train(args, parser):
    parallel_ok = not (args.hidden_to_memory or args.memory_to_memory or args.hidden_recurrent)
    if args.method == "parallel" and not parallel_ok:
        parser.error("--hidden-to-memory, --memory-to-memory and --hidden-recurrent "
                     "need --method sequential (the parallel path needs an LTI memory)")
    from nengo_lmu.psmnist import train_psmnist  # pylint: disable=import-outside-toplevel

    history = train_psmnist(
        args.out, epochs=args.epochs, method=args.method, units=args.units,
        order=args.order, permutation_seed=args.permutation_seed,
        neuron_type=args.neuron_type, batch_size=args.batch_size,
        learning_rate="auto" if args.learning_rate is None else args.learning_rate,
        weight_decay=args.weight_decay,
        n_train=args.n_train,
        verbose=0 if args.no_progress else 1,
        **{flag: True for flag in RECURRENT_FLAGS if getattr(args, flag)},
    )
    best = history["best"]
    print(f"best validation accuracy {best['val_accuracy'] * 100:.2f} % (epoch {best['epoch']}); "
          f"{history['wall_s']:.0f} s this run; model in {args.out}")
    return 0


def cmd_psmnist_evaluate(args, parser):
    from nengo_lmu.io import write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.psmnist import evaluate_psmnist  # pylint: disable=import-outside-toplevel

    result = evaluate_psmnist(args.model, backend=args.backend, n_test=args.n_test)
    print(f"test accuracy {result['accuracy'] * 100:.2f} % on {result['n_test']} images "
          f"({result['backend']}, {result['wall_s']:.0f} s)")
    if args.json:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


def _demo_psmnist(args):
    from nengo_lmu.psmnist import (  # pylint: disable=import-outside-toplevel
        evaluate_psmnist,
        train_psmnist,
    )

    model_dir = os.path.join(args.out, "psmnist")
    print(f"\npsMNIST: an LMU (346 ReLU units, order 256) trained with NengoDL by the "
          f"parallel path for {args.psmnist_epochs} epochs on the offline MNIST "
          f"(resumes from {model_dir})", flush=True)
    history = train_psmnist(model_dir, epochs=args.psmnist_epochs,
                            verbose=0 if args.no_progress else 1)
    full = evaluate_psmnist(model_dir, network="closed-form")
    temporal = evaluate_psmnist(model_dir, n_test=args.psmnist_n_temporal)
    print(f"\npsMNIST ({full['n_trainable']:,} trainable parameters, "
          f"{history['wall_s']:.0f} s of training)")
    print(f"  validation accuracy (best epoch)            "
          f"{history['best']['val_accuracy'] * 100:6.2f} %")
    print(f"  test accuracy, {full['n_test']} images, closed-form network  "
          f"{full['accuracy'] * 100:6.2f} %")
    print(f"  test accuracy, {temporal['n_test']} images, temporal network     "
          f"{temporal['accuracy'] * 100:6.2f} %  ({temporal['wall_s']:.0f} s in NengoDL)")
    return {"history": history, "test_closed_form": full, "test_temporal": temporal}


def build_parser():
    from nengo_lmu.backends import BACKENDS  # pylint: disable=import-outside-toplevel

    parser = argparse.ArgumentParser(
        prog="nengo-lmu",
        description="Legendre Memory Units as Nengo networks: NengoDL and Loihi.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    delay = sub.add_parser(
        "delay", help="run the Legendre delay network and score its memory",
        description="Drive a LegendreMemory with white noise, decode the window at "
        "r = 0, .25, .5, .75, 1 and print the NRMSE of each delay.",
    )
    _add_delay_args(delay)
    delay.add_argument("--backend", choices=BACKENDS, default="nengo",
                       help="simulator (default: %(default)s)")
    delay.add_argument("--out", default="results/delay", metavar="DIR",
                       help="where delay.json and delay.png go (default: %(default)s)")
    delay.add_argument("--no-progress", action="store_true", help="no progress bars")
    delay.set_defaults(func=cmd_delay)

    demo = sub.add_parser(
        "demo", help="the main job: the delay network on nengo and Loihi, a psMNIST LMU",
        description="Run the paper's Loihi delay network (order 6, 100 spiking "
        "neurons per dimension) on nengo and on the Loihi emulator against the "
        "exact system and print the NRMSE table; then train a psMNIST LMU with "
        "NengoDL (parallel path) and print its test accuracy. Offline; a few minutes.",
    )
    demo.add_argument("--out", default="results/demo", metavar="DIR",
                      help="where demo.json and the plots go (default: %(default)s)")
    demo.add_argument("--sim-time", type=_number(float, "--sim-time", 1, exclusive=True),
                      default=20.0, help="simulated seconds (default: %(default)s)")
    demo.add_argument("--seed", type=_number(int, "--seed", 0), default=0,
                      help="network and input seed (default: %(default)s)")
    demo.add_argument("--psmnist-epochs", type=_number(int, "--psmnist-epochs", 0),
                      default=5, help="epochs of the psMNIST part; 0 skips it "
                      "(default: %(default)s)")
    demo.add_argument("--psmnist-n-temporal", type=_number(int, "--psmnist-n-temporal", 1),
                      default=500, help="test images run through the temporal "
                      "network (default: %(default)s)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")
    demo.set_defaults(func=cmd_demo)

    from nengo_lmu.psmnist import DEFAULTS  # pylint: disable=import-outside-toplevel
    from nengo_lmu.training import METHODS, NEURON_TYPES  # pylint: disable=import-outside-toplevel

    psmnist = sub.add_parser("psmnist", help="permuted sequential MNIST: train, evaluate")
    ps_sub = psmnist.add_subparsers(dest="psmnist_command", metavar="COMMAND", required=True)
    tr = ps_sub.add_parser(
        "train", help="train an LMU with NengoDL (resumes from DIR's checkpoint)",
        description="Train a psMNIST LMU classifier with NengoDL. A checkpoint is "
        "written after every epoch; rerunning the same command resumes.",
    )
    tr.add_argument("--out", required=True, metavar="DIR", help="model directory")
    tr.add_argument("--epochs", type=_number(int, "--epochs", 1), default=DEFAULTS["epochs"],
                    help="epochs in total (default: %(default)s)")
    tr.add_argument("--method", choices=METHODS, default=DEFAULTS["method"],
                    help="parallel (closed-form memory) or sequential (BPTT) "
                    "(default: %(default)s)")
    tr.add_argument("--units", type=_number(int, "--units", 1), default=DEFAULTS["units"],
                    help="hidden units (default: %(default)s)")
    tr.add_argument("--order", type=_number(int, "--order", 1), default=DEFAULTS["order"],
                    help="memory order (default: %(default)s)")
    tr.add_argument("--permutation-seed", type=_number(int, "--permutation-seed", 0),
                    default=DEFAULTS["permutation_seed"],
                    help="seed of the pixel permutation (default: %(default)s)")
    tr.add_argument("--neuron-type", choices=sorted(NEURON_TYPES),
                    default=DEFAULTS["neuron_type"],
                    help="hidden neuron type (default: %(default)s)")
    tr.add_argument("--batch-size", type=_number(int, "--batch-size", 1),
                    default=DEFAULTS["batch_size"], help="minibatch size (default: %(default)s)")
    tr.add_argument("--learning-rate", type=_number(float, "--learning-rate", 0, exclusive=True),
                    default=None,
                    help="initial learning rate, cosine-decayed (default: 2e-3 for "
                    "parallel, 1e-4 for sequential)")
    tr.add_argument("--weight-decay", type=_number(float, "--weight-decay", 0),
                    default=DEFAULTS["weight_decay"],
                    help="AdamW weight decay, 0 for plain Adam (default: %(default)s)")
    tr.add_argument("--n-train", type=_number(int, "--n-train", 1), default=None,
                    help="use only the first N training images (default: all 50,000)")
    for flag in RECURRENT_FLAGS:
        tr.add_argument(f"--{flag.replace('_', '-')}", action="store_true",
                        help=f"LMU option {flag} (needs --method sequential)")
    tr.add_argument("--no-progress", action="store_true", help="no progress bars")
    tr.set_defaults(func=cmd_psmnist_train)

    ev = ps_sub.add_parser("evaluate", help="test accuracy of a trained model")
    ev.add_argument("--model", required=True, metavar="DIR", help="model directory")
    ev.add_argument("--backend", choices=("dl", "nengo"), default="dl",
                    help="simulator of the temporal network (default: %(default)s)")
    ev.add_argument("--n-test", type=_number(int, "--n-test", 1), default=None,
                    help="evaluate the first N test images (default: all 10,000)")
    ev.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    ev.set_defaults(func=cmd_psmnist_evaluate)
    return parser


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's INFO chatter
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args, parser)
    except (ValueError, FileNotFoundError) as e:
        parser.exit(2, f"{parser.prog} {args.command}: error: {e}\n")


if __name__ == "__main__":
    sys.exit(main())
