"""A trained LMU classifier as a NIR graph, and NIR graphs as Nengo networks.

The Neuromorphic Intermediate Representation (NIR, ``pip install
nengo-lmu[nir]``) is the exchange format of today's spiking frameworks and
neuromorphic chips (snnTorch, Norse, Rockpool, Spyx, Lava for Loihi 2,
SpiNNaker2, Xylo). `to_nir` writes a `~nengo_lmu.spiking.SpikingLMUClassifier`
as a `nir.NIRGraph`; `from_nir` builds the `nengo.Network` a NIR graph
describes, so that ``from_nir(to_nir(clf))`` runs in `nengo.Simulator` as
the classifier does.

**Time.** NIR nodes are continuous-time systems; an importer discretizes
them with its own step. The graphs written here count time in simulator
steps (``time_unit_s`` in the metadata: the seconds of one unit, the
classifier's ``dt``), so an importer runs them with ``dt = 1``.

**Step semantics** (the metadata's ``semantics``; `SEMANTICS`). What a
graph means once discretized, as Norse and nirtorch's ``GraphExecutor``
(the NIR reference for PyTorch frameworks) step it, and as `from_nir`
builds it in nengo:

- each step every node updates once, in `execution_order`: a depth-first
  walk from the Input node along the edges in their listed order; an edge
  into a node earlier in that order (a loop's closing edge) carries that
  node's value of the previous step, every other edge the value of the
  same step;
- ``I`` and ``LI`` nodes (with their input and recurrent edges, one linear
  system) update with the input of the same step, ``v[k] = Ad v[k-1] + Bd
  x[k]``: zero-order hold over the step (``discretization="zoh"``:
  ``exp(-dt / tau)`` for an LI) or forward Euler (``"euler"``: ``1 - dt /
  tau``, Norse's ``LIBoxCell``); ``CubaLIF``'s synaptic current likewise,
  then its membrane by forward Euler;
- ``IF``: ``v += r x dt``, a spike (value 1) when ``v > v_threshold``, then
  ``v = v_reset`` (and ``v >= v_min`` when its metadata says so).

nengo's own `~nengo.Lowpass` on a connection answers one step later
(``y[k] = a y[k-1] + (1 - a) x[k-1]``): the classifier's synapses carry that
delay, so `to_nir` writes each of them with an explicit input stage
(`delayed_lowpass`), and the graph under these semantics is the classifier
(same spikes: `from_nir` in nengo, Norse to float32 rounding).

**The memory.**

- ``memory="exact"``: the Legendre delay system ``theta dm/dt = A m + B u``
  as one integrator node ``memory`` with an input ``Linear`` edge
  (``memory_input``, ``B e_x``) and a recurrent ``Linear`` edge
  (``memory_recurrent``). With ``discretization="zoh"`` (the default) these
  are the continuous system: a `nir.I` node (``dv/dt = input``) and
  ``A / theta``, ``B / theta`` (``theta`` in steps); an importer must
  discretize the whole system by zero-order hold to get the LMU's memory
  (`from_nir` does): order 256 at ``theta = 784`` steps is unstable under
  forward Euler with one step (spectral radius 3.2). With
  ``discretization="euler"`` the same memory is written for importers that
  step each node by forward Euler (Norse, snnTorch, Lava): a `nir.LI` node
  with ``tau = 1`` step and the ZOH matrices ``Ad``, ``Bd`` on its edges,
  which forward Euler with ``dt = 1`` turns into ``m[k] = Ad m[k-1] + Bd u[k]``,
  the memory the classifier was trained on.
- ``memory="spiking"`` (written as ``"euler"`` only): the classifier's
  spiking memory (NEF principle 3, the discrete mapping), factored through
  its state: ``memory_neurons`` (`nir.IF`, Loihi's neuron: reset to 0,
  voltage floored at 0, recorded as ``v_min`` in the node's metadata) ``->
  memory_recurrent`` (``A_rec D``) ``-> memory_synapse`` (`nir.LI`, the
  lowpass synapse with its delay stage: state ``(u, y)``, recurrent edge
  ``memory_synapse_recurrent``, with ``memory_input`` from the input) ``->
  memory_encoders`` (`nir.Affine`: gains, encoders, biases) ``->
  memory_neurons``; and ``memory_decoders`` (``D``) ``-> hidden_synapse``
  (`nir.LI`, state ``(D z, y)``, recurrent edge ``hidden_synapse_recurrent``)
  to the hidden layer. Nengo's recurrent weights are exactly ``encoders
  A_rec D`` (its least-squares solver is linear in the targets); the
  factored form keeps the graph at ``2 N order`` weights instead of
  ``N**2`` (59 M for the psMNIST model). With ``synapses="cubalif"`` the
  graph has no `nir.LI` node (the hardware importers read none): each
  neuron is a `nir.CubaLIF` whose synaptic current is the lowpass, with
  full neuron-to-neuron weights; without a node that can hold a value for a
  step, it cannot carry nengo's synaptic delay (see `to_nir`).

Then both: ``hidden_weights`` (`nir.Affine`, the trained ``W_m``, bias and
the rate scale ``alpha``) ``-> hidden`` (`nir.IF`) ``-> readout``
(`nir.Affine`, ``W_out`` and the neurons' amplitude) ``-> output``.

**Reading it out** (the metadata's ``readout``): present each sequence
(pixels times ``input_scale``, one per step) from rest, then ``hold_steps``
zeros; the logits are the mean of ``output`` over the last ``window`` steps.

**Which importer reads which nodes** (see ``docs/stack.md``): the graphs use
only ``Input``, ``Output``, ``Linear``, ``Affine``, ``I``, ``LI``, ``IF``
and ``CubaLIF``; `from_nir` reads those and ``LIF``. Norse 1.1 reads
``Affine``, ``Linear``, ``IF``, ``LIF``, ``CubaLIF`` (no ``LI``, no ``I``,
no voltage floor); ``examples/nir/`` adds ``LI`` with Norse's own leaky
integrator and the floor. Lava-DL and SpiNNaker2 read ``Affine``,
``Linear``, ``IF``, ``LIF`` and ``CubaLIF``: the ``synapses="cubalif"``
graphs.
"""

