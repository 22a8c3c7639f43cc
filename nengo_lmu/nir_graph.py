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
- ``memory="spiking"``: the classifier's spiking memory (NEF principle 3,
  the discrete mapping), factored through its state: ``memory_neurons``
  (`nir.IF`, Loihi's neuron: reset to 0, voltage floored at 0, recorded as
  ``v_min`` in the node's metadata) ``-> memory_recurrent`` (``A_rec D``)
  ``-> memory_synapse`` (`nir.LI`, the lowpass synapse, with ``memory_input``
  ``B_in`` from the input) ``-> memory_encoders`` (`nir.Affine`: gains,
  encoders, biases) ``-> memory_neurons``; and ``memory_decoders`` (``D``)
  ``-> hidden_synapse`` (`nir.LI`) to the hidden layer. Nengo's recurrent
  weights are exactly ``encoders A_rec D`` (its least-squares solver is
  linear in the targets); the factored form keeps the graph at
  ``2 N order`` weights instead of ``N**2`` (59 M for the psMNIST model).
  With ``discretization="euler"`` each `nir.LI` synapse gets the time
  constant whose forward-Euler pole is the lowpass's exact one. With
  ``synapses="cubalif"`` the graph has no `nir.LI` node (the hardware
  importers read none): each neuron is a `nir.CubaLIF` whose synaptic
  current is the lowpass, with full neuron-to-neuron weights.

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

import nengo
import numpy as np

from nengo_lmu.networks import ONE_STEP_DELAY
from nengo_lmu.readout import READOUTS
from nengo_lmu.systems import discretize, memory_system
from nengo_lmu.validation import check_choice, check_positive
from nengo_lmu.version import version

DISCRETIZATIONS = ("zoh", "euler")

#: Where a spiking graph's lowpass synapses go: ``LI`` nodes on the decoded
#: state (compact; the software importers), or each neuron's synaptic current
#: in ``CubaLIF`` nodes with full neuron-to-neuron weights (no ``LI``, the
#: nodes Lava-DL's and SpiNNaker2's importers read).
SYNAPSES = ("li", "cubalif")

#: The NIR node types `from_nir` builds.
SUPPORTED_NODES = ("Input", "Output", "Linear", "Affine", "I", "LI", "IF", "LIF", "CubaLIF")

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

#: How a graph is stepped (the metadata's ``semantics``; the module docstring).
SEMANTICS = ("each step, every node updates once, in the order of a depth-first walk "
             "from the Input node along the edges in their listed order; an edge into a "
             "node earlier in that order carries the previous step's value; I and LI "
             "nodes update with the input of the same step (v[k] from v[k-1] and x[k], "
             "zero-order hold or forward Euler over dt); IF: v += r x, a spike when "
             "v > v_threshold, then v = v_reset (Norse's and nirtorch's stepping)")


def _nir():
    try:
        import nir  # pylint: disable=import-outside-toplevel
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError("NIR export needs the nir package: pip install nengo-lmu[nir]") from err
    return nir


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
    nir = _nir()
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

    nir = _nir()
    with atomic_path(path) as tmp:
        nir.write(tmp, graph)
    return path


# -- import ---------------------------------------------------------------------


class NIRImportError(ValueError):
    """A NIR graph `from_nir` cannot build; the message names the node or edge."""


class IntegrateAndFire(nengo.neurons.NeuronType):
    """NIR's IF neuron (``dv/dt = J``; a spike when ``v > 1``, then ``v =
    reset``), optionally with Loihi's floor ``v >= v_min`` and a leak
    (``dv/dt = J - leak v``, forward Euler: NIR's LIF and CubaLIF membranes).

    Thresholds, ``r`` and time constants are folded into the ensemble's gain
    and bias by `from_nir`. Spikes are ``amplitude / dt``.
    """

    state = {"voltage": nengo.dists.Choice([0.0])}
    spiking = True
    reset = nengo.params.NumberParam("reset")
    v_min = nengo.params.NumberParam("v_min", optional=True)
    amplitude = nengo.params.NumberParam("amplitude", low=0, low_open=True)
    leak = nengo.params.NumberParam("leak", low=0, optional=True)

    def __init__(self, reset=0.0, v_min=None, amplitude=1.0, leak=None, initial_state=None):
        super().__init__(initial_state=initial_state)
        self.reset = float(reset)
        self.v_min = None if v_min is None else float(v_min)
        self.amplitude = float(amplitude)
        self.leak = None if leak is None else float(leak)

    def gain_bias(self, max_rates, intercepts):  # pragma: no cover - gains are given
        raise NotImplementedError("IntegrateAndFire ensembles take explicit gain and bias")

    def max_rates_intercepts(self, gain, bias):
        """As a rectified-linear neuron (threshold 1 per unit time)."""
        return gain + bias, -bias / gain

    def rates(self, x, gain, bias):
        return np.maximum(gain * x + bias, 0)

    def step(self, dt, J, output, voltage):
        if self.leak is not None:
            voltage -= (dt * self.leak) * voltage
        voltage += J * dt
        spiked = voltage > 1
        output[:] = spiked * (self.amplitude / dt)
        if self.v_min is not None:
            np.maximum(voltage, self.v_min, out=voltage)
        voltage[spiked] = self.reset


def read(path):
    """`nir.read`, with a `NIRImportError` naming the file for a file it cannot read
    (missing, truncated, not HDF5, or not a NIR graph)."""
    nir = _nir()
    try:
        return nir.read(str(path))
    except Exception as err:  # h5py raises OSError, KeyError, ValueError, ...
        raise NIRImportError(f"{path}: not a readable NIR graph ({type(err).__name__}: "
                             f"{err}); is the file complete?") from err


def _size(node, which):
    types = node.input_type if which == "input" else node.output_type
    if not types:
        return None
    shape = np.asarray(list(types.values())[0]).ravel()
    return int(np.prod(shape)) if shape.size else None


def _vector(name, node, key):
    value = np.asarray(getattr(node, key), dtype=float).ravel()
    if not np.all(np.isfinite(value)):
        raise NIRImportError(f"node {name!r} ({type(node).__name__}): {key} has NaN or inf")
    return value


def execution_order(graph):
    """The order in which the step semantics updates a graph's nodes: a
    depth-first walk from the (first) Input node along the edges in their
    listed order, as nirtorch's `GraphExecutor` walks it (nodes it does not
    reach last, in the graph's order). An edge into a node earlier in this
    order (or into itself) carries the previous step's value."""
    children = {name: [] for name in graph.nodes}
    for src, dst in graph.edges:
        if dst not in children[src]:
            children[src].append(dst)
    order, seen = [], set()
    starts = [n for n, node in graph.nodes.items() if type(node).__name__ == "Input"][:1]
    for start in starts:
        stack = [start]  # iterative: graphs can be deep
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            order.append(name)
            stack.extend(reversed([c for c in children[name] if c not in seen]))
    return order + [n for n in graph.nodes if n not in seen]


def _check_graph(graph):
    """Supported nodes, edges between existing nodes, sizes that agree."""
    nir = _nir()
    if not isinstance(graph, nir.NIRGraph):
        raise NIRImportError(f"expected a nir.NIRGraph or a path, got {type(graph).__name__}")
    for name, node in graph.nodes.items():
        kind = type(node).__name__
        if kind not in SUPPORTED_NODES:
            raise NIRImportError(
                f"node {name!r} has type {kind}, which from_nir does not support "
                f"(supported: {', '.join(SUPPORTED_NODES)})")
        if kind in ("Linear", "Affine"):
            w = np.asarray(node.weight)
            if w.ndim != 2:
                raise NIRImportError(f"node {name!r} ({kind}): weight must be 2-D "
                                     f"(out, in), got shape {w.shape}")
            if kind == "Affine" and np.asarray(node.bias).shape != (w.shape[0],):
                raise NIRImportError(f"node {name!r} (Affine): bias shape "
                                     f"{np.asarray(node.bias).shape} does not match weight "
                                     f"{w.shape}")
            if not np.all(np.isfinite(w)):
                raise NIRImportError(f"node {name!r} ({kind}): weight has NaN or inf")
    for edge in graph.edges:
        src, dst = edge
        for end in (src, dst):
            if end not in graph.nodes:
                raise NIRImportError(f"edge {src!r} -> {dst!r}: no node {end!r} in the graph")
        out, into = _out_size(graph.nodes[src]), _in_size(graph.nodes[dst])
        if out is not None and into is not None and out != into:
            raise NIRImportError(
                f"edge {src!r} -> {dst!r}: {src!r} gives {out} values but {dst!r} takes {into}")
    for kind in ("Input", "Output"):
        if not any(type(n).__name__ == kind for n in graph.nodes.values()):
            raise NIRImportError(f"the graph has no {kind} node")


def _node_size(node, which):
    """How many values a node takes (``which="input"``) or gives ("output")."""
    kind = type(node).__name__
    if kind in ("Linear", "Affine"):
        return int(np.asarray(node.weight).shape[0 if which == "output" else 1])
    if kind in ("I", "LI", "IF", "LIF", "CubaLIF"):
        return int(np.asarray(node.r).size)
    return _size(node, which)


def _out_size(node):
    return _node_size(node, "output")


def _in_size(node):
    return _node_size(node, "input")


class NIRNetwork(nengo.Network):
    """The `nengo.Network` of a NIR graph (see `from_nir`).

    Attributes
    ----------
    input : nengo.Node
        The graph's Input node (a passthrough: connect a `nengo.Node` to it).
    output : nengo.Node
        The graph's Output node.
    nir_objects : dict
        The nengo object of each NIR node that has one (``Input``,
        ``Output``, ``I``, ``LI``: nodes; ``IF``: the ensemble's neurons);
        ``Linear`` and ``Affine`` nodes become connection weights.
    metadata : dict
        The graph's metadata.
    dt : float
        The simulator step (s) the network is built for.
    """


def from_nir(graph, dt=None, discretization=None, label=None, seed=None):
    """The `nengo.Network` a NIR graph describes.

    Parameters
    ----------
    graph : nir.NIRGraph or path
        A graph (e.g. `to_nir`'s) or a ``.nir`` file.
    dt : float, optional
        The simulator step (s). Default: the graph's ``time_unit_s * dt``
        (metadata of `to_nir`; one step), else 0.001 with the graph's times
        in seconds.
    discretization : {"zoh", "euler"}, optional
        How the graph's linear nodes were meant to be discretized; default
        the metadata's, else ``"zoh"``. ``"zoh"``: each ``I``/``LI`` node
        with its input edges (and recurrent edge) is one linear system,
        discretized exactly over ``dt`` (a lone ``LI`` node is nengo's
        `~nengo.Lowpass`); ``"euler"``: forward Euler over ``dt``.

    Returns
    -------
    NIRNetwork

    Raises
    ------
    NIRImportError (a ValueError)
        Naming the node or edge: a node type not in `SUPPORTED_NODES`, sizes
        that disagree along an edge, a loop of weights with no dynamics, an
        ``LI`` with ``v_leak != 0``, an unreadable or truncated file.
    """
    if not hasattr(graph, "nodes"):
        graph = read(graph)
    _check_graph(graph)
    meta = dict(getattr(graph, "metadata", None) or {})
    meta = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in meta.items()}
    unit = float(meta.get("time_unit_s", 1.0))
    if dt is None:
        dt = unit * float(meta.get("dt", 1.0)) if "time_unit_s" in meta else 0.001
    dt = check_positive("dt", dt)
    if discretization is None:
        discretization = str(meta.get("discretization", "zoh"))
    discretization = check_choice("discretization", discretization, DISCRETIZATIONS)
    return _Builder(graph, dt, unit, discretization, meta).build(label, seed)


