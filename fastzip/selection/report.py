"""A picture of a selection: what was picked, against what (the selection report).

``fastzip select ... --report report.html`` and :meth:`fastzip.SelectionResult.plot`
draw one figure with four panels:

1. the running ratio after each round (from ``SelectionResult.trace``);
2. the time of each stage in each round;
3. the serialized length distribution of the selection against the pool;
4. the stand-alone score distribution (``len(x) / C(x)``) of the selection
   against the pool, with the selection's judge ratio next to the mean judge
   ratio of random subsets of the same size.

The pool's lengths and scores are computed here from the records, with the
public API (:class:`fastzip.samples.pool.Pool`, :class:`fastzip.IncrementalCompressor`),
under the run's serializer, codec and level.  The judge is the one the quality
benchmark uses: the selected samples (``text`` serializer) in pool-index order,
one per line, compressed once with zstd and a window covering them all; lower
is better.

The figure needs matplotlib (``pip install 'fastzip-select[plot]'``).  An HTML report
is one self-contained file: the figure embedded as a PNG, a summary table, and
the plotted per-round series as JSON (``<script id="fastzip-report-data">``).

>>> import fastzip
>>> from fastzip import report
>>> pool = [{"text": f"sample {i}: " + "abc" * (i % 7)} for i in range(40)]
>>> res = fastzip.select(pool, 10, k1=40, k2=10, k3=5)
>>> data = report.report_data(res, pool)
>>> len(data.pool_lengths), len(data.selection_lengths)
(40, 10)
"""
from __future__ import annotations

import base64
import html
import io as _io
import json
import os
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .._optional import require_matplotlib
from ..errors import InputError
from ..io.write import check_output, write_bytes_atomic
from ..samples.pool import Pool, as_pool
from ..samples.serialize import FRAMING
from ..streams.compressor import IncrementalCompressor
from .judge import judge_ratio
from .trace import RoundTrace

__all__ = [
    "REPORT_SUFFIXES",
    "ReportData",
    "check_report_path",
    "figure",
    "report_data",
    "write_report",
]

class Selection(Protocol):
    """What the report reads of a selection (:class:`fastzip.SelectionResult` has it all).

    A protocol rather than the class itself: ``SelectionResult.plot`` draws
    with this module, so this module must not import that one.
    """

    indices: Any
    ratio: float
    codec: str
    level: int
    serializer: str
    compat: str | None
    k1: int
    k2: int
    k3: int
    trace: list[RoundTrace]


#: Output formats, by file suffix.
REPORT_SUFFIXES = (".html", ".htm", ".png", ".svg", ".pdf")
#: Seeds of the random subsets the selection's judge ratio is compared with.
RANDOM_SEEDS = (0, 1, 2, 3, 4)
#: Above this many bytes of selected text, the judge compresses at level 9, not 19.
JUDGE_FAST_ABOVE = 8 << 20

def check_report_path(path: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]] = (),
                      others: Sequence[str | os.PathLike[str]] = ()) -> str:
    """Fail before any work when a report cannot be written to ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        Where the report goes; its suffix picks the format (``.html``,
        ``.htm``, ``.png``, ``.svg`` or ``.pdf``).
    inputs : sequence of paths
        The run's inputs, which the report may not overwrite.
    others : sequence of paths
        The run's other outputs, which the report may not overwrite either.

    Returns
    -------
    str
        The format: ``"html"``, ``"png"``, ``"svg"`` or ``"pdf"``.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InputError
        The suffix is unknown.
    OutputError
        The path is an input or another output, or not a regular file.
    """
    path = os.fspath(path)
    if path == "-":
        raise InputError("the report needs a file name (.html, .png, .svg or .pdf), not standard output")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in REPORT_SUFFIXES:
        raise InputError(f"unknown report format {suffix or '(no suffix)'!r}; use one of "
                         f"{', '.join(REPORT_SUFFIXES)}", path=path)
    require_matplotlib("the selection report")
    check_output(path, inputs=[os.fspath(p) for p in inputs], others=[os.fspath(p) for p in others])
    return "html" if suffix in (".html", ".htm") else suffix[1:]


