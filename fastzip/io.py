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

import contextlib
import glob
import io
import json
import os
import re
import secrets
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ._optional import require_pyarrow
from .errors import InputError, OutputError, UsageError
from .pool import Pool
from .serialize import check_serializer, dumps_json

FORMATS = ("json", "jsonl", "parquet")
STDIO = "-"
_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
_BOM = b"\xef\xbb\xbf"


def format_from_name(path: str) -> str | None:
    """The format a file name says.

    Parameters
    ----------
    path : str
        A file name, or ``"-"``.

    Returns
    -------
    str or None
        ``json``, ``jsonl`` or ``parquet``; None when the name says nothing (as for ``-``).
    """
    lower = str(path).lower()
    for suffix, fmt in _SUFFIXES.items():
        if lower.endswith(suffix):
            return fmt
    return None


def resolve_format(path: str, format: str | None = None) -> str:
    """``format`` when given, else the one ``path``'s name says.

    Parameters
    ----------
    path : str
        A file name, or ``"-"``.
    format : str or None, optional
        ``json``, ``jsonl`` or ``parquet``.

    Returns
    -------
    str

    Raises
    ------
    fastzip.errors.UsageError
        The format is unknown, or neither given nor told by the name.
    """
    if format is not None:
        if format not in FORMATS:
            raise UsageError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
        return format
    fmt = format_from_name(path)
    if fmt is None:
        what = "standard input" if path == STDIO else f"{path}: the name"
        raise UsageError(f"{what} does not say the format; pass --format {'|'.join(FORMATS)}")
    return fmt


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


def _parse_json(raw: bytes, path: str, record: int | None = None, line: int | None = None) -> Any:
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


class _JsonlLines:
    """The records of JSONL bytes, in order, noting each line's place."""

    def __init__(self, raw: bytes, name: str):
        self.raw, self.name = raw, name
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
            record = _parse_json(line, self.name, index, number)
            check_record(record, index, self.name, number)
            self.starts.append(start)
            self.lengths.append(len(line))
            self.numbers.append(number)
            yield record

    def fill(self, dataset: Dataset) -> None:
        dataset.line_spans = (np.asarray(self.starts, dtype=np.int64), np.asarray(self.lengths, dtype=np.int64))
        dataset.line_numbers = np.asarray(self.numbers, dtype=np.int64)
        dataset.count = len(self.starts)


def _read_json_list(raw: bytes, name: str) -> list[Any]:
    data = _parse_json(raw, name)
    if not isinstance(data, list):
        raise InputError(f"expected a JSON list of records, got a JSON {type(data).__name__}", path=name)
    for i, record in enumerate(data):
        check_record(record, i, name)
    return data


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


def _parquet_rows(table: Any, name: str) -> Iterator[Any]:
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
        dataset.records = list(_parquet_rows(dataset.table, dataset.name))
    return dataset


def read_pool(path: str, serializer: str, *, format: str | None = None,
              text_field: str | None = None) -> tuple[Dataset, Pool]:
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
    dataset, raw = _open(path, format)
    if dataset.format == "jsonl":
        lines = _JsonlLines(raw, dataset.name)
        try:
            pool = Pool.from_samples(lines, serializer, text_field)
        except InputError as exc:
            if exc.path is None and exc.record is not None and exc.record < len(lines.numbers):
                raise exc.with_path(dataset.name, line=lines.numbers[exc.record]) from None
            raise
        lines.fill(dataset)
    elif dataset.format == "parquet":
        pool = _pool_or_error(dataset, _parquet_rows(dataset.table, dataset.name), serializer, text_field)
    else:
        pool = _pool_or_error(dataset, dataset.records, serializer, text_field)
    return dataset, pool


def _pool_or_error(dataset: Dataset, rows: Any, serializer: str, text_field: str | None) -> Pool:
    try:
        return Pool.from_samples(rows, serializer, text_field)
    except InputError as exc:
        raise dataset.error(exc) from None


def _open(path: Any, format: str | None) -> tuple[Dataset, bytes]:
    path = STDIO if path == STDIO else os.fspath(path)
    fmt = resolve_format(path, format)
    raw, stamp = _read_bytes(path)
    dataset = Dataset(path, fmt, stamp=stamp)
    if fmt == "json":
        dataset.records = _read_json_list(raw, dataset.name)
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
    try:
        st = os.fstat(sys.stdin.fileno()) if path == STDIO else os.stat(path)
    except (OSError, ValueError):
        return None
    return FileStamp.of(st)


