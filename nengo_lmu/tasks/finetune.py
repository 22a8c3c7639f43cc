"""Fine-tuning a trained psMNIST model against its spiking memory on Loihi.

Loihi's neurons distort the spiking memory, deterministically; so the
classifier can learn to read the memory the chip will hold.
`finetune_psmnist` simulates that memory (nengo's arithmetic with Loihi's
neuron model, `nengo_lmu.memory_simulation`, or the batched emulator,
`nengo_lmu.batching.emulated_memory_states`) on training and validation
images and trains the hidden and output layers on what it delivers, into a
new model directory that `nengo_lmu.tasks.psmnist.evaluate_psmnist`
deploys with the memory's settings (``nengo-lmu psmnist finetune``).
"""

import json
import os
import time

import numpy as np

from nengo_lmu import training
from nengo_lmu.data import check_sequences
from nengo_lmu.io import (
    read_json_array,
    read_npz,
    save_figure,
    save_npz,
    strict_json,
)
from nengo_lmu.lmu import build_classifier
from nengo_lmu.memory_simulation import DTYPES
from nengo_lmu.metrics import accuracy
from nengo_lmu.model_dir import SpikingSettings, load_model
from nengo_lmu.readout import (
    READOUT_LOSSES,
    ReadoutScheme,
    readout_settings,
    stream_logits,
    stream_memories,
)
from nengo_lmu.tasks.psmnist import (
    check_spiking_settings,
    data_file,
    deployed_classifier,
    deployed_settings,
    plot_history,
)
from nengo_lmu.training import train
from nengo_lmu.validation import (
    check_choice,
    check_input_dir,
    check_integer,
    check_memory,
    check_output_dir,
    check_output_file,
    check_seed,
)


#: Defaults of `finetune_psmnist`.
#: The memory's and the hidden neurons' settings are the deployment defaults
#: (`SpikingSettings`), so that `evaluate_psmnist` deploys what was tuned.
FINETUNE = dict(memory_neurons=SpikingSettings.memory_neurons,
                memory_copies=SpikingSettings.memory_copies,
                memory_max_rate=SpikingSettings.memory_max_rate, seed=0, n_train=50000,
                n_valid=2000, epochs=20, learning_rate=1e-3, weight_decay=0.01,
                readout_draws=1, readout_loss="window", max_rate=SpikingSettings.max_rate,
                weights="loihi", steps_per_element=1, memory_dtype="float64", from_rest=False,
                memory_simulation="nengo", states_cache=None, n_synthetic=0, workers=1,
                ray_address=None)

#: Weights of the simulated memory in `finetune_psmnist`: Loihi's 8-bit ones
#: (`nengo_lmu.loihi.chip_weights`) or nengo's floating-point ones.
MEMORY_WEIGHTS = ("loihi", "float")

#: Where `finetune_psmnist` runs the spiking memory: nengo's floating-point
#: simulation with Loihi's neuron model (`nengo_lmu.memory_simulation`), or
#: the batched emulator (`nengo_lmu.batching.emulated_memory_states`).
MEMORY_SIMULATIONS = ("nengo", "emulator")