import json

import numpy as np

from nengo_lmu.nir_import import (
    DISCRETIZATIONS,
    SEMANTICS,
    SUPPORTED_NODES,
    IntegrateAndFire,
    NIRImportError,
    NIRNetwork,
    execution_order,
    from_nir,
    nir_package,
    read,
    run_nengo,
)
from nengo_lmu.readout import READOUTS
from nengo_lmu.systems import memory_system
from nengo_lmu.validation import check_choice, check_positive
from nengo_lmu.version import version

__all__ = [
    "CUBALIF_TAU_MEM", "DISCRETIZATIONS", "EXPORTABLE_READOUTS", "FORMAT", "MAX_FULL_WEIGHTS",
    "SEMANTICS", "SUPPORTED_NODES", "SYNAPSES", "IntegrateAndFire", "NIRImportError",
    "NIRNetwork", "check_exportable_readout", "delayed_lowpass", "execution_order",
    "from_nir", "read", "run_nengo", "spiking_memory_parts", "to_nir", "write",
]

#: Where a spiking graph's lowpass synapses go: ``LI`` nodes on the decoded
#: state (compact; the software importers), or each neuron's synaptic current
#: in ``CubaLIF`` nodes with full neuron-to-neuron weights (no ``LI``, the
#: nodes Lava-DL's and SpiNNaker2's importers read).
SYNAPSES = ("li", "cubalif")

#: Membrane time constant (steps) of the ``CubaLIF`` nodes that stand for
#: Loihi's non-leaky neuron: a leak of 1e-6 of the voltage per step
#: (NIR's CubaLIF always leaks; Lava-DL's importer rounds this leak to 0).
CUBALIF_TAU_MEM = 1e6

#: The largest neuron-to-neuron recurrent weight matrix ``synapses="cubalif"``
#: writes (entries): order 16 with 30 neurons per dimension has 230,400.
MAX_FULL_WEIGHTS = 16_000_000

