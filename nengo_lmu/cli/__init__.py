"""The ``nengo-lmu`` command line.

    nengo-lmu delay [--order 6] [--theta 1.0] [--freq 1.0] [--neurons 100]
                    [--backend nengo|dl|loihi] [--sim-time 20] [--seed 0]
                    [--out DIR]
    nengo-lmu demo  [--out DIR]
    nengo-lmu psmnist train --out DIR [--epochs 60] [--method parallel|sequential] ...
    nengo-lmu psmnist finetune --model DIR --out DIR [--memory-neurons 30] [--seed 0] ...
    nengo-lmu psmnist evaluate --model DIR [--backend dl|nengo|loihi] [--n-test N]
                               [--memory exact|spiking] [--json PATH]
    nengo-lmu loihi-report (--model DIR | --delay) [--json PATH]
    nengo-lmu online-learning [--backend nengo loihi] [--sim-time 10.5] [--out DIR]
    nengo-lmu capacity [--T 100 ... 100000] [--systems lmu0 lmu lstm] [--out DIR]
    nengo-lmu mackey-glass [--systems lmu lstm] [--out DIR]
    nengo-lmu export --model DIR --format nir --out FILE.nir [--memory exact|spiking]
                     [--discretization zoh|euler]

Every command validates its arguments before it simulates or trains and
exits with status 2 and a one-line message on bad input.

One module per command group, each with an ``add_parser(subparsers)`` that
registers its commands and their ``func(args, parser)``:
`nengo_lmu.cli.delay` (``delay``, ``demo``), `nengo_lmu.cli.experiments`
(``online-learning``, ``capacity``, ``mackey-glass``),
`nengo_lmu.cli.psmnist` (``psmnist train|finetune|evaluate``),
`nengo_lmu.cli.loihi` (``loihi-report``) and `nengo_lmu.cli.export`
(``export``); the flags several commands share
are defined once in `nengo_lmu.cli.common`. Importing the package loads no
simulator: the task modules are imported when the parser is built or a
command runs, TensorFlow, NengoDL and nengo_loihi only when a command runs.
"""

import argparse
import contextlib
import os
import sys
import warnings

from nengo_lmu._deprecated import moved_attributes
from nengo_lmu.cli import delay, experiments, export, loihi, psmnist


def build_parser():
    """The ``nengo-lmu`` parser with every command."""
    parser = argparse.ArgumentParser(
        prog="nengo-lmu",
        description="Legendre Memory Units as Nengo networks: NengoDL and Loihi.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in (delay, experiments, psmnist, loihi, export):  # the order of the help
        group.add_parser(sub)
    for command in commands(parser):
        command.add_argument(
            "--verbose", action="store_true",
            help="also show the notices of TensorFlow, NengoDL and nengo_loihi that "
            "nengo-lmu hides (TensorFlow's log, no GPU, initial voltages)")
    return parser


def commands(parser):
    """Every parser that runs a command (``delay``, ``psmnist train``, ...)."""
    subs = [a for a in parser._actions  # pylint: disable=protected-access
            if isinstance(a, argparse._SubParsersAction)]  # pylint: disable=protected-access
    if not subs:
        return [parser]
    return [c for p in subs[0].choices.values() for c in commands(p)]


#: Notices that say nothing about the user's results, hidden without --verbose:
#: NengoDL running on a CPU, nengo_loihi starting every neuron at rest (so do
#: the networks here) and keeping a larger synaptic time constant.
QUIET_WARNINGS = (
    "No GPU support detected",
    "NengoLoihi does not support initial values",
    "tau_s is already set to",
)


class _QuietImport:
    """A `sys.meta_path` finder that runs the first import of TensorFlow's
    packages with the process's stderr closed: TensorFlow 2.12 prints its
    TensorRT notice from C++ whatever ``TF_CPP_MIN_LOG_LEVEL`` says. Python
    errors still surface (as exceptions, once stderr is back)."""

    NAMES = ("tensorflow", "nengo_dl", "keras", "keras_lmu")

    def find_spec(self, name, path=None, target=None):  # noqa: D102
        if name not in self.NAMES:
            return None
        import importlib.machinery  # pylint: disable=import-outside-toplevel

        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader:
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):  # noqa: D102
        return self.loader.create_module(spec)

    def exec_module(self, module):  # noqa: D102
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w", encoding="utf-8") as null:
                os.dup2(null.fileno(), 2)
                self.loader.exec_module(module)
        finally:
            os.dup2(saved, 2)
            os.close(saved)

    def __getattr__(self, name):
        return getattr(self.loader, name)


@contextlib.contextmanager
def output(verbose):
    """Quiet, readable output for a command: without ``verbose`` TensorFlow's
    C++ log is off (unless ``TF_CPP_MIN_LOG_LEVEL`` is set) and the
    `QUIET_WARNINGS` are hidden; and when stdout is not a terminal (a log
    file), nengo's progress bars print a plain line per tenth of the work."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "3")
    quiet = None
    if not verbose and "tensorflow" not in sys.modules:
        quiet = _QuietImport()
        sys.meta_path.insert(0, quiet)
    if not sys.stdout.isatty():
        from nengo_lmu.backends import use_line_progress  # pylint: disable=import-outside-toplevel

        use_line_progress()
    try:
        with warnings.catch_warnings():
            if not verbose:
                for message in QUIET_WARNINGS:
                    warnings.filterwarnings("ignore", message=message)
            yield
    finally:
        if quiet is not None:
            sys.meta_path.remove(quiet)


#: The errors of a command's checks that exit with status 2 and a one-line
#: message (no traceback): bad settings, paths and sizes.
CHECK_ERRORS = (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
                PermissionError, MemoryError)


def command_parser(parser, args):
    """The (sub)parser of the command ``args`` were parsed for, e.g. that of
    ``psmnist train`` (its ``prog`` is ``nengo-lmu psmnist train``)."""
    while True:
        subs = [a for a in parser._actions  # pylint: disable=protected-access
                if isinstance(a, argparse._SubParsersAction)]  # pylint: disable=protected-access
        name = getattr(args, subs[0].dest, None) if subs else None
        if name is None:
            return parser
        parser = subs[0].choices[name]


def main(argv=None):
    """Run ``nengo-lmu`` with ``argv`` (default: ``sys.argv[1:]``); returns
    the exit status. Every error exits with status 2 and the line
    ``nengo-lmu COMMAND: error: <message>``: argparse's for flags (after the
    usage), the command's checks for the rest (`CHECK_ERRORS`: a
    `ValueError`, a missing, unwritable or wrong kind of path, a run too big
    for the machine's memory), without a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = command_parser(parser, args)
    try:
        with output(args.verbose):
            return args.func(args, command)
    except CHECK_ERRORS as e:
        message = str(e) or f"{type(e).__name__} (out of memory)"
        command.exit(2, f"{command.prog}: error: {message}\n")


# names that moved out of the command line in 0.2 (it is not a library)
__getattr__ = moved_attributes(__name__, {"format_delay_table": "nengo_lmu.tasks.delay"})
