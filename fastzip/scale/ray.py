"""ZIP selection on Ray Data: exact (top N on the driver) and GreeDi (docs/semantics.md §7).

Needs ``pip install 'fastzip-select[ray]'`` (Ray >= 2.50 with Ray Data).

* **Ids.** Every row needs a unique integer id: ``id_column``, else Parquet's
  ``row_hash`` column (``ray.data.read_parquet(..., include_row_hash=True)``,
  read as int64).  The canonical pool order is "sorted by id".
* **Scoring** runs in ``map_batches`` with a callable class: each worker builds
  its own compressor (C state does not pickle); only the settings travel.
* **exact**: the driver keeps the N = ceil(budget / k3) * k1 lowest
  (score, id), fetches those rows and runs the unchanged ``fastzip.select``
  over them in id order: identical to ``fastzip.select`` on the whole pool
  sorted by id.  The default whenever N <= ``max_driver_samples``.
* **greedi** (RandGreeDi, Barbosa et al. 2015): rows go to partition
  ``splitmix64(id ^ seed) % m``; each partition selects
  ceil(oversample * budget / m) in a plain Ray task (its own exact
  prefilter first); the driver selects ``budget`` from the union, merging
  as a tree while the union exceeds ``max_driver_samples``.  Identical for a
  fixed seed and m on any number of workers and nodes.

With ``checkpoint=``, exact resumes the driver's selection and GreeDi keeps
each finished partition selection, each tree-merge task's result and the
final merge's state (see :func:`select`).

Arrow fills a field a row lacks with null; the rows given to the serializer
leave null top-level fields out, so mixed schemas serialize as they do
from JSONL.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from .._optional import require_ray
from ..errors import InputError
from ..io.arrow import text_pool
from ..io.shards import iter_batches, read_records_at
from ..samples.pool import Pool, pack
from ..selection.api import select as fz_select
from ..selection.checkpoint import load_arrays, open_folder, save_arrays
from ..selection.config import check_ks, positive_int
from ..selection.trace import RoundTrace
from .core import (
    PartSelection,
    ScoredBatch,
    Scorer,
    TopN,
    local_select,
    merge,
    prefilter_size,
    resolve_dedupe,
)
from .ooc import select_located

__all__ = ["select", "splitmix64", "partition_of"]

MAX_DRIVER_SAMPLES = 2_000_000
SYNTHETIC_COLUMNS = ("row_hash", "path")
SHARD_BITS = 40          # CLI ids: shard << 40 | record number in the shard


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer over uint64 (wrapping arithmetic)."""
    z = np.asarray(x).astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z += np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    out: np.ndarray = z
    return out


def partition_of(ids: np.ndarray, seed: int, m: int) -> np.ndarray:
    """GreeDi partition of each id: ``splitmix64(id ^ seed) % m``."""
    u = np.asarray(ids, dtype=np.int64).view(np.uint64)
    out: np.ndarray = (splitmix64(u ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF)) % np.uint64(m)).astype(np.int64)
    return out


