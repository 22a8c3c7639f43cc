"""nengo-lmu: Legendre Memory Units as Nengo networks, for NengoDL and Loihi."""

from nengo_lmu.systems import (
    LegendreDelay,
    continuous_mapping,
    discrete_mapping,
    discretize,
    legendre_delay_matrices,
)
from nengo_lmu.networks import LegendreMemory
from nengo_lmu.backends import make_simulator

from nengo_lmu.version import version as __version__
from nengo_lmu.lmu import LMU, LMUClassifier
from nengo_lmu.keras import from_keras
