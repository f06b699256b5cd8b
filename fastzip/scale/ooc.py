"""Out-of-core selection from one file or many shards (docs/semantics.md §7).

``fastzip select huge.jsonl`` (or a ``.parquet`` file, a folder of shards, a
glob) in default mode with a sample budget:

1. reads every shard once, in batches, scoring each sample stand-alone and
   keeping only the N = ceil(budget / k3) * k1 lowest ``(score, pool index)``
   (:class:`fastzip.scale.TopN`) with where each sits in its shard and a
   16-byte digest of its bytes (for de-duplication), never the bytes;
2. reads those N again by offset, a chunk at a time, into a disk-backed
   pool (:mod:`fastzip.scale.disk`) and selects from it with the unchanged
   ``fastzip.select``;
3. copies the chosen records to the output, reading the shards once more by
   offset (JSONL lines byte for byte, Parquet rows with their schema).

The pool is the shards' records in order: shards sorted by path, records in
file order, numbered from 0 across shards.  The result is identical to
loading everything.  Peak memory is O(N) small entries (score, id, place,
digest: about 100 bytes each with Python's overheads) plus the engine's
state, not the N samples' bytes, which the operating system pages in from
the pool file as the rounds need them.

With ``checkpoint``, the scoring pass is saved after each shard, the
disk-backed pool is kept in the folder and the selection saves its state
every few rounds: a run killed at any point continues from there.
"""
from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..errors import InputError
from ..io import remote
from ..io.read import check_unchanged, input_stamp
from ..io.shards import BATCH_SIZE, expand_inputs, iter_batches, read_records_at, write_chosen
from ..selection.api import select
from ..selection.checkpoint import load_arrays, open_folder, removed_on_bad_input, save_arrays
from ..selection.config import check_ks, positive_int
from ..selection.result import SelectionResult
from .core import PartSelection, ScoredBatch, Scorer, TopN, prefilter_size, resolve_dedupe
from .disk import META_FILE, PoolWriter, open_pool

SCORING_FILE = "scoring.npz"      # the scoring pass's state in a checkpoint folder
REREAD_CHUNK = 65536              # kept records read again and serialized at once


# ---------------------------------------------------------------------------
# the streaming pass
# ---------------------------------------------------------------------------
def score_shards(paths: Sequence[str], n: int, scorer: Scorer, *, dedupe: bool = False,
                 batch_size: int = BATCH_SIZE, progress: bool = False, checkpoint: str | None = None) -> TopN:
    """One pass over the shards: the top ``n`` by (score, pool index), with locations.

    ``scorer`` is a :class:`fastzip.scale.Scorer`; returns a :class:`fastzip.scale.TopN`.
    With ``checkpoint`` (a folder opened with
    :func:`fastzip.selection.checkpoint.open_folder`), the kept samples are
    saved after each shard and a rerun continues after the last one saved.
    """
    top = TopN(n, dedupe)
    first_shard, first_record = 0, 0
    state_path = None if checkpoint is None else os.path.join(checkpoint, SCORING_FILE)
    saved = None if state_path is None else load_arrays(state_path)
    if saved is not None:
        top.restore(saved)
        first_shard, first_record = int(saved["next"][0]), int(saved["next"][1])
    bar = None
    # local shards: a bar of bytes; remote ones (their sizes would cost a request each): of records
    by_bytes = not any(remote.is_remote(p) for p in paths)
    sizes = [os.path.getsize(p) for p in paths] if progress and by_bytes else []
    if progress:
        bar = tqdm(total=sum(sizes) if by_bytes else None, unit="B" if by_bytes else " records", unit_scale=True,
                   desc="fastzip score", dynamic_ncols=True)
    try:
        record = first_record
        for shard in range(first_shard, len(paths)):
            for batch in iter_batches([paths[shard]], batch_size, first=record):
                ids = np.arange(batch.first, batch.first + len(batch.records), dtype=np.int64)
                extra = {"shard": np.full(len(ids), shard, np.int64), "start": batch.starts,
                         "length": batch.lengths}
                try:
                    pool = scorer.pool(batch.records, batch.first)
                except InputError as exc:
                    line = None
                    if exc.record is not None and batch.lines is not None:
                        line = int(batch.lines[exc.record - batch.first])
                    raise InputError(exc.reason, path=paths[shard], record=exc.record,
                                     line=line if exc.line is None else exc.line) from None
                # entrants keep a 16-byte digest (to de-duplicate), not their bytes: read again by offset later
                top.add_pool(scorer.score_pool(pool, ids, extra=extra), pool, digests=True)
                record = batch.first + len(batch.records)
                if bar is not None:
                    bar.n = sum(sizes[:shard]) + batch.consumed_bytes if by_bytes else record
                    bar.refresh()
            if state_path is not None:       # the shard is done: keep what it left, atomically
                save_arrays(state_path, {**top.state(), "next": np.asarray([shard + 1, record], np.int64)})
    finally:
        if bar is not None:
            bar.close()
    return top