class _Builder:
    def __init__(self, graph, dt, unit, discretization, meta):
        self.graph, self.dt, self.unit = graph, dt, unit
        self.h = dt / unit  # the step in graph time units
        self.discretization, self.meta = discretization, meta
        self.kind = {k: type(v).__name__ for k, v in graph.nodes.items()}
        self.sources = {k: [] for k in graph.nodes}
        for src, dst in graph.edges:
            self.sources[dst].append(src)
        self.position = {name: i for i, name in enumerate(execution_order(graph))}
        self.objects = {}

    def weighted_sources(self, name, path=()):
        """``([(source node, W, delay)], b)``: the non-weight nodes feeding
        ``name`` through chains of Linear/Affine nodes with their weights
        multiplied out, each with the steps its value arrives late (the
        chain's edges that run against the execution order, `execution_order`),
        and the sum of the chains' biases."""
        terms, bias = [], 0.0
        for src in self.sources[name]:
            kind = self.kind[src]
            late = int(self.position[src] >= self.position[name])
            if kind not in ("Linear", "Affine"):
                terms.append((src, np.eye(_out_size(self.graph.nodes[src])), late))
                continue
            if src in path:
                raise NIRImportError(
                    f"edge {src!r} -> {name!r}: a loop of Linear/Affine nodes with no I, LI "
                    "or IF node in it (an algebraic loop)")
            if not self.sources[src]:
                raise NIRImportError(f"node {src!r} ({kind}) has no input edge")
            node = self.graph.nodes[src]
            W = np.asarray(node.weight, dtype=float)
            sub_terms, sub_bias = self.weighted_sources(src, path + (src,))
            terms += [(pre, W @ W0, d + late) for pre, W0, d in sub_terms]
            bias = bias + W @ np.broadcast_to(sub_bias, (W.shape[1],))
            if kind == "Affine":
                bias = bias + np.asarray(node.bias, dtype=float)
        for pre, _, delay in terms:
            if delay > 1:
                raise NIRImportError(
                    f"node {pre!r} -> {name!r}: a path through {delay} loops in one step "
                    "(at most one step of delay is supported)")
        return terms, bias

    def _connect(self, pre, post, W, delay):
        """``pre -> post`` with weights ``W``, in the same step or (``delay``) the
        previous step's value, as an edge against the execution order carries it."""
        if self.kind[pre] == "Output":
            raise NIRImportError(f"edge from Output node {pre!r}: Output has no outputs")
        nengo.Connection(self._obj(pre), post, transform=W,
                         synapse=ONE_STEP_DELAY if delay else None)

    def build(self, label, seed):
        net = NIRNetwork(label=label, seed=seed)
        net.metadata, net.dt = self.meta, self.dt
        graph = self.graph
        with net:
            for name, node in graph.nodes.items():
                kind = self.kind[name]
                if kind == "Input":
                    self.objects[name] = nengo.Node(size_in=_out_size(node), label=name)
                    net.input = self.objects[name]
                elif kind == "Output":
                    self.objects[name] = nengo.Node(size_in=_in_size(node), label=name)
                    net.output = self.objects[name]
                elif kind in ("I", "LI"):
                    self.objects[name] = nengo.Node(size_in=_out_size(node), label=name)
                elif kind in ("IF", "LIF", "CubaLIF"):
                    self.objects[name] = self._ensemble(name, node)
            self._check_bias_targets()
            for name in graph.nodes:
                kind = self.kind[name]
                if kind in ("I", "LI"):
                    self._linear_system(name)
                elif kind in ("IF", "LIF", "Output"):
                    self._direct(name)
                elif kind == "CubaLIF":
                    self._cubalif_input(name)
        net.nir_objects = dict(self.objects)
        return net

    def _check_bias_targets(self):
        for name in self.graph.nodes:
            if self.kind[name] == "Affine" and not any(
                    dst for src, dst in self.graph.edges if src == name):
                raise NIRImportError(f"node {name!r} (Affine) has no output edge")

    def _ensemble(self, name, node):
        kind = self.kind[name]
        r = _vector(name, node, "r")
        thr = _vector(name, node, "v_threshold")
        reset = _vector(name, node, "v_reset") if node.v_reset is not None else np.zeros_like(thr)
        if np.any(thr <= 0):
            raise NIRImportError(f"node {name!r} (IF): v_threshold must be > 0")
        meta = getattr(node, "metadata", None) or {}
        v_min = meta.get("v_min")
        scaled_reset = reset / thr
        if not np.allclose(scaled_reset, scaled_reset[0]):
            raise NIRImportError(f"node {name!r} (IF): v_reset / v_threshold must be the same "
                                 "for every neuron")
        scaled_min = None
        if v_min is not None:
            scaled_min = float(np.asarray(v_min).ravel()[0]) / float(thr[0])
            if not np.allclose(thr, thr[0]):
                raise NIRImportError(f"node {name!r} (IF): v_min needs one v_threshold")
        self._if_gain = getattr(self, "_if_gain", {})
        self._if_bias = getattr(self, "_if_bias", {})
        leak, bias = None, np.zeros(len(r))
        if kind == "IF":
            # dv/dt = r J in graph time: nengo's J (per second) is r J / unit; v / thr
            self._if_gain[name] = r / (self.unit * thr)
        else:  # tau dv/dt = v_leak - v + r J (LIF), J the synaptic current (CubaLIF)
            tau = _vector(name, node, "tau" if kind == "LIF" else "tau_mem")
            if np.any(tau <= 0) or not np.allclose(tau, tau[0]):
                raise NIRImportError(f"node {name!r} ({kind}): the membrane time constant "
                                     "must be > 0 and the same for every neuron")
            self._if_gain[name] = r / (tau * self.unit * thr)
            bias = _vector(name, node, "v_leak") / (tau * self.unit * thr)
            leak = 1.0 / (float(tau[0]) * self.unit)
        self._if_bias[name] = bias
        neuron = IntegrateAndFire(reset=float(scaled_reset[0]), v_min=scaled_min,
                                  amplitude=self.unit, leak=leak)
        ens = nengo.Ensemble(len(r), 1, neuron_type=neuron, gain=self._if_gain[name],
                             bias=bias, label=name)
        return ens.neurons

    def _obj(self, name):
        return self.objects[name]

    def _bias_node(self, name, value):
        return nengo.Node(np.asarray(value, dtype=float), label=f"{name} bias")

    def _direct(self, name):
        """IF and Output nodes: their inputs' weights on connections, no synapse."""
        post = self._obj(name)
        terms, bias = self.weighted_sources(name)
        for pre, W, delay in terms:
            self._connect(pre, post, W, delay)
        bias = np.broadcast_to(bias, (post.size_in,))
        if np.any(bias != 0):
            if self.kind[name] in ("IF", "LIF"):
                post.ensemble.bias = self._if_bias[name] + bias * self._if_gain[name]
            else:
                nengo.Connection(self._bias_node(name, bias), post, synapse=None)

    def _pole(self, name, tau):
        """The pole of ``tau dv/dt = -v`` over one step: ``exp(-h / tau)``
        (zoh) or ``1 - h / tau`` (euler)."""
        if np.any(tau <= 0):
            raise NIRImportError(f"node {name!r} ({self.kind[name]}): time constants must "
                                 "be > 0")
        if self.discretization == "zoh":
            return np.exp(-self.h / tau)
        return 1 - self.h / tau

    def _cubalif_input(self, name):
        """CubaLIF: its inputs (and biases) times w_in into its synaptic current,
        a box LI (`_linear_system`), which drives the membrane in the same step."""
        node, post = self.graph.nodes[name], self._obj(name)
        a = self._pole(name, _vector(name, node, "tau_syn")) * np.ones(post.size_in)
        w_in = _vector(name, node, "w_in") * np.ones(post.size_in)
        terms, bias = self.weighted_sources(name)
        if not terms:
            raise NIRImportError(f"node {name!r} (CubaLIF) has no input edge")
        if any(pre == name and not delay for pre, _, delay in terms):  # pragma: no cover
            raise NIRImportError(f"node {name!r} (CubaLIF): a loop with no delay")
        current = nengo.Node(size_in=post.size_in, label=f"{name} synapse")
        nengo.Connection(current, current, transform=np.diag(a), synapse=ONE_STEP_DELAY)
        gain = (1 - a) * w_in
        for pre, W, delay in terms:
            self._connect(pre, current, gain[:, None] * W, delay)
        bias = np.broadcast_to(bias, (post.size_in,))
        if np.any(bias != 0):
            nengo.Connection(self._bias_node(name, gain * bias), current, synapse=None)
        nengo.Connection(current, post, synapse=None)

    def _linear_system(self, name):
        """An I or LI node with its input (and recurrent) edges: one linear
        system, stepped with the inputs of the same step (edges against the
        execution order: of the step before)."""
        node, kind = self.graph.nodes[name], self.kind[name]
        r = _vector(name, node, "r")
        n = r.size
        if kind == "LI":
            tau = _vector(name, node, "tau")
            if not np.allclose(_vector(name, node, "v_leak"), 0):
                raise NIRImportError(f"node {name!r} (LI): v_leak != 0 is not supported")
            if np.any(tau <= 0):
                raise NIRImportError(f"node {name!r} (LI): tau must be > 0")
        terms, c = self.weighted_sources(name)
        if not terms:
            raise NIRImportError(f"node {name!r} ({kind}) has no input edge")
        own = [W for pre, W, _ in terms if pre == name]
        other = [(pre, W, delay) for pre, W, delay in terms if pre != name]
        c = np.broadcast_to(c, (n,))
        # dv/dt = Ac v + sum_k Bk x_k + c (graph time)
        scale = r / tau if kind == "LI" else r
        Ac = sum(own, np.zeros((n, n))) * scale[:, None]
        if kind == "LI":
            Ac = Ac - np.diag(1.0 / tau)
        post = self._obj(name)
        # the whole system over one step h: v[k] = Ad v[k-1] + Bd x[k]
        sizes = [W.shape[1] for _, W, _ in other]
        Bc = np.hstack([W * scale[:, None] for _, W, _ in other] + [(c * scale)[:, None]])
        if self.discretization == "zoh":
            Ad, Bd = discretize(Ac, Bc, self.h)
        else:
            Ad, Bd = np.eye(n) + self.h * Ac, self.h * Bc
        nengo.Connection(post, post, transform=Ad, synapse=ONE_STEP_DELAY)
        start = 0
        for (pre, _, delay), size in zip(other, sizes):
            self._connect(pre, post, Bd[:, start:start + size], delay)
            start += size
        if np.any(c != 0):
            nengo.Connection(self._bias_node(name, 1.0), post, transform=Bd[:, -1:],
                             synapse=None)


