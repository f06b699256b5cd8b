"""fastzip.select: ZIP data selection (docs/semantics.md §2, §3, §5)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import codecs
from ._greedy import run_default
from ._reference import run_reference
from ._trace import RoundTrace
from .compressor import compression_ratio
from .errors import InputError, UsageError
from .pool import Pool
from .serialize import FRAMING, check_serializer
from .threads import resolve_threads

COMPAT_MODES = (None, "reference")


@dataclass
class SelectionResult:
    """The outcome of :func:`select`.

    ``indices``: pool indices in selection order (numpy int64; in compat mode
    they may repeat, as the reference's do).  ``ratio``: compression ratio of
    the selection, in selection order, under the run's codec and serializer.
    ``duplicates_dropped``: how many samples default mode left out because
    their serialized bytes equal an earlier sample's (0 with ``dedupe=False``
    and in compat mode).
    """

    indices: np.ndarray
    ratio: float
    codec: str
    level: int
    serializer: str
    compat: str | None
    k1: int
    k2: int
    k3: int
    trace: list[RoundTrace] = field(default_factory=list)
    duplicates_dropped: int = 0

    @property
    def evaluations(self) -> int:
        return sum(t.evaluations for t in self.trace)

    @property
    def seconds(self) -> float:
        return sum(t.stage1_s + t.stage2_s + t.stage3_s for t in self.trace)

    def __len__(self) -> int:
        return len(self.indices)

    def plot(self, path=None, samples=None, **kwargs):
        """Draw the selection: running ratio, stage times, and the length and
        stand-alone score distributions against ``samples``, the pool it was
        made from (docs/semantics.md §7.6; needs matplotlib).

        With ``path`` (``.html``, ``.png``, ``.svg`` or ``.pdf``) the report is
        written there and its :class:`fastzip.report.ReportData` returned;
        without, the matplotlib ``Figure`` is returned.  Other keyword
        arguments go to :func:`fastzip.report.write_report`.
        """
        from . import report

        if path is not None:
            return report.write_report(self, path, samples, **kwargs)
        title = kwargs.pop("title", None)
        return report.figure(report.report_data(self, samples, **kwargs), title=title)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UsageError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise UsageError(f"{name} must be a positive integer, got {value}")
    return int(value)


def _check_ks(k1: Any, k2: Any, k3: Any) -> tuple[int, int, int]:
    k1, k2, k3 = (_positive_int(n, v) for n, v in (("k1", k1), ("k2", k2), ("k3", k3)))
    if k2 > k1:
        raise UsageError(f"k2 ({k2}) must not exceed k1 ({k1})")
    if k3 > k2:
        raise UsageError(f"k3 ({k3}) must not exceed k2 ({k2})")
    return k1, k2, k3


def _as_pool(samples: Any, serializer: str, text_field: str | None) -> Pool:
    if isinstance(samples, Pool):
        if samples.serializer != serializer:
            raise UsageError(f"the pool was serialized with {samples.serializer!r} but this run uses "
                             f"{serializer!r}; pass serializer={samples.serializer!r} or the raw samples")
        if text_field is not None:
            raise UsageError("text_field applies to raw samples, not to an already serialized Pool")
        return samples
    if isinstance(samples, (str, bytes, bytearray, dict)):
        raise UsageError("samples must be a sequence of samples, not a single "
                         f"{type(samples).__name__}")
    rows = _table_rows(samples)
    if rows is not None:
        samples = rows
    elif not isinstance(samples, Iterable):
        raise UsageError(f"samples must be a sequence, got {type(samples).__name__}")
    return Pool.from_samples(samples, serializer, text_field)


def _table_rows(samples: Any) -> list | None:
    """The rows of a data frame or table as dicts (iterating one gives its column names)."""
    module = type(samples).__module__.split(".")[0]
    if module == "pandas" and hasattr(samples, "columns") and hasattr(samples, "to_dict"):
        return samples.to_dict("records")
    if module == "polars" and hasattr(samples, "to_dicts"):
        return samples.to_dicts()
    if module == "pyarrow" and hasattr(samples, "to_pylist") and hasattr(samples, "schema"):
        return samples.to_pylist()
    return None


def selection_ratio(pool: Pool, indices: np.ndarray, codec: str, level: int) -> float:
    """Ratio of the selection, serialized in selection order as one stream."""
    if len(indices) == 0:
        return float("nan")
    framing = FRAMING[pool.serializer]
    blob = framing.open + framing.separator.join(pool.item(int(i)) for i in indices) + framing.close
    return compression_ratio(blob, codec=codec, level=level)


def select(samples: Any, budget: int | None = None, k1: int = 10000, k2: int = 200, k3: int = 100,
           codec: str | None = None, level: int | None = None, serializer: str | None = None,
           compat: str | None = None, n_threads: int = -1, progress: bool = False, *,
           budget_bytes: int | None = None, lazy: bool | None = None, text_field: str | None = None,
           dedupe: bool = True) -> SelectionResult:
    """Select the least redundant subset of ``samples`` with ZIP.

    Parameters
    ----------
    samples : sequence of dicts / str / bytes (a list, a Hugging Face
        ``datasets.Dataset``, ...), or a :class:`fastzip.serialize.Pool`.
    budget : number of samples to select.  Default mode selects exactly this
        many; ``compat="reference"`` overshoots to a multiple of ``k3`` (F5).
    budget_bytes : default mode only, instead of ``budget``: select while
        some sample still fits; the selection's serialized bytes (separators
        not counted) never exceed this.
    k1, k2, k3 : stage sizes, ``k3 <= k2 <= k1``.  Default mode clamps k1 to
        the pool; compat mode raises where the reference crashes (F6).
    codec, level, serializer : default mode defaults to zstd level 3 and the
        ``text`` serializer; compat mode is always zlib 9 and ``repr``.
        ``codec="lz77"`` is the native LZ77 cost model: each pick is
        appended to the stream at once in O(its length), so the cost of a
        pick does not grow with the selection (sizes are estimates).
    compat : None (default mode) or ``"reference"`` (docs/semantics.md §2, faults included).
    n_threads : threads for the batch kernels; -1 is every core.
    progress : show a tqdm progress bar on stderr.
    lazy : default mode: lazy greedy stage 3 (``False`` re-scores every
        candidate at every pick).  ``None`` (default) is lazy where the codec
        declares monotone added sizes (zstd and lz77, which see the whole
        stream, so a candidate's added size shrinks as the selection grows)
        and exhaustive otherwise (zlib, lz4 and registered codecs: their
        sliding windows break that property, and lazy picks measured worse
        there).  Lazy and exhaustive can differ slightly wherever the codec
        is not monotone.
    text_field : for the ``text`` serializer, read this field of each record.
    dedupe : default mode drops every sample whose serialized bytes equal an
        earlier sample's (the first copy stays), and reports how many in
        ``SelectionResult.duplicates_dropped``: the ratio objective would
        otherwise pick exact copies, since a copy changes the ratio least.
        ``False`` keeps them.  Compat mode never drops (the reference does not).

    A pandas or polars data frame, or a pyarrow table, selects its rows.
    """
    if compat not in COMPAT_MODES:
        raise UsageError(f"unknown compat mode {compat!r}; use None or 'reference'")
    k1, k2, k3 = _check_ks(k1, k2, k3)
    threads = resolve_threads(n_threads)
    if compat == "reference":
        for name, given, fixed in (("codec", codec, "zlib"), ("level", level, 9), ("serializer", serializer, "repr")):
            if given is not None and given != fixed:
                raise UsageError(f"compat='reference' always uses {name} {fixed!r}; got {given!r}")
        if budget_bytes is not None:
            raise UsageError("compat='reference' takes a budget in samples, not budget_bytes")
        codec, level, serializer = "zlib", 9, "repr"
    else:
        codec, level = codecs.resolve(codec or codecs.DEFAULT_SELECT_CODEC, level)
        if serializer is None and isinstance(samples, Pool):
            serializer = samples.serializer
        serializer = check_serializer(serializer or "text")

    if (budget is None) == (budget_bytes is None):
        raise UsageError("give exactly one of budget (samples) and budget_bytes")
    pool = _as_pool(samples, serializer, text_field)
    if len(pool) == 0:
        raise InputError("the pool is empty")
    duplicate = None
    if compat is None and dedupe:
        duplicate = np.ones(len(pool), dtype=bool)
        duplicate[pool.first_occurrences()] = False
    dropped = 0 if duplicate is None else int(duplicate.sum())
    n = len(pool) - dropped
    if budget is not None:
        budget = _positive_int("budget", budget)
        if budget > n:
            after = f" after dropping {dropped} exact duplicates" if dropped else ""
            raise UsageError(f"budget ({budget}) is larger than the pool ({n} samples{after})")
    else:
        budget_bytes = _positive_int("budget_bytes", budget_bytes)
        smallest = int(np.argmin(pool.lengths))
        if pool.lengths[smallest] > budget_bytes:
            raise InputError(f"budget_bytes ({budget_bytes}) is smaller than every sample; the smallest "
                             f"is {int(pool.lengths[smallest])} bytes", record=smallest)

    trace: list[RoundTrace] = []
    bar = _progress_bar(progress, budget)

    def on_round(info: RoundTrace) -> None:
        trace.append(info)
        if bar is not None:
            bar.update(info.picks)
            bar.set_postfix(round=info.round, evals=sum(t.evaluations for t in trace),
                            ratio=f"{info.ratio:.3f}")

    try:
        if compat == "reference":
            if k1 > n:
                raise UsageError(f"k1 ({k1}) exceeds the pool ({n} samples); the reference crashes "
                                 "here (F6). Lower k1, or use the default mode, which clamps it")
            chosen = run_reference(pool, budget, k1, k2, k3, threads, on_round)
        else:
            framing = FRAMING[serializer]
            chosen = run_default(pool, budget, budget_bytes, k1, k2, k3, codec, level,
                                 framing.separator, threads, lazy, on_round, skip=duplicate)
    finally:
        if bar is not None:
            bar.close()
    indices = np.asarray(chosen, dtype=np.int64)
    return SelectionResult(
        indices=indices, ratio=selection_ratio(pool, indices, codec, level), codec=codec,
        level=level, serializer=serializer, compat=compat, k1=k1, k2=k2, k3=k3, trace=trace,
        duplicates_dropped=dropped)


def _progress_bar(enabled: bool, budget: int | None):
    """A tqdm bar over the samples picked (no total under a byte budget)."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=budget, unit="sample", desc="fastzip select", dynamic_ncols=True)
