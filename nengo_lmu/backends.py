"""Backend glue: one call to build a simulator for nengo, NengoDL or Loihi.

The networks of `nengo_lmu` are plain `nengo.Network` objects, so any of the
three simulators runs them. `make_simulator` adds what each backend needs to
run them *well*: for `nengo_loihi`, the on-chip input filter of memories built
with ``loihi_input=True`` (and the host-side filter of the same memories on
the other backends), and a progress bar that nengo_loihi lacks.

`build_on_loihi` is nengo_loihi's build of a `nengo_lmu.LegendreMemory`
(registered with nengo_loihi's builder as soon as nengo_loihi is imported,
`register_loihi_build`): it builds a spiking memory for the chip (input
filtered once, on chip; principle 3 for the chip's synaptic decay) and lets a
network whose only memory is exact run on the emulator, so that a plain
``nengo_loihi.Simulator(net)`` runs the memories as `make_simulator` does.
"""

import collections
import contextlib
import copy
import re
import sys
import warnings

import nengo
import numpy as np
import scipy.sparse
from nengo.utils.progress import Progress, ProgressBar, ProgressTracker, timestamp2timedelta

from nengo_lmu.networks import CONFIG_HOOKS, LegendreMemory, loihi_tau
from nengo_lmu.neurons import chip_neuron_type, chip_rates
from nengo_lmu.validation import check_positive, check_seed

BACKENDS = ("nengo", "dl", "loihi")