@dataclass
class ReportData:
    """Every series the report draws, and the numbers it prints.

    Attributes
    ----------
    rounds, selected, ratio : numpy arrays
        Per round (from ``SelectionResult.trace``): the round number, the
        number selected after it, and the running ratio after it.
    stage1_s, stage2_s, stage3_s : numpy arrays
        Per round: seconds spent in each stage.
    pool_lengths, selection_lengths : numpy int64 arrays
        Serialized length of every pool sample, and of every selected sample
        in selection order (the run's serializer).
    pool_scores, selection_scores : numpy float64 arrays
        Stand-alone score ``len(x) / C(x)`` of every pool sample and of every
        selected sample (the run's codec and level).
    judge_selection : float
        Judge ratio of the selection (lower is better).
    judge_random : list of float
        Judge ratios of random subsets of the same size, one per seed.
    judge_level : int
        The zstd level the judge used.
    result : dict
        The run's settings: codec, level, serializer, compat, k1, k2, k3,
        the final ratio and the number of samples.
    """

    rounds: np.ndarray
    selected: np.ndarray
    ratio: np.ndarray
    stage1_s: np.ndarray
    stage2_s: np.ndarray
    stage3_s: np.ndarray
    pool_lengths: np.ndarray
    selection_lengths: np.ndarray
    pool_scores: np.ndarray
    selection_scores: np.ndarray
    judge_selection: float
    judge_random: list[float]
    judge_level: int
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def judge_random_mean(self) -> float:
        """Mean judge ratio of the random subsets."""
        return float(np.mean(self.judge_random)) if self.judge_random else float("nan")

    def summary(self) -> dict[str, Any]:
        """The per-round series and a summary of the distributions.

        Returns
        -------
        dict
            Plain JSON types only.
        """
        def quantiles(values: np.ndarray) -> dict[str, float]:
            if len(values) == 0:
                return {}
            q = np.quantile(values, [0.0, 0.25, 0.5, 0.75, 1.0])
            return {"min": float(q[0]), "q25": float(q[1]), "median": float(q[2]),
                    "q75": float(q[3]), "max": float(q[4]), "mean": float(np.mean(values))}

        return {
            "result": self.result,
            "trace": {name: getattr(self, name).tolist() for name in
                      ("rounds", "selected", "ratio", "stage1_s", "stage2_s", "stage3_s")},
            "lengths": {"pool": quantiles(self.pool_lengths), "selection": quantiles(self.selection_lengths)},
            "scores": {"pool": quantiles(self.pool_scores), "selection": quantiles(self.selection_scores)},
            "judge": {"selection": self.judge_selection, "random": self.judge_random,
                      "random_mean": self.judge_random_mean, "level": self.judge_level,
                      "seeds": list(RANDOM_SEEDS[:len(self.judge_random)])},
        }


def _stand_alone_scores(pool: Pool, codec: str, level: int, compat: str | None, n_threads: int) -> np.ndarray:
    """Each sample's own ratio, as the run's stage 1 starts from it."""
    ic = IncrementalCompressor(codec, level)
    if compat == "reference":   # ratio([sample]): the repr list of one sample
        framing = FRAMING[pool.serializer]
        sizes = ic.marginal_sizes((pool.data, pool.offsets), n_threads,
                                  prefix=framing.open, suffix=framing.close)
        raw = pool.lengths + len(framing.open) + len(framing.close)
    else:
        sizes = ic.marginal_sizes((pool.data, pool.offsets), n_threads)
        raw = pool.lengths
    return raw / sizes


