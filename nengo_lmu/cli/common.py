"""What several ``nengo-lmu`` commands share: the number type and the flag groups.

Each ``add_*`` function adds one group of flags to a (sub)parser; the
commands choose the help text where it says what the flag means for them.
The spiking deployment flags (`add_spiking_args`, collected by
`spiking_kwargs`) show the defaults of `nengo_lmu.model_dir.SpikingSettings`
and `nengo_lmu.readout.ReadoutScheme`, which is where they come from.

Nothing here imports more than argparse at import time.
"""

import argparse
import sys
import math


def number(kind, name, minimum=None, exclusive=False, maximum=None,
           exclusive_maximum=False, allow_inf=False):
    """An argparse type that parses ``kind`` and checks ``value >(=) minimum``
    and ``value <(=) maximum``.

    ``name`` (the flag) starts the message of a bad value, e.g. ``--order
    must be >= 1, got '0'``; argparse then exits with status 2. A float must
    be finite (``nan``, ``inf`` are refused) unless ``allow_inf`` (NaN is
    refused always).
    """

    def parse(text):
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(
                f"{name} must be {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if value != value or (not allow_inf and value in (math.inf, -math.inf)):
            raise argparse.ArgumentTypeError(
                f"{name} must be a finite number, got {text!r}")
        if minimum is not None and (value <= minimum if exclusive else value < minimum):
            raise argparse.ArgumentTypeError(
                f"{name} must be {'>' if exclusive else '>='} {minimum}, got {text!r}"
            )
        if maximum is not None and (value >= maximum if exclusive_maximum
                                    else value > maximum):
            raise argparse.ArgumentTypeError(
                f"{name} must be {'<' if exclusive_maximum else '<='} {maximum}, got {text!r}"
            )
        return value

    return parse


#: The largest seed numpy accepts (``2**32 - 1``).
MAX_SEED = 2**32 - 1


def seed_number(name):
    """An argparse type for a seed: an integer in ``0..2**32 - 1``."""
    return number(int, name, 0, maximum=MAX_SEED)


def add_no_progress(parser, text="no progress bars"):
    """``--no-progress``: a store-true flag (``args.no_progress``)."""
    parser.add_argument("--no-progress", action="store_true", help=text)


def progress_verbose(args):
    """The Keras ``verbose`` level: 0 with ``--no-progress``; a progress bar
    in a terminal (1), one line per epoch in a log file (2)."""
    if args.no_progress:
        return 0
    return 1 if sys.stdout.isatty() else 2


def add_seed(parser, what, default=0, shown="%(default)s"):
    """``--seed``: an integer >= 0; ``what`` says what it seeds."""
    parser.add_argument("--seed", type=seed_number("--seed"), default=default,
                        help=f"{what} (default: {shown})")


def add_out(parser, text, default=None):
    """``--out DIR``: required without a ``default``, else ``text`` is shown
    with the default."""
    if default is None:
        parser.add_argument("--out", required=True, metavar="DIR", help=text)
    else:
        parser.add_argument("--out", default=default, metavar="DIR",
                            help=f"{text} (default: %(default)s)")


def add_json(parser, what):
    """``--json PATH``: also write ``what`` (the result, the report) as JSON."""
    parser.add_argument("--json", metavar="PATH", help=f"also write the {what} as JSON")


def check_out(args, flag="--out"):
    """Check, before any work, that ``args.out`` is (or can be made) a
    writable directory (`nengo_lmu.validation.check_output_dir`); the error
    names ``flag`` and the path."""
    from nengo_lmu.validation import check_output_dir  # pylint: disable=import-outside-toplevel

    check_output_dir(flag, args.out)


def check_model(args, flag="--model"):
    """Check, before any work, that ``args.model`` is an existing directory
    (`nengo_lmu.validation.check_input_dir`)."""
    from nengo_lmu.validation import check_input_dir  # pylint: disable=import-outside-toplevel

    check_input_dir(flag, args.model, "model directory")


def check_json(args):
    """Check, before any work, that ``--json PATH`` (if given) can be written:
    not a directory, in a writable directory
    (`nengo_lmu.validation.check_output_file`)."""
    from nengo_lmu.validation import check_output_file  # pylint: disable=import-outside-toplevel

    if args.json is not None:
        check_output_file("--json", args.json)


# --- the spiking deployment flags (psmnist evaluate, loihi-report) ----------

#: The spiking settings that `add_spiking_args` adds, as ``args`` attributes;
#: those not given stay None and are left to the model's config.json and the
#: defaults (`nengo_lmu.model_dir.SpikingSettings`, `nengo_lmu.readout.ReadoutScheme`).
SPIKING_FLAGS = ("max_rate", "hold_steps", "window", "memory_neurons", "memory_copies",
                 "memory_max_rate", "memory_synapse", "steps_per_element", "seed")


def add_spiking_args(parser):
    """``--memory``, ``--max-rate``, ``--hold-steps``, ``--window``,
    ``--memory-neurons``, ``--memory-copies``, ``--memory-max-rate``, ``--memory-synapse``,
    ``--steps-per-element`` and ``--seed`` (all default None: not given)."""
    from nengo_lmu.model_dir import SpikingSettings  # pylint: disable=import-outside-toplevel
    from nengo_lmu.readout import ReadoutScheme  # pylint: disable=import-outside-toplevel

    parser.add_argument("--memory", choices=("exact", "spiking"), default=None,
                        help="with --backend loihi: the memory exact off chip, or spiking "
                        "on chip (default: exact)")
    parser.add_argument("--max-rate", type=number(float, "--max-rate", 0, exclusive=True),
                        default=None, help="99th-percentile hidden rate in Hz after "
                        f"scaling (default: {SpikingSettings.max_rate:g})")
    parser.add_argument("--hold-steps", type=number(int, "--hold-steps", 1), default=None,
                        help="steps after each sequence that the readout waits "
                        f"(default: {ReadoutScheme.hold_steps})")
    parser.add_argument("--window", type=number(int, "--window", 1), default=None,
                        help="last steps of the hold whose spikes are averaged "
                        f"(default: {ReadoutScheme.window})")
    parser.add_argument("--memory-neurons", type=number(int, "--memory-neurons", 1),
                        default=None, help="neurons per memory dimension with --memory "
                        f"spiking (default: {SpikingSettings.memory_neurons})")
    parser.add_argument("--memory-copies", type=number(int, "--memory-copies", 1),
                        default=None, help="independent copies of the spiking memory, "
                        "averaged, with --memory spiking; they share each state variable's "
                        f"ensemble (default: {SpikingSettings.memory_copies}, or the "
                        "model's own if it was fine-tuned)")
    parser.add_argument("--memory-max-rate",
                        type=number(float, "--memory-max-rate", 0, exclusive=True),
                        default=None, help="highest rate in Hz of the spiking memory's "
                        "neurons, drawn from [0.8, 1] x this "
                        f"(default: {SpikingSettings.memory_max_rate:g})")
    add_memory_synapse_arg(parser)
    parser.add_argument("--steps-per-element",
                        type=number(int, "--steps-per-element", 1), default=None,
                        metavar="K", help="with --memory spiking: chip steps per sequence "
                        "element (and per hold step), the memory K times slower, the same "
                        "weights (default: 1)")
    add_seed(parser, "seed of the spiking network's neuron tuning", default=None,
             shown="drawn anew")


def add_memory_synapse_arg(parser):
    """``--memory-synapse`` (default None: the model's, or `SpikingSettings`')."""
    from nengo_lmu.model_dir import SpikingSettings  # pylint: disable=import-outside-toplevel

    parser.add_argument("--memory-synapse",
                        type=number(float, "--memory-synapse", 0, exclusive=True),
                        default=None, metavar="TAU", help="time "
                        "constant in s of the spiking memory's recurrent lowpass synapse "
                        "(NEF principle 3) (default: the model's if fine-tuned, else "
                        f"{SpikingSettings.memory_synapse:g})")


def spiking_settings(args):
    """The spiking flags given (`SPIKING_FLAGS` that are not None)."""
    return {k: getattr(args, k) for k in SPIKING_FLAGS if getattr(args, k) is not None}


def spiking_kwargs(args):
    """The keyword arguments of a spiking deployment: ``memory`` (exact if
    not given) and the spiking flags given."""
    return dict(memory=args.memory or "exact", **spiking_settings(args))


def reject_spiking_args(parser, args, needs="--backend loihi"):
    """Exit with status 2 if any spiking flag was given (they need ``needs``)."""
    if args.memory is not None or spiking_settings(args):
        flags = ["--memory"] + ["--" + k.replace("_", "-") for k in SPIKING_FLAGS]
        parser.error(f"{', '.join(flags[:-1])} and {flags[-1]} need {needs}")


# --- the delay network's flags (delay) ---------------------------------------


def add_delay_args(parser):
    """The delay network and its white-noise input: ``--order``, ``--theta``,
    ``--freq``, ``--rms``, ``--neurons``, ``--synapse``, ``--sim-time``,
    ``--seed``, ``--dt`` (check them together with `check_delay_args`)."""
    parser.add_argument(
        "--order", type=number(int, "--order", 1), default=6,
        help="Legendre order of the memory (default: %(default)s)",
    )
    parser.add_argument(
        "--theta", type=number(float, "--theta", 0, exclusive=True), default=1.0,
        help="window length in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--freq", type=number(float, "--freq", 0, exclusive=True), default=1.0,
        help="cut-off of the white-noise input in Hz (default: %(default)s)",
    )
    from nengo_lmu.tasks.delay import MAX_RMS  # pylint: disable=import-outside-toplevel

    parser.add_argument(
        "--rms", type=number(float, "--rms", 0, exclusive=True, maximum=MAX_RMS),
        default=0.3, help=f"RMS of the white-noise input, at most {MAX_RMS:g} "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--neurons", type=number(int, "--neurons", 0), default=100,
        help="neurons per dimension; 0 runs the exact linear system "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--synapse", type=number(float, "--synapse", 0, exclusive=True), default=0.1,
        help="principle-3 lowpass time constant tau in s (default: %(default)s)",
    )
    parser.add_argument(
        "--sim-time", type=number(float, "--sim-time", 0, exclusive=True), default=20.0,
        help="simulated seconds, must exceed --theta (default: %(default)s)",
    )
    add_seed(parser, "seed of the network and the input")
    parser.add_argument(
        "--dt", type=number(float, "--dt", 0, exclusive=True), default=0.001,
        help="simulator time step in s (default: %(default)s)",
    )


def check_delay_args(parser, args):
    """What `add_delay_args`' flags must satisfy together (exit 2 if not)."""
    if args.sim_time <= args.theta:
        parser.error(
            f"argument --sim-time: must exceed --theta ({args.theta}), got {args.sim_time}"
        )
    if args.dt >= args.synapse and args.neurons:
        parser.error(f"argument --dt: must be smaller than --synapse ({args.synapse})")


def delay_kwargs(args):
    """`nengo_lmu.tasks.delay.run_delay`'s arguments from `add_delay_args`' flags."""
    return dict(order=args.order, theta=args.theta, freq=args.freq, rms=args.rms,
                n_neurons=args.neurons, sim_time=args.sim_time, seed=args.seed,
                dt=args.dt, synapse=args.synapse)