def _as_dict(record: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return dataclasses.asdict(record)
    return dict(vars(record))


def _actors(ray: Any, workers: int, start_all: bool = False) -> dict[str, Any]:
    """An autoscaling pool of 1..workers scoring actors (``concurrency=(1, n)``).

    ``start_all`` starts all n at once (``initial_size=n``) instead of one that
    scales up on demand, which leaves the other CPUs idle for much of a short
    pass.  Only for input already in the object store: actors holding every
    CPU would leave none for the read tasks that feed them.
    """
    strategy = getattr(ray.data, "ActorPoolStrategy", None)
    if strategy is None:
        return {"concurrency": (1, workers, workers) if start_all else (1, workers)}
    if start_all:
        try:
            return {"compute": strategy(min_size=1, max_size=workers, initial_size=workers)}
        except TypeError:           # a Ray without initial_size
            pass
    return {"compute": strategy(min_size=1, max_size=workers)}


SCORE_BATCH_ROWS = 8192     # rows per scoring call: one native batch call each, small enough to stream


def _score_map(ray: Any, ds: Any, config: dict[str, Any], id_column: str, drop: list[str], workers: int,
               batch_size: int | None = SCORE_BATCH_ROWS, scorer_class: type | None = None) -> Any:
    """``ds`` mapped to (id, score, nbytes, digest) rows by a pool of scoring actors, one CPU each."""
    from ray.data.dataset import MaterializedDataset  # optional dependency (the ray extra)

    kwargs = {"config": config, "id_column": id_column, "drop": drop, "n_threads": 1}
    return ds.map_batches(scorer_class or _BlockScorer, fn_constructor_kwargs=kwargs, batch_format="pyarrow",
                          batch_size=batch_size, num_cpus=1,
                          **_actors(ray, workers, isinstance(ds, MaterializedDataset)))


DIGEST = "sha256/16"        # what the digest column holds (part of the checkpoint key)


def _digests(pool: Pool) -> bytes:
    """16-byte digests standing in for each sample's serialized bytes when de-duplicating on the driver.

    The first 16 bytes of SHA-256 (hardware-accelerated where the CPU has it),
    read straight from the pool's buffer; one bytes object of ``16 * len(pool)``.
    """
    view = memoryview(pool.data.data)
    bounds = pool.offsets.tolist()
    sha = hashlib.sha256
    return b"".join([sha(view[a:b]).digest()[:16] for a, b in zip(bounds, bounds[1:])])


INPUT_KEY_FILE = "fastzip-input.json"   # a Dataset's identity, next to the settings' key (checkpoint.KEY_FILE)
_MASK64 = (1 << 64) - 1


class RowsDigest:
    """The identity of a Ray Dataset's input, taken in during the scoring pass in O(1) memory.

    A Dataset has no file names and sizes to key a checkpoint on, so its
    rows stand for it: each row's id and the 16-byte digest of its
    serialized bytes that the scoring pass already computes (the first 16
    bytes of their SHA-256, :data:`DIGEST`) are mixed by splitmix64 into two
    64-bit words, and the identity is the row count with each word summed
    modulo 2**64.  A sum does not depend on the order rows arrive in, which
    is needed: Ray Data yields blocks in the order they finish, and the
    pool is "sorted by id" whatever that order (a digest in arrival order
    would refuse the very same input on a rerun; one in id order would hold
    every row's id and digest on the driver).  Any change to a row's
    serialized bytes or id, an added or a dropped row, changes the identity
    but with probability about 2**-128 (it guards against accidents, not
    against an adversary who crafts rows).
    """

    def __init__(self) -> None:
        self.rows = 0
        self.sums = [0, 0]

    def add(self, ids: np.ndarray, digests: Any) -> None:
        """Take in rows: their int64 ids and their 16-byte digests (a sequence of bytes)."""
        if not len(ids):
            return
        u = np.asarray(ids, dtype=np.int64).view(np.uint64)
        d = np.asarray(list(digests), dtype="S16").view("<u8").reshape(-1, 2)    # zero-padded back to 16 bytes
        first = splitmix64(splitmix64(splitmix64(u) ^ d[:, 0]) ^ d[:, 1])
        second = splitmix64(splitmix64(splitmix64(u ^ np.uint64(0xD1B54A32D192ED03)) ^ d[:, 1]) ^ d[:, 0])
        self.rows += len(u)
        for k, words in enumerate((first, second)):
            self.sums[k] = (self.sums[k] + int(words.sum(dtype=np.uint64))) & _MASK64

    def key(self) -> dict[str, Any]:
        """The identity as a checkpoint key."""
        return {"rows": self.rows, "rows_digest": f"{self.sums[0]:016x}{self.sums[1]:016x}",
                "digest": DIGEST, "mix": "splitmix64-sum/2"}


# ---------------------------------------------------------------------------
# GreeDi's results in a checkpoint folder
# ---------------------------------------------------------------------------
GREEDI_DIR = "greedi"       # partition and merge results, and the final merge's state, in a checkpoint folder


def _result_key(spec: dict[str, Any], kept: ScoredBatch | None = None, inputs: Sequence[str] = ()) -> str:
    """A partition's or merge task's key: its settings, and its input (kept ids and digests, or inputs' keys)."""
    h = hashlib.sha256(json.dumps(spec, sort_keys=True).encode())
    if kept is not None:
        h.update(np.ascontiguousarray(kept.ids, dtype="<i8").tobytes())
        if kept.items is not None:
            h.update(np.asarray(list(kept.items), dtype="S16").tobytes())
    for key in inputs:
        h.update(key.encode())
    return h.hexdigest()


def _save_part(path: str, part: PartSelection, key: str) -> None:
    """One partition's or merge task's selection, atomically, with its key."""
    data, offsets = pack([bytes(b) for b in part.items])
    meta = {"key": key, "ratio": float(part.ratio), "pool_size": int(part.pool_size),
            "trace": [dataclasses.asdict(t) if dataclasses.is_dataclass(t) and not isinstance(t, type) else t
                      for t in part.trace]}
    save_arrays(path, {"meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
                       "ids": np.asarray(part.ids, dtype=np.int64), "items_data": data, "items_offsets": offsets})


def _load_part(path: str, key: str) -> PartSelection | None:
    """What :func:`_save_part` wrote for ``key``, or None when there is no file; another key is refused."""
    saved = load_arrays(path)
    if saved is None:
        return None
    meta = json.loads(saved["meta"].tobytes().decode("utf-8"))
    if meta.get("key") != key:
        raise InputError("this checkpoint was made with other arguments or another input; "
                         "use another folder, or delete it to start afresh", path=path)
    items = Pool(saved["items_data"], saved["items_offsets"], "text")
    return PartSelection(saved["ids"], [items.item(i) for i in range(len(items))], float(meta["ratio"]),
                         [RoundTrace(**t) if isinstance(t, dict) else t for t in meta["trace"]],
                         int(meta["pool_size"]))


def _reuse(folder: str | None, names: Sequence[str], keys: Sequence[str]) -> list[PartSelection | None]:
    """The saved results, None where there is none (all None without a folder)."""
    if folder is None:
        return [None] * len(names)
    return [_load_part(os.path.join(folder, name), key) for name, key in zip(names, keys)]


def _finish(ray: Any, futures: dict[Any, int], results: list[PartSelection | None], folder: str | None,
            names: Sequence[str], keys: Sequence[str]) -> None:
    """Wait for the tasks (ref -> position); each result is saved as soon as it arrives, then kept in ``results``."""
    pending = list(futures)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            j = futures[ref]
            part = ray.get(ref)
            if folder is not None:
                _save_part(os.path.join(folder, names[j]), part, keys[j])
            results[j] = part


def _done(results: list[PartSelection | None]) -> list[PartSelection]:
    out = [r for r in results if r is not None]
    assert len(out) == len(results)       # every task finished or was reused
    return out


def _greedi_folder(root: str | None) -> str | None:
    if root is None:
        return None
    folder = os.path.join(root, GREEDI_DIR)
    os.makedirs(folder, exist_ok=True)
    return folder


def _clean_records(table: Any, drop: Sequence[str]) -> list[dict[str, Any]]:
    names = [c for c in table.column_names if c not in drop]
    rows = table.select(names).to_pylist()
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


def _table_pool(scorer: Scorer, table: Any, drop: Sequence[str]) -> Pool:
    """The rows of an Arrow table serialized: from the columns when plain, else row by row."""
    pool = text_pool(table, scorer.serializer, scorer.text_field, drop)
    return pool if pool is not None else scorer.pool(_clean_records(table, drop))


def _ids_of(table: Any, id_column: str) -> np.ndarray:
    return np.asarray(table.column(id_column).to_numpy(zero_copy_only=False), dtype=np.int64)


class _BlockScorer:
    """map_batches callable: (id, score, nbytes, digest) of each row.

    Rows are serialized from the Arrow columns where they are plain
    (:func:`fastzip.io.arrow.text_pool`), else row by row, and scored with
    one native batch call on ``n_threads`` threads (the CPUs the actor
    holds).
    """

    def __init__(self, config: dict[str, Any], id_column: str, drop: list[str], n_threads: int = 1):
        self.scorer = Scorer(**config, n_threads=n_threads)
        self.id_column = id_column
        self.drop = drop

    def __call__(self, table: Any) -> Any:
        import pyarrow as pa  # optional dependency (the ray extra)

        pool = _table_pool(self.scorer, table, self.drop)
        scored = self.scorer.score_pool(pool, _ids_of(table, self.id_column))
        digests = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(pool), [None, pa.py_buffer(_digests(pool))])
        return pa.table({"id": pa.array(scored.ids), "score": pa.array(scored.scores),
                         "nbytes": pa.array(scored.nbytes), "digest": digests})


