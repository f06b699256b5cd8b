"""Shards: expanding a folder or glob, reading records a batch at a time, copying chosen ones out.

A folder is searched recursively (``data/a/*.jsonl`` and ``data/b/*.jsonl``
both count) for files whose name says a format, compressed or not
(``.jsonl``, ``.jsonl.gz``, ``.json.zst``, ``.parquet``...).  Names starting
with a dot (hidden files and folders, such as ``.cache/`` or ``.part.crc``)
are skipped, and so are files whose name says no format (``README.md``,
``_SUCCESS``).  Symbolic links are followed, to folders too (a mixture
assembled with ``ln -s``), as a ``**`` glob follows them; a folder already
walked (a link back up the tree) is not walked again, and a file reached by
several paths (through links) is read once, under the first of them in
path order.  Shards are read in the order of their paths relative to the
folder, compared folder by folder.

A compressed JSONL shard is decompressed as it is read; a chosen record's
place is its offset in the decompressed data, and copying the chosen
records out streams each such shard once more, from its start.
"""
from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._optional import require_pyarrow
from ..errors import InputError
from . import remote
from .compression import compressed_position, is_decompressing, open_decompressed
from .formats import STDIO, format_from_name, output_format
from .read import check_record, parse_json, read_dataset
from .write import json_bytes, parquet_bytes, write_outputs

STREAM_THRESHOLD = 256 * 2**20     # --out-of-core auto: inputs at least this large stream
BATCH_SIZE = 8192


def _open_binary(path: str) -> Any:
    """A shard open for binary reading: a local file, or a remote object through fsspec."""
    return remote.open_input(path) if remote.is_remote(path) else open(path, "rb")


def _parquet_source(path: str) -> Any:
    return remote.open_input(path) if remote.is_remote(path) else path


def _size(path: str) -> int:
    return remote.size(path) if remote.is_remote(path) else os.path.getsize(path)


def shard_format(path: str) -> str:
    """A shard's format by its name; anything else is read as a JSON list."""
    return format_from_name(path) or "json"


def expand_inputs(spec: str) -> list[str]:
    """One file, every shard under a folder (recursively, see the module notes), or a glob; sorted by path.

    Links are followed; a file that two paths reach (by its real path) is
    listed once, under the first, in a folder and in a glob alike.

    Parameters
    ----------
    spec : str
        A file, a folder or a glob pattern.

    Returns
    -------
    list of str

    Raises
    ------
    fastzip.errors.InputError
        Nothing there, or nothing that is a shard.
    """
    if remote.is_remote(spec):
        return remote.expand(spec, lambda name: not name.startswith(".") and format_from_name(name) is not None)
    spec = os.fspath(spec)
    if os.path.isdir(spec):
        found: list[tuple[tuple[str, ...], str]] = []
        seen = {os.path.realpath(spec)}     # folders walked, by real path: a link back up is not walked again
        for folder, dirs, files in os.walk(spec, followlinks=True):
            # sorted, so the path a folder reached twice is walked under is the first in path order
            dirs[:] = [d for d in sorted(dirs) if not d.startswith(".")]
            dirs[:] = [d for d in dirs if _first_visit(os.path.join(folder, d), seen)]
            rel = os.path.relpath(folder, spec)
            parts = () if rel == os.curdir else tuple(rel.split(os.sep))
            found.extend(((*parts, name), os.path.join(folder, name)) for name in files
                         if not name.startswith(".") and format_from_name(name)
                         and os.path.isfile(os.path.join(folder, name)))
        if not found:
            raise InputError("the folder holds no .jsonl, .parquet or .json shards, searched recursively (JSON and "
                             "JSONL may be compressed: .jsonl.gz, .jsonl.zst, .jsonl.bz2, .jsonl.xz; names "
                             "starting with a dot are skipped)", path=spec)
        return _once([path for _, path in sorted(found)])
    if glob.has_magic(spec) and not os.path.exists(spec):
        paths = sorted(p for p in glob.glob(spec, recursive=True) if os.path.isfile(p))
        if not paths:
            raise InputError("no file matches this pattern", path=spec)
        return _once(paths)
    if not os.path.exists(spec):
        raise InputError("no such folder" if spec.endswith(("/", os.sep)) else "no such file or folder", path=spec)
    return [spec]


def _first_visit(path: str, seen: set[str]) -> bool:
    """Whether ``path``'s real path is met for the first time (noting it in ``seen``)."""
    real = os.path.realpath(path)
    if real in seen:
        return False
    seen.add(real)
    return True


def _once(paths: list[str]) -> list[str]:
    """``paths`` without a file reached again through symbolic links (same real path): its first path stays."""
    seen: set[str] = set()
    return [p for p in paths if _first_visit(p, seen)]


def is_sharded(spec: str | None) -> bool:
    """True for a folder or a glob pattern (inputs only the out-of-core path reads)."""
    if spec is not None and remote.is_remote(spec):
        return glob.has_magic(spec.split("://", 1)[1]) or remote.kind(spec) == "dir"
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
    # decompressed as it is read (one buffer at a time), so memory stays bounded for compressed shards too
    with _open_binary(path) as f, open_decompressed(f, path) as stream:
        for number, raw in enumerate(stream, start=1):
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            record = parse_json(raw, path, index, number)      # every fault as the in-memory path words it
            check_record(record, index, path, number)
            records.append(record)
            starts.append(start)
            lengths.append(len(raw))
            lines.append(number)
            index += 1
            if len(records) == batch_size:
                yield RecordBatch(records, index - len(records), shard, np.asarray(starts, np.int64),
                                  np.asarray(lengths, np.int64), np.asarray(lines, np.int64),
                                  compressed_position(stream))
                records, starts, lengths, lines = [], [], [], []
        consumed = compressed_position(stream)
    if records:
        yield RecordBatch(records, index - len(records), shard, np.asarray(starts, np.int64),
                          np.asarray(lengths, np.int64), np.asarray(lines, np.int64), consumed)


