"""The LMU peers of the psMNIST comparison, and how training speed is timed.

- keras-lmu's LMU (`time_keras_lmu`) and the LMU example of NengoDL's
  documentation (`nengo_dl_docs_lmu`), timed with the protocol our own
  sequential path is timed with (`time_nengo_dl_fit`, `time_ours_sequential`,
  `time_sequential_paths`; `closed_form_memory_s` for the parallel path);
- the comparison table of the psMNIST models with the paper's figures
  (`comparison_rows`, `plot_comparison`, `PAPER_TABLE`).

TensorFlow, keras-lmu and NengoDL are imported inside the functions, so
importing this module is cheap. The Keras baselines themselves are in
`nengo_lmu.tasks.baselines`.
"""

import time

import numpy as np

from nengo_lmu.tasks.baselines import BATCH_SIZE, count_trainable
from nengo_lmu.validation import check_choice

#: Revisions of NengoDL's documentation example that `nengo_dl_docs_lmu` builds.
DOCS_VARIANTS = ("current", "earlier")
#: Results of the spiking LMU on the Loihi emulator, written into the
#: benchmarks' output directory by ``benchmarks/loihi.py``; if present,
#: `comparison_rows` adds a row from its keys ``accuracy``,
#: ``rate_accuracy``, ``n_test`` and ``s_per_image`` (and ``n_trainable``).
LOIHI_JSON = "psmnist-loihi.json"
#: Table 1 of the LMU paper (Voelker et al. 2019): (model, test accuracy,
#: trainable parameters or None where not quoted here).
PAPER_TABLE = (("LMU", 0.9715, 102027), ("FF-baseline", 0.9265, None),
               ("LSTM", 0.8986, None))
#: Header of `comparison_rows`.
COMPARISON_HEADER = ("model", "test accuracy", "trainable parameters", "training")


def _say(msg):
    print(msg, flush=True)


def closed_form_memory_s(config, x):
    """Seconds to compute the closed-form memory ``m_T`` of sequences ``x``
    for the classifier of ``config`` (built for the parallel path)."""
    from nengo_lmu.lmu import build_classifier  # pylint: disable=import-outside-toplevel

    clf = build_classifier(config, method="parallel")
    start = time.perf_counter()
    clf.lmu.closed_form_memory(x)
    return time.perf_counter() - start


