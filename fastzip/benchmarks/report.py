"""Render pytest-benchmark JSON from fastzip's benchmarks as Markdown tables and PNG plots.

Usage::

    pytest --pyargs fastzip.benchmarks --fastzip-corpus mydata.jsonl --benchmark-only --benchmark-json bench.json
    fastzip bench-report bench.json -o report/

It reads what fastzip's benchmarks write (the pytest plugin's,
``fastzip.benchmarks``, and the repository's ``bench/``): the figures each
benchmark puts in ``extra_info`` under the keys declared in
:mod:`fastzip.benchmarks.results`, and the ``fastzip`` block the plugin adds
to the JSON (version, native or fallback build per codec, corpora).  Any
other pytest-benchmark JSON works too: its ``extra_info`` keys become columns.

The report (printed, and written to ``OUTDIR/report.md``; OUTDIR defaults
to the JSON's folder) has, per corpus, one table comparing the codecs
(one-shot MB/s and ratio, marginal sizes per second, selection time and
quality against random subsets), then one Markdown table per benchmark
group.  With matplotlib installed (``pip install 'fastzip-select[plot]'``) it also
draws, where the data allow:

* ``throughput.png``: MB/s per codec and corpus (one-shot and incremental);
* ``scaling.png``: selection time against pool size, log-log, with the
  fitted slope (time ~ pool^slope) of each line, also printed;
* ``stream_size.png``: marginal_sizes candidates/s against stream size;
* ``quality.png``: selection time against the judge ratio relative to random.

Every file is written atomically (temporary file, then ``os.replace``).
"""
from __future__ import annotations

import io
import json
import math
import os
import sys
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any, TextIO

from ..errors import InputError
from ..io import write_bytes_atomic
from .results import COLUMNS, HIDDEN, JSON_KEY, QUALITY, THROUGHPUT


