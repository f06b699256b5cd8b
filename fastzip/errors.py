"""Exceptions raised by fastzip."""
from __future__ import annotations


class FastzipError(Exception):
    """Base class of fastzip's own errors."""


class InputError(FastzipError, ValueError):
    """Bad input: names the file (when there is one), the record and the fault.

    ``str(err)`` is a single line, ready to print as a CLI error.
    """

    def __init__(self, reason: str, *, path: str | None = None, record: int | None = None):
        self.reason = reason
        self.path = path
        self.record = record
        where = []
        if path is not None:
            where.append(str(path))
        if record is not None:
            where.append(f"record {record}")
        prefix = ": ".join(where)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)
