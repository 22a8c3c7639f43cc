"""nengo-lmu: Legendre Memory Units as Nengo networks, for NengoDL and Loihi.

Layers, each depending only on those above it: `nengo_lmu.systems` (the
mathematics, numpy/scipy) -> `nengo_lmu.networks`, `nengo_lmu.lmu` (Nengo
networks) -> `nengo_lmu.backends`, `nengo_lmu.training`, `nengo_lmu.loihi`,
`nengo_lmu.spiking`, `nengo_lmu.keras` (simulators, NengoDL training, Loihi
resources, rate-to-spiking conversion, keras-lmu import) ->
`nengo_lmu.delay`, `nengo_lmu.data`, `nengo_lmu.psmnist`,
`nengo_lmu.learning`, `nengo_lmu.capacity`, `nengo_lmu.mackey_glass`,
`nengo_lmu.cli` (applications).
"""

from nengo_lmu.backends import make_simulator
from nengo_lmu.keras import from_keras
from nengo_lmu.lmu import LMU, LMUClassifier
from nengo_lmu.networks import LegendreMemory
from nengo_lmu.spiking import SpikingLMUClassifier
from nengo_lmu.systems import (
    LegendreDelay,
    continuous_mapping,
    discrete_mapping,
    discretize,
    legendre_delay_matrices,
)
from nengo_lmu.version import version as __version__

__all__ = [
    "LMU",
    "LMUClassifier",
    "LegendreDelay",
    "LegendreMemory",
    "SpikingLMUClassifier",
    "__version__",
    "continuous_mapping",
    "discrete_mapping",
    "discretize",
    "from_keras",
    "legendre_delay_matrices",
    "make_simulator",
]