def _raise_unwrapped(exc: Exception) -> NoReturn:
    """Raise the fastzip error a worker raised (see :func:`_unwrap`), else ``exc`` itself."""
    err = _unwrap(exc)
    if err is exc:
        raise exc
    raise err from None


def _scored(trace: dict[str, Any], started: float, seen: int, budget: int) -> None:
    """Record the scoring pass in ``trace`` and refuse an empty pool or a budget larger than it."""
    trace["score_s"] = time.perf_counter() - started
    trace["pool"] = seen
    if seen == 0:
        raise InputError("the pool is empty")
    if budget > seen:
        raise InputError(f"budget ({budget}) is larger than the pool ({seen} samples)")


def _unwrap(exc: BaseException) -> BaseException:
    """The InputError a worker raised, out of Ray's wrappers (else ``exc`` itself)."""
    todo: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, InputError) and hasattr(e, "reason"):
            return InputError(e.reason, path=e.path, record=e.record, line=e.line)
        todo += [getattr(e, "cause", None), e.__cause__, e.__context__]
    # Ray Data keeps only the worker's traceback text: take the error's own line from it
    for line in reversed(str(exc).splitlines()):
        found = re.search(r"fastzip\.errors\.(?:\w*Error): (.*)", line)
        if found:
            return InputError(found.group(1).strip())
    return exc


def _collect(scored_ds: Any, n: int, dedupe: bool, extra_cols: Sequence[str] = (), parts: tuple[int, int] | None = None,
             batch_size: int = 65536, shard_counts: np.ndarray | None = None,
             rows: RowsDigest | None = None) -> tuple[list[TopN], int]:
    """Stream scored rows to the driver into one TopN (or one per GreeDi partition).

    ``shard_counts``, when given, counts the rows of each shard (ids ``shard << 40 | record``);
    ``rows``, when given, takes in every row's id and digest (the input's identity).
    """
    m = 1 if parts is None else parts[1]
    tops = [TopN(n, dedupe) for _ in range(m)]
    seen = 0
    for batch in scored_ds.iter_batches(batch_format="numpy", batch_size=batch_size):
        if shard_counts is not None and len(batch["id"]):
            shard_counts += np.bincount(np.asarray(batch["id"], np.int64) >> SHARD_BITS,
                                        minlength=len(shard_counts))
        sb = ScoredBatch(batch["id"], batch["score"], batch["nbytes"],
                         np.asarray(list(batch["digest"]), dtype=object),
                         {c: np.asarray(batch[c], dtype=np.int64) for c in extra_cols})
        seen += len(sb)
        if rows is not None:
            rows.add(sb.ids, sb.items)
        if parts is None:
            tops[0].add(sb)
        else:
            which = partition_of(sb.ids, parts[0], m)
            for j in np.unique(which):
                tops[int(j)].add(sb.take(np.flatnonzero(which == j)))
    return tops, seen