#: Graph metadata keys `to_nir` writes (besides the model's sizes).
FORMAT = "nengo-lmu"

#: The training readouts (`nengo_lmu.readout.READOUTS`) whose models read a
#: NIR graph's memory as it runs (see `check_exportable_readout`).
EXPORTABLE_READOUTS = ("hold", "spiking")

# -- export ---------------------------------------------------------------------


def to_nir(classifier, discretization=None, synapses="li", input_scale=1 / 255,
           trained_readout=None):
    """A `~nengo_lmu.spiking.SpikingLMUClassifier` as a `nir.NIRGraph`.

    The graph follows the step semantics of the module docstring (what
    Norse and nirtorch run), under which it reproduces the classifier as
    nengo runs it (the ``synapses="cubalif"`` graph up to the limits stated
    below).

    Parameters
    ----------
    classifier : `nengo_lmu.spiking.SpikingLMUClassifier`
        A calibrated classifier; its ``memory_mode`` (``"exact"`` or
        ``"spiking"``) picks the memory written. The spiking memory is
        built once with nengo to read its decoders (a seeded classifier
        gives the same graph every time).
    discretization : {"zoh", "euler"}, optional
        ``"zoh"``: the exact memory as the continuous-time system, for
        importers that discretize linear nodes exactly (`from_nir`);
        ``"euler"``: matrices and time constants chosen so that forward
        Euler with ``dt = 1`` (one step) gives the same discrete system
        (Norse, snnTorch, Lava). The spiking memory is written only as
        ``"euler"``: its synapses carry nengo's one-step synaptic delay,
        which no continuous-time node expresses. Default: ``"zoh"`` for the
        exact memory, ``"euler"`` for the spiking memory.
    synapses : {"li", "cubalif"}
        Spiking memory only. ``"li"``: the lowpass synapses as ``LI`` nodes
        on the decoded state, weights factored through it (compact), each
        with nengo's one-step delay as an explicit stage (exact).
        ``"cubalif"``: no ``LI`` node, for the importers of neuromorphic
        hardware (Lava-DL, SpiNNaker2): every neuron a ``CubaLIF`` whose
        synaptic current is the lowpass (``w_in = 1``, ``v_leak = 0``, a
        membrane leak of 1 / `CUBALIF_TAU_MEM` per step, ``r = tau_mem``),
        full neuron-to-neuron weights (at most `MAX_FULL_WEIGHTS`), the
        neurons' biases as ``Affine`` biases. Not exact: without an ``LI``
        (or ``Delay``) node the graph cannot carry nengo's synaptic delay,
        so the memory sees each input and the hidden layer each memory spike
        one step earlier than in nengo, and the biases pass the synapse
        (they rise from 0 with its time constant at the start of each
        sequence, where nengo's start at full strength).
    input_scale : float
        What the user multiplies raw input by before presenting it (8-bit
        pixels: ``1 / 255``), recorded in the metadata.
    trained_readout : {"hold", "spiking", "exact"}, optional
        The readout the model was trained for (``readout.scheme`` of its
        ``config.json``), recorded in the metadata. ``"exact"`` is refused:
        such a model reads the final memory ``m_T`` held still, while a NIR
        graph, a linear time-invariant memory, keeps running during the
        hold steps (an order-256 exact-readout model reads its graph at
        chance). None: not known, not checked.

    Returns
    -------
    nir.NIRGraph
        With ``metadata``: ``format``, ``nengo_lmu_version``, ``memory``,
        ``discretization``, ``semantics``, ``time_unit_s``, ``dt``,
        ``input_scale``, ``sequence_steps``, ``hold_steps``, ``window``,
        ``readout``, ``trained_readout``, ``order``, ``units``,
        ``n_classes``, ``theta``, ``max_rate``, ``rate_scale``, ``seed`` and
        ``model_config`` (JSON).

    Raises
    ------
    ValueError
        Before anything is built: not a classifier, an unknown choice, a
        model trained for the exact readout, ``discretization="zoh"`` with
        the spiking memory, ``synapses="cubalif"`` with the exact memory.
    """
    from nengo_lmu.spiking import SpikingLMUClassifier  # pylint: disable=import-outside-toplevel

    if not isinstance(classifier, SpikingLMUClassifier):
        raise ValueError("classifier must be a nengo_lmu.SpikingLMUClassifier, got "
                         f"{type(classifier).__name__}")
    check_exportable_readout(trained_readout)
    if discretization is None:
        discretization = "zoh" if classifier.memory_mode == "exact" else "euler"
    discretization = check_choice("discretization", discretization, DISCRETIZATIONS)
    synapses = check_choice("synapses", synapses, SYNAPSES)
    if synapses == "cubalif" and classifier.memory_mode != "spiking":
        raise ValueError('synapses="cubalif" needs a spiking memory (memory="spiking"): the '
                         "exact memory is a linear system, which only I or LI nodes express")
    if classifier.memory_mode == "spiking" and discretization != "euler":
        raise ValueError(
            f'discretization={discretization!r} with memory="spiking": the spiking memory is '
            'written only as discretization="euler" (its synapses carry nengo\'s one-step '
            "synaptic delay, which a continuous-time node cannot express)")
    input_scale = check_positive("input_scale", input_scale)
    nir = nir_package()
    clf, p = classifier, classifier.params
    step = float(clf.dt)  # seconds per graph time unit
    e_x = float(p["e_x"][0, 0])
    nodes = {"input": nir.Input(input_type=np.array([1]))}
    edges = []
    alpha = float(clf.alpha)
    if clf.memory_mode == "exact":
        memory_out = _exact_memory(nir, clf, e_x, discretization, nodes, edges)
        hidden_w = p["W_m"]
    elif synapses == "li":
        memory_out, reads = _spiking_memory(nir, clf, step, nodes, edges)
        hidden_w = (p["W_m"] * e_x) @ reads  # from the hidden synapse's state
    else:
        memory_out, decoders = _cubalif_memory(nir, clf, step, nodes, edges)
        hidden_w = (p["W_m"] * e_x) @ decoders  # from the memory's spikes
    # J = alpha (W x + b) in nengo's units (1/s); per step: times dt
    nodes["hidden_weights"] = nir.Affine(weight=alpha * step * hidden_w,
                                         bias=alpha * step * p["bias"])
    nodes["hidden"] = (_if_node(nir, clf.units) if synapses == "li" else
                       _cubalif_node(nir, clf.units, clf.hidden_synapse / step))
    # the readout reads rates: spikes times amplitude / dt
    amplitude = float(clf.neuron_type.amplitude)
    nodes["readout"] = nir.Affine(weight=p["W_out"] * (amplitude / step), bias=p["b_out"])
    nodes["output"] = nir.Output(output_type=np.array([clf.n_classes]))
    edges += [(memory_out, "hidden_weights"), ("hidden_weights", "hidden"),
              ("hidden", "readout"), ("readout", "output")]
    nodes = {k: _float64(v) for k, v in nodes.items()}
    metadata = {
        "format": FORMAT, "nengo_lmu_version": version, "memory": clf.memory_mode,
        "discretization": discretization, "synapses": synapses, "semantics": SEMANTICS,
        "time_unit_s": step, "dt": 1.0,
        "input_scale": float(input_scale), "sequence_steps": int(clf.n_steps),
        "hold_steps": int(clf.hold_steps), "window": int(clf.window),
        "readout": ("present each sequence (times input_scale, one element per dt) from "
                    "rest, then hold_steps zeros; logits = mean of output over the last "
                    "window steps"),
        "trained_readout": "unknown" if trained_readout is None else str(trained_readout),
        "order": int(clf.order), "units": int(clf.units), "n_classes": int(clf.n_classes),
        "theta": float(clf.theta), "max_rate": float(clf.max_rate), "rate_scale": alpha,
        "seed": -1 if clf.seed is None else int(clf.seed),
        "model_config": json.dumps(clf.model_config, sort_keys=True, default=str),
    }
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def check_exportable_readout(trained_readout):
    """`ValueError` unless a model trained for ``trained_readout`` (a
    `nengo_lmu.readout.READOUTS` scheme, or None: unknown) reads a NIR graph
    correctly: ``"hold"`` and ``"spiking"`` do, ``"exact"`` does not."""
    if trained_readout is None:
        return None
    trained_readout = check_choice("trained_readout", trained_readout, READOUTS)
    if trained_readout not in EXPORTABLE_READOUTS:
        raise ValueError(
            f"trained_readout={trained_readout!r}: a model trained for the {trained_readout} "
            "readout reads the final memory m_T held still, but a NIR graph's memory is a "
            "linear time-invariant system that keeps running during the hold steps, so the "
            "exported model would read a moving memory (near chance). Export a model trained "
            f"with readout {' or '.join(repr(r) for r in EXPORTABLE_READOUTS)} (nengo-lmu "
            "psmnist train --readout hold), which reads the memory as it runs")
    return trained_readout


