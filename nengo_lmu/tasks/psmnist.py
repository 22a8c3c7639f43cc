"""Permuted sequential MNIST: train an LMU with NengoDL, evaluate it anywhere.

A model directory holds ``config.json`` (the model, the training settings
and the permutation seed), ``params.npz`` (best weights by validation
accuracy, no pickle), ``checkpoint.npz`` (last finished epoch),
``history.json`` and ``training.png``: everything `evaluate` needs.
"""

import dataclasses
import numbers
import os
import time

import numpy as np

from nengo_lmu._deprecated import moved_attributes
from nengo_lmu.backends import check_backend
from nengo_lmu.data import SIDE, TranslateAugmentation, check_sequences, load_psmnist
from nengo_lmu.io import file_sha256, save_figure
from nengo_lmu.lmu import build_classifier
from nengo_lmu.metrics import accuracy
from nengo_lmu.model_dir import SpikingSettings, deployment_settings, load_model
from nengo_lmu.neurons import NEURON_TYPES, check_spiking_counterpart
from nengo_lmu import training
from nengo_lmu.readout import (
    ReadoutScheme,
    feedforward_logits,
    hold_stream,
    readout_settings,
    stream_rate_logits,
)
from nengo_lmu.training import METHODS, predict, train
from nengo_lmu.validation import (
    check_choice,
    check_input_dir,
    check_integer,
    check_memory,
    check_output_dir,
    check_seed,
)

#: Defaults: a Loihi-friendly ReLU hidden layer on an order-256 memory of the
#: whole 784-pixel sequence; 92,393 trainable parameters; 60 epochs on training
#: images translated by up to `TRANSLATE` pixels.
DEFAULTS = dict(units=346, order=256, epochs=60, method="parallel",
                neuron_type="RectifiedLinear", permutation_seed=0,
                batch_size=100, learning_rate="auto", weight_decay=0.05, translate="auto")

#: The largest move (pixels) of the training images' random translation with
#: ``translate="auto"`` and the exact readout (`nengo_lmu.data.translate_images`).
TRANSLATE = 1

#: Initial learning rate of each method (``learning_rate="auto"``): BPTT of
#: the recurrent cell diverged here at 1e-3, and trains at 1e-4.
LEARNING_RATES = {"parallel": 2e-3, "sequential": 1e-4}

#: The LMU options `train_psmnist` takes as ``**flags`` (`nengo_lmu.lmu.LMU`'s).
#: Those that make the memory or the hidden layer recurrent need
#: ``method="sequential"``; ``input_to_hidden`` trains by either method (the
#: one-step network of the parallel path reads the last element ``x_T``).
LMU_FLAGS = ("hidden_to_memory", "memory_to_memory", "input_to_hidden", "hidden_recurrent",
             "memory_d", "discretizer", "memory_kind")
SEQUENTIAL_FLAGS = ("hidden_to_memory", "memory_to_memory", "hidden_recurrent")

#: Training and validation sequences of the offline MNIST
#: (`nengo_lmu.data.load_psmnist`): what `train_psmnist` trains on without
#: ``n_train``, and validates on.
N_TRAIN, N_VALID = 50000, 10000


def model_config(units=DEFAULTS["units"], order=DEFAULTS["order"],
                 neuron_type=DEFAULTS["neuron_type"], **flags):
    """The `LMUClassifier` config of a psMNIST model."""
    if neuron_type not in NEURON_TYPES:
        raise ValueError(
            f"neuron_type must be one of {sorted(NEURON_TYPES)}, got {neuron_type!r}"
        )
    return dict(n_classes=10, units=int(units), order=int(order), theta=784.0,
                input_d=1, hidden_neuron_type=neuron_type, **flags)


