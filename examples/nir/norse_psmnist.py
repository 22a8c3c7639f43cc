"""Run a nengo-lmu NIR graph in Norse (PyTorch), on the CPU.

    nengo-lmu export --model DIR --format nir --discretization euler --out lmu.nir
    python norse_psmnist.py --nir lmu.nir --images images.npz --out norse.json

Needs only numpy, nir, torch and norse (``pip install nengo-lmu[norse]``, or
``pip install norse==1.1.0 nir torch`` in a separate environment: PyTorch
needs a newer typing_extensions than TensorFlow 2.12 allows). ``images.npz``
holds ``x`` (n, T) or (n, T, 1) float sequences, already scaled by the
graph's ``input_scale`` (psMNIST pixels / 255, permuted), and optionally
``y`` (n,) labels. The graph is read by Norse's own importer
(``norse.torch.from_nir``'s node map over nirtorch), with two additions
that Norse 1.1 lacks, both built from Norse's modules:

- ``LI`` nodes (the memory and the lowpass synapses) as Norse's
  ``LIBoxCell`` (``v += dt / tau (v_leak - v + r I)``);
- the voltage floor of Loihi's neurons (``v_min`` in an IF or CubaLIF
  node's metadata; NIR 1.0 cannot say it) on Norse's ``IAFCell`` and
  CubaLIF.

Each sequence runs from rest, then ``hold_steps`` zero steps; the logits
are the mean output over the last ``window`` steps (the graph's metadata).
Export with ``--discretization euler``: Norse steps every node by forward
Euler with ``dt = 1``, which the euler graph turns into the network nengo
runs (a zoh graph's order-256 memory is unstable under Euler).

Prints the accuracy (with ``y``) and writes ``--out`` (JSON: logits,
predictions, accuracy, wall time).
"""

import argparse
import json
import time

import nir
import nirtorch
import numpy as np
import torch
from norse.torch.functional.iaf import IAFFeedForwardState
from norse.torch.functional.lif_box import LIFBoxFeedForwardState
from norse.torch.module.leaky_integrator_box import LIBoxCell, LIBoxParameters
from norse.torch.utils.import_nir import _import_norse_module


class ScaledLI(torch.nn.Module):
    """NIR's LI (``tau dv/dt = v_leak - v + r I``) as Norse's ``LIBoxCell``."""

    def __init__(self, node, dt):
        super().__init__()
        self.r = torch.as_tensor(np.asarray(node.r), dtype=torch.float32)
        self.cell = LIBoxCell(LIBoxParameters(
            tau_mem_inv=torch.as_tensor(1 / np.asarray(node.tau), dtype=torch.float32),
            v_leak=torch.as_tensor(np.asarray(node.v_leak), dtype=torch.float32)), dt=dt)

    def forward(self, x, state=None):
        return self.cell(self.r * x, state)


class FlooredIAF(torch.nn.Module):
    """Norse's ``IAFCell`` with the voltage kept at or above ``v_min``."""

    def __init__(self, cell, v_min):
        super().__init__()
        self.cell, self.v_min = cell, float(v_min)

    def forward(self, x, state=None):
        z, state = self.cell(x, state)
        return z, IAFFeedForwardState(v=torch.clamp(state.v, min=self.v_min))


class FlooredCubaLIF(torch.nn.Module):
    """Norse's CubaLIF (synapse, then ``LIFBoxCell``) with the membrane voltage
    kept at or above ``v_min``."""

    def __init__(self, module, v_min):
        super().__init__()
        self.module, self.v_min = module, float(v_min)

    def forward(self, x, state=None):
        z, (syn, lif) = self.module(x, state)
        return z, (syn, LIFBoxFeedForwardState(v=torch.clamp(lif.v, min=self.v_min)))


