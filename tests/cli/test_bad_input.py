"""Bad input at the command line: every row exits with status 2 and one line
``nengo-lmu COMMAND: error: MESSAGE`` (after argparse's usage for flags),
no traceback, before any work (the guards of `tests.tasks.fakes.forbid_work`
fail a row that loads data, builds, simulates, trains or writes) and with
nothing written.

``{out}`` (nothing there), ``{file}`` (a file), ``{dir}`` (an empty
directory), ``{ro}`` (a directory that is not writable) and ``{model}`` (a
small model directory) in a row's argv are paths of `tests.tasks.fakes.places`.
"""

import re

import pytest

from nengo_lmu.cli import CHECK_ERRORS, main
from tests.tasks.fakes import forbid_work, model_dir, places, snapshot  # noqa: F401 (fixtures)

BIG = "(would need about [0-9.]+ [KMGTP]iB, more than the [0-9.]+ [KMGTP]iB of memory of " \
      "this machine: lower {})"

# (argv, regex the error message must match); the command is argv up to the first flag
ROWS = [
    # --- 1. non-finite and out-of-range numbers -----------------------------
    (["psmnist", "train", "--out", "{out}", "--learning-rate", "nan"],
     "--learning-rate must be a finite number, got 'nan'"),
    (["psmnist", "train", "--out", "{out}", "--learning-rate", "inf"],
     "--learning-rate must be a finite number, got 'inf'"),
    (["psmnist", "train", "--out", "{out}", "--learning-rate=-0.001"],
     "--learning-rate must be > 0, got '-0.001'"),
    (["psmnist", "train", "--out", "{out}", "--weight-decay", "nan"],
     "--weight-decay must be a finite number, got 'nan'"),
    (["psmnist", "train", "--out", "{out}", "--weight-decay", "-0.1"],
     "--weight-decay must be >= 0"),
    (["psmnist", "train", "--out", "{out}", "--memory-noise", "inf", "--readout", "hold"],
     "--memory-noise must be a finite number"),
    (["psmnist", "train", "--out", "{out}", "--epochs", "0"], "--epochs must be >= 1"),
    (["psmnist", "evaluate", "--model", "{model}", "--backend", "loihi", "--memory", "spiking",
      "--memory-copies", "0"], "--memory-copies must be >= 1"),
    (["psmnist", "finetune", "--model", "{model}", "--out", "{out}", "--memory-copies", "0"],
     "--memory-copies must be >= 1"),
    (["psmnist", "finetune", "--model", "{model}", "--out", "{out}", "--learning-rate", "nan"],
     "--learning-rate must be a finite number, got 'nan'"),
    (["psmnist", "finetune", "--model", "{model}", "--out", "{out}", "--weight-decay", "inf"],
     "--weight-decay must be a finite number, got 'inf'"),
    (["psmnist", "finetune", "--model", "{model}", "--out", "{out}", "--max-rate", "NaN"],
     "--max-rate must be a finite number"),
    (["psmnist", "finetune", "--model", "{model}", "--out", "{out}", "--epochs", "0"],
     "--epochs must be >= 1"),
    (["psmnist", "evaluate", "--model", "{model}", "--backend", "loihi", "--max-rate", "inf"],
     "--max-rate must be a finite number"),
    (["delay", "--out", "{out}", "--rms", "1e300"], "--rms must be <= 1000000.0, got '1e300'"),
    (["delay", "--out", "{out}", "--rms", "nan"], "--rms must be a finite number"),
    (["delay", "--out", "{out}", "--theta", "nan"], "--theta must be a finite number, got 'nan'"),
    (["delay", "--out", "{out}", "--sim-time", "inf"], "--sim-time must be a finite number"),
    (["delay", "--out", "{out}", "--freq", "inf"], "--freq must be a finite number"),
    (["delay", "--out", "{out}", "--dt", "nan"], "--dt must be a finite number"),
    (["delay", "--out", "{out}", "--synapse=-inf"], "--synapse must be a finite number"),
    (["delay", "--out", "{out}", "--freq", "600"],
     r"freq must lie between 1 / sim_time \(0.05 Hz\) and the Nyquist frequency 0.5 / dt "
     r"\(500 Hz\), got 600.0"),
    (["delay", "--out", "{out}", "--sim-time", "1.0001", "--neurons", "0"],
     r"sim_time must exceed theta \(1 s\) by at least one step of dt"),
    (["demo", "--out", "{out}", "--sim-time", "nan"], "--sim-time must be a finite number"),
    (["online-learning", "--out", "{out}", "--learning-rate", "nan"],
     "--learning-rate must be a finite number"),
    (["online-learning", "--out", "{out}", "--rms", "inf"], "--rms must be a finite number"),
    (["online-learning", "--out", "{out}", "--r", "1.5"],
     r"r must be a relative delay in \[0, 1\], got 1.5"),
    (["online-learning", "--out", "{out}", "--r", "nan"], "--r must be a finite number"),
    (["online-learning", "--out", "{out}", "--test-fraction", "1"],
     r"test_fraction must be a number in \[0, 1\), got 1.0"),
    (["capacity", "--out", "{out}", "--lstm-time-budget", "nan"],
     "--lstm-time-budget must be a finite number"),
    (["mackey-glass", "--out", "{out}", "--learning-rate", "inf"],
     "--learning-rate must be a finite number"),
    (["mackey-glass", "--out", "{out}", "--theta", "nan"], "--theta must be a finite number"),
    (["loihi-report", "--model", "{model}", "--memory-max-rate", "nan"],
     "--memory-max-rate must be a finite number"),
    # --- 2. output paths, checked before the work ---------------------------
    (["delay", "--out", "{file}"], r"--out: '{file}' is a file, not a directory"),
    (["delay", "--out", "{file}/sub"],
     r"--out: '{file}' is not a directory, so the directory '{file}/sub' cannot be created"),
    (["delay", "--out", "{ro}"], r"--out: the directory '{ro}' is not writable"),
    (["demo", "--out", "{file}"], r"--out: '{file}' is a file, not a directory"),
    (["online-learning", "--out", "{file}"], r"--out: '{file}' is a file, not a directory"),
    (["capacity", "--out", "{file}"], r"--out: '{file}' is a file, not a directory"),
    (["mackey-glass", "--out", "{ro}/new"],
     r"--out: the directory '{ro}' is not writable, so the directory '{ro}/new' cannot be "
     "created"),
    (["psmnist", "train", "--out", "{file}"], r"--out: '{file}' is a file, not a directory"),
    (["psmnist", "train", "--out", "{ro}"], r"--out: the directory '{ro}' is not writable"),
    (["psmnist", "finetune", "--model", "{model}", "--out", "{file}"],
     r"--out: '{file}' is a file, not a directory"),
    (["psmnist", "finetune", "--model", "{model}", "--out", "{model}"],
     "out must be a new model directory, not the model's own"),
    (["psmnist", "evaluate", "--model", "{model}", "--json", "{dir}"],
     r"--json: '{dir}' is a directory, not a file"),
    (["psmnist", "evaluate", "--model", "{model}", "--json", "{file}/result.json"],
     r"--json: '{file}' is not a directory, so '{file}/result.json' cannot be written"),
    (["psmnist", "evaluate", "--model", "{model}", "--json", "{ro}/result.json"],
     r"--json: the directory '{ro}' is not writable, so '{ro}/result.json' cannot be written"),
    (["loihi-report", "--delay", "--json", "{dir}"], r"--json: '{dir}' is a directory"),
    (["loihi-report", "--model", "{model}", "--json", "{ro}/report.json"],
     r"--json: the directory '{ro}' is not writable"),
    # --- 3. runs too big for the machine's memory ---------------------------
    (["delay", "--out", "{out}", "--order", "100000"], BIG.format("n_neurons or order")),
    (["delay", "--out", "{out}", "--order", "100000", "--neurons", "0"],
     BIG.format("order")),
    (["delay", "--out", "{out}", "--sim-time", "1e9"], BIG.format(r"sim_time \(or raise dt\)")),
    (["demo", "--out", "{out}", "--sim-time", "1e9"], BIG.format("sim_time")),
    (["online-learning", "--out", "{out}", "--sim-time", "1e9"], BIG.format("sim_time")),
    (["online-learning", "--out", "{out}", "--order", "1000"],
     BIG.format("n_neurons or order")),
    (["capacity", "--out", "{out}", "--T", "1000000000"],
     BIG.format(r"T or n_test \(T = 1000000000 needs the most\)")),
    (["capacity", "--out", "{out}", "--systems", "lstm", "--lstm-T", "1000000"],
     BIG.format("lstm_T or lstm_batch_size")),
    (["mackey-glass", "--out", "{out}", "--n-series", "1000000"],
     BIG.format("n_series, n_steps or order")),
    (["mackey-glass", "--out", "{out}", "--systems", "lmu", "--units", "100000000"],
     BIG.format("units")),
    (["psmnist", "train", "--out", "{out}", "--units", "100000000"],
     "more than this machine.s .*: lower units"),
    (["psmnist", "finetune", "--model", "{model}", "--out", "{out}", "--n-train", "100000000"],
     BIG.format("n_train or n_valid")),
    (["psmnist", "evaluate", "--model", "{model}", "--backend", "loihi", "--memory", "spiking",
      "--memory-neurons", "1000000"], BIG.format("memory_neurons")),
    (["loihi-report", "--model", "{model}", "--memory", "spiking", "--memory-neurons",
      "1000000"], BIG.format("memory_neurons")),
    (["loihi-report", "--model", "{model}", "--memory", "spiking", "--memory-neurons",
      "1000", "--memory-copies", "1000"], BIG.format("memory_neurons")),
    (["loihi-report", "--delay", "--order", "1000"], BIG.format("n_neurons or order")),
    # --- 4. messages that name the flag and say what is wrong ---------------
    (["delay", "--out", "{out}", "--seed", "4294967296"],
     "--seed must be <= 4294967295, got '4294967296'"),
    (["demo", "--out", "{out}", "--seed", "-1"], "--seed must be >= 0"),
    (["online-learning", "--out", "{out}", "--seed", "4294967296"], "--seed must be <= "),
    (["capacity", "--out", "{out}", "--seed", "99999999999"], "--seed must be <= 4294967295"),
    (["mackey-glass", "--out", "{out}", "--seed", "4294967296"], "--seed must be <= "),
    (["psmnist", "train", "--out", "{out}", "--permutation-seed", "4294967296"],
     "--permutation-seed must be <= 4294967295"),
    (["psmnist", "train", "--out", "{out}", "--seed", "4294967296"], "--seed must be <= "),
    (["psmnist", "finetune", "--model", "{model}", "--out", "{out}", "--seed", "4294967296"],
     "--seed must be <= 4294967295"),
    (["psmnist", "evaluate", "--model", "{model}", "--backend", "loihi", "--seed", "-2"],
     "--seed must be >= 0"),
    (["delay", "--out", "{out}", "--theta", "nan", "--sim-time", "5"],
     "argument --theta: --theta must be a finite number"),
    (["psmnist", "evaluate", "--model", "{file}"],
     r"--model: '{file}' is a file, not a model directory"),
    (["psmnist", "evaluate", "--model", "{out}"],
     r"--model: the model directory '{out}' does not exist"),
    (["psmnist", "evaluate", "--model", "{dir}"], r"{dir} is not a trained model|config.json"),
    (["psmnist", "finetune", "--model", "{file}", "--out", "{out}"],
     r"--model: '{file}' is a file, not a model directory"),
    (["loihi-report", "--model", "{file}"], r"--model: '{file}' is a file, not a model directory"),
    (["loihi-report", "--delay", "--memory", "spiking"],
     r"--memory, --max-rate, .* and --seed need --model DIR \(not --delay\)"),
    (["loihi-report", "--delay", "--memory-neurons", "10"], r"need --model DIR \(not --delay\)"),
    (["loihi-report", "--delay", "--seed", "3"], r"need --model DIR \(not --delay\)"),
    (["loihi-report", "--model", "{model}", "--order", "8"],
     r"--order goes with --delay \(the model sets its own\)"),
    (["loihi-report", "--model", "{model}", "--order", "8", "--neurons", "5"],
     r"--order and --neurons go with --delay"),
    (["psmnist", "train", "--out", "{out}", "--input-to-hidden", "--readout", "hold"],
     "--input-to-hidden does not work with --readout hold"),
    (["psmnist", "train", "--out", "{out}", "--readout", "hold", "--method", "sequential"],
     "--readout hold needs --method parallel"),
    (["psmnist", "train", "--out", "{out}", "--hidden-recurrent"],
     "--hidden-to-memory, --memory-to-memory and --hidden-recurrent need --method sequential"),
    (["psmnist", "train", "--out", "{out}", "--translate", "1", "--readout", "hold"],
     r"--translate needs --readout exact"),
    (["psmnist", "train", "--out", "{out}", "--translate", "28"], "--translate must be <= 27"),
    (["psmnist", "train", "--out", "{out}", "--translate", "-1"], "--translate must be >= 0"),
    (["psmnist", "train", "--out", "{out}", "--translate", "1.5"],
     "--translate must be an integer"),
    (["psmnist", "evaluate", "--model", "{model}", "--backend", "loihi", "--streams"],
     "--streams needs --backend loihi and --batch-size"),
    (["psmnist", "evaluate", "--model", "{model}", "--streams", "--batch-size", "2"],
     "--streams needs --backend loihi and --batch-size"),
    # --- export (NIR) -----------------------------------------------------------
    (["export", "--model", "{file}", "--out", "{out}/m.nir"],
     r"--model: '{file}' is a file, not a model directory"),
    (["export", "--model", "{model}", "--out", "{dir}"], r"--out: '{dir}' is a directory"),
    (["export", "--model", "{model}", "--out", "{ro}/m.nir"], r"--out: .*{ro}"),
    (["export", "--model", "{model}", "--out", "{out}/m.nir", "--format", "onnx"],
     r"argument --format: invalid choice: 'onnx'"),
    (["export", "--model", "{model}", "--out", "{out}/m.nir", "--discretization", "rk4"],
     r"argument --discretization: invalid choice: 'rk4'"),
    (["export", "--model", "{model}", "--out", "{out}/m.nir", "--memory-max-rate", "nan"],
     "--memory-max-rate must be a finite number"),
    (["export", "--model", "{model}", "--out", "{out}/m.nir", "--synapses", "cubalif"],
     "--synapses cubalif needs --memory spiking"),
]


