"""The LMU cell as a Nengo network that NengoDL trains.

One simulator step is one sequence element (``theta`` is in steps). The cell
of Voelker et al. (2019), section 3::

    u_t = e_x x_t + e_h h_{t-1} + e_m m_{t-1}
    m_t = Abar m_{t-1} + Bbar u_t
    h_t = f(W_x x_t + W_h h_{t-1} + W_m m_t + b)

Every weight is a `nengo.Connection` transform (or the hidden ensemble's
bias), so `nengo_dl.Simulator.fit` trains them all; ``Abar`` and ``Bbar``
sit inside the `LegendreMemory` and stay fixed. The hidden layer is a
`nengo.Ensemble` of ``units`` neurons of any type, driven through its
``.neurons`` with unit gain, so a rate type trained in NengoDL and its
spiking counterpart share the same weights.

The weights of a model config (``config.json``'s ``model``, for
`build_classifier`) are checked here too: `param_shapes`, `used_params`,
`check_params`.
"""

import nengo
import numpy as np

from nengo_lmu.networks import ONE_STEP_DELAY, memory_network, network_seed
from nengo_lmu.neurons import make_neuron_type
from nengo_lmu.schema import shown
from nengo_lmu.systems import DISCRETIZERS, memory_system
from nengo_lmu.validation import check_choice, check_integer, check_seed

#: How `build_classifier` builds a classifier (``method``).
BUILD_METHODS = ("sequential", "parallel")

#: The trainable parameters of an `LMU`, with their shapes.
PARAM_SHAPES = {
    "e_x": ("memory_d", "input_d"),
    "e_h": ("memory_d", "units"),
    "e_m": ("memory_d", "memory_d * order"),
    "W_x": ("units", "input_d"),
    "W_h": ("units", "units"),
    "W_m": ("units", "memory_d * order"),
    "bias": ("units",),
}