def time_keras_lmu(x, y, units, order, probe_steps=10, max_epoch_s=300.0, fixed_steps=100,
                   quick=False, seed=0, log=_say):
    """Training time of one epoch of the keras-lmu psMNIST model.

    ``Input((n_steps, 1)) -> keras_lmu.LMU(memory_d=1, order,
    theta=n_steps, hidden_cell=Dense(units, relu), no recurrent
    connections) -> Dense(10)``, Adam, sparse cross-entropy from logits,
    minibatches of `BATCH_SIZE`. After a one-batch warm-up (tracing),
    ``probe_steps`` batches predict the epoch. With ``quick`` that
    prediction is the result; if it is at most ``max_epoch_s`` a full
    shuffled epoch is timed; otherwise ``fixed_steps`` batches in all (the
    probe's included) are timed and scaled to the epoch.

    Returns
    -------
    dict
        ``keras_lmu_*`` figures: the layer keras-lmu picked, its epoch time
        (``keras_lmu_epoch_s``), whether it was extrapolated, notes.
    """
    import keras_lmu  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.keras.backend.clear_session()
    tf.random.set_seed(seed)
    inp = tf.keras.Input((x.shape[1], 1))
    lmu = keras_lmu.LMU(
        memory_d=1, order=order, theta=x.shape[1],
        hidden_cell=tf.keras.layers.Dense(units, activation="relu"),
        hidden_to_memory=False, memory_to_memory=False, input_to_hidden=False,
    )
    model = tf.keras.Model(inp, tf.keras.layers.Dense(10)(lmu(inp)))
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    batch = BATCH_SIZE
    n_batches = len(x) // batch
    res = {"keras_lmu_layer": type(lmu.layer).__name__,
           "keras_lmu_conv_mode": getattr(lmu.layer, "conv_mode", None),
           "keras_lmu_n_trainable": count_trainable(model),
           "keras_lmu_batches_per_epoch": n_batches}

    def fit(first, last, shuffle=False):
        """Seconds to fit batches ``first`` to ``last - 1`` in one ``fit`` call."""
        start = time.perf_counter()
        model.fit(x[first * batch:last * batch], y[first * batch:last * batch],
                  batch_size=batch, epochs=1, shuffle=shuffle, verbose=0)
        return time.perf_counter() - start

    res["keras_lmu_warmup_s"] = fit(0, 1)  # tracing + one batch
    probe_s = fit(1, 1 + probe_steps)
    estimate = probe_s / probe_steps * n_batches
    log(f"[speed] keras-lmu ({res['keras_lmu_layer']}): {probe_s / probe_steps:.3f} s/batch "
        f"over {probe_steps} batches, epoch estimated at {estimate:.0f} s")
    if quick:
        steps, epoch_s, extrapolated = probe_steps, estimate, True
    elif estimate <= max_epoch_s:
        steps, epoch_s, extrapolated = n_batches, fit(0, n_batches, shuffle=True), False
    else:
        # the probe's batches count towards the fixed number of timed batches
        steps = max(probe_steps, min(fixed_steps, n_batches - 1))
        more = fit(1 + probe_steps, 1 + steps) if steps > probe_steps else 0.0
        epoch_s, extrapolated = (probe_s + more) / steps * n_batches, True
    res.update({
        "keras_lmu_epoch_s": epoch_s,
        "keras_lmu_s_per_batch": epoch_s / n_batches,
        "keras_lmu_timed_batches": steps,
        "keras_lmu_extrapolated": extrapolated,
        "keras_lmu_note": (f"time of {steps} batches of 100 scaled to the {n_batches}-batch "
                           "epoch" if extrapolated else
                           f"one full epoch of fit ({n_batches} batches) after a 1-batch warm-up"),
        "keras_lmu_path_note": (
            "LMUFeedforward computes the memory m_t of every step on every batch by FFT "
            f"convolution (rfft/irfft of length {2 * x.shape[1]}, not a power of two), although "
            "the classifier reads only the last step; on a CPU these FFTs dominate"),
    })
    return res


