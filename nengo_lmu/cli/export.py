"""``nengo-lmu export``: a trained model as a NIR graph for other SNN frameworks."""

from nengo_lmu.cli.common import add_spiking_args, check_model, spiking_settings

#: The formats ``export`` writes.
FORMATS = ("nir",)


def cmd_export(args, parser):
    if args.synapses == "cubalif" and (args.memory or "exact") != "spiking":
        parser.error("--synapses cubalif needs --memory spiking (the exact memory is a "
                     "linear system, which only I or LI nodes express)")
    if args.discretization == "zoh" and args.memory == "spiking":
        parser.error("--discretization zoh with --memory spiking: the spiking memory is "
                     "written only as euler (its synapses carry nengo's one-step delay)")
    check_model(args)
    from nengo_lmu.validation import check_output_file  # pylint: disable=import-outside-toplevel

    check_output_file("--out", args.out)
    try:
        import nir  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        parser.error("--format nir needs the nir package: pip install nengo-lmu[nir]")
    from nengo_lmu.tasks.nir_export import export_psmnist  # pylint: disable=import-outside-toplevel

    memory = args.memory or "exact"
    graph = export_psmnist(args.model, args.out, memory=memory,
                           discretization=args.discretization, synapses=args.synapses,
                           **spiking_settings(args))
    meta = graph.metadata
    kinds = sorted({type(n).__name__ for n in graph.nodes.values()})
    print(f"{args.out}: NIR graph of {args.model}, memory {memory}, discretization "
          f"{meta['discretization']}: {len(graph.nodes)} nodes ({', '.join(kinds)}), "
          f"{len(graph.edges)} edges")
    print(f"time unit {meta['time_unit_s']:g} s (run with dt = 1); input x {meta['input_scale']:.6g}; "
          f"readout: mean output over the last {meta['window']} of {meta['hold_steps']} "
          "zero steps after each sequence")


def add_parser(subparsers):
    """Register ``export``."""
    exp = subparsers.add_parser(
        "export", help="write a trained model as a NIR graph",
        description="Write a trained psMNIST model's spiking classifier (calibrated as "
        "'psmnist evaluate --backend loihi' calibrates it) as a NIR graph "
        "(Neuromorphic Intermediate Representation, HDF5), for snnTorch, Norse, "
        "Rockpool, Spyx, Lava and other NIR importers. The graph counts time in "
        "simulator steps (run it with dt = 1); its metadata holds the input scaling "
        "and the readout (hold steps, window). Needs pip install nengo-lmu[nir].",
    )
    exp.add_argument("--model", required=True, metavar="DIR", help="model directory")
    exp.add_argument("--format", choices=FORMATS, default="nir",
                     help="output format (default: nir)")
    exp.add_argument("--out", required=True, metavar="FILE", help="the .nir file to write")
    exp.add_argument("--discretization", choices=("zoh", "euler"), default=None,
                     help="zoh: the exact memory as the continuous-time system (importers "
                     "that discretize linear nodes exactly, e.g. nengo_lmu.from_nir); euler: "
                     "matrices and time constants that forward Euler with dt = 1 turns into "
                     "the same discrete network (Norse, snnTorch, Lava); the spiking memory "
                     "is written only as euler (default: zoh for --memory exact, euler for "
                     "--memory spiking)")
    exp.add_argument("--synapses", choices=("li", "cubalif"), default="li",
                     help="with --memory spiking: li: the lowpass synapses as LI nodes, the "
                     "memory's weights factored through its state (Norse, snnTorch, "
                     "nengo_lmu.from_nir); cubalif: no LI node, every neuron a CubaLIF with "
                     "full weights, the nodes Lava-DL and SpiNNaker2 read (default: li)")
    add_spiking_args(exp)
    exp._option_string_actions["--memory"].help = (  # pylint: disable=protected-access
        "the memory exact (integrator nodes) or spiking (its neurons) (default: exact)")
    exp._option_string_actions["--seed"].help = (  # pylint: disable=protected-access
        "seed of the spiking memory's neuron tuning (default: 0, so that the same "
        "command writes the same graph)")
    exp.set_defaults(func=cmd_export)
