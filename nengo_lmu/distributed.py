"""Batched Loihi emulation across processes on this machine or a Ray cluster.

`run_distributed` splits the images into chunks of consecutive images
(`chunk_bounds`: fixed by the number of images and ``chunk_size`` alone),
runs each chunk with `nengo_lmu.batching.run_batched` (``reset=True``:
every image from rest, so an image's result depends on nothing else) in a
worker, and merges the chunks in the order of the images: the logits,
predictions, spike counts and rates are those of one ``run_batched`` on all
the images, whatever the number of workers and wherever they run.
`distributed_memory_states` does the same for
`nengo_lmu.batching.emulated_memory_states`, the emulated memory that
`nengo_lmu.tasks.finetune.finetune_psmnist` trains the readout on.

Workers receive plain, picklable inputs (`ClassifierSpec`: the model's
config, its weights, the calibration images and the spiking settings) and
rebuild the classifier themselves, once per process; each reports a
fingerprint of what it built (the calibrated scales, the weights and the
versions of the packages that set the spikes), which must equal this
process's, so a worker with other package versions is refused rather than
merged.

- ``workers=N`` (this machine): N processes started with the ``spawn``
  method (TensorFlow and ``fork`` do not mix), none importing TensorFlow
  (nengo_loihi imports NengoDL, and with it TensorFlow, when they are
  installed; the emulator needs neither). A worker process that dies
  (killed, out of memory) has its chunk run again by a new one, up to
  ``max_attempts`` attempts, then `WorkerLostError`. An exception in a
  worker is raised here with its traceback, without retrying (it would fail
  again).

**BLAS threads.** OpenBLAS rounds a matrix product differently with another
number of threads (the calibration's and the inputs' closed-form memory
differ in the last bits between 1 and 2 threads: another classifier). So a
worker computes those (`SpikingLMUClassifier`'s calibration and
``set_inputs``) with this process's number of BLAS threads, and the
emulation, whose integer sums are exact with any, with ``cpus // N``
threads (N workers do not oversubscribe the machine). That takes
threadpoolctl (installed with ``nengo-lmu[cluster]``); without it the
workers keep this process's thread settings, correct but oversubscribed.
- ``ray_address=ADDR``: the chunks become Ray tasks (``max_retries =
  max_attempts - 1`` for workers that die) on an existing cluster
  (``ray.init(address=ADDR)``; a Ray connection already open in this
  process is used as it is). Every node needs the same nengo-lmu, nengo,
  nengo-loihi and numpy as this one. Ray is optional: ``pip install
  nengo-lmu[cluster]``.

Progress is one line per finished chunk (images done of all, elapsed time,
ETA) and one per retried chunk.

This module imports neither NengoDL nor TensorFlow, nengo_loihi only in the
workers (through `run_batched`), and ``ray`` only when ``ray_address`` is given.
"""

import collections
import dataclasses
import hashlib
import importlib.metadata
import multiprocessing
import multiprocessing.connection
import os
import sys
import time
import traceback
import warnings

import numpy as np
from nengo.utils.progress import timestamp2timedelta

from nengo_lmu.batching import (
    DEFAULT_BATCH_SIZE,
    BatchedRun,
    emulated_memory_states,
    run_batched,
)
from nengo_lmu.spiking import SpikingLMUClassifier, check_sequences_arg
from nengo_lmu.validation import check_choice, check_integer

#: Chunks of ``DEFAULT_CHUNK_BATCHES * batch_size`` images by default (512 at
#: batch size 64): every chunk builds the emulator again (`run_batched`;
#: 0.3 s for the exact memory of order 256, 0.7 s for a spiking memory of
#: order 16, against 3.6 s for its 256 images on one core), and a lost
#: worker costs its chunk; 1,000 images make 2 chunks, 10,000 make 20.
DEFAULT_CHUNK_BATCHES = 8

#: Attempts of a chunk whose worker dies, by default (the first included).
DEFAULT_MAX_ATTEMPTS = 3

#: What `pip` installs for ``ray_address``.
RAY_EXTRA = "pip install nengo-lmu[cluster]"

