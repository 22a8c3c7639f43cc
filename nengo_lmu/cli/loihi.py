"""``nengo-lmu loihi-report``: Loihi resources and weight quantization."""

from nengo_lmu.cli.common import add_json, add_spiking_args, number, spiking_kwargs


def cmd_loihi_report(args, parser):
    from nengo_lmu.io import write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.loihi import (  # pylint: disable=import-outside-toplevel
        format_quantization_report,
        format_resource_report,
    )

    if (args.model is None) == (not args.delay):
        parser.error("give either --model DIR or --delay")
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
    rep.add_argument("--order", type=number(int, "--order", 1), default=6,
                     help="with --delay: memory order (default: %(default)s)")
    rep.add_argument("--neurons", type=number(int, "--neurons", 1), default=100,
                     help="with --delay: neurons per dimension (default: %(default)s)")
    add_spiking_args(rep)
    rep.add_argument("--per-core", action="store_true", help="also list every core")
    add_json(rep, "report")
    rep.set_defaults(func=cmd_loihi_report)
