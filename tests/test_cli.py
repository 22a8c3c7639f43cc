import json

import pytest

from nengo_lmu.cli import main


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
