"""Readers and writers for pools: JSON list, JSONL and Parquet.

The input is read once, into memory, and never touched again: a JSONL
selection is written from the bytes of that one read (each line byte for
byte), a JSON list from its records (key order kept) and Parquet from its
table (schema kept).  Standard input and FIFOs work for the same reason.

Outputs are written atomically: to a temporary file beside the target,
renamed into place once complete, so an error, Ctrl-C, SIGTERM or SIGHUP
never leaves a partial file.  An output is refused before any work when it
is the input (or another output of the same run), or when it is not a
regular file (a device, a FIFO, a socket, a folder); a symbolic link is
followed, and its target replaced, never the link.  ``-`` writes to
standard output, which cannot be atomic.

The format of a file follows its name (``.json``, ``.jsonl``/``.ndjson``,
``.parquet``/``.pq``); ``format=`` (the CLI's ``--format``) names it
otherwise, and is needed for ``-``.
"""
from __future__ import annotations

import io
import json
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .._optional import require_pyarrow
from ..errors import InputError, UsageError
from ..samples.pool import Pool
from ..samples.serialize import check_serializer
from . import remote
from .compression import decompress_bytes
from .formats import STDIO, resolve_format

_BOM = b"\xef\xbb\xbf"

# ----------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class FileStamp:
    """What identifies a file's content: device, inode, size and modification time."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileStamp:
        """The stamp of a ``stat`` result.

        Parameters
        ----------
        st : os.stat_result

        Returns
        -------
        FileStamp
        """
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass
class Dataset:
    """A pool as read once from a file or standard input.

    Attributes
    ----------
    path : str
        The path given (``"-"`` for standard input).
    format : str
        ``json``, ``jsonl`` or ``parquet``.
    records : list or None
        JSON list: the records.  JSONL: the records when read with
        :func:`read_dataset`, ``None`` when read with :func:`read_pool`.
    raw : bytes or None
        JSONL: the bytes read.
    line_spans : tuple of numpy arrays or None
        JSONL: start and length of each record's line in ``raw``.
    line_numbers : numpy array or None
        JSONL: each record's line number, from 1.
    table : pyarrow.Table or None
        Parquet: the table.
    stamp : FileStamp or None
        A regular file's identity when it was read (see :meth:`check_unchanged`).
    kept : numpy array or None
        Read with ``on_invalid="skip"``: the record number of each pool
        sample (pool index -> record); None when every record is in the pool.
    skipped : list of fastzip.errors.InputError
        Read with ``on_invalid="skip"``: why each skipped record was skipped,
        naming the file, record and line.
    """

    path: str
    format: str
    records: list[Any] | None = None
    raw: bytes | None = None
    line_spans: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None
    line_numbers: npt.NDArray[np.int64] | None = None
    table: Any = None
    stamp: FileStamp | None = None
    count: int = field(default=0)
    kept: npt.NDArray[np.int64] | None = None
    skipped: list[InputError] = field(default_factory=list)

    def __len__(self) -> int:
        return self.count

    @property
    def name(self) -> str:
        """How errors name the input."""
        return "<stdin>" if self.path == STDIO else self.path

    def line_of(self, record: int | None) -> int | None:
        """The line number of a record.

        Parameters
        ----------
        record : int or None
            A record number, from 0.

        Returns
        -------
        int or None
            Its line (JSONL, from 1), else None.
        """
        if record is None or self.line_numbers is None or not 0 <= record < len(self.line_numbers):
            return None
        return int(self.line_numbers[record])

    def error(self, exc: InputError) -> InputError:
        """An error that names this input.

        Parameters
        ----------
        exc : fastzip.errors.InputError
            An error about one of its records (or the whole input).

        Returns
        -------
        fastzip.errors.InputError
            ``exc`` with this input's name and, for JSONL, the record's line
            (``exc`` itself when it names a file already).
        """
        if exc.path is not None:
            return exc
        return exc.with_path(self.name, line=self.line_of(exc.record))

    def records_of(self, pool_indices: Any) -> npt.NDArray[np.int64]:
        """The record numbers of pool samples (they differ once invalid records were skipped).

        Parameters
        ----------
        pool_indices : array-like of int
            Positions in the pool read with this dataset.

        Returns
        -------
        numpy array of int64
        """
        positions = np.asarray(pool_indices, dtype=np.int64)
        return positions if self.kept is None else self.kept[positions]

    def check_unchanged(self) -> None:
        """Raise when the input file changed (size, time or identity) since it was read."""
        check_unchanged(self.path, self.stamp, self.name)

    def records_at(self, indices: Sequence[int]) -> list[Any]:
        """The records at ``indices``, in that order, as Python objects.

        Parameters
        ----------
        indices : sequence of int
            Record numbers, from 0.

        Returns
        -------
        list
            The records, parsed again from the bytes read (JSONL) or taken
            from the table (Parquet) where they were not kept.
        """
        if self.records is not None:
            return [self.records[i] for i in indices]
        if self.format == "jsonl" and self.line_spans is not None and self.raw is not None:
            starts, lengths = self.line_spans
            raw = self.raw
            return [json.loads(raw[starts[i]:starts[i] + lengths[i]]) for i in indices]
        rows: list[Any] = take_rows(self.table, indices).to_pylist()
        return rows


def check_unchanged(path: str, stamp: FileStamp | None, name: str | None = None) -> None:
    """Raise when the file at ``path`` is no longer the one ``stamp`` describes (``None``: no check).

    Called before an output is written, so that nothing is written from an
    input that changed (or went away) during the run.

    Parameters
    ----------
    path : str
        The input.
    stamp : FileStamp or None
        Its identity when it was read.
    name : str or None, optional
        How the error names the input (default: ``path``).

    Raises
    ------
    fastzip.errors.InputError
        The file changed or went away.
    """
    if stamp is None:
        return
    try:
        now = FileStamp.of(os.stat(path))
    except OSError as exc:
        raise InputError(f"the input went away during the run ({exc.strerror}); nothing was written",
                         path=name or path) from None
    if now != stamp:
        raise InputError("the input changed during the run; nothing was written", path=name or path)


def _read_bytes(path: str) -> tuple[bytes, FileStamp | None]:
    """Every byte of ``path`` (or standard input), read once, with a regular file's stamp."""
    if path == STDIO:
        return sys.stdin.buffer.read(), None
    if remote.is_remote(path):
        return remote.read_bytes(path), None      # an object store: no inode to check for changes
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise InputError("is a directory, not a file", path=path)
            data = f.read()
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    return data, FileStamp.of(st) if stat.S_ISREG(st.st_mode) else None


