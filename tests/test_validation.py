"""The argument checks of `nengo_lmu.validation`."""

import math
import os

import numpy as np
import pytest

from nengo_lmu import validation
from nengo_lmu.validation import (
    InsufficientMemoryError,
    check_choice,
    check_input_dir,
    check_integer,
    check_memory,
    check_output_dir,
    check_output_file,
    check_positive,
    check_real,
    check_seed,
    format_bytes,
    is_finite_real,
    memory_limit,
)

NAN, INF = float("nan"), float("inf")


def test_existing_checks_keep_their_behaviour():
    assert check_integer("n", 3) == 3 and check_integer("n", None, allow_none=True) is None
    assert check_integer("n", np.int64(0), minimum=0) == 0
    for bad in (0, 2.0, True, "3"):
        with pytest.raises(ValueError, match=r"n must be an integer >= 1, got"):
            check_integer("n", bad)
    assert check_positive("x", 2) == 2.0
    for bad in (0, -1, NAN, INF, True, "1"):
        with pytest.raises(ValueError, match="x must be a positive real number, got"):
            check_positive("x", bad)
    assert check_choice("c", "a", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"c must be one of \('a', 'b'\), got 'z'"):
        check_choice("c", "z", ("a", "b"))
    assert is_finite_real(1.5) and not is_finite_real(NAN) and not is_finite_real(True)


@pytest.mark.parametrize("value, kwargs, expected", [
    (0.5, {}, 0.5),
    (3, dict(minimum=0), 3.0),
    (np.float32(2.5), dict(minimum=0, maximum=10), 2.5),
    (0.0, dict(minimum=0), 0.0),
    (1.0, dict(maximum=1), 1.0),
    (INF, dict(minimum=0, allow_inf=True), INF),
    (10**400, dict(allow_inf=True), INF),
    (None, dict(allow_none=True), None),
])
def test_check_real_accepts(value, kwargs, expected):
    assert check_real("x", value, **kwargs) == expected


@pytest.mark.parametrize("value, kwargs, message", [
    (NAN, {}, "x must be a finite real number, got nan"),
    (NAN, dict(allow_inf=True), "x must be a real number, got nan"),
    (INF, {}, "x must be a finite real number, got inf"),
    (-INF, dict(minimum=0, allow_inf=True), "x must be a real number >= 0, got -inf"),
    (10**400, {}, r"x must be a finite real number, got 1000.*\.\.\.$"),
    (0, dict(minimum=0, exclusive_minimum=True), "x must be a finite real number > 0, got 0"),
    (-1e-9, dict(minimum=0), "x must be a finite real number >= 0, got -1e-09"),
    (1.5, dict(maximum=1), "x must be a finite real number <= 1, got 1.5"),
    (1, dict(minimum=0, maximum=1, exclusive_maximum=True),
     "x must be a finite real number >= 0 and < 1, got 1"),
    (2e6, dict(minimum=0, maximum=1e6, exclusive_minimum=True),
     r"x must be a finite real number > 0 and <= 1e\+06, got 2000000.0"),
    (True, {}, "got True"),
    (np.bool_(False), {}, "got False"),
    ("1", {}, "got '1'"),
    (None, {}, "got None"),
    (1j, {}, r"got 1j"),
    (NAN, dict(allow_none=True), "x must be a finite real number or None, got nan"),
])
def test_check_real_refuses(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_real("x", value, **kwargs)


def test_check_seed():
    assert check_seed("seed", 0) == 0 and check_seed("seed", 2**32 - 1) == 2**32 - 1
    assert check_seed("seed", np.uint32(7)) == 7
    assert check_seed("seed", None, allow_none=True) is None
    for bad in (-1, 2**32, 1.0, True, "3", None):
        with pytest.raises(ValueError,
                           match=r"^--seed must be an integer in 0\.\.4294967295, got "):
            check_seed("--seed", bad)
    with pytest.raises(ValueError, match=r"0\.\.4294967295 or None, got -1"):
        check_seed("seed", -1, allow_none=True)
    np.random.RandomState(check_seed("seed", 2**32 - 1))  # what numpy accepts


def test_check_output_dir(tmp_path, monkeypatch):
    file = tmp_path / "file"
    file.write_text("x")
    assert check_output_dir("--out", tmp_path) == str(tmp_path)  # exists, writable
    assert check_output_dir("--out", str(tmp_path / "a" / "b")) == str(tmp_path / "a" / "b")
    assert not (tmp_path / "a").exists()  # nothing created
    with pytest.raises(NotADirectoryError, match=r"^--out: '.*file' is a file, not a directory"):
        check_output_dir("--out", file)
    with pytest.raises(NotADirectoryError,
                       match=r"'.*file' is not a directory, so the directory '.*file/x/y' "
                       "cannot be created"):
        check_output_dir("--out", file / "x" / "y")
    for bad in ("", None, 3):
        with pytest.raises(ValueError, match="out must be a directory path"):
            check_output_dir("out", bad)
    (tmp_path / "broken").symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="is a broken symbolic link"):
        check_output_dir("out", tmp_path / "broken" / "sub")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(PermissionError, match=r"out: the directory '.*' is not writable$"):
        check_output_dir("out", tmp_path)
    with pytest.raises(PermissionError, match=r"is not writable, so the directory '.*new' "
                       "cannot be created"):
        check_output_dir("out", tmp_path / "new")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any directory")
