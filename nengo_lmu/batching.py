"""Many images at once, each as if run alone: the spiking classifier on the
Loihi emulator (and on nengo), the rate classifier on nengo.

`nengo_lmu.spiking.SpikingLMUClassifier.run` presents images back to back in
one nengo_loihi simulation, one image per step of the emulator's Python
work; `run_batched` runs them ``batch_size`` at a time on the model
nengo_loihi builds, once, emulated for all of them side by side
(`nengo_lmu.batched_emulator.BatchedEmulator`, nengo_loihi's arithmetic
with a batch axis, checked spike for spike against `nengo_loihi.Simulator`).

**What "identical to running it alone" means** (`run_batched`). nengo_loihi
1.1 cannot reset a simulator, so `SpikingLMUClassifier.run` carries each
image's end state (hidden voltages and input filters; with
``memory="spiking"`` the memory itself) into the next image: an image's
result depends on the images before it. With ``reset=True`` (the default)
every image starts from rest, as in a simulator of its own
(``classifier.run(x[i:i + 1])``), so its result depends on nothing else:
not on the batch size, the order of the images, nor on how they are split
over processes. With ``reset=False`` the images run back to back in
``batch_size`` streams of consecutive images, stream ``k`` a contiguous
slice of ``x`` run as ``classifier.run(x[slice])`` runs it (``batch_size=1``
is ``classifier.run(x)``, bit for bit); each stream starts from rest, so its
images differ from those of one long back-to-back run (the difference
carries on through the stream), and results depend on the batch size.

On ``backend="nengo"`` the batch is ``batch_size`` copies of the classifier
(same seeds) in one `nengo.Simulator`, a new simulator per batch with
``reset=True``: the same definition on the reference simulator, for
checking rather than for speed.

The rate classifier (`nengo_lmu.lmu.LMUClassifier`, the temporal network)
runs on nengo ``batch_size`` images at a time in `predict_batched`: one
network of the classifier's nodes and neurons, each ``batch_size`` times as
wide (`BatchedNetwork`), its dense transforms applied to every image at
once (a 1x1 `nengo.Convolution` over the images: one matrix product per
step instead of one per image), reset before every batch, so every image
runs from rest as `nengo_lmu.training.predict` runs it with
``backend="nengo"``, to rounding.

This module imports neither NengoDL nor TensorFlow, and nengo_loihi only
when a `BatchedEmulator` is built (nengo_loihi 1.1 itself imports NengoDL,
and with it TensorFlow, when they are installed).
"""
import dataclasses
import time
import warnings

import nengo
import numpy as np
from nengo.utils.progress import Progress, ProgressTracker

from nengo_lmu.backends import make_simulator
from nengo_lmu.batched_emulator import BatchedEmulator
from nengo_lmu.lmu import LMUClassifier
from nengo_lmu.memory_simulation import memory_weights
from nengo_lmu.readout import hold_stream
from nengo_lmu.spiking import SpikingLMUClassifier, check_sequences_arg
from nengo_lmu.validation import check_choice, check_integer, check_steps

#: Backends of `run_batched`.
BATCH_BACKENDS = ("nengo", "loihi")

#: Images per batch where the batched emulator's cost per image levels off. On
#: 2 cores: 0.7-0.9 ms per image at 64 against 3.7 ms at 1 (exact memory, order
#: 256, 346 hidden units), 13-17 ms against about 160 ms (spiking memory, order 16).
DEFAULT_BATCH_SIZE = 64

# -- the spiking classifier -------------------------------------------------------


@dataclasses.dataclass
class BatchedRun:
    """What `run_batched` returns, per image (rows in the order of ``x``).

    Attributes
    ----------
    logits : ndarray, shape ``(n, n_classes)``
        ``W_out`` times ``rates``, plus ``b_out``.
    predictions : ndarray of int, shape ``(n,)``
        ``argmax`` of the logits.
    counts : ndarray of int, shape ``(n, units)``
        Spikes of each hidden neuron in the readout window.
    rates : ndarray, shape ``(n, units)``
        Mean probe output over the window (spikes times ``amplitude / dt``), as
        `SpikingLMUClassifier.run` returns them.
    batch_size, reset, backend, steps_per_image
        The settings of the run.
    wall_s : float
        Seconds for the run, build included.
    """

    logits: np.ndarray
    predictions: np.ndarray
    counts: np.ndarray
    rates: np.ndarray
    batch_size: int
    reset: bool
    backend: str
    steps_per_image: int
    wall_s: float

    @property
    def s_per_image(self):
        """Wall seconds per image."""
        return self.wall_s / len(self.predictions)

    def to_json(self):
        """The run's predictions and settings as a JSON-able dict."""
        return {"predictions": self.predictions.tolist(), "batch_size": self.batch_size,
                "reset": self.reset, "backend": self.backend,
                "steps_per_image": self.steps_per_image, "wall_s": self.wall_s,
                "s_per_image": self.s_per_image}


