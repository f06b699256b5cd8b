"""Inputs and outputs on remote storage, through fsspec: ``s3://``, ``gs://``, ``hf://``, ``memory://``...

A path with a protocol other than ``file://`` goes through fsspec (the
``remote`` extra: ``pip install 'fastzip-select[remote]'``; ``gs://`` and
``hf://`` also need ``gcsfs`` or ``huggingface_hub``).  Inputs are read as
local files are (a folder or prefix is searched recursively, with the same
rule for hidden names and names that say no format).  An output is proven
writable before any work by putting an empty temporary object beside it, and
written at the end with one put of the whole object, so that a reader never
sees a partial object; the temporary object is then removed.  Every fault is
one line naming the path.
"""
from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
from collections.abc import Callable
from typing import IO, Any, TypeVar

from .._optional import require_fsspec
from ..errors import FastzipError, InputError, OutputError

_T = TypeVar("_T")
_LOCAL = ("file", "local")


def is_remote(path: Any) -> bool:
    """Whether ``path`` names remote storage (a protocol other than ``file://``).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    bool
    """
    if not isinstance(path, str) or "://" not in path:
        return False
    protocol = path.split("://", 1)[0].lower()
    return protocol.isidentifier() and protocol not in _LOCAL


def local_path(path: Any) -> Any:
    """``file://`` URLs as plain local paths (they need no fsspec); anything else unchanged.

    Parameters
    ----------
    path : str, path-like or None

    Returns
    -------
    str, path-like or None
    """
    if isinstance(path, str) and path.lower().startswith("file://"):
        return path[len("file://"):] or "/"
    return path


def _fs(path: str) -> tuple[Any, str]:
    fsspec = require_fsspec(path)
    try:
        fs, inner = fsspec.core.url_to_fs(path)
    except (ImportError, ValueError) as exc:        # an unknown protocol, or its package missing
        raise InputError(f"cannot open this storage: {_reason(exc)}", path=path) from None
    return fs, inner


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _call(path: str, what: Callable[[], _T], error: type[FastzipError] = InputError) -> _T:
    """Run a storage call; its faults become one line naming ``path``."""
    try:
        return what()
    except FastzipError:
        raise
    except FileNotFoundError:
        missing = "its bucket or folder does not exist" if error is OutputError else "no such object or prefix"
        raise _error(error, missing, path) from None
    except PermissionError as exc:
        raise _error(error, f"access denied: {_reason(exc)}", path) from None
    except Exception as exc:   # noqa: BLE001 - every backend has its own exceptions; one line for each
        raise _error(error, f"storage error: {type(exc).__name__}: {_reason(exc)}", path) from None


def _error(kind: type[FastzipError], reason: str, path: str) -> FastzipError:
    return OutputError(reason, path=path) if kind is OutputError else InputError(reason, path=path)


def open_input(path: str) -> IO[bytes]:
    """A remote object, open for binary reading (seekable).

    Parameters
    ----------
    path : str

    Returns
    -------
    binary file object
    """
    fs, inner = _fs(path)
    found = kind(path)
    if found is None:
        raise InputError("no such object or prefix", path=path)
    if found == "dir":
        raise InputError("is a folder (prefix), not an object", path=path)
    handle: IO[bytes] = _call(path, lambda: fs.open(inner, "rb"))
    return handle


def read_bytes(path: str) -> bytes:
    """Every byte of a remote object.

    Parameters
    ----------
    path : str

    Returns
    -------
    bytes
    """
    with open_input(path) as f:
        data: bytes = _call(path, f.read)
    return data


def size(path: str) -> int:
    """The size of a remote object in bytes.

    Parameters
    ----------
    path : str

    Returns
    -------
    int
    """
    fs, inner = _fs(path)
    return int(_call(path, lambda: fs.size(inner)))


def kind(path: str) -> str | None:
    """``"dir"`` for a folder or prefix, ``"file"`` for an object, None when nothing is there.

    Asks for the path's details rather than using ``exists``/``isdir``, which
    fsspec answers False on any error: a denied request must say so.

    Parameters
    ----------
    path : str

    Returns
    -------
    str or None
    """
    fs, inner = _fs(path)

    def info() -> dict[str, Any] | None:
        try:
            details: dict[str, Any] = fs.info(inner)
        except FileNotFoundError:
            return None
        return details
    details = _call(path, info)
    if details is None:
        return None
    return "dir" if details.get("type") == "directory" else "file"


def expand(spec: str, keep: Callable[[str], bool]) -> list[str]:
    """The objects a remote file, folder (searched recursively) or glob names, sorted by path.

    Parameters
    ----------
    spec : str
        A remote path, prefix or glob.
    keep : callable
        Whether a file name (without folders) is a shard.

    Returns
    -------
    list of str
        Full URLs.
    """
    fs, inner = _fs(spec)
    is_glob = any(c in inner for c in "*?[")
    found = None if is_glob else kind(spec)
    if found == "dir":
        root = inner.rstrip("/")
        shards: list[tuple[tuple[str, ...], str]] = []
        for path in _call(spec, lambda: fs.find(root)):
            rel = posixpath.relpath(path, root)
            parts = tuple(rel.split("/"))
            if any(p.startswith(".") for p in parts) or not keep(parts[-1]):
                continue
            shards.append((parts, fs.unstrip_protocol(path)))
        if not shards:
            raise InputError("the prefix holds no .jsonl, .parquet or .json shards (searched recursively)",
                             path=spec)
        return [url for _, url in sorted(shards)]
    if is_glob:
        matches: dict[str, Any] = _call(spec, lambda: fs.glob(inner, detail=True))
        named = set(inner.split("/"))      # as Python's glob: dot-names match only when the pattern names them
        paths = sorted(fs.unstrip_protocol(p) for p, info in matches.items() if info.get("type") != "directory"
                       and not any(part.startswith(".") and part not in named for part in p.split("/")))
        if not paths:
            raise InputError("no object matches this pattern", path=spec)
        return paths
    if found is None:
        raise InputError("no such object or prefix", path=spec)
    return [spec]


class RemoteSlot:
    """A remote output: proven writable now (an empty temporary object beside it), put whole at commit."""

    def __init__(self, path: str):
        self.path = path
        self.fs, self.inner = _fs(path)
        folder, name = posixpath.split(self.inner)
        self.tmp = posixpath.join(folder, f".{name}.fastzip-{os.getpid()}-{secrets.token_hex(6)}.tmp")
        _call(path, lambda: self.fs.pipe_file(self.tmp, b""), OutputError)

    def commit(self, payload: bytes) -> None:
        """Put the whole object in one request (a reader sees the old object or the new one), then clean up.

        Parameters
        ----------
        payload : bytes
        """
        _call(self.path, lambda: self.fs.pipe_file(self.inner, payload), OutputError)
        self.discard()

    def discard(self) -> None:
        """Remove the temporary object (best effort)."""
        with contextlib.suppress(Exception):
            self.fs.rm_file(self.tmp)


def put_bytes(path: str, payload: bytes) -> None:
    """Write a remote object with one put (no temporary object: the put itself is all or nothing).

    Parameters
    ----------
    path : str
    payload : bytes
    """
    fs, inner = _fs(path)
    _call(path, lambda: fs.pipe_file(inner, payload), OutputError)