class LMU(nengo.Network):
    """A Legendre Memory Unit cell as a Nengo network.

    Parameters
    ----------
    units : int
        Number of hidden units (neurons of the hidden ensemble).
    order : int
        Legendre order of the memory (per memory dimension).
    theta : float
        Length of the memory window, in steps.
    input_d : int
        Dimensionality of the input ``x_t``.
    memory_d : int
        Number of memory dimensions (scalar signals ``u_t`` remembered).
    hidden_neuron_type : `nengo.neurons.NeuronType`
        Neuron type of the hidden layer; a rate type (`nengo.RectifiedLinear`,
        `nengo.LIFRate`, `nengo.Tanh`, nengo_loihi's ``LoihiLIFRate``) to
        train, its spiking counterpart to deploy.
    hidden_to_memory : bool
        Feed ``h_{t-1}`` into the memory input (``e_h``).
    memory_to_memory : bool
        Feed ``m_{t-1}`` into the memory input (``e_m``).
    input_to_hidden : bool
        Feed ``x_t`` into the hidden layer (``W_x``).
    hidden_recurrent : bool
        Feed ``h_{t-1}`` into the hidden layer (``W_h``).
    discretizer : {"zoh", "euler"}
        Discretization of the memory; an unstable one (``"euler"`` at a
        large ``order / theta``, e.g. order 256 with ``theta=784``) is
        refused (`nengo_lmu.systems.LegendreDelay.check_stability`).
    memory_kind : {"legendre", "oscillators"}
        The memory system (`nengo_lmu.systems.MEMORY_KINDS`): the Legendre
        delay system of the LMU (`LegendreDelay`), or a bank of ``order / 2``
        damped oscillators (`nengo_lmu.systems.OscillatorBank`, ``order``
        even), a block-diagonal memory whose spiking realisation fits one
        Loihi chip at psMNIST size. Both are linear filters of ``x``, so the
        parallel path trains either.
    params : dict, optional
        Initial values of the weights, keyed as in `PARAM_SHAPES`
        (`LMU.check_params`: the right shapes, finite numbers). By default
        (the paper's initialisation) ``e_x = 1``, ``e_h = e_m = 0``, ``W_x =
        W_h = 0``, ``bias = 0`` and ``W_m`` Glorot normal.
    closed_form : bool
        Build the *parallel* form for training: the memory is not simulated
        but fed, as its final state ``m_T`` computed in closed form by
        `LMU.closed_form_memory`, into the node ``memory_input``, and the
        network runs one step per sequence. Only for LMUs whose memory is a
        linear time-invariant filter of ``x`` and whose hidden layer has no
        recurrence (no ``hidden_to_memory``, ``memory_to_memory`` or
        ``hidden_recurrent``); ``input`` then takes the last element
        ``x_T``. Its weights (`get_params`) carry over unchanged to the
        temporal network (``closed_form=False``).
    seed : int, optional
        Seed of the default initialisation and of the network, in
        ``0 .. 2**32 - 1``. None inside a seeded network derives one from
        that network's seed (`nengo_lmu.networks.network_seed`); None
        without one draws the initial weights anew.

    Raises
    ------
    ValueError
        For bad sizes, flags, neuron type, seed, an unstable discretization,
        or params of the wrong shape or with NaN or inf; before the network
        joins its parent or builds anything.

    Attributes
    ----------
    input : `nengo.Node`
        Size ``input_d``.
    output : `nengo.Node`
        The hidden state ``h_t``, size ``units``.
    memory : `LegendreMemory` or `OscillatorMemory`
        The exact memory, size ``memory_d * order``.
    hidden : `nengo.Ensemble`
        The hidden layer.
    weight_connections : dict
        The `nengo.Connection` of each weight in ``params``, by name (the
        bias lives on ``hidden``).
    """

    def __init__(
        self,
        units,
        order,
        theta,
        input_d,
        memory_d=1,
        hidden_neuron_type=nengo.RectifiedLinear(),
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=False,
        hidden_recurrent=False,
        discretizer="zoh",
        memory_kind="legendre",
        params=None,
        closed_form=False,
        label=None,
        seed=None,
        add_to_container=None,
    ):
        # validate everything before the network joins its parent or builds anything
        seed = network_seed(seed, add_to_container)
        self.units = check_integer("units", units)
        self.input_d = check_integer("input_d", input_d)
        self.memory_d = check_integer("memory_d", memory_d)
        if not isinstance(hidden_neuron_type, nengo.neurons.NeuronType):
            raise ValueError(
                "hidden_neuron_type must be a nengo NeuronType instance, "
                f"got {hidden_neuron_type!r}"
            )
        self.hidden_neuron_type = hidden_neuron_type
        self.hidden_to_memory = bool(hidden_to_memory)
        self.memory_to_memory = bool(memory_to_memory)
        self.input_to_hidden = bool(input_to_hidden)
        self.hidden_recurrent = bool(hidden_recurrent)
        self.closed_form = bool(closed_form)
        if self.closed_form and not self.is_parallelizable:
            raise ValueError(
                "closed_form=True needs a memory that is a linear filter of the input "
                "and a hidden layer without recurrence: hidden_to_memory, "
                "memory_to_memory and hidden_recurrent must be False"
            )
        self.system = memory_system(memory_kind, theta, order)
        self.memory_kind = self.system.kind
        self.order, self.theta = self.system.order, self.system.theta
        self.discretizer = check_choice("discretizer", discretizer, DISCRETIZERS)
        # one simulator step is one element: the memory's dt is 1 (theta in steps)
        self.system.check_stability(1.0, self.discretizer, name="discretizer")
        self.params = (
            self.initial_params(seed) if params is None else self.check_params(params)
        )

        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        p = self.params
        with self:
            self.input = nengo.Node(size_in=self.input_d, label="x")
            self.hidden = nengo.Ensemble(
                self.units,
                1,
                neuron_type=hidden_neuron_type,
                gain=nengo.dists.Choice([1.0]),
                bias=p["bias"],
                label="h",
            )
            h = self.hidden.neurons
            self.output = nengo.Node(size_in=self.units, label="h_out")
            self.weight_connections = {}
            conn = self.weight_connections
            if self.closed_form:
                self.memory = None
                self.memory_input = nengo.Node(
                    np.zeros(self.memory_d * self.order), label="m_T"
                )
                memory_output = self.memory_input
            else:
                self.memory = memory_network(self.memory_kind)(
                    theta, order, memory_d=self.memory_d, dt=1.0, discretizer=discretizer
                )
                memory_output = self.memory.output
                conn["e_x"] = nengo.Connection(
                    self.input, self.memory.input, transform=p["e_x"], synapse=None
                )
            conn["W_m"] = nengo.Connection(
                memory_output, h, transform=p["W_m"], synapse=None
            )
            if self.hidden_to_memory:
                conn["e_h"] = nengo.Connection(
                    h, self.memory.input, transform=p["e_h"], synapse=ONE_STEP_DELAY
                )
            if self.memory_to_memory:
                conn["e_m"] = nengo.Connection(
                    self.memory.output,
                    self.memory.input,
                    transform=p["e_m"],
                    synapse=ONE_STEP_DELAY,
                )
            if self.input_to_hidden:
                conn["W_x"] = nengo.Connection(
                    self.input, h, transform=p["W_x"], synapse=None
                )
            if self.hidden_recurrent:
                conn["W_h"] = nengo.Connection(
                    h, h, transform=p["W_h"], synapse=ONE_STEP_DELAY
                )
            nengo.Connection(h, self.output, synapse=None)

    @property
    def fixed_connections(self):
        """The connections whose transforms are not weights of the cell: those
        of the memory (``Abar``, ``Bbar``). Training must keep them fixed
        (`nengo_lmu.training.configure_nengo_dl` marks them not trainable)."""
        return [] if self.memory is None else list(self.memory.all_connections)

    @property
    def is_parallelizable(self):
        """Whether the memory is an LTI filter of ``x`` and ``h`` has no recurrence."""
        return not (self.hidden_to_memory or self.memory_to_memory or self.hidden_recurrent)

    def closed_form_memory(self, x, params=None, dtype=np.float64):
        """The memory's final state ``m_T`` for sequences ``x``, in closed form.

        ``m_T = sum_k H[T-1-k] u_k`` with ``u_k = e_x x_k`` and ``H`` the
        impulse response of the discretized memory system (``memory_kind``): one matrix
        product, no loop over time.

        Parameters
        ----------
        x : ndarray, shape ``(n, T, input_d)``
        params : dict, optional
            Weights (``e_x`` is used); this network's by default.
        dtype : {numpy.float64, numpy.float32}
            Precision of the computation (`MemorySystem.final_state`).

        Returns
        -------
        ndarray, shape ``(n, memory_d * order)``, of ``dtype``
        """
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.input_d:
            raise ValueError(
                f"x must have shape (n, n_steps, input_d={self.input_d}), got {x.shape}"
            )
        e_x = np.asarray((self.params if params is None else params)["e_x"], dtype=dtype)
        u = np.asarray(x, dtype=dtype) @ e_x.T  # (n, T, memory_d)
        n, T, d = u.shape
        # one (n * memory_d, T) @ (T, order) product
        rows = np.swapaxes(u, 1, 2).reshape(n * d, T)
        return self.system.final_state(rows, 1.0, method=self.discretizer,
                                       dtype=dtype).reshape(n, d * self.order)

    @property
    def used_params(self):
        """Names of the weights this configuration uses."""
        names = ["e_x", "W_m", "bias"]
        names += ["e_h"] * self.hidden_to_memory + ["e_m"] * self.memory_to_memory
        names += ["W_x"] * self.input_to_hidden + ["W_h"] * self.hidden_recurrent
        return names

    @property
    def param_shapes(self):
        """The shape of each weight, for this network's sizes."""
        sizes = {
            "units": self.units,
            "input_d": self.input_d,
            "memory_d": self.memory_d,
            "memory_d * order": self.memory_d * self.order,
        }
        return {k: tuple(sizes[d] for d in dims) for k, dims in PARAM_SHAPES.items()}

    @property
    def n_trainable(self):
        """Number of trainable parameters (the weights this configuration uses)."""
        shapes = self.param_shapes
        return int(sum(np.prod(shapes[k]) for k in self.used_params))

    def initial_params(self, seed=None):
        """The paper's initialisation, with ``W_m`` Glorot normal (drawn with
        ``seed``, in ``0 .. 2**32 - 1``, or anew for None)."""
        rng = np.random.RandomState(check_seed("seed", seed, allow_none=True))
        shapes = self.param_shapes
        params = {k: np.zeros(shape) for k, shape in shapes.items()}
        params["e_x"][:] = 1.0
        fan_out, fan_in = shapes["W_m"]
        params["W_m"] = rng.normal(size=shapes["W_m"]) * np.sqrt(2.0 / (fan_in + fan_out))
        return params

    def check_params(self, params):
        """Validate a parameter dict against this network's sizes.

        Missing weights that this configuration does not use default to 0;
        a weight that is missing, not numbers, of the wrong shape, or holds
        NaN or inf raises a `ValueError` naming it.
        """
        if not hasattr(params, "items"):
            raise ValueError(f"params must be a dict of arrays, got {type(params).__name__}")
        shapes = self.param_shapes
        out = {}
        for name, shape in shapes.items():
            if name not in params:
                if name in self.used_params:
                    raise ValueError(f"params is missing {name!r} (shape {shape})")
                out[name] = np.zeros(shape)
                continue
            value = check_weight(name, params[name])
            if value.shape != shape:
                raise ValueError(
                    f"params[{name!r}] has shape {value.shape}, but this LMU "
                    f"(units={self.units}, order={self.order}, input_d={self.input_d}, "
                    f"memory_d={self.memory_d}) needs {shape}"
                )
            out[name] = value
        return out

    def get_params(self, sim=None):
        """The current weights: the trained ones from a NengoDL ``sim``, or
        those the network was built with."""
        params = {k: np.array(v) for k, v in self.params.items()}
        if sim is None:
            return params
        for name, conn in self.weight_connections.items():
            params[name] = np.array(sim.data[conn].weights)
        params["bias"] = np.array(sim.data[self.hidden].bias)
        return params


