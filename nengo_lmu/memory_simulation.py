"""A spiking memory simulated on many input sequences at once.

`simulate_memory` runs a spiking `nengo_lmu.networks.LegendreMemory` as
`nengo.Simulator` does, vectorised over thousands of input streams: the
neuron-level weights, biases and initial states come from nengo's own build
(`memory_weights`, optionally with the recurrent weights Loihi stores), every
step calls the neuron type's own ``step`` and nengo's lowpass filters in
nengo's order, and the result equals `nengo.Simulator`'s to rounding (tested
in ``tests/test_spiking.py``). About a hundred times faster per stream than
nengo for a few hundred streams, it makes training a classifier against the
memory the chip holds affordable
(`nengo_lmu.spiking.SpikingLMUClassifier.memory_states`,
`nengo_lmu.tasks.finetune.finetune_psmnist`).

Backend glue: imports `nengo_lmu.backends` (`make_simulator`), and
`nengo_lmu.loihi` only inside `memory_weights` with ``quantized=True``.
"""

import nengo
import numpy as np
import scipy.sparse
from nengo.utils.progress import Progress, ProgressTracker

from nengo_lmu.backends import make_simulator
from nengo_lmu.validation import check_choice, check_integer


def _lowpass_decay(synapse, dt, what):
    """``exp(-dt / tau)`` of a `nengo.Lowpass` (0 for ``None``: no filter)."""
    if synapse is None:
        return 0.0
    if isinstance(synapse, (int, float)):
        synapse = nengo.Lowpass(synapse)
    if type(synapse) is not nengo.Lowpass:  # pylint: disable=unidiomatic-typecheck
        raise ValueError(f"{what} must be a nengo.Lowpass or None, got {synapse!r}")
    return float(np.exp(-dt / synapse.tau))


def memory_weights(memory, quantized=False):
    """The neuron-level weights of a spiking `LegendreMemory`, from nengo's build.

    With ``quantized``, the recurrent weights are those Loihi stores:
    nengo_loihi's discretization of them (`nengo_lmu.loihi.chip_weights`).
    The memory sums many small weights over hundreds of steps, so their
    rounding matters (see docs/spiking_memory.md).

    Returns a dict: ``W`` (N, N) recurrent neuron-to-neuron weights
    including the gains, ``C`` (N, memory_d) input weights including the
    gains, ``D`` (N, size) decoders of ``output``, ``bias`` (N,), the
    neurons' initial ``state`` ({name: (N,)}), the decays ``a_rec`` and
    ``a_in`` of the recurrent and input lowpass filters (``a_in`` is None
    for an unfiltered input), and ``neuron_type``.
    """
    if not memory.state_ensembles:
        raise ValueError("memory has no neurons (n_neurons=None): nothing to simulate")
    ens = memory.state_ensembles
    types = {type(e.neuron_type) for e in ens}
    if len(types) > 1:
        raise ValueError(f"memory ensembles must share one neuron type, got {types}")
    offsets = np.concatenate([[0], np.cumsum([e.n_neurons for e in ens])])
    rows = {e: slice(offsets[i], offsets[i + 1]) for i, e in enumerate(ens)}
    n, size = offsets[-1], memory.memory_d * memory.order
    out = {"W": np.zeros((n, n)), "C": np.zeros((n, memory.memory_d)),
           "D": np.zeros((n, size)), "neuron_type": ens[0].neuron_type}
    # without nengo's operator merging, which costs minutes at order 32 and up
    with make_simulator(memory, "nengo", dt=memory.dt, progress_bar=False,
                        optimize=False) as sim:
        data, sig = sim.data, sim.model.sig
        out["bias"] = np.concatenate([data[e].bias for e in ens])
        gain = np.concatenate([data[e].gain for e in ens])
        out["state"] = {
            name: np.concatenate([np.broadcast_to(sig[e.neurons][name].initial_value,
                                                  (e.n_neurons,)) for e in ens])
            for name in ens[0].neuron_type.state
        }
        in_synapses, rec_synapses = set(), set()
        chip = {}
        if quantized:
            from nengo_lmu.loihi import chip_weights  # pylint: disable=import-outside-toplevel

            chip = chip_weights(memory, [c for c in memory.all_connections
                                         if c.pre_obj in rows and c.post_obj in rows],
                                dt=memory.dt)
        for conn in memory.all_connections:
            w = data[conn].weights
            if conn.pre_obj in rows and conn.post_obj in rows:
                rec_synapses.add(conn.synapse)
                if conn.solver.weights:  # neuron to neuron, gains included
                    block = w
                else:  # decoders, then the post ensemble's scaled encoders
                    block = data[conn.post_obj].scaled_encoders @ w
                if conn in chip:
                    block = _rescaled(block, *chip[conn], conn)
                out["W"][rows[conn.post_obj], rows[conn.pre_obj]] += block
            elif conn.pre_obj in rows and conn.post_obj is memory.output:
                cols = np.arange(size)[conn.post_slice]
                out["D"][rows[conn.pre_obj], cols] += w.T
            elif (conn.pre_obj is memory.input and isinstance(conn.post_obj, nengo.ensemble.Neurons)
                  and conn.post_obj.ensemble in rows):
                r = rows[conn.post_obj.ensemble]
                cols = np.arange(memory.memory_d)[conn.pre_slice]
                # backends multiply connections into neurons by the gains
                out["C"][r, cols] += w * gain[r, None]
                in_synapses.add(conn.synapse)
            else:
                raise ValueError(f"simulate_memory does not know connection {conn}")
    if len(rec_synapses) != 1 or len(in_synapses) != 1:
        raise ValueError("the memory's recurrent (and input) connections must share one synapse")
    out["a_rec"] = _lowpass_decay(rec_synapses.pop(), memory.dt, "the recurrent synapse")
    in_syn = in_synapses.pop()
    out["a_in"] = None if in_syn is None else _lowpass_decay(in_syn, memory.dt, "the input synapse")
    return out


