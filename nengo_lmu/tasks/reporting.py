"""What the benchmark scripts share: log lines, text tables and results files.

Every script of ``benchmarks/`` logs its progress (`log`, with or without a
time stamp), prints a table (`format_table`, or a task's own formatter),
and writes ``OUT/<name>.json`` and ``OUT/<name>.png`` (`write_report`, by
`nengo_lmu.io.save_result`: each file atomically). Scripts that run in parts
keep one results file that each part updates (`load_results`,
`save_part`), so that rerunning a part keeps the others' entries.

Standard library and `nengo_lmu.io` only.
"""

import datetime
import json
import os
import platform
import time

from nengo_lmu.io import save_result, write_json


def now():
    """The local time as an ISO 8601 string, to the second."""
    return datetime.datetime.now().isoformat(timespec="seconds")


def log(msg, timestamp=True):
    """Print ``msg`` at once, prefixed with ``[HH:MM:SS]`` if ``timestamp``."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}" if timestamp else msg, flush=True)


def machine():
    """``{"platform": ..., "cpus": ...}`` of this machine."""
    return {"platform": platform.platform(), "cpus": os.cpu_count()}


def environment():
    """Versions of Python and of the training stack, and this machine's load.

    Imports TensorFlow, nengo, NengoDL and keras-lmu.
    """
    import keras_lmu  # pylint: disable=import-outside-toplevel
    import nengo  # pylint: disable=import-outside-toplevel
    import nengo_dl  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "nengo": nengo.__version__, "nengo_dl": nengo_dl.__version__,
            "keras_lmu": keras_lmu.__version__, "cpu_count": os.cpu_count(),
            "machine": platform.machine(), "load_average_at_start": list(os.getloadavg())}


def format_table(rows, header=("part", "figure", "value"), markdown=False):
    """Rows of strings as an aligned text table or in Markdown.

    Parameters
    ----------
    rows : list of tuple of str
    header : tuple of str
    markdown : bool
        A Markdown table instead of aligned text (the last column
        right-aligned, under a rule).

    Returns
    -------
    str
        ``"(no results)"`` if there are no rows.
    """
    if not rows:
        return "(no results)"
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(str(r[k])) for r in [header] + list(rows)) for k in range(len(header))]

    def line(row):
        cells = [f"{c:<{w}}" for c, w in zip(row[:-1], widths)]
        return "  ".join(cells + [f"{row[-1]:>{widths[-1]}}"])

    return "\n".join([line(header), "-" * (sum(widths) + 2 * (len(widths) - 1))]
                     + [line(r) for r in rows])


def write_report(out_dir, name, data, fig=None, table=None, dpi=110):
    """Print ``table`` (if given) and write ``out_dir/name.json`` and, if
    ``fig`` is given, ``out_dir/name.png`` (`nengo_lmu.io.save_result`).

    Returns
    -------
    list of str
        The paths written.
    """
    if table is not None:
        print(table)
    return save_result(out_dir, name, data, fig=fig, dpi=dpi)


def load_results(path):
    """The JSON results of an earlier run at ``path``, or an empty dict if
    there is no such file."""
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_part(path, results, part, value):
    """Set ``results[part] = value`` and write all ``results`` to ``path``
    (atomically), so that a run interrupted later keeps this part."""
    results[part] = value
    write_json(path, results)
    return value