def _gather(scored_ds: Any, keep: int, dedupe: bool, parts: tuple[int, int] | None, trace: dict[str, Any],
            started: float, budget: int, extra_cols: Sequence[str] = (),
            shard_counts: np.ndarray | None = None, rows: RowsDigest | None = None) -> list[TopN]:
    """The scoring pass, driven from the driver: :func:`_collect` with a worker's error unwrapped, then
    :func:`_scored`'s record and checks."""
    try:
        tops, seen = _collect(scored_ds, keep, dedupe, extra_cols, parts=parts, shard_counts=shard_counts,
                              rows=rows)
    except Exception as exc:  # a worker's InputError comes back wrapped
        _raise_unwrapped(exc)
    _scored(trace, started, seen, budget)
    return tops


def _config(codec: str | None, level: int | None, serializer: str | None,
            text_field: str | None) -> dict[str, Any]:
    s = Scorer(codec, level, serializer, text_field)
    return s.config()


def _check_strategy(strategy: str, n: int, max_driver_samples: int) -> str:
    if strategy not in ("auto", "exact", "greedi"):
        raise InputError(f"unknown strategy {strategy!r}; use auto, exact or greedi")
    if strategy == "auto":
        return "exact" if n <= max_driver_samples else "greedi"
    return strategy


def _partitions(partitions: int | None, n: int, oversample: float, max_driver_samples: int) -> int:
    if partitions is None:
        return max(2, math.ceil(oversample * n / max_driver_samples))
    if isinstance(partitions, bool) or not isinstance(partitions, (int, np.integer)) or partitions < 1:
        raise InputError(f"partitions must be a positive integer, got {partitions!r}")
    return int(partitions)


def _tree_merge(ray: Any, parts: list[PartSelection], budget: int, quota: int, max_driver_samples: int,
                options: dict[str, Any], trace: dict[str, Any], folder: str | None = None,
                keys: Sequence[str] = ()) -> np.ndarray:
    """Merge partition selections, as a tree of tasks while the union is too big for the driver.

    Returns the chosen ids in pick order; the merge's levels, seconds and ratio go in ``trace``.
    With a checkpoint ``folder`` (``keys``: the partitions' keys), each merge task's result is kept
    there and reused, and the final merge keeps its state in ``folder/merge``.
    """
    started = time.perf_counter()
    level = 0
    remote_merge = ray.remote(_merge_task)
    reused = 0
    while sum(len(p) for p in parts) > max_driver_samples and len(parts) > 1:
        fan_in = max(2, max_driver_samples // max(1, quota))
        groups = [list(range(i, min(i + fan_in, len(parts)))) for i in range(0, len(parts), fan_in)]
        names = [f"merge-{level:02d}-{g:06d}.npz" for g in range(len(groups))]
        group_keys = [_result_key({"merge": level, "group": g, "quota": quota, "options": options},
                                  inputs=[keys[i] for i in group]) if folder else ""
                      for g, group in enumerate(groups)]
        results = _reuse(folder, names, group_keys)
        reused += sum(r is not None for r in results)
        futures = {remote_merge.remote([parts[i] for i in group], quota, options): g
                   for g, group in enumerate(groups) if results[g] is None}
        _finish(ray, futures, results, folder, names, group_keys)
        parts, keys = _done(results), group_keys
        level += 1
    trace["merge_levels"] = level + 1
    if folder is not None:
        trace["reused_merges"] = reused
    final = merge(parts, budget, **options, checkpoint=None if folder is None else os.path.join(folder, "merge"))
    trace["merge_s"] = time.perf_counter() - started
    trace["ratio"] = final.ratio
    return final.ids


def _merge_task(parts: list[PartSelection], quota: int, options: dict[str, Any]) -> PartSelection:
    return merge(parts, quota, **options)


def _split_task(table: Any, id_column: str, seed: int, m: int, drop: list[str],
                config: dict[str, Any]) -> Any:
    """One fetched block, split into m (ids, serialized items) pieces by partition."""
    ids = _ids_of(table, id_column)
    pool = _table_pool(Scorer(**config, n_threads=1), table, drop)
    which = partition_of(ids, seed, m)
    out = []
    for j in range(m):
        at = np.flatnonzero(which == j)
        out.append((ids[at], [pool.item(int(i)) for i in at]))
    return out if m > 1 else out[0]


def _fetch_refs(ray: Any, ds: Any, id_column: str, ids: np.ndarray) -> list[Any]:
    """Object refs of Arrow blocks holding the rows whose id is in ``ids``."""
    import pyarrow as pa  # optional dependency (the ray extra)

    wanted = ray.put(np.sort(np.asarray(ids, dtype=np.int64)))

    def keep(table: Any, wanted: Any) -> Any:
        if not isinstance(wanted, np.ndarray):      # an object ref: resolve it in the worker
            import ray as ray_mod  # optional dependency (the ray extra)

            wanted = ray_mod.get(wanted)
        col = table.column(id_column).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        pos = np.searchsorted(wanted, col)
        pos[pos >= len(wanted)] = 0
        mask = wanted[pos] == col if len(wanted) else np.zeros(len(col), bool)
        return table.filter(pa.array(mask))

    refs: list[Any] = ds.map_batches(keep, batch_format="pyarrow", fn_kwargs={"wanted": wanted}).to_arrow_refs()
    return refs


def _fetch_table(ray: Any, ds: Any, id_column: str, ids: np.ndarray) -> Any:
    """The rows whose id is in ``ids`` (one Arrow table on the driver, any order)."""
    import pyarrow as pa  # optional dependency (the ray extra)

    tables = [t for t in ray.get(_fetch_refs(ray, ds, id_column, ids)) if t.num_rows]
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]


