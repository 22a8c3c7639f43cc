"""A trained LMU classifier as a spiking network, for nengo and Loihi.

`SpikingLMUClassifier` takes the weights of a rate `LMUClassifier` (from
``params.npz``, from NengoDL, or from `nengo_lmu.from_keras`) and builds the
same classifier with spiking hidden neurons, for `nengo.Simulator` and
`nengo_loihi.Simulator` (the Loihi emulator here, the chip where one is
attached). Only feed-forward LMUs (no hidden recurrence, no memory feedback:
the configuration the parallel path trains) are supported.

**Rate to spiking.** Each rate type maps to its spiking counterpart
(`nengo_lmu.neurons`). For rectified-linear neurons the rates are scaled
up, which changes nothing in the rate model because ReLU is homogeneous: the
hidden neurons get gain ``alpha``, bias ``alpha * b`` and output amplitude
``1 / alpha``, with ``alpha`` chosen on calibration sequences so that the
99th percentile of the active neurons' rates is ``max_rate``.

**Readout** (`nengo_lmu.readout.ReadoutScheme`): each sequence is followed
by ``hold_steps`` steps and the logits are ``W_out`` times the hidden
neurons' spike rates over the last ``window`` of them, plus ``b_out``.

- ``memory="exact"``: the memory runs off chip, exactly, in closed form;
  the chip receives ``m_T`` for the ``hold_steps`` of each sequence, each
  dimension scaled into Loihi's input range [-1, 1] by its calibration
  maximum (undone in the on-chip weights). ``hold_steps`` chip steps per
  sequence.
- ``memory="spiking"``: the memory runs on chip as a spiking
  `LegendreMemory` (principle 3, discrete mapping, ``memory_neurons`` per
  state variable of Loihi's neuron model, radii from calibration), one
  sequence element per ``dt``, then ``hold_steps`` steps of zero input.
  ``T + hold_steps`` chip steps per sequence; sequences run back to back
  (nengo_loihi 1.1 cannot reset a simulator), so train the classifier for
  this readout (``readout="hold"`` or ``"spiking"`` of
  `nengo_lmu.training.train`).

`SpikingLMUClassifier.memory_states` simulates the classifier's spiking
memory on many sequences at once (`nengo_lmu.memory_simulation`, as
`nengo.Simulator` runs it), which makes training against the memory the chip
holds affordable (`nengo_lmu.tasks.finetune.finetune_psmnist`). The
deployment defaults are `nengo_lmu.model_dir.SpikingSettings`. What the
spiking memory costs on Loihi and why, with the measurements, is in
``docs/spiking_memory.md``.
"""

import warnings

import nengo
import numpy as np

from nengo_lmu._deprecated import moved_attributes
from nengo_lmu.backends import make_simulator, run_with_progress
from nengo_lmu.lmu import build_classifier
from nengo_lmu.memory_simulation import simulate_memory
from nengo_lmu.model_dir import SpikingSettings
from nengo_lmu.networks import memory_network, network_seed
from nengo_lmu.neurons import (
    HOMOGENEOUS,
    SPIKING_COUNTERPARTS,
    check_spiking_counterpart,
    chip_neuron_type,
    loihi_memory_neuron,
    spiking_neuron_type,
)
from nengo_lmu.readout import (
    ReadoutScheme,
    feedforward_logits,
    hidden_rates,
    hold_stream,
    stream_rate_logits,
)
from nengo_lmu.systems import memory_system
from nengo_lmu.validation import check_choice

MEMORY_MODES = ("exact", "spiking")

#: Intercepts of the spiking memory's neurons. Near zero, so that their biases
#: stay small: nengo_loihi gives each core one weight exponent, lowered until
#: the biases fit, and large biases (wide intercepts at high rates) cost the
#: recurrent weights bits (see `nengo_lmu.loihi.quantization_report`).
MEMORY_INTERCEPTS = nengo.dists.Uniform(-0.2, 0.2)