#: The packages whose versions set the spikes; a worker must have this process's.
FINGERPRINT_PACKAGES = ("nengo-lmu", "nengo", "nengo-loihi", "numpy")

#: BLAS and OpenMP thread counts set in every worker before numpy loads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


class WorkerLostError(RuntimeError):
    """A chunk's worker died ``max_attempts`` times (or workers kept dying at start)."""


class WorkerError(RuntimeError):
    """An exception in a worker; the message holds the worker's traceback."""


def import_ray():
    """The ``ray`` module, or an `ImportError` naming `RAY_EXTRA`."""
    try:
        import ray  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ImportError(f"ray_address needs Ray, which is not installed: {RAY_EXTRA}") \
            from None
    return ray


@dataclasses.dataclass(frozen=True, eq=False)
class ClassifierSpec:
    """What a worker needs to build a `SpikingLMUClassifier`: plain data only.

    Parameters
    ----------
    config : dict
        The model's config (``config.json``'s ``"model"``).
    params : dict
        Its weights, name to array (``params.npz``).
    calibration_x : ndarray, shape ``(n, T, 1)``
        The calibration images (float).
    memory : {"exact", "spiking"}
    settings : dict
        `SpikingLMUClassifier`'s keyword arguments (``max_rate``, ``seed``, ...).
        With ``memory="spiking"`` a ``seed`` is required: every worker builds
        the memory, and unseeded each would draw another tuning.
    """

    config: dict
    params: dict
    calibration_x: np.ndarray
    memory: str = "exact"
    settings: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        check_choice("memory", self.memory, ("exact", "spiking"))
        if self.memory == "spiking" and self.settings.get("seed") is None:
            raise ValueError(
                "memory='spiking' across processes needs a seed (seed=...; --seed): every "
                "worker builds the spiking memory, and unseeded each would draw another "
                "tuning, another network")
        set_ = object.__setattr__  # frozen
        set_(self, "config", dict(self.config))
        set_(self, "params", {k: np.asarray(v) for k, v in self.params.items()})
        set_(self, "calibration_x", check_sequences_arg("calibration_x", self.calibration_x))
        set_(self, "settings", dict(self.settings))
        digest = hashlib.sha256(repr((sorted(self.config.items()), self.memory,
                                      sorted(self.settings.items()))).encode())
        for name in sorted(self.params):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(self.params[name]).tobytes())
        digest.update(self.calibration_x.tobytes())
        set_(self, "key", digest.hexdigest())

    def build(self):
        """The classifier (validates everything, as `SpikingLMUClassifier` does)."""
        return SpikingLMUClassifier(self.config, self.params, self.calibration_x,
                                    memory=self.memory, **self.settings)


def fingerprint(classifier):
    """What must agree between this process's classifier and a worker's: the
    versions of `FINGERPRINT_PACKAGES` and a digest of the calibrated scales,
    the weights and the readout (``{"versions": {...}, "classifier": hex}``)."""
    digest = hashlib.sha256(repr((float(classifier.alpha).hex(), classifier.steps_per_sequence,
                                  classifier.window, classifier.memory_mode,
                                  classifier.seed)).encode())
    digest.update(np.ascontiguousarray(classifier.m_scale, dtype=np.float64).tobytes())
    for name in sorted(classifier.params):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(classifier.params[name]).tobytes())
    return {"versions": {p: _version(p) for p in FINGERPRINT_PACKAGES},
            "classifier": digest.hexdigest()}


def _version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _check_fingerprint(expected, got, where):
    if got == expected:
        return
    differ = {p: (expected["versions"][p], got["versions"].get(p))
              for p in expected["versions"] if expected["versions"][p] != got["versions"].get(p)}
    detail = ("package versions differ (here, there): "
              + ", ".join(f"{p} {a} / {b}" for p, (a, b) in differ.items()) if differ
              else "the calibrated classifier differs (another BLAS or platform?)")
    raise WorkerError(f"{where} built another classifier than this process: {detail}; its "
                      "results would not be those of a single run")


def chunk_bounds(n, chunk_size):
    """``[(start, stop), ...]``: images ``0..n-1`` in chunks of ``chunk_size``
    consecutive images (the last one shorter)."""
    return [(start, min(start + chunk_size, n)) for start in range(0, n, chunk_size)]


