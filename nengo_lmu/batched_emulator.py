"""nengo_loihi's emulator for many input streams at once (`BatchedEmulator`).

nengo_loihi's emulator spends its step in Python work per spike: every
spike of the host's input neurons and of the chip's neurons is delivered by
a loop that builds a spike object, looks up its axon's row of weights and
adds it (``SynapseState.update_input``), about 4 us per delivered spike,
with the compartments themselves vectorized over all blocks. B copies of a
network in one model share none of that (B times the spikes), so
`BatchedEmulator` runs the model nengo_loihi builds, once, for many streams
side by side: the same discretized blocks, weights, thresholds and decays
and nengo_loihi's own integer arithmetic (``nengo_loihi.builder.discretize``)
with a batch axis, the spike delivery as one product of the step's spikes
with the chip's integer weights (exact: integer sums below 2**24 in
float32, below 2**53 in float64), the host's input neurons stepped by their
own neuron type. It reproduces nengo_loihi's emulator bit for bit
(``tests/test_batching.py`` compares spikes with `nengo_loihi.Simulator`).
`nengo_lmu.batching.run_batched` schedules a classifier's images on it.

This module imports nengo_loihi only when a `BatchedEmulator` is built
(nengo_loihi 1.1 itself imports NengoDL, and with it TensorFlow, when they
are installed).
"""

import warnings

import nengo
import numpy as np

from nengo_lmu.backends import make_simulator
from nengo_lmu.validation import check_integer

#: Sums of integer weights are exact below these in float32 and float64 (every
#: partial sum of the spike delivery is an integer no larger than a column's
#: sum of absolute weights, whatever the order of the additions).
_EXACT_SUMS = ((np.float32, 2.0**24), (np.float64, 2.0**53))