# ----------------------------------------------------------------------------- output checks
_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def check_output(path: str, *, inputs: Sequence[str] = (), others: Sequence[str] = ()) -> None:
    """Refuse, before any work, an output that must not or cannot be written.

    Parameters
    ----------
    path : str
        The output; ``-`` (standard output) is always accepted.
    inputs : sequence of str
        Files this run reads: the output must be none of them (same real
        path, or same device and inode).
    others : sequence of str
        The run's other outputs, which must differ from this one.

    Raises
    ------
    OutputError
        Naming the output and the fault.
    """
    if path == STDIO:
        if STDIO in others:
            raise OutputError("only one output can go to standard output", path=path)
        return
    path = os.fspath(path)
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"cannot write the output: {exc.strerror}", path=path) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        hint = " (use -o - for standard output)" if not stat.S_ISDIR(st.st_mode) else ""
        raise OutputError(f"is {kind}; fastzip replaces only regular files{hint}", path=path)
    for source in inputs:
        stamp = input_stamp(source)
        same_inode = st is not None and stamp is not None and (st.st_dev, st.st_ino) == (stamp.device, stamp.inode)
        if same_inode or (source != STDIO and os.path.realpath(source) == real):
            raise OutputError("is the input file; writing it would destroy the pool", path=path)
    for other in others:
        if other != STDIO and os.path.realpath(other) == real:
            raise OutputError(f"is also the other output ({other}); give two different files", path=path)
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise OutputError(f"output folder {folder} does not exist", path=path)


# ----------------------------------------------------------------------------- writing
_TMP_PATTERN = ".{name}.fastzip-{pid}-{token}.tmp"
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.fastzip-(?P<pid>\d+)-[A-Za-z0-9_]+\.tmp$")


def _clean_stale_temporaries(folder: str, name: str) -> None:
    """Remove temporary files a killed run (SIGKILL) left for this output.

    Only files of fastzip's own pattern for this very output name, whose
    process no longer exists, are removed.
    """
    for tmp in glob.glob(os.path.join(glob.escape(folder), f".{glob.escape(name)}.fastzip-*.tmp")):
        match = _TMP_RE.match(os.path.basename(tmp))
        if match is None or match["name"] != name:
            continue
        try:
            os.kill(int(match["pid"]), 0)
            continue               # its writer still runs
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError):
            continue
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_writer(path: str, mode: str = "wb", encoding: str | None = None) -> Iterator[Any]:
    """Write to a temporary file beside ``path``'s target; rename it into place on success.

    A symbolic link is followed: its target is replaced, the link kept.  A
    failure (disk full, permission denied, a signal) removes the temporary
    file and leaves any old output as it was; OS faults become
    :class:`~fastzip.errors.OutputError`.

    Parameters
    ----------
    path : str
        The output file.
    mode : str, optional
        ``open``'s mode (``"wb"`` or ``"w"``).
    encoding : str or None, optional
        For text mode.

    Yields
    ------
    file object
        The temporary file, open for writing.
    """
    path = os.fspath(path)
    check_output(path)
    target = os.path.realpath(path)
    folder, name = os.path.split(target)
    _clean_stale_temporaries(folder, name)
    tmp = None
    try:
        token = secrets.token_hex(6)
        tmp = os.path.join(folder, _TMP_PATTERN.format(name=name, pid=os.getpid(), token=token))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)   # the umask applies
        if "b" not in mode and encoding is None:
            encoding = "utf-8"   # text outputs are UTF-8 whatever the locale
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise OutputError(f"cannot write the output: {exc.strerror or exc}", path=path) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


@contextlib.contextmanager
def output_stream(path: str) -> Iterator[Any]:
    """A binary stream for ``path``: atomic for files, standard output for ``-``.

    Parameters
    ----------
    path : str
        A file name, or ``"-"``.

    Yields
    ------
    file object
        Open for binary writing.
    """
    if path == STDIO:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    else:
        with atomic_writer(path, "wb") as f:
            yield f


def write_bytes_atomic(path: str, payload: bytes) -> None:
    """Write ``payload`` to ``path`` through a temporary file and a rename.

    Parameters
    ----------
    path : str
        The output file.
    payload : bytes
        Its whole content.
    """
    with atomic_writer(path, "wb") as f:
        f.write(payload)


def json_bytes(value: Any, **options: Any) -> bytes:
    """``value`` as UTF-8 JSON; lone surrogates stay ``\\udXXX`` escapes, so the bytes are valid UTF-8.

    Parameters
    ----------
    value : object
        What to write.
    **options
        Passed to ``json.dumps`` (``indent``, ...).

    Returns
    -------
    bytes
    """
    text = dumps_json(value, **options)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


