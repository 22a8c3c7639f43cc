"""The ``nengo-lmu`` command line.

    nengo-lmu delay [--order 6] [--theta 1.0] [--freq 1.0] [--neurons 100]
                    [--backend nengo|dl|loihi] [--sim-time 20] [--seed 0]
                    [--out DIR]
    nengo-lmu demo  [--out DIR]
    nengo-lmu psmnist train --out DIR [--epochs 30] [--method parallel|sequential] ...
    nengo-lmu psmnist finetune --model DIR --out DIR [--memory-neurons 30] [--seed 0] ...
    nengo-lmu psmnist evaluate --model DIR [--backend dl|nengo|loihi] [--n-test N]
                               [--memory exact|spiking] [--json PATH]
    nengo-lmu loihi-report (--model DIR | --delay) [--json PATH]
    nengo-lmu online-learning [--backend nengo loihi] [--sim-time 10.5] [--out DIR]
    nengo-lmu capacity [--T 100 ... 100000] [--systems lmu0 lmu lstm] [--out DIR]
    nengo-lmu mackey-glass [--systems lmu lstm] [--out DIR]

Every command validates its arguments before it simulates or trains and
exits with status 2 and a one-line message on bad input.
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


def cmd_capacity(args, parser):  # pylint: disable=unused-argument
    from nengo_lmu import capacity  # pylint: disable=import-outside-toplevel

    settings = dict(
        order=args.order, n_train=args.n_train, n_test=args.n_test, readout=args.readout,
        lstm_epochs=args.lstm_epochs, lstm_batch_size=args.lstm_batch_size,
        lstm_time_budget=args.lstm_time_budget, seed=args.seed,
    )
    capacity.check_settings(T=args.T, systems=args.systems, lstm_T=args.lstm_T, **settings)
    result = capacity.run_capacity(T=args.T, systems=args.systems, lstm_T=args.lstm_T,
                                   verbose=0 if args.no_progress else 1, **settings)
    capacity.save_result(result, args.out)
    return 0


def cmd_mackey_glass(args, parser):  # pylint: disable=unused-argument
    from nengo_lmu import mackey_glass  # pylint: disable=import-outside-toplevel

    settings = dict(
        n_series=args.n_series, n_steps=args.n_steps, window=args.window, warmup=args.warmup,
        units=args.units, order=args.order, theta=args.theta, lstm_layers=args.lstm_layers,
        lstm_units=args.lstm_units or "auto", epochs=args.epochs, batch_size=args.batch_size,
        lstm_batch_size=args.lstm_batch_size, learning_rate=args.learning_rate,
        seed=args.seed,
    )
    mackey_glass.check_settings(systems=args.systems, **settings)
    result = mackey_glass.run_mackey_glass(systems=args.systems,
                                           verbose=0 if args.no_progress else 1, **settings)
    print()
    print(mackey_glass.format_table(result))
    mackey_glass.save_result(result, args.out)
    print(f"wrote {os.path.join(args.out, 'mackey_glass.json')} and mackey_glass.png")
    return 0


def cmd_online_learning(args, parser):  # pylint: disable=unused-argument
    from nengo_lmu.io import save_figure, write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.learning import (  # pylint: disable=import-outside-toplevel
        DEFAULTS,
        check_online_learning,
        learning_summary,
        online_learning,
        plot_online_learning,
    )

    params = dict(order=args.order, theta=args.theta, r=args.r, freq=args.freq,
                  rms=args.rms, n_neurons=args.neurons, learning_rate=args.learning_rate,
                  sim_time=args.sim_time, test_fraction=args.test_fraction, seed=args.seed)
    for backend in args.backend:  # every check before the first run
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
        readout=args.readout, hold_steps=args.hold_steps, window=args.window,
        memory_noise=args.memory_noise, readout_draws=args.readout_draws,
        readout_loss=args.readout_loss,
        **{flag: True for flag in RECURRENT_FLAGS if getattr(args, flag)},
    )
    best = history["best"]
    print(f"best validation accuracy {best['val_accuracy'] * 100:.2f} % (epoch {best['epoch']}); "
          f"{history['wall_s']:.0f} s this run; model in {args.out}")
    return 0


def cmd_psmnist_finetune(args, parser):
    from nengo_lmu.psmnist import (  # pylint: disable=import-outside-toplevel
        FINETUNE,
        finetune_psmnist,
    )

    spiking = {k: getattr(args, k) for k in ("hold_steps", "window")
               if getattr(args, k) is not None}
    history = finetune_psmnist(
        args.model, args.out, progress_bar=not args.no_progress,
        verbose=0 if args.no_progress else 1,
        **{key: getattr(args, key) for key in FINETUNE}, **spiking,
    )
    best = history["best"]
    print(f"best validation accuracy on the simulated spiking memory "
          f"{best['val_accuracy'] * 100:.2f} % (epoch {best['epoch']}); "
          f"{history['simulate_s']:.0f} s simulating the memory, {history['wall_s']:.0f} s "
          f"in all; model in {args.out} (evaluate it with --backend loihi --memory spiking)")
    print(f"validation accuracy with the hidden neurons spiking as on chip (simulated): "
          f"{history['val_spiking_accuracy_before'] * 100:.2f} % before, "
          f"{history['val_spiking_accuracy'] * 100:.2f} % after fine-tuning")
    return 0


def cmd_psmnist_evaluate(args, parser):
    from nengo_lmu.io import write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.psmnist import evaluate_psmnist  # pylint: disable=import-outside-toplevel

    kwargs = {}
    if args.backend == "loihi":
        kwargs = dict(memory=args.memory or "exact", progress_bar=not args.no_progress,
                      **_spiking_settings(args))
    elif args.memory is not None or _spiking_settings(args):
        parser.error("--memory, --max-rate, --hold-steps, --window, --memory-neurons, "
                     "--memory-max-rate and --seed need --backend loihi")
    result = evaluate_psmnist(args.model, backend=args.backend, n_test=args.n_test, **kwargs)
    print(f"test accuracy {result['accuracy'] * 100:.2f} % on {result['n_test']} images "
          f"({result['backend']}, {result['wall_s']:.0f} s)")
    if args.backend == "loihi":
        print(f"rate model on the same images {result['rate_accuracy'] * 100:.2f} %; "
              f"memory {result['memory']}; {result['steps_per_image']} chip steps and "
              f"{result['s_per_image']:.2f} s per image on the emulator")
        if "rate_stream_accuracy" in result:
            print(f"rate model on the exact memory read as the chip reads it (back to back, "
                  f"window average) {result['rate_stream_accuracy'] * 100:.2f} %")
        if "base_rate_stream_accuracy" in result:
            print(f"the model before fine-tuning against the spiking memory, read the same "
                  f"way {result['base_rate_stream_accuracy'] * 100:.2f} %")
    if args.json:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


SPIKING_FLAGS = ("max_rate", "hold_steps", "window", "memory_neurons", "memory_max_rate",
                 "seed")


def _spiking_settings(args):
    return {k: getattr(args, k) for k in SPIKING_FLAGS if getattr(args, k) is not None}


def _add_spiking_args(parser):
    parser.add_argument("--memory", choices=("exact", "spiking"), default=None,
                        help="with --backend loihi: the memory exact off chip, or spiking "
                        "on chip (default: exact)")
    parser.add_argument("--max-rate", type=_number(float, "--max-rate", 0, exclusive=True),
                        default=None, help="99th-percentile hidden rate in Hz after "
                        "scaling (default: 250)")
    parser.add_argument("--hold-steps", type=_number(int, "--hold-steps", 1), default=None,
                        help="steps after each sequence that the readout waits (default: 40)")
    parser.add_argument("--window", type=_number(int, "--window", 1), default=None,
                        help="last steps of the hold whose spikes are averaged (default: 30)")
    parser.add_argument("--memory-neurons", type=_number(int, "--memory-neurons", 1),
                        default=None, help="neurons per memory dimension with --memory "
                        "spiking (default: 50)")
    parser.add_argument("--memory-max-rate",
                        type=_number(float, "--memory-max-rate", 0, exclusive=True),
                        default=None, help="highest rate in Hz of the spiking memory's "
                        "neurons, drawn from [0.8, 1] x this (default: 700)")
    parser.add_argument("--seed", type=_number(int, "--seed", 0), default=None,
                        help="seed of the spiking network's neuron "
                        "tuning (default: drawn anew)")


def cmd_loihi_report(args, parser):
    from nengo_lmu.io import write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.loihi import (  # pylint: disable=import-outside-toplevel
        format_quantization_report,
        format_resource_report,
    )

    if (args.model is None) == (not args.delay):
        parser.error("give either --model DIR or --delay")
    if args.delay:
        from nengo_lmu.delay import delay_report  # pylint: disable=import-outside-toplevel

        report = delay_report(order=args.order, n_neurons=args.neurons)
        what = (f"the paper's delay network (order {args.order}, {args.neurons} neurons "
                "per dimension)")
    else:
        from nengo_lmu.psmnist import loihi_report  # pylint: disable=import-outside-toplevel

        memory = args.memory or "exact"
        report = loihi_report(args.model, memory=memory, **_spiking_settings(args))
        what = (f"{args.model}: spiking LMU classifier, order {report['order']}, "
                f"{report['units']} hidden units, memory {memory}")
    print(what)
    print(format_resource_report(report, per_core=args.per_core))
    print(format_quantization_report(report["quantization"]))
    if args.json:
        write_json(args.json, report)
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
    summary = {"history": history, "test_closed_form": full, "test_temporal": temporal}
    if args.psmnist_n_spiking:
        print(f"\npsMNIST on the Loihi emulator: hidden layer spiking, memory exact, "
              f"first {args.psmnist_n_spiking} test images", flush=True)
        spiking = evaluate_psmnist(model_dir, backend="loihi", n_test=args.psmnist_n_spiking,
                                   progress_bar=not args.no_progress)
        print(f"  spiking on Loihi {spiking['accuracy'] * 100:6.2f} %, rate model "
              f"{spiking['rate_accuracy'] * 100:6.2f} % on the same images "
              f"({spiking['steps_per_image']} chip steps, {spiking['s_per_image']:.2f} s "
              "per image)")
        summary["test_loihi"] = spiking
    return summary


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
    demo.add_argument("--psmnist-n-spiking", type=_number(int, "--psmnist-n-spiking", 0),
                      default=100, help="test images run by the spiking network on the "
                      "Loihi emulator; 0 skips it (default: %(default)s)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")
    demo.set_defaults(func=cmd_demo)

    from nengo_lmu.learning import (  # pylint: disable=import-outside-toplevel
        DEFAULTS as LEARNING,
        LEARNING_BACKENDS,
    )

    ol = sub.add_parser(
        "online-learning", help="a spiking LMU memory whose readout learns online with PES",
        description="Drive a spiking LegendreMemory with white noise; the readout, "
        "starting at zero, learns with PES to output u(t - r theta). Learning starts "
        "after a warm-up of theta and is off for the last --test-fraction. Prints the "
        "RMSE in the first and last 20 % of the run and their ratio; writes "
        "DIR/online_learning.json and DIR/online_learning.png.",
    )
    ol.add_argument("--backend", choices=LEARNING_BACKENDS, nargs="+", default=["nengo"],
                    help="simulator(s) (default: %(default)s)")
    ol.add_argument("--order", type=_number(int, "--order", 1), default=LEARNING["order"],
                    help="Legendre order of the memory (default: %(default)s)")
    ol.add_argument("--theta", type=_number(float, "--theta", 0, exclusive=True),
                    default=LEARNING["theta"], help="window in s (default: %(default)s)")
    ol.add_argument("--r", type=_number(float, "--r", 0), default=LEARNING["r"],
                    help="relative delay of the target u(t - r theta), in [0, 1] "
                    "(default: %(default)s)")
    ol.add_argument("--freq", type=_number(float, "--freq", 0, exclusive=True),
                    default=LEARNING["freq"],
                    help="cut-off of the white-noise input in Hz (default: %(default)s)")
    ol.add_argument("--rms", type=_number(float, "--rms", 0, exclusive=True),
                    default=LEARNING["rms"], help="RMS of the input (default: %(default)s)")
    ol.add_argument("--neurons", type=_number(int, "--neurons", 1),
                    default=LEARNING["n_neurons"],
                    help="neurons per state variable (default: %(default)s)")
    ol.add_argument("--learning-rate", type=_number(float, "--learning-rate", 0, exclusive=True),
                    default=LEARNING["learning_rate"],
                    help="PES learning rate (default: %(default)s)")
    ol.add_argument("--sim-time", type=_number(float, "--sim-time", 0, exclusive=True),
                    default=LEARNING["sim_time"],
                    help="simulated seconds, warm-up included (default: %(default)s)")
    ol.add_argument("--test-fraction", type=_number(float, "--test-fraction", 0),
                    default=LEARNING["test_fraction"],
                    help="last fraction of the run with learning off (default: %(default)s)")
    ol.add_argument("--seed", type=_number(int, "--seed", 0), default=LEARNING["seed"],
                    help="seed of the input and the network (default: %(default)s)")
    ol.add_argument("--out", default="results/online_learning", metavar="DIR",
                    help="where online_learning.json and .png go (default: %(default)s)")
    ol.add_argument("--no-progress", action="store_true", help="no progress bars")
    ol.set_defaults(func=cmd_online_learning)

    from nengo_lmu.capacity import (  # pylint: disable=import-outside-toplevel
        DEFAULTS as CAPACITY,
        READOUTS,
        SYSTEMS,
    )

    cap = sub.add_parser(
        "capacity", help="memory capacity: LMU-0, fitted LMU and LSTM on delayed white noise",
        description="The LMU paper's memory-capacity task: 10 Hz white noise, a 1 s "
        "window sampled with T steps, sequences of 2.5 T steps; outputs are the input "
        "delayed by 5 delays in [0, T] steps. Prints the test MSE per delay (steps "
        "after T) and the ratio LSTM MSE at T = 100 / LMU-0 MSE at the largest T; "
        "writes DIR/capacity.json and DIR/capacity.png.",
    )
    cap.add_argument("--T", type=_number(int, "--T", 4), nargs="+", default=list(CAPACITY["T"]),
                     help="window lengths in steps for lmu0 and lmu (default: %(default)s)")
    cap.add_argument("--lstm-T", type=_number(int, "--lstm-T", 4), nargs="+",
                     default=list(CAPACITY["lstm_T"]),
                     help="window lengths in steps for lstm (default: %(default)s)")
    cap.add_argument("--systems", choices=SYSTEMS, nargs="+", default=list(SYSTEMS),
                     help="systems to run (default: %(default)s)")
    cap.add_argument("--out", default="results/capacity", metavar="DIR",
                     help="where capacity.json and capacity.png go (default: %(default)s)")
    cap.add_argument("--order", type=_number(int, "--order", 1), default=CAPACITY["order"],
                     help="LMU memory order (default: %(default)s)")
    cap.add_argument("--readout", choices=READOUTS, default=CAPACITY["readout"],
                     help="midpoint: theta = T + 1 steps, r = (d + 1/2) / (T + 1); edge: "
                     "theta = T, r = d / T (half-step error) (default: %(default)s)")
    cap.add_argument("--lstm-epochs", type=_number(int, "--lstm-epochs", 1),
                     default=CAPACITY["lstm_epochs"],
                     help="LSTM training epochs (default: %(default)s)")
    cap.add_argument("--lstm-batch-size", type=_number(int, "--lstm-batch-size", 1),
                     default=CAPACITY["lstm_batch_size"],
                     help="LSTM minibatch size (default: %(default)s)")
    cap.add_argument("--lstm-time-budget", type=_number(float, "--lstm-time-budget", 0,
                                                        exclusive=True),
                     default=None, metavar="SECONDS",
                     help="stop each LSTM training after this many seconds (default: none)")
    cap.add_argument("--n-train", type=_number(int, "--n-train", 1),
                     default=CAPACITY["n_train"],
                     help="training sequences per T (default: %(default)s)")
    cap.add_argument("--n-test", type=_number(int, "--n-test", 1), default=CAPACITY["n_test"],
                     help="test sequences per T (default: %(default)s)")
    cap.add_argument("--seed", type=_number(int, "--seed", 0), default=0,
                     help="seed of the data and the LSTM (default: %(default)s)")
    cap.add_argument("--no-progress", action="store_true", help="no progress output")
    cap.set_defaults(func=cmd_capacity)

    from nengo_lmu.mackey_glass import (  # pylint: disable=import-outside-toplevel
        DEFAULTS as MG,
        SYSTEMS as MG_SYSTEMS,
    )

    mg = sub.add_parser(
        "mackey-glass", help="Mackey-Glass prediction: LMU (NengoDL) vs LSTM",
        description="The LMU paper's Mackey-Glass task: predict the chaotic series "
        "(tau = 17) 15 steps ahead with an LMU trained by NengoDL (parallel path) and "
        "a 4-layer LSTM of about the same parameter count. Prints the test NRMSE and "
        "parameters of each; writes DIR/mackey_glass.json, DIR/mackey_glass.png and "
        "the LMU's weights DIR/lmu_params.npz. The defaults are the full size (128 "
        "series of 5,000 samples); see --n-series, --n-steps for a small run.",
    )
    mg.add_argument("--out", default="results/mackey-glass", metavar="DIR",
                    help="where the JSON, plot and weights go (default: %(default)s)")
    mg.add_argument("--systems", choices=MG_SYSTEMS, nargs="+", default=list(MG_SYSTEMS),
                    help="systems to train (default: %(default)s)")
    mg.add_argument("--epochs", type=_number(int, "--epochs", 1), default=MG["epochs"],
                    help="training epochs of every system (default: %(default)s)")
    mg.add_argument("--n-series", type=_number(int, "--n-series", 2), default=MG["n_series"],
                    help="series generated, a quarter for testing (default: %(default)s)")
    mg.add_argument("--n-steps", type=_number(int, "--n-steps", 1), default=MG["n_steps"],
                    help="samples per series (default: %(default)s)")
    mg.add_argument("--window", type=_number(int, "--window", 2), default=MG["window"],
                    help="samples per training/test window (default: %(default)s)")
    mg.add_argument("--warmup", type=_number(int, "--warmup", 0), default=MG["warmup"],
                    help="unscored first steps of each window (default: %(default)s)")
    mg.add_argument("--units", type=_number(int, "--units", 1), default=MG["units"],
                    help="LMU hidden units (default: %(default)s)")
    mg.add_argument("--order", type=_number(int, "--order", 1), default=MG["order"],
                    help="LMU memory order (default: %(default)s)")
    mg.add_argument("--theta", type=_number(float, "--theta", 0, exclusive=True),
                    default=MG["theta"], help="LMU memory window in steps (default: %(default)s)")
    mg.add_argument("--lstm-layers", type=_number(int, "--lstm-layers", 1),
                    default=MG["lstm_layers"], help="stacked LSTM layers (default: %(default)s)")
    mg.add_argument("--lstm-units", type=_number(int, "--lstm-units", 1), default=None,
                    help="units per LSTM layer (default: as many as match the LMU's "
                    "parameter count)")
    mg.add_argument("--batch-size", type=_number(int, "--batch-size", 1),
                    default=MG["batch_size"],
                    help="LMU minibatch (time steps) (default: %(default)s)")
    mg.add_argument("--lstm-batch-size", type=_number(int, "--lstm-batch-size", 1),
                    default=MG["lstm_batch_size"],
                    help="LSTM minibatch (windows) (default: %(default)s)")
    mg.add_argument("--learning-rate", type=_number(float, "--learning-rate", 0, exclusive=True),
                    default=MG["learning_rate"],
                    help="Adam's initial learning rate, cosine-decayed (default: %(default)s)")
    mg.add_argument("--seed", type=_number(int, "--seed", 0), default=MG["seed"],
                    help="seed of the data and the models (default: %(default)s)")
    mg.add_argument("--no-progress", action="store_true", help="no progress bars")
    mg.set_defaults(func=cmd_mackey_glass)

    from nengo_lmu.psmnist import DEFAULTS  # pylint: disable=import-outside-toplevel
    from nengo_lmu.training import METHODS, NEURON_TYPES  # pylint: disable=import-outside-toplevel

    psmnist = sub.add_parser("psmnist", help="permuted sequential MNIST: train, finetune, "
                             "evaluate")
    ps_sub = psmnist.add_subparsers(dest="psmnist_command", metavar="COMMAND", required=True)
    from nengo_lmu.training import READOUT_LOSSES  # pylint: disable=import-outside-toplevel

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
    tr.add_argument("--readout", choices=("exact", "hold"), default="exact",
                    help="memory readout trained for: exact m_T, or 'hold' as the spiking "
                    "memory on Loihi delivers it (images back to back, read during the "
                    "last --window of --hold-steps zero steps; parallel method only) "
                    "(default: %(default)s)")
    tr.add_argument("--hold-steps", type=_number(int, "--hold-steps", 1), default=40,
                    help="with --readout hold: zero steps after each image "
                    "(default: %(default)s)")
    tr.add_argument("--window", type=_number(int, "--window", 1), default=30,
                    help="with --readout hold: last steps of the hold read out "
                    "(default: %(default)s)")
    tr.add_argument("--memory-noise", type=_number(float, "--memory-noise", 0), default=0.0,
                    help="with --readout hold: Gaussian noise on the memory relative to "
                    "each dimension's largest value (default: %(default)s)")
    tr.add_argument("--readout-draws", type=_number(int, "--readout-draws", 1), default=2,
                    help="with --readout hold: augmented copies of the training set "
                    "(default: %(default)s)")
    tr.add_argument("--readout-loss", choices=READOUT_LOSSES, default="draw",
                    help="with --readout hold: the loss of each copy read at one drawn "
                    "shift of the window (draw), or of the logits averaged over the window, "
                    "as the chip reads out (window) (default: %(default)s)")
    tr.add_argument("--no-progress", action="store_true", help="no progress bars")
    tr.set_defaults(func=cmd_psmnist_train)

    from nengo_lmu.psmnist import (  # pylint: disable=import-outside-toplevel
        FINETUNE,
        MEMORY_WEIGHTS,
    )

    ft = ps_sub.add_parser(
        "finetune", help="fine-tune a model's classifier against its spiking memory on Loihi",
        description="Simulate the spiking memory that `evaluate --backend loihi --memory "
        "spiking` puts on chip (Loihi's neuron model) on training and "
        "validation images, and fine-tune the model's hidden and output layers on what "
        "it delivers. Writes a new model directory (resumable).",
    )
    ft.add_argument("--model", required=True, metavar="DIR", help="trained model directory")
    ft.add_argument("--out", required=True, metavar="DIR", help="new model directory")
    for key, kind, minimum, exclusive, text in (
        ("memory_neurons", int, 1, False, "neurons per memory dimension"),
        ("memory_max_rate", float, 0, True, "highest rate in Hz of the memory's neurons"),
        ("seed", int, 0, False, "seed of the simulated memory; evaluate uses it by default"),
        ("n_train", int, 1, False, "training images simulated"),
        ("n_valid", int, 1, False, "validation images simulated"),
        ("epochs", int, 1, False, "epochs"),
        ("learning_rate", float, 0, True, "initial learning rate, cosine-decayed"),
        ("weight_decay", float, 0, False, "AdamW weight decay"),
        ("readout_draws", int, 1, False, "with --readout-loss draw: shifts of the readout "
         "window drawn per image"),
        ("max_rate", float, 0, True, "rate in Hz of the 99th percentile of the hidden "
         "neurons on chip; evaluate uses it by default"),
    ):
        flag = "--" + key.replace("_", "-")
        ft.add_argument(flag, type=_number(kind, flag, minimum, exclusive=exclusive),
                        default=FINETUNE[key], help=f"{text} (default: %(default)s)")
    ft.add_argument("--weights", choices=MEMORY_WEIGHTS, default=FINETUNE["weights"],
                    help="the simulated memory's recurrent weights: the 8-bit ones Loihi "
                    "stores, or nengo's floating-point ones (default: %(default)s)")
    ft.add_argument("--readout-loss", choices=READOUT_LOSSES, default=FINETUNE["readout_loss"],
                    help="the loss of the logits averaged over the readout window, as the "
                    "chip reads out (window), or of each drawn shift (draw) "
                    "(default: %(default)s)")
    ft.add_argument("--hold-steps", type=_number(int, "--hold-steps", 1), default=None,
                    help="zero steps after each image (default: the model's, or 40)")
    ft.add_argument("--window", type=_number(int, "--window", 1), default=None,
                    help="last steps of the hold read out (default: the model's, or 30)")
    ft.add_argument("--no-progress", action="store_true", help="no progress bars")
    ft.set_defaults(func=cmd_psmnist_finetune)

    ev = ps_sub.add_parser(
        "evaluate", help="test accuracy of a trained model (NengoDL, nengo or Loihi)",
        description="Test accuracy of a trained model. --backend loihi runs the spiking "
        "classifier on nengo_loihi (the emulator without a board) and reports the rate "
        "model's accuracy on the same images.",
    )
    ev.add_argument("--model", required=True, metavar="DIR", help="model directory")
    ev.add_argument("--backend", choices=BACKENDS, default="dl",
                    help="simulator: the temporal rate network in NengoDL (dl) or nengo, "
                    "or the spiking network on Loihi (default: %(default)s)")
    ev.add_argument("--n-test", type=_number(int, "--n-test", 1), default=None,
                    help="evaluate the first N test images (default: all 10,000)")
    _add_spiking_args(ev)
    ev.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    ev.add_argument("--no-progress", action="store_true", help="no progress bars")
    ev.set_defaults(func=cmd_psmnist_evaluate)

    rep = sub.add_parser(
        "loihi-report", help="Loihi resources and weight quantization of a model",
        description="Build a trained psMNIST model's spiking classifier (or the paper's "
        "delay network with --delay) with nengo_loihi and print the cores, "
        "compartments, synapses, axons and input/output channels it uses, whether it "
        "fits one Loihi chip, and what weight quantization costs. Nothing is simulated.",
    )
    rep.add_argument("--model", metavar="DIR", help="model directory")
    rep.add_argument("--delay", action="store_true",
                     help="report the paper's delay network instead")
    rep.add_argument("--order", type=_number(int, "--order", 1), default=6,
                     help="with --delay: memory order (default: %(default)s)")
    rep.add_argument("--neurons", type=_number(int, "--neurons", 1), default=100,
                     help="with --delay: neurons per dimension (default: %(default)s)")
    _add_spiking_args(rep)
    rep.add_argument("--per-core", action="store_true", help="also list every core")
    rep.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    rep.set_defaults(func=cmd_loihi_report)
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