def nengo_dl_docs_lmu(units=212, order=256, theta=784, input_d=1, seed=0, variant="current"):
    """The LMU psMNIST network of NengoDL's documentation example.

    A reconstruction of the example "Legendre Memory Units in NengoDL"
    (``docs/examples/lmu.ipynb`` of nengo-dl 3.x). Its ``LMUCell`` is a
    `nengo.Network` with nodes ``x`` (input), ``u`` (size 1), ``m`` (size
    ``order``) and ``h``, a `nengo_dl.TensorNode` applying ``tf.nn.tanh``;
    ``A`` and ``B`` come from the Legendre formula, discretized with
    ``nengo.utils.filter_design.cont2discrete(..., dt=1, method="zoh")``,
    and sit on the non-trainable connections ``m -> m`` (transform ``A``,
    ``synapse=0``: a one-step delay) and ``u -> m`` (transform ``B``,
    ``synapse=None``). ``x -> u`` is ones. The network around it sets
    ``configure_settings(trainable=None, stateful=False,
    keep_history=False)`` and reads the logits of a Glorot ``h -> out``
    readout with a probe; the example simulates it with
    ``nengo_dl.Simulator(net, minibatch_size=100, unroll_simulation=16)``
    and compiles Adam, sparse cross-entropy from logits, ``metrics=["accuracy"]``.

    ``variant="current"`` is the notebook's latest revision: no ``e_h``, ``e_m``
    ("not needed in this task"), and Glorot-initialized trainable ``x -> h``,
    ``h -> h`` (``synapse=0``) and ``m -> h``. ``variant="earlier"`` is its
    earlier revision, the full cell of the paper like our recurrent
    configuration: trainable ``h -> u`` and ``m -> u`` (zeros, ``synapse=0``),
    ``x -> h`` and ``h -> h`` (zeros) and ``m -> h`` (Glorot normal).

    Returns
    -------
    net : `nengo.Network`
    inp : `nengo.Node`
        The input node (feed it the sequences).
    probe : `nengo.Probe`
        The probe of the logits.
    """
    import nengo  # pylint: disable=import-outside-toplevel
    import nengo_dl  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from nengo.utils.filter_design import cont2discrete  # pylint: disable=import-outside-toplevel

    check_choice("variant", variant, DOCS_VARIANTS)

    class LMUCell(nengo.Network):
        def __init__(self, units, order, theta, input_d, **kwargs):
            super().__init__(**kwargs)
            Q = np.arange(order, dtype=np.float64)
            R = (2 * Q + 1)[:, None] / theta
            j, i = np.meshgrid(Q, Q)
            A = np.where(i < j, -1, (-1.0) ** (i - j + 1)) * R
            B = (-1.0) ** Q[:, None] * R
            C = np.ones((1, order))
            D = np.zeros((1,))
            A, B, _, _, _ = cont2discrete((A, B, C, D), dt=1.0, method="zoh")

            with self:
                nengo_dl.configure_settings(trainable=None)
                self.x = nengo.Node(size_in=input_d)
                self.u = nengo.Node(size_in=1)
                self.m = nengo.Node(size_in=order)
                self.h = nengo_dl.TensorNode(tf.nn.tanh, shape_in=(units,), pass_time=False)
                nengo.Connection(self.x, self.u, transform=np.ones((1, input_d)), synapse=None)
                if variant == "earlier":
                    nengo.Connection(self.h, self.u, transform=np.zeros((1, units)), synapse=0)
                    nengo.Connection(self.m, self.u, transform=np.zeros((1, order)), synapse=0)
                conn_A = nengo.Connection(self.m, self.m, transform=A, synapse=0)
                self.config[conn_A].trainable = False
                conn_B = nengo.Connection(self.u, self.m, transform=B, synapse=None)
                self.config[conn_B].trainable = False
                if variant == "current":
                    nengo.Connection(self.x, self.h, transform=nengo_dl.dists.Glorot(),
                                     synapse=None)
                    nengo.Connection(self.h, self.h, transform=nengo_dl.dists.Glorot(),
                                     synapse=0)
                    nengo.Connection(self.m, self.h, transform=nengo_dl.dists.Glorot(),
                                     synapse=None)
                else:
                    nengo.Connection(self.x, self.h, transform=np.zeros((units, input_d)),
                                     synapse=None)
                    nengo.Connection(self.h, self.h, transform=np.zeros((units, units)),
                                     synapse=0)
                    nengo.Connection(self.m, self.h,
                                     transform=nengo_dl.dists.Glorot(distribution="normal"),
                                     synapse=None)

    with nengo.Network(seed=seed) as net:
        nengo_dl.configure_settings(trainable=None, stateful=False, keep_history=False)
        inp = nengo.Node(np.zeros(input_d))
        lmu = LMUCell(units=units, order=order, theta=theta, input_d=input_d)
        conn = nengo.Connection(inp, lmu.x, synapse=None)
        net.config[conn].trainable = False
        out = nengo.Node(size_in=10)
        nengo.Connection(lmu.h, out, transform=nengo_dl.dists.Glorot(), synapse=None)
        p = nengo.Probe(out)
    return net, inp, p