def _ranked_table(table: Any, id_column: str, order_ids: np.ndarray, trace: dict[str, Any]) -> Any:
    """Rows in selection order with a fastzip_rank column; the trace in the schema metadata."""
    import pyarrow as pa  # optional dependency (the ray extra)

    col = table.column(id_column).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    sorter = np.argsort(col, kind="stable")
    take = sorter[np.searchsorted(col, order_ids, sorter=sorter)]
    out = table.take(pa.array(take, type=pa.int64()))
    out = out.append_column("fastzip_rank", pa.array(np.arange(len(take), dtype=np.int64)))
    meta = dict(out.schema.metadata or {})
    meta[b"fastzip_trace"] = json.dumps(trace, default=float).encode()
    return out.replace_schema_metadata(meta)


def select(ds: Any, budget: int, *, id_column: str | None = None, text_field: str | None = None,
           codec: str | None = None, level: int | None = None, serializer: str | None = None,
           k1: int = 10000, k2: int = 200, k3: int = 100, strategy: str = "auto", partitions: int | None = None,
           oversample: float = 4.0, seed: int = 0, max_driver_samples: int = MAX_DRIVER_SAMPLES,
           concurrency: int | None = None, lazy: bool | None = None, dedupe: bool | None = None,
           progress: bool = False, checkpoint: str | os.PathLike[str] | None = None) -> Any:
    """Select ``budget`` rows of a Ray Dataset with ZIP's default mode.

    Parameters
    ----------
    ds : ray.data.Dataset
    budget : samples to select.
    id_column : a unique integer id per row (default: ``row_hash`` when present).
    text_field, codec, level, serializer, k1, k2, k3, lazy : as for ``fastzip.select``.
    strategy : ``"exact"``, ``"greedi"`` or ``"auto"`` (exact when N fits under
        ``max_driver_samples``).
    partitions, oversample, seed : GreeDi's m, per-partition oversampling and
        partitioning seed.
    concurrency : most scoring actors (default: the cluster's CPUs).
    dedupe : drop exact duplicates as ``fastzip.select`` does (default: as it does).
    checkpoint : a folder (on the driver's file system) for one run.  Exact:
        the driver's selection keeps its state there every few rounds, as
        ``fastzip.select(checkpoint=...)`` does.  GreeDi: each partition's
        finished selection and each tree-merge task's result is kept there
        (atomically, as it arrives, under a key of its settings and its
        input) and the final merge keeps its state; a rerun reuses them and
        runs only the partitions that had not finished.  A rerun with the
        same arguments and the same input returns the same rows in the same
        order.  The scoring pass always runs again: a Dataset's blocks have
        no identity that survives a run, and the pass is what identifies the
        input (:class:`RowsDigest`: the row count and an order-free sum over
        each row's id and SHA-256 digest, computed from the digests the pass
        already makes).  A folder made with other arguments is refused
        (``InputError``, one line) before any work, one made with another
        input once the scoring pass has identified it.

    Returns
    -------
    ray.data.Dataset of the selected rows, in selection order, with a
    ``fastzip_rank`` column (0 first).  The trace (strategy, N, stage timings,
    selection ratio) is in the schema metadata under ``fastzip_trace`` and
    as the dataset's ``fastzip_trace`` attribute.
    """
    ray = require_ray()

    k1, k2, k3 = check_ks(k1, k2, k3)
    budget = positive_int("budget", budget)
    dedupe = resolve_dedupe(dedupe)
    config = _config(codec, level, serializer, text_field)
    names = ds.schema().names
    if id_column is None:
        if "row_hash" not in names:
            raise InputError("rows need a unique integer id: pass id_column=, or read Parquet with "
                             "include_row_hash=True")
        id_column = "row_hash"
    elif id_column not in names:
        raise InputError(f"no column {id_column!r}; the dataset has {', '.join(names)}")
    drop = [c for c in SYNTHETIC_COLUMNS if c in names and c != id_column or c == id_column == "row_hash"]
    n = prefilter_size(budget, k1, k3)
    strategy = _check_strategy(strategy, n, max_driver_samples)
    greedi = strategy == "greedi"
    m = _partitions(partitions, n, oversample, max_driver_samples) if greedi else 1
    quota = math.ceil(oversample * budget / m) if greedi else budget
    root = None
    if checkpoint is not None:   # the settings now (another run's folder is refused before any work), the input below
        root = open_folder(checkpoint, {
            "engine": "ray-dataset", "budget": budget, "k1": k1, "k2": k2, "k3": k3, "strategy": strategy,
            "partitions": m if greedi else None, "oversample": oversample if greedi else None,
            "seed": seed if greedi else None, "max_driver_samples": max_driver_samples if greedi else None,
            "lazy": lazy, "dedupe": dedupe, "id_column": id_column, "drop": drop, **config, "digest": DIGEST})
    workers = concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
    trace: dict[str, Any] = {"strategy": strategy, "N": n, "budget": budget, **config}
    select_opts = {"k1": k1, "k2": k2, "k3": k3, "codec": config["codec"], "level": config["level"],
                   "serializer": config["serializer"], "lazy": lazy, "dedupe": dedupe}

    t0 = time.perf_counter()
    scored = _score_map(ray, ds, config, id_column, drop, workers)
    rows = RowsDigest() if root is not None else None
    if strategy == "exact":
        tops = _gather(scored, n, dedupe, None, trace, t0, budget, rows=rows)
    else:
        tops = _gather(scored, prefilter_size(quota, k1, k3), dedupe, (seed, m), trace, t0, budget, rows=rows)
    if root is not None and rows is not None:      # the same input as the run that made the folder, or refused
        open_folder(root, rows.key(), key_file=INPUT_KEY_FILE)

    t1 = time.perf_counter()
    if strategy == "exact":
        kept = tops[0].result()
        table = _fetch_table(ray, ds, id_column, kept.ids)
        trace["fetch_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        col = table.column(id_column).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        order = np.argsort(col, kind="stable")
        sorted_table = table.take(order)
        # the same bytes either way: serialized from the columns, else the records as dicts
        pool = text_pool(sorted_table, config["serializer"], text_field, drop)
        samples: Any = pool if pool is not None else _clean_records(sorted_table, drop)
        res = fz_select(samples, budget, k1=k1, k2=k2, k3=k3, codec=config["codec"], level=config["level"],
                        serializer=config["serializer"], text_field=None if pool is not None else text_field,
                        lazy=lazy, progress=progress, dedupe=dedupe,
                        checkpoint=None if root is None else os.path.join(root, "select"))
        chosen = col[order][res.indices]
        trace["select_s"] = time.perf_counter() - t2
        trace["ratio"] = res.ratio
        trace["rounds"] = [_as_dict(r) for r in res.trace]
    else:
        trace.update({"partitions": m, "oversample": oversample, "seed": seed, "quota": quota})
        kept_parts = [t.result() for t in tops]
        folder = _greedi_folder(root)
        names = [f"part-{j:06d}.npz" for j in range(m)]
        keys = [_result_key({"partition": j, "of": m, "seed": seed, "quota": quota, "options": select_opts},
                            kept_parts[j]) if folder else "" for j in range(m)]
        results = _reuse(folder, names, keys)
        todo = [j for j in range(m) if results[j] is None]
        if folder is not None:
            trace["reused_partitions"] = m - len(todo)
        trace["partition_tasks"] = len(todo)
        t2 = time.perf_counter()
        if todo:              # the rows of the partitions still to select, fetched and split by partition
            union_ids = np.concatenate([kept_parts[j].ids for j in todo])
            block_refs = _fetch_refs(ray, ds, id_column, union_ids)
            trace["fetch_s"] = time.perf_counter() - t1
            t2 = time.perf_counter()
            split = ray.remote(_split_task)
            if m > 1:
                split = split.options(num_returns=m)
            pieces = [split.remote(ref, id_column, seed, m, drop, config) for ref in block_refs]
            if m == 1:
                pieces = [[p] for p in pieces]
            part_task = ray.remote(_partition_select)
            futures = {part_task.remote(quota, select_opts, *[p[j] for p in pieces]): j for j in todo}
            _finish(ray, futures, results, folder, names, keys)
        else:
            trace["fetch_s"] = 0.0
        trace["partition_select_s"] = time.perf_counter() - t2
        chosen = _tree_merge(ray, _done(results), budget, quota, max_driver_samples, select_opts, trace,
                             folder, keys)
        table = _fetch_table(ray, ds, id_column, chosen)
    out = _ranked_table(table, id_column, chosen, trace)
    result = ray.data.from_arrow(out)
    result.fastzip_trace = trace
    return result


def _partition_select(quota: int, options: dict[str, Any], *pieces: Any) -> PartSelection:
    ids = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, np.int64)
    items = [b for p in pieces for b in p[1]]
    return local_select(items, ids, quota, **options)


