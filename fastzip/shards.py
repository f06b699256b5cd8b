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

import argparse
import glob
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import io
from ._optional import require_pyarrow
from .errors import InputError

if TYPE_CHECKING:
    from .scale import PartSelection, ScoredBatch, Scorer, TopN

SHARD_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet",
                 ".json": "json"}
STREAM_THRESHOLD = 256 * 2**20     # --out-of-core auto: inputs at least this large stream
BATCH_SIZE = 8192


def shard_format(path: str) -> str | None:
    """The format a shard's name says, or None when it names none."""
    lower = path.lower()
    if lower.endswith(".jsonl.txt"):
        return "jsonl"
    return SHARD_FORMATS.get(os.path.splitext(lower)[1])


def _format_of(path: str) -> str:
    """A shard's format by its name; anything else is read as a JSON list."""
    return shard_format(path) or "json"


def expand_inputs(spec: str) -> list[str]:
    """One file, every shard in a folder (by name, not recursive), or a glob; sorted by path."""
    spec = os.fspath(spec)
    if os.path.isdir(spec):
        paths = sorted(os.path.join(spec, name) for name in os.listdir(spec)
                       if shard_format(name) and not name.startswith(".")
                       and os.path.isfile(os.path.join(spec, name)))
        if not paths:
            raise InputError("the folder holds no .jsonl, .parquet or .json shards", path=spec)
        return paths
    if glob.has_magic(spec):
        paths = sorted(p for p in glob.glob(spec, recursive=True) if os.path.isfile(p))
        if not paths:
            raise InputError("no file matches this pattern", path=spec)
        return paths
    if not os.path.exists(spec):
        raise InputError("no such file", path=spec)
    return [spec]


def is_sharded(spec: str | None) -> bool:
    """True for a folder or a glob pattern (inputs only the out-of-core path reads)."""
    return spec is not None and spec != "-" and (os.path.isdir(spec) or
                                                 (glob.has_magic(spec) and not os.path.exists(spec)))


@dataclass
class RecordBatch:
    """Consecutive records of one shard.

    ``first`` is the pool index of ``records[0]``; ``starts`` / ``lengths``
    say where each record is: byte offset and length of its line (JSONL),
    row number and 0 (Parquet, JSON list).
    """

    records: list[Any]
    first: int
    shard: int
    starts: np.ndarray
    lengths: np.ndarray
    lines: np.ndarray | None = None       # JSONL: 1-based line numbers
    consumed_bytes: int = 0               # of the shard, for progress


def _jsonl_batches(path: str, shard: int, first: int, batch_size: int) -> Iterator[RecordBatch]:
    records: list[Any] = []
    starts: list[int] = []
    lengths: list[int] = []
    lines: list[int] = []
    offset = 0
    index = first
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not valid UTF-8"
                raise InputError(f"malformed JSON: {reason}", path=path, record=index, line=number) from None
            io.check_record(record, index, path, number)
            records.append(record)
            starts.append(start)
            lengths.append(len(raw))
            lines.append(number)
            index += 1
            if len(records) == batch_size:
                yield RecordBatch(records, index - len(records), shard, np.asarray(starts, np.int64),
                                  np.asarray(lengths, np.int64), np.asarray(lines, np.int64), offset)
                records, starts, lengths, lines = [], [], [], []
    if records:
        yield RecordBatch(records, index - len(records), shard, np.asarray(starts, np.int64),
                          np.asarray(lengths, np.int64), np.asarray(lines, np.int64), offset)


