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

One module per command group, each with an ``add_parser(subparsers)`` that
registers its commands and their ``func(args, parser)``:
`nengo_lmu.cli.delay` (``delay``, ``demo``), `nengo_lmu.cli.experiments`
(``online-learning``, ``capacity``, ``mackey-glass``),
`nengo_lmu.cli.psmnist` (``psmnist train|finetune|evaluate``) and
`nengo_lmu.cli.loihi` (``loihi-report``); the flags several commands share
are defined once in `nengo_lmu.cli.common`. Importing the package loads no
simulator: the task modules are imported when the parser is built or a
command runs, TensorFlow, NengoDL and nengo_loihi only when a command runs.
"""

import argparse
import os

from nengo_lmu.cli import delay, experiments, loihi, psmnist

from nengo_lmu._deprecated import moved_attributes


def build_parser():
    """The ``nengo-lmu`` parser with every command."""
    parser = argparse.ArgumentParser(
        prog="nengo-lmu",
        description="Legendre Memory Units as Nengo networks: NengoDL and Loihi.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in (delay, experiments, psmnist, loihi):  # the order of the help
        group.add_parser(sub)
    return parser


def main(argv=None):
    """Run ``nengo-lmu`` with ``argv`` (default: ``sys.argv[1:]``); returns
    the exit status. A `ValueError` or `FileNotFoundError` of a command
    exits with status 2 and ``nengo-lmu COMMAND: error: <message>``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's INFO chatter
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args, parser)
    except (ValueError, FileNotFoundError) as e:
        parser.exit(2, f"{parser.prog} {args.command}: error: {e}\n")


# names that moved out of the command line in 0.2 (it is not a library)
__getattr__ = moved_attributes(__name__, {"format_delay_table": "nengo_lmu.tasks.delay"})