def spiking_memory(theta, order, radius, n_neurons, max_rate, synapse=0.1, dt=0.001,
                   neuron_type=None, intercepts=MEMORY_INTERCEPTS, seed=None, label=None,
                   memory_kind="legendre", copies=1):
    """The spiking memory that `SpikingLMUClassifier` puts on chip.

    A `LegendreMemory`, or with ``memory_kind="oscillators"`` an
    `nengo_lmu.networks.OscillatorMemory` (one ensemble of ``2 *
    n_neurons`` per oscillator, recurrent weights within each block only):
    ``n_neurons`` `~nengo.SpikingRectifiedLinear` neurons per state variable
    (or ``neuron_type``) in each of ``copies`` independent copies, averaged,
    maximum rates uniform in ``[0.8, 1] * max_rate``,
    ``intercepts`` (`MEMORY_INTERCEPTS`), radii ``radius`` (one per state
    variable), input filtered on chip (``loihi_input=True``; on the other
    backends `nengo_lmu.make_simulator` filters it on the host), built for
    the chip without ``loihi_calibration`` (it made this memory worse:
    `LegendreMemory`).
    """
    return memory_network(memory_kind)(
        theta, order, n_neurons=n_neurons, copies=copies, synapse=synapse, dt=dt,
        radius=radius,
        neuron_type=neuron_type or nengo.SpikingRectifiedLinear(),
        max_rates=nengo.dists.Uniform(0.8 * max_rate, max_rate),
        intercepts=intercepts, loihi_input=True, loihi_calibration=False, seed=seed,
        label=label,
    )


def memory_radius(m):
    """Radii of a spiking memory for final states ``m`` (n, order) of
    calibration sequences: each dimension's largest ``|m|`` (at least 1e-6)."""
    return np.maximum(np.abs(m).max(axis=0), 1e-6)


