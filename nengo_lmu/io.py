"""Atomic file output: a result is either fully written or not there at all."""

import contextlib
import json
import os
import tempfile


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


def write_json(path, data):
    """Write ``data`` as indented JSON to ``path``, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=False)
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