#: What a chunk computes: `run_batched` (``"run"``: logits, rates, spike
#: counts) or `emulated_memory_states` (``"memory_states"``).
TASKS = ("run", "memory_states")


def run_chunk(classifier, x, batch_size, task="run"):
    """``task`` on images ``x``, every image from rest: with ``"run"``,
    `run_batched` (``backend="loihi"``), ``{"logits", "rates", "counts",
    "wall_s", "warnings"}``; with ``"memory_states"``,
    `emulated_memory_states`, ``{"states", "wall_s", "warnings"}``. The
    warnings as ``(category, message)`` pairs, once each."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        part = _compute(task, classifier, x, batch_size, progress_bar=False)
    seen = {}
    for w in caught:
        seen.setdefault((w.category, str(w.message)), None)
    return {**part, "wall_s": time.perf_counter() - start, "warnings": list(seen)}


def _compute(task, classifier, x, batch_size, progress_bar):
    """One chunk's ``task`` in this process, without its warnings caught."""
    if check_choice("task", task, TASKS) == "run":
        run = run_batched(classifier, x, batch_size=batch_size, backend="loihi",
                          progress_bar=progress_bar)
        return {"logits": run.logits, "rates": run.rates, "counts": run.counts}
    return {"states": emulated_memory_states(classifier, x, batch_size=batch_size,
                                             progress_bar=progress_bar)}


@dataclasses.dataclass
class DistributedRun(BatchedRun):
    """What `run_distributed` returns: a `BatchedRun` (rows in the order of
    the images) and how it was spread.

    Attributes
    ----------
    workers : int
        Worker processes (the Ray cluster's CPUs with ``ray_address``).
    ray_address : str or None
    chunk_size, n_chunks : int
    retries : int or None
        Chunks run again after their worker died (None on Ray, which retries
        by itself: ``max_retries``).
    """

    workers: int = 1
    ray_address: str = None
    chunk_size: int = 0
    n_chunks: int = 0
    retries: int = 0

    def to_json(self):
        return {**super().to_json(), "workers": self.workers, "ray_address": self.ray_address,
                "chunk_size": self.chunk_size, "n_chunks": self.n_chunks,
                "retries": self.retries}


def check_distributed_args(workers=1, ray_address=None, batch_size=DEFAULT_BATCH_SIZE,
                           chunk_size=None, max_attempts=DEFAULT_MAX_ATTEMPTS):
    """Check `run_distributed`'s settings before any work (`ValueError`s naming
    the argument; `ImportError` for ``ray_address`` without Ray). Returns
    ``workers`` as an int."""
    workers = check_integer("workers", workers)
    check_integer("batch_size", batch_size)
    check_integer("chunk_size", chunk_size, allow_none=True)
    check_integer("max_attempts", max_attempts)
    if ray_address is not None:
        if not isinstance(ray_address, str) or not ray_address.strip():
            raise ValueError(f"ray_address must be a Ray address (e.g. 'auto', "
                             f"'host:6379', 'ray://host:10001'), got {ray_address!r}")
        if workers != 1:
            raise ValueError(f"workers applies to processes on this machine; with "
                             f"ray_address the cluster's CPUs are the workers (got "
                             f"workers={workers})")
        import_ray()
    return workers


