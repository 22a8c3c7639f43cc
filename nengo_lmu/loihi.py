"""How much of a Loihi chip a model built by `nengo_loihi` uses.

`resource_report` reads the counts from the objects nengo_loihi itself built
(``sim.model``): its blocks *after* `nengo_loihi.builder.split_blocks` has
split them to fit on cores, their synapses and axons, the host-to-chip spike
inputs and the chip-to-host probes. Chips and per-core configuration tables
come from nengo_loihi's own (NxSDK-free) allocator,
`nengo_loihi.hardware.allocators.Greedy`, or, on a board, from the
allocation the simulator actually made. Nothing is imported from
nengo_loihi until a report is asked for.
"""

import math

#: Cores on one Loihi chip (nengo_loihi's allocators refuse more).
CORES_PER_CHIP = 128

#: Per-core limits on the configuration tables, as nengo_loihi enforces
#: them before writing a core (``hardware.builder.build_core`` asserts
#: ``len(cfgs) < MAX_COMPARTMENT_CFGS (32)`` and ``< MAX_VTH_CFGS (8)``;
#: ``hardware.validate.validate_core`` allows 16 synapse formats, index 0
#: of which is reserved, and 3 STDP pre-trace configurations).
_CFG_LIMITS = {
    "compartment_cfgs": 31,
    "vth_cfgs": 7,
    "synapse_cfgs": 15,
    "stdp_pre_cfgs": 3,
}

_CORE_RESOURCES = ("compartments", "in_axons", "out_axons", "synapse_bits")


def chip_limits(cores_per_chip=CORES_PER_CHIP):
    """The Loihi limits used by `resource_report`, from nengo_loihi's constants.

    Parameters
    ----------
    cores_per_chip : int
        Neuron cores available on one chip.

    Returns
    -------
    dict
        ``cores_per_chip``; per-core ``compartments``
        (`nengo_loihi.block.MAX_COMPARTMENTS`), ``in_axons``
        (``MAX_IN_AXONS``), ``out_axons`` (``MAX_OUT_AXONS``),
        ``synapse_bits`` (``MAX_SYNAPSE_BITS``, the core's synapse memory);
        and the configuration-table sizes ``compartment_cfgs``,
        ``vth_cfgs``, ``synapse_cfgs`` and ``stdp_pre_cfgs``.
    """
    from nengo_loihi import block  # pylint: disable=import-outside-toplevel

    return {
        "cores_per_chip": int(cores_per_chip),
        "compartments": block.MAX_COMPARTMENTS,
        "in_axons": block.MAX_IN_AXONS,
        "out_axons": block.MAX_OUT_AXONS,
        "synapse_bits": block.MAX_SYNAPSE_BITS,
        **_CFG_LIMITS,
    }


