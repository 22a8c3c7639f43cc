"""Readable output in a log file: no notices without --verbose, no redraws."""

import os
import subprocess
import sys

import pytest

TRAIN = ["psmnist", "train", "--epochs", "1", "--n-train", "1000", "--units", "16",
         "--order", "8"]


def run(args, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, "-m", "nengo_lmu.cli", *args, "--out",
                          str(tmp_path / "model")], capture_output=True, text=True,
                         env=env, check=True)
    return out.stdout + out.stderr


@pytest.mark.parametrize("verbose", [False, True])
def test_training_log_is_quiet(tmp_path, verbose):
    text = run(TRAIN + (["--verbose"] if verbose else []), tmp_path)
    assert "epoch 1: loss" in text
    assert "\r" not in text and "\x08" not in text  # no progress-bar redraws
    notices = ("No GPU support detected", "TF-TRT Warning", "cpu_feature_guard")
    if verbose:
        assert any(n in text for n in notices), text
    else:
        assert not any(n in text for n in notices), text
        assert len(text.splitlines()) <= 5, text
