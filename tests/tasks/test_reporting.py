"""Tests of nengo_lmu.tasks.reporting, what the benchmark scripts share."""

import json
import re

from nengo_lmu.tasks import reporting


def test_log(capsys):
    reporting.log("hello")
    reporting.log("plain", timestamp=False)
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] hello", out[0]) and out[1] == "plain"


def test_format_table():
    rows = [("a", "first", "1 s"), ("bb", "second", "10 s")]
    text = reporting.format_table(rows).splitlines()
    assert text[0].split() == ["part", "figure", "value"] and set(text[1]) == {"-"}
    assert text[2].endswith(" 1 s") and len(text[2]) == len(text[3]) == len(text[1])
    assert reporting.format_table([]) == "(no results)"
    md = reporting.format_table(rows, ("x", "y", "z"), markdown=True).splitlines()
    assert md == ["| x | y | z |", "|---|---|---|", "| a | first | 1 s |",
                  "| bb | second | 10 s |"]


def test_parts_update_one_file(tmp_path):
    path = tmp_path / "out" / "bench.json"
    results = reporting.load_results(path)
    assert results == {}
    reporting.save_part(path, results, "one", {"x": 1})
    later = reporting.load_results(path)
    reporting.save_part(path, later, "two", [2])
    assert json.loads(path.read_text()) == {"one": {"x": 1}, "two": [2]}


def test_write_report(tmp_path, capsys):
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    paths = reporting.write_report(tmp_path, "r", {"a": 1}, fig=fig, table="TABLE")
    assert capsys.readouterr().out == "TABLE\n"
    assert [p.rsplit("/", 1)[1] for p in paths] == ["r.json", "r.png"]
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": 1}
    assert not plt.get_fignums()  # closed
    assert reporting.machine()["cpus"] >= 1 and reporting.now()[4] == "-"