def _check_finetune(model_dir, out, seed, weights, readout_loss, readout_draws, n_train,
                    n_valid, epochs, batch_size, learning_rate, weight_decay, memory_neurons,
                    memory_copies, memory_max_rate, max_rate, steps_per_element, memory_dtype,
                    from_rest, memory_simulation, states_cache, n_synthetic, workers, ray_address,
                    spiking):
    """`finetune_psmnist`'s checks, before any data are loaded or simulated;
    sets ``spiking``'s readout defaults from the model's own readout.
    Returns ``(model_dir, out, seed, states_cache, run_config, params)``."""
    k = check_integer("steps_per_element", steps_per_element)
    check_choice("memory_dtype", memory_dtype, DTYPES)
    if not isinstance(from_rest, bool):
        raise ValueError(f"from_rest must be True or False, got {from_rest!r}")
    if check_choice("memory_simulation", memory_simulation, MEMORY_SIMULATIONS) == "emulator":
        if not from_rest:
            raise ValueError("memory_simulation='emulator' runs every image from rest, as a "
                             "batched evaluate does: pass from_rest=True (--from-rest)")
        if weights != "loihi" or memory_dtype != FINETUNE["memory_dtype"]:
            raise ValueError("memory_simulation='emulator' runs the chip's own weights and "
                             "integer arithmetic: weights must be 'loihi' and memory_dtype "
                             f"{FINETUNE['memory_dtype']!r}")
    if check_integer("workers", workers) > 1 or ray_address is not None:
        if memory_simulation != "emulator":
            raise ValueError("workers > 1 or ray_address spread the emulated memory over "
                             "processes: they need memory_simulation='emulator' "
                             "(--memory-simulation emulator)")
        from nengo_lmu.distributed import (  # pylint: disable=import-outside-toplevel
            check_distributed_args,
        )

        check_distributed_args(workers, ray_address)
    training.check_train_args(epochs, "parallel", batch_size, learning_rate, weight_decay,
                              None, None, seed)
    model_dir = check_input_dir("model_dir", model_dir, "model directory")
    out = check_output_dir("out", out)
    if os.path.abspath(out) == os.path.abspath(model_dir):
        raise ValueError("out must be a new model directory, not the model's own")
    seed = check_seed("seed", seed)  # it fixes the memory
    if states_cache is not None:
        states_cache = check_output_file("states_cache", states_cache)
        if not states_cache.endswith(".npz"):
            raise ValueError(f"states_cache must be a path ending in .npz, got "
                             f"{states_cache!r}")
    check_choice("weights", weights, MEMORY_WEIGHTS)
    check_choice("readout_loss", readout_loss, READOUT_LOSSES)
    check_integer("readout_draws", readout_draws)
    for name, n in (("n_train", n_train), ("n_valid", n_valid)):
        check_integer(name, n)
    if check_integer("n_synthetic", n_synthetic, minimum=0) and not from_rest:
        raise ValueError("n_synthetic > 0 synthesises states from the exact memory of images "
                         "from rest: pass from_rest=True (--from-rest)")
    # training's own check, here before the memory is simulated, not after
    training.check_batches(batch_size, n_train + n_synthetic, n_valid,
                           names=("n_train + n_synthetic = ", "n_valid = "))
    run_config, params = load_model(model_dir)
    config = run_config["model"]
    trained = run_config["readout"]
    if trained["scheme"] != "exact":
        spiking.setdefault("hold_steps", trained["hold_steps"])
        spiking.setdefault("window", trained["window"])
    settings = check_spiking_settings(
        config, "spiking", dict(spiking, memory_neurons=memory_neurons,
                                memory_copies=memory_copies, memory_max_rate=memory_max_rate,
                                max_rate=max_rate, seed=seed, steps_per_element=k))
    window = settings.get("window", ReadoutScheme.window)
    # the simulated states (float64, K window + 1 chip steps), scaled copies and
    # NengoDL's float32 feeds (window + 1 steps)
    check_memory("n_train or n_valid", (8 * (k * window + 1) + 2 * 8 * (window + 1))
                 * (n_train + n_valid + n_synthetic) * int(config.get("memory_d", 1))
                 * int(config["order"]),
                 f"fine-tuning on {n_train + n_valid:,} simulated memories "
                 f"({k * window + 1} readout steps each)")
    window_loss = readout_loss == "window"
    training.check_model_size(config, (n_train + n_synthetic) * (1 if window_loss else
                                                                 readout_draws) + n_valid,
                              batch_size=batch_size, n_steps=window + 1 if window_loss else 1,
                              method="parallel")
    return model_dir, out, seed, states_cache, run_config, params