def _parquet_batches(path: str, shard: int, first: int, batch_size: int) -> Iterator[RecordBatch]:
    pa = require_pyarrow()
    try:
        pf = pa.parquet.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read Parquet: {exc}", path=path) from None
    size = os.path.getsize(path)
    total = max(1, pf.metadata.num_rows)
    row = 0
    for batch in pf.iter_batches(batch_size=batch_size):
        records = batch.to_pylist()
        n = len(records)
        yield RecordBatch(records, first + row, shard, np.arange(row, row + n, dtype=np.int64),
                          np.zeros(n, np.int64), None, size * (row + n) // total)
        row += n


def _json_records(path: str) -> list[Any]:
    """The records of a JSON-list shard."""
    records = io.read_dataset(path, "json").records
    return [] if records is None else records


def _json_batches(path: str, shard: int, first: int, batch_size: int) -> Iterator[RecordBatch]:
    records = _json_records(path)
    size = os.path.getsize(path)
    for row in range(0, len(records), batch_size):
        chunk = records[row:row + batch_size]
        n = len(chunk)
        yield RecordBatch(chunk, first + row, shard, np.arange(row, row + n, dtype=np.int64),
                          np.zeros(n, np.int64), None, size * (row + n) // max(1, len(records)))


def iter_batches(paths: Sequence[str], batch_size: int = BATCH_SIZE, first: int = 0) -> Iterator[RecordBatch]:
    """Every record of every shard, in pool order, a batch at a time."""
    index = first
    for shard, path in enumerate(paths):
        fmt = _format_of(path)
        reader = {"jsonl": _jsonl_batches, "parquet": _parquet_batches, "json": _json_batches}[fmt]
        try:
            for batch in reader(path, shard, index, batch_size):
                yield batch
                index += len(batch.records)
        except PermissionError:
            raise InputError("permission denied", path=path) from None
        except IsADirectoryError:
            raise InputError("is a directory, not a file", path=path) from None


# ---------------------------------------------------------------------------
# the streaming pass
# ---------------------------------------------------------------------------
def score_shards(paths: Sequence[str], n: int, scorer: Scorer, *, dedupe: bool = False,
                 batch_size: int = BATCH_SIZE, progress: bool = False) -> TopN:
    """One pass over the shards: the top ``n`` by (score, pool index), with locations.

    ``scorer`` is a :class:`fastzip.scale.Scorer`; returns a :class:`fastzip.scale.TopN`.
    """
    from .scale import TopN

    top = TopN(n, dedupe)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(os.path.getsize(p) for p in paths), unit="B", unit_scale=True,
                   desc="fastzip score", dynamic_ncols=True)
    sizes = [os.path.getsize(p) for p in paths] if bar is not None else []
    try:
        for batch in iter_batches(paths, batch_size):
            ids = np.arange(batch.first, batch.first + len(batch.records), dtype=np.int64)
            extra = {"shard": np.full(len(ids), batch.shard, np.int64), "start": batch.starts,
                     "length": batch.lengths}
            try:
                pool = scorer.pool(batch.records, batch.first)
            except InputError as exc:
                line = None
                if exc.record is not None and batch.lines is not None:
                    line = int(batch.lines[exc.record - batch.first])
                raise InputError(exc.reason, path=paths[batch.shard], record=exc.record,
                                 line=line if exc.line is None else exc.line) from None
            top.add_pool(scorer.score_pool(pool, ids, extra=extra), pool)   # bytes only for entrants
            if bar is not None:
                bar.n = sum(sizes[:batch.shard]) + batch.consumed_bytes
                bar.refresh()
    finally:
        if bar is not None:
            bar.close()
    return top


# ---------------------------------------------------------------------------
# copying the chosen records out
# ---------------------------------------------------------------------------
def _output_format(output: str, paths: Sequence[str]) -> str:
    named = shard_format(output)
    if named is not None:
        return named
    formats = {_format_of(p) for p in paths}
    return formats.pop() if len(formats) == 1 else "jsonl"


def _parquet_rows(path: str, rows: np.ndarray) -> Any:
    """The rows of one Parquet file at ``rows`` (in that order), reading only their row groups."""
    pa = require_pyarrow()
    pf = pa.parquet.ParquetFile(path)
    sizes = [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)]
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    groups = sorted(set(np.searchsorted(bounds, rows, side="right") - 1))
    table = pf.read_row_groups(groups)
    base = np.concatenate([[0], np.cumsum([sizes[g] for g in groups])]).astype(np.int64)
    local = np.empty(len(rows), np.int64)
    for j, g in enumerate(groups):
        mask = (rows >= bounds[g]) & (rows < bounds[g + 1])
        local[mask] = rows[mask] - bounds[g] + base[j]
    return table.take(pa.array(local, type=pa.int64()))


def _read_records(paths: Sequence[str], shards: np.ndarray, starts: np.ndarray,
                  lengths: np.ndarray) -> list[Any]:
    """The chosen records as Python objects, in the given order."""
    out: list[Any] = [None] * len(shards)
    for s in np.unique(shards):
        path = paths[int(s)]
        where = np.flatnonzero(shards == s)
        fmt = _format_of(path)
        if fmt == "jsonl":
            with open(path, "rb") as f:
                for w in where:
                    f.seek(int(starts[w]))
                    out[w] = json.loads(f.read(int(lengths[w])))
        elif fmt == "parquet":
            for w, rec in zip(where, _parquet_rows(path, starts[where]).to_pylist()):
                out[w] = rec
        else:
            records = _json_records(path)
            for w in where:
                out[w] = records[int(starts[w])]
    return out