def check_record(record: Any, index: int, path: str, line: int | None = None) -> None:
    """Refuse a record that is neither a JSON object nor a string.

    Parameters
    ----------
    record : object
        The parsed record.
    index : int
        Its record number, from 0.
    path : str
        The input's name.
    line : int or None, optional
        Its line (JSONL).

    Raises
    ------
    fastzip.errors.InputError
        The record is of another type.
    """
    if record is None or not isinstance(record, (dict, str)):
        kind = "null" if record is None else type(record).__name__
        raise InputError(f"a record must be a JSON object or a string, got {kind}",
                         path=path, record=index, line=line)


def parse_json(raw: bytes, path: str, record: int | None = None, line: int | None = None) -> Any:
    """``json.loads`` with every failure as one :class:`InputError` line."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        where = "" if line is not None else f" at line {exc.lineno}, column {exc.colno}"
        raise InputError(f"malformed JSON{where}: {exc.msg}", path=path, record=record, line=line) from None
    except UnicodeDecodeError:
        raise InputError("not valid UTF-8", path=path, record=record, line=line) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", path=path, record=record, line=line) from None
    except ValueError as exc:          # e.g. an integer longer than Python's digit limit
        reason = str(exc).split(";")[0].split(":")[0]
        raise InputError(f"malformed JSON: {reason}", path=path, record=record, line=line) from None


class Invalid:
    """A record that could not be parsed, kept in place (and numbered) when invalid records are skipped."""

    def __init__(self, error: InputError):
        self.error = error


class _JsonlLines:
    """The records of JSONL bytes, in order, noting each line's place."""

    def __init__(self, raw: bytes, name: str, skip: bool = False):
        self.raw, self.name, self.skip = raw, name, skip
        self.starts: list[int] = []
        self.lengths: list[int] = []
        self.numbers: list[int] = []

    def __iter__(self) -> Iterator[Any]:
        offset = len(_BOM) if self.raw.startswith(_BOM) else 0   # a BOM is not part of line 1
        for number, line in enumerate(io.BytesIO(self.raw[offset:] if offset else self.raw), start=1):
            start, offset = offset, offset + len(line)
            if not line.strip():
                continue   # blank lines carry no record
            index = len(self.starts)
            try:
                record = parse_json(line, self.name, index, number)
                check_record(record, index, self.name, number)
            except InputError as exc:
                if not self.skip:
                    raise
                record = Invalid(exc)        # still a record (numbered), never a sample
            self.starts.append(start)
            self.lengths.append(len(line))
            self.numbers.append(number)
            yield record

    def fill(self, dataset: Dataset) -> None:
        dataset.line_spans = (np.asarray(self.starts, dtype=np.int64), np.asarray(self.lengths, dtype=np.int64))
        dataset.line_numbers = np.asarray(self.numbers, dtype=np.int64)
        dataset.count = len(self.starts)