def time_nengo_dl_fit(net, inp, probe, x, y, n_batches, unroll_simulation=1, metrics=None,
                      learning_rate=1e-3, seed=0):
    """Seconds per minibatch of NengoDL ``sim.fit`` through time.

    Builds the simulator (minibatches of `BATCH_SIZE`), compiles (Adam,
    sparse cross-entropy from logits), fits one warm-up minibatch
    (tracing), then times ``n_batches`` minibatches in one ``fit`` call.

    Parameters
    ----------
    net, inp, probe
        The network, its input node and the probe of its logits.
    x, y : ndarray
        At least ``(1 + n_batches) * BATCH_SIZE`` sequences and labels.
    n_batches : int
        Timed minibatches.
    unroll_simulation : int
        Of `nengo_dl.Simulator`.
    metrics : list or None
        Of ``sim.compile``.

    Returns
    -------
    dict
        Wall seconds (``s_per_batch``) and this process's CPU seconds
        (``cpu_s_per_batch``, less sensitive to other jobs on a shared
        machine) per minibatch, ``build_s``, ``warmup_batch_s`` and the
        trainable values (``n_trainable_variables``).
    """
    import nengo_dl  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.keras.backend.clear_session()
    batch = BATCH_SIZE
    need = (1 + n_batches) * batch
    if len(x) < need:
        raise ValueError(f"need {need} sequences, got {len(x)}")
    x = np.asarray(x[:need], dtype=np.float32)
    y = np.asarray(y[:need]).reshape(-1, 1, 1)
    start = time.perf_counter()
    with nengo_dl.Simulator(net, minibatch_size=batch, unroll_simulation=unroll_simulation,
                            progress_bar=False, seed=seed) as sim:
        build_s = time.perf_counter() - start
        sim.compile(optimizer=tf.optimizers.Adam(learning_rate),
                    loss={probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)},
                    metrics=metrics)
        t0 = time.perf_counter()
        sim.fit({inp: x[:batch]}, {probe: y[:batch]}, epochs=1, verbose=0)
        warmup_s = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        sim.fit({inp: x[batch:]}, {probe: y[batch:]}, epochs=1, verbose=0, shuffle=False)
        timed_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        n_trainable = count_trainable(sim.keras_model)
    return {"s_per_batch": timed_s / n_batches, "cpu_s_per_batch": cpu_s / n_batches,
            "timed_batches": n_batches, "build_s": build_s, "warmup_batch_s": warmup_s,
            "n_steps": int(x.shape[1]), "unroll_simulation": unroll_simulation,
            "n_trainable_variables": n_trainable}


def time_ours_sequential(x, y, config, n_batches, fast=True):
    """`time_nengo_dl_fit` for our recurrent `LMUClassifier`, set up as
    `nengo_lmu.training.train` sets it up.

    ``fast=True``: `nengo_lmu.training.configure_nengo_dl` as ``train``
    uses it (`nengo_lmu.dl_plan.dense_settings`); ``fast=False``: the same
    network and trainable weights with NengoDL's default plan.

    Returns
    -------
    dict
        That of `time_nengo_dl_fit`, with ``n_trainable`` (of the
        classifier) and ``plan``.
    """
    from nengo_lmu.lmu import build_classifier  # pylint: disable=import-outside-toplevel
    from nengo_lmu.training import configure_nengo_dl  # pylint: disable=import-outside-toplevel

    clf = configure_nengo_dl(build_classifier(config, method="sequential"), fast=fast)
    res = time_nengo_dl_fit(clf, clf.input, clf.probe, x, y, n_batches)
    res["n_trainable"] = clf.n_trainable
    res["plan"] = "dense" if fast else "nengo-dl default"
    return res


