import argparse
import ast
import importlib
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from nengo_lmu.cli import build_parser, common, main


def test_delay_exact(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["delay", "--neurons", "0", "--sim-time", "12", "--out", str(out),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "r=0.5" in printed and "exact" in printed
    data = json.loads((out / "delay.json").read_text())
    assert set(data["nrmse"]) == {"0.0", "0.25", "0.5", "0.75", "1.0"}
    assert data["backend"] == "nengo" and data["n_neurons_total"] == 0
    assert data["wall_s"] > 0
    # order 6, 1 Hz: the Pade truncation error of the exact system
    assert data["nrmse"]["0.0"] < 0.06
    assert all(data["nrmse"][k] < 0.02 for k in ("0.25", "0.5", "0.75", "1.0"))
    assert (out / "delay.png").stat().st_size > 10_000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files


def test_delay_spiking_nengo(tmp_path):
    out = tmp_path / "spiking"
    main(["delay", "--neurons", "50", "--order", "4", "--theta", "0.5", "--sim-time", "3",
          "--out", str(out), "--no-progress"])
    data = json.loads((out / "delay.json").read_text())
    assert data["n_neurons_total"] == 200
    assert all(v < 0.3 for v in data["nrmse"].values())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["delay", "--order", "0"], "--order must be >= 1"),
        (["delay", "--order", "2.5"], "--order must be an integer"),
        (["delay", "--theta", "-1"], "--theta must be > 0"),
        (["delay", "--freq", "0"], "--freq must be > 0"),
        (["delay", "--neurons", "-3"], "--neurons must be >= 0"),
        (["delay", "--sim-time", "0.5"], "--sim-time: must exceed --theta"),
        (["delay", "--backend", "gpu"], "invalid choice: 'gpu'"),
        (["delay", "--seed", "-1"], "--seed must be >= 0"),
        (["delay", "--dt", "0.5"], "--dt: must be smaller than --synapse"),
    ],
)
def test_bad_flags(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv + ["--out", str(tmp_path / "x")])
    assert e.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # nothing was run or written


def test_atomic_write_leaves_no_partial_file(tmp_path):
    from nengo_lmu.io import write_json

    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(TypeError):
        write_json(target, {"a": object()})  # not JSON-serializable, fails midway
    assert json.loads(target.read_text()) == {"a": 1}  # the old file survives
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert target.stat().st_mode & 0o044  # readable like any file the user writes


# --- the structure of the command line ----------------------------------------

COMMANDS = ["delay", "demo", "online-learning", "capacity", "mackey-glass", "psmnist",
            "loihi-report", "export"]
PSMNIST_COMMANDS = ["train", "finetune", "evaluate"]
SUBCOMMANDS = [[c] for c in COMMANDS] + [["psmnist", c] for c in PSMNIST_COMMANDS]
HEAVY = ("tensorflow", "nengo_dl", "nengo_loihi", "keras_lmu", "keras")
CLI_DIR = Path(__file__).resolve().parents[2] / "nengo_lmu" / "cli"


def _commands(parser):
    """A parser's subcommands: name -> subparser."""
    (sub,) = [a for a in parser._actions  # pylint: disable=protected-access
              if isinstance(a, argparse._SubParsersAction)]  # pylint: disable=protected-access
    return sub.choices


def _subparser(parser, path):
    for name in path:
        parser = _commands(parser)[name]
    return parser


def _action(parser, flag):
    return next(a for a in parser._actions  # pylint: disable=protected-access
                if flag in a.option_strings)


def test_commands_in_order():
    parser = build_parser()
    assert list(_commands(parser)) == COMMANDS
    assert list(_commands(_subparser(parser, ["psmnist"]))) == PSMNIST_COMMANDS