def norse_node(node, dt=1.0):
    """Norse's module for a NIR node, plus LI and the voltage floor of IF and
    CubaLIF neurons."""
    if isinstance(node, nir.LI):
        return ScaledLI(node, dt)
    module = _import_norse_module(node, dt=dt)
    if isinstance(node, (nir.Affine, nir.Linear)):
        # Norse's importer rounds weights to float32; keep the graph's own, so
        # that --float64 computes the graph's network (float32 runs round them)
        module.weight.data = torch.from_numpy(np.asarray(node.weight, dtype=np.float64))
        if isinstance(node, nir.Affine) and node.bias is not None:
            module.bias.data = torch.from_numpy(np.asarray(node.bias, dtype=np.float64))
    v_min = (getattr(node, "metadata", None) or {}).get("v_min")
    if isinstance(node, nir.IF) and v_min is not None:
        return FlooredIAF(module, v_min)
    if isinstance(node, nir.CubaLIF) and v_min is not None:
        return FlooredCubaLIF(module, v_min)
    return module


def load(graph, dt=1.0):
    """A Norse (nirtorch) module of ``graph`` (a nir.NIRGraph or a path)."""
    if not isinstance(graph, nir.NIRGraph):
        graph = nir.read(str(graph))
    return nirtorch.load(graph, lambda node: norse_node(node, dt)), graph


def run(module, graph, x, batch_size=1000, dtype=torch.float32):
    """Logits (n, n_classes) of sequences ``x`` (n, T) as the graph's readout says,
    computed in ``dtype`` (Norse's float32 by default; float64 as nengo)."""
    meta = graph.metadata
    hold, window = int(meta["hold_steps"]), int(meta["window"])
    output = next(name for name, node in graph.nodes.items() if isinstance(node, nir.Output))
    module = module.to(dtype)
    x = np.asarray(x, dtype=np.float64 if dtype == torch.float64 else np.float32)
    x = x.reshape(len(x), -1)
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb = torch.from_numpy(x[start:start + batch_size])
            stream = torch.cat([xb, torch.zeros(len(xb), hold, dtype=xb.dtype)], dim=1)
            state, total = None, 0
            for k in range(stream.shape[1]):
                y, state = module(stream[:, k:k + 1], state)
                # nirtorch returns the value of the node it updates last; read
                # the Output node's own
                y = state.cache.get(output, y)
                if k >= stream.shape[1] - window:
                    total = total + y
            out.append((total / window).numpy())
    return np.concatenate(out).astype(np.float64)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nir", required=True, help="the .nir graph (nengo-lmu export)")
    parser.add_argument("--images", required=True, help=".npz with x (n, T) and y (n,)")
    parser.add_argument("--out", help="write logits, predictions, accuracy and wall time here")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's)")
    parser.add_argument("--float64", action="store_true",
                        help="compute in float64 (as nengo) instead of Norse's float32")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = np.load(args.images)
    start = time.perf_counter()
    module, graph = load(args.nir)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    dtype = torch.float64 if args.float64 else torch.float32
    logits = run(module, graph, data["x"], batch_size=args.batch_size, dtype=dtype)
    wall = time.perf_counter() - start
    result = {"framework": "norse", "norse_version": _version("norse"),
              "torch_version": torch.__version__, "nir_version": _version("nir"),
              "n": int(len(logits)), "wall_s": wall, "load_s": load_s,
              "s_per_image": wall / len(logits), "threads": torch.get_num_threads(),
              "dtype": str(dtype).replace("torch.", ""),
              "predictions": logits.argmax(1).tolist(), "logits": logits.tolist()}
    if "y" in data:
        result["accuracy"] = float(np.mean(logits.argmax(1) == data["y"]))
        print(f"Norse: accuracy {result['accuracy']:.2%} on {len(logits)} sequences, "
              f"{wall:.1f} s ({wall / len(logits) * 1e3:.1f} ms per sequence)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f)
    return result


def _version(name):
    from importlib.metadata import version  # pylint: disable=import-outside-toplevel

    return version(name)


if __name__ == "__main__":
    main()
