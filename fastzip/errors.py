"""Exceptions raised by fastzip.

Every fault of the user's input or environment is a :class:`FastzipError`:
the command line prints its message as one line and exits with status 2.
Anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import signal


class FastzipError(Exception):
    """Base class of fastzip's own errors; ``str(err)`` is one line."""


class InputError(FastzipError, ValueError):
    """Bad input: names the file (when there is one), the record and the fault.

    Records are numbered from 0, as pool indices are; lines from 1.
    ``str(err)`` is a single line, ready to print as a CLI error.

    Parameters
    ----------
    reason : str
        What is wrong.
    path : str or None
        The file the record comes from.
    record : int or None
        The record's number, from 0.
    line : int or None
        The record's line in the file, from 1 (JSONL and CSV).
    """

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
        super().__init__(_one_line(f"{prefix}: {reason}" if prefix else reason))

    def with_path(self, path: str, line: int | None = None) -> InputError:
        """The same error, naming ``path`` as the file (and ``line`` when given).

        Parameters
        ----------
        path : str
            The file.
        line : int or None, optional
            The record's line (JSONL); None keeps this error's.

        Returns
        -------
        InputError
            A new error of the same class.
        """
        return type(self)(self.reason, path=path, record=self.record,
                          line=self.line if line is None else line)


class UsageError(InputError):
    """A bad argument (a budget, a stage size, a thread count): never blamed on a file."""

    def with_path(self, path: str, line: int | None = None) -> UsageError:
        """This error, unchanged: a bad argument is never blamed on a file.

        Parameters
        ----------
        path : str
            Ignored.
        line : int or None, optional
            Ignored.

        Returns
        -------
        UsageError
            ``self``.
        """
        return self


class OutputError(FastzipError, OSError):
    """An output that must not or cannot be written: names the file and the fault.

    Raised before anything is written (the output is the input, a device, a
    folder), or when the operating system refuses the write (disk full,
    permission denied, read-only file system); nothing is left behind.
    """

    def __init__(self, reason: str, *, path: str):
        self.reason = reason
        self.path = path
        super().__init__(_one_line(f"{path}: {reason}"))

    def __str__(self) -> str:
        return str(self.args[0])


class MissingDependencyError(FastzipError, ImportError):
    """An optional dependency (pyarrow, matplotlib, ray) is not installed.

    The message names the extra that brings it, e.g. ``pip install 'fastzip-select[parquet]'``.
    """


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so nothing is written.

    A ``BaseException``, as ``KeyboardInterrupt`` is, so that no ``except
    Exception`` on the way swallows it.
    """

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"terminated by {signal.Signals(signum).name}")


def _one_line(text: str) -> str:
    """Keep an error message to one line, whatever a lower layer put in it."""
    return " ".join(text.split()) if "\n" in text or "\r" in text else text