def _float64(node):
    for key, value in vars(node).items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            setattr(node, key, value.astype(np.float64))
    return node


def _if_node(nir, n):
    """Loihi's spiking rectified-linear neuron: threshold 1, reset to 0, and a
    voltage that stops at 0 (``v_min``, which NIR 1.0's IF cannot say)."""
    return nir.IF(r=np.ones(n), v_threshold=np.ones(n), v_reset=np.zeros(n),
                  metadata={"v_min": 0.0})


def _exact_memory(nir, clf, e_x, discretization, nodes, edges):
    # the graph counts time in steps
    steps = memory_system(clf.memory_kind, clf.n_steps, clf.order)
    order = clf.order
    if discretization == "zoh":
        A, B = steps.A, steps.B
        nodes["memory"] = nir.I(r=np.ones(order))
    else:
        A, B = steps.discretize(1.0)
        nodes["memory"] = nir.LI(tau=np.ones(order), r=np.ones(order), v_leak=np.zeros(order))
    nodes["memory_input"] = nir.Linear(weight=np.asarray(B) * e_x)
    nodes["memory_recurrent"] = nir.Linear(weight=np.asarray(A))
    edges += [("input", "memory_input"), ("memory_input", "memory"),
              ("memory", "memory_recurrent"), ("memory_recurrent", "memory")]
    return "memory"


