"""``nengo-lmu loihi-report``: Loihi resources and weight quantization."""

from nengo_lmu.cli.common import (
    add_json,
    add_spiking_args,
    check_json,
    check_model,
    number,
    reject_spiking_args,
    spiking_kwargs,
)

#: The delay network's flags (``--delay`` only), with their defaults.
DELAY_DEFAULTS = {"order": 6, "neurons": 100}


def check_report_args(parser, args):
    """Either ``--model DIR`` (with the spiking flags) or ``--delay`` (with
    ``--order``, ``--neurons``, filled in with `DELAY_DEFAULTS`), never
    flags of the other; the model directory and ``--json`` checked."""
    if (args.model is None) == (not args.delay):
        parser.error("give either --model DIR or --delay")
    if args.delay:
        reject_spiking_args(parser, args, needs="--model DIR (not --delay)")
        for key, default in DELAY_DEFAULTS.items():
            if getattr(args, key) is None:
                setattr(args, key, default)
    else:
        given = [f"--{key}" for key in DELAY_DEFAULTS if getattr(args, key) is not None]
        if given:
            parser.error(f"{' and '.join(given)} {'go' if len(given) > 1 else 'goes'} with "
                         "--delay (the model sets its own)")
        check_model(args)
    check_json(args)


def cmd_loihi_report(args, parser):
    check_report_args(parser, args)
    from nengo_lmu.io import write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.loihi import (  # pylint: disable=import-outside-toplevel
        format_quantization_report,
        format_resource_report,
    )

    if args.delay:
        from nengo_lmu.tasks.delay import delay_report  # pylint: disable=import-outside-toplevel

        report = delay_report(order=args.order, n_neurons=args.neurons)
        what = (f"the paper's delay network (order {args.order}, {args.neurons} neurons "
                "per dimension)")
    else:
        from nengo_lmu.tasks.psmnist import loihi_report  # pylint: disable=import-outside-toplevel

        kwargs = spiking_kwargs(args)
        report = loihi_report(args.model, **kwargs)
        what = (f"{args.model}: spiking LMU classifier, order {report['order']}, "
                f"{report['units']} hidden units, memory {kwargs['memory']}")
    print(what)
    print(format_resource_report(report, per_core=args.per_core))
    print(format_quantization_report(report["quantization"]))
    if args.json:
        write_json(args.json, report)
        print(f"wrote {args.json}")
    return 0


def add_parser(subparsers):
    """Register ``loihi-report``."""
    rep = subparsers.add_parser(
        "loihi-report", help="Loihi resources and weight quantization of a model",
        description="Build a trained psMNIST model's spiking classifier (or the paper's "
        "delay network with --delay) with nengo_loihi and print the cores, "
        "compartments, synapses, axons and input/output channels it uses, whether it "
        "fits one Loihi chip, and what weight quantization costs. Nothing is simulated.",
    )
    rep.add_argument("--model", metavar="DIR", help="model directory")
    rep.add_argument("--delay", action="store_true",
                     help="report the paper's delay network instead")
    rep.add_argument("--order", type=number(int, "--order", 1), default=None,
                     help=f"with --delay: memory order (default: {DELAY_DEFAULTS['order']})")
    rep.add_argument("--neurons", type=number(int, "--neurons", 1), default=None,
                     help="with --delay: neurons per dimension "
                     f"(default: {DELAY_DEFAULTS['neurons']})")
    add_spiking_args(rep)
    rep.add_argument("--per-core", action="store_true", help="also list every core")
    add_json(rep, "report")
    rep.set_defaults(func=cmd_loihi_report)
