"""Exceptions raised by fastzip."""
from __future__ import annotations


class FastzipError(Exception):
    """Base class of fastzip's own errors."""


class InputError(FastzipError, ValueError):
    """Bad input: names the file (when there is one), the record and the fault.

    Records are numbered from 0, as pool indices are; lines from 1.
    ``str(err)`` is a single line, ready to print as a CLI error.
    """

    def with_path(self, path: str) -> "InputError":
        """The same error, naming ``path`` as the file."""
        return InputError(self.reason, path=path, record=self.record, line=self.line)

    def __init__(self, reason: str, *, path: str | None = None, record: int | None = None,
                 line: int | None = None):
        self.reason = reason
        self.path = path
        self.record = record
        self.line = line
        where = []
        if path is not None:
            where.append(str(path))
        if record is not None:
            where.append(f"record {record}" + (f" (line {line})" if line is not None else ""))
        elif line is not None:
            where.append(f"line {line}")
        prefix = ": ".join(where)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)