def _euler_tau(tau_steps):
    """The time constant (steps) whose forward-Euler pole with one step,
    ``1 - 1 / tau``, is the exact pole ``exp(-1 / tau_steps)``."""
    return 1.0 / -np.expm1(-1.0 / float(tau_steps))


def delayed_lowpass(tau_steps, n, n_in=None):
    """nengo's lowpass synapse ``tau`` (steps) on ``n`` values, one-step delay
    included, as a discrete system ``v[k] = M v[k-1] + N x[k]``.

    nengo's `~nengo.Lowpass` on a connection answers at step ``k`` with
    ``y[k] = a y[k-1] + (1 - a) x[k-1]`` (``a = exp(-1 / tau)``): the
    input of a step reaches the receiver a step later. Under the step
    semantics of this module an LI node answers in the same step, so the
    synapse is written with an explicit input stage: the state is ``v = (s,
    y)`` with ``s[k] = x[k]`` (``n_in`` values; default ``n``) and ``y[k] =
    a y[k-1] + (1 - a) S s[k-1]``, where ``S`` is the identity (``n_in ==
    n``). An ``LI`` node with ``tau = 1`` step, ``r = 1`` and a recurrent
    ``Linear`` edge ``M`` runs exactly this under forward Euler with ``dt = 1``.

    Returns ``(M, N, a)``: ``M`` (n_in + n, n_in + n), ``N`` (n_in + n,
    n_in) the input stage's weights, ``a`` the pole. Values that enter ``y``
    directly (already a step late, e.g. along a loop) get weight ``1 - a``
    on the ``y`` rows.
    """
    n_in = n if n_in is None else n_in
    a = float(np.exp(-1.0 / float(tau_steps)))
    M = np.zeros((n_in + n, n_in + n))
    M[n_in:, n_in:] = a * np.eye(n)
    if n_in == n:
        M[n_in:, :n_in] = (1 - a) * np.eye(n)
    N = np.zeros((n_in + n, n_in))
    N[:n_in] = np.eye(n_in)
    return M, N, a


