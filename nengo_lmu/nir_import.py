"""NIR graphs as Nengo networks: `from_nir`, under the step semantics of
`nengo_lmu.nir_graph` (Norse's and nirtorch's).

`from_nir` builds the `nengo.Network` (`NIRNetwork`) a `nir.NIRGraph`
describes; `run_nengo` runs the readout of a `nengo_lmu.to_nir` graph in
`nengo.Simulator`. Each ``I``/``LI`` node with its edges becomes one linear
system on `nengo.Node` objects (``v[k] = Ad v[k-1] + Bd x[k]``), ``IF``/``LIF``/
``CubaLIF`` nodes ensembles of `IntegrateAndFire` neurons, ``Linear`` and
``Affine`` nodes connection weights (chains multiplied out), and the edges
that close a loop in `execution_order` a one-step delay. Bad graphs raise
`NIRImportError` naming the node or edge. The public names are also in
`nengo_lmu.nir_graph`.
"""

import nengo
import numpy as np

from nengo_lmu.networks import ONE_STEP_DELAY
from nengo_lmu.systems import discretize
from nengo_lmu.validation import check_choice, check_positive

#: How an importer steps a graph's linear nodes: zero-order hold or forward Euler.
DISCRETIZATIONS = ("zoh", "euler")

#: The NIR node types `from_nir` builds.
SUPPORTED_NODES = ("Input", "Output", "Linear", "Affine", "I", "LI", "IF", "LIF", "CubaLIF")

#: How a graph is stepped (the metadata's ``semantics``; the module docstring).
SEMANTICS = ("each step, every node updates once, in the order of a depth-first walk "
             "from the Input node along the edges in their listed order; an edge into a "
             "node earlier in that order carries the previous step's value; I and LI "
             "nodes update with the input of the same step (v[k] from v[k-1] and x[k], "
             "zero-order hold or forward Euler over dt); IF: v += r x, a spike when "
             "v > v_threshold, then v = v_reset (Norse's and nirtorch's stepping)")


def nir_package():
    """The ``nir`` package, imported when first used (``pip install nengo-lmu[nir]``)."""
    try:
        import nir  # pylint: disable=import-outside-toplevel
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError("NIR graphs need the nir package: pip install nengo-lmu[nir]") from err
    return nir


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
    nir = nir_package()
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
    nir = nir_package()
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