def train_psmnist(out, epochs=DEFAULTS["epochs"], method=DEFAULTS["method"],
                  units=DEFAULTS["units"], order=DEFAULTS["order"],
                  permutation_seed=DEFAULTS["permutation_seed"],
                  neuron_type=DEFAULTS["neuron_type"], batch_size=DEFAULTS["batch_size"],
                  learning_rate=DEFAULTS["learning_rate"],
                  weight_decay=DEFAULTS["weight_decay"], clipnorm="auto", n_train=None,
                  source="auto", readout="exact", hold_steps=ReadoutScheme.hold_steps,
                  window=ReadoutScheme.window,
                  memory_noise=0.0, readout_draws=2, readout_loss="draw",
                  translate=DEFAULTS["translate"], verbose=1, seed=0, log=print, **flags):
    """Train a psMNIST LMU into the model directory ``out`` (resumable).

    ``learning_rate="auto"`` picks `LEARNING_RATES` by method;
    ``clipnorm="auto"`` clips the gradients' global norm to 1 for the
    sequential method (backpropagation through time of the recurrent cell
    can diverge otherwise) and not at all for the parallel one.
    ``n_train`` limits the training set to its first ``n_train`` images
    (for quick runs); validation always uses the 10,000 validation images.
    ``seed`` fixes the initial weights, the order of the training data and
    NengoDL: the same call gives the same weights, byte for byte, and so does
    a run interrupted and rerun. ``config.json`` records ``n_train`` and the
    data file (``data_file``: path and SHA-256).
    ``translate`` (pixels, 0 for none) moves each training image by a random
    whole number of pixels, up to ``translate`` along each axis, before its
    permutation, anew every epoch
    (`nengo_lmu.data.TranslateAugmentation`, ``augment`` of
    `nengo_lmu.training.train`, recorded in ``config.json``); ``"auto"``
    is `TRANSLATE` for ``readout="exact"`` and 0 for the other readouts
    (which do not support it).
    ``readout="hold"`` (with ``hold_steps``, ``window``, ``memory_noise``,
    ``readout_draws``, ``readout_loss``) trains for the spiking memory's readout (see
    `nengo_lmu.training.train`); `evaluate_psmnist` then uses the same
    ``hold_steps`` and ``window`` by default.
    Every setting is checked before the data are loaded or anything is
    written (`nengo_lmu.training.check_train_args`, ``out`` a writable
    directory or one that can be made, the LMU options against ``method`` and
    ``readout``, `nengo_lmu.training.check_model_size`): a `ValueError`, or
    `NotADirectoryError` / `PermissionError` for ``out``.
    Returns the training history (see `nengo_lmu.training.train`).
    """
    check_choice("method", method, METHODS)
    if isinstance(clipnorm, str) and clipnorm == "auto":
        clipnorm = 1.0 if method == "sequential" else None
    if isinstance(learning_rate, str) and learning_rate == "auto":
        learning_rate = LEARNING_RATES[method]
    # every setting is checked before the data are loaded or anything is written
    training.check_train_args(epochs, method, batch_size, learning_rate, weight_decay,
                              clipnorm, None, seed)
    out = check_output_dir("out", out)
    readout_settings(readout, hold_steps, window, memory_noise, readout_draws,
                     readout_loss=readout_loss)
    config = _train_config(units, order, neuron_type, method, readout, flags)
    check_seed("permutation_seed", permutation_seed)
    augment = _augmentation(translate, readout, permutation_seed)
    n_train = check_integer("n_train", n_train, allow_none=True)
    copies = 1 if readout == "exact" else readout_draws
    training.check_model_size(
        config, copies * (N_TRAIN if n_train is None else n_train) + N_VALID,
        batch_size=batch_size, n_steps=1 if method == "parallel" else int(config["theta"]),
        method=method)
    data = load_psmnist(permutation_seed, source=source)
    x, y = data["train"]
    n_train = len(x) if n_train is None else check_integer("n_train", n_train)
    if n_train > len(x):
        raise ValueError(f"n_train must be an integer in 1..{len(x)} (the training images "
                         f"of {data.source}), got {n_train}")
    x, y = check_sequences(x[:n_train], y[:n_train])
    log(f"MNIST from {data.source} ({data.path})")
    start = time.perf_counter()
    history = train(
        config, (x, y), data["valid"], out, epochs=epochs, method=method,
        batch_size=batch_size, learning_rate=learning_rate, weight_decay=weight_decay,
        clipnorm=clipnorm, seed=seed, verbose=verbose, readout=readout,
        hold_steps=hold_steps, window=window, memory_noise=memory_noise,
        readout_draws=readout_draws, readout_loss=readout_loss, augment=augment,
        meta={"task": "psmnist", "permutation_seed": int(permutation_seed),
              "data_source": data.source, "n_train": n_train, "data_file": data_file(data)},
        log=log,
    )
    history["wall_s"] = time.perf_counter() - start
    save_figure(plot_history(history), os.path.join(out, "training.png"), dpi=110)
    return history


def _augmentation(translate, readout, permutation_seed):
    """`train_psmnist`'s ``translate`` as the ``augment`` of `training.train`
    (None for 0), checked."""
    if isinstance(translate, str) and translate == "auto":
        translate = TRANSLATE if readout == "exact" else 0
    if isinstance(translate, bool) or not isinstance(translate, numbers.Integral) or not (
            0 <= translate < SIDE):
        raise ValueError(f"translate must be 'auto' or an integer in 0..{SIDE - 1} (pixels), "
                         f"got {translate!r}")
    if translate and readout != "exact":
        raise ValueError(f"translate={translate} needs readout='exact' (got {readout!r}): "
                         "the other readouts train on fixed memory states")
    return TranslateAugmentation(translate, permutation_seed) if translate else None