# ----------------------------------------------------------------- loading ---
def load(path: str) -> dict[str, Any]:
    """Read and check a ``--benchmark-json`` file.

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    dict
        The parsed JSON, with a ``benchmarks`` list of objects.

    Raises
    ------
    fastzip.errors.InputError
        A missing file, not JSON, or not pytest-benchmark's layout.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        what = f"{exc.msg}, line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise InputError(f"not JSON ({what})", path=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise InputError("not a pytest-benchmark JSON file (no 'benchmarks' list)", path=path)
    if not all(isinstance(b, dict) for b in data["benchmarks"]):
        raise InputError("not a pytest-benchmark JSON file (a benchmark is not an object)", path=path)
    return data


def groups(data: dict[str, Any]) -> OrderedDict[str, list[dict[str, Any]]]:
    """Benchmarks by group, in the order they ran.

    Parameters
    ----------
    data : dict
        The benchmark JSON (see :func:`load`).

    Returns
    -------
    OrderedDict of str to list of dict
        Group name (``(no group)`` for none) to its benchmarks.
    """
    out: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for bench in data["benchmarks"]:
        out.setdefault(bench.get("group") or "(no group)", []).append(bench)
    return out


def info(bench: dict[str, Any]) -> dict[str, Any]:
    """A benchmark's ``extra_info``.

    Parameters
    ----------
    bench : dict
        One entry of its ``benchmarks`` list.

    Returns
    -------
    dict
        Empty when it has none.
    """
    return bench.get("extra_info") or {}


# -------------------------------------------------------------- formatting ---
def fmt_seconds(s: float) -> str:
    """A duration for a table: seconds, milliseconds or microseconds.

    Parameters
    ----------
    s : float
        Seconds.

    Returns
    -------
    str
    """
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def fmt_bytes(n: float) -> str:
    """A byte count for a table, in B, KB, MB or GB (powers of 1000).

    Parameters
    ----------
    n : float
        Bytes.

    Returns
    -------
    str
    """
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def fmt_value(key: str, value: Any) -> str:
    """One table cell: byte counts in units, integers with separators, floats to 3 digits.

    Parameters
    ----------
    key : str
        The column's ``extra_info`` key (``bytes`` and ``*_bytes`` are sizes).
    value : object
        The value (None or NaN is ``n/a``).

    Returns
    -------
    str
        Markdown-safe text.
    """
    if value is None:
        return "n/a"
    if (key == "bytes" or key.endswith("_bytes")) and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        return fmt_bytes(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value).replace("|", "\\|")
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def short_name(bench: dict[str, Any]) -> str:
    """A benchmark's name without its ``test_`` prefix.

    Parameters
    ----------
    bench : dict
        A benchmark, with its ``name``.

    Returns
    -------
    str
    """
    name = str(bench.get("name", "?"))
    return name[5:] if name.startswith("test_") else name


# ---------------------------------------------------------------- markdown ---
def group_table(benches: list[dict[str, Any]]) -> list[str]:
    """A Markdown table; extra_info values shared by every row go in a line above it.

    Parameters
    ----------
    benches : list of dict
        One group's benchmarks.

    Returns
    -------
    list of str
        The lines.
    """
    keys = {k for b in benches for k in info(b)} - HIDDEN
    if "label" in keys:
        keys -= {"codec", "level"}
    known = [(k, h) for k, h in COLUMNS if k in keys]
    columns = known + [(k, k) for k in sorted(keys - {k for k, _ in known})]
    shared = [(k, h) for k, h in columns if len(benches) > 1 and _constant(benches, k)]
    columns = [c for c in columns if c not in shared]
    lines = []
    if shared:
        lines += [" · ".join(f"{h}: {fmt_value(k, info(benches[0])[k])}" for k, h in shared), ""]
    with_spread = any((b.get("stats") or {}).get("rounds", 1) > 1 for b in benches)
    header = ["benchmark", "mean"] + (["± stddev"] if with_spread else []) + ["rounds"]
    lines += ["| " + " | ".join(header + [h for _, h in columns]) + " |",
              "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)
                             + ["---:" if _numeric(benches, k) else "---" for k, _ in columns]) + "|"]
    for b in benches:
        stats = b.get("stats") or {}
        mean, std, rounds = stats.get("mean"), stats.get("stddev"), stats.get("rounds")
        row = [f"`{short_name(b)}`", fmt_seconds(mean) if mean is not None else "n/a"]
        if with_spread:
            row.append(fmt_seconds(std) if std and rounds and rounds > 1 else "")
        row.append(str(rounds or ""))
        row += [fmt_value(k, info(b).get(k)) if k in info(b) else "" for k, _ in columns]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _constant(benches: list[dict[str, Any]], key: str) -> bool:
    values = [json.dumps(info(b).get(key, "<missing>"), sort_keys=True) for b in benches]
    return "\"<missing>\"" not in values and len(set(values)) == 1


def _numeric(benches: list[dict[str, Any]], key: str) -> bool:
    values = [info(b).get(key) for b in benches if info(b).get(key) is not None]
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def machine_lines(data: dict[str, Any]) -> list[str]:
    """The machine, Python and commit the benchmarks ran on, as Markdown list items.

    Parameters
    ----------
    data : dict
        The JSON, whose ``machine_info``, ``commit_info`` and ``datetime`` it reads.

    Returns
    -------
    list of str
    """
    m = data.get("machine_info") or {}
    cpu = m.get("cpu") or {}
    commit = data.get("commit_info") or {}
    parts = [f"CPU: {cpu.get('brand_raw', m.get('processor', '?'))} ({cpu.get('count', '?')} cores)",
             f"Python {m.get('python_version', '?')}", f"run {data.get('datetime', '?')}"]
    if commit.get("id") and commit["id"] != "unversioned":
        parts.append(f"commit {commit['id'][:10]}{' (dirty)' if commit.get('dirty') else ''}")
    return ["- " + p for p in parts]


def fastzip_lines(data: dict[str, Any]) -> list[str]:
    """The plugin's block: fastzip's version and build, the threads, the corpora.

    Parameters
    ----------
    data : dict
        The JSON; the block is its ``fastzip`` key.

    Returns
    -------
    list of str
        Markdown list items; empty when the JSON has no such block.
    """
    block = data.get(JSON_KEY)
    if not isinstance(block, dict):
        return []
    build = block.get("build") or {}
    codecs = build.get("codecs") or {}
    kernels = ", ".join(f"{name} {c.get('active', '?')}" + (f" {c['library']}" if c.get("library") else "")
                        for name, c in codecs.items() if isinstance(c, dict))
    lines = [f"- fastzip {block.get('version', '?')}" + (f": {kernels}" if kernels else "")]
    if block.get("threads") is not None:
        lines.append(f"- threads: {block['threads']}")
    for corpus in block.get("corpora") or []:
        if not isinstance(corpus, dict):
            continue
        parts = [f"{fmt_value('samples', corpus.get('samples'))} samples"]
        if isinstance(corpus.get("bytes"), (int, float)):
            parts.append(fmt_bytes(corpus["bytes"]))
        if corpus.get("text_field"):
            parts.append(f"text field {corpus['text_field']!r}")
        source = f" ({corpus['source']})" if corpus.get("source") else ""
        lines.append(f"- corpus {corpus.get('name', '?')}{source}: " + ", ".join(parts))
    return lines


def summary_tables(data: dict[str, Any]) -> list[str]:
    """Per corpus, one row per codec: one-shot, incremental and selection figures side by side.

    Parameters
    ----------
    data : dict
        The JSON, whose benchmarks' ``extra_info`` it reads.

    Returns
    -------
    list of str
        The lines of the tables.
    """
    tables: OrderedDict[str, OrderedDict[str, dict[str, tuple[str, Any]]]] = OrderedDict()
    registered = set()
    for b in data["benchmarks"]:
        e = info(b)
        kind, label = e.get("kind"), e.get("label")
        corpus = e.get("corpus") or e.get("pool")
        if kind not in (THROUGHPUT, QUALITY) or not label or not corpus:
            continue
        if e.get("registered") or e.get("custom"):
            registered.add(str(label))
        row = tables.setdefault(str(corpus), OrderedDict()).setdefault(str(label), {})
        if kind == THROUGHPUT and e.get("mode") == "one-shot":
            row["one-shot MB/s"] = ("mb_per_s", e.get("mb_per_s"))
            row["ratio"] = ("ratio", e.get("ratio"))
        elif kind == THROUGHPUT:
            row["marginal sizes/s"] = ("candidates_per_s", e.get("candidates_per_s"))
        else:
            size = fmt_value("pool_size", e.get("pool_size")) if e.get("pool_size") is not None else "?"
            row[f"vs random ({size})"] = ("vs_random", e.get("vs_random"))
            row[f"select, s ({size})"] = ("seconds", (b.get("stats") or {}).get("mean"))
    lines: list[str] = []
    for corpus, rows in tables.items():
        if len(rows) < 2:
            continue
        columns = list(OrderedDict.fromkeys(c for row in rows.values() for c in row))
        lines += [f"## Codecs on {corpus}", "",
                  "| codec | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
        for label, row in rows.items():
            cells = [_summary_cell(*row[c]) if c in row else "" for c in columns]
            name = f"{label} (registered)" if label in registered else label
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    if lines:
        lines += ["vs random: the selection's judge ratio (zstd-19 over the whole selection) divided by "
                  "that of random subsets of the same size; below 1 is less redundant than random.", ""]
    return lines


def _summary_cell(key: str, value: Any) -> str:
    if key == "seconds":
        return "n/a" if value is None else f"{value:.3g}"
    return fmt_value(key, value)


def render_markdown(data: dict[str, Any], fits: dict[str, float], notes: list[str],
                    machine_note: str | None = None) -> str:
    """The whole report as Markdown.

    Parameters
    ----------
    data : dict
        The benchmark JSON.
    fits : dict of str to float
        Fitted scaling slopes by line (see :func:`scaling_fits`).
    notes : list of str
        Lines for the plots section (image links).
    machine_note : str or None, optional
        A note on the machine.

    Returns
    -------
    str
    """
    lines = ["# fastzip benchmarks", ""] + machine_lines(data) + fastzip_lines(data)
    lines += ([f"- machine: {machine_note}"] if machine_note else []) + [""]
    lines += summary_tables(data)
    if fits:
        lines += ["Fitted slopes, selection time ~ pool size^slope (log-log least squares):", ""]
        lines += [f"- {name}: **{slope:.2f}**" for name, slope in fits.items()] + [""]
    for group, benches in groups(data).items():
        lines += [f"## {group}", ""] + group_table(benches) + [""]
    if notes:
        lines += ["## Plots", ""] + notes + [""]
    return "\n".join(lines)


# ------------------------------------------------------------------- plots ---
def fit_slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) against log(x).

    Parameters
    ----------
    xs, ys : list of float
        Positive values, as many of each.

    Returns
    -------
    float
        The slope; NaN when every x is the same.
    """
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    den = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / den if den else float("nan")


