"""Input formats: which one a file name says.

The format of a file follows its name (``.json``, ``.jsonl``/``.ndjson``,
``.parquet``/``.pq``), after any compression suffix (``.jsonl.gz``,
``.json.zst``, ``.jsonl.bz2``, ``.jsonl.xz``); ``format=`` (the CLI's
``--format``) names it otherwise, and is needed for ``-`` (standard input).
"""
from __future__ import annotations

import os

from ..errors import UsageError
from .compression import SUFFIXES as COMPRESSION_SUFFIXES
from .compression import split_compression

FORMATS = ("json", "jsonl", "parquet")
STDIO = "-"
# a name ending in one of these says the format (".jsonl.txt": JSONL exported as text)
SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonl.txt": "jsonl", ".parquet": "parquet",
            ".pq": "parquet"}


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
    base, compression = split_compression(str(path))
    lower = base.lower()
    for suffix, fmt in SUFFIXES.items():
        if lower.endswith(suffix):
            # Parquet compresses its own pages; a compressed Parquet file is not a format fastzip reads
            return None if compression and fmt == "parquet" else fmt
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
        base, compression = split_compression(str(path))
        if compression and format_from_name(base) == "parquet":
            raise UsageError(f"{path}: compressed Parquet is not read (Parquet compresses its own pages); "
                             "decompress it first")
        what = "standard input" if path == STDIO else f"{path}: the name"
        raise UsageError(f"{what} does not say the format (.json, .jsonl or .parquet, optionally compressed "
                         f"as .jsonl.gz, .jsonl.zst, .jsonl.bz2 or .jsonl.xz); pass --format {'|'.join(FORMATS)}")
    return fmt


def check_output_name(path: str) -> None:
    """Refuse an output name with an extension fastzip does not write (``out.csv``), before any work.

    A name with no extension takes the input's format; ``-`` is standard output.

    Parameters
    ----------
    path : str
        The output.

    Raises
    ------
    fastzip.errors.UsageError
        The extension says a format other than JSON, JSONL or Parquet.
    """
    if path == STDIO or format_from_name(path) is not None:
        return
    base, compression = split_compression(os.path.basename(str(path)))
    ext = os.path.splitext(base)[1]
    if compression and format_from_name(base) == "parquet":
        raise UsageError(f"{path}: compressed Parquet outputs are not written (Parquet compresses its own "
                         "pages); name the output .parquet")
    if ext or compression:
        what = f"{ext} files" if ext else "compressed files whose name does not say the format"
        raise UsageError(f"{path}: fastzip does not write {what}; name the output .jsonl, .json or .parquet "
                         f"(JSON and JSONL may end in {', '.join(sorted(set(COMPRESSION_SUFFIXES)))}), or give "
                         "it no extension to take the input's format")


def output_format(path: str, input_formats: set[str], format: str | None = None) -> str:
    """The output's format: ``format``, else its name's, else the inputs' when they share one, else JSONL.

    Parameters
    ----------
    path : str
        The output file, or ``"-"``.
    input_formats : set of str
        The formats of the files read.
    format : str or None, optional
        The format asked for.

    Returns
    -------
    str
    """
    if format is not None:
        return resolve_format(path, format)
    named = None if path == STDIO else format_from_name(path)
    if named is not None:
        return named
    return next(iter(input_formats)) if len(input_formats) == 1 else "jsonl"