def check_backend(backend):
    """Raise a `ValueError` naming the accepted backends."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return backend


def memories(network):
    """The `nengo_lmu.LegendreMemory` networks in ``network`` (itself included)."""
    return [net for net in [network, *network.all_networks] if isinstance(net, LegendreMemory)]


def loihi_input_memories(network):
    """The `nengo_lmu.LegendreMemory` networks in ``network`` (itself included)
    built with ``loihi_input=True``."""
    return [net for net in memories(network) if net.loihi_input]


def check_memory_dts(network, dt):
    """Refuse to simulate memories built for another time step than ``dt``.

    A `nengo_lmu.LegendreMemory` is discretized (exact memory) or mapped
    onto its synapses (spiking memory, principle 3) for its own ``dt``; at
    another simulator step it silently realises another memory (a readout
    of 0.02 instead of 0.79). Exact memories built with ``dt=1`` count
    ``theta`` in steps (the LMU cell's memory, one sequence element per
    step) and run at any step.

    Raises
    ------
    ValueError
        Naming the memory (its label), its ``dt`` and the simulator's.
    """
    for net in memories(network):
        if net.n_per_dimension is None and net.dt == 1.0:
            continue
        if not np.isclose(net.dt, dt, rtol=1e-9, atol=0):
            name = repr(net.label) if net.label is not None else str(net)
            what = "discretization" if net.n_per_dimension is None else "principle-3 mapping"
            raise ValueError(
                f"LegendreMemory {name} was built for dt={net.dt:g} s but the simulator's "
                f"dt is {dt:g} s: its {what} is exact only at its own dt; build it with "
                f"dt={dt:g} or simulate with dt={net.dt:g}"
            )


def loihi_decode_tau(network):
    """The on-chip input filter asked for by memories in ``network``, or None.

    `nengo_lmu.LegendreMemory` built with ``loihi_input=True`` leaves its
    input connection unfiltered on the host so that nengo_loihi filters the
    input spikes once, on chip, with the model's ``decode_tau``; this returns
    that time constant (the memories' ``synapse``).
    """
    taus = {net.synapse for net in loihi_input_memories(network)}
    if len(taus) > 1:
        raise ValueError(
            "memories with loihi_input=True must share one synapse (nengo_loihi "
            f"has a single on-chip input filter), got synapses {sorted(taus)}"
        )
    return taus.pop() if taus else None


@contextlib.contextmanager
def route_memory_inputs(network, backend):
    """Filter the input of ``loihi_input=True`` memories where ``backend`` needs it,
    while a simulator is built.

    On ``"loihi"`` their input connections are unfiltered (nengo_loihi
    filters the input spikes on chip, `loihi_decode_tau`); on the other
    backends they have the memory's principle-3 lowpass on the host (with
    the time constant the chip realises, `LegendreMemory.realised_tau`), as
    the memory is built. The connections' synapses are restored on leaving,
    so that the network runs the same in a bare `nengo.Simulator` after.
    """
    saved = [(conn, conn.synapse, None if backend == "loihi" else net.realised_tau)
             for net in loihi_input_memories(network) for conn in net.input_connections]
    for conn, _, routed in saved:
        conn.synapse = routed
    try:
        yield
    finally:
        for conn, synapse, _ in saved:
            conn.synapse = synapse


def register_loihi_build():
    """Register `build_on_loihi` with nengo_loihi's builder, once nengo_loihi
    has been imported (by anyone); without nengo_loihi, do nothing.

    `nengo_lmu.networks.LegendreMemory` runs this whenever its ``config`` is
    read, which nengo_loihi does right before it builds the memory.
    """
    if _LOIHI_BUILD or "nengo_loihi.builder.network" not in sys.modules:
        return
    from nengo_loihi.builder import Builder  # pylint: disable=import-outside-toplevel

    _LOIHI_BUILD.append(Builder.register(LegendreMemory)(build_on_loihi))


_LOIHI_BUILD = []


def build_on_loihi(model, memory, *args, **kwargs):
    """nengo_loihi's build of a `nengo_lmu.LegendreMemory`.

    - A spiking memory with ``loihi_input`` None or True whose ensembles go
      on chip is built with its input connections unfiltered on the host,
      and principle 3 mapped for the time constant the chip realises of
      its ``synapse`` and for the lag and the gains with which the chip's
      neurons decode the state (`loihi_realisation`, through
      `LegendreMemory.realised_with`); nengo_loihi's on-chip input filter
      (``model.decode_tau``) is that time constant while the memory is
      built (other objects keep the model's). Its recurrent weights are
      then rounded onto the chip's weight grid so that the loop's error is
      smallest (`round_recurrent_weights`; not for a build that nengo_loihi
      does not discretize, ``target="simreal"``, when the memory is the
      top-level network). The gains and the rounding are the memory's
      ``loihi_calibration`` (True by default); without it only the lag is
      mapped, as before. The network is left as it was.
      ``loihi_input=False`` memories are built as they are.
    - An exact memory (``n_neurons=None``) runs on the host, as nengo_loihi
      runs every node; when nothing in the whole network goes on chip, one
      silent compartment is put there (`_idle_block`), since nengo_loihi
      refuses to build ("No neurons marked for execution on-chip") or run
      a model without any.

    Other arguments go on to nengo_loihi's network build (a memory simulated
    as the top-level network gets ``precompute`` and the like).

    Raises
    ------
    ValueError
        For a memory built for another ``dt`` than the model's
        (`check_memory_dts`).
    """
    from nengo_loihi.builder.network import (  # pylint: disable=import-outside-toplevel
        build_network,
    )

    check_memory_dts(memory, model.dt)
    top = memory if model.toplevel is None else model.toplevel
    if memory.n_per_dimension is None:
        if not any(_on_chip(model, top, ens) for ens in top.all_ensembles):
            _idle_block(model)
        return build_network(model, memory, *args, **kwargs)
    if not _on_chip(model, top, memory.state_ensembles[0]):
        return build_network(model, memory, *args, **kwargs)
    if memory.loihi_input is False:
        built = build_network(model, memory, *args, **kwargs)
        store_copies_sparsely(model, memory)
        return built
    real = loihi_realisation(memory, model.dt)
    toplevel = model.toplevel is None
    discretize = kwargs.pop("discretize", True) if toplevel else True
    if toplevel:  # nengo_loihi discretizes at the end of the top-level build
        kwargs["discretize"] = False
    with _decode_tau(model, real.tau), memory.realised_with(
            real.tau, input_synapse=None, lag=real.lag, gains=real.gains):
        built = build_network(model, memory, *args, **kwargs)
    if discretize and memory.loihi_calibration:
        round_recurrent_weights(model, memory)
    store_copies_sparsely(model, memory)  # after the rounding, which reads dense synapses
    if toplevel and discretize:
        from nengo_loihi.builder.discretize import (  # pylint: disable=import-outside-toplevel
            discretize_model,
        )
        from nengo_loihi.builder.validate import (  # pylint: disable=import-outside-toplevel
            validate_model,
        )

        discretize_model(model)
        validate_model(model)
    return built


def store_copies_sparsely(model, memory):
    """Store the recurrent weights of a memory's copies without the zeros
    between them.

    With ``copies > 1`` each recurrent connection's weights (built by
    nengo_loihi as one dense synapse, pre neurons x post neurons) are zero
    between neurons of different copies (`nengo_lmu.networks.CopySolver`).
    nengo_loihi stores a dense synapse's zeros too, so a core's synapse
    memory would grow as ``(copies * n_neurons)**2`` per ensemble it hears;
    stored as sparse rows (each pre neuron's weights to its own copy's post
    neurons) it grows as ``copies * n_neurons**2``. Only exact zeros are
    left out, so the currents, and the emulator's spikes, are the same
    (``tests/test_networks.py``); `round_recurrent_weights` (run before)
    may fill some of them. Returns the number of synapses changed; a memory
    of one copy is left alone.
    """
    if memory.copies == 1:
        return 0
    n_changed = 0
    for conn in memory.recurrent_connections:
        syn = model.objs[conn].get("weights") if conn in model.objs else None
        if syn is None or syn.learning or not _dense(syn):
            continue
        syn.set_weights(scipy.sparse.csr_matrix(np.array([np.ravel(w) for w in syn.weights])))
        n_changed += 1
    return n_changed


def _dense(syn):
    """Whether a nengo_loihi ``Synapse`` is one dense matrix (each axon's
    weights to every target, in order)."""
    return all(w.shape[0] == 1 and np.array_equal(np.ravel(i), np.arange(w.size))
               for w, i in zip(syn.weights, syn.indices))


#: What principle 3 is mapped for on Loihi (`loihi_realisation`).
LoihiRealisation = collections.namedtuple("LoihiRealisation", "tau lag gains")


def loihi_realisation(memory, dt):
    """`LoihiRealisation` ``(tau, lag, gains)``: what principle 3 is mapped
    for when nengo_loihi builds the spiking ``memory`` for the chip
    (`build_on_loihi`; ``memory.realised_with(*loihi_realisation(memory,
    dt)[:1], None, lag=..., gains=...)`` reproduces it).

    ``tau`` is the time constant the chip's quantized decay realises of the
    memory's ``synapse`` (`nengo_lmu.networks.loihi_tau`). ``lag`` (s) and
    ``gains`` (one per state variable) describe how the chip's neurons
    decode the state: Loihi runs the memory's ``neuron_type`` as
    nengo_loihi's model of it (`nengo_lmu.neurons.chip_neuron_type`), whose
    voltage stays at zero while its input is negative, so that its
    population output lags the state it represents by a few steps and falls
    short of it, where principle 3 assumes neither
    (`LegendreMemory.neuron_response` with that model and nengo_loihi's
    rates, `nengo_lmu.neurons.chip_rates`); the mapping then undoes both
    (`LegendreMemory.mapping_matrices`). ``lag`` 0 and ``gains`` None when
    the memory's neurons already are Loihi's model (then nengo and the chip
    run the same neurons with the same mapping), or for an exact memory;
    ``gains`` None for a memory built with ``loihi_calibration=False``.
    Measuring them takes about 3 s per 600 neurons and theta of 1,000
    steps.
    """
    tau = loihi_tau(memory.synapse, dt)
    chip = chip_neuron_type(memory.neuron_type)
    if memory.n_per_dimension is None or chip is memory.neuron_type:
        return LoihiRealisation(tau, 0.0, None)
    response = memory.neuron_response(chip, rates=chip_rates)
    gains = response["gains"] if memory.loihi_calibration else None
    return LoihiRealisation(tau, max(0.0, response["lag"]), gains)


def round_recurrent_weights(model, memory):
    """Round the recurrent weights of ``memory``'s on-chip blocks (built in
    nengo_loihi's ``model``, not yet discretized) onto the grid nengo_loihi's
    discretization will put them on, so that the loop's error is smallest.

    nengo_loihi stores each weight as an 8-bit integer with one exponent per
    synapse, scaled to its block's largest weight and threshold; with the
    memory's 100 ms synapse and the neurons' biases the grid is coarse (the
    delay network's smaller recurrent synapses keep 7-9 distinct values and
    lose 20-25 % of their weights' norm), and rounding each weight to its
    nearest value adds a fixed error to the current every post neuron gets
    from each pre population. Here each synapse is rounded pre neuron by pre
    neuron, and the rounding error of one is spread over the weights still to
    round in proportion to how the pre neurons' rates covary (GPTQ, Frantar
    et al. 2023): the error minimised is that of the current, ``|(W_q - W)
    a(x)|**2`` over the pre population's evaluation points, plus the solver's
    noise term (``A^T A + m (reg max a)**2 I``, as `nengo.solvers.LstsqL2`
    regularizes). The rounded weights lie on the grid and the block's largest
    weight is kept, so nengo_loihi's own rounding leaves them as they are
    (tested); blocks that receive synapses after the memory is built, or
    that nengo_loihi splits over cores, are rounded again by nengo_loihi, as
    before. Connections that are not one dense synapse between ensembles
    are left alone. Returns the number of synapses rounded.
    """
    from nengo_loihi.builder.discretize import (  # pylint: disable=import-outside-toplevel
        discretize_block,
    )

    by_block = collections.defaultdict(list)
    for conn in memory.recurrent_connections:
        syn = model.objs[conn].get("weights") if conn in model.objs else None
        block = model.objs[conn.post_obj].get("in") if conn.post_obj in model.objs else None
        if isinstance(block, list):  # after nengo_loihi split the blocks over cores
            block = block[0] if len(block) == 1 else None
        if syn is None or block is None or syn.learning or not any(
                syn is other for other in block.synapses):
            continue
        if not _dense(syn):
            continue
        by_block[block].append((conn, syn))
    n_rounded, covariances = 0, {}
    for block, synapses in by_block.items():
        probe = copy.copy(block)  # what discretizing reads, copied (not the axons)
        probe.compartment = copy.deepcopy(block.compartment)
        probe.synapses = [copy.deepcopy(syn) for syn in block.synapses]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            discretize_block(probe)
        info = probe.compartment.discretize_info
        w_scale = np.ravel(info["w_scale"])
        if not np.all(w_scale == w_scale[0]):
            continue
        w_max = float(info["w_max"])
        for conn, syn in synapses:
            index = next(i for i, other in enumerate(block.synapses) if other is syn)
            cfg = probe.synapses[index].synapse_cfg
            w_max_i = syn.max_abs_weight()
            dw_exp = int(np.floor(np.log2(w_max / w_max_i)))
            shift = cfg.shift_bits
            lost = 2 ** max(0, -(shift + cfg.weight_exp))  # the chip's lossy shift
            step = 2.0**shift * lost / (w_scale[0] * 2.0**dw_exp)
            qmax = min((2 ** (8 - shift) - 1) // lost, int(np.floor(w_max_i / step)))
            W = np.array([w[0] for w in syn.weights], dtype=np.float64).T  # post x pre
            Q = gptq_round(W, _rate_covariance(model, conn, covariances), step, qmax)
            if w_max_i == w_max:  # keep the block's scale: its largest weight as it was
                k = np.unravel_index(np.argmax(np.abs(W)), W.shape)
                Q[k] = W[k]
            for i, w in enumerate(syn.weights):
                w[0] = Q[:, i]
            n_rounded += 1
    return n_rounded


def _rate_covariance(model, conn, cache):
    """``A^T A + m sigma**2 I`` of the pre population of ``conn``: its rates
    on the chip (`chip_rates`) at the population's evaluation points, with
    the noise term of the connection's solver (`nengo.solvers.LstsqL2`'s
    ``sigma = reg * max(A)``; reg 0.1 for other solvers). Kept in ``cache``
    per population and regularization."""
    pre, reg = conn.pre_obj, getattr(conn.solver, "reg", 0.1)
    if (pre, reg) not in cache:
        built = model.params[pre]
        x = np.asarray(built.eval_points) @ built.encoders.T / pre.radius
        rates = chip_rates(pre.neuron_type, x, built.gain, built.bias, model.dt)
        sigma = reg * rates.max()
        cache[pre, reg] = rates.T @ rates + len(rates) * sigma**2 * np.eye(rates.shape[1])
    return cache[pre, reg]


def gptq_round(W, H, step, qmax):
    """Round ``W`` (post x pre) onto multiples of ``step`` (at most ``qmax``
    steps either side), column by column, spreading each column's rounding
    error over the columns still to round along ``H^-1`` (GPTQ), so that
    ``(Q - W) H (Q - W)^T`` stays small where rounding to nearest would not."""
    W = np.array(W, dtype=np.float64)
    U = np.linalg.cholesky(np.linalg.inv(H)).T  # H^-1 = U^T U, U upper
    Q = np.zeros_like(W)
    for i in range(W.shape[1]):
        Q[:, i] = np.clip(np.round(W[:, i] / step), -qmax, qmax) * step
        error = (W[:, i] - Q[:, i]) / U[i, i]
        W[:, i + 1:] -= np.outer(error, U[i, i + 1:])
    return Q


def _on_chip(model, top, ens):
    """Whether nengo_loihi puts ``ens`` (in the top-level network ``top``) on
    chip: its split of the model, or, before it made one (the memory is the
    top-level network), the same rules applied to ``top``."""
    if model.split is not None:
        return model.split.on_chip(ens)
    from nengo_loihi.splitter import HostChipSplit  # pylint: disable=import-outside-toplevel

    return HostChipSplit(top).on_chip(ens)


@contextlib.contextmanager
def _decode_tau(model, tau):
    """nengo_loihi's on-chip filter of input spikes set to ``tau`` for a while."""
    saved, model.decode_tau = model.decode_tau, tau
    try:
        yield
    finally:
        model.decode_tau = saved