def run_distributed(spec, x, batch_size=DEFAULT_BATCH_SIZE, workers=1, ray_address=None,
                    chunk_size=None, max_attempts=DEFAULT_MAX_ATTEMPTS, progress_bar=True,
                    classifier=None, _faults=None):
    """`run_batched` on ``x``, in chunks spread over workers; identical results.

    Parameters
    ----------
    spec : `ClassifierSpec`
        The classifier, as data: every worker builds it from this.
    x : ndarray, shape ``(n, T, 1)``
        Float sequences.
    batch_size : int
        Images emulated side by side in each worker.
    workers : int
        Processes on this machine (1: `run_batched` here, no process started).
    ray_address : str, optional
        A Ray cluster to send the chunks to instead (``"auto"``,
        ``"host:6379"``, ``"ray://host:10001"``; see ``ray.init``).
    chunk_size : int, optional
        Images per chunk (default ``DEFAULT_CHUNK_BATCHES * batch_size``); it
        sets the chunks, never the results. One worker runs all the images
        as one chunk.
    max_attempts : int
        Runs of a chunk whose worker dies, the first included.
    progress_bar : bool
        A line per finished (or retried) chunk.
    classifier : `SpikingLMUClassifier`, optional
        ``spec.build()``, if already built here: what the workers' must equal.

    Returns
    -------
    `DistributedRun`
        What `run_batched` on all of ``x`` in this process returns, exactly
        (the logits computed here from the merged rates, as it computes
        them), plus how the run was spread.
    """
    start = time.perf_counter()
    classifier, parts, spread = _spread("run", spec, x, batch_size, workers, ray_address,
                                        chunk_size, max_attempts, progress_bar, classifier,
                                        _faults)
    rates = np.concatenate([p["rates"] for p in parts])
    # as run_batched computes them (here, on all the rates: the same rounding)
    logits = rates @ classifier.params["W_out"].T + classifier.params["b_out"]
    return DistributedRun(
        logits=logits, predictions=np.argmax(logits, axis=1),
        counts=np.concatenate([p["counts"] for p in parts]), rates=rates,
        batch_size=batch_size,
        reset=True, backend="loihi", steps_per_image=classifier.steps_per_sequence,
        wall_s=time.perf_counter() - start, **spread)


def distributed_memory_states(spec, x, batch_size=DEFAULT_BATCH_SIZE, workers=1,
                              ray_address=None, chunk_size=None,
                              max_attempts=DEFAULT_MAX_ATTEMPTS, progress_bar=True,
                              classifier=None, _faults=None):
    """`emulated_memory_states` on ``x``, in chunks spread over workers.

    The memory's states on the batched emulator, every image from rest, as
    one `emulated_memory_states` call in this process gives them, whatever
    the number of workers and the chunks (the spikes are nengo_loihi's
    integer arithmetic; `tests/test_distributed.py` checks the decoded
    states to the bit). The arguments are
    `run_distributed`'s; ``spec`` must have ``memory="spiking"``.

    Returns
    -------
    ndarray, shape ``(window + 1, n, order)``, float32
        Like `emulated_memory_states`.
    """
    if isinstance(spec, ClassifierSpec) and spec.memory != "spiking":
        raise ValueError(f"distributed_memory_states needs spec.memory='spiking' (the "
                         f"spiking memory's states), got {spec.memory!r}")
    _, parts, _ = _spread("memory_states", spec, x, batch_size, workers, ray_address,
                          chunk_size, max_attempts, progress_bar, classifier, _faults)
    return np.concatenate([p["states"] for p in parts], axis=1)


def _spread(task, spec, x, batch_size, workers, ray_address, chunk_size, max_attempts,
            progress_bar, classifier, faults):
    """``task`` on ``x`` in chunks, here or on workers: ``(classifier, parts in
    the order of the images, {"workers", "ray_address", "chunk_size",
    "n_chunks", "retries"})``."""
    if not isinstance(spec, ClassifierSpec):
        raise ValueError(f"spec must be a ClassifierSpec, got {spec!r}")
    workers = check_distributed_args(workers, ray_address, batch_size, chunk_size, max_attempts)
    classifier = spec.build() if classifier is None else classifier
    x = check_sequences_arg("x", x, classifier.n_steps)
    chunk_size = DEFAULT_CHUNK_BATCHES * batch_size if chunk_size is None else chunk_size
    if ray_address is None and workers == 1:  # one chunk, here
        chunk_size = len(x)
    chunks = chunk_bounds(len(x), chunk_size)
    log = _Progress(len(x), len(chunks), progress_bar)
    retries = 0
    if ray_address is None and workers == 1:
        parts = [_compute(task, classifier, x, batch_size, progress_bar)]
    elif ray_address is None:
        parts, retries = _run_processes(task, spec, x, chunks, batch_size, workers,
                                        max_attempts, fingerprint(classifier), log, faults)
    else:
        parts, workers = _run_ray(task, spec, x, chunks, batch_size, ray_address,
                                  max_attempts, fingerprint(classifier), log, faults)
        retries = None
    return classifier, parts, {"workers": workers, "ray_address": ray_address,
                               "chunk_size": chunk_size, "n_chunks": len(chunks),
                               "retries": retries}


