"""A corpus to benchmark on, and the workloads the benchmarks cut from it.

Samples are serialized once with the ``text`` serializer (what
``fastzip select`` uses by default, ``--text-field`` included).  The
benchmarks use the corpus's first samples: up to 1 MB for one-shot
compression, whole samples up to 1 MB (or half the corpus) as the
incremental stream and the samples after it as candidates, and the first
2,000 (300 for registered codecs) as selection pools.
"""
from __future__ import annotations

import os
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UsageError
from ..io.read import read_pool
from ..samples.pool import Pool
from ..selection.judge import judge_ratio

MB = 1_000_000
ONE_SHOT_BYTES = 1 * MB
STREAM_BYTES = 1 * MB
CANDIDATES_BUILTIN = 200
CANDIDATES_REGISTERED = 3       # a registered codec recompresses the whole stream per candidate
QUALITY_POOL = 2000             # selection pool for the built-in codecs
QUALITY_POOL_REGISTERED = 300   # ... and for every codec, registered ones included
QUALITY_FRACTION = 10           # select 1/10 of the pool
RANDOM_SEEDS = (0, 1, 2, 3, 4)
MIN_SAMPLES = 10


@dataclass
class QualityPool:
    """A selection pool: the corpus's first samples, exact duplicates dropped.

    Attributes
    ----------
    corpus : str
        The corpus's name.
    size : int
        How many of the corpus's first samples were taken (before dropping duplicates).
    pool : Pool
        The samples, serialized.
    budget, k1, k2, k3 : int
        The selection's budget (1/10 of the pool) and stage sizes.
    """

    corpus: str
    size: int
    pool: Pool
    budget: int
    k1: int
    k2: int
    k3: int
    _random: float | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The pool's name in benchmark groups: ``CORPUS (N samples)``."""
        return f"{self.corpus} ({len(self.pool)} samples)"

    def random_judge_ratio(self) -> float:
        """What a random subset scores: the baseline a selection is judged against.

        Returns
        -------
        float
            Mean :func:`fastzip.selection.judge.judge_ratio` of random subsets of the
            budget's size (5 fixed seeds); computed once.
        """
        if self._random is None:
            n = len(self.pool)
            self._random = float(np.mean([judge_ratio(self.pool, random.Random(seed).sample(range(n), self.budget))
                                          for seed in RANDOM_SEEDS]))
        return self._random