def write_chosen(paths: Sequence[str], shards: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                 output: str, fmt: str | None = None) -> None:
    """Write the chosen records, in the given order, to ``output`` (atomically; ``-`` is stdout).

    JSONL from JSONL copies each line byte for byte; Parquet from Parquet
    takes the rows with their schema; anything else converts the records
    (as :func:`fastzip.io.subset_bytes` does).
    """
    formats = {_format_of(paths[int(s)]) for s in np.unique(shards)}
    fmt = "jsonl" if output == "-" else fmt or _output_format(output, paths)
    if fmt == "jsonl" and formats <= {"jsonl"}:
        payload = b"".join(_lines(paths, shards, starts, lengths))
    elif fmt == "parquet" and formats <= {"parquet"}:
        pa = require_pyarrow()
        tables, positions = [], []
        for s in np.unique(shards):
            where = np.flatnonzero(shards == s)
            tables.append(_parquet_rows(paths[int(s)], starts[where]))
            positions.append(where)
        table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
        order = np.argsort(np.concatenate(positions), kind="stable")
        sink = pa.BufferOutputStream()
        pa.parquet.write_table(table.take(pa.array(order, type=pa.int64())), sink)
        payload = sink.getvalue().to_pybytes()
    else:
        records = _read_records(paths, shards, starts, lengths)
        if fmt == "parquet":
            pa = require_pyarrow()
            sink = pa.BufferOutputStream()
            pa.parquet.write_table(pa.Table.from_pylist(records), sink)
            payload = sink.getvalue().to_pybytes()
        elif fmt == "jsonl":
            payload = b"".join(io.json_bytes(record) + b"\n" for record in records)
        else:
            payload = io.json_bytes(records, indent=1) + b"\n"
    io.write_outputs({output: payload})


def _lines(paths: Sequence[str], shards: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> Iterator[bytes]:
    """The chosen JSONL lines, byte for byte, each ending in a newline."""
    handles: dict[int, Any] = {}
    try:
        for s, start, length in zip(shards, starts, lengths):
            f = handles.get(int(s))
            if f is None:
                f = handles[int(s)] = open(paths[int(s)], "rb")
            f.seek(int(start))
            line = f.read(int(length))
            yield line if line.endswith(b"\n") else line + b"\n"
    finally:
        for f in handles.values():
            f.close()


def check_unchanged(paths: Sequence[str], stamps: Sequence[io.FileStamp | None]) -> None:
    """Raise when a shard changed since it was scored: its records are about to be copied out by offset."""
    for path, stamp in zip(paths, stamps):
        io.check_unchanged(path, stamp)


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
                  batch_size: int = BATCH_SIZE, output_format: str | None = None) -> ShardSelection:
    """Default-mode selection of ``budget`` samples from shards that need not fit in memory.

    ``input`` is a file, a folder, a glob or a list of paths.  Identical to
    ``fastzip.select`` over all records (in path order), ``indices`` being
    pool indices; writes the chosen records to ``output`` when given.
    """
    from .scale import Scorer, _resolve_dedupe, prefilter_size
    from .selection import _check_ks, _positive_int

    paths = expand_inputs(input) if isinstance(input, (str, os.PathLike)) else [os.fspath(p) for p in input]
    k1, k2, k3 = _check_ks(k1, k2, k3)
    budget = _positive_int("budget", budget)
    dedupe = _resolve_dedupe(dedupe)
    scorer = Scorer(codec, level, serializer, text_field, n_threads)
    n = prefilter_size(budget, k1, k3)
    timings: dict[str, float] = {}
    stamps = [io.input_stamp(path) for path in paths]
    t0 = time.perf_counter()
    top = score_shards(paths, n, scorer, dedupe=dedupe, batch_size=batch_size, progress=progress)
    kept = top.result()
    timings["score_s"] = time.perf_counter() - t0
    if top.seen == 0:
        raise InputError("the pool is empty", path=paths[0] if len(paths) == 1 else None)
    t1 = time.perf_counter()
    try:
        part = _select_kept(kept, budget, top.seen, scorer, k1, k2, k3, n_threads, progress, lazy, dedupe)
    except InputError as exc:
        raise (exc.with_path(paths[0]) if exc.path is None and len(paths) == 1 else exc) from None
    timings["select_s"] = time.perf_counter() - t1
    where = np.searchsorted(kept.ids, part.ids, sorter=np.argsort(kept.ids))
    where = np.argsort(kept.ids)[where]
    if output is not None:
        t2 = time.perf_counter()
        check_unchanged(paths, stamps)
        write_chosen(paths, kept.extra["shard"][where], kept.extra["start"][where],
                     kept.extra["length"][where], output, output_format)
        timings["write_s"] = time.perf_counter() - t2
    return ShardSelection(part.ids, part.ratio, top.seen, len(kept), top.duplicates, part.trace, timings,
                          scorer.codec, scorer.level, scorer.serializer)