def _states_key(run_config, readout, spiking_memory, n_train, n_valid, data, source_file):
    """What the simulated memory states depend on, as stored with them in a
    ``states_cache`` file (strict JSON, as read back): the base model's
    network and readout window (``readout``: its ``hold_steps`` and
    ``window``), the memory's settings, the images (``source_file``:
    `data_file` of ``data``). Not the base model's weights: the memory runs
    on the images before ``e_x`` (`SpikingLMUClassifier.memory_states`), so
    the rate models of one network share its states."""
    key = {"model": run_config["model"], "readout": readout,
           "permutation_seed": run_config.get("permutation_seed", 0),
           "spiking_memory": spiking_memory, "n_train": n_train, "n_valid": n_valid,
           "data_sha256": (source_file or {}).get("sha256"), "data_source": data.source}
    return json.loads(json.dumps(strict_json(key)))


def _cached_states(path, key, simulate):
    """The ``(train, valid)`` states stored in the ``.npz`` at ``path`` if it
    holds those of ``key`` (a `ValueError` naming what differs, before any
    simulation, if it holds others); else ``simulate()``'s, written there
    atomically. Read without pickle."""
    if path is not None and os.path.exists(path):
        writer = "nengo_lmu.tasks.finetune.finetune_psmnist(states_cache=...)"
        arrays = read_npz(path, "memory states file", writer)
        missing = {"key", "train", "valid"} - set(arrays)
        if missing:
            raise ValueError(f"states_cache: {path} is not a memory states file of {writer} "
                             f"(it lacks {', '.join(sorted(missing))})")
        stored = read_json_array(path, arrays, "key")
        if stored != key:
            differ = sorted(k for k in set(key) | set(stored) if key.get(k) != stored.get(k))
            raise ValueError(f"states_cache: {path} holds the memory states of other settings "
                             f"(they differ in {', '.join(differ)}); give another file, or "
                             "remove it to simulate them anew")
        return arrays["train"], arrays["valid"]
    states = simulate()
    if path is not None:
        save_npz(path, {"key": np.array(json.dumps(key)), "train": states[0],
                        "valid": states[1]})
    return states


def synthetic_states(exact, simulated, exact_new, rng):
    """Spiking memory states for sequences that were not simulated.

    For each readout shift ``j`` the affine map of the exact states onto the
    simulated ones is fitted by least squares (``simulated[j] ~ exact[j] @ W_j
    + b_j``) and applied to ``exact_new[j]``; to that is added the residual
    of a random simulated sequence, all its shifts together, so that the
    distortion keeps its structure over the readout window and across the
    state variables. Loihi's neurons distort the memory systematically, and
    about 70 % of the simulated state's variance is such an affine map of
    the exact one (order 64, K = 4, the emulator; README).

    Parameters
    ----------
    exact, simulated : ndarray, shape ``(shifts, n, size)``
        The exact and the simulated memory of the same ``n`` sequences.
    exact_new : ndarray, shape ``(shifts, n_new, size)``
        The exact memory of the sequences to synthesise.
    rng : `numpy.random.RandomState`
        Draws the residuals.

    Returns
    -------
    states : ndarray, shape ``(shifts, n_new, size)``
    r2 : float
        The fraction of the simulated states' variance that the fitted maps
        explain.
    """
    exact, simulated, exact_new = (np.asarray(a, dtype=np.float64)
                                   for a in (exact, simulated, exact_new))
    if exact.shape != simulated.shape or exact.ndim != 3 or exact_new.ndim != 3 or (
            exact_new.shape[::2] != exact.shape[::2]):
        raise ValueError("exact and simulated must have one shape (shifts, n, size) and "
                         f"exact_new (shifts, n_new, size); got {exact.shape}, "
                         f"{simulated.shape} and {exact_new.shape}")
    n, n_new = exact.shape[1], exact_new.shape[1]
    fitted = np.empty_like(simulated)
    states = np.empty(exact_new.shape)
    for j in range(len(exact)):
        maps, *_ = np.linalg.lstsq(np.c_[exact[j], np.ones(n)], simulated[j], rcond=None)
        fitted[j] = np.c_[exact[j], np.ones(n)] @ maps
        states[j] = np.c_[exact_new[j], np.ones(n_new)] @ maps
    residual = simulated - fitted
    states += residual[:, rng.randint(n, size=n_new)]
    r2 = 1 - residual.var() / simulated.var()
    return states, float(r2)


