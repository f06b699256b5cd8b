"""The engine-neutral core for selecting past one machine and past memory.

Four functions, each usable alone, that any engine (a single process reading
shards, Ray, a curation toolkit) composes:

* :func:`~fastzip.scale.score`: the stand-alone score of every sample, ``(id, score, nbytes)``:
  exactly the stage-1 score of default mode (the sample's own compression
  ratio, float64 ``len(b) / len(C(b))``);
* :func:`~fastzip.scale.prefilter` (and :class:`~fastzip.scale.TopN`): the N lowest ``(score, id)`` of a
  stream of scored batches, in O(N) memory;
* :func:`~fastzip.scale.local_select`: ``fastzip.select`` on one partition, in id order;
* :func:`~fastzip.scale.merge`: ``fastzip.select`` on the union of partition selections.

Why a prefilter is exact (docs/semantics.md §7).  In default mode with a
sample budget B, stage 1 of round r takes the K1 lowest scores among the
samples still available; only samples stage 1 took are ever re-scored.
After r rounds at most r·K1 samples have been touched, so a sample ranked
below R·K1 (R = ceil(B / K3), the number of rounds) by its stand-alone
``(score, pool index)`` always has K1 untouched samples ahead of it and is
never reached.  Hence ``select(pool) == select(top_N(pool))`` with N = R·K1,
indices mapped back.  This does not hold for byte budgets or compat mode.

Exact duplicates.  When ``select`` drops samples whose serialized bytes equal
an earlier sample's, the prefilter drops them too: a duplicate has the same
bytes, hence the same score, and a later id than its first copy, so it ranks
right after it; dropping, inside the kept set, an item whose bytes equal an
earlier-ranked kept item's gives the top N of the de-duplicated pool.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..samples.pool import Pool, pack
from ..samples.serialize import check_serializer
from ..selection.api import select
from ..streams import codecs
from ..streams.compressor import IncrementalCompressor
from ..streams.threads import resolve_threads

__all__ = ["ScoredBatch", "Scorer", "TopN", "PartSelection", "score", "prefilter", "prefilter_size",
           "local_select", "merge", "resolve_dedupe"]


def resolve_dedupe(dedupe: bool | None) -> bool:
    """Whether to drop exact duplicates: ``select``'s default (yes) when None.

    Parameters
    ----------
    dedupe : bool or None
        The caller's choice; None is :func:`fastzip.select`'s default, True.

    Returns
    -------
    bool
    """
    return True if dedupe is None else bool(dedupe)


def prefilter_size(budget: int, k1: int, k3: int) -> int:
    """N = ceil(budget / k3) * k1: how many lowest-scored samples stage 1 can ever reach.

    Parameters
    ----------
    budget : int
        The sample budget B.
    k1, k3 : int
        The stage sizes of :func:`fastzip.select`.

    Returns
    -------
    int
        ``ceil(budget / k3) * k1``: :func:`prefilter` of this many keeps
        ``select`` exact (sample budgets, default mode).

    Raises
    ------
    fastzip.errors.InputError
        ``budget``, ``k1`` or ``k3`` is not a positive integer.
    """
    for name, value in (("budget", budget), ("k1", k1), ("k3", k3)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise InputError(f"{name} must be a positive integer, got {value!r}")
    return math.ceil(int(budget) / int(k3)) * int(k1)


# ---------------------------------------------------------------------------
# scored batches
# ---------------------------------------------------------------------------
@dataclass
class ScoredBatch:
    """Scored samples: ``ids`` (int64), ``scores`` (float64), ``nbytes`` (int64).

    ``items`` optionally holds each sample's serialized bytes (a numpy object
    array), which :class:`TopN` keeps to de-duplicate and the selection reads;
    ``extra`` holds any per-sample int64 columns an engine carries along
    (for instance where a record sits in its shard).

    Parameters
    ----------
    ids : array_like of int
        The samples' ids (stored as int64).
    scores : array_like of float
        Their stand-alone scores (stored as float64).
    nbytes : array_like of int
        Their serialized sizes in bytes (stored as int64).
    items : sequence of bytes or None, optional
        Their serialized bytes (stored as a numpy object array); None
        (default) keeps none.
    extra : dict of str to numpy.ndarray, optional
        Per-sample columns carried along (default none).

    Raises
    ------
    ValueError
        A column without one entry per id.
    """

    ids: np.ndarray
    scores: np.ndarray
    nbytes: np.ndarray
    items: np.ndarray | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = np.ascontiguousarray(self.ids, dtype=np.int64)
        self.scores = np.ascontiguousarray(self.scores, dtype=np.float64)
        self.nbytes = np.ascontiguousarray(self.nbytes, dtype=np.int64)
        n = len(self.ids)
        if len(self.scores) != n or len(self.nbytes) != n:
            raise ValueError("ids, scores and nbytes must have the same length")
        if self.items is not None and not (isinstance(self.items, np.ndarray) and self.items.dtype == object):
            items = np.empty(len(self.items), dtype=object)
            items[:] = list(self.items)
            self.items = items
        if self.items is not None and len(self.items) != n:
            raise ValueError("items must have one entry per id")
        for key, col in self.extra.items():
            if len(col) != n:
                raise ValueError(f"extra column {key!r} must have one entry per id")

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> ScoredBatch:
        """The samples at ``index``, in that order.

        Parameters
        ----------
        index : numpy.ndarray of int or bool
            Positions in the batch (or a boolean mask), as numpy indexing
            takes them.

        Returns
        -------
        ScoredBatch
            A new batch; ``items`` and the ``extra`` columns are taken too.
        """
        return ScoredBatch(self.ids[index], self.scores[index], self.nbytes[index],
                           None if self.items is None else self.items[index],
                           {k: v[index] for k, v in self.extra.items()})

    @classmethod
    def concat(cls, batches: Sequence[ScoredBatch]) -> ScoredBatch:
        """One batch holding the samples of ``batches``, in order.

        Parameters
        ----------
        batches : sequence of ScoredBatch
            The batches (None entries are skipped): all with ``items`` or
            all without, and all with the same ``extra`` columns.

        Returns
        -------
        ScoredBatch
            An empty batch (no items, no extra columns) when there is none.

        Raises
        ------
        ValueError
            Batches with and without items, or with different extra columns.
        """
        batches = [b for b in batches if b is not None]
        if not batches:
            return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
        with_items = [b.items is not None for b in batches]
        if any(with_items) and not all(with_items):
            raise ValueError("cannot concatenate batches with and without items")
        keys = set(batches[0].extra)
        if any(set(b.extra) != keys for b in batches):
            raise ValueError("cannot concatenate batches with different extra columns")
        items = np.concatenate([b.items for b in batches]) if all(with_items) else None
        return cls(np.concatenate([b.ids for b in batches]), np.concatenate([b.scores for b in batches]),
                   np.concatenate([b.nbytes for b in batches]), items,
                   {k: np.concatenate([b.extra[k] for b in batches]) for k in sorted(keys)})

    def order(self) -> np.ndarray:
        """Positions sorted by (score, id): the order stage 1 reads the pool in."""
        return np.lexsort((self.ids, self.scores))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays (ids, scores, nbytes and the extra columns), e.g. to save."""
        return {"ids": self.ids, "scores": self.scores, "nbytes": self.nbytes, **self.extra}