@dataclass
class Corpus:
    """Samples to benchmark on, serialized once (``text`` serializer).

    Attributes
    ----------
    name : str
        Shown in benchmark groups and ids (the file's name without extension).
    pool : Pool
        The first samples the benchmarks use.
    total : int
        How many samples the source has.
    total_bytes : int
        Their serialized size, one per line.
    source : str or None
        The file read, if any.
    text_field : str or None
        The field read from each record, if one was named.
    """

    name: str
    pool: Pool
    total: int
    total_bytes: int
    source: str | None = None
    text_field: str | None = None
    _quality: dict[int, QualityPool] = field(default_factory=dict, repr=False)

    @classmethod
    def from_samples(cls, name: str, samples: Iterable[Any], *, text_field: str | None = None,
                     source: str | None = None) -> Corpus:
        """A corpus of records, serialized with the ``text`` serializer.

        Parameters
        ----------
        samples : iterable
            Records: dicts, strings or bytes.
        name, text_field, source
            As in :meth:`of_pool`, which this calls (and whose errors it raises).

        Returns
        -------
        Corpus
        """
        return cls.of_pool(name, Pool.from_samples(samples, "text", text_field), text_field=text_field,
                           source=source)

    @classmethod
    def of_pool(cls, name: str, pool: Pool, *, text_field: str | None = None, source: str | None = None) -> Corpus:
        """A corpus over an already serialized pool; only the samples the benchmarks use are kept.

        Parameters
        ----------
        name : str
            The corpus's name.
        pool : Pool
            The serialized samples.
        text_field : str or None
            The field the samples were read from, if any.
        source : str or None
            The file the samples come from, if any (named in errors).

        Returns
        -------
        Corpus

        Raises
        ------
        fastzip.errors.UsageError
            Fewer than 10 samples.
        """
        if len(pool) < MIN_SAMPLES:
            where = f"{source}: " if source else ""
            raise UsageError(f"{where}the benchmarks need at least {MIN_SAMPLES} samples, "
                             f"the corpus has {len(pool)}")
        needed = _samples_needed(pool)
        kept = pool if needed >= len(pool) else pool.take(np.arange(needed))
        total_bytes = int(pool.offsets[-1]) + len(pool) - 1
        return cls(name, kept, len(pool), total_bytes, source, text_field)

    @classmethod
    def read(cls, path: str, *, text_field: str | None = None, format: str | None = None) -> Corpus:
        """Read a corpus from a file.

        Parameters
        ----------
        path : str
            A JSON list, JSONL or Parquet file; its name without extension
            names the corpus.
        text_field : str or None
            Read this field of each record.
        format : {"json", "jsonl", "parquet"} or None
            The format, when the file's name does not say it.

        Returns
        -------
        Corpus

        Raises
        ------
        fastzip.errors.FastzipError
            An unreadable file, or fewer than 10 samples.
        """
        _, pool = read_pool(path, "text", format=format, text_field=text_field)
        name = os.path.splitext(os.path.basename(os.fspath(path)))[0] or "corpus"
        return cls.of_pool(name, pool, text_field=text_field, source=os.fspath(path))

    # -- workloads -----------------------------------------------------------------------
    def pieces(self, count: int | None = None) -> list[bytes]:
        """The corpus's first samples.

        Parameters
        ----------
        count : int or None
            How many (all kept ones by default).

        Returns
        -------
        list of bytes
            The serialized samples.
        """
        n = len(self.pool) if count is None else min(count, len(self.pool))
        return [self.pool.item(i) for i in range(n)]

    def one_shot_blob(self) -> bytes:
        """The one-shot workload.

        Returns
        -------
        bytes
            Up to 1 MB of the corpus: its samples, one per line.
        """
        out, size = [], 0
        for i in range(len(self.pool)):
            if size >= ONE_SHOT_BYTES:
                break
            piece = self.pool.item(i)
            out.append(piece)
            size += len(piece) + 1
        return b"\n".join(out)[:ONE_SHOT_BYTES]

    def stream_and_candidates(self, candidates: int) -> tuple[bytes, list[bytes]]:
        """The incremental workload.

        Parameters
        ----------
        candidates : int
            How many candidates at most.

        Returns
        -------
        stream : bytes
            Whole samples, one per line, up to 1 MB or half the corpus.
        candidates : list of bytes
            The samples after them.
        """
        target = min(STREAM_BYTES, self.total_bytes // 2)
        split = int(np.searchsorted(np.cumsum(self.pool.lengths + 1), target)) + 1
        split = min(max(split, 1), len(self.pool) - 1)
        stream = b"\n".join(self.pool.item(i) for i in range(split))
        end = min(len(self.pool), split + candidates)
        return stream, [self.pool.item(i) for i in range(split, end)]

    def quality_sizes(self, registered: bool) -> list[int]:
        """Pool sizes the selection benchmarks use.

        Parameters
        ----------
        registered : bool
            For a registered codec (the small pool only).

        Returns
        -------
        list of int
            Built-in codecs: the first 2,000 and 300 samples (one size when
            the corpus is small); registered ones: 300.
        """
        small = min(QUALITY_POOL_REGISTERED, self.total)
        if registered:
            return [small]
        full = min(QUALITY_POOL, self.total)
        return [full] if full == small else [full, small]

    def quality_pool(self, size: int) -> QualityPool:
        """The selection pool of the corpus's first samples, exact duplicates dropped.

        Parameters
        ----------
        size : int
            How many first samples.

        Returns
        -------
        QualityPool
            The pool, built once per corpus and size.
        """
        if size not in self._quality:
            head = self.pool.take(np.arange(min(size, len(self.pool))))
            pool = head.take(head.first_occurrences())
            n = len(pool)
            budget = max(1, n // QUALITY_FRACTION)
            k2 = min(200, max(2, budget // 2), n)
            self._quality[size] = QualityPool(self.name, size, pool, budget, n, k2, max(1, k2 // 2))
        return self._quality[size]

    def describe(self) -> dict[str, Any]:
        """What the report prints about the corpus.

        Returns
        -------
        dict
            ``name``, ``source``, ``samples``, ``bytes``, ``samples_used`` and ``text_field``.
        """
        return {"name": self.name, "source": self.source, "samples": self.total, "bytes": self.total_bytes,
                "samples_used": len(self.pool), "text_field": self.text_field}


def _samples_needed(pool: Pool) -> int:
    """How many first samples cover every workload (1 MB one-shot, the stream and its candidates, the pools)."""
    ends = np.cumsum(pool.lengths + 1)
    stream_end = int(np.searchsorted(ends, max(ONE_SHOT_BYTES, STREAM_BYTES))) + 1
    return min(len(pool), max(QUALITY_POOL, stream_end + CANDIDATES_BUILTIN))