def _simulated_states(net, x, xv, seed, weights, progress_bar, k=1, dtype="float64",
                      from_rest=False, simulation="nengo", spread=None):
    """The spiking memory of ``net`` simulated on the training images, each
    after a random other one, and the validation images back to back, in
    one call (one build of the memory's weights): ``(train, valid)``; with
    ``from_rest``, every image from rest instead.

    ``net`` runs ``k`` chip steps per element (`chip_time`): each image is
    presented for ``k`` steps per element (``np.repeat(x, k, axis=1)``, as
    `evaluate_psmnist` presents it), and the states are those of every chip
    step of the readout window, ``k * window + 1`` of them. With
    ``simulation="emulator"`` (from rest only) the memory runs on the batched
    emulator in chunks, ``spread`` (``{"spec", "workers", "ray_address"}``)
    saying where: here, on worker processes or on a Ray cluster
    (`nengo_lmu.distributed.distributed_memory_states`: the arrays of
    `nengo_lmu.batching.emulated_memory_states`, whatever the workers)."""
    n_train = len(x)
    if simulation == "emulator":
        from nengo_lmu.distributed import (  # pylint: disable=import-outside-toplevel
            distributed_memory_states,
        )

        m = distributed_memory_states(spread["spec"],
                                      np.repeat(np.concatenate([x, xv]), k, axis=1),
                                      workers=spread["workers"],
                                      ray_address=spread["ray_address"],
                                      progress_bar=progress_bar, classifier=net)
        return m[:, :n_train], m[:, n_train:]
    rng = np.random.RandomState(seed)
    before = (np.arange(n_train) + rng.randint(1, max(n_train, 2), size=n_train)) % n_train
    x_prev = None if from_rest else np.repeat(
        np.concatenate([x[before], np.zeros_like(xv[:1]), xv[:-1]]), k, axis=1)
    m = net.memory_states(np.repeat(np.concatenate([x, xv]), k, axis=1), x_prev,
                          progress_bar=progress_bar, quantized=weights == "loihi", dtype=dtype)
    return m[:, :n_train], m[:, n_train:]