def _read_json_list(raw: bytes, name: str, check: bool = True) -> list[Any]:
    try:
        data = parse_json(raw, name)
    except InputError as exc:
        if "Extra data" in exc.reason and _first_line_is_json(raw):
            raise InputError(f"{exc.reason}; this looks like JSONL (one record per line): name it .jsonl or "
                             "pass --format jsonl", path=name) from None
        raise
    if not isinstance(data, list):
        raise InputError(f"expected a JSON list of records, got a JSON {type(data).__name__}", path=name)
    for i, record in enumerate(data if check else ()):
        check_record(record, i, name)
    return data


def _first_line_is_json(raw: bytes) -> bool:
    first = raw.lstrip(_BOM).split(b"\n", 1)[0]
    try:
        json.loads(first)
    except ValueError:
        return False
    return True


def _read_parquet_table(raw: bytes, name: str) -> Any:
    pa = require_pyarrow()
    try:
        return pa.parquet.read_table(pa.BufferReader(raw))
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read Parquet: {str(exc).splitlines()[0]}", path=name) from None


def take_rows(table: Any, indices: Sequence[int]) -> Any:
    """The rows at ``indices`` of a pyarrow table, in that order, for every column type.

    Arrow's ``take`` has no kernel for some types (binary and string views);
    those tables are cut into one-row slices and put back together.

    Parameters
    ----------
    table : pyarrow.Table
    indices : sequence of int
        Row numbers, from 0.

    Returns
    -------
    pyarrow.Table
    """
    pa = require_pyarrow()
    try:
        return table.take(pa.array(list(indices), type=pa.int64()))
    except pa.ArrowNotImplementedError:
        return pa.concat_tables([table.slice(int(i), 1) for i in indices]) if len(indices) else table.slice(0, 0)


def _table_rows(table: Any, name: str) -> Iterator[Any]:
    """The table's rows as dicts, a batch at a time (never the whole table as Python objects)."""
    pa = require_pyarrow()
    index = 0
    for batch in table.to_batches(max_chunksize=4096):
        try:
            rows = batch.to_pylist()
        except (pa.ArrowException, ValueError, OverflowError) as exc:
            raise InputError(f"cannot convert a row to Python: {str(exc).splitlines()[0]}",
                             path=name, record=index) from None
        yield from rows
        index += len(rows)