def report_data(result: Selection, samples: Any = None, *, text_field: str | None = None,
                n_threads: int = -1, judge_level: int | None = None, lengths: Any = None,
                scores: Any = None) -> ReportData:
    """Compute everything the report shows.

    Parameters
    ----------
    result : SelectionResult
        The selection to draw.
    samples : sequence or Pool, optional
        The pool the selection was made from, as given to :func:`fastzip.select`
        (records, or a :class:`~fastzip.samples.pool.Pool` serialized with the
        run's serializer).  Without it only the per-round series are filled;
        the distributions are empty and the judge ratios are NaN.
    text_field : str, optional
        The ``text_field`` the selection used, if any.
    n_threads : int
        Threads for the stand-alone scores (-1: every core).
    judge_level : int, optional
        zstd level of the judge: 19 by default, 9 when the selection holds
        more than 8 MB of text.
    lengths, scores : array-like, optional
        Without ``samples``: every pool sample's serialized length and
        stand-alone score, when they are already known (an engine that streamed
        the pool computed them).  The distributions are drawn from them; the
        judge, which needs the samples, is left out.

    Returns
    -------
    ReportData
    """
    trace = list(result.trace)

    def series(name: str, dtype: Any) -> np.ndarray:
        return np.asarray([getattr(t, name) for t in trace], dtype=dtype)

    indices = np.asarray(result.indices, dtype=np.int64)
    settings = {"codec": result.codec, "level": int(result.level), "serializer": result.serializer,
                "compat": result.compat, "k1": int(result.k1), "k2": int(result.k2), "k3": int(result.k3),
                "ratio": float(result.ratio), "selected": len(indices),
                "unique": len(np.unique(indices))}
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0, np.float64)
    pool_lengths, selection_lengths = empty_i, empty_i
    pool_scores, selection_scores = empty_f, empty_f
    judge_selection, judge_random, level = float("nan"), [], 19 if judge_level is None else int(judge_level)
    if samples is None and (lengths is not None or scores is not None):
        if lengths is None or scores is None:
            raise InputError("give both lengths and scores of the pool, or the samples")
        pool_lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
        pool_scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if len(pool_lengths) != len(pool_scores):
            raise InputError(f"lengths ({len(pool_lengths)}) and scores ({len(pool_scores)}) differ in length")
        if len(indices) and int(indices.max()) >= len(pool_lengths):
            raise InputError(f"the selection holds pool index {int(indices.max())} but the pool has "
                             f"{len(pool_lengths)} samples")
        settings["pool"] = len(pool_lengths)
        selection_lengths, selection_scores = pool_lengths[indices], pool_scores[indices]
    elif samples is not None:
        pool = as_pool(samples, result.serializer, text_field)
        if len(indices) and int(indices.max()) >= len(pool):
            raise InputError(f"the selection holds pool index {int(indices.max())} but the pool given has "
                             f"{len(pool)} samples; pass the samples the selection was made from")
        settings["pool"] = len(pool)
        pool_lengths = pool.lengths.astype(np.int64)
        selection_lengths = pool_lengths[indices]
        pool_scores = _stand_alone_scores(pool, result.codec, result.level, result.compat, n_threads)
        selection_scores = pool_scores[indices]
        text_pool = _judge_pool(samples, pool, text_field)
        if judge_level is None:
            level = 9 if int(text_pool.lengths[indices].sum()) > JUDGE_FAST_ABOVE else 19
        size = min(len(indices), len(pool))
        subsets = [indices] + [random.Random(seed).sample(range(len(pool)), size) for seed in RANDOM_SEEDS]
        with ThreadPoolExecutor(max_workers=min(len(subsets), os.cpu_count() or 1)) as workers:
            judged = list(workers.map(lambda s: judge_ratio(text_pool, s, level), subsets))
        judge_selection, judge_random = float(judged[0]), [float(x) for x in judged[1:]]
        settings["judge_serializer"] = text_pool.serializer
    return ReportData(
        rounds=series("round", np.int64), selected=series("selected", np.int64),
        ratio=series("ratio", np.float64), stage1_s=series("stage1_s", np.float64),
        stage2_s=series("stage2_s", np.float64), stage3_s=series("stage3_s", np.float64),
        pool_lengths=pool_lengths, selection_lengths=selection_lengths, pool_scores=pool_scores,
        selection_scores=selection_scores, judge_selection=judge_selection, judge_random=judge_random,
        judge_level=level, result=settings)


def _judge_pool(samples: Any, pool: Pool, text_field: str | None) -> Pool:
    """The pool as the judge reads it: the ``text`` serialization, or, when
    only a Pool serialized otherwise is at hand, that Pool's own bytes."""
    if pool.serializer == "text":
        return pool
    if isinstance(samples, Pool):
        return samples
    return Pool.from_samples(samples, "text", text_field)


def _bins(a: np.ndarray, b: np.ndarray, log: bool, n: int = 40) -> np.ndarray:
    """Common bins for two samples; linear ones end at the 99.5th percentile
    (a long tail would squash the rest: the values beyond go in the last bin)."""
    values = np.concatenate([a, b]).astype(np.float64)
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return np.array([lo - 0.5, hi + 0.5])
    if log and lo > 0 and hi / lo > 20:
        return np.geomspace(lo, hi, n + 1)
    top = float(np.quantile(values, 0.995))
    return np.linspace(lo, top if top > lo else hi, n + 1)


def _fractions(ax: Any, values: np.ndarray, bins: np.ndarray, label: str, colour: str, gid: str) -> None:
    """A step histogram of the fraction of ``values`` per bin (so samples of any size compare)."""
    clipped = np.clip(values.astype(np.float64), bins[0], bins[-1])
    weights = np.full(len(values), 1.0 / max(len(values), 1))
    *_, patches = ax.hist(clipped, bins=bins, weights=weights, histtype="step", linewidth=1.8,
                          label=label, color=colour)
    for patch in np.atleast_1d(patches):
        patch.set_gid(gid)


def _judge_label(data: ReportData) -> str:
    over = data.result.get("judge_serializer", "text")
    return f"zstd-{data.judge_level}" + ("" if over == "text" else f" over {over}")


