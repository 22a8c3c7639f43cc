"""File output and input: atomic writes, checked reads.

Output is atomic: a result is either fully written or not there at all
(`atomic_path`, `write_json`, `save_npz`, `save_figure`, `save_result`).
Input of an ``.npz`` archive is checked (`read_npz`, `read_json_array`):
it is read without pickle, and a file that is missing raises
`FileNotFoundError`, one that is truncated, corrupt or not an archive of
arrays a `CorruptFileError` naming the file and the problem.
"""

import contextlib
import glob
import hashlib
import io
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np


class CorruptFileError(ValueError):
    """A file that cannot be used: truncated, corrupt, edited, or not what
    nengo-lmu writes. The message names the file and the problem."""


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; move it into place on success.

    On any exception the temporary file is removed and ``path`` is left as
    it was, so an interrupted run never leaves a truncated file behind.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    base, ext = os.path.splitext(os.path.basename(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f".tmp{ext}", dir=directory)
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates files only we can read
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def file_sha256(path, chunk=1 << 20):
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_stale_temp_files(directory, names):
    """Remove the temporary files `atomic_path` left in ``directory`` for the
    files ``names`` when a run was killed mid-write; return their paths."""
    removed = []
    for name in names:
        base, ext = os.path.splitext(name)
        for tmp in glob.glob(os.path.join(glob.escape(directory), f".{base}.*.tmp{ext}")):
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
                removed.append(tmp)
    return removed


def save_npz(path, arrays):
    """Write ``arrays`` ({name: array}) as an uncompressed ``.npz``, atomically
    and byte for byte reproducibly (fixed zip timestamps, sorted names), for
    `numpy.load` with ``allow_pickle=False``."""
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            for name in sorted(arrays):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asanyarray(arrays[name]),
                                          allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                zf.writestr(info, buf.getvalue())


def strict_json(data):
    """``data`` with every non-finite float (NaN, inf) replaced by None and
    numpy scalars and arrays made plain Python, so that it is strict JSON."""
    if isinstance(data, dict):
        return {k: strict_json(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [strict_json(v) for v in data]
    if isinstance(data, np.ndarray):
        return strict_json(data.tolist())
    if isinstance(data, np.generic):
        data = data.item()
    if isinstance(data, float) and not np.isfinite(data):
        return None
    return data


def write_json(path, data):
    """Write ``data`` as indented, strict JSON (`strict_json`: no NaN tokens)
    to ``path``, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(strict_json(data), f, indent=2, sort_keys=False, allow_nan=False)
            f.write("\n")


def save_figure(fig, path, close=True, **kwargs):
    """Save a matplotlib figure to ``path``, atomically (and close it)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, **kwargs)
    if close:
        import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

        plt.close(fig)


def save_result(out_dir, name, data, fig=None, dpi=110):
    """Write a result as ``out_dir/name.json`` (and its figure as
    ``out_dir/name.png``), atomically; return the paths written."""
    paths = [os.path.join(out_dir, f"{name}.json")]
    write_json(paths[0], data)
    if fig is not None:
        paths.append(os.path.join(out_dir, f"{name}.png"))
        save_figure(fig, paths[1], dpi=dpi)
    return paths


# --- checked input ------------------------------------------------------------


def check_file(path, noun, error=CorruptFileError):
    """Refuse a path that is missing (`FileNotFoundError`) or not a file
    (``error``); ``noun`` names what was expected there."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {noun} at {path}")
    if not os.path.isfile(path):
        raise error(f"{path} is a directory, not a file ({noun} expected)")


def _npz_head(path, noun, writer, error):
    """Refuse a file that does not start as a zip archive, naming what it is."""
    kind = f"a {noun}"
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as e:
        raise error(f"{path} cannot be read: {e.strerror or e}") from None
    if not head:
        raise error(f"{path} is empty, not {kind}")
    if head.startswith(b"\x93NUMPY"):
        raise error(f"{path} is a single .npy array, not {kind} (an .npz archive "
                    f"of named arrays, as {writer} writes)")
    if not head.startswith(b"PK"):
        raise error(f"{path} is not {kind}: not an .npz (zip) archive "
                    f"(it starts with {head!r})")


def read_npz(path, noun, writer, error=CorruptFileError):
    """The arrays (``{name: ndarray}``) of an ``.npz`` archive, read without pickle.

    ``noun`` says what the file should be (``"params file"``) and ``writer``
    what writes it (``"nengo_lmu.model_dir.save_params"``), for the messages.
    Raises `FileNotFoundError` if there is no file, ``error`` (a
    `CorruptFileError` by default) naming ``path`` for anything that is not
    a readable ``.npz`` of arrays: a directory, an empty file, a single
    ``.npy``, text, a truncated archive, data failing their CRC-32, arrays
    of Python objects.
    """
    path = os.fspath(path)
    check_file(path, noun, error)
    _npz_head(path, noun, writer, error)
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()  # every member's CRC-32 (numpy checks none)
        data = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError,
            NotImplementedError) as e:
        raise error(f"{path} is truncated or corrupt: not a readable .npz "
                    f"archive ({e})") from None
    if bad is not None:
        data.close()
        raise error(f"{path} is truncated or corrupt: the data of {bad!r} fail "
                    "their checksum (CRC-32)")
    arrays = {}
    with data:
        for name in data.files:
            try:
                value = data[name]
            except ValueError as e:
                if "allow_pickle" in str(e):
                    raise error(f"{path}: array {name!r} holds Python objects, "
                                "which are never loaded (no pickle)") from None
                raise error(f"{path}: array {name!r} is corrupt ({e})") from None
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError) as e:
                raise error(f"{path} is truncated or corrupt: array {name!r} "
                            f"cannot be read ({e})") from None
            if not isinstance(value, np.ndarray):
                raise error(f"{path}: member {name!r} is not a .npy array")
            arrays[name] = value
    return arrays


def read_json_array(path, arrays, name="meta", error=CorruptFileError):
    """The JSON object stored as the string array ``arrays[name]``
    (``np.array(json.dumps(obj))``) of the ``.npz`` at ``path``; ``error``
    naming ``path`` if it is not one."""
    value = arrays[name]
    if value.shape != () or value.dtype.kind != "U":
        raise error(f"{path}: its {name} is not a JSON string (got an array of "
                    f"shape {value.shape}, dtype {value.dtype})")
    try:
        data = json.loads(str(value))
    except json.JSONDecodeError as e:
        raise error(f"{path}: its {name} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise error(f"{path}: its {name} is not a JSON object, got "
                    f"{type(data).__name__}")
    return data
