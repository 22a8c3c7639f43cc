"""nengo-lmu: Legendre Memory Units as Nengo networks, for NengoDL and Loihi.

Layers, each depending only on those above it (``docs/architecture.md``):

- base: `nengo_lmu.validation`, `nengo_lmu.io`, `nengo_lmu.schema`,
  `nengo_lmu.metrics`, `nengo_lmu.plots`, `nengo_lmu.version`;
- mathematics (numpy/scipy): `nengo_lmu.systems`;
- networks and models: `nengo_lmu.neurons`, `nengo_lmu.networks`
  (`LegendreMemory`), `nengo_lmu.lmu` (`LMU`, `LMUClassifier`),
  `nengo_lmu.readout` (the hold/stream readout scheme),
  `nengo_lmu.model_dir` (model directories, deployment settings),
  `nengo_lmu.data` (`nengo_lmu.mnist_files`);
- backend glue: `nengo_lmu.backends` (`make_simulator`), `nengo_lmu.training`
  (NengoDL; `nengo_lmu.dl_plan`), `nengo_lmu.loihi` (chip resources and
  weights), `nengo_lmu.spiking` (`SpikingLMUClassifier`),
  `nengo_lmu.memory_simulation`, `nengo_lmu.batching` and
  `nengo_lmu.distributed` (evaluation at scale), `nengo_lmu.keras`
  (`from_keras`), `nengo_lmu.nir_graph` (`to_nir`, `from_nir`: NIR graphs);
- applications: `nengo_lmu.tasks` (delay, psMNIST, capacity, Mackey-Glass,
  online learning, baselines) and `nengo_lmu.cli` (the ``nengo-lmu`` command).

``import nengo_lmu`` loads none of TensorFlow, NengoDL, nengo_loihi,
keras-lmu or nir; they load when used. The module paths of 0.1 (``nengo_lmu.psmnist``
and the other applications) keep working with a `DeprecationWarning`.
"""

from nengo_lmu import _deprecated
from nengo_lmu.backends import make_simulator
from nengo_lmu.keras import from_keras
from nengo_lmu.lmu import LMU, LMUClassifier
from nengo_lmu.networks import LegendreMemory, OscillatorMemory
from nengo_lmu.nir_graph import from_nir, to_nir
from nengo_lmu.spiking import SpikingLMUClassifier
from nengo_lmu.systems import (
    LegendreDelay,
    OscillatorBank,
    continuous_mapping,
    discrete_mapping,
    discretize,
    legendre_delay_matrices,
)
from nengo_lmu.version import version as __version__

_deprecated.install()

__all__ = [
    "LMU",
    "LMUClassifier",
    "LegendreDelay",
    "LegendreMemory",
    "OscillatorBank",
    "OscillatorMemory",
    "SpikingLMUClassifier",
    "__version__",
    "continuous_mapping",
    "discrete_mapping",
    "discretize",
    "from_keras",
    "from_nir",
    "legendre_delay_matrices",
    "make_simulator",
    "to_nir",
]