# ---------------------------------------------------------------------------
# the whole out-of-core selection
# ---------------------------------------------------------------------------
@dataclass
class ShardSelection:
    """What :func:`select_shards` did."""

    indices: np.ndarray            # pool indices, in selection order
    ratio: float
    pool_size: int                 # samples read
    kept: int                      # samples kept after the streaming pass
    duplicates: int                # exact duplicates dropped inside the kept set
    trace: list[Any]
    timings: dict[str, float]
    codec: str
    level: int
    serializer: str


def select_shards(input: str | Sequence[str], budget: int, output: str | None = None, *, k1: int = 10000,
                  k2: int = 200, k3: int = 100, codec: str | None = None, level: int | None = None,
                  serializer: str | None = None, text_field: str | None = None, n_threads: int = -1,
                  progress: bool = False, lazy: bool | None = None, dedupe: bool | None = None,
                  batch_size: int = BATCH_SIZE, output_format: str | None = None,
                  checkpoint: str | os.PathLike[str] | None = None) -> ShardSelection:
    """Default-mode selection of ``budget`` samples from shards that need not fit in memory.

    ``input`` is a file, a folder, a glob or a list of paths.  Identical to
    ``fastzip.select`` over all records (in path order), ``indices`` being
    pool indices; writes the chosen records to ``output`` when given.
    ``checkpoint`` is a folder keeping the scoring pass (after each shard)
    and the selection's state (every few rounds): a rerun with the same
    arguments and unchanged inputs continues from it; a folder made by
    another run is refused.
    """
    with removed_on_bad_input(checkpoint):   # a failed run leaves no folder to refuse its rerun
        paths = expand_inputs(input) if isinstance(input, (str, os.PathLike)) else [os.fspath(p) for p in input]
        k1, k2, k3 = check_ks(k1, k2, k3)
        budget = positive_int("budget", budget)
        dedupe = resolve_dedupe(dedupe)
        scorer = Scorer(codec, level, serializer, text_field, n_threads)
        n = prefilter_size(budget, k1, k3)
        timings: dict[str, float] = {}
        stamps = [input_stamp(path) for path in paths]
        folder = None
        if checkpoint is not None:
            key = {"engine": "out-of-core", "budget": budget, "k1": k1, "k2": k2, "k3": k3, "lazy": lazy,
                   "dedupe": dedupe, "batch_size": batch_size, **scorer.config(),
                   "inputs": [_identity(p) for p in paths]}
            folder = open_folder(checkpoint, key)
        t0 = time.perf_counter()
        top = score_shards(paths, n, scorer, dedupe=dedupe, batch_size=batch_size, progress=progress,
                           checkpoint=folder)
        kept = top.result()
        timings["score_s"] = time.perf_counter() - t0
        if top.seen == 0:
            raise InputError("the pool is empty", path=paths[0] if len(paths) == 1 else None)
        t1 = time.perf_counter()
        try:
            part = _select_kept(kept, budget, top.seen, scorer, k1, k2, k3, n_threads, progress, lazy, dedupe,
                                folder, paths, stamps)
        except InputError as exc:
            raise (exc.with_path(paths[0]) if exc.path is None and len(paths) == 1 else exc) from None
        timings["select_s"] = time.perf_counter() - t1
        where = np.searchsorted(kept.ids, part.ids, sorter=np.argsort(kept.ids))
        where = np.argsort(kept.ids)[where]
        if output is not None:
            t2 = time.perf_counter()
            for path, stamp in zip(paths, stamps):      # the chosen records are read again, by offset
                check_unchanged(path, stamp)
            write_chosen(paths, kept.extra["shard"][where], kept.extra["start"][where],
                         kept.extra["length"][where], output, output_format)
            timings["write_s"] = time.perf_counter() - t2
        return ShardSelection(part.ids, part.ratio, top.seen, len(kept), top.duplicates, part.trace, timings,
                              scorer.codec, scorer.level, scorer.serializer)


def _identity(path: str) -> list[Any]:
    """An input's identity in a checkpoint's key: path, size and mtime (remote: URL and size only)."""
    if remote.is_remote(path):
        return [path, remote.size(path)]
    st = os.stat(path)
    return [os.path.abspath(path), st.st_size, st.st_mtime_ns]