def _command(argv):
    return " ".join(a for a in argv[:2] if not a.startswith("-")) if argv[0] == "psmnist" \
        else argv[0]


def _fill(text, places):
    return text.format(**places)


@pytest.mark.parametrize("argv, pattern", ROWS, ids=[" ".join(r[0]) for r in ROWS])
def test_bad_input_exits_2_before_any_work(argv, pattern, places, monkeypatch, capsys):
    argv = [_fill(a, places) for a in argv]
    pattern = _fill(pattern, {k: re.escape(v) for k, v in places.items()})
    before = snapshot(places["tmp"]), snapshot(places["model"])
    forbid_work(monkeypatch)
    with pytest.raises(SystemExit) as e:
        main(argv)
    captured = capsys.readouterr()
    assert e.value.code == 2, captured.err
    assert "Traceback" not in captured.err
    last = captured.err.rstrip("\n").split("\n")[-1]
    prefix = f"nengo-lmu {_command(argv)}: error: "
    assert last.startswith(prefix), captured.err
    assert re.search(pattern, last[len(prefix):]), captured.err
    assert (snapshot(places["tmp"]), snapshot(places["model"])) == before  # nothing written


def test_the_table_covers_every_command():
    commands = {_command(argv) for argv, _ in ROWS}
    assert commands == {"delay", "demo", "online-learning", "capacity", "mackey-glass",
                        "psmnist train", "psmnist finetune", "psmnist evaluate",
                        "loihi-report", "export"}


