"""Readers and writers for pools: JSON list, JSONL and Parquet.

Records are kept as they were read, so a selection is written back
unchanged: JSONL lines byte for byte, JSON records with their key order,
Parquet rows with their schema.  Every write goes to a temporary file in the
target folder and is renamed into place, so an interrupted run never leaves
a partial output.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from .errors import InputError

FORMATS = ("json", "jsonl", "parquet")


def detect_format(path: str) -> str:
    """Format from the file name: .jsonl/.ndjson, .parquet/.pq, else JSON."""
    lower = str(path).lower()
    if lower.endswith((".jsonl", ".ndjson", ".jsonl.txt")):
        return "jsonl"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    return "json"


@dataclass
class Dataset:
    """Records read from one file, with what is needed to write a subset back."""

    path: str
    format: str
    records: list
    line_spans: Any = None        # jsonl: (offset, length) of each record's line in the file
    table: Any = None             # parquet: the pyarrow table

    def __len__(self) -> int:
        return len(self.records)


def _check_record(record: Any, index: int, path: str, line: int | None = None) -> None:
    if record is None or not isinstance(record, (dict, str)):
        kind = "null" if record is None else type(record).__name__
        raise InputError(f"a record must be a JSON object or a string, got {kind}",
                         path=path, record=index, line=line)


def _read_jsonl(path: str) -> Dataset:
    """Records, and where each line sits in the file (to copy it out unchanged
    later without holding every line in memory)."""
    records, starts, lengths = [], [], []
    offset = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue  # blank lines carry no record
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not valid UTF-8"
                raise InputError(f"malformed JSON: {reason}", path=path, record=len(records),
                                 line=number) from None
            _check_record(record, len(records), path, number)
            records.append(record)
            starts.append(start)
            lengths.append(len(raw))
    spans = (np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64))
    return Dataset(path, "jsonl", records, line_spans=spans)


def _read_json(path: str) -> Dataset:
    with open(path, "rb") as f:
        raw = f.read()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                         path=path) from None
    except UnicodeDecodeError:
        raise InputError("not valid UTF-8", path=path) from None
    if not isinstance(data, list):
        raise InputError(f"expected a JSON list of records, got a JSON {type(data).__name__}", path=path)
    for i, record in enumerate(data):
        _check_record(record, i, path)
    return Dataset(path, "json", data)


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InputError("reading or writing Parquet needs pyarrow: pip install 'fastzip[parquet]'") from None
    return pyarrow


def _read_parquet(path: str) -> Dataset:
    pa = _pyarrow()
    try:
        table = pa.parquet.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read Parquet: {exc}", path=path) from None
    records = table.to_pylist()
    return Dataset(path, "parquet", records, table=table)


def read_dataset(path: str, format: str | None = None) -> Dataset:
    """Read a JSON list, JSONL or Parquet file (format from the name by default)."""
    path = os.fspath(path)
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", path=path)
    if not os.path.exists(path):
        raise InputError("no such file", path=path)
    if os.path.isdir(path):
        raise InputError("is a directory, not a file", path=path)
    try:
        reader = {"jsonl": _read_jsonl, "json": _read_json, "parquet": _read_parquet}[fmt]
        return reader(path)
    except PermissionError:
        raise InputError("permission denied", path=path) from None


def read_records(path: str, format: str | None = None) -> list:
    """The records of a JSON list, JSONL or Parquet file."""
    return read_dataset(path, format).records


def check_writable(path: str) -> None:
    """Fail early (before any work) when ``path`` cannot be written."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError("is a directory, cannot write the output there", path=path)
    if not os.path.isdir(folder):
        raise InputError(f"output folder {folder} does not exist", path=path)
    if not os.access(folder, os.W_OK):
        raise InputError(f"output folder {folder} is not writable", path=path)


@contextlib.contextmanager
def atomic_writer(path: str, mode: str = "wb", encoding: str | None = None) -> Iterator[Any]:
    """Write to a temporary file beside ``path``; rename it into place on success."""
    path = os.fspath(path)
    check_writable(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        if "b" not in mode and encoding is None:
            encoding = "utf-8"   # text outputs are UTF-8 whatever the locale
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_current_umask())   # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str, payload: bytes) -> None:
    """Write ``payload`` to ``path`` through a temporary file and a rename."""
    with atomic_writer(path, "wb") as f:
        f.write(payload)


def write_subset(dataset: Dataset, indices: Sequence[int], path: str, format: str | None = None) -> None:
    """Write the records at ``indices`` (in that order) in the dataset's format."""
    fmt = format or dataset.format
    indices = [int(i) for i in indices]
    if fmt == "jsonl":
        with atomic_writer(path, "wb") as f:
            if dataset.line_spans is not None:
                starts, lengths = dataset.line_spans
                with open(dataset.path, "rb") as source:
                    for i in indices:
                        source.seek(int(starts[i]))
                        line = source.read(int(lengths[i]))
                        f.write(line if line.endswith(b"\n") else line + b"\n")
            else:
                for i in indices:
                    f.write(json.dumps(dataset.records[i], ensure_ascii=False).encode("utf-8", "surrogatepass")
                            + b"\n")
    elif fmt == "json":
        text = json.dumps([dataset.records[i] for i in indices], ensure_ascii=False, indent=1) + "\n"
        with atomic_writer(path, "wb") as f:
            f.write(text.encode("utf-8", errors="surrogatepass"))
    elif fmt == "parquet":
        pa = _pyarrow()
        table = dataset.table.take(pa.array(indices, type=pa.int64())) if dataset.table is not None \
            else pa.Table.from_pylist([dataset.records[i] for i in indices])
        with atomic_writer(path, "wb") as f:
            pa.parquet.write_table(table, f)
    else:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", path=path)


def write_json(obj: Any, path: str) -> None:
    """Write ``obj`` as JSON, atomically."""
    with atomic_writer(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)
        f.write("\n")


def bundled_sample_path() -> str:
    """The real sample pool shipped with fastzip (Perl and Python FAQ Q&A pairs)."""
    return os.path.join(os.path.dirname(__file__), "data", "faq_qa.jsonl")
