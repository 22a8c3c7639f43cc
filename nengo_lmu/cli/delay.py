"""``nengo-lmu delay`` and ``nengo-lmu demo``: the Legendre delay network."""

import os
import time

from nengo_lmu.cli.common import (
    add_delay_args,
    add_no_progress,
    add_out,
    add_seed,
    check_delay_args,
    check_out,
    delay_kwargs,
    number,
    progress_verbose,
)

#: The keys of a `nengo_lmu.tasks.delay.run_delay` result that go to JSON.
DELAY_JSON_KEYS = ("nrmse", "backend", "n_neurons_total", "wall_s", "sim_time", "order",
                   "theta", "freq", "rms", "seed", "state")


def _delay_json(res):
    return {k: res[k] for k in DELAY_JSON_KEYS if k in res}


def cmd_delay(args, parser):
    check_delay_args(parser, args)
    check_out(args)
    from nengo_lmu.io import save_figure, write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.delay import (  # pylint: disable=import-outside-toplevel
        format_delay_table,
        plot_delay,
        run_delay,
    )

    res = run_delay(backend=args.backend, progress_bar=not args.no_progress,
                    **delay_kwargs(args))
    print(format_delay_table([res]))
    write_json(os.path.join(args.out, "delay.json"), _delay_json(res))
    save_figure(plot_delay(res), os.path.join(args.out, "delay.png"), dpi=110)
    print(f"wrote {os.path.join(args.out, 'delay.json')} and delay.png")
    return 0


#: The runs of ``demo``: name, `run_delay` arguments.
DEMO_RUNS = (("exact linear system", dict(n_neurons=0, backend="nengo")),
             ("spiking, nengo", dict(n_neurons=100, backend="nengo")),
             ("spiking, Loihi emulator", dict(n_neurons=100, backend="loihi")))


def cmd_demo(args, parser):  # pylint: disable=unused-argument
    check_out(args)
    from nengo_lmu.io import save_figure, write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.delay import (  # pylint: disable=import-outside-toplevel
        check_delay,
        format_delay_table,
        plot_delay,
        run_delay,
    )

    for _, kw in DEMO_RUNS:  # every run checked before the first
        check_delay(n_neurons=kw["n_neurons"], sim_time=args.sim_time, seed=args.seed)
    start = time.perf_counter()
    print(
        f"Delay network (order 6, theta 1 s, 1 Hz white noise, rms 0.3, "
        f"{args.sim_time:g} s simulated): exact system vs 100 spiking neurons "
        "per dimension on nengo and on the Loihi emulator\n"
    )
    results = []
    for name, kw in DEMO_RUNS:
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


def _demo_psmnist(args):
    from nengo_lmu.tasks.psmnist import (  # pylint: disable=import-outside-toplevel
        evaluate_psmnist,
        train_psmnist,
    )

    model_dir = os.path.join(args.out, "psmnist")
    print(f"\npsMNIST: an LMU (346 ReLU units, order 256) trained with NengoDL by the "
          f"parallel path for {args.psmnist_epochs} epochs on the offline MNIST "
          f"(resumes from {model_dir})", flush=True)
    history = train_psmnist(model_dir, epochs=args.psmnist_epochs,
                            verbose=progress_verbose(args))
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
        summary["test_loihi"] = _demo_psmnist_loihi(args, model_dir)
    return summary


def _demo_psmnist_loihi(args, model_dir):
    from nengo_lmu.tasks.psmnist import evaluate_psmnist  # pylint: disable=import-outside-toplevel

    print(f"\npsMNIST on the Loihi emulator: hidden layer spiking, memory exact, "
          f"first {args.psmnist_n_spiking} test images", flush=True)
    spiking = evaluate_psmnist(model_dir, backend="loihi", n_test=args.psmnist_n_spiking,
                               progress_bar=not args.no_progress)
    print(f"  spiking on Loihi {spiking['accuracy'] * 100:6.2f} %, rate model "
          f"{spiking['rate_accuracy'] * 100:6.2f} % on the same images "
          f"({spiking['steps_per_image']} chip steps, {spiking['s_per_image']:.2f} s "
          "per image)")
    return spiking


def add_parser(subparsers):
    """Register ``delay`` and ``demo``."""
    from nengo_lmu.backends import BACKENDS  # pylint: disable=import-outside-toplevel

    delay = subparsers.add_parser(
        "delay", help="run the Legendre delay network and score its memory",
        description="Drive a LegendreMemory with white noise, decode the window at "
        "r = 0, .25, .5, .75, 1 and print the NRMSE of each delay.",
    )
    add_delay_args(delay)
    delay.add_argument("--backend", choices=BACKENDS, default="nengo",
                       help="simulator (default: %(default)s)")
    add_out(delay, "where delay.json and delay.png go", default="results/delay")
    add_no_progress(delay)
    delay.set_defaults(func=cmd_delay)

    demo = subparsers.add_parser(
        "demo", help="the main job: the delay network on nengo and Loihi, a psMNIST LMU",
        description="Run the paper's Loihi delay network (order 6, 100 spiking "
        "neurons per dimension) on nengo and on the Loihi emulator against the "
        "exact system and print the NRMSE table; then train a psMNIST LMU with "
        "NengoDL (parallel path) and print its test accuracy. Offline; a few minutes.",
    )
    add_out(demo, "where demo.json and the plots go", default="results/demo")
    demo.add_argument("--sim-time", type=number(float, "--sim-time", 1, exclusive=True),
                      default=20.0, help="simulated seconds (default: %(default)s)")
    add_seed(demo, "network and input seed")
    demo.add_argument("--psmnist-epochs", type=number(int, "--psmnist-epochs", 0),
                      default=5, help="epochs of the psMNIST part; 0 skips it "
                      "(default: %(default)s)")
    demo.add_argument("--psmnist-n-temporal", type=number(int, "--psmnist-n-temporal", 1),
                      default=500, help="test images run through the temporal "
                      "network (default: %(default)s)")
    demo.add_argument("--psmnist-n-spiking", type=number(int, "--psmnist-n-spiking", 0),
                      default=100, help="test images run by the spiking network on the "
                      "Loihi emulator; 0 skips it (default: %(default)s)")
    add_no_progress(demo)
    demo.set_defaults(func=cmd_demo)
