"""Batched emulation across processes and a Ray cluster (nengo_lmu.distributed):
the results of one process, image for image, whatever the workers; a lost
worker's chunk run again; bad settings refused before any work."""

import json
import sys

import numpy as np
import pytest

from nengo_lmu.batching import emulated_memory_states, run_batched
from nengo_lmu.distributed import (
    ClassifierSpec,
    DistributedRun,
    WorkerLostError,
    _Faults,
    chunk_bounds,
    distributed_memory_states,
    fingerprint,
    run_distributed,
)
from nengo_lmu.lmu import build_classifier
from tests.classifiers import CONFIG, small_classifier

#: As tests/test_batching.py: short holds, a spiking memory of 10 neurons per dimension.
SETTINGS = dict(hold_steps=20, window=10, memory_neurons=10, max_rate=400, seed=3)


@pytest.fixture(scope="module")
def small():
    """A small random classifier's weights, calibration and test sequences."""
    params, x = small_classifier()
    return params, x[:20], x[20:]


def spec_of(small, memory="exact", **settings):
    params, x_cal, _ = small
    return ClassifierSpec(CONFIG, params, x_cal, memory, {**SETTINGS, **settings})


@pytest.fixture(scope="module")
def reference(small):
    """`run_batched` in this process, per memory: what every split must give."""
    return {m: run_batched(spec_of(small, m).build(), small[2], batch_size=3,
                           progress_bar=False) for m in ("exact", "spiking")}


def same(run, ref):
    assert np.array_equal(run.predictions, ref.predictions)
    assert np.array_equal(run.counts, ref.counts)
    assert np.array_equal(run.rates, ref.rates)
    assert np.allclose(run.logits, ref.logits, rtol=0, atol=1e-12)


def test_chunk_bounds():
    assert chunk_bounds(20, 7) == [(0, 7), (7, 14), (14, 20)]
    assert chunk_bounds(3, 7) == [(0, 3)]
    assert chunk_bounds(8, 4) == [(0, 4), (4, 8)]