YOf = Callable[[dict[str, Any]], Any]
Points = list[tuple[float, float]]


def series(data: dict[str, Any], x_key: str, y_of: YOf, min_points: int = 2) -> OrderedDict[str, Points]:
    """Points (x, y) per line: one line per (group, mode or way, codec), kept when it has several x.

    Parameters
    ----------
    data : dict
        The benchmark JSON.
    x_key : str
        The ``extra_info`` key of x.
    y_of : callable
        y of a benchmark, or None to skip it.
    min_points : int, optional
        The fewest points a line needs.

    Returns
    -------
    OrderedDict of str to list of (float, float)
        ``"group|name"`` to its points, sorted by x.
    """
    lines: OrderedDict[str, dict[float, float]] = OrderedDict()
    for group, benches in groups(data).items():
        for b in benches:
            e = info(b)
            y = y_of(b)
            if e.get(x_key) is None or y is None or not y > 0:
                continue
            label = e.get("label") or (f"{e['codec']}-{e.get('level')}" if "codec" in e else "")
            name = " ".join(str(p) for p in (e.get("mode") or e.get("way"), label) if p)
            lines.setdefault(f"{group}|{name}", {})[float(e[x_key])] = float(y)
    out: OrderedDict[str, Points] = OrderedDict()
    for key, points in lines.items():
        if len(points) >= min_points:
            out[key] = sorted(points.items())
    return out