class LMUClassifier(nengo.Network):
    """An `LMU` followed by a dense readout of its hidden state.

    ``logits_t = W_out h_t + b_out``; a sequence classifier reads the last
    step. The readout weights are trained with the LMU's and stored in the
    same params dict (``W_out``, ``b_out``).

    Parameters
    ----------
    n_classes : int
        Number of outputs.
    params : dict, optional
        Initial weights (LMU's and ``W_out``, ``b_out``); default: the LMU's
        initialisation and a Glorot-normal ``W_out``, zero ``b_out``. Every
        weight must have its shape and hold finite numbers.
    seed : int, optional
        Seed of the network and of the default initialisation (the LMU's
        with ``seed``, ``W_out`` with ``(seed + 1) % 2**32``), in
        ``0 .. 2**32 - 1``. None inside a seeded network derives one from
        that network's seed (`nengo_lmu.networks.network_seed`).
    **lmu_kwargs
        Arguments of `LMU` (``units``, ``order``, ``theta``, ``input_d``,
        ``closed_form``, ...).

    Raises
    ------
    ValueError
        For a bad argument of its own or of the `LMU`, or weights of the wrong
        shape or with NaN or inf; before the network joins its parent.

    Attributes
    ----------
    lmu : `LMU`
    input : `nengo.Node`
        Node feeding the LMU's input, for NengoDL to feed with data (``x_T``
        only, with ``closed_form=True``; then ``lmu.memory_input`` takes
        ``m_T``).
    output : `nengo.Node`
        The logits, size ``n_classes``.
    probe : `nengo.Probe`
        Unfiltered probe of ``output``.
    """

    def __init__(self, n_classes, params=None, label=None, seed=None,
                 add_to_container=None, **lmu_kwargs):
        # validate everything (the LMU too) before the network joins its parent
        seed = network_seed(seed, add_to_container)
        self.n_classes = check_integer("n_classes", n_classes)
        if params is not None and not hasattr(params, "items"):
            raise ValueError(f"params must be a dict of arrays, got {type(params).__name__}")
        params = dict(params) if params is not None else None
        lmu_params = None
        if params is not None:
            lmu_params = {k: v for k, v in params.items() if k not in ("W_out", "b_out")}
        lmu = LMU(params=lmu_params, seed=seed, add_to_container=False, **lmu_kwargs)
        units = lmu.units
        if params is None:
            rng = np.random.RandomState(None if seed is None else (seed + 1) % 2**32)
            W_out = rng.normal(size=(self.n_classes, units)) * np.sqrt(
                2.0 / (units + self.n_classes)
            )
            b_out = np.zeros(self.n_classes)
        else:
            for name, shape in (("W_out", (self.n_classes, units)), ("b_out", (self.n_classes,))):
                if name not in params:
                    raise ValueError(f"params is missing {name!r} (shape {shape})")
                if np.shape(params[name]) != shape:
                    raise ValueError(
                        f"params[{name!r}] has shape {np.shape(params[name])}, but this "
                        f"classifier (units={units}, n_classes={self.n_classes}) needs {shape}"
                    )
            W_out = check_weight("W_out", params["W_out"])
            b_out = check_weight("b_out", params["b_out"])
        self.W_out, self.b_out = W_out, b_out

        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        self.lmu = lmu
        with self:
            nengo.Network.add(lmu)
            # an input node (no size_in) so that NengoDL can feed it
            self.input = nengo.Node(np.zeros(self.lmu.input_d), label="x")
            nengo.Connection(self.input, self.lmu.input, synapse=None)
            self.output = nengo.Node(size_in=self.n_classes, label="logits")
            self.conn_out = nengo.Connection(
                self.lmu.hidden.neurons, self.output, transform=W_out, synapse=None
            )
            self.one = nengo.Node(np.ones(1), label="one")
            self.conn_bias = nengo.Connection(
                self.one, self.output, transform=b_out[:, None], synapse=None
            )
            self.probe = nengo.Probe(self.output, synapse=None)

    @property
    def n_trainable(self):
        """Trainable parameters: the LMU's plus the readout's."""
        return self.lmu.n_trainable + self.n_classes * (self.lmu.units + 1)

    def get_params(self, sim=None):
        """All weights: trained ones from a NengoDL ``sim``, or the initial ones."""
        params = self.lmu.get_params(sim)
        if sim is None:
            params["W_out"], params["b_out"] = np.array(self.W_out), np.array(self.b_out)
        else:
            params["W_out"] = np.array(sim.data[self.conn_out].weights)
            params["b_out"] = np.array(sim.data[self.conn_bias].weights)[:, 0]
        return params