class Scorer:
    """Stand-alone scores, as default mode's stage 1 computes them.

    Only the configuration is pickled: the compressor (C state) is built on
    first use in whatever process the scorer lands in, so an instance can be
    shipped to workers (a Ray ``map_batches`` callable class wraps one).

    Parameters
    ----------
    codec : str or None, optional
        A built-in or registered codec; None (default) is default mode's,
        ``lz77``, refused as :func:`fastzip.select` refuses it where lz77
        cannot run.
    level : int or None, optional
        The codec's level; None (default) is its default (lz77: 2).
    serializer : str or None, optional
        ``"repr"``, ``"json"`` or ``"text"``; None (default) is ``"text"``.
    text_field : str or None, optional
        For the ``text`` serializer, read this field of each record.
    n_threads : int, optional
        Threads for the batch kernel; -1 (default) is every core, -2 all
        but one.  Scores do not depend on it.

    Raises
    ------
    fastzip.errors.UsageError
        An unknown codec, level or serializer, or a bad ``n_threads``.
    """

    def __init__(self, codec: str | None = None, level: int | None = None, serializer: str | None = None,
                 text_field: str | None = None, n_threads: int = -1):
        self.codec, self.level = codecs.resolve_select(codec, level)
        self.serializer = check_serializer(serializer or "text")
        self.text_field = text_field
        self.n_threads = resolve_threads(n_threads)
        self._ic: IncrementalCompressor | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_ic"] = None
        return state

    def config(self) -> dict[str, Any]:
        """The settings, as keyword arguments of ``fastzip.select``."""
        return {"codec": self.codec, "level": self.level, "serializer": self.serializer,
                "text_field": self.text_field}

    def pool(self, samples: Iterable[Any], first_record: int = 0) -> Pool:
        """Serialize ``samples``; an error names the record as ``first_record`` + position.

        Parameters
        ----------
        samples : iterable
            Records (dicts, str or bytes), read once.
        first_record : int, optional
            The record number of the first sample (default 0), for errors.

        Returns
        -------
        fastzip.samples.pool.Pool
            The samples serialized with this scorer's serializer and text
            field.

        Raises
        ------
        fastzip.errors.InputError
            A sample that cannot be serialized, naming its record.
        """
        try:
            return Pool.from_samples(samples, self.serializer, self.text_field)
        except InputError as exc:
            record = None if exc.record is None else first_record + exc.record
            raise InputError(exc.reason, path=exc.path, record=record, line=exc.line) from None

    def score_pool(self, pool: Pool, ids: np.ndarray | None = None, keep_items: bool = False,
                   extra: dict[str, np.ndarray] | None = None) -> ScoredBatch:
        """Score an already serialized pool (ids default to 0..n-1).

        Parameters
        ----------
        pool : fastzip.samples.pool.Pool
            The serialized samples (for instance from :meth:`pool`).
        ids : array_like of int or None, optional
            One id per sample; None (default) is 0..n-1.
        keep_items : bool, optional
            Also keep each sample's bytes in the batch's ``items`` (default
            False).
        extra : dict of str to numpy.ndarray or None, optional
            Per-sample columns to carry in the batch's ``extra``.

        Returns
        -------
        ScoredBatch
            Each sample's stand-alone score ``len(b) / len(C(b))`` (float64,
            default mode's stage-1 score) and ``len(b)``, in pool order.

        Raises
        ------
        ValueError
            Not one id per sample.
        """
        if self._ic is None:
            self._ic = IncrementalCompressor(self.codec, self.level)
        n = len(pool)
        ids = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        if len(ids) != n:
            raise ValueError(f"got {len(ids)} ids for {n} samples")
        lengths = pool.lengths
        if n:
            sizes = self._ic.marginal_sizes((pool.data, pool.offsets), self.n_threads)
            scores = lengths / sizes        # the very expression default mode's stage 1 uses
        else:
            scores = np.zeros(0)
        items = None
        if keep_items:
            items = np.empty(n, dtype=object)
            items[:] = [pool.item(i) for i in range(n)]
        return ScoredBatch(ids, scores, lengths, items, dict(extra or {}))

    def __call__(self, samples: Iterable[Any], ids: np.ndarray | None = None, keep_items: bool = False,
                 first_record: int = 0, extra: dict[str, np.ndarray] | None = None) -> ScoredBatch:
        """Serialize and score ``samples``: :meth:`pool`, then :meth:`score_pool`.

        Parameters
        ----------
        samples : iterable
            Records (dicts, str or bytes), read once.
        ids, keep_items, extra : optional
            As :meth:`score_pool` takes them.
        first_record : int, optional
            As :meth:`pool` takes it.

        Returns
        -------
        ScoredBatch
        """
        return self.score_pool(self.pool(samples, first_record), ids, keep_items, extra)


