"""Nengo networks that realise the Legendre delay system.

`LegendreMemory` is an ordinary `nengo.Network` with an ``input`` and an
``output`` node, so it runs unchanged in `nengo.Simulator`,
`nengo_dl.Simulator` and `nengo_loihi.Simulator`.

It checks its arguments before it joins its parent network or builds
anything (`check_tuning`, `check_seed`), and a memory constructed without a
seed inside a seeded network derives its seed from that network's
(`network_seed`), as the package's other networks that sample at
construction do.
"""

import contextlib
import warnings

import nengo
import numpy as np
from nengo.dists import Uniform

from nengo_lmu.systems import DISCRETIZERS, LegendreDelay, OscillatorBank, check_spectral_radius
from nengo_lmu.systems import MEMORY_KINDS, response_mapping, spectral_radius
from nengo_lmu.neurons import LAG_PROBE_RMS, LAG_PROBE_WINDOWS, decoded_response
from nengo_lmu.validation import check_choice, check_integer, check_positive, check_real
from nengo_lmu.validation import check_seed

MAPPINGS = ("discrete", "continuous")

#: Neuron types (by class name, theirs or a base class's) that spike at most
#: once per simulator step, so that a rate above ``1 / dt`` is out of reach:
#: nengo's LIF (and AdaptiveLIF), Izhikevich, and nengo_loihi's models of
#: Loihi's neurons (``LoihiLIF``, ``LoihiSpikingRectifiedLinear``).
ONE_SPIKE_PER_STEP = ("LIF", "Izhikevich", "LoihiSpikingRectifiedLinear")

#: A discrete one-step delay, ``y[k] = x[k - 1]``: the synapse that closes the
#: recurrence of the exact (neuron-free) memory.
ONE_STEP_DELAY = nengo.LinearFilter([1.0], [1.0, 0.0], analog=False)

