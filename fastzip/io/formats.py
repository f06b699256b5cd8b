"""Input formats: which one a file name says.

The format of a file follows its name (``.json``, ``.jsonl``/``.ndjson``,
``.parquet``/``.pq``); ``format=`` (the CLI's ``--format``) names it
otherwise, and is needed for ``-`` (standard input).
"""
from __future__ import annotations

from ..errors import UsageError

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
    lower = str(path).lower()
    for suffix, fmt in SUFFIXES.items():
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