def output_format(path: str, dataset: Dataset, format: str | None = None) -> str:
    """The output's format: ``format``, else its name's, else the input's.

    Parameters
    ----------
    path : str
        The output file, or ``"-"``.
    dataset : Dataset
        The input.
    format : str or None, optional
        The format asked for.

    Returns
    -------
    str
    """
    if format is not None:
        return resolve_format(path, format)
    return format_from_name(path) or dataset.format if path != STDIO else dataset.format


def subset_bytes(dataset: Dataset, indices: Iterable[int], path: str, format: str | None = None) -> bytes:
    """The bytes of the records at ``indices`` (in that order), as :func:`write_subset` writes them.

    Parameters
    ----------
    dataset : Dataset
        The input.
    indices : iterable of int
        Record numbers, from 0.
    path : str
        The output file, or ``"-"``.
    format : str or None, optional
        The format asked for.

    Returns
    -------
    bytes

    Raises
    ------
    fastzip.errors.OutputError
        The records cannot be written in that format.
    """
    fmt = output_format(path, dataset, format)
    positions = [int(i) for i in indices]
    if fmt == "parquet":
        return _parquet_bytes(dataset, positions, path)
    if fmt == "jsonl" and dataset.format == "jsonl" and dataset.line_spans is not None and dataset.raw is not None:
        starts, lengths = dataset.line_spans
        raw = dataset.raw
        return b"".join(_line(raw[starts[i]:starts[i] + lengths[i]]) for i in positions)
    try:
        rows = dataset.records_at(positions)
        if fmt == "jsonl":
            return b"".join(json_bytes(r) + b"\n" for r in rows)
        return json_bytes(rows, indent=1) + b"\n"
    except TypeError as exc:
        raise OutputError(f"cannot write the records as JSON: {exc}", path=path) from None


def write_subset(dataset: Dataset, indices: Iterable[int], path: str, format: str | None = None) -> None:
    """Write the records at ``indices`` (in that order).

    The format follows ``format``, else the output's name, else the input's.
    JSONL from JSONL copies each line byte for byte; Parquet from Parquet
    keeps the schema; any other pairing converts the records (values JSON
    lacks take the text form of :func:`fastzip.serialize.json_default`).

    Parameters
    ----------
    dataset, indices, path, format
        As :func:`subset_bytes` takes them; ``path`` is written atomically.

    Raises
    ------
    fastzip.errors.OutputError
        The records cannot be written, or the file cannot.
    """
    write_outputs({path: subset_bytes(dataset, indices, path, format)})


def write_outputs(payloads: dict[str, bytes]) -> None:
    """Write several outputs together: every file is complete before any is renamed into place.

    Parameters
    ----------
    payloads : dict of str to bytes
        Each output's path and content.

    Raises
    ------
    fastzip.errors.OutputError
        An output cannot be written (none is then renamed into place).
    """
    with contextlib.ExitStack() as stack:
        streams = [(stack.enter_context(output_stream(path)), payload) for path, payload in payloads.items()]
        for stream, payload in streams:
            stream.write(payload)


def _line(line: bytes) -> bytes:
    return line if line.endswith(b"\n") else line + b"\n"


def _parquet_bytes(dataset: Dataset, indices: list[int], path: str) -> bytes:
    pa = require_pyarrow()
    try:
        if dataset.table is not None:
            table = take_rows(dataset.table, indices)
        else:
            table = pa.Table.from_pylist(dataset.records_at(indices))
        sink = pa.BufferOutputStream()
        pa.parquet.write_table(table, sink)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise OutputError(f"cannot write the records as Parquet: {str(exc).splitlines()[0]}",
                          path=path) from None
    payload: bytes = sink.getvalue().to_pybytes()
    return payload


def write_json(obj: Any, path: str) -> None:
    """Write ``obj`` as JSON (``-``: standard output), atomically.

    Parameters
    ----------
    obj : object
        What to write.
    path : str
        The output file, or ``"-"``.
    """
    with output_stream(path) as f:
        f.write(json_bytes(obj) + b"\n")


def bundled_sample_path() -> str:
    """The real sample pool shipped with fastzip (Perl and Python FAQ Q&A pairs).

    Returns
    -------
    str
        The path of its JSONL file.
    """
    return os.path.join(os.path.dirname(__file__), "data", "faq_qa.jsonl")