def _check_x(x, n_steps):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise ValueError(f"x must be a float array, got dtype {x.dtype}")
    if x.ndim != 3 or x.shape[2] != 1 or len(x) < 1 or x.shape[1] != n_steps:
        raise ValueError(f"x must have shape (n >= 1, {n_steps}, 1), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or inf")
    return x.astype(np.float64)


def _schedule(n, batch_size, reset):
    """Image indices per round and stream, ``(n_rounds, n_streams)``, -1 for none.

    ``reset``: rounds of ``batch_size`` consecutive images. Otherwise
    ``min(batch_size, n)`` streams of consecutive images (contiguous slices of
    sizes differing by at most one), stream ``k`` in column ``k``.
    """
    if reset:
        n_rounds = -(-n // batch_size)
        rows = np.full(n_rounds * batch_size, -1)
        rows[:n] = np.arange(n)
        return rows.reshape(n_rounds, batch_size)
    chunks = np.array_split(np.arange(n), min(batch_size, n))
    rows = np.full((len(chunks[0]), len(chunks)), -1)
    for k, chunk in enumerate(chunks):
        rows[:len(chunk), k] = chunk
    return rows


def _input_node(classifier):
    return classifier.memory_input if classifier.memory_mode == "exact" else classifier.input


def _node_values(node, images, steps, dt):
    """What ``node`` outputs during images ``images`` (``steps`` each) of its
    timeline, as the simulator computes it: ``(len(images), steps, size_out)``.

    `nengo.processes.PresentInput` (what `SpikingLMUClassifier.set_inputs`
    sets) is evaluated with its own formula, vectorized; other processes
    step by step; constant outputs are repeated."""
    t = (np.asarray(images)[:, None] * steps + np.arange(1, steps + 1)) * dt
    output = node.output
    if isinstance(output, nengo.processes.PresentInput):
        inputs = output.inputs.reshape(len(output.inputs), -1)
        row = ((t - dt) / float(output.presentation_time) + 1e-7).astype(np.int64)
        return inputs[row % len(inputs)]
    if isinstance(output, nengo.Process):
        step = output.make_step((0,), (node.size_out,), dt, np.random.RandomState(0),
                                output.make_state((0,), (node.size_out,), dt))
        return np.array([[step(tt) for tt in row] for row in t]).reshape(
            len(t), steps, node.size_out)
    if callable(output) or output is None:
        raise NotImplementedError(f"{node}: run_batched needs a node with a Process or "
                                  "constant output")
    return np.broadcast_to(np.asarray(output, dtype=float), (len(t), steps, node.size_out))


def run_batched(classifier, x, batch_size=DEFAULT_BATCH_SIZE, backend="loihi", reset=True,
                progress_bar=True):
    """Run a spiking classifier on sequences ``x``, ``batch_size`` at a time.

    With ``reset=True`` every image runs from rest, as in a simulator of its
    own: its logits, prediction and readout-window spike counts are those
    of ``classifier.run(x[i:i + 1], backend)``, for any ``batch_size``, in
    any order, split over any number of processes. With ``reset=False`` the
    images run back to back in ``min(batch_size, n)`` streams of consecutive
    images, each slice as ``classifier.run(x[slice], backend)`` runs it
    (``batch_size=1``: ``classifier.run(x)``). See the module docstring.

    On ``backend="loihi"`` the classifier is built once with nengo_loihi and
    its model emulated for the batch at once (`BatchedEmulator`); on an
    attached board this still runs the emulator. With ``memory="spiking"``
    seed the classifier (``SpikingLMUClassifier(seed=...)``): unseeded, the
    memory's tuning is drawn anew at every build, so each run of
    ``classifier.run`` is another network (here one build serves every image).

    Parameters
    ----------
    classifier : `nengo_lmu.spiking.SpikingLMUClassifier`
    x : ndarray, shape ``(n, T, 1)``
        Float sequences of the classifier's length ``T``.
    batch_size : int
        Images emulated side by side (>= 1). On the emulator the cost per
        image falls with it up to a few dozen images (``DEFAULT_BATCH_SIZE``).
    backend : {"loihi", "nengo"}
    reset : bool
        Every image from rest (True), or back to back in streams (False).
    progress_bar : bool

    Returns
    -------
    `BatchedRun`
        Logits, predictions, spike counts and rates per image, and the timing.
    """
    start = time.perf_counter()
    if not isinstance(classifier, SpikingLMUClassifier):
        raise ValueError(f"classifier must be a SpikingLMUClassifier, got {classifier!r}")
    batch_size = check_integer("batch_size", batch_size)
    check_choice("backend", backend, BATCH_BACKENDS)
    if not isinstance(reset, bool):
        raise ValueError(f"reset must be True or False, got {reset!r}")
    x = _check_x(x, classifier.n_steps)
    # the input nodes' values for every image, computed once (and warnings once)
    classifier.set_inputs(x)
    rows = _schedule(len(x), batch_size, reset)
    steps = classifier.steps_per_sequence
    counts = np.zeros((len(x), classifier.units), dtype=np.int64)
    rates = np.zeros((len(x), classifier.units))
    progress = Progress(f"Simulating {len(x)} images ({backend}, batches of {batch_size})",
                        "Simulation", len(x) * steps)
    run = _run_loihi if backend == "loihi" else _run_nengo
    with ProgressTracker(progress_bar, progress) as tracker:
        for images, spikes, value in run(classifier, x, rows, reset):
            counts[images] = spikes.sum(axis=1)
            # as SpikingLMUClassifier.run: the probe's values averaged over the window
            rates[images] = np.where(spikes, value, 0.0).mean(axis=1)
            tracker.total_progress.step(len(images) * steps)
    p = classifier.params
    logits = rates @ p["W_out"].T + p["b_out"]
    return BatchedRun(logits=logits, predictions=np.argmax(logits, axis=1), counts=counts,
                      rates=rates, batch_size=batch_size, reset=reset, backend=backend,
                      steps_per_image=steps, wall_s=time.perf_counter() - start)


def _run_loihi(classifier, x, rows, reset):
    """Rounds of the batched emulator: ``(images, window spikes, value per spike)``."""
    steps, window = classifier.steps_per_sequence, classifier.window
    node = _input_node(classifier)
    emulator = BatchedEmulator(classifier, [node], [classifier.probe], dt=classifier.dt)
    value = emulator.spike_value[classifier.probe]
    record = np.arange(steps - window, steps)
    for j, idx in enumerate(rows):
        valid = idx >= 0
        if reset:
            idx = idx[valid]
            valid = valid[valid]
        # set_inputs(x) made the node present every image; padding: image 0
        values = _node_values(node, np.where(valid, idx, 0), steps, classifier.dt)
        spikes = emulator.run({node: values}, steps, record=record, reset=reset or j == 0)
        yield idx[valid], spikes[classifier.probe][valid], value


def _run_nengo(classifier, x, rows, reset):
    """Copies of the classifier in one `nengo.Simulator` per round (``reset``)
    or one for every stream: ``(images, window spikes, value per spike)``."""
    steps, window = classifier.steps_per_sequence, classifier.window
    value = classifier.neuron_type.amplitude / classifier.dt
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier.set_inputs(x[:1])  # not copied B times; each copy gets its own images
    copies = [classifier.copy() for _ in range(rows.shape[1])]

    def simulate(nets, n_steps):
        network = nengo.Network(add_to_container=False)
        network.networks.extend(nets)
        with make_simulator(network, "nengo", dt=classifier.dt, progress_bar=False) as sim:
            sim.run_steps(n_steps)
            return [sim.data[c.probe] for c in nets]

    if reset:
        for idx in rows:
            idx = idx[idx >= 0]
            nets = copies[:len(idx)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for net, i in zip(nets, idx):
                    net.set_inputs(x[i:i + 1])
            data = np.array(simulate(nets, steps))  # (b, steps, units)
            yield idx, _nengo_spikes(data[:, -window:], value), value
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, net in enumerate(copies):
            net.set_inputs(x[np.where(rows[:, k] >= 0, rows[:, k], 0)])
    data = simulate(copies, len(rows) * steps)
    for k, d in enumerate(data):
        d = d.reshape(len(rows), steps, -1)[:, -window:]
        valid = rows[:, k] >= 0
        yield rows[valid, k], _nengo_spikes(d[valid], value), value


def _nengo_spikes(data, value):
    """nengo's probe values (``value`` per spike) as spikes; at most one per step."""
    n_spikes = np.rint(data / value).astype(np.int64)
    if np.any(n_spikes > 1):
        raise NotImplementedError("more than one spike per step (rates above 1/dt)")
    return n_spikes.astype(bool)


# -- the rate classifier on nengo -------------------------------------------------


class BatchedNetwork(nengo.Network):
    """``n_copies`` of ``network`` side by side, as one network as wide as all.

    Every node and ensemble of ``network`` becomes one ``n_copies`` times as
    large, copy ``k`` in its ``k``-th block (the layout ``(n_copies, size)``,
    row-major); a scalar or elementwise transform acts on every block, a
    dense one ``W`` becomes a 1x1 `nengo.Convolution` of kernel ``W.T`` over
    the copies (each block multiplied by ``W``: one product for all of
    them), and synapses are the same (elementwise filters). Ensembles get
    their built gains and biases, tiled. The nodes of ``inputs`` output the
    rows of ``values``, one per copy, instead of their own output: each
    copy is fed its own sequence.

    Supported: networks of nodes with a constant output or pass-through,
    ensembles used only through their ``.neurons``, connections without
    slices or functions with `nengo.transforms.NoTransform` or
    `nengo.transforms.Dense` transforms, probes without slices (the
    temporal `nengo_lmu.lmu.LMUClassifier` with an exact memory). Anything
    else raises `NotImplementedError`.

    Parameters
    ----------
    network : `nengo.Network`
    n_copies : int
        Copies side by side (>= 1).
    inputs : list of `nengo.Node`
        Nodes without input whose value every copy gets from ``values``.

    Raises
    ------
    ValueError
        For a bad argument, before anything is built.
    NotImplementedError
        For an object it cannot widen.

    Attributes
    ----------
    n_copies : int
    wide : dict
        ``{object of the original: its wide counterpart}`` for every node,
        ensemble, neurons, connection and probe.
    values : dict
        ``{input node: ndarray (n_copies, n_steps, size_out)}``, what the wide
        input node outputs at each step (the last row after ``n_steps``);
        fill it in place (or replace it) before running or after
        `nengo.Simulator.reset`. Zeros of one step until then.
    """

    def __init__(self, network, n_copies, inputs=()):
        n_copies = check_integer("n_copies", n_copies)
        if not isinstance(network, nengo.Network):
            raise ValueError(f"network must be a nengo.Network, got {network!r}")
        super().__init__(label=f"{network.label or 'network'} x {n_copies}",
                         add_to_container=False)
        self.n_copies, self.wide, self.values = n_copies, {}, {}
        inputs = list(inputs)
        for node in inputs:
            if not isinstance(node, nengo.Node) or node.size_in != 0:
                raise ValueError(f"inputs must be nengo.Node objects without input, "
                                 f"got {node!r}")
        model = nengo.builder.Model(dt=0.001)
        model.build(network)  # the ensembles' gains and biases, as nengo builds them
        with self:
            for node in network.all_nodes:
                self.wide[node] = self._node(node, node in inputs)
            for ens in network.all_ensembles:
                built = model.params[ens]
                wide = nengo.Ensemble(
                    n_copies * ens.n_neurons, 1, neuron_type=ens.neuron_type,
                    gain=np.tile(built.gain, n_copies), bias=np.tile(built.bias, n_copies),
                    label=ens.label)
                self.wide[ens], self.wide[ens.neurons] = wide, wide.neurons
            for conn in network.all_connections:
                self.wide[conn] = self._connection(conn)
            for probe in network.all_probes:
                if probe.slice not in (None, slice(None)) or probe.target not in self.wide:
                    raise NotImplementedError(f"{probe}: BatchedNetwork supports probes "
                                              "of whole nodes and neurons")
                self.wide[probe] = nengo.Probe(
                    self.wide[probe.target], attr=probe.attr, synapse=probe.synapse,
                    sample_every=probe.sample_every)

    def _node(self, node, is_input):
        n = self.n_copies
        if is_input:
            self.values[node] = np.zeros((n, 1, node.size_out))

            def output(t, node=node, dt=0.001):
                values = self.values[node]
                step = min(int(round(t / dt)) - 1, values.shape[1] - 1)
                return values[:, step].ravel()

            return nengo.Node(output, size_out=n * node.size_out, label=node.label)
        if node.output is None:
            return nengo.Node(size_in=n * node.size_in, label=node.label)
        if callable(node.output) or isinstance(node.output, nengo.Process):
            raise NotImplementedError(f"{node}: BatchedNetwork supports nodes with a "
                                      "constant output, pass-through nodes and inputs")
        return nengo.Node(np.tile(np.ravel(node.output), n), label=node.label)

    def _connection(self, conn):
        if conn.function is not None or conn.pre_slice != slice(None) \
                or conn.post_slice != slice(None):
            raise NotImplementedError(f"{conn}: BatchedNetwork supports connections "
                                      "without slices or functions")
        if isinstance(conn.pre_obj, nengo.Ensemble) or isinstance(conn.post_obj,
                                                                   nengo.Ensemble):
            raise NotImplementedError(f"{conn}: BatchedNetwork supports ensembles "
                                      "connected through their neurons only")
        pre, post = self.wide[conn.pre_obj], self.wide[conn.post_obj]
        transform = conn.transform
        if isinstance(transform, nengo.transforms.NoTransform):
            transform = None
        elif isinstance(transform, nengo.transforms.Dense) and transform.init.ndim < 2:
            init = transform.init
            transform = init if init.ndim == 0 else np.tile(init, self.n_copies)
        elif isinstance(transform, nengo.transforms.Dense):
            w = transform.init
            transform = nengo.Convolution(
                w.shape[0], (self.n_copies, w.shape[1]), kernel_size=(1,), strides=(1,),
                padding="valid", channels_last=True, init=w.T[None])
        else:
            raise NotImplementedError(f"{conn}: BatchedNetwork supports dense and "
                                      f"scalar transforms, not {transform}")
        if transform is None:
            return nengo.Connection(pre, post, synapse=conn.synapse)
        return nengo.Connection(pre, post, transform=transform, synapse=conn.synapse)


def emulated_memory_states(classifier, x, batch_size=DEFAULT_BATCH_SIZE, progress_bar=True):
    """What the hidden layer of ``classifier`` reads from its spiking memory
    during the hold, with the memory on the batched emulator.

    The counterpart of `SpikingLMUClassifier.memory_states` (each sequence
    from rest, then ``hold_steps`` zeros) in nengo_loihi's own arithmetic:
    the classifier runs on `BatchedEmulator` (the emulator bit for bit: the
    chip's 8-bit weights, integer voltages and input spikes), ``batch_size``
    sequences side by side, and the spikes of the memory's neurons are
    decoded with the memory's decoders and filtered by ``hidden_synapse`` as
    a nengo probe of ``classifier.memory.output`` would read them (the
    previous step's output), at the steps of each shift of the readout
    window. The spiking memory is chaotic (README), so training a classifier
    on these states (`nengo_lmu.tasks.finetune.finetune_psmnist` with
    ``memory_simulation="emulator"``) teaches it the memory the emulator
    holds, which nengo's floating-point simulation only approximates.

    Parameters
    ----------
    classifier : `SpikingLMUClassifier`
        With ``memory="spiking"`` and a seed.
    x : ndarray, shape ``(n, n_steps, 1)``
        Float sequences as the classifier runs them (``n_steps`` steps each:
        with K chip steps per element, ``np.repeat(images, K, axis=1)``).
    batch_size : int
    progress_bar : bool

    Returns
    -------
    ndarray, shape ``(window + 1, n, order)``, float32
        Before ``e_x``, like `SpikingLMUClassifier.memory_states`.
    """
    if not isinstance(classifier, SpikingLMUClassifier) or classifier.memory_mode != "spiking":
        raise ValueError("emulated_memory_states needs a SpikingLMUClassifier with "
                         "memory='spiking'")
    if classifier.seed is None:
        raise ValueError("emulated_memory_states needs a seeded classifier (seed=...)")
    x = check_sequences_arg("x", x, classifier.n_steps)
    batch_size = check_integer("batch_size", batch_size)
    hold = classifier.hold_steps
    n_steps = classifier.n_steps + hold
    steps = n_steps - hold - 1 + classifier.scheme.shifts  # after the last element
    a = float(np.exp(-classifier.dt / classifier.hidden_synapse))
    # the filter forgets its start (exp(-30)) before the window opens
    first = max(0, int(steps[0]) - int(np.ceil(30 * classifier.hidden_synapse / classifier.dt)))
    record = np.arange(first, n_steps)
    where = {int(t): i for i, t in enumerate(steps)}
    decoders = memory_weights(classifier.memory)["D"]
    with classifier:
        probes = [nengo.Probe(e.neurons) for e in classifier.memory.state_ensembles]
    try:
        emulator = BatchedEmulator(classifier, [classifier.input], probes, dt=classifier.dt)
    finally:
        for probe in probes:
            classifier.probes.remove(probe)
    out = np.zeros((len(steps), len(x), decoders.shape[1]), dtype=np.float32)
    progress = Progress("Emulating the spiking memory", "Emulation", len(x))
    with ProgressTracker(progress_bar, progress) as tracker:
        for start in range(0, len(x), batch_size):
            stream = hold_stream(x[start:start + batch_size], hold, hold)
            spikes = emulator.run({classifier.input: stream}, n_steps, record=record)
            spikes = np.concatenate([spikes[p] * emulator.spike_value[p] for p in probes],
                                    axis=2)
            filtered = previous = np.zeros((len(stream), spikes.shape[2]))
            for i, t in enumerate(record):
                filtered = a * filtered + (1 - a) * previous  # a probe reads the last step
                previous = spikes[:, i]
                if t in where:
                    out[where[t], start:start + len(stream)] = filtered @ decoders
            tracker.total_progress.step(len(stream))
    return out


def predict_batched(classifier, x, batch_size=DEFAULT_BATCH_SIZE, progress_bar=False,
                    steps=None):
    """Logits of a rate classifier on nengo, ``batch_size`` sequences side by side.

    The temporal network of ``classifier`` (an `nengo_lmu.lmu.LMUClassifier`
    with an exact memory, built with ``method="sequential"``) ``batch_size``
    times over in one `nengo.Simulator` (`BatchedNetwork`, built once),
    reset before every batch: every sequence runs from rest, one step per
    element, and gives the logits of its last step, as
    `nengo_lmu.training.predict` (``backend="nengo"``) gives them one
    sequence after another (allclose: the products sum in another order),
    whatever ``batch_size``.

    Parameters
    ----------
    classifier : `nengo_lmu.lmu.LMUClassifier`
    x : ndarray, shape ``(n, T, input_d)``
        Float sequences.
    batch_size : int
        Sequences side by side (>= 1; at most ``n`` are built).
    progress_bar : bool
    steps : array of int, optional
        Steps (``1..T``) after which the logits are read, as in
        `nengo_lmu.training.predict`; default the last.

    Returns
    -------
    ndarray, shape ``(n, n_classes)``, or ``(n, len(steps), n_classes)`` with ``steps``
    """
    if not isinstance(classifier, LMUClassifier):
        raise ValueError(f"classifier must be an LMUClassifier, got {classifier!r}")
    if classifier.lmu.closed_form:
        raise ValueError("predict_batched runs the temporal network: build the classifier "
                         "with method='sequential'")
    batch_size = check_integer("batch_size", batch_size)
    x = np.asarray(x)
    if x.ndim != 3 or len(x) < 1 or x.shape[1] < 1 or x.shape[2] != classifier.lmu.input_d:
        raise ValueError(f"x must have shape (n >= 1, T >= 1, {classifier.lmu.input_d}), "
                         f"got {x.shape}")
    if x.dtype.kind != "f" or not np.all(np.isfinite(x)):
        raise ValueError("x must hold finite floats")
    n, n_steps = len(x), x.shape[1]
    read = check_steps(steps, n_steps)
    read = np.array([n_steps]) if read is None else read
    wide = BatchedNetwork(classifier, min(batch_size, n), inputs=[classifier.input])
    probe = wide.wide[classifier.probe]
    values = np.zeros((wide.n_copies, n_steps, x.shape[2]))
    wide.values[classifier.input] = values
    out = np.zeros((n, len(read), classifier.n_classes))
    progress = Progress(f"Simulating {n} sequences (nengo, batches of {wide.n_copies})",
                        "Simulation", n * n_steps)
    with ProgressTracker(progress_bar, progress) as tracker, \
            make_simulator(wide, "nengo", progress_bar=False) as sim:
        for first in range(0, n, wide.n_copies):
            batch = x[first:first + wide.n_copies]
            values[:len(batch)], values[len(batch):] = batch, 0.0
            sim.reset()
            sim.run_steps(n_steps)
            logits = sim.data[probe][read - 1].reshape(len(read), wide.n_copies, -1)
            out[first:first + len(batch)] = logits[:, :len(batch)].transpose(1, 0, 2)
            tracker.total_progress.step(len(batch) * n_steps)
    return out if steps is not None else out[:, 0]