def _select_kept(kept: ScoredBatch, budget: int, pool_size: int, scorer: Scorer, k1: int, k2: int, k3: int,
                 n_threads: int, progress: bool, lazy: bool | None, dedupe: bool) -> PartSelection:
    from .scale import local_select

    if budget > pool_size:
        raise InputError(f"budget ({budget}) is larger than the pool ({pool_size} samples)")
    items = [] if kept.items is None else list(kept.items)
    return local_select(items, kept.ids, budget, k1=k1, k2=k2, k3=k3, **_no_text_field(scorer),
                        n_threads=n_threads, progress=progress, lazy=lazy, dedupe=dedupe, clamp=False)


def _no_text_field(scorer: Scorer) -> dict[str, Any]:
    cfg = scorer.config()
    cfg.pop("text_field")        # the kept items are already serialized
    return cfg


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------
def add_select_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``fastzip select`` for inputs past memory and for Ray."""
    group = parser.add_argument_group("scale: past memory and past one machine")
    group.add_argument("--out-of-core", choices=["auto", "on", "off"], default="auto",
                       help="stream the input, keeping only the samples stage 1 can reach (default mode "
                            "with --budget). auto: for a folder, a glob, or inputs of 256 MiB or more")
    group.add_argument("--ray", action="store_true", help="run on a Ray cluster (pip install 'fastzip[ray]')")
    group.add_argument("--address", help="Ray cluster address (e.g. auto); default: a local Ray")
    group.add_argument("--strategy", choices=["auto", "exact", "greedi"], default="auto",
                       help="--ray: exact (top-N on the driver) or greedi (partitions, then a merge)")
    group.add_argument("--partitions", type=int, help="--ray greedi: number of partitions")
    group.add_argument("--oversample", type=float, default=4.0, help="--ray greedi: per-partition oversampling")
    group.add_argument("--seed", type=int, default=0, help="--ray greedi: partitioning seed")
    group.add_argument("--checkpoint", metavar="DIR", help="--ray: keep finished scoring shards here and "
                                                           "reuse them on a rerun with the same arguments")


def wants_out_of_core(args: argparse.Namespace) -> bool:
    """True when ``fastzip select`` should take the streaming (or Ray) path."""
    if getattr(args, "ray", False):
        return True
    mode = getattr(args, "out_of_core", "auto")
    path = args.input
    if mode == "off" or path is None or path == "-":
        return False
    if args.compat is not None or args.budget is None:
        if mode == "on" or is_sharded(path):
            raise InputError("a folder, a glob and --out-of-core need default mode with --budget "
                             "(the prefilter is exact only there)")
        return False
    if mode == "on" or is_sharded(path):
        return True
    try:
        return os.path.isfile(path) and shard_format(path) in ("jsonl", "parquet") and \
            os.path.getsize(path) >= STREAM_THRESHOLD
    except OSError:
        return False


def run_select_command(args: argparse.Namespace) -> int:
    """``fastzip select`` through the streaming path (or Ray with ``--ray``)."""
    if getattr(args, "ray", False):
        from .ray import run_cli

        return run_cli(args)
    paths = expand_inputs(args.input)
    io.check_output(args.output, inputs=paths, others=[args.indices_out] if args.indices_out else [])
    if args.indices_out:
        io.check_output(args.indices_out, inputs=paths, others=[args.output])
    started = time.perf_counter()
    res = select_shards(args.input, args.budget, args.output, k1=args.k1, k2=args.k2, k3=args.k3,
                        codec=args.codec, level=args.level, serializer=args.serializer,
                        text_field=args.text_field, n_threads=args.threads, progress=not args.quiet,
                        lazy=False if args.exhaustive else None)
    if args.indices_out:
        io.write_json(res.indices.tolist(), args.indices_out)
    if not args.quiet:
        print(f"fastzip: selected {len(res.indices)} of {res.pool_size} samples out of core (kept {res.kept}"
              f" after one pass) in {time.perf_counter() - started:.2f} s; ratio {res.ratio:.4f} "
              f"({res.codec}-{res.level}, {res.serializer}) -> {args.output}", file=sys.stderr)
    return 0