def _idle_block(model):
    """Add one compartment that never spikes to a nengo_loihi model (once)."""
    from nengo_loihi.block import LoihiBlock  # pylint: disable=import-outside-toplevel

    if model.blocks:
        return
    block = LoihiBlock(1, label="nengo_lmu: idle (nothing else on chip)")
    block.compartment.configure_relu(dt=model.dt)
    model.add_block(block)


def loihi_model(network, dt=0.001):
    """A `nengo_loihi.builder.Model` for ``network``: its on-chip input filter
    (``decode_tau``) set to the memories' synapse (`loihi_decode_tau`), and
    blocks too large for a core split so that every piece fits
    (`FittingBlockShapes`)."""
    from nengo_loihi.builder import Model  # pylint: disable=import-outside-toplevel

    model = Model(dt=dt)
    model.block_shapes = FittingBlockShapes()
    tau = loihi_decode_tau(network)
    if tau is not None:
        model.decode_tau = tau
    return model


class FittingBlockShapes(dict):
    """``model.block_shapes`` of a nengo_loihi model in which a block with no
    `nengo_loihi.BlockShape` configured is split into the fewest equal
    pieces whose synapse memory and input axons each fit one core.

    nengo_loihi (1.1, ``split_blocks.split_block``) divides such a block
    into as many pieces as its totals need, but a piece's synapse memory is
    more than its share of the total (each axon's weights are rounded up to
    whole 64-bit words in every piece), so a block near the limit gives a
    piece that does not fit: the hidden layer heard by four copies of 13
    neurons of an order-64 memory, 1,064,960 bits in a core of 1,048,576.
    Here nengo_loihi's own split is tried first (the same build where it
    fits), then one more piece at a time, each counted as nengo_loihi splits
    the synapses. A shape configured on the ensemble is used as it is.
    """

    def get(self, block, default=None):
        shape = super().get(block, default)
        if shape is None:
            shape = fitting_block_shape(block)
            if shape is not None:
                self[block] = shape
        return shape


