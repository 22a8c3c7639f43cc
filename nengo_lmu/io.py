"""Atomic file output: a result is either fully written or not there at all."""

import contextlib
import glob
import hashlib
import io
import json
import os
import tempfile
import zipfile

import numpy as np


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
