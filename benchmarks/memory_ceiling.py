"""Benchmark: the rate ceiling of a memory basis on psMNIST.

How much of psMNIST a memory's final state ``m_T`` can hold, read by the same
plain head for every basis: the closed-form final state of each training,
validation and test image (``MemorySystem.final_state``, one element per
step), standardised with the training images' mean and standard deviation,
read by a 346-unit ReLU layer and a linear output (Keras, Adam at 1e-3,
batch 100, ``--epochs`` epochs, one run per ``--seeds`` seed). Reported:
the best validation accuracy over the epochs and the final model's accuracy
on all 10,000 test images, mean and spread over the seeds. This is the
ceiling the issue "The LMU's memory itself on the chip" quotes for the
Legendre orders; the hold readout of ``nengo-lmu psmnist train`` reads less
(see the README).

Bases (``--bases``, each ``KIND-ORDER[@ALPHA]``):

- ``legendre-ORDER``: `nengo_lmu.systems.LegendreDelay`, ``theta`` 784;
- ``oscillators-ORDER``: `nengo_lmu.systems.OscillatorBank`, ``theta`` 784;
- ``chain-ORDER[@ALPHA]``: a feed-forward chain of ``ORDER`` discrete
  lowpass stages (a gamma memory), ``x_k[t] = c x_k[t-1] + (1 - c)
  x_{k-1}[t-1]`` with ``x_0 = u`` and ``1 - c = ORDER / (ALPHA * 784)``
  (mean delay of the last stage ``ALPHA * 784`` steps; ``ALPHA`` 1 by
  default). It has no recurrent loop between state variables, so a spiking
  realisation would not amplify its neurons' errors as the dense memory's
  loop does; its state spans the Laguerre functions, whose resolution
  coarsens with the delay. Defined here only, as a peer basis.

Prints a table and writes ``OUT/memory_ceiling.json`` and ``.png``::

    python benchmarks/memory_ceiling.py --out results/ceiling \\
        [--bases legendre-64,chain-256] [--seeds 0 1] [--epochs 15]
"""

import argparse
import sys
import time

import numpy as np

from nengo_lmu.data import N_PIXELS, load_psmnist
from nengo_lmu.plots import pyplot
from nengo_lmu.systems import LegendreDelay, OscillatorBank
from nengo_lmu.tasks.reporting import environment, format_table, log, write_report

#: The bases of the README's table.
DEFAULT_BASES = ("legendre-16,legendre-32,legendre-64,legendre-128,legendre-256,"
                 "oscillators-64,oscillators-128,oscillators-256,"
                 "chain-64,chain-128,chain-256,chain-256@0.75,chain-256@1.25,chain-512")
KINDS = ("legendre", "oscillators", "chain")


def basis(name):
    """``KIND-ORDER[@ALPHA]`` as ``(kind, order, alpha)``, or a `ValueError`."""
    kind, _, rest = name.partition("-")
    order, at, alpha = rest.partition("@")
    try:
        alpha = float(alpha) if at else 1.0
    except ValueError:
        alpha = -1.0
    if kind not in KINDS or not order.isdigit() or int(order) < 1 or alpha <= 0 or (
            at and kind != "chain") or (kind == "chain" and int(order) > alpha * N_PIXELS) or (
            kind == "oscillators" and int(order) % 2):
        raise ValueError(f"a basis is KIND-ORDER[@ALPHA] with KIND one of {KINDS} (ALPHA > 0, "
                         f"chains only, ORDER <= ALPHA * {N_PIXELS}; ORDER even for "
                         f"oscillators), got {name!r}")
    return kind, int(order), alpha


def chain_impulse_response(order, alpha, n_steps=N_PIXELS):
    """``H[t]``: the chain's state ``t`` steps after a unit impulse, ``(n_steps, order)``."""
    c = 1.0 - order / (alpha * N_PIXELS)
    H = np.zeros((n_steps, order))
    x = np.zeros(order)
    for t in range(n_steps):
        drive = np.concatenate([[1.0 if t == 0 else 0.0], x[:-1]])
        x = c * x + (1 - c) * drive
        H[t] = x
    return H


