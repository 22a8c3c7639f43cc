"""Nengo networks that realise the Legendre delay system.

`LegendreMemory` is an ordinary `nengo.Network` with an ``input`` and an
``output`` node, so it runs unchanged in `nengo.Simulator`,
`nengo_dl.Simulator` and `nengo_loihi.Simulator`.
"""

import nengo
import numpy as np
from nengo.dists import Uniform

from nengo_lmu.systems import DISCRETIZERS, LegendreDelay
from nengo_lmu.validation import check_choice, check_integer, check_positive

MAPPINGS = ("discrete", "continuous")

#: A discrete one-step delay, ``y[k] = x[k - 1]``: the synapse that closes the
#: recurrence of the exact (neuron-free) memory.
ONE_STEP_DELAY = nengo.LinearFilter([1.0], [1.0, 0.0], analog=False)


class LegendreMemory(nengo.Network):
    """The LMU memory, ``theta * dm/dt = A m + B u``, as a Nengo network.

    Each of the ``memory_d`` input dimensions drives its own Legendre delay
    system of ``order`` state variables; the state of input dimension ``k``
    occupies ``output[k * order:(k + 1) * order]`` (the layout of keras-lmu).

    With ``n_neurons=None`` the memory is the exact discrete system
    ``m[k] = Ad m[k-1] + Bd u[k]`` (the LMU cell's memory update), built from
    a passthrough node and a one-step-delay synapse, with no neurons: every
    backend runs it and NengoDL differentiates through it.

    With ``n_neurons=N`` every state variable is represented by its own
    one-dimensional ensemble of ``N`` neurons (``state_ensembles``) and the
    dynamics are realised by NEF principle 3: recurrent transform ``A_rec``
    and input transform ``B_in``, both through the lowpass ``synapse``. The
    default ``mapping="discrete"`` (Voelker 2019, eq. 5.9) is exact for a
    simulator step ``dt``, which must therefore match the simulator's.
    ``output`` is then the ensembles' decoded state; `state_estimate` reads
    the state with less noise from probed data.

    Parameters
    ----------
    theta : float
        Length of the remembered window, in seconds (in steps when ``dt=1``).
    order : int
        Number of Legendre coefficients per input dimension.
    memory_d : int
        Number of input dimensions (independent memories).
    n_neurons : int or None
        Neurons per state variable; None builds the exact linear system.
    neuron_type : `nengo.neurons.NeuronType`
        Neuron model of the ensembles. The default,
        `nengo.SpikingRectifiedLinear`, runs on Loihi (so does `nengo.LIF`);
        a rate type gives the rate-based network.
    synapse : float
        Time constant ``tau`` (s) of the lowpass synapse of principle 3.
    dt : float
        Simulator time step the network will run with (s).
    mapping : {"discrete", "continuous"}
        Principle-3 mapping; ``"continuous"`` is exact only for ``tau >> dt``.
    discretizer : {"zoh", "euler"}
        Discretization of the exact (``n_neurons=None``) memory.
    max_rates, intercepts : `nengo.dists.Distribution`
        Tuning of the ensembles' neurons.
    radius : float or array_like
        Radius of the state ensembles: one number, or one per Legendre
        dimension (length ``order``) or per state variable (``memory_d *
        order``). The state variables differ greatly in size (the higher
        Legendre coefficients are small), so radii matched to them, e.g.
        ``3 * LegendreDelay.state_rms(freq, rms)``, cut the spike noise that
        the readout sums. The default, 1, suits any input with ``|u| <= 1``.
    recurrent_solver : `nengo.solvers.Solver`
        Solver of the recurrent connections. The default solves for full
        neuron-to-neuron weights (``weights=True``): nengo_loihi then puts a
        weight matrix on chip instead of routing the recurrence through its
        decode neurons, which is what keeps the spiking memory stable and
        accurate on Loihi. ``weights=False`` gives decoded connections.
    input_synapse : float, `nengo.synapses.Synapse`, or None
        Synapse of the input connection; the principle-3 lowpass by default.
    loihi_input : bool
        For `nengo_loihi`: leave the input unfiltered on the host
        (``input_synapse=None``) and mark the network so that
        ``nengo_lmu.make_simulator(net, "loihi")`` sets the on-chip filter of
        input spikes (nengo_loihi's ``decode_tau``) to ``synapse``. The input
        is then filtered once, on chip, which also smooths the noise of the
        input spike generators. Without it the input is filtered twice.
        The recurrent synapses then use the time constant the chip realises
        (`realised_tau`), and `nengo_lmu.make_simulator` with any other
        backend puts that filter on the input connections
        (``input_connections``), so the same network runs correctly
        everywhere; a bare `nengo.Simulator` would run it with the input
        unfiltered.

    label : str, optional
    seed : int, optional
        Seeds the network and the neurons' tuning (gains, biases, encoders),
        which is drawn when the network is constructed; None draws it anew.
    add_to_container : bool, optional

    Notes
    -----
    The input ``u`` reaches each ensemble through its neurons' input
    weights (``encoders * B_in / radius``, times the gains), so nengo_loihi encodes
    ``u`` itself into spikes and scales it on chip; keep ``|u| <= 1``.
    """

    def __init__(
        self,
        theta,
        order,
        memory_d=1,
        n_neurons=None,
        neuron_type=nengo.SpikingRectifiedLinear(),
        synapse=0.1,
        dt=0.001,
        mapping="discrete",
        discretizer="zoh",
        max_rates=Uniform(100, 120),
        intercepts=Uniform(-1, 0.5),
        radius=1.0,
        input_synapse="default",
        loihi_input=False,
        recurrent_solver=nengo.solvers.LstsqL2(reg=0.1, weights=True),
        label=None,
        seed=None,
        add_to_container=None,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        # validate everything before building anything
        self.system = LegendreDelay(theta, order)
        self.theta = self.system.theta
        self.order = self.system.order
        self.memory_d = check_integer("memory_d", memory_d)
        self.n_per_dimension = check_integer("n_neurons", n_neurons, allow_none=True)
        self.synapse = check_positive("synapse", synapse)
        self.dt = check_positive("dt", dt)
        self.mapping = check_choice("mapping", mapping, MAPPINGS)
        self.discretizer = check_choice("discretizer", discretizer, DISCRETIZERS)
        self.radius = np.atleast_1d(np.asarray(radius, dtype=float))
        if (
            self.radius.ndim != 1
            or self.radius.size not in (1, self.order, self.memory_d * self.order)
            or not np.all(np.isfinite(self.radius))
            or np.any(self.radius <= 0)
        ):
            raise ValueError(
                "radius must be a positive number or an array of positive numbers "
                f"of length order ({self.order}) or memory_d * order, got {radius!r}"
            )
        if self.radius.size == 1:
            self.radius = np.full(self.order, self.radius[0])
        if not isinstance(neuron_type, nengo.neurons.NeuronType):
            raise ValueError(
                f"neuron_type must be a nengo NeuronType instance, got {neuron_type!r}"
            )
        self.neuron_type = neuron_type
        self.loihi_input = bool(loihi_input)
        if isinstance(input_synapse, str) and input_synapse == "default":
            input_synapse = None if self.loihi_input else self.synapse
        self.input_synapse = input_synapse
        with self:
            self.input = nengo.Node(size_in=self.memory_d, label="input")
            if self.n_per_dimension is None:
                self._build_exact()
            else:
                # realise (principle 3), then build populations and wiring
                if self.mapping == "discrete":
                    # on Loihi the synapse is the chip's quantized lowpass
                    self.A_rec, self.B_in = self.system.discrete_mapping(
                        self.realised_tau, self.dt)
                else:
                    self.A_rec, self.B_in = self.system.continuous_mapping(self.synapse)
                self._build_ensembles(max_rates, intercepts)
                self._connect(recurrent_solver)

    def _build_exact(self):
        """The exact discrete system: a state node closed by a one-step delay."""
        size, eye = self.memory_d * self.order, np.eye(self.memory_d)
        Ad, Bd = self.system.discretize(self.dt, method=self.discretizer)
        self.state = nengo.Node(size_in=size, label="state")
        nengo.Connection(self.state, self.state, transform=np.kron(eye, Ad),
                         synapse=ONE_STEP_DELAY)
        nengo.Connection(self.input, self.state, transform=np.kron(eye, Bd), synapse=None)
        self.output = self.state
        self.state_ensembles = []
        self.input_connections = []
        self.A_rec = self.B_in = None

    def _build_ensembles(self, max_rates, intercepts):
        """One ensemble per state variable, its tuning sampled here."""
        # Sample the tuning ourselves so that the input can be wired to
        # the neurons directly (see `_connect`) with the gains every backend
        # uses: nengo and nengo_loihi both honour explicit gain/bias.
        rng = np.random.RandomState(self.seed)
        radii = self.radius
        if radii.size == self.order:
            radii = np.tile(radii, self.memory_d)
        n = self.n_per_dimension
        self.state_ensembles = []
        for d in range(self.memory_d * self.order):
            gain, bias = self.neuron_type.gain_bias(
                _sample(max_rates, n, rng), _sample(intercepts, n, rng))
            self.state_ensembles.append(nengo.Ensemble(
                n, 1, radius=radii[d], encoders=rng.choice([-1.0, 1.0], size=(n, 1)),
                gain=gain, bias=bias, neuron_type=self.neuron_type, label=f"m[{d}]",
            ))

    def _connect(self, recurrent_solver):
        """Input, recurrent (``A_rec``) and output connections."""
        ens = self.state_ensembles
        self.output = nengo.Node(size_in=self.memory_d * self.order, label="output")
        self.input_connections = []
        for k in range(self.memory_d):
            for i in range(self.order):
                post = ens[k * self.order + i]
                # B_in u enters through the neurons' input weights rather
                # than the encoders: nengo_loihi then sends u itself
                # (|u| <= 1) to the chip and scales it there, instead of
                # sending B_in u / radius, which saturates its input
                # neurons for the higher Legendre dimensions.
                # (backends multiply connections into neurons by gain)
                self.input_connections.append(nengo.Connection(
                    self.input[k],
                    post.neurons,
                    transform=post.encoders * (self.B_in[i, 0] / post.radius),
                    synapse=self.input_synapse,
                ))
                nengo.Connection(post, self.output[k * self.order + i], synapse=None)
                for j in range(self.order):
                    nengo.Connection(
                        ens[k * self.order + j],
                        post,
                        transform=self.A_rec[i, j],
                        synapse=self.realised_tau,
                        solver=recurrent_solver,
                    )

    def state_estimate(self, decoded, u, dt=None):
        """Estimate the memory state from its decoded output and its input.

        By principle 3 the populations are driven by the current
        ``A_rec x_hat + B_in u`` through the lowpass ``synapse``; that
        filtered current is the state they represent. Computed from probed
        data (``decoded``: unfiltered probe of ``output``, ``u``: unfiltered
        input), it carries less spike noise than ``decoded`` itself and has
        no filter lag; this is how the paper's Loihi notebook reads the
        state. For the exact memory, ``decoded`` is returned unchanged.

        Parameters
        ----------
        decoded : ndarray, shape ``(n_steps, memory_d * order)``
        u : ndarray, shape ``(n_steps, memory_d)``
        dt : float, optional
            Simulator time step; the network's ``dt`` by default.
        """
        if self.A_rec is None:
            return np.asarray(decoded)
        eye = np.eye(self.memory_d)
        current = np.asarray(decoded) @ np.kron(eye, self.A_rec).T + np.asarray(
            u
        ) @ np.kron(eye, self.B_in).T
        return nengo.Lowpass(self.realised_tau).filt(current, dt=dt or self.dt, y0=0)

    @property
    def realised_tau(self):
        """The synaptic time constant the target hardware realises.

        With ``loihi_input=True``, the chip's quantized decay (`loihi_tau`);
        otherwise ``synapse``.
        """
        return loihi_tau(self.synapse, self.dt) if self.loihi_input else self.synapse

    @property
    def n_neurons_total(self):
        """Total number of neurons (0 for the exact memory)."""
        if self.n_per_dimension is None:
            return 0
        return self.n_per_dimension * self.memory_d * self.order



def loihi_tau(tau, dt):
    """The time constant of a lowpass synapse ``tau`` as Loihi realises it.

    Loihi decays synaptic current by ``1 - d / 4096`` per step with an
    integer ``d``; nengo_loihi rounds ``4096 * (1 - exp(-dt / tau))`` to it
    (e.g. tau = 0.1 s at dt = 1 ms becomes 0.0994 s).
    """
    d = np.round(4096 * -np.expm1(-dt / tau) - 1) + 1
    return -dt / np.log1p(-d / 4096)


def _sample(dist, n, rng):
    if isinstance(dist, nengo.dists.Distribution):
        return dist.sample(n, rng=rng)
    return np.broadcast_to(np.asarray(dist, dtype=float), (n,)).copy()