#: Functions called (without arguments) whenever a `LegendreMemory`'s
#: ``config`` is read. nengo_loihi reads a network's config (``add_params``)
#: right before it builds it; `nengo_lmu.backends` adds here the function that
#: then registers the memory's own nengo_loihi build (`backends.build_on_loihi`),
#: so that a plain ``nengo_loihi.Simulator`` builds the memory for the chip
#: however late nengo_loihi was imported. (This layer imports no backend.)
CONFIG_HOOKS = []


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
    copies : int
        Independent spiking realisations of the memory, whose decoded states
        ``output`` averages (default 1; needs ``n_neurons``). Each state
        variable's ensemble holds one dimension per copy (``copies *
        n_neurons`` neurons, encoders on their copy's axis, a
        ``copies``-dimensional ensemble), and each copy's recurrence and
        output decode only its own neurons (`CopySolver`), so that the
        copies are separate loops whose spike errors average out. On
        nengo_loihi each ensemble is one core, so copies cost neurons and
        synapses, not cores, and the chip build stores each recurrent
        connection without the zeros between copies
        (`nengo_lmu.backends.store_copies_sparsely`): ``copies *
        n_neurons**2`` weights per pair of ensembles. An order-64 psMNIST
        memory of four copies of 10 neurons fits one chip (72 cores); each
        ensemble's neurons send an axon to every core they reach, at most
        4,096 per core, which bounds ``copies * n_neurons`` (see
        docs/spiking_memory.md).
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
    max_rates, intercepts : `nengo.dists.Distribution`, float or array_like
        Tuning of the ensembles' neurons (or one value, or one per neuron of
        an ensemble), checked by `check_tuning` before anything is built:
        maximum rates finite and ``> 0`` Hz (above ``1 / dt``: refused for
        neurons that spike at most once per step, a warning for others),
        intercepts in ``[-1, 1)``.
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
    loihi_input : bool or None
        How the input reaches the neurons on `nengo_loihi`. None (default):
        decided by the simulator that builds the memory. `nengo.Simulator`
        and `nengo_dl.Simulator` filter the input on the host with
        ``input_synapse`` and realise principle 3 with ``synapse``;
        `nengo_loihi.Simulator` (plain, or through
        `nengo_lmu.make_simulator`) leaves the input unfiltered on the host,
        filters its spikes once, on chip, with the chip's lowpass of
        ``synapse`` (nengo_loihi's ``decode_tau``, for this memory only) and
        maps principle 3 for the time constant the chip's quantized decay
        realises (`loihi_tau`); the network itself is left as it was
        (`nengo_lmu.backends.build_on_loihi`).
        True: the same on nengo_loihi, and on every backend principle 3 is
        mapped for the chip's time constant (`realised_tau`), with which the
        input is filtered on the host on `nengo.Simulator` and
        `nengo_dl.Simulator` (so nengo runs what the chip runs);
        ``nengo_lmu.make_simulator`` also sets the model's on-chip input
        filter (``decode_tau``) to ``synapse`` on Loihi. False: the input is
        filtered on the host everywhere, on nengo_loihi too, where its input
        spikes are then filtered a second time, by nengo_loihi's 5 ms
        ``decode_tau``, and carry their noise into the memory (NRMSE about
        three times that of None on the Loihi emulator).
    loihi_calibration : bool
        Whether nengo_loihi's build calibrates the spiking memory for the
        chip (`nengo_lmu.backends.build_on_loihi`). True (default): principle
        3 is mapped for the gain of each state variable's decoded output on
        the chip's neurons as well as for their lag (`neuron_response`, with
        a drive of white noise up to ``1 / theta`` at RMS 0.3, the range of
        the defaults' ``radius=1``), and the recurrent weights are rounded
        onto the chip's weight grid for the smallest error in the current
        (`nengo_lmu.backends.round_recurrent_weights`): the paper's delay
        network on the emulator gives NRMSE 0.089 at r = 1 (mean of three
        seeds, 50 s) against 0.111 with False. False: the lag alone, and
        nengo_loihi's own rounding to the nearest weight; `SpikingLMUClassifier`'s
        memory (radii sized for its input, 30 neurons at up to 700 Hz) is
        built so, because calibrating it made it worse (0.59 against 0.16
        on 5 test images, `benchmarks/spiking_memory.py`): the drive
        overdrives its small radii, and the rounding alone gave 0.24.
        Other backends ignore it.

    label : str, optional
    seed : int, optional
        Seeds the network and the neurons' tuning (gains, biases, encoders),
        which is drawn when the network is constructed. An integer in
        ``0 .. 2**32 - 1``. None, inside a network with a seed (the network
        it is constructed in, or one around that), derives the seed from that
        network's seed and the positions of the networks between them at
        construction (`network_seed`), as nengo derives a child network's
        seed from its parent's: the same model code then builds the same
        memory every time. None without a seeded network around it draws the
        tuning anew at every construction, as in nengo.
    add_to_container : bool, optional

    Raises
    ------
    ValueError
        Before anything is built (or added to the enclosing network): for a
        bad number, choice or seed; ``max_rates`` that are not finite and
        positive; ``intercepts`` outside ``[-1, 1)`` (they give dead
        neurons with negative gains, which `nengo.Ensemble` refuses too);
        ``max_rates`` above ``1 / dt`` for neurons that spike at most once
        per step (`ONE_SPIKE_PER_STEP`: LIF and Loihi's neuron models, whose
        rates cannot exceed it, as nengo refuses LIF rates above
        ``1 / tau_ref``); and an unstable memory: a discretization
        (``discretizer="euler"`` at a large ``order * dt / theta``) or, for
        spiking memories, a ``mapping="continuous"`` whose realised discrete
        system has a spectral radius above 1.

    Warns
    -----
    UserWarning
        ``max_rates`` above ``1 / dt`` for other spiking types, such as the
        default `nengo.SpikingRectifiedLinear`: nengo lets them spike several
        times per step, but on Loihi they spike at most once per step and
        their rates saturate at ``1 / dt``.

    Notes
    -----
    The input ``u`` reaches each ensemble through its neurons' input
    weights (``encoders * B_in / radius``, times the gains), so nengo_loihi encodes
    ``u`` itself into spikes and scales it on chip; keep ``|u| <= 1``.

    ``dt`` must be the step of the simulator that runs the memory:
    `nengo_lmu.make_simulator` refuses another one. An exact memory with
    ``dt=1`` counts ``theta`` in steps (the LMU cell's memory) and runs at
    any simulator step.
    """

    #: The memory system the network realises (`OscillatorMemory` overrides it).
    system_type = LegendreDelay

    def __init__(
        self,
        theta,
        order,
        memory_d=1,
        n_neurons=None,
        copies=1,
        neuron_type=nengo.SpikingRectifiedLinear(),
        synapse=0.1,
        dt=0.001,
        mapping="discrete",
        discretizer="zoh",
        max_rates=Uniform(100, 120),
        intercepts=Uniform(-1, 0.5),
        radius=1.0,
        input_synapse="default",
        loihi_input=None,
        loihi_calibration=True,
        recurrent_solver=nengo.solvers.LstsqL2(reg=0.1, weights=True),
        label=None,
        seed=None,
        add_to_container=None,
    ):
        # validate everything before the network joins its parent or builds anything
        seed = network_seed(seed, add_to_container)
        self.system = self.system_type(theta, order)
        self.theta = self.system.theta
        self.order = self.system.order
        self.memory_d = check_integer("memory_d", memory_d)
        self.n_per_dimension = check_integer("n_neurons", n_neurons, allow_none=True)
        self.copies = check_integer("copies", copies)
        if self.copies > 1 and self.n_per_dimension is None:
            raise ValueError("copies > 1 needs n_neurons: the exact memory (n_neurons=None) "
                             "has no spike noise to average")
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
        self.loihi_input = None if loihi_input is None else bool(loihi_input)
        if not isinstance(loihi_calibration, (bool, np.bool_)):
            raise ValueError(f"loihi_calibration must be True or False, got {loihi_calibration!r}")
        self.loihi_calibration = bool(loihi_calibration)
        if isinstance(input_synapse, str) and input_synapse == "default":
            # with loihi_input=True the chip's time constant
            input_synapse = self.realised_tau
        self.input_synapse = input_synapse
        if self.n_per_dimension is None:
            self.system.check_stability(self.dt, self.discretizer, name="discretizer")
            self.A_rec = self.B_in = None
        else:
            check_tuning(max_rates, intercepts, neuron_type, self.dt, self.n_per_dimension)
            # realise (principle 3); with loihi_input=True for the chip's lowpass
            self.A_rec, self.B_in = self.mapping_matrices(self.realised_tau)
            self._check_realised_stability()

        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        with self:
            self.input = nengo.Node(size_in=self.memory_d, label="input")
            if self.n_per_dimension is None:
                self._build_exact()
            else:
                # populations and wiring
                self._build_ensembles(max_rates, intercepts)
                self._connect(recurrent_solver)

    def mapping_matrices(self, tau, lag=0.0, gains=None):
        """``(A_rec, B_in)``: principle 3 through a lowpass of time constant
        ``tau`` (s) at the memory's ``dt``, with its ``mapping`` (the
        continuous mapping uses ``synapse``, as it always has).

        ``lag`` (s, >= 0) is how far the populations' decoded output lags the
        state they represent, such as the lag Loihi's neurons add
        (`neuron_lag`). Without ``gains`` the lag, measured to first order in
        frequency (`nengo_lmu.neurons.decoded_response`), is folded into the
        loop's lowpass to that order, ``exp(-s lag) / (1 + s tau) = 1 / (1 +
        s (tau + lag)) + O(s**2)``: principle 3 is mapped for ``tau + lag``
        (the continuous mapping for ``synapse + lag``). Compensating it as an
        exact delay of the decoded state (``A_rec Ad(lag)``, ``B_in + A_rec
        Bd(lag)``) was less accurate with Loihi's neurons (the delay network
        in nengo with their model, seeds 0-2, 10 s: NRMSE 0.098 against 0.087
        at r = 1). ``lag=0`` gives the transforms of ``tau`` exactly.

        ``gains`` (one per Legendre dimension, or per state variable, then
        averaged over the ``memory_d`` inputs; `neuron_gains`) is the
        decoded state's gain: with them the decoded output is modelled as
        ``G (x - lag dx/dt)`` and the mapping of ``tau`` is solved for it
        (`nengo_lmu.systems.response_mapping`), so that the loop undoes
        both the lag and the decoders' shrinkage of each state variable.
        The two go together: on the delay network (Loihi's neuron model in
        nengo, seed 1, 20 s) the lag alone mapped this way gave NRMSE 0.121
        at r = 1 and the gains alone 0.106, against 0.102 for ``tau + lag``
        and 0.066 for both.
        """
        lag = check_real("lag", lag, 0)
        if gains is None:
            if self.mapping == "discrete":
                return self.system.discrete_mapping(tau + lag, self.dt)
            return self.system.continuous_mapping(self.synapse + lag)
        gains = np.asarray(gains, dtype=float).ravel()
        if gains.size not in (self.order, self.memory_d * self.order):
            raise ValueError(f"gains must have one value per Legendre dimension ({self.order}) "
                             f"or per state variable ({self.memory_d * self.order}), "
                             f"got {gains.size}")
        gains = gains.reshape(-1, self.order).mean(axis=0)
        A_rec, B_in = self.mapping_matrices(tau)
        return response_mapping(A_rec, B_in, self.system.A, self.system.B, lag, gains)

    def neuron_lag(self, neuron_type=None, rates=None):
        """How far (s) the decoded state of this memory's populations lags
        the state they represent, with their neurons simulated as
        ``neuron_type`` (theirs by default) and decoders solved on ``rates``:
        the ``lag`` of `neuron_response`. 0 for the exact memory."""
        return self.neuron_response(neuron_type, rates)["lag"]

    def neuron_gains(self, neuron_type=None, rates=None):
        """The gain of each state variable's decoded output (``memory_d *
        order`` values), with their neurons simulated as ``neuron_type``
        (theirs by default) and decoders solved on ``rates``: the ``gains``
        of `neuron_response`. Ones for the exact memory."""
        return self.neuron_response(neuron_type, rates)["gains"]

    def neuron_response(self, neuron_type=None, rates=None):
        """How this memory's populations' decoded state follows the state
        they represent (`nengo_lmu.neurons.decoded_response`): ``{"lag": s,
        "gains": one per state variable}``.

        The populations run as the memory itself (principle 3 through a
        lowpass of ``synapse``, whatever ``loihi_input``, simulated in numpy),
        driven by white noise up to ``1 / theta`` Hz with RMS
        `nengo_lmu.neurons.LAG_PROBE_RMS` for
        `~nengo_lmu.neurons.LAG_PROBE_WINDOWS` windows (seeded by the
        memory's seed), so that the recurrence's spike noise is in their
        input as it is when the memory runs. Lag 0 and unit gains for the
        exact memory. Remembered per neuron type (about 3 s for 600 neurons
        and theta of 1,000 steps).
        """
        if self.n_per_dimension is None:
            return {"lag": 0.0, "gains": np.ones(self.memory_d * self.order)}
        key = (repr(neuron_type), rates)
        cache = self.__dict__.setdefault("_neuron_responses", {})
        if key not in cache:
            seed = 0 if self.seed is None else int(self.seed)
            n_steps = int(round(LAG_PROBE_WINDOWS * self.theta / self.dt))
            u = nengo.processes.WhiteSignal(
                n_steps * self.dt, high=1 / self.theta, rms=LAG_PROBE_RMS, y0=0,
                seed=seed).run_steps(n_steps, dt=self.dt)
            eye = np.eye(self.memory_d)
            A_rec, B_in = self.mapping_matrices(self.synapse)
            A, B = np.kron(eye, A_rec), np.kron(eye, B_in)
            # in the ensembles' layout: each copy a loop of its own (decoded
            # by decoded_response from the whole ensemble: a measurement of
            # the neurons' lag and gain, not the copies' own decoders)
            var, copy = self.ensemble_layout()
            loop = (A[np.ix_(var, var)] * (copy[:, None] == copy[None, :]), B[var],
                    np.tile(u, self.memory_d))
            response = decoded_response(self.state_ensembles, None, self.dt, self.synapse,
                                        neuron_type=neuron_type, rates=rates, seed=seed,
                                        loop=loop)
            # one gain per state variable: the mean over its copies
            response["gains"] = np.bincount(var, weights=response["gains"]) / self.copies
            cache[key] = response
        return dict(cache[key])

    def ensemble_layout(self):
        """What each dimension of the state ensembles, in order, represents:
        ``(variable, copy)``, two integer arrays over all their dimensions
        (the state variable, ``0 .. memory_d * order - 1``, and the copy,
        ``0 .. copies - 1``). One ensemble per state variable, its dimensions
        the copies."""
        size = self.memory_d * self.order
        return np.repeat(np.arange(size), self.copies), np.tile(np.arange(self.copies), size)

    def _copied(self, transform):
        """A transform between state variables, for each copy alone (block
        diagonal over the copies; itself for one copy)."""
        if self.copies == 1:
            return transform
        return np.kron(np.eye(self.copies), np.atleast_2d(transform))

    def _input_transform(self, ens, rows):
        """``B_in u`` (its ``rows``, the state variables ``ens`` holds) into
        every copy's neurons of ``ens``."""
        return ens.encoders @ np.tile(self.B_in[rows], (self.copies, 1)) / ens.radius

    def _solver(self, solver):
        """``solver`` for each copy's own neurons and dimensions (`CopySolver`)."""
        return solver if self.copies == 1 else CopySolver(solver, self.copies)

    @property
    def config(self):
        """(`nengo.Config`) Configuration for this network (nengo's; reading
        it runs `CONFIG_HOOKS`)."""
        for hook in CONFIG_HOOKS:
            hook()
        return self._config

    @config.setter
    def config(self, _):
        nengo.Network.config.fset(self, _)

    @contextlib.contextmanager
    def realised_with(self, tau, input_synapse, lag=0.0, gains=None):
        """Temporarily realise principle 3 for a lowpass ``tau`` (s).

        Inside the ``with`` block the recurrent connections have the
        synapse ``tau`` and the transforms of ``mapping_matrices(tau, lag,
        gains)``, the input connections that input transform and
        ``input_synapse``; ``A_rec`` and ``B_in`` are those transforms.
        Everything is restored on leaving. A backend uses it to build the
        memory for hardware whose synapses realise another time constant
        (`loihi_tau`) and whose neurons add ``lag`` (s) to the loop and
        decode each state variable with a gain (`neuron_response`).
        """
        if self.n_per_dimension is None:
            yield self
            return
        A_rec, B_in = self.mapping_matrices(tau, lag, gains)
        conns = self.input_connections + self.recurrent_connections
        saved = [(c, c.synapse, c.transform) for c in conns] + [
            (self, self.A_rec, self.B_in)]
        try:
            self.A_rec, self.B_in, self._realising = A_rec, B_in, tau
            self._set_transforms(input_synapse, tau)
            yield self
        finally:
            for c, first, second in saved[:-1]:
                c.synapse, c.transform = first, second
            self.A_rec, self.B_in = saved[-1][1:]
            self._realising = None

    def _set_transforms(self, input_synapse, recurrent_synapse):
        """Give the connections the transforms of ``A_rec``, ``B_in``."""
        order, rec = self.order, iter(self.recurrent_connections)
        for k in range(self.memory_d):
            for i in range(order):
                conn = self.input_connections[k * order + i]
                post = conn.post_obj.ensemble
                conn.transform = self._input_transform(post, slice(i, i + 1))
                conn.synapse = input_synapse
                for j in range(order):
                    conn = next(rec)
                    conn.transform = self._copied(self.A_rec[i, j])
                    conn.synapse = recurrent_synapse

    def _check_realised_stability(self):
        """Refuse a principle-3 realisation whose discrete system is unstable.

        Through nengo's lowpass, ``x[k+1] = a x[k] + (1 - a) (A_rec x[k] +
        B_in u[k])``, ``a = exp(-dt / tau)``: the discrete mapping realises
        the ZOH system exactly (always stable), the continuous one
        ``I + (1 - a) tau A``, in effect Euler.
        """
        if self.mapping == "discrete":
            self.system.check_stability(self.dt, "zoh")
            return
        a = np.exp(-self.dt / self.realised_tau)
        Ad = a * np.eye(self.order) + (1 - a) * self.A_rec
        check_spectral_radius(
            spectral_radius(Ad),
            f"the spiking Legendre memory (theta={self.theta:g}, order={self.order}) "
            f"realised with mapping='continuous' through synapse={self.synapse:g} at "
            f"dt={self.dt:g}",
            'use mapping="discrete" (exact and stable for every theta, order and dt)',
        )

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
        self.recurrent_connections = []

    def _build_ensembles(self, max_rates, intercepts):
        """One ensemble per state variable (one dimension per copy), its
        tuning sampled here."""
        # Sample the tuning ourselves so that the input can be wired to
        # the neurons directly (see `_connect`) with the gains every backend
        # uses: nengo and nengo_loihi both honour explicit gain/bias.
        rng = np.random.RandomState(self.seed)
        radii = self.radius
        if radii.size == self.order:
            radii = np.tile(radii, self.memory_d)
        n = self.n_per_dimension * self.copies
        axes = np.repeat(np.eye(self.copies), self.n_per_dimension, axis=0)
        self.state_ensembles = []
        for d in range(self.memory_d * self.order):
            gain, bias = self.neuron_type.gain_bias(
                _sample(max_rates, n, rng), _sample(intercepts, n, rng))
            _check_gains(gain)
            self.state_ensembles.append(nengo.Ensemble(
                n, self.copies, radius=radii[d],
                encoders=axes * rng.choice([-1.0, 1.0], size=(n, 1)),
                gain=gain, bias=bias, neuron_type=self.neuron_type, label=f"m[{d}]",
            ))

    def _connect(self, recurrent_solver):
        """Input, recurrent (``A_rec``) and output connections."""
        ens = self.state_ensembles
        self.output = nengo.Node(size_in=self.memory_d * self.order, label="output")
        self.input_connections, self.recurrent_connections = [], []
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
                    transform=self._input_transform(post, slice(i, i + 1)),
                    synapse=self.input_synapse,
                ))
                self._connect_output(post, self.output[k * self.order + i], 1)
                for j in range(self.order):
                    self.recurrent_connections.append(nengo.Connection(
                        ens[k * self.order + j],
                        post,
                        transform=self._copied(self.A_rec[i, j]),
                        synapse=self.realised_tau,
                        solver=self._solver(recurrent_solver),
                    ))

    def _connect_output(self, ens, output, d):
        """``ens``'s ``d`` state variables into ``output``: decoded, the mean
        of the copies, each decoded from its own neurons."""
        if self.copies == 1:
            nengo.Connection(ens, output, synapse=None)
        else:
            mean = np.tile(np.eye(d), (1, self.copies)) / self.copies
            nengo.Connection(ens, output, transform=mean, synapse=None,
                             solver=self._solver(nengo.solvers.LstsqL2()))

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
        otherwise ``synapse`` (inside `realised_with`, its ``tau``).
        """
        if getattr(self, "_realising", None) is not None:
            return self._realising
        return loihi_tau(self.synapse, self.dt) if self.loihi_input else self.synapse

    @property
    def n_neurons_total(self):
        """Total number of neurons (0 for the exact memory)."""
        if self.n_per_dimension is None:
            return 0
        return self.n_per_dimension * self.copies * self.memory_d * self.order



class OscillatorMemory(LegendreMemory):
    """A bank of damped oscillators (`nengo_lmu.systems.OscillatorBank`) as a
    Nengo network: the block-diagonal memory, which fits a chip at psMNIST size.

    The arguments, attributes and backends are those of `LegendreMemory`
    (``order`` even: two state variables per oscillator); only the
    realisation with neurons differs. Each oscillator is one two-dimensional
    ensemble of ``2 * n_neurons`` neurons (half encode its first state
    variable, half its second, with encoders ``+-1`` on their axis), and its
    recurrent connection carries only its own 2 x 2 block of ``A_rec``: on
    Loihi one core and ``(2 n_neurons)**2`` recurrent synapses per
    oscillator, against ``(order n_neurons)**2`` for a dense
    `LegendreMemory`. The two state variables of an oscillator rotate into
    each other and share one radius (the larger of the two given).
    ``state_ensembles`` holds one ensemble per oscillator; with ``copies``
    it has ``2 * copies`` dimensions (copy by copy, each copy's two state
    variables) and ``2 * copies * n_neurons`` neurons.
    """

    system_type = OscillatorBank

    def _build_ensembles(self, max_rates, intercepts):
        """One two-dimensional ensemble per oscillator, its tuning sampled here."""
        rng = np.random.RandomState(self.seed)
        radii = self.radius
        if radii.size == self.order:
            radii = np.tile(radii, self.memory_d)
        # dimensions (copy, variable): each copy's neurons a block of 2 * n_neurons
        n = 2 * self.n_per_dimension * self.copies
        axes = np.repeat(np.eye(2 * self.copies), self.n_per_dimension, axis=0)
        self.state_ensembles = []
        for b in range(self.memory_d * self.order // 2):
            gain, bias = self.neuron_type.gain_bias(
                _sample(max_rates, n, rng), _sample(intercepts, n, rng))
            _check_gains(gain)
            self.state_ensembles.append(nengo.Ensemble(
                n, 2 * self.copies, radius=max(radii[2 * b], radii[2 * b + 1]),
                encoders=axes * rng.choice([-1.0, 1.0], size=(n, 1)),
                gain=gain, bias=bias, neuron_type=self.neuron_type, label=f"m[{2 * b}:{2 * b + 2}]",
            ))

    def _connect(self, recurrent_solver):
        """Input, recurrent (each oscillator's block of ``A_rec``) and output connections."""
        self.output = nengo.Node(size_in=self.memory_d * self.order, label="output")
        self.input_connections, self.recurrent_connections = [], []
        for b, ens in enumerate(self.state_ensembles):
            k, rows = self._block(b)
            # B_in u through the neurons' input weights, as in LegendreMemory
            self.input_connections.append(nengo.Connection(
                self.input[k], ens.neurons, transform=self._input_transform(ens, rows),
                synapse=self.input_synapse,
            ))
            self._connect_output(ens, self.output[2 * b:2 * b + 2], 2)
            self.recurrent_connections.append(nengo.Connection(
                ens, ens, transform=self._copied(self.A_rec[rows, rows]),
                synapse=self.realised_tau, solver=self._solver(recurrent_solver)))

    def ensemble_layout(self):
        """What each dimension of the state ensembles, in order, represents:
        ``(variable, copy)`` (see `LegendreMemory.ensemble_layout`). One
        ensemble per oscillator, its dimensions (copy, variable)."""
        blocks = self.memory_d * self.order // 2
        b, c, v = np.meshgrid(np.arange(blocks), np.arange(self.copies), np.arange(2),
                              indexing="ij")
        return (2 * b + v).ravel(), c.ravel()

    def _block(self, b):
        """Oscillator ``b``'s input index and its rows of ``A_rec`` and ``B_in``."""
        k, i = divmod(b, self.order // 2)
        return k, slice(2 * i, 2 * i + 2)

    def _set_transforms(self, input_synapse, recurrent_synapse):
        """Give the connections the transforms of ``A_rec``, ``B_in``."""
        for b, (inp, rec) in enumerate(zip(self.input_connections, self.recurrent_connections)):
            _, rows = self._block(b)
            inp.transform = self._input_transform(rec.post_obj, rows)
            inp.synapse = input_synapse
            rec.transform = self._copied(self.A_rec[rows, rows])
            rec.synapse = recurrent_synapse


class CopySolver(nengo.solvers.Solver):
    """A solver that decodes each copy of a memory from that copy's neurons only.

    The ensemble's neurons and its dimensions fall into ``copies`` equal
    blocks, in order; ``solver`` solves each block of targets on its own
    block of neurons, and every other weight is 0. `LegendreMemory` with
    ``copies > 1`` decodes its copies so, so that each copy's recurrence
    carries only its own spike noise (which then averages out over the
    copies), where a solver of the whole ensemble would mix them.

    Parameters
    ----------
    solver : `nengo.solvers.Solver`
        A compositional solver (such as `nengo.solvers.LstsqL2`); its
        ``weights`` is this solver's.
    copies : int
        Number of blocks.
    """

    solver = nengo.solvers.SolverParam("solver")
    copies = nengo.params.IntParam("copies", low=1)

    def __init__(self, solver, copies):
        if not isinstance(solver, nengo.solvers.Solver) or not solver.compositional:
            raise ValueError(f"solver must be a compositional nengo Solver, got {solver!r}")
        super().__init__(weights=solver.weights)
        self.solver = solver
        self.copies = check_integer("copies", copies)

    def __call__(self, A, Y, rng=np.random):
        A, Y = np.asarray(A), np.asarray(Y)
        c = self.copies
        if A.shape[1] % c or Y.shape[1] % c:
            raise ValueError(f"CopySolver: {A.shape[1]} neurons and {Y.shape[1]} targets do "
                             f"not fall into copies = {c} equal blocks")
        n, d = A.shape[1] // c, Y.shape[1] // c
        X, infos = np.zeros((A.shape[1], Y.shape[1])), []
        for k in range(c):
            X[k * n:(k + 1) * n, k * d:(k + 1) * d], info = self.solver(
                A[:, k * n:(k + 1) * n], Y[:, k * d:(k + 1) * d], rng=rng)
            infos.append(info)
        return X, {"rmses": np.concatenate([i["rmses"] for i in infos]), "copies": infos}


#: The memory networks by kind (`nengo_lmu.systems.MEMORY_KINDS`).
MEMORY_NETWORKS = {"legendre": LegendreMemory, "oscillators": OscillatorMemory}


def memory_network(kind):
    """The network class of a memory kind: `LegendreMemory` or `OscillatorMemory`."""
    return MEMORY_NETWORKS[check_choice("memory_kind", kind, MEMORY_KINDS)]


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
        return np.asarray(dist.sample(n, rng=rng), dtype=float).reshape(n)
    return np.broadcast_to(np.asarray(dist, dtype=float), (n,)).copy()


# -- checks and seeds -----------------------------------------------------------


def network_seed(seed, add_to_container=None, name="seed"):
    """The seed of a network being constructed: ``seed``, or one derived from
    the seed of the network it joins.

    nengo derives the seeds of a network's children from its seed when it
    builds the model; networks of this package that sample at construction
    (`LegendreMemory`'s tuning, the initial weights of `nengo_lmu.lmu.LMU`)
    need theirs earlier. With ``seed=None``, a network that joins the
    enclosing network (``add_to_container`` None or True inside a ``with``
    block) gets ``numpy.random.SeedSequence(ancestor.seed,
    spawn_key=path).generate_state(1)[0]``, where ``ancestor`` is the
    innermost enclosing network that has a seed and ``path`` the positions,
    from ``ancestor`` down, of each enclosing network among its parent's
    networks and of the new network among the networks already in its
    parent. The same model code therefore gives the same seeds, and two
    networks in one parent different ones.

    Parameters
    ----------
    seed : int or None
        The seed asked for (checked with `nengo_lmu.validation.check_seed`).
    add_to_container : bool or None
        As given to `nengo.Network`: False means the network joins no parent.
    name : str
        The argument's name, for the message.

    Returns
    -------
    int or None
        None without a seeded network around it (nengo then draws seeds anew).
    """
    seed = check_seed(name, seed, allow_none=True)
    context = nengo.Network.context
    if seed is not None or add_to_container is False or len(context) == 0:
        return seed
    parent = context[-1]
    path = [len(parent.networks)]  # where the new network will be
    for i in range(len(context) - 1, -1, -1):
        net = context[i]
        if getattr(net, "seed", None) is not None:
            sequence = np.random.SeedSequence(int(net.seed) % 2**32,
                                              spawn_key=tuple(reversed(path)))
            return int(sequence.generate_state(1, dtype=np.uint32)[0])
        if i > 0:
            siblings = getattr(context[i - 1], "networks", [])
            path.append(next((k for k, other in enumerate(siblings) if other is net),
                             len(siblings)))
    return None


def _value_range(name, dist, n):
    """``(low, high, high_reached)``: the smallest and largest values that
    ``dist`` (a distribution or numbers) gives ``n`` neurons, and whether the
    largest can be drawn (a `~nengo.dists.Uniform` never draws ``high``)."""
    if isinstance(dist, nengo.dists.Uniform):
        low, high = sorted((float(dist.low), float(dist.high)))
        return low, high, dist.low == dist.high
    if isinstance(dist, nengo.dists.Choice):
        values = np.asarray(dist.options, dtype=float).ravel()
    elif isinstance(dist, nengo.dists.Distribution):
        # anything else: what it draws, from a throwaway generator
        values = np.asarray(dist.sample(n, rng=np.random.RandomState(0)), dtype=float).ravel()
    else:
        try:
            values = np.asarray(dist, dtype=float)
        except (TypeError, ValueError):
            values = None
        if values is None or values.ndim > 1 or values.size not in (1, n):
            raise ValueError(
                f"{name} must be a nengo Distribution, a number or {n} numbers "
                f"(one per neuron of an ensemble), got {dist!r}")
    if values.size == 0:
        raise ValueError(f"{name} gives no values, got {dist!r}")
    if not np.all(np.isfinite(values)):
        return np.nan, np.nan, True
    return float(values.min()), float(values.max()), True


def check_tuning(max_rates, intercepts, neuron_type, dt, n):
    """Refuse tuning that gives dead neurons or rates no neuron can reach.

    ``max_rates`` must be finite and ``> 0``; ``intercepts`` must lie in
    ``[-1, 1)`` (an intercept of 1 or more gives a negative or infinite
    gain, a dead neuron); both are checked by their parameters
    (`~nengo.dists.Uniform`, `~nengo.dists.Choice`), as numbers, or, for
    other distributions, on ``n`` samples from a throwaway generator. Rates
    above ``1 / dt`` raise for neuron types that spike at most once per step
    (`ONE_SPIKE_PER_STEP`) and warn for other spiking types (nengo gives
    those several spikes per step, Loihi does not). Finally the neuron
    type's own ``gain_bias`` must give finite positive gains (nengo's checks,
    e.g. LIF rates below ``1 / tau_ref``).

    Raises
    ------
    ValueError
        Naming the argument, what is accepted and the value.
    """
    low, high, _ = _value_range("max_rates", max_rates, n)
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0:
        raise ValueError(
            f"max_rates must be finite and > 0 (Hz), got {max_rates!r}"
            + _values_note(max_rates, low, high))
    ilow, ihigh, ihigh_reached = _value_range("intercepts", intercepts, n)
    if not (np.isfinite(ilow) and np.isfinite(ihigh)) or ilow < -1 or ihigh > 1 or (
            ihigh == 1 and ihigh_reached):
        raise ValueError(
            "intercepts must lie in [-1, 1) (an intercept of 1 or more gives dead "
            f"neurons with negative gains), got {intercepts!r}"
            + _values_note(intercepts, ilow, ihigh))
    if high > 1 / dt and getattr(neuron_type, "spiking", False):
        kind = type(neuron_type).__name__
        if _spikes_at_most_once(neuron_type):
            raise ValueError(
                f"max_rates must be at most 1/dt = {1 / dt:g} Hz for {kind} neurons, "
                f"which spike at most once per step, got {max_rates!r}")
        warnings.warn(
            f"max_rates reach {high:g} Hz, above 1/dt = {1 / dt:g} Hz: nengo gives {kind} "
            "neurons several spikes per step, but on Loihi they spike at most once per "
            "step and their rates saturate at 1/dt", stacklevel=3)
    rng = np.random.RandomState(0)
    gain, _ = neuron_type.gain_bias(_sample(max_rates, n, rng), _sample(intercepts, n, rng))
    _check_gains(gain)


def _values_note(dist, low, high):
    """Where a distribution's values lie, for a message (nothing for numbers)."""
    if not isinstance(dist, nengo.dists.Distribution) or np.isnan(low):
        return ""
    return f" (values from {low:g} to {high:g})"


def _spikes_at_most_once(neuron_type):
    return any(cls.__name__ in ONE_SPIKE_PER_STEP for cls in type(neuron_type).__mro__)


def _check_gains(gain):
    if gain is not None and (not np.all(np.isfinite(gain)) or np.any(gain <= 0)):
        raise ValueError(
            "max_rates and intercepts give neurons with negative or non-finite gains "
            "(dead neurons); keep the intercepts below 1 and the rates positive")