class BatchedEmulator:
    """nengo_loihi's model of a network, emulated for many input streams at once.

    Builds ``network`` with `nengo_lmu.make_simulator` (``backend="loihi"``,
    its emulator target, inputs precomputed on the host), reads the
    discretized model, and steps it for a batch of streams: the host's input
    encoding (the on/off neurons nengo_loihi puts on the host for each
    connection from a node to the chip) with their own neuron type, the
    chip's one-step input delay, the spike delivery as a product of the
    step's spikes with the integer weights, and the compartments with
    nengo_loihi's integer arithmetic (`nengo_loihi.builder.discretize`),
    exactly as `nengo_loihi.emulator.EmulatorInterface` steps one stream.

    Supported: discretized models (the emulator's default) without learning,
    noise, or connections from the chip back to the host; inputs from nodes
    (through pass-through nodes) with scalar transforms, no synapse on the
    host and no function; probes of on-chip neurons' spikes without a
    synapse. Anything else raises `NotImplementedError` when it is built.

    Parameters
    ----------
    network : `nengo.Network`
    inputs : list of `nengo.Node`
        The nodes whose values `run` takes, one array per node and stream.
        Every node that feeds the chip must be one of them or a pass-through
        node fed by one.
    probes : list of `nengo.Probe`
        Probes of on-chip neurons (``"output"``, no synapse) that `run` records.
    dt : float
        Simulator step (s).

    Attributes
    ----------
    n_compartments : int
        Compartments on the chip.
    spike_value : dict
        ``{probe: ndarray}``: what `nengo_loihi.Simulator` records per spike
        of each probed neuron (``amplitude / dt`` for neurons' spikes).
    """

    def __init__(self, network, inputs, probes, dt=0.001):
        self.dt = float(dt)
        self.inputs = list(inputs)
        self.probes = list(probes)
        for node in self.inputs:
            if not isinstance(node, nengo.Node):
                raise ValueError(f"inputs must be nengo.Node objects, got {node!r}")
        for probe in self.probes:
            if not isinstance(probe, nengo.Probe):
                raise ValueError(f"probes must be nengo.Probe objects, got {probe!r}")
        self._offsets = np.concatenate(
            [[0], np.cumsum([node.size_out for node in self.inputs])]).astype(int)
        with make_simulator(network, "loihi", dt=self.dt, target="sim") as sim:
            self._read_chip(sim)
            self._read_probes(sim)
            self._read_host(sim)
        self._state = None

    # -- reading nengo_loihi's model -------------------------------------------

    def _read_chip(self, sim):
        model, emu = sim.model, sim.sims["emulator"]
        if model.chip2host_receivers or model.host2chip_pes_senders:
            raise NotImplementedError(
                "BatchedEmulator supports networks without connections from the chip "
                "to the host and without learning")
        info = emu.block_info
        if info.dtype != np.int32:
            raise NotImplementedError("BatchedEmulator emulates discretized models only")
        comp = emu.compartment
        if np.any(comp.noise.enabled):
            raise NotImplementedError("BatchedEmulator does not emulate compartment noise")
        if any(syn.learning for syn in emu.synapses.slices):
            raise NotImplementedError("BatchedEmulator does not emulate learning synapses")
        if not (np.all(comp.scale_u == 1) and np.all(comp.scale_v == 1)):
            raise NotImplementedError("BatchedEmulator needs unscaled integer decays")
        self.n_compartments = n = info.n_compartments
        self._block_slices = dict(info.slices)
        self._p = {k: getattr(comp, k).copy()
                   for k in ("decay_u", "decay_v", "vth", "vmin", "vmax", "bias", "ref")}
        # the voltage decay is the identity where it is 0 (non-leaky neurons)
        self._decay_v = bool(np.any(self._p["decay_v"] != 0))

        # one row of target weights per source: host input neurons, then compartments
        self._input_offset = {}
        n_in = 0
        for spike_input in emu.inputs:
            self._input_offset[spike_input] = n_in
            n_in += spike_input.n_neurons
        w_in = np.zeros((n_in, n), dtype=np.int64)
        for spike_input in emu.inputs:
            start = self._input_offset[spike_input]
            for axon in spike_input.axons:
                _add_axon_rows(w_in[start:start + spike_input.n_neurons], axon, emu)
        w_ax = np.zeros((n, n), dtype=np.int64)
        for axon, rows in emu.axons.items():
            _add_axon_rows(w_ax[rows], axon, emu)
        self._sources = np.flatnonzero(np.any(w_ax != 0, axis=1))
        weights = np.concatenate([w_in, w_ax[self._sources]])
        largest = np.abs(weights).sum(axis=0).max() if weights.size else 0
        dtypes = [dtype for dtype, limit in _EXACT_SUMS if largest < limit]
        if not dtypes:
            raise NotImplementedError("the chip's weights are too large to sum exactly")
        self._targets = np.flatnonzero(np.any(weights != 0, axis=0))
        # float32 where exact: half the cost of the product
        self._weights = np.ascontiguousarray(weights[:, self._targets], dtype=dtypes[0])
        self.n_inputs = n_in
        self._spike_inputs = emu.inputs

    def _read_probes(self, sim):
        model = sim.model
        self._probe_idx, self.spike_value = {}, {}
        for probe in self.probes:
            try:
                loihi_probe = model.objs[probe]["out"]
            except KeyError:
                raise ValueError(f"{probe} is not a probe on the chip") from None
            if loihi_probe.key != "spiked" or loihi_probe.synapse is not None:
                raise NotImplementedError(
                    f"{probe}: BatchedEmulator records spikes of on-chip neurons without a "
                    "synapse only")
            idx, value = [], []
            for k, block in enumerate(loihi_probe.target):
                rows = np.arange(self.n_compartments)[self._block_slices[block]]
                rows = rows[loihi_probe.slice[k]]
                w = loihi_probe.weights[k]
                if w is not None and np.ndim(w) != 0:
                    raise NotImplementedError(f"{probe}: transformed probes are not supported")
                idx.append(rows)
                # nengo_loihi records ``spiked.dot(w)``: w per spike
                value.append(np.full(len(rows), 1.0 if w is None else np.float64(w)))
            idx, value = np.concatenate(idx), np.concatenate(value)
            if loihi_probe.reindexing is not None:
                idx, value = idx[loihi_probe.reindexing], value[loihi_probe.reindexing]
            self._probe_idx[probe], self.spike_value[probe] = idx, value

    def _read_host(self, sim):
        """The host's input neurons: what each one reads, its tuning and state."""
        from nengo_loihi.builder.inputs import (  # pylint: disable=import-outside-toplevel
            ChipReceiveNeurons,
        )

        model, host = sim.model, sim.sims.get("host_pre")
        into = {}
        for obj in (model.host_pre.params if host is not None else ()):
            if isinstance(obj, nengo.Connection):
                into.setdefault(obj.post_obj, []).append(obj)
        groups = {}
        for sender, receiver in model.host2chip_senders.items():
            if isinstance(receiver, ChipReceiveNeurons):
                raise NotImplementedError("BatchedEmulator does not support host neurons "
                                          "connected to chip neurons")
            spike_input = model.spike_targets[receiver]
            (to_send,) = into[sender]
            ens = to_send.pre_obj.ensemble
            if (to_send.synapse is not None or to_send.pre_slice != slice(None)
                    or to_send.post_slice != slice(None) or _scalar(to_send) == 0):
                raise NotImplementedError(f"unexpected host connection {to_send}")
            if into.get(ens.neurons) or len(into.get(ens, ())) != 1:
                raise NotImplementedError(f"{ens} must have one input connection")
            (conn,) = into[ens]
            _check_host_connection(conn)
            cols = self._columns(conn.pre_obj, into)[conn.pre_slice]
            built = host.data[ens]
            enc = np.asarray(built.scaled_encoders)
            if np.any(np.count_nonzero(enc, axis=1) > 1):
                raise NotImplementedError(f"{ens}: host encoders must be one-hot")
            dim = np.argmax(np.abs(enc), axis=1)
            sig = model.host_pre.sig[ens.neurons]
            state = {k: np.broadcast_to(sig[k].initial_value, (ens.n_neurons,)).astype(float)
                     for k in ens.neuron_type.state}
            key = repr(ens.neuron_type)
            group = groups.setdefault(key, {"neuron_type": ens.neuron_type, "cols": [],
                                            "scale": [], "enc": [], "bias": [], "state": {},
                                            "targets": []})
            group["cols"].append(cols[dim])
            group["scale"].append(np.full(ens.n_neurons, _scalar(conn)))
            group["enc"].append(enc[np.arange(ens.n_neurons), dim])
            group["bias"].append(np.asarray(built.bias, dtype=float))
            for k, v in state.items():
                group["state"].setdefault(k, []).append(v)
            group["targets"].append(self._input_offset[spike_input] + np.arange(ens.n_neurons))
        self._host = []
        for group in groups.values():
            self._host.append({
                "neuron_type": group["neuron_type"],
                **{k: np.concatenate(group[k]) for k in ("cols", "scale", "enc", "bias",
                                                         "targets")},
                "state": {k: np.concatenate(v) for k, v in group["state"].items()},
            })

    def _columns(self, obj, into):
        """Columns of the concatenated input values that ``obj``'s output is."""
        if obj in self.inputs:
            k = self.inputs.index(obj)
            return np.arange(self._offsets[k], self._offsets[k + 1])
        if isinstance(obj, nengo.Node) and obj.output is None and len(into.get(obj, ())) == 1:
            (conn,) = into[obj]
            _check_host_connection(conn)
            if _scalar(conn) != 1.0 or conn.post_slice != slice(None):
                raise NotImplementedError(f"unexpected pass-through connection {conn}")
            return self._columns(conn.pre_obj, into)[conn.pre_slice]
        raise ValueError(f"{obj} feeds the chip but is not one of the inputs (nor a "
                         "pass-through node with one input connection from one)")

    # -- running ------------------------------------------------------------

    def reset(self, n_streams):
        """Put ``n_streams`` streams at rest: chip and host as a new simulator has them."""
        n = self.n_compartments
        self._state = {
            "n": n_streams,
            "current": np.zeros((n_streams, n), dtype=np.int32),
            "voltage": np.zeros((n_streams, n), dtype=np.int32),
            "ref_count": np.zeros((n_streams, n), dtype=np.int32),
            "spiked": np.zeros((n_streams, n), dtype=bool),
            "in_spikes": np.zeros((n_streams, self.n_inputs), dtype=bool),
            "host": [{k: np.tile(v, (n_streams, 1)) for k, v in g["state"].items()}
                     for g in self._host],
        }

    def run(self, values, n_steps, record=None, reset=True):
        """Run ``n_steps`` steps of every stream.

        Parameters
        ----------
        values : dict
            ``{node: ndarray (n_streams, n_steps, node.size_out)}`` for every
            node of ``inputs``: the value each node outputs at each step.
        n_steps : int
        record : array of int, optional
            Steps (0-based, of this call) whose spikes are returned; all by default.
        reset : bool
            Start every stream at rest (`reset`); otherwise continue from
            where the previous call left each stream (same number of streams).

        Returns
        -------
        dict
            ``{probe: ndarray (n_streams, len(record), n_neurons) of bool}``.
        """
        n_steps = check_integer("n_steps", n_steps)
        arrays = []
        for node in self.inputs:
            if node not in values:
                raise ValueError(f"values has no entry for {node}")
            v = np.asarray(values[node], dtype=np.float64)
            if v.ndim != 3 or v.shape[1:] != (n_steps, node.size_out):
                raise ValueError(f"values of {node} must have shape (n_streams, {n_steps}, "
                                 f"{node.size_out}), got {v.shape}")
            arrays.append(v)
        n_streams = arrays[0].shape[0] if arrays else 1
        if any(len(v) != n_streams for v in arrays):
            raise ValueError("values must hold the same number of streams for every node")
        x = np.concatenate(arrays, axis=2) if arrays else np.zeros((n_streams, n_steps, 0))
        record = np.arange(n_steps) if record is None else np.asarray(record, dtype=int)
        if record.ndim != 1 or np.any((record < 0) | (record >= n_steps)):
            raise ValueError(f"record must be steps in 0..{n_steps - 1}")
        which = np.full(n_steps, -1)
        which[record] = np.arange(len(record))
        if reset or self._state is None:
            self.reset(n_streams)
        elif self._state["n"] != n_streams:
            raise ValueError(f"the streams continue with {self._state['n']} streams, "
                             f"got {n_streams}")
        out = {p: np.zeros((n_streams, len(record), len(idx)), dtype=bool)
               for p, idx in self._probe_idx.items()}
        st = self._state
        sources = np.zeros((n_streams, self.n_inputs + len(self._sources)),
                           dtype=self._weights.dtype)
        for t in range(n_steps):
            # the chip's step t + 1 receives the host's spikes of step t (input delay)
            sources[:, :self.n_inputs] = st["in_spikes"]
            sources[:, self.n_inputs:] = st["spiked"][:, self._sources]
            self._chip_step(st, sources @ self._weights)
            if which[t] >= 0:
                for probe, idx in self._probe_idx.items():
                    out[probe][:, which[t]] = st["spiked"][:, idx]
            self._host_step(st, x[:, t])
        return out

    def _host_step(self, st, x):
        spikes = st["in_spikes"]
        for group, state in zip(self._host, st["host"]):
            # as nengo computes it: bias + encoder * (transform * value)
            J = group["bias"] + group["enc"] * (group["scale"] * x[:, group["cols"]])
            output = np.zeros_like(J)
            group["neuron_type"].step(self.dt, J, output, **state)
            spikes[:, group["targets"]] = output != 0

    def _chip_step(self, st, delivered):
        """`nengo_loihi.emulator.interface.CompartmentState.update`, batched
        (no noise): the same integer operations, in the same order."""
        from nengo_loihi.builder.discretize import (  # pylint: disable=import-outside-toplevel
            Q_BITS,
            U_BITS,
            decay_int,
        )

        p = self._p
        q0 = np.zeros((st["n"], self.n_compartments), dtype=np.int32)
        # integer-valued float sums, exact; int32 wraps as the emulator's adds do
        q0[:, self._targets] = delivered.astype(np.int64).astype(np.int32)
        _overflow(q0, Q_BITS, "q0")
        current = st["current"]
        current[:] = decay_int(current, p["decay_u"], offset=1) + q0
        _overflow(current, U_BITS, "current")
        u2 = current + p["bias"]
        _overflow(u2, U_BITS, "u2")
        voltage = st["voltage"]
        voltage[:] = (decay_int(voltage, p["decay_v"]) if self._decay_v else voltage) + u2
        np.clip(voltage, p["vmin"], p["vmax"], out=voltage)
        ref_count, spiked = st["ref_count"], st["spiked"]
        voltage[ref_count > 0] = 0
        np.greater(voltage, p["vth"], out=spiked)
        voltage[spiked] = 0
        np.copyto(ref_count, np.broadcast_to(p["ref"], ref_count.shape), where=spiked)
        np.clip(ref_count - 1, 0, None, out=ref_count)