def read_dataset(path: str, format: str | None = None) -> Dataset:
    """Read a JSON list, JSONL or Parquet file, or ``-`` (standard input), once.

    Parameters
    ----------
    path : str or path-like
        The file, or ``"-"`` for standard input.
    format : {"json", "jsonl", "parquet"} or None
        Needed when the name does not say it (and for ``-``).

    Returns
    -------
    Dataset
        With ``records`` filled in for every format.
    """
    dataset, raw = _open(path, format)
    if dataset.format == "jsonl":
        lines = _JsonlLines(raw, dataset.name)
        dataset.records = list(lines)
        lines.fill(dataset)
    elif dataset.format == "parquet":
        dataset.records = list(_table_rows(dataset.table, dataset.name))
    return dataset


def read_pool(path: str, serializer: str, *, format: str | None = None,
              text_field: str | None = None, on_invalid: str = "error") -> tuple[Dataset, Pool]:
    """Read a pool once and serialize it as it is parsed.

    JSONL and Parquet records are not kept as Python objects: the output is
    written from the bytes read (JSONL) or the table (Parquet), so memory
    holds the input's bytes and the serialized pool only.

    Parameters
    ----------
    path : str
        The file, or ``"-"`` for standard input.
    serializer : str
        ``repr``, ``json`` or ``text``.
    format : str or None, optional
        Needed when the name does not say it (and for ``-``).
    text_field : str or None, optional
        For ``text``: the field of each record to read.
    on_invalid : {"error", "skip"}, optional
        ``error`` stops at the first invalid record (malformed JSON, not an
        object or string, null, empty, missing ``text_field``...); ``skip``
        leaves such records out of the pool, noting each in
        ``Dataset.skipped`` and the pool's record numbers in ``Dataset.kept``.

    Returns
    -------
    dataset : Dataset
    pool : Pool

    Raises
    ------
    fastzip.errors.InputError
        Naming the file, the record (from 0) and, for JSONL, its line.
    """
    check_serializer(serializer)
    if on_invalid not in ON_INVALID:
        raise UsageError(f"on_invalid must be one of {', '.join(ON_INVALID)}, got {on_invalid!r}")
    skip = on_invalid == "skip"
    dataset, raw = _open(path, format, skip=skip)
    if dataset.format == "jsonl":
        lines = _JsonlLines(raw, dataset.name, skip)
        try:
            pool = _skipping_pool(dataset, lines, serializer, text_field) if skip else \
                Pool.from_samples(lines, serializer, text_field)
        except InputError as exc:
            if exc.path is None and exc.record is not None and exc.record < len(lines.numbers):
                raise exc.with_path(dataset.name, line=lines.numbers[exc.record]) from None
            raise
        lines.fill(dataset)
        for k, note in enumerate(dataset.skipped):          # lines are known now
            if note.line is None and note.record is not None:
                dataset.skipped[k] = InputError(note.reason, path=dataset.name, record=note.record,
                                                line=dataset.line_of(note.record))
    elif dataset.format == "parquet":
        rows = _table_rows(dataset.table, dataset.name)
        pool = _skipping_pool(dataset, rows, serializer, text_field) if skip else \
            _pool_or_error(dataset, rows, serializer, text_field)
    else:
        pool = _skipping_pool(dataset, dataset.records, serializer, text_field) if skip else \
            _pool_or_error(dataset, dataset.records, serializer, text_field)
    return dataset, pool


ON_INVALID = ("error", "skip")
_CHUNK = 4096