def score(samples: Iterable[Any], ids: Sequence[int] | np.ndarray | None = None, *, codec: str | None = None,
          level: int | None = None, serializer: str | None = None, text_field: str | None = None,
          n_threads: int = -1, keep_items: bool = False) -> ScoredBatch:
    """Stand-alone score of every sample: ``(id, score, nbytes)``.

    The score is the sample's own compression ratio ``len(b) / len(C(b))``
    in float64, ``b`` its serialized bytes, bit for bit default mode's stage-1
    score; ``nbytes`` is ``len(b)``.  ``ids`` default to positions 0..n-1.
    ``keep_items=True`` also keeps each ``b`` (for :func:`prefilter` with
    de-duplication and for :func:`local_select`).

    Parameters
    ----------
    samples : iterable
        Records (dicts, str or bytes), read once.
    ids : sequence of int or numpy.ndarray, optional
        One id per sample; None (default) is 0..n-1.
    codec, level, serializer, text_field, n_threads : optional
        As :class:`Scorer` takes them (default: lz77 level 2, the ``text``
        serializer, every core).
    keep_items : bool, optional
        Keep each sample's serialized bytes in the batch's ``items``
        (default False).

    Returns
    -------
    ScoredBatch
        ``(id, score, nbytes)`` of every sample, in input order.

    Raises
    ------
    fastzip.errors.InputError
        A sample that cannot be serialized, naming its record (from 0).
    fastzip.errors.UsageError
        An unknown codec, level or serializer, or a bad ``n_threads``.
    ValueError
        Not one id per sample.
    """
    scorer = Scorer(codec, level, serializer, text_field, n_threads)
    return scorer(samples, None if ids is None else np.asarray(ids, dtype=np.int64), keep_items)