def scaling_fits(data: dict[str, Any]) -> OrderedDict[str, float]:
    """Slope of time against pool size for each selection line with several pool sizes.

    Parameters
    ----------
    data : dict
        The JSON: benchmarks with a ``pool_size`` and a mean time.

    Returns
    -------
    OrderedDict of str to float
        Display name (see :func:`line_names`) to slope.
    """
    lines = series(data, "pool_size", lambda b: (b.get("stats") or {}).get("mean"))
    names = line_names(lines)
    return OrderedDict((names[key], fit_slope([p[0] for p in points], [p[1] for p in points]))
                       for key, points in lines.items())


def line_names(lines: dict[str, Any]) -> dict[str, str]:
    """Display names for series keys "group|name": the group is added only when several groups appear.

    Parameters
    ----------
    lines : dict
        Keyed by ``"group|name"``.

    Returns
    -------
    dict of str to str
        Key to display name.
    """
    several = len({key.split("|", 1)[0] for key in lines}) > 1
    names = {}
    for key in lines:
        group, name = key.split("|", 1)
        names[key] = (f"{name} ({group})" if name else group) if several else (name or group)
    return names


def _pyplot() -> Any:
    import matplotlib  # optional dependency (the plot extra)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # optional dependency (the plot extra)

    return plt


def _save(fig: Any, path: str) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    write_bytes_atomic(path, buffer.getvalue())


def plot_throughput(data: dict[str, Any], path: str) -> bool:
    """Draw MB/s per codec and corpus, one panel per mode (one-shot, incremental).

    Parameters
    ----------
    data : dict
        The JSON: its throughput benchmarks (``kind``, ``mb_per_s``, ``mode``, ``label``, ``corpus``).
    path : str
        Where the PNG goes (written atomically).

    Returns
    -------
    bool
        False, writing nothing, when no benchmark measured throughput.
    """
    rows = [info(b) for b in data["benchmarks"] if info(b).get("kind") == THROUGHPUT
            and info(b).get("mb_per_s")]
    if not rows:
        return False
    plt = _pyplot()
    modes = list(OrderedDict.fromkeys(r["mode"] for r in rows))
    fig, axes = plt.subplots(len(modes), 1, figsize=(9, 3.4 * len(modes)), squeeze=False)
    for ax, mode in zip(axes[:, 0], modes):
        sub = [r for r in rows if r["mode"] == mode]
        labels = list(OrderedDict.fromkeys(r["label"] for r in sub))
        corpora = list(OrderedDict.fromkeys(r["corpus"] for r in sub))
        width = 0.8 / len(corpora)
        for j, corpus in enumerate(corpora):
            values = {r["label"]: r["mb_per_s"] for r in sub if r["corpus"] == corpus}
            xs = [i + (j - (len(corpora) - 1) / 2) * width for i, lab in enumerate(labels) if lab in values]
            ax.bar(xs, [values[lab] for lab in labels if lab in values], width, label=corpus)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_yscale("log")
        ax.set_ylabel("MB/s (log)")
        ax.set_title(f"codec throughput, {mode}")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7, ncol=len(corpora))
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return True