def _train_config(units, order, neuron_type, method, readout, flags):
    """The model config of `train_psmnist`, its LMU options checked against
    the method and the readout."""
    unknown = sorted(set(flags) - set(LMU_FLAGS))
    if unknown:
        raise ValueError(f"unknown LMU option(s) {unknown}; accepted: {list(LMU_FLAGS)}")
    recurrent = [k for k in SEQUENTIAL_FLAGS if flags.get(k)]
    if method == "parallel" and recurrent:
        raise ValueError(f"{', '.join(recurrent)} need(s) method='sequential' (the parallel "
                         "path needs a memory that is a linear filter of the input)")
    if readout != "exact" and method != "parallel":
        raise ValueError(f"readout={readout!r} needs method='parallel' (closed form)")
    if readout != "exact" and flags.get("input_to_hidden"):
        raise ValueError(f"readout={readout!r} does not support input_to_hidden")
    return model_config(check_integer("units", units), check_integer("order", order),
                        neuron_type, **flags)


def data_file(data):
    """``{"path", "sha256"}`` of the file a `nengo_lmu.data.Dataset` was read
    from (None for data not read from a file)."""
    if getattr(data, "path", None) is None:
        return None
    return {"path": os.path.abspath(data.path), "sha256": file_sha256(data.path)}


#: Validation images that calibrate a spiking model's scales (never test data).
N_CALIBRATION = 1000


