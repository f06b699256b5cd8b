"""Reading pools and writing selections: JSON list, JSONL and Parquet, one file or many shards.

The input is read once and never touched; every output is written
atomically (a temporary file beside it, renamed into place when complete),
and a run's outputs are reserved before any work and committed together
(``staged_outputs``).  ``formats`` says which format a name means,
``compression`` reads and writes .gz/.zst/.bz2/.xz (by name and by magic
bytes), ``remote`` reaches object stores through fsspec, ``read`` reads a
pool once, ``write`` writes outputs, ``shards`` reads folders and globs a
batch at a time for the out-of-core and Ray paths, and ``arrow`` builds a
packed pool straight from Arrow columns.
"""
from __future__ import annotations

from .formats import FORMATS, STDIO, check_output_name, format_from_name, output_format, resolve_format
from .read import (
    ON_INVALID,
    Dataset,
    FileStamp,
    bundled_sample_path,
    check_record,
    check_unchanged,
    input_stamp,
    read_dataset,
    read_pool,
    read_records,
    take_rows,
)
from .remote import is_remote, local_path
from .write import (
    atomic_writer,
    check_output,
    check_outputs,
    json_bytes,
    output_stream,
    staged_outputs,
    subset_bytes,
    write_bytes_atomic,
    write_json,
    write_outputs,
    write_subset,
)

__all__ = [
    "is_remote", "local_path",
    "ON_INVALID",
    "atomic_writer", "bundled_sample_path", "check_output", "check_output_name", "check_outputs", "check_record",
    "check_unchanged", "Dataset", "FileStamp", "format_from_name", "FORMATS", "input_stamp", "json_bytes",
    "output_format", "output_stream", "read_dataset", "read_pool", "read_records", "resolve_format",
    "staged_outputs", "STDIO", "subset_bytes", "take_rows", "write_bytes_atomic", "write_json", "write_outputs",
    "write_subset",
]