def _default_title(data: ReportData) -> str:
    r = data.result
    mode = "compat reference" if r.get("compat") else "default mode"
    return (f"fastzip select: {r.get('selected')} of {r.get('pool', '?')} samples, {mode}, "
            f"{r.get('codec')}-{r.get('level')}, {r.get('serializer')} serializer, "
            f"K {r.get('k1')}/{r.get('k2')}/{r.get('k3')}")


def figure(data: ReportData, *, title: str | None = None) -> Any:
    """Draw the four panels into a new matplotlib ``Figure`` (no pyplot state).

    Parameters
    ----------
    data : ReportData
        From :func:`report_data`.
    title : str, optional
        The figure's title; by default the run's settings.

    Returns
    -------
    matplotlib.figure.Figure
        Axes in order: running ratio, stage times, lengths, scores.  Each
        plotted series carries a ``gid`` (``"ratio"``, ``"stage1"``,
        ``"stage2"``, ``"stage3"``, ``"lengths-pool"``, ``"lengths-selection"``,
        ``"scores-pool"``, ``"scores-selection"``) so it can be found again.
    """
    require_matplotlib("the selection report")
    from matplotlib.figure import Figure  # optional dependency (the plot extra)
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(12, 8.5), layout="constrained")
    ax_ratio, ax_time, ax_len, ax_score = fig.subplots(2, 2).ravel()
    r = data.result
    fig.suptitle(title or _default_title(data))

    line, = ax_ratio.plot(data.selected, data.ratio, marker="o", markersize=3, color="#1f77b4")
    line.set_gid("ratio")
    ax_ratio.set_xlabel("samples selected (after each round)")
    ax_ratio.set_ylabel(f"running ratio ({r.get('codec')}-{r.get('level')})")
    ax_ratio.set_title("Running compression ratio of the selection (lower: less redundant)")
    ax_ratio.grid(alpha=0.3)

    bottom = np.zeros(len(data.rounds))
    for name, label, colour in (("stage1_s", "stage 1 (global)", "#9467bd"),
                                ("stage2_s", "stage 2 (coarse)", "#ff7f0e"),
                                ("stage3_s", "stage 3 (fine)", "#2ca02c")):
        values = getattr(data, name)
        bars = ax_time.bar(data.rounds, values, bottom=bottom, label=label, color=colour, width=0.9)
        for patch in bars:
            patch.set_gid(name[:-2])
        bottom = bottom + values
    ax_time.set_xlabel("round")
    ax_time.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_time.set_ylabel("seconds")
    ax_time.set_title(f"Time per stage per round (total {bottom.sum():.3g} s)")
    ax_time.legend(loc="upper left", fontsize="small")

    if len(data.pool_lengths):
        bins = _bins(data.pool_lengths, data.selection_lengths, log=True)
        _fractions(ax_len, data.pool_lengths, bins, f"pool ({len(data.pool_lengths)}, median "
                   f"{np.median(data.pool_lengths):.0f} B)", "#7f7f7f", "lengths-pool")
        _fractions(ax_len, data.selection_lengths, bins, f"selection ({len(data.selection_lengths)}, "
                   f"median {np.median(data.selection_lengths):.0f} B)", "#d62728", "lengths-selection")
        if bins[0] > 0 and bins[-1] / bins[0] > 20:
            ax_len.set_xscale("log")
        ax_len.legend(fontsize="small")
    else:
        ax_len.text(0.5, 0.5, "pool not given", ha="center", va="center", transform=ax_len.transAxes)
    ax_len.set_xlabel(f"serialized length, bytes ({r.get('serializer')})")
    ax_len.set_ylabel("fraction of samples")
    ax_len.set_title("Sample length: selection against pool")

    if len(data.pool_scores):
        bins = _bins(data.pool_scores, data.selection_scores, log=False)
        _fractions(ax_score, data.pool_scores, bins, "pool", "#7f7f7f", "scores-pool")
        _fractions(ax_score, data.selection_scores, bins, "selection", "#d62728", "scores-selection")
        ax_score.legend(fontsize="small", loc="upper right")
        if data.judge_random:
            ax_score.text(0.98, 0.80,
                          f"judge ratio ({_judge_label(data)}, lower is better)\n"
                          f"selection: {data.judge_selection:.4f}\n"
                          f"random subsets of {min(len(data.selection_lengths), len(data.pool_lengths))}: "
                          f"{data.judge_random_mean:.4f} (mean of {len(data.judge_random)})",
                          transform=ax_score.transAxes, va="top", ha="right", fontsize="small",
                          bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85})
    else:
        ax_score.text(0.5, 0.5, "pool not given", ha="center", va="center", transform=ax_score.transAxes)
    ax_score.set_xlabel(f"stand-alone score len(x) / C(x) ({r.get('codec')}-{r.get('level')})")
    ax_score.set_ylabel("fraction of samples (the last bin holds the tail)")
    ax_score.set_title("Stand-alone score: selection against pool")
    return fig