def run_nengo(net, x, progress_bar=False):
    """Run a `from_nir` network of a `to_nir` classifier on sequences ``x``
    (n, T, 1) as its metadata's readout says (each from rest, then
    ``hold_steps`` zeros, mean ``output`` over the last ``window`` steps),
    in `nengo.Simulator` (reset between sequences).

    Returns the logits (n, n_classes).
    """
    meta = net.metadata
    hold, window = int(meta["hold_steps"]), int(meta["window"])
    x = np.asarray(x, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (n, T, d), got {x.shape}")
    steps = x.shape[1] + hold
    stream = np.zeros((steps, x.shape[2]))
    dt = net.dt
    with nengo.Network() as outer:
        outer.networks.append(net)
        source = nengo.Node(lambda t: stream[min(int(round(t / dt)) - 1, steps - 1)],
                            size_out=x.shape[2], label="sequence")
        nengo.Connection(source, net.input, synapse=None)
        probe = nengo.Probe(net.output, synapse=None)
    logits = []
    with nengo.Simulator(outer, dt=dt, progress_bar=progress_bar) as sim:
        for i, seq in enumerate(x):
            if i:
                sim.reset()
            stream[:] = 0
            stream[:len(seq)] = seq
            sim.run_steps(steps)
            logits.append(sim.data[probe][-window:].mean(axis=0))
    return np.asarray(logits)
