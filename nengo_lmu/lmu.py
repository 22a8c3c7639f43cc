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
"""

import numbers

import nengo
import numpy as np

from nengo_lmu.networks import ONE_STEP_DELAY, LegendreMemory

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


def _check_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


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
        Discretization of the memory.
    params : dict, optional
        Initial values of the weights, keyed as in `PARAM_SHAPES`. By default
        (the paper's initialisation) ``e_x = 1``, ``e_h = e_m = 0``, ``W_x =
        W_h = 0``, ``bias = 0`` and ``W_m`` Glorot normal.
    seed : int, optional
        Seed of the default initialisation and of the network.

    Attributes
    ----------
    input : `nengo.Node`
        Size ``input_d``.
    output : `nengo.Node`
        The hidden state ``h_t``, size ``units``.
    memory : `LegendreMemory`
        The exact memory, size ``memory_d * order``.
    hidden : `nengo.Ensemble`
        The hidden layer.
    connections : dict
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
        params=None,
        label=None,
        seed=None,
        add_to_container=None,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        self.units = _check_int("units", units)
        self.input_d = _check_int("input_d", input_d)
        self.memory_d = _check_int("memory_d", memory_d)
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
        with self:
            self.memory = LegendreMemory(
                theta, order, memory_d=self.memory_d, dt=1.0, discretizer=discretizer
            )
        self.order, self.theta = self.memory.order, self.memory.theta
        self.discretizer = discretizer
        self.params = self.initial_params(seed) if params is None else {}
        if params is not None:
            self.params = self.check_params(params)

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
            self.connections = {}
            conn = self.connections
            conn["e_x"] = nengo.Connection(
                self.input, self.memory.input, transform=p["e_x"], synapse=None
            )
            conn["W_m"] = nengo.Connection(
                self.memory.output, h, transform=p["W_m"], synapse=None
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
        """The paper's initialisation, with ``W_m`` Glorot normal."""
        rng = np.random.RandomState(seed)
        shapes = self.param_shapes
        params = {k: np.zeros(shape) for k, shape in shapes.items()}
        params["e_x"][:] = 1.0
        fan_out, fan_in = shapes["W_m"]
        params["W_m"] = rng.normal(size=shapes["W_m"]) * np.sqrt(2.0 / (fan_in + fan_out))
        return params

    def check_params(self, params):
        """Validate a parameter dict against this network's sizes.

        Missing weights that this configuration does not use default to 0;
        a weight of the wrong shape raises a `ValueError` naming it.
        """
        shapes = self.param_shapes
        out = {}
        for name, shape in shapes.items():
            if name not in params:
                if name in self.used_params:
                    raise ValueError(f"params is missing {name!r} (shape {shape})")
                out[name] = np.zeros(shape)
                continue
            value = np.asarray(params[name], dtype=np.float64)
            if value.shape != shape:
                raise ValueError(
                    f"params[{name!r}] has shape {value.shape}, but this LMU "
                    f"(units={self.units}, order={self.order}, input_d={self.input_d}, "
                    f"memory_d={self.memory_d}) needs {shape}"
                )
            if not np.all(np.isfinite(value)):
                raise ValueError(f"params[{name!r}] contains NaN or inf")
            out[name] = value
        return out

    def get_params(self, sim=None):
        """The current weights: the trained ones from a NengoDL ``sim``, or
        those the network was built with."""
        if sim is None:
            return {k: np.array(v) for k, v in self.params.items()}
        params = {k: np.array(v) for k, v in self.params.items()}
        for name, conn in self.connections.items():
            params[name] = np.array(sim.data[conn].weights)
        params["bias"] = np.array(sim.data[self.hidden].bias)
        return params