def _select_kept(kept: ScoredBatch, budget: int, pool_size: int, scorer: Scorer, k1: int, k2: int, k3: int,
                 n_threads: int, progress: bool, lazy: bool | None, dedupe: bool,
                 checkpoint: str | None = None, paths: Sequence[str] = (),
                 stamps: Sequence[Any] = ()) -> PartSelection:
    """Select from the kept samples (see :func:`select_located`); ids in selection order."""
    if budget > pool_size:
        raise InputError(f"budget ({budget}) is larger than the pool ({pool_size} samples)")
    for path, stamp in zip(paths, stamps):       # the bytes read again must be the bytes scored
        check_unchanged(path, stamp)
    order = np.argsort(kept.ids, kind="stable")
    res, _ = select_located(paths, kept.extra["shard"][order], kept.extra["start"][order],
                            kept.extra["length"][order], budget, scorer, k1=k1, k2=k2, k3=k3, n_threads=n_threads,
                            progress=progress, lazy=lazy, dedupe=dedupe, checkpoint=checkpoint)
    ids = kept.ids[order][res.indices]
    return PartSelection(ids, [], res.ratio, list(res.trace), len(order))


def select_located(paths: Sequence[str], shards: np.ndarray, starts: np.ndarray, lengths: np.ndarray, budget: int,
                   scorer: Scorer, *, k1: int, k2: int, k3: int, n_threads: int = -1, progress: bool = False,
                   lazy: bool | None = None, dedupe: bool = True,
                   checkpoint: str | None = None) -> tuple[SelectionResult, float]:
    """``fastzip.select`` over records located in shards, through a disk-backed pool: the bounded driver.

    The records (``shards``, ``starts``, ``lengths`` as
    :func:`fastzip.io.shards.read_records_at` takes them, in pool order)
    are read again a chunk at a time and serialized by ``scorer`` into a
    pool folder (the checkpoint's, where a rerun finds it complete, else a
    temporary one) that the engine reads memory-mapped: their bytes never
    sit in memory together.

    Returns
    -------
    result : SelectionResult
        Its indices are positions in the given order.
    seconds : float
        The time spent reading and writing the pool.
    """
    started = time.perf_counter()
    with scratch_folder() as scratch:
        folder = os.path.join(checkpoint if checkpoint is not None else scratch, "kept-pool")
        if checkpoint is None or not os.path.exists(os.path.join(folder, META_FILE)):
            bar = tqdm(total=len(shards), unit=" records", desc="fastzip fetch kept", dynamic_ncols=True,
                       disable=not progress)
            with bar, PoolWriter(folder, scorer.serializer) as writer:
                for start in range(0, len(shards), REREAD_CHUNK):
                    at = slice(start, start + REREAD_CHUNK)
                    pool = scorer.pool(read_records_at(paths, shards[at], starts[at], lengths[at]))
                    writer.add_packed(pool.data, pool.offsets)
                    bar.update(len(pool))
        fetched = time.perf_counter() - started
        res = select(open_pool(folder), budget, k1=k1, k2=k2, k3=k3, **_no_text_field(scorer), n_threads=n_threads,
                     progress=progress, lazy=lazy, dedupe=dedupe,
                     checkpoint=None if checkpoint is None else os.path.join(checkpoint, "select"))
    return res, fetched


SCRATCH_PREFIX = "fastzip-kept-"
LOCK_FILE = ".lock"


@contextlib.contextmanager
def scratch_folder() -> Iterator[str]:
    """A temporary folder for the kept pool, locked while this run lives; killed runs' folders are removed.

    A run killed with SIGKILL skips every cleanup and leaves its kept pool
    (up to the kept samples' bytes) in the temporary folder.  Each run holds
    an exclusive ``flock`` on its folder's lock file, which the kernel
    releases when the process dies, on any PID namespace; a folder whose lock
    can be taken belongs to no living run and goes when the next one starts.
    """
    for stale in glob.glob(os.path.join(tempfile.gettempdir(), SCRATCH_PREFIX + "*", LOCK_FILE)):
        try:
            fd = os.open(stale, os.O_RDWR)
        except OSError:
            continue                    # another user's, or gone already
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue                    # a living run holds it
        finally:
            os.close(fd)                # the lock, if taken, goes with it: the folder is removed unlocked
        shutil.rmtree(os.path.dirname(stale), ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as scratch:
        # locked under another name first: a sweeper never sees this run's lock file unlocked
        fd = os.open(os.path.join(scratch, LOCK_FILE + ".new"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(os.path.join(scratch, LOCK_FILE + ".new"), os.path.join(scratch, LOCK_FILE))
            yield scratch
        finally:
            os.close(fd)


def _no_text_field(scorer: Scorer) -> dict[str, Any]:
    cfg = scorer.config()
    cfg.pop("text_field")        # the kept items are already serialized
    return cfg