def _skipping_pool(dataset: Dataset, rows: Any, serializer: str, text_field: str | None) -> Pool:
    """The pool of the valid records of ``rows``; each invalid one is noted in ``dataset.skipped``.

    Records are serialized a chunk at a time; a chunk with an invalid record
    is serialized again past it, so the cost of a bad record is one chunk.
    """
    datas: list[npt.NDArray[np.uint8]] = []
    lengths: list[npt.NDArray[np.int64]] = []
    kept: list[int] = []
    chunk: list[Any] = []
    first = 0

    def flush(chunk: list[Any], first: int) -> None:
        start = 0
        while start < len(chunk):
            invalid = next((k for k in range(start, len(chunk)) if isinstance(chunk[k], Invalid)), len(chunk))
            try:
                part = Pool.from_samples(chunk[start:invalid], serializer, text_field)
                bad = None
            except InputError as exc:
                if exc.record is None:
                    raise
                bad, invalid = exc, start + exc.record
                part = Pool.from_samples(chunk[start:invalid], serializer, text_field)
            datas.append(part.data)
            lengths.append(part.lengths)
            kept.extend(range(first + start, first + invalid))
            if invalid < len(chunk):
                error = chunk[invalid].error if bad is None else bad
                dataset.skipped.append(dataset.error(InputError(error.reason, record=first + invalid,
                                                                line=error.line)))
            start = invalid + 1

    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK:
            flush(chunk, first)
            first += len(chunk)
            chunk = []
    flush(chunk, first)
    dataset.kept = np.asarray(kept, dtype=np.int64)
    sizes = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    data = np.concatenate(datas) if datas else np.zeros(0, np.uint8)
    return Pool(data, offsets, serializer)


def _pool_or_error(dataset: Dataset, rows: Any, serializer: str, text_field: str | None) -> Pool:
    try:
        return Pool.from_samples(rows, serializer, text_field)
    except InputError as exc:
        raise dataset.error(exc) from None


def _check_exists(path: str) -> None:
    """Say "no such file" or "is a folder" before the name's format is looked at (it would mislead)."""
    if path == STDIO:
        return
    if remote.is_remote(path):
        found = remote.kind(path)
        if found is None:
            raise InputError("no such object or prefix", path=path)
        if found == "dir":
            raise InputError("is a folder (prefix), not an object (fastzip select reads a folder of shards; "
                             "other commands read one object)", path=path)
        return
    if os.path.isdir(path):
        raise InputError("is a folder, not a file (fastzip select reads a folder of shards; other commands "
                         "read one file)", path=path)
    if not os.path.lexists(path):
        kind = "folder" if path.endswith(("/", os.sep)) else "file"
        raise InputError(f"no such {kind}", path=path)


def _open(path: Any, format: str | None, skip: bool = False) -> tuple[Dataset, bytes]:
    path = path if path == STDIO or remote.is_remote(path) else os.fspath(path)
    _check_exists(path)
    fmt = resolve_format(path, format)
    raw, stamp = _read_bytes(path)
    dataset = Dataset(path, fmt, stamp=stamp)
    if fmt != "parquet":
        raw = decompress_bytes(raw, dataset.name)      # by its magic number: standard input too
    if fmt == "json":
        dataset.records = _read_json_list(raw, dataset.name, check=not skip)
        dataset.count = len(dataset.records)
        return dataset, b""
    if fmt == "parquet":
        dataset.table = _read_parquet_table(raw, dataset.name)
        dataset.count = dataset.table.num_rows
        return dataset, b""
    dataset.raw = raw
    return dataset, raw


def read_records(path: str, format: str | None = None) -> list[Any]:
    """The records of a JSON list, JSONL or Parquet file (or ``-``).

    Parameters
    ----------
    path, format : str, str or None
        As :func:`read_dataset` takes them.

    Returns
    -------
    list
        The records, in file order.
    """
    records = read_dataset(path, format).records
    return records if records is not None else []   # read_dataset fills them for every format


def input_stamp(path: str) -> FileStamp | None:
    """The identity of an input (a file, or a regular file behind standard input).

    Parameters
    ----------
    path : str
        The input; ``"-"`` stats standard input's descriptor.

    Returns
    -------
    FileStamp or None
        None for a pipe or terminal on standard input.
    """
    if remote.is_remote(path):
        return None
    try:
        st = os.fstat(sys.stdin.fileno()) if path == STDIO else os.stat(path)
    except (OSError, ValueError):
        return None
    return FileStamp.of(st)


def bundled_sample_path() -> str:
    """The real sample pool shipped with fastzip (Perl and Python FAQ Q&A pairs).

    Returns
    -------
    str
        The path of its JSONL file.
    """
    return os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "faq_qa.jsonl")   # fastzip/data