def test_check_output_dir_of_a_read_only_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="is not writable"):
            check_output_dir("--out", ro)
    finally:
        ro.chmod(0o700)


def test_check_output_file(tmp_path, monkeypatch):
    file = tmp_path / "old.json"
    file.write_text("{}")
    assert check_output_file("--json", file) == str(file)  # replaced atomically
    assert check_output_file("--json", tmp_path / "new" / "r.json")
    assert check_output_file("--json", "relative.json") == "relative.json"
    with pytest.raises(IsADirectoryError, match=r"^--json: '.*' is a directory, not a file"):
        check_output_file("--json", tmp_path)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        check_output_file("--json", str(tmp_path / "sub") + os.sep)
    with pytest.raises(NotADirectoryError,
                       match=r"'.*old.json' is not a directory, so '.*old.json/r.json' "
                       "cannot be written"):
        check_output_file("--json", file / "r.json")
    with pytest.raises(ValueError, match="--json must be a file path"):
        check_output_file("--json", "")
    monkeypatch.setattr(validation, "_writable", lambda path: False)
    with pytest.raises(PermissionError,
                       match=r"the directory '.*' is not writable, so '.*r.json' cannot be "
                       "written"):
        check_output_file("--json", tmp_path / "r.json")


def test_check_input_dir(tmp_path):
    (tmp_path / "f").write_text("x")
    assert check_input_dir("--model", tmp_path) == str(tmp_path)
    with pytest.raises(NotADirectoryError,
                       match=r"--model: '.*f' is a file, not a model directory"):
        check_input_dir("--model", tmp_path / "f", "model directory")
    with pytest.raises(FileNotFoundError, match=r"the directory '.*none' does not exist"):
        check_input_dir("model_dir", tmp_path / "none")


def test_check_memory(monkeypatch):
    assert check_memory("n", 10, "it", limit=100) == 10
    with pytest.raises(InsufficientMemoryError,
                       match=r"^the probes would need about 1.0 TiB, more than the 2.0 GiB "
                       r"of memory of this machine: lower sim_time$"):
        check_memory("sim_time", 2**40, "the probes", limit=2 * 2**30)
    limit = memory_limit()
    assert limit == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    check_memory("x", limit, "all of it")
    with pytest.raises(MemoryError):
        check_memory("x", limit + 1, "more")
    with pytest.raises(ValueError):  # both kinds of error
        check_memory("x", limit + 1, "more")
    monkeypatch.setattr(validation, "memory_limit", lambda: None)  # unknown: no check
    assert check_memory("x", 10**30, "anything") == 10**30


def test_format_bytes():
    assert format_bytes(512) == "512 bytes"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(3 * 2**30) == "3.0 GiB"
    assert format_bytes(2**60) == "1024.0 PiB"
    assert math.isclose(float(format_bytes(2**20 * 1.25).split()[0]), 1.2, abs_tol=0.05)