@pytest.mark.parametrize("memory, chunk_size", [("exact", 7), ("exact", 3), ("spiking", 7)])
def test_workers_match_one_process(small, reference, memory, chunk_size, capsys):
    """Two worker processes, chunks that do not divide the 20 images (nor
    the batch size): predictions, spike counts and rates of one process."""
    ref = reference[memory]
    one = run_distributed(spec_of(small, memory), small[2], batch_size=3, workers=1,
                          progress_bar=False)
    same(one, ref)
    assert isinstance(one, DistributedRun) and one.workers == 1
    two = run_distributed(spec_of(small, memory), small[2], batch_size=3, workers=2,
                          chunk_size=chunk_size)
    same(two, ref)
    n_chunks = -(-20 // chunk_size)
    assert (two.workers, two.n_chunks, two.chunk_size, two.retries) == (2, n_chunks,
                                                                        chunk_size, 0)
    assert two.to_json()["workers"] == 2 and two.batch_size == 3
    # a progress line per chunk, the last with every image
    out = capsys.readouterr().out
    assert out.count(" done by worker ") == n_chunks
    assert f"20/20 images, {n_chunks}/{n_chunks} chunks" in out and "ETA" in out


def test_unseeded_exact_memory_matches(small, reference):
    """The exact memory's network has nothing random: no seed needed."""
    settings = {k: v for k, v in SETTINGS.items() if k != "seed"}
    params, x_cal, x = small
    spec = ClassifierSpec(CONFIG, params, x_cal, "exact", settings)
    same(run_distributed(spec, x, batch_size=3, workers=2, chunk_size=10,
                         progress_bar=False), reference["exact"])


def test_workers_round_as_this_process(small):
    """OpenBLAS rounds the closed-form memory of 200-step sequences differently
    with 1 and 2 threads (another calibration: another classifier): the
    workers compute it with this process's threads, whatever theirs."""
    tpc = pytest.importorskip("threadpoolctl")
    config = {**CONFIG, "theta": 200.0, "order": 16}
    rng = np.random.RandomState(1)
    params = build_classifier(config, method="parallel").get_params()
    params["W_m"] = rng.normal(size=params["W_m"].shape) * 0.5
    params["W_out"] = rng.normal(size=params["W_out"].shape)
    x = rng.uniform(0, 1, size=(16, 200, 1))
    spec = ClassifierSpec(config, params, x[:8], "exact", SETTINGS)
    prints = []
    for threads in (1, 2):
        with tpc.threadpool_limits(threads, user_api="blas"):
            classifier = spec.build()
            prints.append(fingerprint(classifier))
            ref = run_batched(classifier, x[8:], batch_size=3, progress_bar=False)
            same(run_distributed(spec, x[8:], batch_size=3, workers=2, chunk_size=4,
                                 progress_bar=False), ref)
    if prints[0] == prints[1]:
        pytest.skip("this machine's BLAS rounds alike with 1 and 2 threads")


def test_killed_worker_is_retried(small, reference, tmp_path, capsys):
    """The first attempt of chunk 0 dies (``os._exit(1)``, as a killed
    process): a new worker runs it and the result is unchanged."""
    run = run_distributed(spec_of(small), small[2], batch_size=3, workers=2, chunk_size=7,
                          _faults=_Faults(str(tmp_path), crash=(0,)))
    same(run, reference["exact"])
    assert run.retries == 1
    assert "died (exit code 1) on chunk 1 (images 0-6); running it again (attempt 2 of 3)" \
        in capsys.readouterr().out


def test_worker_lost_too_often(small, tmp_path):
    with pytest.raises(WorkerLostError, match=r"chunk 2 \(images 7-13\) lost its worker "
                       r"process 2 times .*max_attempts=2"):
        run_distributed(spec_of(small), small[2], batch_size=3, workers=2, chunk_size=7,
                        max_attempts=2, progress_bar=False,
                        _faults=_Faults(str(tmp_path), crash=(1,), times=2))


def test_memory_states_match_one_process(small, tmp_path):
    """The emulated memory states (what `finetune` trains on) spread over two
    workers, in chunks that do not divide the batch size, with a worker lost
    on chunk 0: the arrays of one `emulated_memory_states` call, to the bit."""
    spec = spec_of(small, "spiking")
    classifier = spec.build()
    x = small[2]
    ref = emulated_memory_states(classifier, x, batch_size=3, progress_bar=False)
    assert ref.shape == (SETTINGS["window"] + 1, len(x), CONFIG["order"])
    assert np.std(ref) > 0.01  # a memory that holds something
    one = distributed_memory_states(spec, x, batch_size=3, progress_bar=False,
                                    classifier=classifier)
    two = distributed_memory_states(spec, x, batch_size=3, workers=2, chunk_size=7,
                                    progress_bar=False,
                                    _faults=_Faults(str(tmp_path), crash=(0,)))
    assert one.dtype == two.dtype == ref.dtype
    assert np.array_equal(one, ref) and np.array_equal(two, ref)
    assert (tmp_path / "chunk0.attempt0").exists()  # the lost chunk ran again
    with pytest.raises(ValueError, match=r"needs spec.memory='spiking'.*got 'exact'"):
        distributed_memory_states(spec_of(small, "exact"), x, workers=2)


def test_ray_cluster(small, reference, tmp_path):
    """A local Ray cluster of 2 CPUs (this process connected to it, as to
    ``ray_address="auto"``); its first attempt at chunk 0 dies and Ray runs
    it again (``max_retries``)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run = run_distributed(spec_of(small, "spiking"), small[2], batch_size=3,
                              chunk_size=7, ray_address="auto", progress_bar=False,
                              _faults=_Faults(str(tmp_path), crash=(0,)))
        states = distributed_memory_states(spec_of(small, "spiking"), small[2], batch_size=3,
                                           chunk_size=7, ray_address="auto",
                                           progress_bar=False)
    finally:
        ray.shutdown()
    same(run, reference["spiking"])
    assert np.array_equal(states, emulated_memory_states(
        spec_of(small, "spiking").build(), small[2], batch_size=3, progress_bar=False))
    assert (run.workers, run.ray_address, run.n_chunks, run.retries) == (2, "auto", 3, None)
    assert (tmp_path / "chunk0.attempt0").exists()


@pytest.mark.parametrize("kwargs, match", [
    (dict(workers=0), r"workers must be an integer >= 1, got 0"),
    (dict(workers=1.5), r"workers must be an integer >= 1, got 1.5"),
    (dict(chunk_size=0), r"chunk_size must be an integer >= 1 or None, got 0"),
    (dict(max_attempts=0), r"max_attempts must be an integer >= 1, got 0"),
    (dict(batch_size=0), r"batch_size must be an integer >= 1, got 0"),
    (dict(workers=2, ray_address="auto"), r"with ray_address the cluster's CPUs are"),
    (dict(ray_address=""), r"ray_address must be a Ray address"),
])
def test_bad_settings(small, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_distributed(spec_of(small), small[2], **kwargs)


def test_bad_spec(small):
    with pytest.raises(ValueError, match=r"spec must be a ClassifierSpec"):
        run_distributed(spec_of(small).build(), small[2])
    params, x_cal, _ = small
    with pytest.raises(ValueError, match=r"memory='spiking' across processes needs a seed"):
        ClassifierSpec(CONFIG, params, x_cal, "spiking", {"hold_steps": 20})
    with pytest.raises(ValueError, match=r"x must have 30 steps per sequence"):
        run_distributed(spec_of(small), small[2][:, :10])


def test_ray_missing(small, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ImportError, match=r"pip install nengo-lmu\[cluster\]"):
        run_distributed(spec_of(small), small[2], ray_address="auto")


# -- evaluate_psmnist and the command line ----------------------------------------


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from tests.tasks.fakes import write_model_dir  # pylint: disable=import-outside-toplevel

    return write_model_dir(str(tmp_path_factory.mktemp("distributed") / "model"))


def test_evaluate_workers_cli(model_dir, tmp_path, capsys):
    """``psmnist evaluate --workers 2``: the predictions of one process, and
    the JSON says how it ran; without a batch size, 64 side by side."""
    from nengo_lmu.cli import main  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.psmnist import evaluate_psmnist  # pylint: disable=import-outside-toplevel

    readout = dict(hold_steps=20, window=10)
    one = evaluate_psmnist(model_dir, backend="loihi", n_test=11, batch_size=4,
                           progress_bar=False, **readout)
    assert one["workers"] == 1 and "n_chunks" not in one
    path = tmp_path / "ev.json"
    assert main(["psmnist", "evaluate", "--model", model_dir, "--backend", "loihi",
                 "--n-test", "11", "--workers", "2", "--batch-size", "1", "--hold-steps",
                 "20", "--window", "10", "--json", str(path), "--no-progress"]) == 0
    result = json.loads(path.read_text())
    assert result["predictions"] == one["predictions"] and result["n_test"] == 11
    assert (result["workers"], result["batch_size"], result["chunk_size"], result["n_chunks"],
            result["retries"]) == (2, 1, 8, 2, 0)
    assert "2 chunks of 8 images on 2 worker processes, 0 retried" in capsys.readouterr().out
    default = evaluate_psmnist(model_dir, backend="loihi", n_test=11, workers=2,
                               progress_bar=False, **readout)
    assert default["predictions"] == one["predictions"]
    assert (default["batch_size"], default["chunk_size"], default["workers"]) == (64, 512, 2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(backend="loihi", workers=0), r"workers must be an integer >= 1, got 0"),
    (dict(backend="dl", workers=2), r"workers and ray_address apply to backend='loihi'"),
    (dict(backend="loihi", workers=2, ray_address="auto"), r"the cluster's CPUs are"),
    (dict(backend="loihi", workers=2, memory="spiking"),
     r"workers > 1 or ray_address with memory='spiking' needs a seed"),
])
def test_evaluate_refuses_before_work(model_dir, monkeypatch, kwargs, match):
    from nengo_lmu.tasks.psmnist import evaluate_psmnist  # pylint: disable=import-outside-toplevel
    from tests.tasks.fakes import forbid_work  # pylint: disable=import-outside-toplevel

    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match=match):
        evaluate_psmnist(model_dir, **kwargs)


@pytest.mark.parametrize("flags, match", [
    (["--backend", "loihi", "--workers", "0"], r"--workers must be >= 1, got '0'"),
    (["--workers", "2"], r"--workers and --ray-address need --backend loihi"),
    (["--backend", "loihi", "--workers", "2", "--ray-address", "auto"],
     r"--workers and --ray-address exclude each other"),
    (["--backend", "loihi", "--ray-address", "auto"],
     r"--ray-address: ray_address needs Ray.*pip install nengo-lmu\[cluster\]"),
])
def test_evaluate_cli_refuses(model_dir, monkeypatch, capsys, flags, match):
    from nengo_lmu.cli import main  # pylint: disable=import-outside-toplevel
    from tests.tasks.fakes import forbid_work  # pylint: disable=import-outside-toplevel

    forbid_work(monkeypatch)
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(SystemExit) as exit_:
        main(["psmnist", "evaluate", "--model", model_dir, *flags])
    assert exit_.value.code == 2
    assert len(__import__("re").findall(match, capsys.readouterr().err)) == 1