def _add_axon_rows(rows, axon, emu):
    """Add to ``rows`` (one per source compartment of ``axon``) the weights each
    source's spike adds to the compartments of the axon's target block, as
    `nengo_loihi.emulator.interface.SynapseState.update_input` adds them."""
    synapse = axon.target
    target = emu.synapses.slices[synapse]
    block = np.zeros((len(rows), target.stop - target.start), dtype=np.int64)
    for c, spike in enumerate(axon.map_spikes(np.arange(len(rows)))):
        if spike is None:
            continue
        base = synapse.axon_compartment_base(spike.axon_idx)
        if base is None:
            continue
        weights, indices = synapse.axon_weights_indices(spike.axon_idx, atom=spike.atom)
        block[c, base + indices] += weights  # repeated indices: as the emulator adds them
    rows[:, target] += block


def _overflow(x, bits, name):
    """nengo_loihi's overflow of ``x`` (in place) to ``bits`` bits plus sign, with
    its warning; values in range are left as they are (``overflow_signed`` is
    the identity on them), which two reductions check."""
    from nengo_loihi.builder.discretize import (  # pylint: disable=import-outside-toplevel
        overflow_signed,
    )

    limit = 1 << bits
    if x.size == 0 or (x.max() < limit and x.min() >= -limit):
        return
    _, overflowed = overflow_signed(x, bits=bits, out=x)
    if np.any(overflowed):
        warnings.warn(f"Overflow in {name}")


def _scalar(conn):
    """A connection's transform as a float, or `NotImplementedError`."""
    transform = conn.transform
    if isinstance(transform, nengo.transforms.NoTransform):
        return 1.0
    if isinstance(transform, nengo.transforms.Dense) and np.ndim(transform.init) == 0:
        return float(transform.init)
    raise NotImplementedError(f"{conn}: only scalar transforms on the host are supported")


def _check_host_connection(conn):
    if conn.synapse is not None or conn.function is not None:
        raise NotImplementedError(
            f"{conn}: connections from nodes to the chip must have no synapse and no "
            "function for BatchedEmulator")
    _scalar(conn)