def check_sequences_arg(name, x, n_steps=None):
    """``x`` as float64 sequences ``(n >= 1, T, 1)``, or a `ValueError` naming ``name``.

    Refused: integer (e.g. uint8 pixels, which would drive the network 255
    times too hard) and other non-float arrays, other shapes, NaN and inf,
    and, with ``n_steps``, another number of steps per sequence.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise ValueError(
            f"{name} must be a float array, got dtype {x.dtype}: scale 8-bit pixels "
            f"to [0, 1] first (e.g. {name} / 255)")
    if x.ndim != 3 or x.shape[2] != 1 or len(x) < 1:
        raise ValueError(f"{name} must have shape (n >= 1, T, 1), got {x.shape}")
    n_bad = x.size - int(np.count_nonzero(np.isfinite(x)))
    if n_bad:
        raise ValueError(f"{name} contains NaN or inf ({n_bad} of {x.size} values)")
    if n_steps is not None and x.shape[1] != n_steps:
        raise ValueError(f"{name} must have {n_steps} steps per sequence, got {x.shape[1]}")
    return x.astype(np.float64)


def _check_config(config):
    if not hasattr(config, "get"):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    for flag in ("hidden_to_memory", "memory_to_memory", "hidden_recurrent"):
        if config.get(flag):
            raise ValueError(
                f"a spiking LMU classifier needs a feed-forward LMU; this model has "
                f"{flag}=True (train it with the parallel method's configuration)"
            )
    if config.get("input_d", 1) != 1 or config.get("memory_d", 1) != 1:
        raise ValueError("a spiking LMU classifier supports input_d = memory_d = 1")


class SpikingLMUClassifier(nengo.Network):
    """A trained feed-forward `LMUClassifier` with spiking hidden neurons.

    Parameters
    ----------
    config : dict
        The classifier's configuration (``n_classes``, ``units``, ``order``,
        ``theta``, ``hidden_neuron_type`` as a name, ...), as in a model
        directory's ``config.json``.
    params : dict
        Its trained weights (``e_x``, ``W_m``, ``bias``, ``W_out``,
        ``b_out``; ``W_x`` with ``input_to_hidden``).
    calibration_x : ndarray, shape ``(n, theta, 1)``
        Float sequences (e.g. validation data, pixels scaled to [0, 1]) that
        set the rate scale, the input scales and the memory radii; never the
        test data. Each must be as long as the model's memory window,
        ``theta`` steps (784 for psMNIST): the classifier runs sequences of
        that length.
    memory : {"exact", "spiking"}
        Where the memory runs: exactly off chip, or spiking on chip.
    max_rate : float
        Rate (Hz) of the 99th percentile of active hidden neurons on the
        calibration data, for rectified-linear types.
    hold_steps : int
        Steps each sequence's final memory state is held (exact) or the
        input is zero (spiking) after the sequence.
    window : int
        The last ``window`` of the ``hold_steps`` over which spikes are
        averaged (at most ``hold_steps``).
    memory_neurons : int
        Neurons per memory state variable, with ``memory="spiking"``; Loihi's
        neuron model (`loihi_memory_neuron`) on every backend.
    memory_copies : int
        Independent copies of the spiking memory, averaged into what the
        hidden layer reads (`nengo_lmu.networks.LegendreMemory`'s
        ``copies``): each state variable's ensemble holds ``memory_copies *
        memory_neurons`` neurons, one core on Loihi whatever their number,
        and the copies' spike errors, largely particular to each, average
        out (docs/spiking_memory.md).
    memory_max_rate : float
        Highest firing rate (Hz) of the spiking memory's neurons; their
        maximum rates are drawn uniformly from ``[0.8, 1] * memory_max_rate``.
        A spiking neuron answers a change of its input only at its next
        spike, and in the recurrent memory that lag becomes error: slow
        neurons (100 Hz) make the memory on Loihi useless, hundreds of Hz
        keep the lag to a step or two; see docs/spiking_memory.md.
    memory_synapse : float
        Principle-3 synapse of the spiking memory (s).
    hidden_synapse : float
        Synapse from the spiking memory to the hidden layer (s).
    dt : float
        Simulator step (s); one sequence element per step.
    seed : int, optional
        Seed of the network and of its spiking memory's tuning, in ``0 ..
        2**32 - 1``. None inside a seeded network derives one from that
        network's seed (`nengo_lmu.networks.network_seed`).

    Raises
    ------
    ValueError
        Before anything is built: for a model that is not feed-forward, a
        bad setting or seed, ``calibration_x`` that is not float (uint8
        pixels: scale them to [0, 1]), holds NaN or inf, or whose sequences
        are not ``theta`` steps long, and params of the wrong shapes or with
        NaN or inf (`nengo_lmu.lmu.LMU.check_params`).
    """

    def __init__(self, config, params, calibration_x, memory="exact",
                 max_rate=SpikingSettings.max_rate, hold_steps=ReadoutScheme.hold_steps,
                 window=ReadoutScheme.window, memory_neurons=SpikingSettings.memory_neurons,
                 memory_copies=SpikingSettings.memory_copies,
                 memory_max_rate=SpikingSettings.memory_max_rate,
                 memory_synapse=SpikingSettings.memory_synapse,
                 hidden_synapse=SpikingSettings.hidden_synapse, dt=SpikingSettings.dt,
                 label=None, seed=None, add_to_container=None):
        # check everything before the network joins its parent or builds anything
        seed = network_seed(seed, add_to_container)
        _check_config(config)
        self.model_config = dict(config)
        self.memory_mode = check_choice("memory", memory, MEMORY_MODES)
        self.settings = SpikingSettings(
            max_rate=max_rate, memory_neurons=memory_neurons, memory_copies=memory_copies,
            memory_max_rate=memory_max_rate,
            memory_synapse=memory_synapse, hidden_synapse=hidden_synapse, dt=dt)
        self.scheme = ReadoutScheme(hold_steps, window)
        rate_type = check_spiking_counterpart(config.get("hidden_neuron_type",
                                                         "RectifiedLinear"))
        calibration_x = check_sequences_arg("calibration_x", calibration_x)
        if config.get("input_to_hidden"):
            raise ValueError("input_to_hidden is not supported by SpikingLMUClassifier")

        # the rate model's pieces, validated by building it (no simulation),
        # outside any model
        rate = build_classifier(config, params=params, method="parallel",
                                add_to_container=False)
        self.params = rate.get_params()
        self.n_classes, self.units = rate.n_classes, rate.lmu.units
        self.order, self.theta = rate.lmu.order, rate.lmu.theta
        if calibration_x.shape[1] != self.theta:
            raise ValueError(
                f"calibration_x must have theta = {self.theta:g} steps per sequence (the "
                "model's memory window, one sequence element per step), got "
                f"{calibration_x.shape[1]}")
        self.memory_kind = rate.lmu.memory_kind
        self.system = memory_system(self.memory_kind, self.theta, self.order)
        self.n_trainable = rate.n_trainable
        self._rate = rate

        # calibration: the memory's radii and the hidden neurons' rate scale
        self.n_steps = calibration_x.shape[1]
        m_cal = self.final_memory(calibration_x)
        self.m_scale = memory_radius(m_cal)
        act = self.rate_activities(m_cal)
        active = act[act > 0]
        ref = np.percentile(active, 99) if active.size else 1.0
        homogeneous = SPIKING_COUNTERPARTS[rate_type] in HOMOGENEOUS
        self.alpha = self.max_rate / ref if homogeneous else 1.0
        self.neuron_type = spiking_neuron_type(rate_type, amplitude=1.0 / self.alpha)

        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        self._build()

    # the settings, by name (`SpikingSettings`, `ReadoutScheme`)
    max_rate = property(lambda self: self.settings.max_rate)
    memory_neurons = property(lambda self: self.settings.memory_neurons)
    memory_copies = property(lambda self: self.settings.memory_copies)
    memory_max_rate = property(lambda self: self.settings.memory_max_rate)
    memory_synapse = property(lambda self: self.settings.memory_synapse)
    hidden_synapse = property(lambda self: self.settings.hidden_synapse)
    dt = property(lambda self: self.settings.dt)
    hold_steps = property(lambda self: self.scheme.hold_steps)
    window = property(lambda self: self.scheme.window)

    def _build(self):
        """The spiking network: input, memory (exact input node or spiking),
        hidden ensemble, probe."""
        p = self.params
        with self:
            self.input = nengo.Node(np.zeros(1), label="x")
            self.hidden = nengo.Ensemble(
                self.units, 1, neuron_type=self.neuron_type,
                gain=nengo.dists.Choice([self.alpha]), bias=self.alpha * p["bias"],
                label="h",
            )
            if self.memory_mode == "exact":
                self.memory = None
                self.memory_input = nengo.Node(np.zeros(self.order), label="m_T / scale")
                # the memory's output, rescaled on chip; connections into
                # neurons are multiplied by the gain alpha by every backend
                nengo.Connection(self.memory_input, self.hidden.neurons,
                                 transform=p["W_m"] * (p["e_x"][0, 0] * self.m_scale),
                                 synapse=None)
            else:
                self.memory_input = None
                self.memory = spiking_memory(
                    self.n_steps * self.dt, self.order, self.m_scale, self.memory_neurons,
                    self.memory_max_rate, synapse=self.memory_synapse, dt=self.dt, seed=self.seed,
                    neuron_type=loihi_memory_neuron(), memory_kind=self.memory_kind,
                    copies=self.memory_copies,
                )
                nengo.Connection(self.input, self.memory.input, synapse=None)
                nengo.Connection(self.memory.output, self.hidden.neurons,
                                 transform=p["W_m"] * p["e_x"][0, 0],
                                 synapse=self.hidden_synapse)
            self.probe = nengo.Probe(self.hidden.neurons, synapse=None)

    # -- the rate model, for calibration and comparison ---------------------

    def final_memory(self, x):
        """The exact final memory state ``m_T`` of sequences ``x``, before ``e_x``
        (which the weights into the hidden layer carry)."""
        return self._rate.lmu.closed_form_memory(x, params={"e_x": np.ones((1, 1))})

    def rate_activities(self, m):
        """The rate model's hidden activities for final memory states ``m``
        (`final_memory`, before ``e_x``)."""
        return hidden_rates(self.model_config, self.params, m * self.params["e_x"][0, 0])

    def memory_states(self, x, x_prev=None, progress_bar=True, batch_size=500, quantized=False,
                      dtype="float64"):
        """What the hidden layer reads from the spiking memory during the hold.

        Simulates this classifier's own spiking memory (`simulate_memory`:
        nengo's arithmetic with Loihi's neuron model, vectorised over the
        sequences) on the stream ``x_prev[i]``, ``hold_steps`` zeros,
        ``x[i]``, ``hold_steps`` zeros, as `run` presents sequences back to
        back, and returns its decoded output through ``hidden_synapse`` after
        each shift of `nengo_lmu.readout.hold_shifts`: the spiking
        counterpart of `nengo_lmu.readout.stream_memories`, and what
        ``readout="spiking"`` trains on (`nengo_lmu.training.train`).

        Parameters
        ----------
        x : ndarray, shape ``(n, T, 1)``
        x_prev : ndarray, shape ``(n, T, 1)``, optional
            The sequence before each one; by default the memory starts at rest.
        progress_bar : bool
        batch_size : int
            Sequences simulated together.
        quantized : bool
            With the recurrent weights Loihi stores (`simulate_memory`).
        dtype : {"float64", "float32"}
            The type of the memory's recurrent product (`simulate_memory`).

        Returns
        -------
        ndarray, shape ``(window + 1, n, order)``, float32
            Before ``e_x``, like `final_memory`.
        """
        if self.memory_mode != "spiking":
            raise ValueError("memory_states needs memory='spiking'")
        if self.seed is None:
            raise ValueError(
                "memory_states needs a seeded classifier (seed=...): without a seed, "
                "every build draws the memory's decoders anew"
            )
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[1:] != (self.n_steps, 1):
            raise ValueError(f"x must have shape (n, {self.n_steps}, 1), got {x.shape}")
        x = check_sequences_arg("x", x, self.n_steps)
        if x_prev is not None:
            x_prev = check_sequences_arg("x_prev", x_prev, self.n_steps)
        stream = hold_stream(x, self.hold_steps, self.hold_steps, x_prev=x_prev)
        last = stream.shape[1] - self.hold_steps - 1  # the last element of x
        steps = last + self.scheme.shifts
        m = simulate_memory(self.memory, stream, synapse=self.hidden_synapse, steps=steps,
                            batch_size=batch_size, progress_bar=progress_bar,
                            quantized=quantized, dtype=dtype)
        return m.transpose(1, 0, 2).astype(np.float32)

    def simulate_readout(self, states, rng=None):
        """The readout of the hidden layer on chip for given memory states, simulated.

        Loihi's model of the hidden neurons (`chip_neuron_type`: reset to
        zero, at most one spike per step) driven by ``states``, one step per
        shift, from voltages drawn uniformly (where each neuron is in its
        inter-spike interval when the window opens), with spikes averaged
        over the last ``window`` steps as `run` reads them. Seconds for
        thousands of sequences, against seconds per sequence on the
        emulator: `nengo_lmu.tasks.finetune.finetune_psmnist` uses it to score the
        classifier with its spikes on validation data.

        Parameters
        ----------
        states : ndarray, shape ``(window + 1, n, order)``
            The memory as the hidden layer reads it (`memory_states`, before
            ``e_x``), at each shift of `nengo_lmu.readout.hold_shifts`.
        rng : `numpy.random.RandomState`, optional

        Returns
        -------
        logits : ndarray, shape ``(n, n_classes)``
        rates : ndarray, shape ``(n, units)``
            Mean rates over the window, times the neurons' amplitude (as `run`).
        """
        states = np.asarray(states, dtype=np.float64)
        if states.ndim != 3 or states.shape[0] != self.window + 1 or (
                states.shape[2] != self.order):
            raise ValueError(f"states must have shape (window + 1 = {self.window + 1}, n, "
                             f"order = {self.order}), got {states.shape}")
        rng = np.random.RandomState(0) if rng is None else rng
        p = self.params
        neuron = chip_neuron_type(self.neuron_type)
        n = states.shape[1]
        # connections into neurons are scaled by their gain alpha (see __init__)
        J = self.alpha * (states @ (p["W_m"] * p["e_x"][0, 0]).T + p["bias"])
        state = {k: np.tile(v, (n, 1)) for k, v in neuron.make_state(self.units, rng).items()}
        state["voltage"] = rng.uniform(0, 1, (n, self.units))
        spikes, rates = np.zeros((n, self.units)), np.zeros((n, self.units))
        for k, current in enumerate(J):
            neuron.step(self.dt, current, spikes, **state)
            if k > 0:  # the first shift covers the chip's one-step input delay
                rates += spikes
        rates /= self.window
        return rates @ p["W_out"].T + p["b_out"], rates

    @property
    def steps_per_sequence(self):
        """Chip steps one sequence costs."""
        return self.hold_steps + (self.n_steps if self.memory_mode == "spiking" else 0)

    # -- running --------------------------------------------------------------

    def set_inputs(self, x):
        """Make the input nodes present sequences ``x`` (n, T, 1), as `run` does."""
        n, T = x.shape[:2]
        if T != self.n_steps:
            raise ValueError(f"x must have {self.n_steps} steps per sequence, got {T}")
        if self.memory_mode == "exact":
            m = self.final_memory(x) / self.m_scale
            clipped = np.mean(np.abs(m) > 1)
            if clipped > 0.001:
                warnings.warn(
                    f"{clipped:.2%} of the memory values exceed the calibration range "
                    "and are clipped to Loihi's input range [-1, 1]"
                )
            self.memory_input.output = nengo.processes.PresentInput(
                np.clip(m, -1, 1), presentation_time=self.hold_steps * self.dt
            )
            self.input.output = np.zeros(1)
        else:
            stream = hold_stream(x, self.hold_steps, self.hold_steps)
            self.input.output = nengo.processes.PresentInput(
                stream.reshape(-1, 1), presentation_time=self.dt
            )

    def run(self, x, backend="loihi", progress_bar=True, seed=None):
        """Run sequences ``x`` (n, T, 1) back to back; return the logits (n, n_classes)
        and the mean hidden rates (n, units) over each readout window.

        ``x`` must be finite floats (pixels scaled to [0, 1], like the
        calibration images) of the calibration length; ``seed`` (the
        simulator's) in ``0 .. 2**32 - 1``. Both are checked before anything
        is built (`check_sequences_arg`, `nengo_lmu.make_simulator`).
        """
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != 1:
            raise ValueError(f"x must have shape (n, T, 1), got {x.shape}")
        x = check_sequences_arg("x", x)
        check_choice("backend", backend, ("nengo", "loihi"))
        self.set_inputs(x)
        steps = self.steps_per_sequence
        with make_simulator(self, backend, dt=self.dt, seed=seed,
                            progress_bar=False) as sim:
            run_with_progress(sim, len(x) * steps * self.dt, progress_bar=progress_bar)
            spikes = sim.data[self.probe]
        spikes = spikes[: len(x) * steps].reshape(len(x), steps, self.units)
        rates = spikes[:, -self.window:].mean(axis=1)  # spikes * amplitude / dt
        p = self.params
        return rates @ p["W_out"].T + p["b_out"], rates

    def rate_logits(self, x, scheme="exact"):
        """The rate model's logits for sequences ``x`` (n, T, 1), exact memory.

        ``scheme="exact"``: the trained network on the final memory ``m_T``.
        ``"stream"``: the rate model read as `run` reads the spiking one:
        ``x`` back to back (each sequence after the previous one and
        ``hold_steps`` zeros), logits averaged over the readout's shifts
        (`nengo_lmu.readout.hold_shifts`). With ``memory="spiking"`` the
        gap between these logits' accuracy and `run`'s is what the spikes
        cost; models trained with ``readout="hold"``
        (`nengo_lmu.training.train`) are trained for this scheme.
        """
        check_choice("scheme", scheme, ("exact", "stream"))
        if scheme == "stream":
            return stream_rate_logits(self._rate.lmu, self.model_config, self.params, x,
                                      self.hold_steps, self.window)
        return feedforward_logits(self.model_config, self.params,
                                  self._rate.lmu.closed_form_memory(x))


# names that moved out of this module in 0.2
__getattr__ = moved_attributes(__name__, {
    **dict.fromkeys(("SPIKING_COUNTERPARTS", "spiking_neuron_type", "chip_neuron_type",
                     "loihi_memory_neuron"), "nengo_lmu.neurons"),
    # simulate_memory moved there too, and stays importable from here (imported above)
    "memory_weights": "nengo_lmu.memory_simulation",
})