def _discrete_li(nir, n):
    """An LI node that forward Euler with ``dt = 1`` turns into ``v[k] = (its
    inputs)[k]`` plus its recurrent edge: ``tau = 1``, ``r = 1``."""
    return nir.LI(tau=np.ones(n), r=np.ones(n), v_leak=np.zeros(n))


def _cubalif_node(nir, n, tau_syn_steps):
    """Loihi's IF neuron behind a unit-gain lowpass synapse ``tau_syn``
    (steps, written with the forward-Euler time constant of its pole), as
    NIR's CubaLIF: ``tau_mem`` = `CUBALIF_TAU_MEM`, ``r = tau_mem`` (so
    ``dv/dt = I`` up to the leak), reset to 0, ``v_min`` 0."""
    tau = _euler_tau(tau_syn_steps)
    return nir.CubaLIF(tau_syn=np.full(n, tau), tau_mem=np.full(n, CUBALIF_TAU_MEM),
                       r=np.full(n, CUBALIF_TAU_MEM), v_leak=np.zeros(n),
                       v_threshold=np.ones(n), v_reset=np.zeros(n), w_in=np.ones(n),
                       metadata={"v_min": 0.0})


def _cubalif_memory(nir, clf, step, nodes, edges):
    parts = spiking_memory_parts(clf.memory)
    D, E, n = parts["D"], parts["E"], parts["E"].shape[0]
    if n * n > MAX_FULL_WEIGHTS:
        raise ValueError(
            f'synapses="cubalif" writes the spiking memory\'s {n} x {n} = {n * n:,} '
            f"neuron-to-neuron weights, more than MAX_FULL_WEIGHTS = {MAX_FULL_WEIGHTS:,}: use "
            'synapses="li" (the weights factored through the state) or a lower order')
    decoders = D * (float(clf.memory.neuron_type.amplitude) / step)
    B_in = np.asarray(parts["B_in"], dtype=float)
    nodes["memory_input"] = nir.Affine(weight=E @ B_in * step, bias=parts["bias"] * step)
    nodes["memory_recurrent"] = nir.Linear(weight=(E * step) @ (parts["A_rec"] @ decoders))
    nodes["memory_neurons"] = _cubalif_node(nir, n, parts["tau"] / step)
    edges += [("input", "memory_input"), ("memory_input", "memory_neurons"),
              ("memory_neurons", "memory_recurrent"), ("memory_recurrent", "memory_neurons")]
    return "memory_neurons", decoders


def spiking_memory_parts(memory):
    """The factors of a spiking `~nengo_lmu.networks.LegendreMemory`, from nengo's build.

    Returns a dict: ``D`` (size, N) decoders of ``output``, ``E`` (N, size)
    the neurons' encoders times gain over radius, ``bias`` (N,), ``A_rec``,
    ``B_in`` (the principle-3 matrices), ``tau`` (the recurrent and input
    synapse, s) and ``W`` (N, N) nengo's recurrent weights (for checking
    ``W == E A_rec D``; only for small memories, else None).
    """
    from nengo_lmu.backends import make_simulator  # pylint: disable=import-outside-toplevel

    ens = memory.state_ensembles
    if not ens:
        raise ValueError("memory has no neurons (n_neurons=None): nothing to factor")
    if memory.copies > 1:
        raise ValueError(f"memory has copies = {memory.copies}: only a memory of one copy "
                         "is factored through its state")
    offsets = np.concatenate([[0], np.cumsum([e.n_neurons for e in ens])])
    rows = {e: slice(offsets[i], offsets[i + 1]) for i, e in enumerate(ens)}
    # the state variables each population represents: those it decodes into output
    dims = {conn.pre_obj: np.arange(memory.memory_d * memory.order)[conn.post_slice]
            for conn in memory.all_connections
            if conn.pre_obj in rows and conn.post_obj is memory.output}
    n, size = int(offsets[-1]), memory.memory_d * memory.order
    D, E, bias = np.zeros((size, n)), np.zeros((n, size)), np.zeros(n)
    W = np.zeros((n, n)) if n <= 4000 else None
    with make_simulator(memory, "nengo", dt=memory.dt, progress_bar=False) as sim:
        data = sim.data
        for e in ens:
            E[rows[e], dims[e]] = data[e].scaled_encoders
            bias[rows[e]] = data[e].bias
        for conn in memory.all_connections:
            if conn.pre_obj in rows and conn.post_obj is memory.output:
                D[dims[conn.pre_obj], rows[conn.pre_obj]] += data[conn].weights
            elif W is not None and conn.pre_obj in rows and conn.post_obj in rows:
                W[rows[conn.post_obj], rows[conn.pre_obj]] += data[conn].weights
    return {"D": D, "E": E, "bias": bias, "A_rec": memory.A_rec, "B_in": memory.B_in,
            "tau": memory.realised_tau, "W": W}