def finetune_psmnist(model_dir, out, memory_neurons=FINETUNE["memory_neurons"],
                     memory_copies=FINETUNE["memory_copies"],
                     memory_max_rate=FINETUNE["memory_max_rate"], seed=FINETUNE["seed"],
                     n_train=FINETUNE["n_train"], n_valid=FINETUNE["n_valid"],
                     epochs=FINETUNE["epochs"], learning_rate=FINETUNE["learning_rate"],
                     weight_decay=FINETUNE["weight_decay"],
                     readout_draws=FINETUNE["readout_draws"],
                     readout_loss=FINETUNE["readout_loss"], max_rate=FINETUNE["max_rate"],
                     weights=FINETUNE["weights"],
                     steps_per_element=FINETUNE["steps_per_element"],
                     memory_dtype=FINETUNE["memory_dtype"], from_rest=FINETUNE["from_rest"],
                     memory_simulation=FINETUNE["memory_simulation"],
                     states_cache=FINETUNE["states_cache"], n_synthetic=FINETUNE["n_synthetic"],
                     workers=FINETUNE["workers"], ray_address=FINETUNE["ray_address"],
                     batch_size=100, source="auto",
                     progress_bar=True, verbose=1, **spiking):
    """Fine-tune a trained model's classifier against its spiking memory on Loihi.

    Loihi's neurons distort the spiking memory (see `nengo_lmu.spiking`),
    but deterministically: the same image gives the same spikes. So the
    classifier can learn to read the memory the chip will actually hold.
    This builds the spiking classifier that ``evaluate_psmnist(out,
    backend="loihi", memory="spiking")`` runs (`SpikingLMUClassifier`,
    calibrated the same way, with the given ``seed``, ``memory_neurons``,
    ``memory_copies`` and ``memory_max_rate``), simulates its memory with
    Loihi's neuron model on the first ``n_train`` training images, each after another random one
    (`SpikingLMUClassifier.memory_states`; with the recurrent weights Loihi
    stores, ``weights="loihi"``, or nengo's, ``"float"``), and on the first ``n_valid``
    validation images back to back, and trains the hidden and output layers,
    starting from the model's weights, on those states with NengoDL
    (``readout="spiking"`` of `nengo_lmu.training.train`; by default with
    ``readout_loss="window"``, the loss of the logits averaged over the
    readout window as the chip reads them out; ``readout_loss="draw"``
    trains on ``readout_draws`` shifts of the window per image instead).

    With ``steps_per_element=K`` the memory is simulated as `evaluate_psmnist`
    deploys it with that setting (`chip_time`, `deployed_classifier`): each
    element and each hold step lasts K chip steps and the memory runs K
    times slower, so the simulation costs K times as many steps. The
    classifier is trained on the states at every K-th chip step of the
    readout window (``window + 1`` of them, the shifts of the K = 1
    readout, in elements), and the validation with the hidden neurons
    spiking reads all ``K * window + 1`` chip steps, as the chip does.
    ``memory_dtype="float32"`` simulates the memory's recurrent product in
    float32 (`nengo_lmu.memory_simulation.simulate_memory`), about twice as
    fast (but the memory is chaotic: its spikes soon differ from float64's,
    a different draw of the same distortion). ``from_rest=True`` simulates
    every image from rest, as a batched evaluation (``batch_size``) runs
    them, instead of after another image: half the steps. All three are
    recorded with the memory's settings. ``memory_simulation="emulator"``
    (with ``from_rest=True``) runs the memory on the batched emulator
    instead, nengo_loihi's own arithmetic
    (`nengo_lmu.batching.emulated_memory_states`): the classifier then
    learns the memory the emulator holds, which nengo's floating-point
    simulation of the chaotic memory only approximates (order 64, K = 4:
    74.10 % on the emulator against 61.20 %, README); 0.25-0.45 s per
    image at order 64 and K = 4 here, about float32's cost in nengo.
    ``workers=N`` spreads that emulation over N processes of this machine,
    ``ray_address`` over a Ray cluster, in chunks of images
    (`nengo_lmu.distributed.distributed_memory_states`, as ``evaluate
    --workers`` spreads a test run): the same states to the bit, and the
    same ``states_cache``.

    ``states_cache`` (a ``.npz`` path) keeps the simulated states: the first
    run writes them there (atomically), and a later run with the same
    network, readout window, memory settings and images (another ``out``,
    ``epochs``, ``learning_rate``, ... or a resume; or another rate model of
    the same network, since the states do not depend on its weights) reads
    them instead of simulating the memory again, the same arrays to the
    bit; a file holding the states of
    other settings is refused, naming what differs, before anything is
    simulated. Order 64, K = 4: about 170 MB per 5,500 emulated images
    (float32).

    ``n_synthetic=N`` (with ``from_rest=True``) trains on N more training
    images than were simulated, the ``n_train + 1``-th on: their states are
    synthesised from their exact memory (`synthetic_states`: the simulated
    images' affine map from the exact memory plus the residual of one of
    them), in seconds instead of an hour of emulation; the history records
    the fit's ``synthetic_r2``. On the emulator's memory (order 64, K = 4,
    5,000 simulated images, tuning seed 0) 45,000 synthetic images moved the
    best validation accuracy from 77.8 % to 82.0 % (500 images) and the
    first 2,000 test images on the emulator from 73.80 % to 78.50 %
    (tuning seed 2: 83.85 %; README).

    ``out`` becomes a model directory like any other (resumable; without a
    ``states_cache`` the states are simulated again on resume,
    identically). Its ``config.json`` records the memory's settings, and
    `evaluate_psmnist` uses them by default (and
    warns when told to use other neurons, synapses or steps per element).
    At order 16 and K = 1 the classifier learned the distortion of Loihi's
    neurons rather than one network's (on memories with other seeds it did
    as well); at order 64 and K = 4 it did not on the emulator (in the
    simulation in part): deploy the ``seed`` it was tuned with, as
    `evaluate_psmnist` does by default (see the README).
    ``**spiking`` goes to
    `SpikingLMUClassifier` (``hold_steps``, ``window``, ``memory_synapse``,
    ``hidden_synapse``); ``hold_steps`` and ``window`` default to the
    model's own readout, if it was trained with ``readout="hold"``.
    ``max_rate`` (of the hidden neurons on chip) is recorded too; the
    history adds the validation accuracy with the hidden neurons spiking
    (`SpikingLMUClassifier.simulate_readout`) before and after.
    Every setting, ``model_dir`` (an existing directory), ``out`` and the
    memory the simulated states need are checked before the data are loaded
    or the memory simulated.
    Returns the training history.
    """
    # every setting is checked before the data are loaded or the memory simulated
    model_dir, out, seed, states_cache, run_config, params = _check_finetune(
        model_dir, out, seed, weights, readout_loss, readout_draws, n_train, n_valid,
        epochs, batch_size, learning_rate, weight_decay, memory_neurons, memory_copies,
        memory_max_rate, max_rate, steps_per_element, memory_dtype, from_rest, memory_simulation,
        states_cache, n_synthetic, workers, ray_address, spiking)
    config = run_config["model"]
    k = steps_per_element
    # the spiking classifier as evaluate_psmnist deploys it (calibrated the same way)
    deployed = deployed_settings(model_dir, "spiking", source, memory_neurons=memory_neurons,
                                 memory_copies=memory_copies, memory_max_rate=memory_max_rate,
                                 seed=seed, max_rate=max_rate,
                                 steps_per_element=k, **spiking)
    net, data = deployed.build(), deployed.data
    x, y = data["train"]
    xv, yv = data["valid"]
    for name, n, total in (("n_train", n_train, len(x)), ("n_valid", n_valid, len(xv))):
        if n > total:
            raise ValueError(f"{name} must be an integer in 1..{total}, got {n!r}")
    if n_train + n_synthetic > len(x):
        raise ValueError(f"n_synthetic must be an integer in 0..{len(x) - n_train} (the "
                         f"training images after the first n_train = {n_train}), got "
                         f"{n_synthetic!r}")
    spiking_memory = {**net.settings.to_json(), "seed": seed, "weights": weights}
    if memory_copies == 1:  # recorded only when > 1, as steps_per_element
        del spiking_memory["memory_copies"]
    if k > 1:
        spiking_memory["steps_per_element"] = k
    if memory_dtype != FINETUNE["memory_dtype"]:
        spiking_memory["dtype"] = memory_dtype
    if from_rest:
        spiking_memory["from_rest"] = True
    if memory_simulation != FINETUNE["memory_simulation"]:
        spiking_memory["simulation"] = memory_simulation
    settings = readout_settings(
        "spiking", net.hold_steps // k, net.window // k, readout_draws=readout_draws,
        readout_loss=readout_loss, spiking_memory=spiking_memory)
    if n_synthetic:
        x_new, y_new = check_sequences(x[n_train:n_train + n_synthetic],
                                       y[n_train:n_train + n_synthetic])
    x, y = check_sequences(x[:n_train], y[:n_train])
    xv, yv = check_sequences(xv[:n_valid], yv[:n_valid])
    source_file = data_file(data)  # hashes the data file: once
    key = _states_key(run_config, {"hold_steps": net.hold_steps, "window": net.window},
                      spiking_memory, n_train, n_valid, data, source_file)
    from_cache = states_cache is not None and os.path.exists(states_cache)
    start = time.perf_counter()
    # where the emulator runs (the seed, always set here, makes the spec valid)
    chip_states = _cached_states(states_cache, key, lambda: _simulated_states(
        net, x, xv, seed, weights, progress_bar, k, memory_dtype, from_rest, memory_simulation,
        dict(spec=deployed.spec(), workers=workers, ray_address=ray_address)
        if memory_simulation == "emulator" else None))
    simulate_s = time.perf_counter() - start
    # every K-th chip step of the window: the shifts of the readout in elements
    states = tuple(m[::k] for m in chip_states)
    r2 = None
    if n_synthetic:
        # the exact memory in sequence elements (the rate model's): the chip's
        # memory, K times slower, of each element held K steps is the same at
        # every K-th step (zero-order hold); its scale (e_x) the fit absorbs
        lmu = build_classifier(config, params, add_to_container=False).lmu
        exact = [stream_memories(lmu, xs, settings["hold_steps"], settings["window"],
                                 from_rest=True) for xs in (x, x_new)]
        synthetic, r2 = synthetic_states(exact[0], states[0], exact[1],
                                         np.random.RandomState(seed))
        if verbose:
            print(f"{n_synthetic:,} synthetic training images (the affine fit explains "
                  f"{r2 * 100:.1f} % of the simulated states' variance)")
        states = (np.concatenate([states[0], synthetic], axis=1), states[1])
        x, y = np.concatenate([x, x_new]), np.concatenate([y, y_new])
    e_x = net.params["e_x"][0, 0]  # the memory does not depend on it (see final_memory)
    # the model as it was, read from the same simulated memory
    val_before = accuracy(stream_logits(config, net.params, e_x * states[1]), yv)
    spikes_before = accuracy(net.simulate_readout(chip_states[1])[0], yv)
    if verbose:
        print(f"before fine-tuning, on the simulated spiking memory: validation accuracy "
              f"{val_before:.4f}, {spikes_before:.4f} with the hidden neurons spiking")
    history = train(
        config, (x, y), (xv, yv), out, epochs=epochs, method="parallel",
        batch_size=batch_size, learning_rate=learning_rate, weight_decay=weight_decay,
        seed=seed, verbose=verbose, readout="spiking", hold_steps=settings["hold_steps"],
        window=settings["window"], readout_draws=readout_draws,
        readout_loss=readout_loss, memory_states=(e_x * states[0], e_x * states[1]),
        spiking_memory=settings["spiking_memory"], initial_params=params,
        meta={"task": "psmnist", "permutation_seed": run_config.get("permutation_seed", 0),
              "n_train": n_train, "n_valid": n_valid, "n_synthetic": n_synthetic,
              "data_file": source_file,
              "data_source": data.source, "base_model": os.path.abspath(model_dir)},
    )
    history["simulate_s"] = simulate_s  # or the time to read them from states_cache
    history["states_from_cache"] = from_cache
    history["val_accuracy_before"] = val_before
    if n_synthetic:
        history["synthetic_r2"] = r2  # of the affine fit behind the synthetic states
    # the tuned classifier with its spikes, deployed as evaluate deploys it
    tuned, _ = deployed_classifier(out, "spiking", source, **spiking)
    history["val_spiking_accuracy_before"] = spikes_before
    history["val_spiking_accuracy"] = accuracy(tuned.simulate_readout(chip_states[1])[0], yv)
    history["wall_s"] = time.perf_counter() - start
    save_figure(plot_history(history), os.path.join(out, "training.png"), dpi=110)
    return history