@pytest.mark.parametrize("error", CHECK_ERRORS)
def test_every_check_error_is_one_line(error, monkeypatch, tmp_path, capsys):
    """Each kind of error a check raises exits with status 2 and the
    command's prefix, without a traceback (a bare MemoryError says so)."""
    from nengo_lmu.tasks import capacity  # pylint: disable=import-outside-toplevel

    def fail(*args, **kwargs):
        raise error() if error is MemoryError else error("what was wrong")

    monkeypatch.setattr(capacity, "run_capacity", fail)
    with pytest.raises(SystemExit) as e:
        main(["capacity", "--out", str(tmp_path / "x")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    expected = "MemoryError (out of memory)" if error is MemoryError else "what was wrong"
    assert err == f"nengo-lmu capacity: error: {expected}\n"


def test_subcommand_errors_name_the_subcommand(monkeypatch, tmp_path, capsys):
    """Errors of ``psmnist train`` (and its parser's own) carry ``nengo-lmu
    psmnist train``, as argparse's do."""
    from nengo_lmu.tasks import psmnist  # pylint: disable=import-outside-toplevel

    def fail(*args, **kwargs):
        raise ValueError("bad setting")

    monkeypatch.setattr(psmnist, "train_psmnist", fail)
    with pytest.raises(SystemExit):
        main(["psmnist", "train", "--out", str(tmp_path / "m")])
    assert capsys.readouterr().err == "nengo-lmu psmnist train: error: bad setting\n"


def test_input_to_hidden_trains_by_either_method(monkeypatch, tmp_path):
    """The parallel path trains ``input_to_hidden`` (its one-step network
    reads ``x_T``), so the flag is passed on with either method and its help
    says so."""
    from nengo_lmu.tasks import psmnist  # pylint: disable=import-outside-toplevel

    calls = []

    def record(out, **kwargs):
        calls.append(kwargs)
        return {"best": {"val_accuracy": 0.5, "epoch": 1}, "wall_s": 0.0}

    monkeypatch.setattr(psmnist, "train_psmnist", record)
    for method in ("parallel", "sequential"):
        assert main(["psmnist", "train", "--out", str(tmp_path / method), "--method", method,
                     "--input-to-hidden", "--no-progress"]) == 0
    assert [(c["method"], c["input_to_hidden"]) for c in calls] == [
        ("parallel", True), ("sequential", True)]
    # --translate: "auto" unless given
    assert [c["translate"] for c in calls] == ["auto", "auto"]
    assert main(["psmnist", "train", "--out", str(tmp_path / "t"), "--translate", "0",
                 "--no-progress"]) == 0
    assert calls[-1]["translate"] == 0
    from nengo_lmu.cli.psmnist import RECURRENT_HELP  # pylint: disable=import-outside-toplevel

    assert RECURRENT_HELP["input_to_hidden"] == "either method; not with --readout hold"


def test_loihi_report_delay_defaults(monkeypatch, capsys):
    """``--order`` and ``--neurons`` default to the paper's network with
    ``--delay`` (not given: None, so that they can be refused with --model)."""
    from nengo_lmu.cli import build_parser  # pylint: disable=import-outside-toplevel
    from nengo_lmu.cli.loihi import check_report_args  # pylint: disable=import-outside-toplevel

    parser = build_parser()
    args = parser.parse_args(["loihi-report", "--delay"])
    check_report_args(parser, args)
    assert (args.order, args.neurons) == (6, 100)