def _rescaled(block, w_loihi, w_chip, conn):
    """``w_chip`` (pre x post, nengo_loihi's units) in the units of nengo's
    ``block`` (post x pre), which nengo_loihi's ``w_loihi`` is a multiple of."""
    scale = np.sum(block * w_loihi.T) / np.sum(w_loihi**2)
    if np.linalg.norm(scale * w_loihi.T - block) > 1e-4 * np.linalg.norm(block):
        raise ValueError(f"nengo_loihi built other weights than nengo for {conn}")
    return scale * w_chip.T


def _recurrent_matrix(W):
    """``W`` as a sparse matrix when most of it is zero (a block-diagonal
    memory such as `nengo_lmu.networks.OscillatorMemory`), else as it is."""
    if W.size and np.count_nonzero(W) < 0.25 * W.size:
        return scipy.sparse.csr_matrix(W)
    return W


#: Floating-point types of `simulate_memory`'s recurrent product (``dtype``).
DTYPES = ("float64", "float32")


def simulate_memory(memory, u, synapse=None, steps=None, batch_size=500, progress_bar=True,
                    quantized=False, dtype="float64"):
    """Run a spiking `LegendreMemory` on many input streams at once.

    The equivalent of running ``memory`` in `nengo.Simulator` once per
    stream (through `nengo_lmu.make_simulator`, so a ``loihi_input`` memory
    gets its host-side input filter) with ``nengo.Probe(memory.output,
    synapse=synapse)``, vectorised over the streams: the weights, biases and
    initial neuron states are read from nengo's own build (`memory_weights`),
    every step calls the neuron type's own ``step`` and the same lowpass
    filters in nengo's order (inputs and probes lag one step), and the
    result equals nengo's to rounding (``tests/test_spiking.py``). For a
    few hundred streams it is about a hundred times faster than nengo (or
    NengoDL) per stream, which is what makes training a classifier against
    the spiking memory affordable (`nengo_lmu.tasks.finetune.finetune_psmnist`).

    Parameters
    ----------
    memory : `LegendreMemory`
        A spiking memory (``n_neurons`` set; one neuron type; lowpass or no
        input synapse).
    u : ndarray, shape ``(n, n_steps, memory_d)``
        Input streams, one row per stream.
    synapse : float, `nengo.Lowpass` or None
        The probe's synapse on ``output``.
    steps : array of int, optional
        The steps (0-based) to return; all by default.
    batch_size : int
        Streams simulated together.
    progress_bar : bool
    quantized : bool
        Use the recurrent weights Loihi stores (`memory_weights`), as the
        emulator and the chip run them; the neurons and filters are
        nengo's floating-point ones either way.
    dtype : {"float64", "float32"}
        The type of the recurrent product (spikes times weights, almost all
        of the work): ``"float32"`` about halves the time. The spikes (0 or
        ``amplitude / dt``) are exact in either; only the weights and the
        sums are rounded to float32 (a relative 1e-7), while the filters
        and the neurons stay float64. Small memories give float64's states
        exactly (``tests/test_spiking.py``), but a large one is chaotic:
        at order 64 (1,920 neurons) a first spike moves after a few hundred
        steps and after 3,000 the states differ by about a third of their
        rms, as they do in float64 with only the weights rounded to
        float32. So no arithmetic other than float64's in this order keeps
        its spikes, and float32 gives another draw of the same distortion
        (the same error against the exact memory; see the README).

    Returns
    -------
    ndarray, shape ``(n, len(steps), memory_d * order)``
    """
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 3 or u.shape[2] != memory.memory_d or len(u) < 1:
        raise ValueError(f"u must have shape (n >= 1, n_steps, memory_d={memory.memory_d}), "
                         f"got {u.shape}")
    n_streams, n_steps = u.shape[:2]
    steps = np.arange(n_steps) if steps is None else np.asarray(steps)
    if steps.ndim != 1 or not np.issubdtype(steps.dtype, np.integer) or np.any(
            (steps < 0) | (steps >= n_steps)):
        raise ValueError(f"steps must be integers in 0..{n_steps - 1}")
    a_probe = _lowpass_decay(synapse, memory.dt, "synapse")
    batch_size = check_integer("batch_size", batch_size)
    dtype = np.dtype(check_choice("dtype", dtype, DTYPES))
    w = memory_weights(memory, quantized=quantized)
    neuron_type, dt = w["neuron_type"], memory.dt
    W_T, D, C_T = _recurrent_matrix(w["W"].astype(dtype)).T, w["D"], w["C"].T
    which = np.full(n_steps, -1)
    which[steps] = np.arange(len(steps))
    result = np.zeros((n_streams, len(steps), D.shape[1]))
    progress = Progress("Simulating the spiking memory", "Simulation", n_streams * n_steps)
    with ProgressTracker(progress_bar, progress) as tracker:
        for start in range(0, n_streams, batch_size):
            ub = u[start:start + batch_size]
            b = len(ub)
            state = {k: np.tile(v, (b, 1)) for k, v in w["state"].items()}
            spikes = np.zeros((b, len(w["bias"])))
            current = np.zeros_like(spikes)
            u_in = np.zeros((b, C_T.shape[0]))
            # the probe filters the decoded output, a linear function of the
            # spikes: filter the spikes, decode only the steps returned
            previous = filtered = np.zeros_like(spikes)  # spikes of the previous step
            for t in range(n_steps):
                if w["a_in"] is None:
                    u_in = ub[:, t]
                else:  # filters read the previous step's values
                    prev = ub[:, t - 1] if t > 0 else 0.0
                    u_in = w["a_in"] * u_in + (1 - w["a_in"]) * prev
                recurrent = spikes.astype(dtype, copy=False) @ W_T
                current = w["a_rec"] * current + (1 - w["a_rec"]) * recurrent
                neuron_type.step(dt, current + u_in @ C_T + w["bias"], spikes, **state)
                # a filtered nengo probe reads the previous step's output
                if synapse is not None:
                    filtered = a_probe * filtered + (1 - a_probe) * previous
                    previous = spikes.copy()
                if which[t] >= 0:
                    result[start:start + b, which[t]] = (spikes if synapse is None
                                                         else filtered) @ D
            tracker.total_progress.step(b * n_steps)
    return result