def final_states(kind, order, alpha, u):
    """The final state of the sequences ``u`` (n, 784) in the basis `basis` parsed."""
    if kind == "chain":
        H = chain_impulse_response(order, alpha, u.shape[1])
        return u @ np.ascontiguousarray(H[::-1])
    system = (LegendreDelay if kind == "legendre" else OscillatorBank)(N_PIXELS, order)
    return system.final_state(u, 1.0)


def ceiling(name, data, seeds, epochs):
    """Train the head on the basis' final states once per seed."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    kind, order, alpha = basis(name)
    m = {k: final_states(kind, order, alpha, data[k][0][:, :, 0].astype(np.float64))
         for k in ("train", "valid", "test")}
    mean, std = m["train"].mean(0), m["train"].std(0) + 1e-12
    m = {k: ((v - mean) / std).astype(np.float32) for k, v in m.items()}
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        tf.keras.utils.set_random_seed(seed)
        head = tf.keras.Sequential([tf.keras.layers.Dense(346, activation="relu"),
                                    tf.keras.layers.Dense(10)])
        head.compile(tf.keras.optimizers.Adam(1e-3),
                     tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     ["accuracy"])
        history = head.fit(m["train"], data["train"][1], batch_size=100, epochs=epochs,
                           verbose=0, validation_data=(m["valid"], data["valid"][1]))
        test = head.evaluate(m["test"], data["test"][1], verbose=0, batch_size=1000)[1]
        runs.append({"seed": seed, "valid": float(max(history.history["val_accuracy"])),
                     "test": float(test), "seconds": time.perf_counter() - start})
        log(f"{name} seed {seed}: validation {runs[-1]['valid']:.2%}, test {test:.2%}")
    test = [r["test"] for r in runs]
    return {"basis": name, "kind": kind, "order": order, "alpha": alpha if kind == "chain"
            else None, "runs": runs, "valid_mean": float(np.mean([r["valid"] for r in runs])),
            "test_mean": float(np.mean(test)), "test_spread": float(np.ptp(test)),
            "n_test": int(len(data["test"][1]))}


def plot(rows):
    """Test accuracy against the number of state variables, one line per kind."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for kind in KINDS:
        pts = sorted((r["order"], r["test_mean"] * 100) for r in rows
                     if r["kind"] == kind and (r["alpha"] in (None, 1.0)))
        if pts:
            ax.plot(*zip(*pts), "o-", label=kind)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("state variables (order)")
    ax.set_ylabel("test accuracy, closed-form m_T (%)")
    ax.set_title("psMNIST rate ceiling of the memory basis")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/benchmarks", help="directory of the results")
    parser.add_argument("--bases", default=DEFAULT_BASES,
                        help="comma-separated KIND-ORDER[@ALPHA] (default: %(default)s)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1],
                        help="seeds of the head's training (default: 0 1)")
    parser.add_argument("--epochs", type=int, default=15, help="epochs (default: 15)")
    args = parser.parse_args(argv)
    names = [b.strip() for b in args.bases.split(",") if b.strip()]
    for name in names:  # every name checked before anything is loaded or trained
        try:
            basis(name)
        except ValueError as e:
            parser.error(f"--bases: {e}")
    if not names:
        parser.error("--bases: give at least one basis")
    if args.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {args.epochs}")
    data = load_psmnist(0)
    rows = [ceiling(name, data, args.seeds, args.epochs) for name in names]
    table = format_table(
        [(r["basis"], str(r["order"]), f"{r['valid_mean']:.2%}",
          f"{r['test_mean']:.2%} (spread {r['test_spread']:.2%})") for r in rows],
        header=("basis", "state variables", "validation (mean)",
                f"test, all {rows[0]['n_test']:,} (mean of {len(args.seeds)} seeds)"))
    write_report(args.out, "memory_ceiling",
                 {"rows": rows, "epochs": args.epochs, "seeds": args.seeds,
                  "environment": environment()}, fig=plot(rows), table=table)


if __name__ == "__main__":
    sys.exit(main())