def check_weight(name, value):
    """``value`` as a float64 array if it holds finite numbers, else a
    `ValueError` naming ``params[name]``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"params[{name!r}] must be an array of numbers, got {value!r}") from e
    n_bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if n_bad:
        raise ValueError(
            f"params[{name!r}] contains NaN or inf ({n_bad} of {array.size} values): "
            "weights must be finite numbers")
    return array


# --- the weights of a model config (config.json's ``model``) -------------------


def param_shapes(model):
    """The shape of each weight of a model config
    (`nengo_lmu.model_dir.check_model_config`): the `PARAM_SHAPES` and the
    readout's ``W_out``, ``b_out``."""
    memory_d = model.get("memory_d", 1)
    sizes = {"units": model["units"], "input_d": model["input_d"], "memory_d": memory_d,
             "memory_d * order": memory_d * model["order"]}
    shapes = {k: tuple(sizes[d] for d in dims) for k, dims in PARAM_SHAPES.items()}
    shapes["W_out"] = (model["n_classes"], model["units"])
    shapes["b_out"] = (model["n_classes"],)
    return shapes


def used_params(model):
    """Names of the weights a model config uses (the others may be absent)."""
    names = ["e_x", "W_m", "bias", "W_out", "b_out"]
    for flag, name in (("hidden_to_memory", "e_h"), ("memory_to_memory", "e_m"),
                       ("input_to_hidden", "W_x"), ("hidden_recurrent", "W_h")):
        if model.get(flag):
            names.append(name)
    return names