def evaluate_psmnist(model_dir, backend="dl", n_test=None, source="auto", batch_size=None,
                     network="temporal", memory="exact", progress_bar=True, workers=1,
                     ray_address=None, streams=False, start=0, **spiking):
    """Test accuracy of a trained model on the first ``n_test`` test images
    (from the ``start``-th, default the first: images ``start`` to ``start +
    n_test - 1``, or to the last without ``n_test``).

    ``backend="dl"`` runs the temporal network (784 steps per image) in
    NengoDL; ``"nengo"`` in the reference simulator, image by image or
    ``batch_size`` side by side.
    ``network="closed-form"`` evaluates the equivalent one-step network fed
    the closed-form memory instead (NengoDL only; seconds for all 10,000
    images, for LMUs whose memory is a linear filter of the input).

    ``backend="loihi"`` runs the spiking classifier
    (`nengo_lmu.spiking.SpikingLMUClassifier`, hidden neurons spiking, the
    memory ``"exact"`` off chip or ``"spiking"`` on chip) on
    `nengo_loihi.Simulator`, calibrated on the first `N_CALIBRATION`
    validation images; the result adds ``rate_accuracy`` (the trained rate
    model on the same images and the closed-form memory, read as it was
    trained, as ``backend="dl"`` reads it: at the final memory ``m_T`` for
    ``readout="exact"``, each image from rest and averaged over the hold
    readout's window for ``"hold"`` and ``"spiking"``, which then add
    ``final_state_accuracy``, the same model at ``m_T``), ``agreement`` (the
    share of images where the two predict the same class), ``s_per_image``
    and the readout settings; with ``memory="spiking"`` also ``rate_stream_accuracy``
    (the rate model on the exact memory read as the chip reads it: images
    back to back, averaged over the readout window) and ``training_readout``.
    A model trained with ``readout="hold"`` sets the default ``hold_steps``
    and ``window``.

    On ``"dl"`` and ``"nengo"`` the model is read as it was trained
    (``training_readout`` in the result, from ``config.json``): with
    ``readout="exact"`` the logits after the last element (``m_T``); with
    ``"hold"`` or ``"spiking"`` each image, from rest, is followed by
    ``hold_steps`` zeros and the logits are averaged over the readout
    window's shifts (`nengo_lmu.readout.ReadoutScheme`), as the chip reads
    them; the result then adds ``final_state_accuracy`` (the same network
    read at ``m_T``, which such a model was not trained for), ``hold_steps``,
    ``window`` and ``from_rest``.
    ``**spiking`` goes to `SpikingLMUClassifier` (``max_rate``,
    ``hold_steps``, ``window``, ``memory_neurons``, ...), except
    ``steps_per_element`` (K, default 1, or the K a fine-tuned model was
    tuned at; ``memory="spiking"`` only): the chip
    runs K steps per sequence element and per step of the hold, with a
    memory K times slower (`chip_time`; the same trained weights); the
    result's ``steps_per_image``, ``hold_steps`` and ``window`` are chip
    steps, and it adds ``steps_per_element``.

    ``batch_size`` is how many images run side by side: NengoDL's minibatch
    (default 100); on nengo, None (default) runs one image after another
    (`nengo_lmu.training.predict`) and an integer that many at once in one
    simulator (`nengo_lmu.batching.predict_batched`), each from rest either
    way (the same logits, to rounding); on Loihi, None (default) runs the
    images back to back in one simulation, each starting from the state the
    previous one left, and an integer runs that many images at once, each
    from rest
    (`nengo_lmu.batching.run_batched`: nengo_loihi's arithmetic, checked
    spike for spike against `nengo_loihi.Simulator`, each image's result
    identical whatever the batch size; tens to hundreds of times faster).
    Every result has ``predictions`` (one class per image, in test-set
    order), ``start``, ``n_test``, ``batch_size``, ``workers``, ``wall_s``
    and ``s_per_image``, so that two runs can be compared image by image.
    Where each image runs from rest (all but Loihi without ``batch_size``
    and ``streams=True``, which run images back to back), its prediction
    does not depend on the other images run, so a long evaluation can run
    in parts (``start``) whose predictions, put together, are those of one
    run.

    ``streams=True`` (``backend="loihi"`` with ``batch_size``) runs the
    images back to back instead, in ``batch_size`` streams of consecutive
    images side by side (`nengo_lmu.batching.run_batched` with
    ``reset=False``): each image starts from the state the one before it in
    its stream left, as the chip streams images and as a model trained with
    ``readout="hold"`` learned to read them; the result has
    ``from_rest`` False. The figures then depend on ``batch_size`` (where
    the streams begin), so one process runs them (no ``workers``).

    ``workers`` (``backend="loihi"``) spreads the batched run over that many
    processes on this machine, and ``ray_address`` (e.g. ``"auto"``,
    ``"host:6379"``) over an existing Ray cluster instead
    (`nengo_lmu.distributed.run_distributed`: the test images in chunks of
    consecutive images, each worker rebuilding the classifier from the
    model's weights, a chunk whose worker dies run again; ``pip install
    nengo-lmu[cluster]`` for Ray). The results are those of one process,
    image for image, whatever the number of workers. Both need images side
    by side: without ``batch_size`` they use
    `nengo_lmu.batching.DEFAULT_BATCH_SIZE` (64). ``workers`` in the result
    is the number of processes (with Ray, the cluster's CPUs; the result
    adds ``ray_address``, ``chunk_size``, ``n_chunks`` and ``retries``).
    With ``memory="spiking"`` they need a ``seed`` (a fine-tuned model
    records one): every worker builds the memory.
    """
    check_backend(backend)
    if network not in ("temporal", "closed-form"):
        raise ValueError(f"network must be 'temporal' or 'closed-form', got {network!r}")
    if network == "closed-form" and backend != "dl":
        raise ValueError("network='closed-form' runs in NengoDL only (backend='dl')")
    check_integer("n_test", n_test, allow_none=True)
    check_integer("start", start, minimum=0)
    check_integer("batch_size", batch_size, allow_none=True)
    check_choice("memory", memory, MEMORY_MODES)
    distributed = check_integer("workers", workers) > 1 or ray_address is not None
    if not isinstance(streams, bool):
        raise ValueError(f"streams must be True or False, got {streams!r}")
    if streams and (backend != "loihi" or batch_size is None or distributed):
        raise ValueError("streams=True needs backend='loihi' and a batch_size, in one "
                         "process (no workers or ray_address): without batch_size the "
                         "images already run back to back")
    if distributed:
        if backend != "loihi":
            raise ValueError("workers and ray_address apply to backend='loihi' only")
        from nengo_lmu.batching import DEFAULT_BATCH_SIZE  # pylint: disable=import-outside-toplevel
        from nengo_lmu.distributed import check_distributed_args  # pylint: disable=import-outside-toplevel

        batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
        check_distributed_args(workers, ray_address, batch_size)
    method = "sequential" if network == "temporal" else "parallel"
    model_dir = check_input_dir("model_dir", model_dir, "model directory")
    run_config, params = load_model(model_dir)
    config = run_config["model"]
    if backend == "loihi":
        check_spiking_counterpart(config.get("hidden_neuron_type", "RectifiedLinear"))
        spiking = check_spiking_settings(
            config, memory, deployment_settings(run_config, memory, **spiking))
        if distributed and memory == "spiking" and spiking.get("seed") is None:
            raise ValueError("workers > 1 or ray_address with memory='spiking' needs a seed "
                             "(seed=...; --seed): every worker builds the spiking memory, "
                             "and unseeded each would draw another tuning")
    elif spiking or memory != "exact":
        raise ValueError("memory and the spiking settings apply to backend='loihi' only")
    data = load_psmnist(run_config.get("permutation_seed", 0), source=source)
    x, y = data["test"]
    if start >= len(x):
        raise ValueError(f"start must lie in 0..{len(x) - 1}, got {start}")
    if n_test is not None and not 1 <= n_test <= len(x) - start:
        raise ValueError(f"n_test must lie in 1..{len(x) - start} (the test images from "
                         f"start = {start} on), got {n_test}")
    stop = None if n_test is None else start + n_test
    x, y = x[start:stop], y[start:stop]
    if backend == "loihi":
        trained = run_config["readout"]
        chip_config, chip_spiking, k = chip_time(config, spiking)
        rate = _rate_logits(config, params, x, trained)  # before the chip runs: seconds
        result = _evaluate_spiking(chip_config, params,
                                   np.repeat(data["valid"][0][:N_CALIBRATION], k, axis=1),
                                   np.repeat(x, k, axis=1), y, memory, progress_bar,
                                   chip_spiking, rate[0], batch_size, workers=workers,
                                   ray_address=ray_address, streams=streams)
        result["steps_per_element"] = k
        result["training_readout"] = trained
        result["start"] = start
        if trained["scheme"] != "exact":
            result["final_state_accuracy"] = accuracy(rate[1], y)
        result.update(data_source=data.source, data_file=data_file(data))
        if trained["scheme"] == "spiking" and memory == "spiking":
            base = run_config.get("base_model")
            if base and os.path.exists(os.path.join(base, "params.npz")):
                # the model before fine-tuning, read as the chip reads it: the target
                result["base_rate_stream_accuracy"] = _rate_stream_accuracy(
                    base, x, y, result["hold_steps"] // k, result["window"] // k)
        return result
    clf = build_classifier(config, params=params, method=method)
    if backend == "dl" or batch_size is not None:
        batch_size = min(batch_size or 100, len(x))
    # the steps read: the last (m_T), and for a model trained for the hold readout
    # the shifts of its window too, each image followed by hold_steps zeros
    trained = run_config["readout"]
    steps, hold = [x.shape[1]], None
    if trained["scheme"] != "exact":
        hold = ReadoutScheme.from_json(trained)
        steps += list(x.shape[1] + hold.shifts)
        x = hold_stream(x, 0, hold.hold_steps)
    start = time.perf_counter()
    if backend == "nengo" and batch_size is not None:
        from nengo_lmu.batching import predict_batched  # pylint: disable=import-outside-toplevel

        logits = predict_batched(clf, x, batch_size=batch_size, progress_bar=progress_bar,
                                 steps=steps)
    else:
        logits = predict(clf, x, method=method, backend=backend, batch_size=batch_size or 1,
                         steps=steps)
    wall = time.perf_counter() - start
    final = logits[:, 0]
    read = final if hold is None else logits[:, 1:].mean(axis=1)
    result = {"accuracy": accuracy(read, y), "start": start, "n_test": int(len(x)),
              "backend": backend,
              "data_source": data.source, "data_file": data_file(data),
              "network": network, "wall_s": wall, "s_per_image": wall / len(x),
              "batch_size": batch_size, "workers": 1, "training_readout": trained,
              "predictions": read.argmax(1).tolist(), "n_trainable": clf.n_trainable}
    if hold is not None:
        result.update(final_state_accuracy=accuracy(final, y), from_rest=True,
                      hold_steps=hold.hold_steps, window=hold.window)
    return result


#: Spiking settings `evaluate_psmnist` and `loihi_report` pass to
#: `nengo_lmu.spiking.SpikingLMUClassifier` (``**spiking``).
SPIKING_KEYS = ("max_rate", "hold_steps", "window", "memory_neurons", "memory_copies",
                "memory_max_rate", "memory_synapse", "hidden_synapse", "dt", "seed",
                "steps_per_element")

#: The memory of a spiking classifier (`nengo_lmu.spiking.SpikingLMUClassifier`).
MEMORY_MODES = ("exact", "spiking")


def check_spiking_settings(config, memory, spiking, copies=2):
    """``spiking`` (the keyword arguments of a spiking classifier of the model
    ``config``) if they are valid, checked before any data are loaded: known
    names (`SPIKING_KEYS`), numbers in range (`nengo_lmu.model_dir.SpikingSettings`,
    `nengo_lmu.readout.ReadoutScheme`), a seed numpy accepts, and, with
    ``memory="spiking"``, a memory whose neuron-to-neuron weights fit in memory
    (``(memory_d * order)**2`` connections of ``(memory_copies *
    memory_neurons)**2`` float64, ``copies`` times while built)."""
    unknown = sorted(set(spiking) - set(SPIKING_KEYS))
    if unknown:
        raise ValueError(f"unknown spiking setting(s) {unknown}; accepted: {list(SPIKING_KEYS)}")
    check_seed("seed", spiking.get("seed"), allow_none=True)
    if check_integer("steps_per_element", spiking.get("steps_per_element", 1)) > 1 and (
            memory != "spiking"):
        raise ValueError("steps_per_element > 1 needs memory='spiking' (it slows the "
                         "memory on chip; the exact memory is computed off chip)")
    numbers = SpikingSettings(**{k: spiking[k] for k in SPIKING_KEYS if k in spiking and k not in
                                 ("hold_steps", "window", "seed", "steps_per_element")})
    ReadoutScheme(**{k: spiking[k] for k in ("hold_steps", "window") if k in spiking})
    if memory == "spiking":
        size = int(config.get("memory_d", 1)) * int(config["order"])
        n = numbers.memory_copies * numbers.memory_neurons
        check_memory("memory_neurons", copies * 8 * size**2 * n**2,
                     f"the spiking memory ({size} state variables of {n} neurons)")
    return spiking


def chip_time(config, spiking):
    """A model and its spiking settings as the chip runs them, with
    ``spiking["steps_per_element"]`` (K, default 1) chip steps per sequence
    element.

    Each element (and each step of the hold) is presented for K chip steps
    and the memory is K times slower: ``theta`` K times as many steps. For a
    zero-order-hold memory that is the same system (its state after the K
    steps of an element equals the state after that element at K = 1, to
    rounding; ``tests/tasks/test_psmnist.py``), so the trained weights deploy
    unchanged, while every state variable turns K times less per chip step
    and its neurons spike K times as often per element: what the spiking
    memory needs at high orders, whose fast state variables Loihi's neurons
    (at most one spike per step) cannot follow otherwise. The synapses
    (``memory_synapse``, ``hidden_synapse``) keep their time constants in
    chip time: K times longer ones bring the state closer to the exact one
    in nengo's arithmetic but, with recurrent weights near the identity that
    Loihi's 8-bit weights round, do worse on the emulator (see the README);
    give them explicitly to try.

    Returns ``(config, spiking, K)``: the model ``config`` with ``theta``
    times K, the settings with ``hold_steps`` and ``window`` (counted in
    sequence elements, as the model was trained) times K and without
    ``steps_per_element``. The classifier then runs ``np.repeat(x, K,
    axis=1)``, K chip steps per element.
    """
    spiking = dict(spiking)
    k = check_integer("steps_per_element", spiking.pop("steps_per_element", 1))
    if k > 1:
        config = dict(config, theta=float(config["theta"]) * k)
        spiking["hold_steps"] = k * spiking.get("hold_steps", ReadoutScheme.hold_steps)
        spiking["window"] = k * spiking.get("window", ReadoutScheme.window)
    return config, spiking, k


def _rate_stream_accuracy(model_dir, x, y, hold_steps, window):
    """A model's rate accuracy on ``x`` read as the chip reads it
    (`nengo_lmu.spiking.SpikingLMUClassifier.rate_logits` with
    ``scheme="stream"``)."""
    run_config, params = load_model(model_dir)
    clf = build_classifier(run_config["model"], params=params, method="parallel")
    return accuracy(stream_rate_logits(clf.lmu, run_config["model"], clf.get_params(), x,
                                       hold_steps, window), y)


def _rate_logits(config, params, x, trained):
    """The trained rate model's logits for ``x`` read as it was trained (the
    ``trained`` readout, ``config.json``'s ``readout``), and at the final memory
    ``m_T``, both on the closed-form memory.

    ``"exact"``: the logits at ``m_T`` (twice). ``"hold"`` and ``"spiking"``:
    each image from rest, then the scheme's ``hold_steps`` zeros, the logits
    averaged over its window's shifts, as ``backend="dl"`` reads the model
    (`nengo_lmu.readout.stream_rate_logits` with ``from_rest``).

    Returns ``(read, final)``, each of shape ``(n, n_classes)``.
    """
    clf = build_classifier(config, params=params, method="parallel")
    weights = clf.get_params()
    final = feedforward_logits(config, weights, clf.lmu.closed_form_memory(x))
    if trained["scheme"] == "exact":
        return final, final
    hold = ReadoutScheme.from_json(trained)
    return stream_rate_logits(clf.lmu, config, weights, x, hold.hold_steps, hold.window,
                              from_rest=True), final


def _evaluate_spiking(config, params, x_cal, x, y, memory, progress_bar, spiking,
                      rate_logits, batch_size=None, workers=1, ray_address=None,
                      streams=False):
    """The spiking classifier's result on ``x``, beside ``rate_logits``, the
    rate model's logits for ``x`` read as it was trained (`_rate_logits`)."""
    from nengo_lmu.spiking import SpikingLMUClassifier  # pylint: disable=import-outside-toplevel

    net = SpikingLMUClassifier(config, params, x_cal, memory=memory, **spiking)  # validates
    start = time.perf_counter()
    spread = {"workers": 1}
    if batch_size is None:  # back to back, in one nengo_loihi simulation
        logits, rates = net.run(x, backend="loihi", progress_bar=progress_bar)
    elif workers == 1 and ray_address is None:
        from nengo_lmu.batching import run_batched  # pylint: disable=import-outside-toplevel

        batched = run_batched(net, x, batch_size=batch_size, backend="loihi",
                              reset=not streams, progress_bar=progress_bar)
        logits, rates = batched.logits, batched.rates
    else:  # chunks on worker processes or a Ray cluster, each rebuilding the classifier
        from nengo_lmu.distributed import (  # pylint: disable=import-outside-toplevel
            ClassifierSpec,
            run_distributed,
        )

        run = run_distributed(ClassifierSpec(config, params, x_cal, memory, spiking), x,
                              batch_size=batch_size, workers=workers, ray_address=ray_address,
                              progress_bar=progress_bar, classifier=net)
        logits, rates = run.logits, run.rates
        spread = {"workers": run.workers, "chunk_size": run.chunk_size,
                  "n_chunks": run.n_chunks, "retries": run.retries}
        if ray_address is not None:
            spread["ray_address"] = ray_address
    wall = time.perf_counter() - start
    stream = {}
    if memory == "spiking":
        stream_logits = net.rate_logits(x, scheme="stream")
        stream = {"rate_stream_accuracy": accuracy(stream_logits, y),
                  "stream_agreement": float(np.mean(logits.argmax(1)
                                                    == stream_logits.argmax(1)))}
    return {
        **stream,
        "accuracy": accuracy(logits, y), "rate_accuracy": accuracy(rate_logits, y),
        "n_test": int(len(x)), "backend": "loihi", "s_per_image": wall / len(x),
        "agreement": float(np.mean(logits.argmax(1) == rate_logits.argmax(1))),
        "memory": memory, "steps_per_image": net.steps_per_sequence,
        "hold_steps": net.hold_steps, "window": net.window, "max_rate": net.max_rate,
        "rate_scale": net.alpha, "memory_neurons": net.memory_neurons if memory == "spiking" else 0,
        "memory_copies": net.memory_copies if memory == "spiking" else 0,
        "memory_max_rate": net.memory_max_rate if memory == "spiking" else 0,
        "seed": net.seed,
        "order": net.order, "units": net.units, "n_trainable": net.n_trainable,
        "mean_hidden_rate_hz": float(np.mean(rates) * net.alpha), "wall_s": wall,
        "batch_size": batch_size, **spread,
        "from_rest": batch_size is not None and not streams,
        "predictions": logits.argmax(1).tolist(),
    }


@dataclasses.dataclass(frozen=True, eq=False)
class Deployment:
    """What `deployed_settings` returns: a model's spiking classifier as
    `evaluate_psmnist` deploys it, as data (the arguments of
    `nengo_lmu.spiking.SpikingLMUClassifier`), and the psMNIST data.

    Attributes
    ----------
    config : dict
        The model's config, in chip time (`chip_time`).
    params : dict
    calibration_x : ndarray
        The calibration images, ``K`` chip steps per element.
    memory : {"exact", "spiking"}
    spiking : dict
        `SpikingLMUClassifier`'s keyword arguments.
    data : dict
        `nengo_lmu.data.load_psmnist`'s.
    """

    config: dict
    params: dict
    calibration_x: np.ndarray
    memory: str
    spiking: dict
    data: dict

    def build(self):
        """The `SpikingLMUClassifier`."""
        from nengo_lmu.spiking import SpikingLMUClassifier  # pylint: disable=import-outside-toplevel

        return SpikingLMUClassifier(self.config, self.params, self.calibration_x,
                                    memory=self.memory, **self.spiking)

    def spec(self):
        """The `nengo_lmu.distributed.ClassifierSpec` that worker processes
        build the same classifier from (a spiking memory needs a seed)."""
        from nengo_lmu.distributed import ClassifierSpec  # pylint: disable=import-outside-toplevel

        return ClassifierSpec(self.config, self.params, self.calibration_x, self.memory,
                              self.spiking)


def deployed_settings(model_dir, memory="exact", source="auto", copies=2, **spiking):
    """The spiking classifier `evaluate_psmnist` runs with ``backend="loihi"``,
    as data: a `Deployment` (its ``build()`` is `deployed_classifier`'s
    classifier, its ``spec()`` what worker processes build it from). The
    arguments are `deployed_classifier`'s."""
    check_choice("memory", memory, MEMORY_MODES)
    model_dir = check_input_dir("model_dir", model_dir, "model directory")
    run_config, params = load_model(model_dir)
    config = run_config["model"]
    check_spiking_counterpart(config.get("hidden_neuron_type", "RectifiedLinear"))
    spiking = check_spiking_settings(config, memory,
                                     deployment_settings(run_config, memory, **spiking),
                                     copies=copies)
    data = load_psmnist(run_config.get("permutation_seed", 0), source=source)
    config, spiking, k = chip_time(config, spiking)
    return Deployment(config, params, np.repeat(data["valid"][0][:N_CALIBRATION], k, axis=1),
                      memory, spiking, data)


def deployed_classifier(model_dir, memory="exact", source="auto", copies=2, **spiking):
    """The spiking classifier `evaluate_psmnist` runs with ``backend="loihi"``
    (the same settings, calibrated on the same validation images) and the
    psMNIST data, ``(classifier, data)``: to run it in other ways, e.g. each
    test image alone (``classifier.run(x[i:i + 1])``) to check a batched
    evaluation. The arguments are `evaluate_psmnist`'s; ``copies`` is
    `check_spiking_settings`'. With ``steps_per_element=K`` the classifier
    runs the images as ``np.repeat(x, K, axis=1)`` (`chip_time`)."""
    deployment = deployed_settings(model_dir, memory, source, copies, **spiking)
    return deployment.build(), deployment.data


def loihi_report(model_dir, memory="exact", source="auto", **spiking):
    """Loihi resources and weight quantization of a model's spiking classifier.

    Builds `nengo_lmu.spiking.SpikingLMUClassifier` (calibrated like
    `evaluate_psmnist` with ``backend="loihi"``, `deployed_classifier`) with
    nengo_loihi, without running it, and returns
    `nengo_lmu.loihi.network_report` (``cores``, ``neurons``, ``synapses``,
    ``fits_one_chip``, ``quantization``, ...) with the model's sizes added.
    """
    from nengo_lmu.loihi import network_report  # pylint: disable=import-outside-toplevel

    # nengo_loihi's build keeps copies of the memory's weights
    net, data = deployed_classifier(model_dir, memory, source, copies=4, **spiking)
    net.set_inputs(np.repeat(data["valid"][0][:1], net.n_steps // data["valid"][0].shape[1],
                             axis=1))
    report = network_report(net, dt=net.dt)
    report.update(memory=memory, order=net.order, units=net.units,
                  memory_neurons=net.memory_neurons if memory == "spiking" else 0,
                  memory_copies=net.memory_copies if memory == "spiking" else 0,
                  n_trainable=net.n_trainable)
    return report


def plot_history(history):
    """Validation accuracy and training loss per epoch."""
    from nengo_lmu.plots import pyplot  # pylint: disable=import-outside-toplevel

    plt = pyplot()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax0.plot(history["epoch"], np.array(history["val_accuracy"]) * 100, "o-")
    ax0.set_xlabel("epoch")
    ax0.set_ylabel("validation accuracy (%)")
    ax0.grid(alpha=0.3)
    ax1.plot(history["epoch"], history["loss"], "o-", color="C1")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss")
    ax1.set_yscale("log")
    ax1.grid(alpha=0.3)
    fig.suptitle("psMNIST LMU trained with NengoDL")
    fig.tight_layout()
    return fig


# names that moved out of this module in 0.2
__getattr__ = moved_attributes(__name__, {
    "load_model": "nengo_lmu.model_dir",
    "spiking_settings": "nengo_lmu.model_dir:deployment_settings",
    "finetune_psmnist": "nengo_lmu.tasks.finetune",
    "FINETUNE": "nengo_lmu.tasks.finetune",
    "MEMORY_WEIGHTS": "nengo_lmu.tasks.finetune",
    "MEMORY_SIMULATIONS": "nengo_lmu.tasks.finetune",
})