# ---------------------------------------------------------------------------
# the command line: shards on shared storage
# ---------------------------------------------------------------------------
class _ShardScorer:
    """map_batches callable over shard numbers: score a whole shard, or reuse its checkpoint."""

    def __init__(self, paths: list[str], config: dict[str, Any], checkpoint: str | None):
        self.paths = paths
        self.scorer = Scorer(**config, n_threads=1)
        self.checkpoint = checkpoint

    def _score(self, shard: int) -> dict[str, np.ndarray]:
        path = self.paths[shard]
        parts = []
        for batch in iter_batches([path]):
            local = np.arange(batch.first, batch.first + len(batch.records), dtype=np.int64)
            try:
                pool = self.scorer.pool(batch.records, batch.first)
            except InputError as exc:
                line = None if exc.record is None or batch.lines is None else int(batch.lines[exc.record - batch.first])
                raise InputError(exc.reason, path=path, record=exc.record, line=line) from None
            sb = self.scorer.score_pool(pool, (shard << SHARD_BITS) | local)
            parts.append({"id": sb.ids, "score": sb.scores, "nbytes": sb.nbytes,
                          "digest": np.frombuffer(_digests(pool), dtype="S16"),
                          "start": batch.starts, "length": batch.lengths})
        keys = ("id", "score", "nbytes", "digest", "start", "length")
        if not parts:
            return {"id": np.zeros(0, np.int64), "score": np.zeros(0), "nbytes": np.zeros(0, np.int64),
                    "digest": np.zeros(0, "S16"), "start": np.zeros(0, np.int64), "length": np.zeros(0, np.int64)}
        return {k: np.concatenate([p[k] for p in parts]) for k in keys}

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = []
        for shard in batch["shard"]:
            shard = int(shard)
            done = None
            if self.checkpoint:
                base = os.path.join(self.checkpoint, f"shard-{shard:06d}")
                if os.path.exists(base + ".done"):
                    with np.load(base + ".npz") as z:
                        done = {k: z[k] for k in z.files}
            if done is None:
                done = self._score(shard)
                if self.checkpoint:
                    tmp = base + f".{os.getpid()}.tmp.npz"
                    arrays: dict[str, Any] = done
                    np.savez(tmp, **arrays)
                    os.replace(tmp, base + ".npz")            # the scores, then the marker
                    with open(base + ".done.tmp", "w") as f:
                        f.write(str(len(done["id"])))
                    os.replace(base + ".done.tmp", base + ".done")
            out.append(done)
        result = {k: np.concatenate([d[k] for d in out]) for k in out[0]}
        result["digest"] = np.array([bytes(d) for d in result["digest"]], dtype=object)
        return result