def _parquet_batches(path: str, shard: int, first: int, batch_size: int) -> Iterator[RecordBatch]:
    pa = require_pyarrow()
    try:
        pf = pa.parquet.ParquetFile(_parquet_source(path))
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read Parquet: {exc}", path=path) from None
    size = _size(path)
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
    records = read_dataset(path, "json").records
    return [] if records is None else records


def _json_batches(path: str, shard: int, first: int, batch_size: int) -> Iterator[RecordBatch]:
    records = _json_records(path)
    size = _size(path)
    for row in range(0, len(records), batch_size):
        chunk = records[row:row + batch_size]
        n = len(chunk)
        yield RecordBatch(chunk, first + row, shard, np.arange(row, row + n, dtype=np.int64),
                          np.zeros(n, np.int64), None, size * (row + n) // max(1, len(records)))


def iter_batches(paths: Sequence[str], batch_size: int = BATCH_SIZE, first: int = 0) -> Iterator[RecordBatch]:
    """Every record of every shard, in pool order, a batch at a time."""
    index = first
    for shard, path in enumerate(paths):
        fmt = shard_format(path)
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
# copying the chosen records out
# ---------------------------------------------------------------------------
def parquet_rows_at(path: str, rows: np.ndarray) -> Any:
    """The rows of one Parquet file at ``rows`` (in that order), reading only their row groups."""
    pa = require_pyarrow()
    pf = pa.parquet.ParquetFile(_parquet_source(path))
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


def _chosen_lines(path: str, starts: np.ndarray, lengths: np.ndarray) -> list[bytes]:
    """The lines of one JSONL shard at ``starts`` (offsets in its decompressed data), in that order.

    An uncompressed shard is read by seeking; a compressed one cannot seek,
    so it is streamed once from its start, keeping only the wanted lines.
    """
    with _open_binary(path) as f, open_decompressed(f, path) as stream:
        if not is_decompressing(stream):
            out = []
            for start, length in zip(starts, lengths):
                f.seek(int(start))
                out.append(f.read(int(length)))
            return out
        wanted = {int(s) for s in starts}
        found: dict[int, bytes] = {}
        offset = 0
        for line in stream:
            if offset in wanted:
                found[offset] = line
                if len(found) == len(wanted):
                    break
            offset += len(line)
    missing = wanted - set(found)
    if missing:
        raise InputError("the shard is shorter than when it was scored; nothing was written", path=path)
    return [found[int(s)] for s in starts]


def read_records_at(paths: Sequence[str], shards: np.ndarray, starts: np.ndarray,
                    lengths: np.ndarray) -> list[Any]:
    """The chosen records as Python objects, in the given order (each shard read at most once)."""
    out: list[Any] = [None] * len(shards)
    for s in np.unique(shards):
        path = paths[int(s)]
        where = np.flatnonzero(shards == s)
        fmt = shard_format(path)
        if fmt == "jsonl":
            for w, line in zip(where, _chosen_lines(path, starts[where], lengths[where])):
                out[w] = json.loads(line)
        elif fmt == "parquet":
            for w, rec in zip(where, parquet_rows_at(path, starts[where]).to_pylist()):
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
    formats = {shard_format(paths[int(s)]) for s in np.unique(shards)}
    fmt = "jsonl" if output == STDIO else output_format(output, {shard_format(p) for p in paths}, fmt)
    if fmt == "jsonl" and formats <= {"jsonl"}:
        payload = b"".join(_lines(paths, shards, starts, lengths))
    elif fmt == "parquet" and formats <= {"parquet"}:
        pa = require_pyarrow()
        tables, positions = [], []
        for s in np.unique(shards):
            where = np.flatnonzero(shards == s)
            tables.append(parquet_rows_at(paths[int(s)], starts[where]))
            positions.append(where)
        order = np.argsort(np.concatenate(positions), kind="stable")

        def in_order() -> Any:     # shards whose schemas cannot be merged fail here
            table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
            return table.take(pa.array(order, type=pa.int64()))
        payload = parquet_bytes(in_order, output)
    else:
        records = read_records_at(paths, shards, starts, lengths)
        if fmt == "parquet":
            pa = require_pyarrow()
            payload = parquet_bytes(lambda: pa.Table.from_pylist(records), output)
        elif fmt == "jsonl":
            payload = b"".join(json_bytes(record) + b"\n" for record in records)
        else:
            payload = json_bytes(records, indent=1) + b"\n"
    write_outputs({output: payload})


def _lines(paths: Sequence[str], shards: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> Iterator[bytes]:
    """The chosen JSONL lines, byte for byte, each ending in a newline (each shard read at most once)."""
    out: list[bytes] = [b""] * len(shards)
    for s in np.unique(shards):
        where = np.flatnonzero(shards == s)
        for w, line in zip(where, _chosen_lines(paths[int(s)], starts[where], lengths[where])):
            out[w] = line
    for line in out:
        yield line if line.endswith(b"\n") else line + b"\n"