def time_sequential_paths(x, y, config, n_batches, docs_variants=DOCS_VARIANTS,
                          nengo_dl_plan=True, log=_say):
    """Backpropagation through time in NengoDL: ours against the NengoDL docs example.

    Times (`time_nengo_dl_fit`: 1 warm-up, then ``n_batches`` minibatches)
    our recurrent classifier of ``config`` (`time_ours_sequential`), the
    example of NengoDL's documentation of the same ``units`` and ``order``
    in each of ``docs_variants`` (`nengo_dl_docs_lmu`, simulated with
    ``unroll_simulation=16`` as in the example) and, if ``nengo_dl_plan``,
    ours again with NengoDL's default plan.

    Returns
    -------
    dict
        ``ours_sequential_s_per_batch``, ``ours_sequential`` (the timing,
        the config and its setup), ``ours_sequential_nengo_dl_plan`` (with
        ``speedup_dense_plan``), and with any docs variant
        ``nengo_dl_example`` (per variant, with ``speedup_ours`` and
        ``speedup_ours_cpu``) and the figures of the main variant
        (``"current"`` if timed): ``nengo_dl_example_s_per_batch``,
        ``speedup_vs_nengo_dl_example``, ``speedup_vs_nengo_dl_example_cpu``.
    """
    n = n_batches
    units, order = config["units"], config["order"]
    log(f"[speed] sequential (ours): units {units}, order {order}, "
        f"all recurrent connections, Tanh; 1 warm-up + {n} timed minibatches")
    ours = time_ours_sequential(x, y, config, n)
    log(f"[speed] sequential (ours): {ours['s_per_batch']:.2f} s per minibatch "
        f"({ours['cpu_s_per_batch']:.2f} CPU s; build {ours['build_s']:.1f} s, "
        f"warm-up {ours['warmup_batch_s']:.1f} s)")
    res = {
        "ours_sequential_s_per_batch": ours["s_per_batch"],
        "ours_sequential": dict(
            ours, config=config,
            setup="nengo_lmu.training.configure_nengo_dl(build_classifier(config,"
                  " method='sequential')) as in training.train: stateful=False, probe"
                  " keep_history=False, memory Abar/Bbar not trainable, dense_settings()"
                  " (DenseStep ops, noop planner/sorter), unroll_simulation=1"),
    }
    docs = {}
    for variant in docs_variants:
        log(f"[speed] sequential (NengoDL docs example, {variant} revision): 1 warm-up + "
            f"{n} timed minibatches")
        net, inp, probe = nengo_dl_docs_lmu(units, order, x.shape[1], 1, variant=variant)
        r = time_nengo_dl_fit(net, inp, probe, x, y, n, unroll_simulation=16,
                              metrics=["accuracy"])
        log(f"[speed] sequential (docs, {variant}): {r['s_per_batch']:.2f} s per minibatch "
            f"({r['cpu_s_per_batch']:.2f} CPU s; build {r['build_s']:.1f} s, "
            f"warm-up {r['warmup_batch_s']:.1f} s)")
        docs[variant] = dict(r, units=units, order=order,
                             speedup_ours=r["s_per_batch"] / ours["s_per_batch"],
                             speedup_ours_cpu=r["cpu_s_per_batch"] / ours["cpu_s_per_batch"])
    if nengo_dl_plan:
        log("[speed] sequential (ours, NengoDL's default plan): 1 warm-up + "
            f"{n} timed minibatches")
        plain = time_ours_sequential(x, y, config, n, fast=False)
        log(f"[speed] sequential (ours, NengoDL's default plan): "
            f"{plain['s_per_batch']:.2f} s per minibatch "
            f"({plain['cpu_s_per_batch']:.2f} CPU s; build {plain['build_s']:.1f} s, "
            f"warm-up {plain['warmup_batch_s']:.1f} s)")
        res["ours_sequential_nengo_dl_plan"] = dict(
            plain, speedup_dense_plan=plain["s_per_batch"] / ours["s_per_batch"])
    if docs:
        main_variant = "current" if "current" in docs else next(iter(docs))
        res.update({
            "nengo_dl_example_s_per_batch": docs[main_variant]["s_per_batch"],
            "nengo_dl_example_variant": main_variant,
            "speedup_vs_nengo_dl_example": docs[main_variant]["speedup_ours"],
            "speedup_vs_nengo_dl_example_cpu": docs[main_variant]["speedup_ours_cpu"],
            "speedup_target": ">= 2",
            "nengo_dl_example": docs,
            "nengo_dl_example_note": (
                "reconstruction of NengoDL's docs example 'Legendre Memory Units in NengoDL'"
                " (docs/examples/lmu.ipynb): 'current' = latest revision (no e_h, e_m),"
                " 'earlier' = earlier revision (the paper's full cell with e_h, e_m, like"
                " ours); simulated with unroll_simulation=16 as in the example"),
        })
    return res


# --------------------------------------------------------------------------
# psMNIST: the comparison of the models