def _checkpoint_dir(root: str, paths: Sequence[str], config: dict[str, Any]) -> str:
    """A folder per (inputs, settings): a changed input or setting never reuses old scores."""
    h = hashlib.sha256(json.dumps({**config, "digest": DIGEST}, sort_keys=True).encode())
    for p in paths:
        st = os.stat(p)
        h.update(f"{os.path.abspath(p)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    folder = os.path.join(root, h.hexdigest()[:16])
    os.makedirs(folder, exist_ok=True)
    return folder


def select_files(paths: Sequence[str], budget: int, *, k1: int = 10000, k2: int = 200, k3: int = 100,
                 codec: str | None = None, level: int | None = None, serializer: str | None = None,
                 text_field: str | None = None, strategy: str = "auto", partitions: int | None = None,
                 oversample: float = 4.0, seed: int = 0, max_driver_samples: int = MAX_DRIVER_SAMPLES,
                 checkpoint: str | None = None, lazy: bool | None = None, dedupe: bool | None = None,
                 progress: bool = False) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Select from shards with Ray; ids are (shard, record).

    ``checkpoint`` is a folder for one run (another run's folder is refused
    in one line): each scored shard is kept there; with the exact strategy
    the driver's selection keeps its state there every few rounds; with
    GreeDi each partition's finished selection and each tree-merge task's
    result is kept (atomically, by the driver, as it arrives, under a key of
    its settings and its input) and reused by a rerun, and the final merge
    keeps its state as the exact driver's does.
    The exact strategy selects on the driver from a disk-backed pool of the
    kept records (:func:`fastzip.scale.ooc.select_located`).
    Returns the pool indices (shards in order, records numbered from 0 across
    them) in selection order, the chosen (shard, start, length) locations as
    one array of shape (B, 3), and the trace.
    """
    ray = require_ray()
    k1, k2, k3 = check_ks(k1, k2, k3)
    budget = positive_int("budget", budget)
    dedupe = resolve_dedupe(dedupe)
    config = _config(codec, level, serializer, text_field)
    n = prefilter_size(budget, k1, k3)
    strategy = _check_strategy(strategy, n, max_driver_samples)
    greedi = strategy == "greedi"
    m = _partitions(partitions, n, oversample, max_driver_samples) if greedi else 1
    quota = math.ceil(oversample * budget / m) if greedi else budget
    trace: dict[str, Any] = {"strategy": strategy, "N": n, "budget": budget, **config}
    root = None
    if checkpoint:   # one run per folder, as in memory and out of core: another run's folder is refused
        root = open_folder(checkpoint, {
            "engine": "ray-files", "budget": budget, "k1": k1, "k2": k2, "k3": k3, "strategy": strategy,
            "partitions": partitions, "oversample": oversample, "seed": seed, "lazy": lazy, "dedupe": dedupe,
            "m": m if greedi else None, "max_driver_samples": max_driver_samples if greedi else None,
            **config, "inputs": [[os.path.abspath(p), os.path.getsize(p), os.stat(p).st_mtime_ns] for p in paths]})
    ckpt = _checkpoint_dir(root, paths, config) if root else None
    if ckpt is not None:
        trace["reused_shards"] = sum(os.path.exists(os.path.join(ckpt, f"shard-{i:06d}.done"))
                                     for i in range(len(paths)))
    workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    t0 = time.perf_counter()
    shard_ds = ray.data.from_items([{"shard": i} for i in range(len(paths))],
                                   override_num_blocks=max(1, len(paths)))
    scored = shard_ds.map_batches(_ShardScorer, fn_constructor_kwargs={"paths": list(paths), "config": config,
                                                                       "checkpoint": ckpt},
                                  batch_size=1, batch_format="numpy", **_actors(ray, workers))
    if greedi:
        trace.update({"partitions": m, "oversample": oversample, "seed": seed, "quota": quota})
    counts = np.zeros(len(paths), np.int64)
    if strategy == "exact":
        tops = _gather(scored, n, dedupe, None, trace, t0, budget, ("start", "length"), counts)
    else:
        tops = _gather(scored, prefilter_size(quota, k1, k3), dedupe, (seed, m), trace, t0, budget,
                       ("start", "length"), counts)
    t1 = time.perf_counter()
    if strategy == "exact":
        kept = tops[0].result()
        order = np.argsort(kept.ids, kind="stable")
        kept = kept.take(order)
        # the bounded driver: the kept records go to a disk-backed pool, never all in memory at once
        res, trace["fetch_s"] = select_located(
            paths, kept.ids >> SHARD_BITS, kept.extra["start"], kept.extra["length"], budget,
            Scorer(**config), k1=k1, k2=k2, k3=k3, lazy=lazy, progress=progress, dedupe=dedupe, checkpoint=root)
        chosen = kept.ids[res.indices]
        trace["select_s"] = time.perf_counter() - t1 - trace["fetch_s"]
        trace["ratio"] = res.ratio
        where = kept.take(res.indices)
    else:
        kept_parts = [t.result() for t in tops]
        opts = {"k1": k1, "k2": k2, "k3": k3, "codec": config["codec"], "level": config["level"],
                "serializer": config["serializer"], "lazy": lazy, "dedupe": dedupe}
        folder = _greedi_folder(root)
        names = [f"part-{j:06d}.npz" for j in range(m)]
        keys = [_result_key({"partition": j, "of": m, "seed": seed, "quota": quota, "options": opts,
                             "text_field": text_field}, kept_parts[j]) if folder else "" for j in range(m)]
        results = _reuse(folder, names, keys)
        if folder is not None:
            trace["reused_partitions"] = sum(r is not None for r in results)
        task = ray.remote(_file_partition_task)
        futures = {task.remote(list(paths), k.ids, k.extra["start"], k.extra["length"], quota, opts, text_field): j
                   for j, k in enumerate(kept_parts) if results[j] is None}
        trace["partition_tasks"] = len(futures)
        _finish(ray, futures, results, folder, names, keys)
        trace["partition_select_s"] = time.perf_counter() - t1
        chosen = _tree_merge(ray, _done(results), budget, quota, max_driver_samples, opts, trace, folder, keys)
        allk = ScoredBatch.concat(kept_parts)
        sorter = np.argsort(allk.ids)
        where = allk.take(sorter[np.searchsorted(allk.ids, chosen, sorter=sorter)])
    # pool indices: records numbered across shards in order
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    shard = chosen >> SHARD_BITS
    local = chosen & ((1 << SHARD_BITS) - 1)
    pool_index = first[shard] + local
    locations = np.stack([shard, where.extra["start"], where.extra["length"]], axis=1)
    return pool_index, locations, trace


def _file_partition_task(paths: list[str], ids: np.ndarray, starts: np.ndarray, lengths: np.ndarray, quota: int,
                         options: dict[str, Any], text_field: str | None) -> PartSelection:
    records = read_records_at(paths, ids >> SHARD_BITS, starts, lengths)
    return local_select(records, ids, quota, serialized=False, text_field=text_field, **options)
