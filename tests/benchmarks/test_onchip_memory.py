"""Tests of benchmarks/onchip_memory.py (run as a script): train, measure and
tabulate a realisation of the memory on chip, resumably."""

import json


def test_one_tiny_realisation_end_to_end(run_benchmark, tmp_path):
    args = ("--out", tmp_path / "models", "--docs", tmp_path / "docs",
            "--realisations", "oscillators-4,oscillators-4x2@900", "--memory-neurons", "10",
            "--epochs", "1", "--n-train", "200", "--n-test", "4", "--n-nrmse", "2",
            "--n-nrmse-emulator", "1", "--workers", "2")
    tune = ("--finetune", "oscillators-4x2@900", "--finetune-n-train", "100",
            "--finetune-n-valid", "100", "--finetune-simulation", "emulator",
            "--finetune-learning-rate", "0.003", "--finetune-epochs", "2",
            "--finetune-synthetic", "100")
    proc = run_benchmark("onchip_memory", *args, *tune)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "docs" / "onchip_memory.json").read_text())
    row, slow = result["rows"]
    assert row["memory_kind"] == "oscillators" and row["order"] == 4
    res = row["rate-trained"]
    assert res["emulator"]["n_test"] == 4 and res["emulator"]["steps_per_image"] == 824
    assert res["emulator"]["workers"] == 2  # the test images on worker processes
    # two chip steps per element: the same trained model, run twice as long
    # fine-tuned against the memory at its own K and rate
    # on the emulator's memory, whose states are kept beside the model, and
    # on 100 more images whose states are synthesised from the emulated ones
    tuned_name = "oscillators-4-finetuned-k2-r900-emulator-lr0.003-ep2-syn100"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
        "oscillators-4", tuned_name, tuned_name + "-states.npz"]
    tuned_config = json.loads((tmp_path / "models" / tuned_name / "config.json").read_text())
    tuned = tuned_config["readout"]["spiking_memory"]
    assert tuned["steps_per_element"] == 2 and tuned["memory_max_rate"] == 900
    assert tuned["simulation"] == "emulator" and tuned["from_rest"] is True
    assert tuned_config["n_synthetic"] == 100 and tuned_config["n_train"] == 100
    history = json.loads((tmp_path / "models" / tuned_name / "history.json").read_text())
    assert len(history["epoch"]) == 2
    assert slow["fine-tuned"]["emulator"]["steps_per_image"] == 2 * 824
    assert slow["fine-tuned"]["emulator"]["memory_max_rate"] == 900
    assert slow["steps_per_element"] == 2 and not slow.get("earlier")
    assert slow["rate-trained"]["emulator"]["steps_per_image"] == 2 * 824
    assert slow["rate-trained"]["emulator"]["memory_max_rate"] == 900
    assert slow["rate-trained"]["nrmse_float"]["steps_per_element"] == 2
    assert slow["rate_val_accuracy"] == row["rate_val_accuracy"]
    # two oscillators of 20 neurons and the hidden layer, on one chip
    assert row["report"]["fits_one_chip"] and row["report"]["neurons"] == 40 + 346
    for key in ("nrmse_float", "nrmse_loihi_weights", "nrmse_emulator"):
        assert len(res[key]["per_dimension"]) == 4 and 0 < res[key]["nrmse"] < 5
    assert res["nrmse_emulator"]["n_images"] == 1 and res["nrmse_emulator"]["lag"] in (2, 3, 4)
    assert "| oscillators | 4 | 10 | 700 | 1 | rate-trained | 824 |" in proc.stdout
    assert "| oscillators | 4 | 10 | 900 | 2 | rate-trained | 1648 |" in proc.stdout
    assert (tmp_path / "docs" / "onchip_memory.png").stat().st_size > 10_000
    # rerun: every step is read back, nothing is recomputed
    again = run_benchmark("onchip_memory", *args, *tune)
    assert again.returncode == 0, again.stderr
    assert "state NRMSE" in again.stdout
    assert json.loads((tmp_path / "docs" / "onchip_memory.json").read_text()) == result
    # a run of one realisation keeps the other's row, marked earlier
    once = run_benchmark("onchip_memory", *args[:5], "oscillators-4", *args[6:])
    assert once.returncode == 0, once.stderr
    rows = json.loads((tmp_path / "docs" / "onchip_memory.json").read_text())["rows"]
    assert [(r["name"], r.get("earlier", False)) for r in rows] == [
        ("oscillators-4", False), ("oscillators-4x2@900", True)]
    assert rows[1]["rate-trained"] == slow["rate-trained"]
    assert "| 900 | 2 | rate-trained (earlier run) | 1648 |" in once.stdout


def test_bad_realisation(run_benchmark, tmp_path):
    docs = ("--docs", tmp_path / "docs")  # never the repository's docs
    proc = run_benchmark("onchip_memory", "--out", tmp_path, *docs, "--realisations", "fourier-8")
    assert proc.returncode == 2 and "KIND-ORDER" in proc.stderr
    proc = run_benchmark("onchip_memory", "--out", tmp_path, *docs, "--finetune-epochs", "0")
    assert proc.returncode == 2 and "--finetune-epochs >= 1" in proc.stderr
    proc = run_benchmark("onchip_memory", "--out", tmp_path, *docs,
                         "--finetune-synthetic", "-5")
    assert proc.returncode == 2 and "--finetune-synthetic must be >= 0" in proc.stderr
    proc = run_benchmark("onchip_memory", "--out", tmp_path, *docs, "--workers", "0")
    assert proc.returncode == 2 and "--workers must be >= 1, got 0" in proc.stderr
    proc = run_benchmark("onchip_memory", "--out", tmp_path, *docs,
                         "--finetune-learning-rate", "nan")
    assert proc.returncode == 2 and "--finetune-learning-rate must be > 0" in proc.stderr
    proc = run_benchmark("onchip_memory", "--out", tmp_path, *docs,
                         "--finetune-simulation", "chip")
    assert proc.returncode == 2 and "--finetune-simulation" in proc.stderr
    for name in ("legendre-8x0", "legendre-8@", "legendre-8x2@fast"):
        proc = run_benchmark("onchip_memory", "--out", tmp_path, *docs, "--realisations", name)
        assert proc.returncode == 2 and "KIND-ORDER[xK][@RATE]" in proc.stderr, name
    assert not (tmp_path / "docs").exists()