def plot_lines(data: dict[str, Any], path: str, x_key: str, y_of: YOf, *, title: str, xlabel: str, ylabel: str,
               slopes: bool) -> bool:
    """Draw one log-log line per series (see :func:`series`) into one PNG.

    Parameters
    ----------
    data : dict
        The benchmark JSON.
    path : str
        The PNG.
    x_key : str
        The ``extra_info`` key of x.
    y_of : callable
        y of a benchmark, or None.
    title, xlabel, ylabel : str
        The labels.
    slopes : bool
        Add each line's fitted slope to its label.

    Returns
    -------
    bool
        False, writing nothing, when no line has two points.
    """
    lines = series(data, x_key, y_of)
    if not lines:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    names = line_names(lines)
    for key, points in lines.items():
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        label = names[key]
        if slopes:
            label += f"  (slope {fit_slope(xs, ys):.2f})"
        ax.plot(xs, ys, marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return True


def plot_quality(data: dict[str, Any], path: str) -> bool:
    """Draw selection time against the judge ratio relative to random subsets.

    Parameters
    ----------
    data : dict
        The JSON: its quality benchmarks (``vs_random`` in ``extra_info``).
    path : str
        The PNG's path.

    Returns
    -------
    bool
        Whether there was a point to draw.
    """
    by_pool = defaultdict(list)
    for b in data["benchmarks"]:
        e = info(b)
        if e.get("kind") == QUALITY and e.get("vs_random") and (b.get("stats") or {}).get("mean"):
            by_pool[e.get("pool", "?")].append((b["stats"]["mean"], e["vs_random"], e.get("label", "?")))
    if not by_pool:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for pool, points in by_pool.items():
        ax.scatter([p[0] for p in points], [p[1] for p in points], label=pool)
        for t, v, label in points:
            ax.annotate(label, (t, v), fontsize=6, xytext=(3, 2), textcoords="offset points")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("selection time, s (log)")
    ax.set_ylabel("judge ratio / random subsets (lower: less redundant)")
    ax.set_title("selection quality next to speed (judge: zstd-19, whole window)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return True


def draw_plots(data: dict[str, Any], outdir: str) -> list[str]:
    """Write every plot the data allow.

    Parameters
    ----------
    data : dict
        The benchmark JSON.
    outdir : str
        The folder to write them in.

    Returns
    -------
    list of str
        The file names written.

    Raises
    ------
    ImportError
        matplotlib is not installed.
    """
    def mean(b: dict[str, Any]) -> Any:
        return (b.get("stats") or {}).get("mean")

    def rate(b: dict[str, Any]) -> Any:
        return info(b).get("candidates_per_s")

    plots: list[tuple[str, Callable[[str], bool]]] = [
        ("throughput.png", lambda p: plot_throughput(data, p)),
        ("scaling.png", lambda p: plot_lines(data, p, "pool_size", mean, title="selection time vs pool size",
                                             xlabel="pool size (samples)", ylabel="seconds", slopes=True)),
        ("stream_size.png", lambda p: plot_lines(data, p, "stream_bytes", rate,
                                                 title="marginal_sizes cost vs stream size",
                                                 xlabel="stream size (bytes)", ylabel="candidates/s",
                                                 slopes=False)),
        ("quality.png", lambda p: plot_quality(data, p)),
    ]
    return [name for name, draw in plots if draw(os.path.join(outdir, name))]


# --------------------------------------------------------------------- cli ---
def report(json_path: str, outdir: str | None = None, plots: bool = True, out: TextIO | None = None,
           machine_note: str | None = None) -> int:
    """Render a ``--benchmark-json`` file into ``report.md`` (and plots), and print it.

    Parameters
    ----------
    json_path : str
        The file.
    outdir : str or None, optional
        Where to write (default: the file's folder).
    plots : bool, optional
        Draw the PNG plots (skipped, with a note, without matplotlib).
    out : file or None, optional
        Where to print the Markdown (default: standard output).
    machine_note : str or None, optional
        A note on the machine.

    Returns
    -------
    int
        0 (problems are raised).

    Raises
    ------
    fastzip.errors.InputError
        The file is missing or not pytest-benchmark JSON.
    """
    data = load(json_path)
    outdir = outdir or os.path.dirname(os.path.abspath(json_path))
    os.makedirs(outdir, exist_ok=True)
    fits = scaling_fits(data)
    notes: list[str] = []
    if plots:
        try:
            written = draw_plots(data, outdir)
        except ImportError:
            print("fastzip bench-report: matplotlib is not installed, so no plots "
                  "(pip install 'fastzip-select[plot]'); the Markdown report is still written", file=sys.stderr)
        else:
            notes = [f"![{name[:-4]}]({name})" for name in written]
    markdown = render_markdown(data, fits, notes, machine_note)
    write_bytes_atomic(os.path.join(outdir, "report.md"), (markdown + "\n").encode("utf-8"))
    print(markdown, file=out or sys.stdout)
    for name, slope in fits.items():
        print(f"slope {name}: {slope:.2f}", file=sys.stderr)
    return 0