def fitting_block_shape(block):
    """The `nengo_loihi.BlockShape` that splits ``block`` into the fewest
    equal pieces each of which fits one core (compartments, input axons,
    synapse memory, as nengo_loihi splits them; `FittingBlockShapes`); None
    when it fits as it is, or when no split fits (nengo_loihi's own split
    then fails its validation, naming the limit)."""
    from nengo_loihi.block import (  # pylint: disable=import-outside-toplevel
        MAX_IN_AXONS,
        MAX_SYNAPSE_BITS,
    )
    from nengo_loihi.builder.split_blocks import (  # pylint: disable=import-outside-toplevel
        split_block,
        split_synapse,
    )
    from nengo_loihi.config import BlockShape  # pylint: disable=import-outside-toplevel

    own = {}  # nengo_loihi's split, by totals
    pieces = split_block(block, own)
    if len(pieces) == 1:
        return None
    n, n_split, shape = block.compartment.n_compartments, len(pieces), own[block]
    # each piece's weights shrink with its size; its input axons do not
    for n_pieces in range(n_split, min(n, 4 * n_split) + 1):
        if n_pieces > n_split:
            shape = BlockShape((-(-n // n_pieces),), (n,))
            pieces = split_block(block, {block: shape})
        per_synapse = [list(split_synapse(block, syn, pieces)) for syn in block.synapses]
        if any(len(split) != len(pieces) for split in per_synapse):
            return None  # a synapse reaches only some pieces: nengo_loihi's split
        per_piece = list(zip(*per_synapse))
        if any(sum(new.n_axons for new in piece) > MAX_IN_AXONS for piece in per_piece):
            return None
        if all(sum(new.bits() for new in piece) <= MAX_SYNAPSE_BITS for piece in per_piece):
            return shape
    return None


def make_simulator(network, backend="nengo", dt=0.001, seed=None, **kwargs):
    """Build a simulator of ``network`` for ``backend``.

    Parameters
    ----------
    network : `nengo.Network`
    backend : {"nengo", "dl", "loihi"}
        `nengo.Simulator`, `nengo_dl.Simulator`, or `nengo_loihi.Simulator`
        (the chip when one is attached, its emulator otherwise).
    dt : float
        Simulator time step (s), a finite number > 0. Every
        `nengo_lmu.LegendreMemory` in ``network`` must have been built for
        it (its ``dt``; exact memories with ``dt=1`` count in steps and run
        at any step): `check_memory_dts`.
    seed : int or None
        Simulator seed, in ``0 .. 2**32 - 1``.
    **kwargs
        Passed on to the simulator (``progress_bar``, ``minibatch_size``,
        ``precompute``, ...).

    Raises
    ------
    ValueError
        For an unknown backend, a bad ``dt`` or ``seed``, or a memory built
        for another ``dt``; before anything is built.
    """
    check_backend(backend)
    if not isinstance(network, nengo.Network):
        raise ValueError(f"network must be a nengo.Network, got {network!r}")
    dt = check_positive("dt", dt)
    seed = check_seed("seed", seed, allow_none=True)
    check_memory_dts(network, dt)
    with route_memory_inputs(network, backend):
        return _simulator(network, backend, dt, seed, **kwargs)


def _simulator(network, backend, dt, seed, **kwargs):
    if backend == "nengo":
        return nengo.Simulator(network, dt=dt, seed=seed, **kwargs)
    if backend == "dl":
        import nengo_dl  # pylint: disable=import-outside-toplevel

        return nengo_dl.Simulator(network, dt=dt, seed=seed, **kwargs)

    import nengo_loihi  # pylint: disable=import-outside-toplevel

    register_loihi_build()
    kwargs.pop("progress_bar", None)  # nengo_loihi warns that it has none
    model = loihi_model(network, dt)
    kwargs.setdefault("precompute", True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # nengo_loihi's emulator fills integer arrays with NaN placeholders
        warnings.filterwarnings(
            "ignore", "invalid value encountered in cast", RuntimeWarning
        )
        with _host_seeds(network, seed):
            sim = nengo_loihi.Simulator(network, dt=dt, seed=seed, model=model, **kwargs)
    _summarise_weight_rounding(caught)
    return sim


@contextlib.contextmanager
def _host_seeds(network, seed):
    """Seed the nengo simulators that nengo_loihi builds for the host.

    nengo_loihi seeds its emulator (``seed``, else the network's seed + 1)
    but builds its host simulators without a seed, so they draw one from
    numpy's global generator and processes without a seed of their own (a
    ``WhiteSignal`` input, noise) give new values at every build. That
    generator is seeded from ``seed`` (else the network's seed + 1) while
    nengo_loihi builds, and restored after, so that the same network and
    seed give the same run, as on the other backends.
    """
    if seed is None and network.seed is not None:
        seed = (int(network.seed) + 1) % 2**32
    if seed is None:
        yield
        return
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _summarise_weight_rounding(caught):
    """Re-issue the warnings of a nengo_loihi build, with its many "Lost N
    extra bits in weight rounding" (one per synapse) summed up in one line
    (`nengo_lmu.loihi.quantization_report` says where)."""
    lost = []
    for w in caught:
        match = _LOST_BITS.match(str(w.message))
        if match:
            lost.append(int(match.group(1)))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if lost:
        warnings.warn(
            f"nengo_loihi: {len(lost)} synapse(s) lost {min(lost)}-{max(lost)} extra bits "
            "in weight rounding (`nengo-lmu loihi-report` or "
            "nengo_lmu.loihi.quantization_report shows which)", UserWarning, stacklevel=4)


_LOST_BITS = re.compile(r"Lost (\d+) extra bits in weight rounding")


class LineProgressBar(ProgressBar):
    """nengo's progress as plain lines, for output that is not a terminal
    (a log file): one line at each tenth of the work and one when it is
    done, instead of thousands of redraws. `use_line_progress` makes it
    nengo's default."""

    def __init__(self):
        super().__init__()
        self._shown = -1

    def update(self, progress):
        if progress.finished:
            print(f"{progress.name_after} finished in "
                  f"{timestamp2timedelta(progress.elapsed_seconds())}.", flush=True)
            self._shown = -1
            return
        if progress.max_steps is None:
            return
        tenth = int(10 * progress.progress)
        if tenth > self._shown:
            self._shown = tenth
            print(f"{progress.name_during}... {10 * tenth}% "
                  f"(ETA {timestamp2timedelta(progress.eta())})", flush=True)


def use_line_progress():
    """Make nengo's default progress bar `LineProgressBar` (for every
    ``progress_bar=True`` of nengo, nengo-lmu and NengoDL's build)."""
    nengo.rc["progress"]["progress_bar"] = f"{__name__}.LineProgressBar"


def run_with_progress(sim, sim_time, progress_bar=True, chunk=1.0):
    """Run ``sim`` for ``sim_time`` seconds with a progress bar for any backend.

    `nengo.Simulator` and `nengo_dl.Simulator` show their own; nengo_loihi's
    simulator is run in chunks of ``chunk`` seconds under nengo's
    `ProgressTracker`.
    """
    if type(sim).__module__.startswith("nengo_loihi"):
        n_steps = int(round(sim_time / sim.dt))
        step_chunk = max(1, int(round(chunk / sim.dt)))
        with ProgressTracker(
            progress_bar, Progress("Simulating (Loihi)", "Simulation", n_steps)
        ) as tracker:
            done = 0
            while done < n_steps:
                k = min(step_chunk, n_steps - done)
                sim.run_steps(k)
                done += k
                tracker.total_progress.step(k)
    elif type(sim).__module__.startswith("nengo_dl"):
        sim.run(sim_time)
    else:
        sim.run(sim_time, progress_bar=progress_bar)


CONFIG_HOOKS.append(register_loihi_build)