def check_weight_array(name, value):
    """``value`` as an array of its own dtype if it is real-valued and
    finite, else a `ValueError` naming ``name`` (weights as a file holds
    them; `check_weight` makes float64 the weights an `LMU` is given)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} is not an array ({e})") from None
    if array.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise ValueError(f"{name} holds NaN or inf at {bad} of {array.size} entries "
                         "(the weights of a diverged run?)")
    return array


def check_params(model, params, name="params"):
    """Check weights against a model config
    (`nengo_lmu.model_dir.check_model_config`): every weight it uses there,
    no unknown names, the shapes of `param_shapes`, finite real values.
    Raises a `ValueError` naming the weight."""
    if not isinstance(params, dict):
        raise ValueError(f"{name} must be a dict of weight arrays, got "
                         f"{type(params).__name__} {shown(params)}")
    shapes = param_shapes(model)
    unknown = [k for k in params if k not in shapes]
    if unknown:
        raise ValueError(f"{name} has unknown weight{'s' * (len(unknown) > 1)} "
                         f"{', '.join(map(repr, unknown))} (known: {', '.join(shapes)})")
    missing = [k for k in used_params(model) if k not in params]
    if missing:
        raise ValueError(f"{name} lacks " + ", ".join(
            f"{k!r} (shape {shapes[k]})" for k in missing) + ", which this model uses")
    for key, value in params.items():
        array = check_weight_array(f"{name}[{key!r}]", value)
        if array.shape != shapes[key]:
            sizes = ", ".join(f"{k}={model.get(k, 1)}" for k in
                              ("units", "order", "input_d", "memory_d", "n_classes"))
            raise ValueError(f"{name}[{key!r}] has shape {array.shape}, but the model "
                             f"({sizes}) needs {shapes[key]}")
    return params


def build_classifier(config, params=None, method="sequential", seed=None,
                     add_to_container=None):
    """The `LMUClassifier` of a model's ``config`` (``config.json``'s ``model``).

    Parameters
    ----------
    config : dict
        ``n_classes`` plus the `LMU` arguments, ``hidden_neuron_type`` by
        name (`nengo_lmu.neurons.NEURON_TYPES`).
    params : dict, optional
        Weights (e.g. a model directory's ``params.npz``).
    method : {"sequential", "parallel"}
        ``"sequential"``: the temporal network, one step per sequence
        element; ``"parallel"``: the one-step network fed the closed-form
        memory (``closed_form=True``).
    seed : int, optional
        Seed of the network (and of the initial weights, without ``params``).
    add_to_container : bool, optional
        As for `nengo.Network`; False builds a network outside any ``with``
        block (to read its weights or memory without adding it to a model).

    Raises
    ------
    ValueError
        For a config without ``n_classes``, an unknown ``method``, or any
        argument `LMUClassifier` refuses.
    """
    if not hasattr(config, "items"):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    check_choice("method", method, BUILD_METHODS)
    kwargs = dict(config)
    if "n_classes" not in kwargs:
        raise ValueError(f"config is missing 'n_classes' (has {', '.join(kwargs) or 'nothing'})")
    n_classes = kwargs.pop("n_classes")
    kwargs["hidden_neuron_type"] = make_neuron_type(
        kwargs.pop("hidden_neuron_type", "RectifiedLinear"))
    kwargs["closed_form"] = method == "parallel"
    return LMUClassifier(n_classes, params=params, seed=seed,
                         add_to_container=add_to_container, **kwargs)
