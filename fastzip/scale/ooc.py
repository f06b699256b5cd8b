"""Out-of-core selection from one file or many shards (docs/semantics.md §7).

``fastzip select huge.jsonl`` (or a ``.parquet`` file, a folder of shards, a
glob) in default mode with a sample budget:

1. reads every shard once, in batches, scoring each sample stand-alone and
   keeping only the N = ceil(budget / k3) * k1 lowest ``(score, pool index)``
   (:class:`fastzip.scale.TopN`) with where each sits in its shard;
2. selects from those N with the unchanged ``fastzip.select``;
3. copies the chosen records to the output, reading the shards once more by
   offset (JSONL lines byte for byte, Parquet rows with their schema).

The pool is the shards' records in order: shards sorted by path, records in
file order, numbered from 0 across shards.  The result is identical to
loading everything; peak memory is O(N x mean sample size).
"""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..errors import InputError
from ..io.read import check_unchanged, input_stamp
from ..io.shards import BATCH_SIZE, expand_inputs, iter_batches, write_chosen
from ..selection.checkpoint import load_arrays, open_folder, save_arrays
from ..selection.config import check_ks, positive_int
from .core import PartSelection, ScoredBatch, Scorer, TopN, local_select, prefilter_size, resolve_dedupe

SCORING_FILE = "scoring.npz"      # the scoring pass's state in a checkpoint folder


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
    if progress:
        bar = tqdm(total=sum(os.path.getsize(p) for p in paths), unit="B", unit_scale=True,
                   desc="fastzip score", dynamic_ncols=True)
    sizes = [os.path.getsize(p) for p in paths] if bar is not None else []
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
                top.add_pool(scorer.score_pool(pool, ids, extra=extra), pool)   # bytes only for entrants
                record = batch.first + len(batch.records)
                if bar is not None:
                    bar.n = sum(sizes[:shard]) + batch.consumed_bytes
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
               "inputs": [[os.path.abspath(p), os.path.getsize(p), os.stat(p).st_mtime_ns] for p in paths]}
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
                            None if folder is None else os.path.join(folder, "select"))
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


def _select_kept(kept: ScoredBatch, budget: int, pool_size: int, scorer: Scorer, k1: int, k2: int, k3: int,
                 n_threads: int, progress: bool, lazy: bool | None, dedupe: bool,
                 checkpoint: str | None = None) -> PartSelection:
    if budget > pool_size:
        raise InputError(f"budget ({budget}) is larger than the pool ({pool_size} samples)")
    items = [] if kept.items is None else list(kept.items)
    return local_select(items, kept.ids, budget, k1=k1, k2=k2, k3=k3, **_no_text_field(scorer),
                        n_threads=n_threads, progress=progress, lazy=lazy, dedupe=dedupe, clamp=False,
                        checkpoint=checkpoint)


def _no_text_field(scorer: Scorer) -> dict[str, Any]:
    cfg = scorer.config()
    cfg.pop("text_field")        # the kept items are already serialized
    return cfg