def comparison_rows(results):
    """The model comparison: ``(model, test accuracy, trainable parameters, training)``.

    Rows, where measured: our LMU (``results["accuracy"]``: rate neurons,
    trained by the parallel path in NengoDL, tested as the temporal network),
    the spiking LMU on the Loihi emulator (``results["loihi"]``, see
    `LOIHI_JSON`), the feed-forward and LSTM baselines (``results["ff"]``,
    ``results["lstm"]``: `train_keras_baseline`), then the paper's figures
    (`PAPER_TABLE`). A part with ``quick`` set is marked "(quick)".

    Returns
    -------
    list of tuple of str
        The rows under `COMPARISON_HEADER`.
    """
    acc = results.get("accuracy") or {}
    loihi = results.get("loihi") or {}

    def n_note(n):
        return "" if n == 10000 else f" (n={n})"

    def quick(part):
        return " (quick)" if (results.get(part) or {}).get("quick") else ""

    rows = []
    if acc:
        rows.append((f"LMU {acc['units']} ReLU, order {acc['order']}: rate, NengoDL-trained "
                     f"(parallel), temporal network{quick('accuracy')}",
                     f"{acc['test_accuracy'] * 100:.2f} %{n_note(acc['n_test'])}",
                     f"{acc['n_trainable']:,}",
                     f"{acc['train_wall_s']:.0f} s, {acc['epochs']} epochs"))
    if loihi:
        n_trainable = loihi.get("n_trainable", acc.get("n_trainable"))
        rows.append(("same LMU, spiking, Loihi emulator"
                     + (" (quick)" if loihi.get("quick") else ""),
                     f"{loihi['accuracy'] * 100:.2f} %{n_note(loihi['n_test'])}"
                     f" (rate on the same images {loihi['rate_accuracy'] * 100:.2f} %)",
                     "" if n_trainable is None else f"{n_trainable:,}",
                     f"rate row's weights; {loihi['s_per_image']:.2g} s per test image"))
    for kind, label in (("ff", "FF baseline"), ("lstm", "LSTM baseline")):
        b = results.get(kind)
        if b:
            rows.append((f"{label}: {b['architecture']}, Keras{quick(kind)}",
                         f"{b['test_accuracy'] * 100:.2f} %{n_note(b['n_test'])}",
                         f"{b['n_trainable']:,}",
                         f"{b['train_wall_s']:.0f} s, {b['epochs_done']:.3g} epoch(s)"
                         + (f" (budget {b['budget_s'] / 60:.3g} min)"
                            if b["stopped_by_budget"] else "")))
    rows += [(f"paper: {model}", f"{accuracy * 100:.2f} %",
              "" if n is None else f"{n:,}", "") for model, accuracy, n in PAPER_TABLE]
    return rows


def plot_comparison(ax, results):
    """Test accuracy of each model of `comparison_rows` on ``ax`` (measured:
    filled; paper: open), annotated."""
    acc = results.get("accuracy") or {}
    loihi = results.get("loihi") or {}
    points = []  # (label, accuracy %, annotation, color; None: paper)
    if acc:
        points.append(("LMU, rate\n(NengoDL-trained)", acc["test_accuracy"] * 100,
                       f"{acc['n_trainable']:,} params, {acc['train_wall_s']:.0f} s", "C0"))
    if loihi:
        points.append(("LMU, spiking\n(Loihi emulator)", loihi["accuracy"] * 100,
                       f"n={loihi['n_test']}, {loihi['s_per_image']:.2g} s/image", "C1"))
    for kind, color in (("ff", "C4"), ("lstm", "C5")):
        b = results.get(kind)
        if b:
            points.append((f"{kind.upper()} baseline\n({b['architecture'].split(' -> ')[1]})",
                           b["test_accuracy"] * 100,
                           f"{b['n_trainable']:,} params, {b['train_wall_s']:.0f} s, "
                           f"{b['epochs_done']:.3g} ep.", color))
    points += [(f"paper:\n{model}", accuracy * 100, "" if n is None else f"{n:,} params", None)
               for model, accuracy, n in PAPER_TABLE]
    ys = np.arange(len(points))[::-1]
    for y, (_, value, note, color) in zip(ys, points):
        ax.plot(value, y, "D" if color is None else "o", ms=9, color=color or "k",
                mfc="none" if color is None else color)
        ax.annotate(f"{value:.2f} %  {note}", (value, y), xytext=(8, 0),
                    textcoords="offset points", va="center", fontsize="small")
    values = [p[1] for p in points]
    # room on the right for the annotations; no ticks past 100 %
    ax.set_xlim(min(values) - 2, 100 + 0.6 * (100 - min(values) + 2))
    ax.set_xticks([t for t in ax.get_xticks() if min(values) - 2 <= t <= 100])
    ax.set_yticks(ys)
    ax.set_yticklabels([p[0] for p in points], fontsize="small")
    ax.set_ylim(-0.7, len(points) - 0.3)
    ax.set_xlabel("test accuracy (%)")
    ax.set_title("psMNIST test accuracy (filled: measured here, open: paper)")
    ax.grid(alpha=0.3, axis="x")