def _spiking_memory(nir, clf, step, nodes, edges):
    """The spiking memory factored through its state, nengo's synaptic delays
    as explicit stages (`delayed_lowpass`); returns the hidden synapse's
    name and the matrix that reads its lowpassed state from its output."""
    mem = clf.memory
    parts = spiking_memory_parts(mem)
    D, E = parts["D"], parts["E"]
    order = clf.order
    amplitude = float(mem.neuron_type.amplitude)
    decoders = D * (amplitude / step)  # decoded value per spike (per step)
    B_in = np.asarray(parts["B_in"], dtype=float)  # (order, 1)
    # memory synapse: state (u, y), y[k] = a y[k-1] + (1 - a) (B_in u[k-1] + A_rec D z[k-1]);
    # the spikes z come round the loop, a step late already: straight into y
    M, N, a = delayed_lowpass(parts["tau"] / step, order, n_in=1)
    M[1:, :1] = (1 - a) * B_in
    nodes["memory_input"] = nir.Linear(weight=N)
    nodes["memory_synapse"] = _discrete_li(nir, order + 1)
    nodes["memory_synapse_recurrent"] = nir.Linear(weight=M)
    nodes["memory_recurrent"] = nir.Linear(weight=np.vstack(
        [np.zeros((1, decoders.shape[1])), (1 - a) * (parts["A_rec"] @ decoders)]))
    nodes["memory_encoders"] = nir.Affine(weight=np.hstack([np.zeros((E.shape[0], 1)), E * step]),
                                          bias=parts["bias"] * step)
    nodes["memory_neurons"] = _if_node(nir, E.shape[0])
    # hidden synapse: state (s, y), s[k] = D z[k], y[k] = a y[k-1] + (1 - a) s[k-1]
    M, N, _ = delayed_lowpass(clf.hidden_synapse / step, order)
    nodes["memory_decoders"] = nir.Linear(weight=N @ decoders)
    nodes["hidden_synapse"] = _discrete_li(nir, 2 * order)
    nodes["hidden_synapse_recurrent"] = nir.Linear(weight=M)
    # each loop's edges before the edges onward, so that the walk of the step
    # semantics ends at the Output node (nirtorch returns the last node's value)
    edges += [("input", "memory_input"), ("memory_input", "memory_synapse"),
              ("memory_synapse", "memory_synapse_recurrent"),
              ("memory_synapse_recurrent", "memory_synapse"),
              ("memory_synapse", "memory_encoders"), ("memory_encoders", "memory_neurons"),
              ("memory_neurons", "memory_recurrent"), ("memory_recurrent", "memory_synapse"),
              ("memory_neurons", "memory_decoders"), ("memory_decoders", "hidden_synapse"),
              ("hidden_synapse", "hidden_synapse_recurrent"),
              ("hidden_synapse_recurrent", "hidden_synapse")]
    reads = np.hstack([np.zeros((order, order)), np.eye(order)])
    return "hidden_synapse", reads


def write(graph, path):
    """Write ``graph`` to ``path`` with `nir.write`, atomically."""
    from nengo_lmu.io import atomic_path  # pylint: disable=import-outside-toplevel

    nir = nir_package()
    with atomic_path(path) as tmp:
        nir.write(tmp, graph)
    return path