@pytest.mark.parametrize("path", [[]] + SUBCOMMANDS, ids=" ".join)
def test_help(path, capsys):
    with pytest.raises(SystemExit) as e:
        main(path + ["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {' '.join(['nengo-lmu'] + path)} ")
    if not path:
        assert all(c in out for c in COMMANDS)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--sim-time", "1"], "--sim-time must be > 1"),
        (["demo", "--seed", "x"], "--seed must be an integer"),
        (["online-learning", "--order", "0"], "--order must be >= 1"),
        (["online-learning", "--backend", "dl"], "--backend: invalid choice: 'dl'"),
        (["capacity", "--T", "3"], "--T must be >= 4"),
        (["capacity", "--lstm-time-budget", "0"], "--lstm-time-budget must be > 0"),
        (["mackey-glass", "--n-series", "1"], "--n-series must be >= 2"),
        (["psmnist", "train", "--out", "X", "--epochs", "0"], "--epochs must be >= 1"),
        (["psmnist", "train", "--out", "X", "--method", "bptt"], "--method: invalid choice"),
        (["psmnist", "train", "--out", "X", "--hold-steps", "0"], "--hold-steps must be >= 1"),
        (["psmnist", "train", "--out", "X", "--hidden-to-memory"],
         "--hidden-to-memory, --memory-to-memory and --hidden-recurrent need --method "
         "sequential"),
        (["psmnist", "train"], "the following arguments are required: --out"),
        (["psmnist", "finetune", "--model", "X", "--out", "Y", "--memory-neurons", "0"],
         "--memory-neurons must be >= 1"),
        (["psmnist", "finetune", "--model", "X", "--out", "Y", "--window", "0"],
         "--window must be >= 1"),
        (["psmnist", "evaluate", "--model", "X", "--n-test", "0"], "--n-test must be >= 1"),
        (["psmnist", "evaluate", "--model", "X", "--max-rate", "-1"], "--max-rate must be > 0"),
        (["psmnist", "evaluate", "--model", "X", "--window", "2"],
         "--memory, --max-rate, --hold-steps, --window, --memory-neurons, --memory-copies, "
         "--memory-max-rate, --memory-synapse, --steps-per-element and --seed need --backend "
         "loihi"),
        (["psmnist", "evaluate", "--model", "X", "--memory-synapse", "0"],
         "--memory-synapse must be > 0"),
        (["psmnist", "finetune", "--model", "X", "--out", "Y", "--memory-synapse", "-0.1"],
         "--memory-synapse must be > 0"),
        (["psmnist", "evaluate", "--model", "X", "--steps-per-element", "0"],
         "--steps-per-element must be >= 1"),
        (["loihi-report", "--delay", "--neurons", "0"], "--neurons must be >= 1"),
        (["loihi-report", "--delay", "--memory", "on"], "--memory: invalid choice: 'on'"),
        (["loihi-report", "--model", "X", "--delay"], "give either --model DIR or --delay"),
        (["psmnist"], "the following arguments are required: COMMAND"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_flags_every_command(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("usage: nengo-lmu")


def test_number():
    assert common.number(int, "--n", 1)("3") == 3
    assert common.number(float, "--x", 0, exclusive=True)("0.5") == 0.5
    assert common.number(float, "--x")("-2") == -2.0
    for parse, text, message in [
        (common.number(int, "--n", 1), "0", "--n must be >= 1, got '0'"),
        (common.number(int, "--n"), "1.5", "--n must be an integer, got '1.5'"),
        (common.number(float, "--x", 0, exclusive=True), "0", "--x must be > 0, got '0'"),
        (common.number(float, "--x"), "a", "--x must be a number, got 'a'"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse(text)


@pytest.mark.parametrize("path", [["psmnist", "evaluate"], ["loihi-report"]], ids=" ".join)
def test_spiking_flags_show_the_deployment_defaults(path):
    from nengo_lmu.model_dir import SpikingSettings  # pylint: disable=import-outside-toplevel
    from nengo_lmu.readout import ReadoutScheme  # pylint: disable=import-outside-toplevel

    parser = _subparser(build_parser(), path)
    shown = {
        "--max-rate": f"{SpikingSettings.max_rate:g}",
        "--memory-neurons": str(SpikingSettings.memory_neurons),
        "--memory-max-rate": f"{SpikingSettings.memory_max_rate:g}",
        "--hold-steps": str(ReadoutScheme.hold_steps),
        "--window": str(ReadoutScheme.window),
        "--memory-synapse": f"the model's if fine-tuned, else {SpikingSettings.memory_synapse:g}",
        "--steps-per-element": "1",
        "--seed": "drawn anew",
        "--memory": "exact",
    }
    for flag, text in shown.items():
        action = _action(parser, flag)
        assert action.help.endswith(f"(default: {text})"), (flag, action.help)
        assert action.default is None  # not given: left to the model and SpikingSettings


def test_readout_defaults_of_train_and_finetune():
    from nengo_lmu.readout import ReadoutScheme  # pylint: disable=import-outside-toplevel

    train = _subparser(build_parser(), ["psmnist", "train"])
    assert _action(train, "--hold-steps").default == ReadoutScheme.hold_steps
    assert _action(train, "--window").default == ReadoutScheme.window
    finetune = _subparser(build_parser(), ["psmnist", "finetune"])
    assert _action(finetune, "--hold-steps").help.endswith(
        f"(default: the model's, or {ReadoutScheme.hold_steps})")
    assert _action(finetune, "--window").help.endswith(
        f"(default: the model's, or {ReadoutScheme.window})")


@pytest.mark.parametrize("extra, expected", [
    ([], {"memory": "exact"}),
    (["--memory", "spiking", "--memory-neurons", "20", "--seed", "0", "--window", "5"],
     {"memory": "spiking", "memory_neurons": 20, "seed": 0, "window": 5}),
    (["--max-rate", "100", "--hold-steps", "10", "--memory-max-rate", "500"],
     {"memory": "exact", "max_rate": 100.0, "hold_steps": 10, "memory_max_rate": 500.0}),
    (["--memory", "spiking", "--memory-synapse", "0.05"],
     {"memory": "spiking", "memory_synapse": 0.05}),
])
def test_spiking_kwargs(extra, expected):
    for argv in (["psmnist", "evaluate", "--model", "X", "--backend", "loihi"],
                 ["loihi-report", "--model", "X"]):
        args = build_parser().parse_args(argv + extra)
        assert common.spiking_kwargs(args) == expected


def test_value_error_exits_2_with_the_command(monkeypatch, tmp_path, capsys):
    from nengo_lmu.tasks import capacity  # pylint: disable=import-outside-toplevel

    def fail(*args, **kwargs):
        raise ValueError("bad setting")

    monkeypatch.setattr(capacity, "run_capacity", fail)
    with pytest.raises(SystemExit) as e:
        main(["capacity", "--out", str(tmp_path / "x")])
    assert e.value.code == 2
    assert capsys.readouterr().err == "nengo-lmu capacity: error: bad setting\n"


@pytest.mark.parametrize("command, module, runner", [
    ("capacity", "capacity", "run_capacity"),
    ("mackey-glass", "mackey_glass", "run_mackey_glass"),
])
def test_settings_checked_once_by_the_task(command, module, runner, monkeypatch, tmp_path,
                                           capsys):
    """The CLI leaves `check_settings` to the task function, which runs it
    first (so a bad setting still stops everything before any work)."""
    task = importlib.import_module(f"nengo_lmu.tasks.{module}")
    callers = []

    def check_settings(**settings):
        callers.append(sys._getframe(1).f_code.co_name)  # pylint: disable=protected-access
        raise ValueError("stop here")

    monkeypatch.setattr(task, "check_settings", check_settings)
    with pytest.raises(SystemExit) as e:
        main([command, "--out", str(tmp_path / "x"), "--no-progress"])
    assert e.value.code == 2 and "stop here" in capsys.readouterr().err
    assert callers == [runner]
    assert not (tmp_path / "x").exists()


def _run_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))


def test_import_is_cheap():
    """Importing the CLI, and building its parser (``--help``), loads no
    TensorFlow, NengoDL, nengo_loihi or keras_lmu."""
    out = _run_python(
        "import sys\n"
        "import nengo_lmu.cli\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "nengo_lmu.cli.build_parser()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    ).stdout.split("\n")
    assert out[0] == "[]", f"import nengo_lmu.cli loads {out[0]}"
    assert out[1] == "[]", f"build_parser() loads {out[1]}"


def test_python_m_and_console_script():
    result = subprocess.run([sys.executable, "-m", "nengo_lmu.cli", "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("usage: nengo-lmu ")
    result = subprocess.run([sys.executable, "-m", "nengo_lmu.cli", "delay", "--order", "0"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "--order must be >= 1" in result.stderr

    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "nengo-lmu"]
    assert script.value == "nengo_lmu.cli:main" and script.load() is main


def _functions(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.end_lineno - node.lineno + 1


def test_short_functions():
    """Commands under 60 lines, every function (parser builders too) under 120."""
    modules = sorted(CLI_DIR.glob("*.py"))
    assert {p.name for p in modules} >= {"__init__.py", "__main__.py", "common.py",
                                         "delay.py", "psmnist.py", "loihi.py",
                                         "experiments.py"}
    for path in modules:
        for name, length in _functions(path):
            limit = 60 if name.startswith("cmd_") else 120
            assert length <= limit, f"{path.name}:{name} has {length} lines"


def test_every_group_registers_its_commands():
    from nengo_lmu.cli import (  # pylint: disable=import-outside-toplevel
        delay,
        experiments,
        loihi,
        psmnist,
    )

    for group, names in [(delay, ["delay", "demo"]),
                         (experiments, ["online-learning", "capacity", "mackey-glass"]),
                         (psmnist, ["psmnist"]), (loihi, ["loihi-report"])]:
        parser = argparse.ArgumentParser()
        group.add_parser(parser.add_subparsers(dest="command"))
        assert list(_commands(parser)) == names
        for name, sub in _commands(parser).items():
            leaves = _commands(sub).values() if name == "psmnist" else [sub]
            assert all(callable(p.get_default("func")) for p in leaves)


def test_finetune_passes_the_memory_synapse(monkeypatch, tmp_path):
    """``finetune --memory-synapse`` reaches `finetune_psmnist` (which records
    it with the memory's settings); not given, the classifier's default."""
    from nengo_lmu.tasks import finetune as task  # pylint: disable=import-outside-toplevel

    calls = []

    def finetune(model_dir, out, **kwargs):
        calls.append(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(task, "finetune_psmnist", finetune)
    model = tmp_path / "model"
    model.mkdir()
    for extra in (["--memory-synapse", "0.05"], []):
        with pytest.raises(SystemExit):
            main(["psmnist", "finetune", "--model", str(model), "--out", str(tmp_path / "ft"),
                  "--no-progress", *extra])
    assert calls[0]["memory_synapse"] == 0.05
    assert "memory_synapse" not in calls[1]