# ---------------------------------------------------------------------------
# prefilter
# ---------------------------------------------------------------------------
class TopN:
    """The N lowest ``(score, id)`` of everything added, in O(N) memory.

    Batches may arrive in any order.  Memory holds at most about 2·N samples
    (plus one batch): incoming samples that rank behind the current N-th are
    dropped at once, the rest are merged every N arrivals (at least 4096).

    Parameters
    ----------
    n : int
        How many to keep.
    dedupe : bool, optional
        Drop an item whose ``items`` bytes equal a better-ranked kept
        item's (default False; needs batches with ``items``).  Exact for
        select's duplicate dropping: see "Exact duplicates" in
        :mod:`fastzip.scale.core`.

    Raises
    ------
    fastzip.errors.InputError
        ``n`` is not a positive integer.
    """

    def __init__(self, n: int, dedupe: bool = False):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise InputError(f"n must be a positive integer, got {n!r}")
        self.n = int(n)
        self.dedupe = bool(dedupe)
        self.seen = 0                 # samples added
        self.duplicates = 0           # duplicates dropped inside the kept set
        self._kept: ScoredBatch | None = None
        self._pending: list[ScoredBatch] = []
        self._pending_n = 0
        self._threshold: tuple[float, int] | None = None   # (score, id) of the N-th, once full

    def admits(self, batch: ScoredBatch) -> np.ndarray:
        """Which samples of ``batch`` rank ahead of the current N-th (all, until N are kept).

        Parameters
        ----------
        batch : ScoredBatch
            Scored samples; only ``scores`` and ``ids`` are read.

        Returns
        -------
        numpy.ndarray of bool
            One flag per sample: its ``(score, id)`` is lower than the N-th
            kept sample's.  All True until the kept set first fills.
        """
        if self._threshold is None:
            return np.ones(len(batch), dtype=bool)
        ts, tid = self._threshold
        better: np.ndarray = (batch.scores < ts) | ((batch.scores == ts) & (batch.ids < tid))
        return better

    def add_pool(self, batch: ScoredBatch, pool: Pool, digests: bool = False) -> None:
        """Add a batch scored without items; only samples that can enter are given their bytes.

        Parameters
        ----------
        batch : ScoredBatch
            The scored samples, without ``items``.
        pool : fastzip.samples.pool.Pool
            The batch's serialized samples, in the batch's order.
        digests : bool, optional
            Keep a 16-byte digest of each admitted sample's bytes (the first
            16 bytes of its SHA-256) in place of the bytes (default False):
            enough to de-duplicate, and 16 bytes a kept sample instead of
            its size.
        """
        at = np.flatnonzero(self.admits(batch))
        self.seen += len(batch) - len(at)
        batch = batch.take(at)
        items = np.empty(len(at), dtype=object)
        if digests:
            items[:] = [hashlib.sha256(pool.item(int(i))).digest()[:16] for i in at]
        else:
            items[:] = [pool.item(int(i)) for i in at]
        batch.items = items
        self.add(batch)

    def add(self, batch: ScoredBatch) -> None:
        """Add one scored batch.

        Parameters
        ----------
        batch : ScoredBatch
            Scored samples, in any order.  With ``dedupe`` it must carry
            ``items``; every batch added must carry the same columns
            (``items`` or not, the same ``extra``).

        Raises
        ------
        ValueError
            ``dedupe`` and a non-empty batch without ``items``, or batches
            with different columns.
        """
        if self.dedupe and batch.items is None and len(batch):
            raise ValueError("TopN(dedupe=True) needs batches with items (score(..., keep_items=True))")
        self.seen += len(batch)
        if self._threshold is not None and len(batch):
            better = self.admits(batch)
            if not better.all():
                batch = batch.take(np.flatnonzero(better))
        if len(batch):
            self._pending.append(batch)
            self._pending_n += len(batch)
        if self._pending_n >= max(self.n, 4096):
            self._compact()

    def _compact(self) -> None:
        parts = ([self._kept] if self._kept is not None else []) + self._pending
        self._pending, self._pending_n = [], 0
        if not parts:
            return
        union = ScoredBatch.concat(parts)
        order = union.order()
        if self.dedupe:
            order = self._drop_duplicates(union, order)
        kept = union.take(order[:self.n])
        self._kept = kept
        if len(kept) == self.n:
            self._threshold = (float(kept.scores[-1]), int(kept.ids[-1]))

    def _drop_duplicates(self, union: ScoredBatch, order: np.ndarray) -> np.ndarray:
        """Drop, in (score, id) order, items whose bytes equal an earlier item's.

        Equal bytes mean equal scores, so only runs of equal scores are looked at.
        """
        s = union.scores[order]
        tie = np.zeros(len(order), dtype=bool)
        tie[1:] = s[1:] == s[:-1]
        if not tie.any():
            return order
        drop = np.zeros(len(order), dtype=bool)
        starts = np.flatnonzero(~tie)                  # each run of equal scores starts here
        ends = np.append(starts[1:], len(order))
        items = union.items
        assert items is not None          # add() refuses batches without items
        for r in np.flatnonzero(ends - starts > 1):
            seen: set[bytes] = set()
            for p in range(int(starts[r]), int(ends[r])):
                b = items[order[p]]
                if b in seen:
                    drop[p] = True
                else:
                    seen.add(b)
        self.duplicates += int(drop.sum())
        return order[~drop]

    def result(self) -> ScoredBatch:
        """The kept samples, sorted by (score, id)."""
        self._compact()
        if self._kept is None:
            return ScoredBatch.concat([])
        return self._kept

    def __len__(self) -> int:
        return (0 if self._kept is None else len(self._kept)) + self._pending_n

    def state(self) -> dict[str, np.ndarray]:
        """Everything kept, as plain arrays (items packed), for a checkpoint; compacts first."""
        self._compact()
        kept = self._kept if self._kept is not None else ScoredBatch.concat([])
        items = [] if kept.items is None else [bytes(b) for b in kept.items]
        data, offsets = pack(items)
        threshold = self._threshold or (np.nan, 0)
        return {"seen": np.asarray([self.seen, self.duplicates], np.int64), "ids": kept.ids, "scores": kept.scores,
                "nbytes": kept.nbytes, "has_items": np.asarray([kept.items is not None]), "items_data": data,
                "items_offsets": offsets, "threshold": np.asarray([threshold[0]], np.float64),
                "threshold_id": np.asarray([threshold[1]], np.int64),
                "has_threshold": np.asarray([self._threshold is not None]),
                **{f"extra_{k}": v for k, v in kept.extra.items()}}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Go back to a :meth:`state`.

        Parameters
        ----------
        state : dict of str to numpy.ndarray
            What :meth:`state` returned (for instance saved to and loaded
            from an ``.npz`` file), from a TopN with the same ``n`` and
            ``dedupe``: neither is stored in it.
        """
        self.seen, self.duplicates = (int(v) for v in state["seen"])
        items = None
        if bool(state["has_items"][0]):
            pool = Pool(state["items_data"], state["items_offsets"], "text")
            items = np.empty(len(pool), dtype=object)
            items[:] = [pool.item(i) for i in range(len(pool))]
        extra = {k[len("extra_"):]: v for k, v in state.items() if k.startswith("extra_")}
        self._kept = ScoredBatch(state["ids"], state["scores"], state["nbytes"], items, extra)
        self._pending, self._pending_n = [], 0
        self._threshold = None
        if bool(state["has_threshold"][0]):
            self._threshold = (float(state["threshold"][0]), int(state["threshold_id"][0]))


def prefilter(batches: Iterable[ScoredBatch], n: int, *, dedupe: bool = False) -> ScoredBatch:
    """The ``n`` lowest ``(score, id)`` of a stream of scored batches, sorted so.

    Memory is O(n) whatever the stream's length.  With ``dedupe``, items
    whose bytes equal a better-ranked item's are dropped first (batches
    must carry ``items``).

    Parameters
    ----------
    batches : iterable of ScoredBatch
        The scored stream, in any order (for instance :func:`score` of each
        shard).
    n : int
        How many to keep; :func:`prefilter_size` gives the N that keeps
        ``select`` exact.
    dedupe : bool, optional
        Drop exact duplicates first (default False), as :class:`TopN` does.

    Returns
    -------
    ScoredBatch
        At most ``n`` samples, sorted by ``(score, id)``.

    Raises
    ------
    fastzip.errors.InputError
        ``n`` is not a positive integer.
    ValueError
        ``dedupe`` and a batch without ``items``, or batches with different
        columns.
    """
    top = TopN(n, dedupe)
    for batch in batches:
        top.add(batch)
    return top.result()


# ---------------------------------------------------------------------------
# select on partitions
# ---------------------------------------------------------------------------
@dataclass
class PartSelection:
    """A selection from one partition: ``ids`` in selection order, their serialized ``items``.

    Parameters
    ----------
    ids : numpy.ndarray of int64
        The selected ids, in selection order.
    items : list of bytes
        Their serialized bytes, in the same order.
    ratio : float, optional
        The selection's compression ratio (NaN when nothing was selected).
    trace : list of fastzip.RoundTrace, optional
        The selection's per-round trace.
    pool_size : int, optional
        How many samples the partition held.
    """

    ids: np.ndarray
    items: list[bytes]
    ratio: float = float("nan")
    trace: list[Any] = field(default_factory=list)
    pool_size: int = 0

    def __len__(self) -> int:
        return len(self.ids)


def _pool_of(items: Sequence[bytes], serializer: str) -> Pool:
    data, offsets = pack([bytes(b) for b in items])
    return Pool(data, offsets, serializer)


def local_select(items: Sequence[bytes] | Sequence[Any], ids: Sequence[int] | np.ndarray, budget: int, *,
                 codec: str | None = None, level: int | None = None, serializer: str | None = None,
                 text_field: str | None = None, k1: int = 10000, k2: int = 200, k3: int = 100,
                 n_threads: int = -1, progress: bool = False, lazy: bool | None = None,
                 dedupe: bool | None = None, serialized: bool = True, clamp: bool = True,
                 checkpoint: str | None = None) -> PartSelection:
    """``fastzip.select`` on one partition, its samples taken in id order.

    ``items`` are the samples' serialized bytes (``serialized=True``, as
    :func:`score` keeps them) or raw records.  Selects ``min(budget, size)``
    samples (``clamp=False``: exactly ``budget``, or select's own error);
    returns their ids in selection order.  For a partition that is
    the top N of a pool (:func:`prefilter`), the result equals ``select`` on
    the whole pool sorted by id.  ``checkpoint`` is ``select``'s.

    Parameters
    ----------
    items : sequence of bytes, or sequence
        The partition's samples: serialized bytes (``serialized=True``; see
        :func:`score` with ``keep_items=True``) or records (dicts, str or
        bytes).
    ids : sequence of int or numpy.ndarray
        One id per item, all different.
    budget : int
        Number of samples to select.
    codec, level : str or None, int or None, optional
        As :func:`fastzip.select` takes them (default: lz77 level 2).
    serializer : str or None, optional
        ``"repr"``, ``"json"`` or ``"text"``; None (default) is ``"text"``.
        Serialized items must have gone through it (it sets how the
        selection joins them).
    text_field : str or None, optional
        For records (``serialized=False``) and the ``text`` serializer, read
        this field of each record.  Ignored for serialized items.
    k1, k2, k3 : int, optional
        Stage sizes, as :func:`fastzip.select` takes them (default 10000,
        200, 100).
    n_threads : int, optional
        Threads for the batch kernels; -1 (default) is every core.
    progress : bool, optional
        Show ``select``'s progress bar on stderr (default False).
    lazy : bool or None, optional
        As :func:`fastzip.select` takes it.
    dedupe : bool or None, optional
        Drop exact duplicates, as ``select`` does; None (default) is
        ``select``'s default, True (:func:`resolve_dedupe`).
    serialized : bool, optional
        Whether ``items`` are serialized bytes (default True) or records.
    clamp : bool, optional
        Select ``min(budget, len(items))`` (default True); False passes
        ``budget`` on as it is.
    checkpoint : str or None, optional
        ``select``'s checkpoint folder.

    Returns
    -------
    PartSelection
        The selected ids in selection order, their serialized bytes, the
        ratio and trace, and the partition's size.  An empty partition gives
        an empty selection.

    Raises
    ------
    ValueError
        Not one id per item.
    fastzip.errors.InputError
        An id that occurs twice, or a sample ``select`` refuses.
    fastzip.errors.UsageError
        Arguments ``select`` refuses (a codec, level, serializer or stage
        size, or with ``clamp=False`` a budget above the partition's size).
    """
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) != len(items):
        raise ValueError(f"got {len(ids)} ids for {len(items)} samples")
    if len(ids) == 0:
        return PartSelection(np.zeros(0, np.int64), [], pool_size=0)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    if np.any(sorted_ids[1:] == sorted_ids[:-1]):
        dup = int(sorted_ids[1:][sorted_ids[1:] == sorted_ids[:-1]][0])
        raise InputError(f"id {dup} occurs more than once; ids must be unique")
    serializer = check_serializer(serializer or "text")
    samples: Pool | list[Any]
    if serialized:
        samples = _pool_of([items[int(i)] for i in order], serializer)
    else:
        samples = [items[int(i)] for i in order]
    budget = min(int(budget), len(ids)) if clamp else budget
    res = select(samples, budget, k1=k1, k2=k2, k3=k3, codec=codec, level=level,
                 serializer=serializer, n_threads=n_threads, progress=progress, lazy=lazy,
                 text_field=None if serialized else text_field, dedupe=resolve_dedupe(dedupe),
                 checkpoint=checkpoint)
    picked = order[res.indices]
    if serialized:
        chosen = [bytes(items[int(i)]) for i in picked]
    else:
        chosen = _serialize_each([items[int(i)] for i in picked], serializer, text_field)
    return PartSelection(ids[picked], chosen, res.ratio, list(res.trace), len(ids))


def _serialize_each(samples: Sequence[Any], serializer: str, text_field: str | None) -> list[bytes]:
    pool = Pool.from_samples(samples, serializer, text_field)
    return [pool.item(i) for i in range(len(pool))]


def merge(parts: Sequence[PartSelection], budget: int, **options: Any) -> PartSelection:
    """``fastzip.select`` of ``budget`` samples from the union of partition selections.

    The union is taken in id order (partitions hold disjoint ids); ``options``
    are those of :func:`local_select`.

    Parameters
    ----------
    parts : sequence of PartSelection
        Partition selections, with disjoint ids.
    budget : int
        Number of samples to select from their union.
    **options
        Keyword arguments of :func:`local_select`.  The parts' items are
        serialized bytes: give the ``serializer`` they were selected with,
        and leave ``serialized`` at True.

    Returns
    -------
    PartSelection
        As :func:`local_select` returns it, over the union.
    """
    ids = np.concatenate([np.asarray(p.ids, dtype=np.int64) for p in parts]) if parts else np.zeros(0, np.int64)
    items = [b for p in parts for b in p.items]
    return local_select(items, ids, budget, **options)