class _Progress:
    """The lines of a distributed run: one per finished chunk, with an ETA."""

    def __init__(self, n_images, n_chunks, enabled):
        self.n_images, self.n_chunks, self.enabled = n_images, n_chunks, enabled
        self.done = self.chunks_done = 0
        self.start = time.perf_counter()

    def __call__(self, message):
        if self.enabled:
            print(message, flush=True)

    def chunk_done(self, index, bounds, where):
        self.done += bounds[1] - bounds[0]
        self.chunks_done += 1
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (self.n_images - self.done)
        self(f"chunk {index + 1}/{self.n_chunks} (images {bounds[0]}-{bounds[1] - 1}) done "
             f"{where}: {self.done}/{self.n_images} images, {self.chunks_done}/{self.n_chunks} "
             f"chunks, {timestamp2timedelta(elapsed)} elapsed, ETA {timestamp2timedelta(eta)}")


def _rewarn(part):
    for category, message in part.pop("warnings", ()):
        warnings.warn(message, category, stacklevel=3)


# -- processes on this machine ------------------------------------------------------


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Environ:
    """Set environment variables for the processes started inside (spawn copies
    ``os.environ`` at start), restoring them after."""

    def __init__(self, values):
        self.values, self.saved = values, {}

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in self.values}
        os.environ.update(self.values)

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _block_tensorflow():
    """Keep TensorFlow (and NengoDL, which needs it) out of this process if it
    has not loaded them: nengo_loihi imports them when installed, for NengoDL's
    training of Loihi neurons, which the emulator does not use; importing them
    takes seconds and hundreds of MB per worker."""
    for name in ("tensorflow", "nengo_dl"):
        if name not in sys.modules:
            sys.modules[name] = None  # `import` raises ImportError


def _threadpoolctl():
    try:
        import threadpoolctl  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return threadpoolctl


def blas_threads():
    """This process's BLAS threads (the most of its BLAS libraries), or None
    without threadpoolctl."""
    tpc = _threadpoolctl()
    if tpc is None:
        return None
    counts = [i["num_threads"] for i in tpc.threadpool_info() if i["user_api"] == "blas"]
    return max(counts) if counts else None


class _Threads:
    """``threads`` BLAS threads inside (None, or no threadpoolctl: as they are)."""

    def __init__(self, threads):
        self.threads, self.limits = threads, None

    def __enter__(self):
        tpc = _threadpoolctl()
        if self.threads is not None and tpc is not None:
            self.limits = tpc.threadpool_limits(self.threads, user_api="blas")

    def __exit__(self, *exc):
        if self.limits is not None:
            self.limits.restore_original_limits()


def build_worker_classifier(spec, float_threads, threads):
    """``spec.build()`` in a worker, as this process's: the calibration with
    ``float_threads`` BLAS threads (the main process's), and its
    ``set_inputs`` too (the inputs' closed-form memory); everything else
    (the emulation) with ``threads``. Returns the classifier and its
    `fingerprint`."""
    tpc = _threadpoolctl()
    if tpc is not None and threads is not None:
        tpc.threadpool_limits(threads, user_api="blas")  # for the life of the process
    with _Threads(float_threads):
        classifier = spec.build()
    set_inputs = classifier.set_inputs

    def set_inputs_as_main(x):
        with _Threads(float_threads):
            set_inputs(x)

    classifier.set_inputs = set_inputs_as_main
    return classifier, fingerprint(classifier)


def _worker_main(conn, task, spec, batch_size, threads, float_threads, faults):
    """A worker process: build the classifier, then compute ``task``
    (`run_chunk`) on the chunks it is sent (``(index, images)``) until it is
    sent None."""
    _block_tensorflow()
    try:
        classifier, print_ = build_worker_classifier(spec, float_threads, threads)
        conn.send(("ready", None, print_))
    except Exception:  # pylint: disable=broad-except
        conn.send(("failed", None, traceback.format_exc()))
        return
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent is gone
            return
        if message is None:
            return
        index, x = message
        if faults is not None:
            faults.maybe_crash(index)
        try:
            part = run_chunk(classifier, x, batch_size, task)
        except Exception:  # pylint: disable=broad-except
            conn.send(("failed", index, traceback.format_exc()))
            return
        conn.send(("done", index, part))