def _hardware_weights(synapse, weights):
    """The weights as the hardware builder writes them into synapse memory."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    if np.issubdtype(weights.dtype, np.integer) and synapse.synapse_cfg is not None:
        # discretized: hardware.builder.build_synapse writes w // scale
        return weights // synapse.synapse_cfg.scale
    return weights


def _allocate(sim, n_cores, cores_per_chip):
    """The `Board` nengo_loihi uses (on hardware) or would use (emulator)."""
    interface = getattr(sim, "sims", {}).get("loihi", None)
    board = getattr(interface, "board", None)
    if board is not None:
        return board, "hardware"

    from nengo_loihi.hardware.allocators import (  # pylint: disable=import-outside-toplevel
        Greedy,
    )

    n_chips = max(1, math.ceil(n_cores / cores_per_chip))
    return Greedy(cores_per_chip=cores_per_chip)(sim.model, n_chips=n_chips), "Greedy"


def resource_report(sim, cores_per_chip=CORES_PER_CHIP, allocate=True):
    """Count the Loihi resources of the model built by a `nengo_loihi.Simulator`.

    Every number is read from nengo_loihi's build of the network,
    ``sim.model``, whose blocks have already been split by
    `nengo_loihi.builder.split_blocks.split_model` so that each fits on one
    core. The simulator may be closed; the emulator is not run.

    Parameters
    ----------
    sim : `nengo_loihi.Simulator`
        A built simulator (emulator or hardware target).
    cores_per_chip : int
        Cores available on one chip (128 on Loihi).
    allocate : bool
        Also place the blocks on cores with nengo_loihi's NxSDK-free
        `~nengo_loihi.hardware.allocators.Greedy` allocator (on a board: use
        the simulator's own allocation), to count chips and each core's
        configuration tables (compartment, threshold, synapse-format and
        STDP profiles). Takes about a second per 100k compartments.

    Returns
    -------
    dict
        ``cores``
            Neuron cores used. nengo_loihi places every (split) block on a
            core of its own, so this is ``len(sim.model.blocks)``.
        ``chips``
            Chips the allocation spans (``None`` without ``allocate``).
        ``neurons``
            Compartments on chip: ``sum(block.compartment.n_compartments)``.
            ``neurons_ensembles`` are those of `nengo.Ensemble` objects;
            ``neurons_other`` the rest: compartments nengo_loihi adds, e.g.
            the non-spiking pair per dimension that decodes a probed
            ensemble output, or decode neurons of decoded on-chip
            connections.
        ``synapses``
            Synapse entries stored in the cores' synapse memory: for every
            `nengo_loihi.block.Synapse`, the size of each stored weight array
            (``Synapse.size()``; population weights shared by several axons
            are stored, and counted, once). This is the number of synapses
            nengo_loihi's hardware builder configures, and dense weight
            matrices store their zero entries too.
        ``synapses_nonzero``
            The stored entries whose weight, as written to the hardware
            (``w // synapse_cfg.scale`` once discretized), is nonzero.
        ``synapse_bits``
            Synapse memory used, ``sum(Synapse.bits())``.
        ``axons``
            Output axons of on-chip compartments, ``sum(Axon.axon_slots())``
            over the blocks' axons (the per-core ``out_axons`` resource).
        ``in_axons``
            Input axons of the cores, ``sum(Synapse.n_axons)``; they receive
            the on-chip axons and the host's spike inputs.
        ``input_channels``
            Host-to-chip spike inputs (`nengo_loihi.inputs.SpikeInput` in
            ``sim.model.inputs``): one per input connection to the chip,
            fed by the host through the spike generator. ``input_neurons``
            is their total width: the on/off encoding neurons nengo_loihi
            simulates *on the host* (two per input dimension); they use no
            chip compartments.
        ``output_channels``
            Chip-to-host probes (`nengo_loihi.probe.LoihiProbe` in
            ``sim.model.probes``); ``output_values`` is the total width they
            return each step (``LoihiProbe.output_size``).
        ``host2chip_connections``, ``chip2host_connections``
            Host-side sender/receiver node pairs nengo_loihi created
            (``model.host2chip_senders``, ``model.chip2host_receivers``).
        ``per_core``
            One dict per core: ``label``, ``compartments``, ``in_axons``,
            ``out_axons``, ``synapse_bits``, ``synapses`` and, when
            allocated, the configuration-table counts.
        ``max_utilization``
            Largest fraction of each per-core limit used by any core.
        ``violations``
            Human-readable list of every limit exceeded.
        ``fits_one_chip``
            ``cores <= cores_per_chip`` and no per-core limit exceeded.
        ``chip_limits``
            The limits used, see `chip_limits`.
        ``target``, ``allocator``
            The simulator's target (``"sim"``: emulator, ``"loihi"``:
            board) and which allocation gave the chip count.
    """
    model = sim.model
    limits = chip_limits(cores_per_chip)
    blocks = list(model.blocks)
    per_core = [_core_usage(block) for block in blocks]
    neurons_ensembles = _ensemble_compartments(model)
    chips = allocator = None
    if allocate and blocks:
        chips, allocator = _allocate_cores(sim, blocks, per_core, cores_per_chip)
    checked = _CORE_RESOURCES + (tuple(_CFG_LIMITS) if chips is not None else ())
    violations = _violations(per_core, limits, checked, len(blocks), cores_per_chip)
    max_utilization = {
        key: max((info[key] / limits[key] for info in per_core), default=0.0)
        for key in checked
    }

    inputs = list(model.inputs)
    return {
        "target": getattr(sim, "target", None),
        "cores": len(blocks),
        "chips": chips,
        **_totals(per_core, neurons_ensembles),
        "input_channels": len(inputs),
        "input_neurons": int(sum(getattr(i, "n_neurons", 0) for i in inputs)),
        "output_channels": len(model.probes),
        "output_values": int(sum(p.output_size for p in model.probes)),
        "host2chip_connections": len(model.host2chip_senders),
        "chip2host_connections": len(model.chip2host_receivers),
        "per_core": per_core,
        "max_utilization": max_utilization,
        "violations": violations,
        "fits_one_chip": not violations,
        "chip_limits": limits,
        "allocator": allocator,
    }


def _totals(per_core, neurons_ensembles):
    """The per-core counts summed over the cores."""

    def total(key):
        return int(sum(info[key] for info in per_core))

    return {
        "neurons": total("compartments"),
        "neurons_ensembles": int(neurons_ensembles),
        "neurons_other": int(total("compartments") - neurons_ensembles),
        "synapses": total("synapses"),
        "synapses_nonzero": total("synapses_nonzero"),
        "synapse_bits": total("synapse_bits"),
        "axons": total("out_axons"),
        "in_axons": total("in_axons"),
    }


def _core_usage(block):
    """What one block (one core) uses: compartments, axons, synapses."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    synapses = block.synapses
    return {
        "label": str(block.label),
        "compartments": int(block.compartment.n_compartments),
        "in_axons": int(sum(s.n_axons for s in synapses)),
        "out_axons": int(sum(a.axon_slots() for a in block.axons)),
        "synapse_bits": int(sum(s.bits() for s in synapses)),
        "synapses": int(sum(s.size() for s in synapses)),
        "synapses_nonzero": sum(int(np.count_nonzero(_hardware_weights(s, w)))
                                for s in synapses for w in s.weights),
    }


def _ensemble_compartments(model):
    """Compartments of the blocks that hold `nengo.Ensemble` neurons."""
    import nengo  # pylint: disable=import-outside-toplevel

    ensemble_blocks = {}
    for obj, built in model.objs.items():
        if isinstance(obj, nengo.Ensemble) and "out" in built:
            out = built["out"]
            for block in out if isinstance(out, (list, tuple)) else [out]:
                if block in model.blocks:
                    ensemble_blocks[id(block)] = block
    return sum(b.compartment.n_compartments for b in ensemble_blocks.values())


def _allocate_cores(sim, blocks, per_core, cores_per_chip):
    """Place the blocks on cores; add each core's configuration-table counts
    to ``per_core``; return ``(chips, allocator)``."""
    board, allocator = _allocate(sim, len(blocks), cores_per_chip)
    core_of_block = {
        id(block): core
        for chip in board.chips
        for core in chip.cores
        for block in core.blocks
    }
    for block, info in zip(blocks, per_core):
        core = core_of_block[id(block)]
        info["compartment_cfgs"] = len(core.compartment_cfgs)
        info["vth_cfgs"] = len(core.vth_cfgs)
        info["synapse_cfgs"] = sum(c is not None for c in core.synapse_cfgs)
        info["stdp_pre_cfgs"] = len(core.stdp_pre_cfgs)
    return board.n_chips, allocator


def _violations(per_core, limits, checked, n_cores, cores_per_chip):
    """Every limit exceeded, in words."""
    violations = []
    if n_cores > cores_per_chip:
        violations.append(f"{n_cores} cores > {cores_per_chip} cores per chip")
    for info in per_core:
        for key in checked:
            if info[key] > limits[key]:
                violations.append(
                    f"core {info['label']}: {key} {info[key]} > {limits[key]}"
                )
    return violations


def format_resource_report(report, per_core=False):
    """Render a `resource_report` as readable text.

    Parameters
    ----------
    report : dict
        As returned by `resource_report`.
    per_core : bool
        Also list every core (one line each).

    Returns
    -------
    str
        A multi-line summary.
    """
    limits = report["chip_limits"]
    target = {"sim": "emulator", "loihi": "Loihi board"}.get(
        report.get("target"), report.get("target")
    )
    chips = report.get("chips")
    lines = [
        f"Loihi resources ({target}):",
        f"  cores              {report['cores']:>10,}"
        f"   (of {limits['cores_per_chip']} per chip"
        + (f"; {chips} chip{'s' if chips != 1 else ''})" if chips else ")"),
        f"  neurons            {report['neurons']:>10,}"
        f"   compartments ({report['neurons_ensembles']:,} in ensembles,"
        f" {report['neurons_other']:,} added by nengo_loihi)",
        f"  synapses           {report['synapses']:>10,}"
        f"   stored entries ({report['synapses_nonzero']:,} nonzero;"
        f" {report['synapse_bits']:,} bits)",
        f"  axons              {report['axons']:>10,}"
        f"   out ({report['in_axons']:,} in)",
        f"  input channels     {report['input_channels']:>10,}"
        f"   host->chip spike inputs ({report['input_neurons']:,} host-side"
        " on/off neurons)",
        f"  output channels    {report['output_channels']:>10,}"
        f"   chip->host probes ({report['output_values']:,} values per step)",
    ]
    util = report["max_utilization"]
    for name, keys in (("busiest core", _CORE_RESOURCES), ("  cfg tables", tuple(_CFG_LIMITS))):
        used = [k for k in keys if k in util]
        if used:
            lines.append(
                f"  {name:<19}"
                + ", ".join(
                    f"{100 * util[k]:.1f}% {k.replace('_cfgs', '').replace('_', ' ')}"
                    for k in used
                )
            )
    lines.append(f"  fits one chip      {'yes' if report['fits_one_chip'] else 'NO'}")
    lines.extend(f"    - {v}" for v in report["violations"][:10])
    if len(report["violations"]) > 10:
        lines.append(f"    ... and {len(report['violations']) - 10} more")
    if per_core:
        lines.append(
            "  core  compartments  in-axons  out-axons  synapses  synapse-bits  label"
        )
        for k, info in enumerate(report["per_core"]):
            lines.append(
                f"  {k:>4}  {info['compartments']:>12,}  {info['in_axons']:>8,}"
                f"  {info['out_axons']:>9,}  {info['synapses']:>8,}"
                f"  {info['synapse_bits']:>12,}  {info['label']}"
            )
    return "\n".join(lines)


def network_report(network, dt=0.001):
    """`resource_report` of ``network`` as `nengo_lmu.make_simulator` builds it
    for Loihi (not run), with ``quantization`` (`quantization_report`) added.

    nengo_loihi discretizes the weights it builds in place, so the
    quantization is measured on a second, floating-point build.
    """
    from nengo_lmu.backends import make_simulator  # pylint: disable=import-outside-toplevel

    with make_simulator(network, "loihi", dt=dt) as sim:
        report = resource_report(sim)
    report["quantization"] = quantization_report(network, dt=dt)
    return report


def _discretized_build(network, dt=0.001, seed=None):
    """nengo_loihi's floating-point build of ``network`` (split into cores, as
    `nengo_loihi.Simulator` builds it, not discretized), and every block
    discretized by nengo_loihi's own `~nengo_loihi.builder.discretize.discretize_block`
    (a copy), with the warnings that gave: ``(model, [(block, discretized,
    warnings), ...])``. ``seed`` defaults to the network's own."""
    import copy  # pylint: disable=import-outside-toplevel
    import warnings  # pylint: disable=import-outside-toplevel

    from nengo_loihi.builder.discretize import (  # pylint: disable=import-outside-toplevel
        discretize_block,
    )

    from nengo_lmu.backends import loihi_model  # pylint: disable=import-outside-toplevel

    model = loihi_model(network, dt)
    model.seeds[network] = network.seed if seed is None else seed
    model.seeded[network] = model.seeds[network] is not None
    model.build(network, precompute=True, discretize=False)
    blocks = []
    for block in model.blocks:
        quantized = copy.deepcopy(block)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            discretize_block(quantized)
        blocks.append((block, quantized, caught))
    return model, blocks


def _weight_matrix(syn, n_post):
    """A nengo_loihi ``Synapse`` of one weight per axon and target as a
    matrix (axons x ``n_post`` targets, zeros where it stores none)."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    out = np.zeros((len(syn.weights), n_post))
    for k, (w, idx) in enumerate(zip(syn.weights, syn.indices)):
        out[k, np.ravel(idx)] = np.ravel(w)
    return out


def chip_weights(network, connections, dt=0.001, seed=None):
    """The weights Loihi stores for ``connections``, in floating-point units.

    nengo_loihi stores 8-bit weights with one exponent per synapse, scaled
    to each block's largest weight, and loses further bits where a synapse's
    weights are far below that (see `quantization_report`). For each of
    ``connections`` (each built as one on-chip synapse between ensembles of
    ``network``: dense, or, for a memory's copies, sparse rows,
    `nengo_lmu.backends.store_copies_sparsely`), this returns ``(w, w_q)``:
    the weights nengo_loihi builds before discretizing (pre neurons x post
    neurons, zeros where a sparse synapse stores none) and the discretized
    weights scaled back to the same units (least squares over the synapse).
    `nengo_lmu.memory_simulation.simulate_memory` runs a memory with them
    (``quantized=True``).

    Raises a `ValueError` for a connection that is not one on-chip synapse
    of one weight per axon and target (population weights, split across
    cores, or off chip).
    """
    import numpy as np  # pylint: disable=import-outside-toplevel

    model, blocks = _discretized_build(network, dt, seed)
    where = {id(syn): (quantized, i) for block, quantized, _ in blocks
             for i, syn in enumerate(block.synapses)}
    out = {}
    for conn in connections:
        syn = model.objs[conn].get("weights") if conn in model.objs else None
        post = getattr(conn.post_obj, "ensemble", conn.post_obj)  # Neurons: their ensemble
        n_post = getattr(post, "n_neurons", None)
        simple = syn is not None and n_post is not None and all(
            np.shape(w)[0] == 1 and np.size(idx) == np.size(w)
            for w, idx in zip(syn.weights, syn.indices))
        if not simple or id(syn) not in where:
            raise ValueError(f"{conn} is not one on-chip synapse of one weight per axon and "
                             "target")
        quantized, i = where[id(syn)]
        w = _weight_matrix(syn, n_post)
        q = _weight_matrix(quantized.synapses[i], n_post)
        scale = np.sum(w * q) / np.sum(q * q) if np.any(q) else 0.0
        out[conn] = (w, scale * q)
    return out


def quantization_report(network, dt=0.001, seed=None, tol=0.01):
    """What Loihi's weight quantization does to ``network``, before it runs.

    nengo_loihi stores each core's weights as 8-bit integers scaled by one
    shared exponent per core (block), so weights far below the block's
    largest one lose bits or become zero. This builds ``network`` with
    nengo_loihi *without* discretizing, discretizes a copy of every block
    with nengo_loihi's own `~nengo_loihi.builder.discretize.discretize_block`,
    and compares. The recurrent weights of a memory built with
    ``loihi_calibration`` (the default) are already on the chip's grid in
    that build (`nengo_lmu.backends.round_recurrent_weights`), so the report
    shows what nengo_loihi adds to them (nothing), not what that rounding
    changed; build the memory with ``loihi_calibration=False`` to see the
    grid's loss for the nearest rounding.

    Parameters
    ----------
    network : `nengo.Network`
    dt : float
        Simulator step (s).
    seed : int, optional
        Build seed (default: the network's own, as the simulators use).
    tol : float
        Blocks whose relative weight error exceeds ``tol`` are listed in
        ``degraded``.

    Returns
    -------
    dict
        ``weights`` (nonzero weights stored), ``weights_zeroed`` (nonzero
        weights that quantize to 0), ``relative_error`` (``||w_q - w|| /
        ||w||`` over all blocks, with ``w_q`` the quantized weights in the
        float weights' units), ``lost_bits`` (the most bits each block loses
        in nengo_loihi's "Lost N extra bits in weight rounding"), ``degraded`` (label,
        relative error and zeroed weights of each block above ``tol``).
    """
    import re  # pylint: disable=import-outside-toplevel

    import numpy as np  # pylint: disable=import-outside-toplevel

    _, blocks = _discretized_build(network, dt, seed)

    def flat(synapse):
        return np.concatenate([np.ravel(w) for w in synapse.weights]) if synapse.weights else np.zeros(0)

    n_weights = n_zeroed = 0
    err2 = norm2 = 0.0
    lost_bits = {}
    degraded = []
    for block, quantized, caught in blocks:
        before = [flat(s).astype(np.float64) for s in block.synapses]
        lost = [int(m.group(1)) for m in
                (re.search(r"Lost (\d+) extra bits", str(w.message)) for w in caught) if m]
        if lost:
            lost_bits[str(block.label)] = max(lost)
        b_err2 = b_norm2 = 0.0
        b_zeroed = 0
        for w, syn in zip(before, quantized.synapses):
            q = flat(syn).astype(np.float64)
            if w.size == 0 or not np.any(w):
                continue
            scale = (w @ q) / (q @ q) if np.any(q) else 0.0  # integer units -> float
            nonzero = w != 0
            b_zeroed += int(np.sum(nonzero & (q == 0)))
            n_weights += int(nonzero.sum())
            b_err2 += float(np.sum((scale * q - w) ** 2))
            b_norm2 += float(np.sum(w**2))
        n_zeroed += b_zeroed
        err2 += b_err2
        norm2 += b_norm2
        if b_norm2 > 0 and np.sqrt(b_err2 / b_norm2) > tol:
            degraded.append({"block": str(block.label),
                             "relative_error": float(np.sqrt(b_err2 / b_norm2)),
                             "weights_zeroed": b_zeroed})
    return {
        "weights": n_weights,
        "weights_zeroed": n_zeroed,
        "relative_error": float(np.sqrt(err2 / norm2)) if norm2 else 0.0,
        "lost_bits": lost_bits,
        "degraded": degraded,
    }


def format_quantization_report(report):
    """Render a `quantization_report` as text."""
    lines = [
        f"Weight quantization: {report['weights']:,} nonzero weights, "
        f"{report['weights_zeroed']:,} rounded to 0, relative error "
        f"{report['relative_error']:.2%}"
    ]
    if report["lost_bits"]:
        worst = max(report["lost_bits"].values())
        lines.append(f"  {len(report['lost_bits'])} blocks lose extra bits in weight "
                     f"rounding (up to {worst})")
    for row in report["degraded"][:10]:
        lines.append(f"  - {row['block']}: {row['relative_error']:.1%} error, "
                     f"{row['weights_zeroed']:,} weights zeroed")
    if len(report["degraded"]) > 10:
        lines.append(f"  ... and {len(report['degraded']) - 10} more blocks")
    return "\n".join(lines)