def _render(fig: Any, fmt: str, dpi: int) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional dependency (the plot extra)

    FigureCanvasAgg(fig)
    buffer = _io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    return buffer.getvalue()


def _metadata(fmt: str) -> dict[str, Any] | None:
    # no creation dates or versions: the same run gives the same file
    if fmt == "png":
        return {"Software": None}
    if fmt == "svg":
        return {"Date": None, "Creator": None}
    if fmt == "pdf":
        return {"CreationDate": None, "Creator": None, "Producer": None}
    return None


def _html(data: ReportData, png: bytes, title: str) -> bytes:
    r = data.result
    rows = [
        ("samples selected", f"{r.get('selected')} ({r.get('unique')} unique) of {r.get('pool', '?')}"),
        ("mode", "compat reference" if r.get("compat") else "default"),
        ("codec, level, serializer", f"{r.get('codec')}, {r.get('level')}, {r.get('serializer')}"),
        ("K1, K2, K3", f"{r.get('k1')}, {r.get('k2')}, {r.get('k3')}"),
        ("rounds", str(len(data.rounds))),
        ("ratio of the selection", f"{r.get('ratio'):.4f}"),
        ("time in stages 1 / 2 / 3", " / ".join(f"{getattr(data, s).sum():.3f} s"
                                                for s in ("stage1_s", "stage2_s", "stage3_s"))),
    ]
    if len(data.pool_lengths):
        rows += [
            ("median length, selection / pool",
             f"{np.median(data.selection_lengths):.0f} B / {np.median(data.pool_lengths):.0f} B"),
            ("median stand-alone score, selection / pool",
             f"{np.median(data.selection_scores):.4f} / {np.median(data.pool_scores):.4f}"),
        ]
    if data.judge_random:
        rows += [
            (f"judge ratio ({_judge_label(data)}), selection",
             f"{data.judge_selection:.4f}"),
            (f"judge ratio, random subsets (mean of {len(data.judge_random)})",
             f"{data.judge_random_mean:.4f} ({', '.join(f'{x:.4f}' for x in data.judge_random)})"),
        ]
    table = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    payload = json.dumps(data.summary(), allow_nan=True).replace("</", "<\\/")
    image = base64.b64encode(png).decode("ascii")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1250px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ text-align: left; padding: 0.25em 1em; border-bottom: 1px solid #ddd; }}
th {{ font-weight: 600; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<table>
{table}
</table>
<img alt="running ratio, stage times, length and score distributions of the selection against the pool"
 src="data:image/png;base64,{image}">
<p>The judge compresses the selected samples (text serializer) in pool-index order, one per line, once
with zstd and a window covering them all; the random subsets of the same size use fixed seeds. A selection
whose judge ratio is below the random subsets' repeats itself less than chance would.</p>
<script type="application/json" id="fastzip-report-data">{payload}</script>
</body>
</html>
"""
    return page.encode("utf-8")


def write_report(result: Selection, path: str | os.PathLike[str], samples: Any = None, *,
                 text_field: str | None = None, n_threads: int = -1, judge_level: int | None = None,
                 lengths: Any = None, scores: Any = None, title: str | None = None,
                 dpi: int = 110) -> ReportData:
    """Write the selection report to ``path``, atomically.

    Parameters
    ----------
    result : SelectionResult
        The selection to draw.
    path : str or os.PathLike
        ``.html`` / ``.htm`` (one self-contained page), or ``.png``, ``.svg``
        or ``.pdf`` (the figure alone).
    samples : sequence or Pool, optional
        The pool the selection was made from; see :func:`report_data`.
    text_field, n_threads, judge_level, lengths, scores
        As for :func:`report_data`.
    title : str, optional
        Title of the figure and the page.
    dpi : int
        Resolution of raster images.

    Returns
    -------
    ReportData
        What was drawn.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InputError
        The path's suffix is unknown or its folder is not writable.
    """
    fmt = check_report_path(path)
    data = report_data(result, samples, text_field=text_field, n_threads=n_threads, judge_level=judge_level,
                       lengths=lengths, scores=scores)
    title = title or _default_title(data)
    fig = figure(data, title=title)
    if fmt == "html":
        payload = _html(data, _render(fig, "png", dpi), title)
    else:
        payload = _render(fig, fmt, dpi)
    write_bytes_atomic(os.fspath(path), payload)
    return data