class _Worker:
    """A worker process, its end of the pipe and the chunk it runs."""

    def __init__(self, number, ctx, task, spec, batch_size, threads, float_threads, faults):
        self.number = number
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, name=f"nengo-lmu-worker-{number}",
                                   args=(child, task, spec, batch_size, threads,
                                         float_threads, faults),
                                   daemon=True)
        # threads set before numpy loads; without threadpoolctl (float_threads
        # None) the worker keeps this process's settings, as its numbers must
        with _Environ({} if float_threads is None
                      else {k: str(threads) for k in THREAD_VARIABLES}):
            self.process.start()
        child.close()
        self.ready = False
        self.chunk = None

    def messages(self):
        """The messages waiting in the pipe (none once the worker is gone)."""
        out = []
        try:
            while self.conn.poll():
                out.append(self.conn.recv())
        except (EOFError, OSError):
            pass
        return out

    def send(self, message):
        try:
            self.conn.send(message)
        except OSError:  # it died: its sentinel says so
            pass

    def stop(self):
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)
        self.conn.close()


def _run_processes(task, spec, x, chunks, batch_size, workers, max_attempts, expected, log,
                   faults):
    """The chunks on ``workers`` spawned processes; ``(parts in order, retries)``."""
    ctx = multiprocessing.get_context("spawn")
    workers = min(workers, len(chunks))
    float_threads = blas_threads()
    threads = max(1, _cpu_count() // workers) if float_threads is not None else None
    pending = collections.deque(range(len(chunks)))
    lost = [0] * len(chunks)
    parts = [None] * len(chunks)
    started = 0
    live = []

    def start_worker():
        nonlocal started
        started += 1
        if started > workers + max_attempts * len(chunks):
            raise WorkerLostError(f"worker processes keep dying: {started - 1} started for "
                                  f"{len(chunks)} chunks on {workers} workers")
        live.append(_Worker(started, ctx, task, spec, batch_size, threads, float_threads,
                            faults))

    def assign(worker):
        if pending:
            worker.chunk = pending.popleft()
            a, b = chunks[worker.chunk]
            worker.send((worker.chunk, x[a:b]))
        else:
            worker.chunk = None
            worker.send(None)

    each = ("this process's BLAS threads (no threadpoolctl)" if threads is None else
            f"{threads} BLAS thread{'s' * (threads > 1)} each, {float_threads} for the "
            "calibration and inputs")
    log(f"{len(x)} images in {len(chunks)} chunks of {chunks[0][1] - chunks[0][0]} on "
        f"{workers} worker processes ({each})")
    try:
        for _ in range(workers):
            start_worker()
        while any(p is None for p in parts):
            waiting = {}
            for w in live:
                waiting[w.conn] = waiting[w.process.sentinel] = w
            ready = {id(waiting[obj]): waiting[obj]
                     for obj in multiprocessing.connection.wait(list(waiting))}
            for w in ready.values():
                for kind, index, payload in w.messages():
                    if kind == "failed":
                        where = "building the classifier" if index is None else (
                            f"on chunk {index + 1} (images {chunks[index][0]}-"
                            f"{chunks[index][1] - 1})")
                        raise WorkerError(f"worker {w.number} failed {where}:\n{payload}")
                    if kind == "ready":
                        _check_fingerprint(expected, payload, f"worker {w.number}")
                        w.ready = True
                    else:  # done
                        _rewarn(payload)
                        parts[index] = payload
                        log.chunk_done(index, chunks[index], f"by worker {w.number}")
                    assign(w)
                if w.process.is_alive() or w.process.exitcode is None:
                    continue
                live.remove(w)
                w.stop()
                code = w.process.exitcode
                if w.chunk is not None:
                    lost[w.chunk] += 1
                    a, b = chunks[w.chunk]
                    if lost[w.chunk] >= max_attempts:
                        raise WorkerLostError(
                            f"chunk {w.chunk + 1} (images {a}-{b - 1}) lost its worker "
                            f"process {lost[w.chunk]} times (last exit code {code}); giving "
                            f"up after max_attempts={max_attempts}")
                    log(f"worker {w.number} died (exit code {code}) on chunk {w.chunk + 1} "
                        f"(images {a}-{b - 1}); running it again (attempt "
                        f"{lost[w.chunk] + 1} of {max_attempts})")
                    pending.appendleft(w.chunk)
                elif not w.ready:
                    log(f"worker {w.number} died while starting (exit code {code})")
                if pending and len(live) < workers:
                    start_worker()
    finally:
        for w in live:
            w.stop()
    return parts, sum(lost)


# -- a Ray cluster ------------------------------------------------------------------

#: ``{spec.key: (classifier, fingerprint)}`` in a Ray worker: built once per process.
_BUILT = {}


def _ray_chunk(task, spec, x, batch_size, index, float_threads, faults):
    """A Ray task: ``task`` on chunk ``index`` (images ``x``) with the
    classifier of ``spec``."""
    _block_tensorflow()
    key = (spec.key, float_threads)
    if key not in _BUILT:
        _BUILT.clear()
        # a task has one CPU (Ray sets OMP_NUM_THREADS=1 too)
        _BUILT[key] = build_worker_classifier(spec, float_threads, 1)
    classifier, print_ = _BUILT[key]
    if faults is not None:
        faults.maybe_crash(index)
    part = run_chunk(classifier, x, batch_size, task)
    part["fingerprint"] = print_
    part["pid"] = os.getpid()
    return part


def _run_ray(task, spec, x, chunks, batch_size, address, max_attempts, expected, log, faults):
    """The chunks as Ray tasks; ``(parts in order, the cluster's CPUs)``."""
    ray = import_ray()
    own = not ray.is_initialized()
    if own:
        ray.init(address=address, log_to_driver=False)
    refs = {}
    try:
        workers = int(ray.cluster_resources().get("CPU", 0))
        where = f"at {address}" if own else "this process is connected to"
        log(f"{len(x)} images in {len(chunks)} chunks of {chunks[0][1] - chunks[0][0]} on "
            f"the Ray cluster {where} ({workers} CPUs)")
        remote = ray.remote(num_cpus=1, max_retries=max_attempts - 1)(_ray_chunk)
        spec_ref = ray.put(spec)
        float_threads = blas_threads()
        refs = {remote.remote(task, spec_ref, x[a:b], batch_size, i, float_threads, faults): i
                for i, (a, b) in enumerate(chunks)}
        parts = [None] * len(chunks)
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                index = refs.pop(ref)
                a, b = chunks[index]
                try:
                    part = ray.get(ref)
                except ray.exceptions.RayTaskError as e:
                    raise WorkerError(f"chunk {index + 1} (images {a}-{b - 1}) failed on the "
                                      f"Ray cluster:\n{e}") from e
                except ray.exceptions.RayError as e:
                    raise WorkerLostError(
                        f"chunk {index + 1} (images {a}-{b - 1}) lost its Ray worker "
                        f"{max_attempts} times (max_retries={max_attempts - 1}): {e}") from e
                _check_fingerprint(expected, part.pop("fingerprint"), "a Ray worker")
                _rewarn(part)
                parts[index] = part
                log.chunk_done(index, (a, b), f"by Ray worker pid {part.pop('pid')}")
        return parts, workers
    finally:
        for ref in refs:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # pylint: disable=broad-except
                pass
        if own:
            ray.shutdown()


@dataclasses.dataclass(frozen=True)
class _Faults:
    """A test hook: the workers of the chunks ``crash`` exit (``os._exit(1)``,
    as if killed) at their first ``times`` attempts, counted by marker files
    in ``directory`` (so that it works in any process on this machine)."""

    directory: str
    crash: tuple = (0,)
    times: int = 1

    def maybe_crash(self, index):
        if index not in self.crash:
            return
        for attempt in range(self.times):
            path = os.path.join(self.directory, f"chunk{index}.attempt{attempt}")
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
            os._exit(1)  # pylint: disable=protected-access
