"""Writing outputs atomically, and all of a run's outputs together.

Each output is written to a temporary file beside it and renamed into place
when complete.  :func:`staged_outputs` goes further for a run with several
outputs (a selection, its indices, its report): it creates every temporary
file before any work, so an output that cannot be written is found in the
first millisecond rather than after the selection, and renames them into
place together only when the run succeeds; on any error, Ctrl-C or signal
none is, and a rename that fails puts back the outputs renamed before it.
"""
from __future__ import annotations

import contextlib
import contextvars
import glob
import io
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .._optional import require_pyarrow
from ..errors import OutputError
from ..samples.serialize import dumps_json
from . import remote
from .compression import compress_bytes, split_compression
from .formats import STDIO, output_format
from .read import Dataset, input_stamp, take_rows

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
    if remote.is_remote(path):      # an object: it can only be the same as another by name
        if path in inputs:
            raise OutputError("is the input; writing it would destroy the pool", path=path)
        if path in others:
            raise OutputError("is also another output; give two different paths", path=path)
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
_OLD_PATTERN = ".{name}.fastzip-{pid}-{token}.old"      # an old output kept while outputs are committed
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.fastzip-(?P<pid>\d+)-[A-Za-z0-9_]+\.(tmp|old)$")


def _clean_stale_temporaries(folder: str, name: str) -> None:
    """Remove temporary files (and old outputs kept during a commit) a killed run (SIGKILL) left for this output.

    Only files of fastzip's own pattern for this very output name, whose
    process no longer exists, are removed.
    """
    pattern = os.path.join(glob.escape(folder), f".{glob.escape(name)}.fastzip-*.")
    for tmp in glob.glob(pattern + "tmp") + glob.glob(pattern + "old"):
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
    slot = _staged_slot(path)
    if slot is not None:           # reserved by staged_outputs: fill its file, rename at commit
        with _fill_slot(slot, mode, encoding) as f:
            yield f
        return
    if remote.is_remote(path):     # an object store: the whole object in one put
        buffer = io.BytesIO()
        text = io.TextIOWrapper(buffer, encoding=encoding or "utf-8") if "b" not in mode else None
        yield text if text is not None else buffer
        if text is not None:
            text.flush()
        remote.put_bytes(path, buffer.getvalue())
        return
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

    A file whose name ends in ``.gz``, ``.zst``, ``.bz2`` or ``.xz`` receives
    what is written compressed that way.

    Parameters
    ----------
    path : str
        A file name, or ``"-"``.

    Yields
    ------
    file object
        Open for binary writing.
    """
    compression = None if path == STDIO else split_compression(os.fspath(path))[1]
    if compression is not None:
        buffer = io.BytesIO()
        yield buffer
        with _raw_output_stream(path) as f:
            f.write(compress_bytes(buffer.getvalue(), compression))
    else:
        with _raw_output_stream(path) as f:
            yield f


@contextlib.contextmanager
def _raw_output_stream(path: str) -> Iterator[Any]:
    slot = _staged_slot(path) if path == STDIO or remote.is_remote(path) else None
    if slot is not None:           # held back until the files are committed
        buffer = io.BytesIO()
        yield buffer
        slot.buffer, slot.written = buffer.getvalue(), True
    elif path == STDIO:
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
    fmt = output_format(path, {dataset.format}, format)
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
    lacks take the text form of :func:`fastzip.samples.serialize.json_default`).

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
    if dataset.table is not None:
        table = dataset.table
        return parquet_bytes(lambda: take_rows(table, indices), path)
    return parquet_bytes(lambda: pa.Table.from_pylist(dataset.records_at(indices)), path)


def parquet_bytes(make_table: Callable[[], Any], path: str) -> bytes:
    """The Parquet bytes of the table ``make_table()`` builds; a fault building or writing it is one line.

    Parameters
    ----------
    make_table : callable
        Builds the ``pyarrow.Table`` (from records: a field whose values
        have several types, or an integer past 64 bits, fails here).
    path : str
        The output, for the message.

    Returns
    -------
    bytes

    Raises
    ------
    fastzip.errors.OutputError
        The records cannot be written as Parquet.
    """
    pa = require_pyarrow()
    try:
        table = make_table()
        sink = pa.BufferOutputStream()
        pa.parquet.write_table(table, sink)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OutputError(f"cannot write the records as Parquet: {reason}", path=path) from None
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


# ----------------------------------------------------------------------------- all outputs, or none
@dataclass
class _Slot:
    """One reserved output: its temporary file (or, for ``-``, the bytes held back)."""

    path: str
    label: str
    target: str = ""
    tmp: str | None = None
    buffer: bytes = b""
    written: bool = False
    remote_slot: remote.RemoteSlot | None = None


_STAGED: contextvars.ContextVar[dict[str, _Slot] | None] = contextvars.ContextVar("fastzip_staged", default=None)


def _slot_key(path: str) -> str:
    return path if path == STDIO or remote.is_remote(path) else os.path.realpath(os.fspath(path))


def _staged_slot(path: str) -> _Slot | None:
    slots = _STAGED.get()
    return None if slots is None else slots.get(_slot_key(path))


@contextlib.contextmanager
def _fill_slot(slot: _Slot, mode: str, encoding: str | None) -> Iterator[Any]:
    if slot.remote_slot is not None:    # put whole at commit
        buffer = io.BytesIO()
        text = io.TextIOWrapper(buffer, encoding=encoding or "utf-8") if "b" not in mode else None
        yield text if text is not None else buffer
        if text is not None:
            text.flush()
        slot.buffer, slot.written = buffer.getvalue(), True
        return
    assert slot.tmp is not None
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    try:
        with open(slot.tmp, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise OutputError(f"cannot write the output: {exc.strerror or exc}", path=slot.path) from None
    slot.written = True


def _reserve(slot: _Slot) -> None:
    """Create the slot's temporary file beside its target: the proof, before any work, that it can be written."""
    if remote.is_remote(slot.path):
        slot.remote_slot = remote.RemoteSlot(slot.path)
        return
    slot.target = os.path.realpath(slot.path)
    folder, name = os.path.split(slot.target)
    _clean_stale_temporaries(folder, name)
    tmp = os.path.join(folder, _TMP_PATTERN.format(name=name, pid=os.getpid(), token=secrets.token_hex(6)))
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))   # the umask applies
    except OSError as exc:
        raise OutputError(f"cannot write {slot.label} here: {exc.strerror or exc}; nothing was written",
                          path=slot.path) from None
    slot.tmp = tmp


def check_outputs(outputs: Sequence[tuple[str, str | None]], *, inputs: Sequence[str] = ()) -> None:
    """Refuse, before any work, outputs that must not be written (as :func:`check_output`), blaming the later option.

    Parameters
    ----------
    outputs : sequence of (str, str or None)
        Each output's option (``-o``, ``--indices-out``, ...) and path; a
        None path (an option not given) is left out.
    inputs : sequence of str
        Files the run reads.

    Raises
    ------
    OutputError
        Naming the output, its option and the fault.
    """
    given = [(label, path if path == STDIO or remote.is_remote(path) else os.fspath(path))
             for label, path in outputs if path is not None]
    for k, (label, path) in enumerate(given):
        for earlier_label, earlier in given[:k]:
            if path == STDIO and earlier == STDIO:
                raise OutputError(f"{label} and {earlier_label} both go to standard output; only one can",
                                  path=path)
            if path != STDIO and earlier != STDIO and _slot_key(path) == _slot_key(earlier):
                raise OutputError(f"{label} is also {earlier_label}'s file; give two different files", path=path)
        try:
            check_output(path, inputs=inputs)
        except OutputError as exc:
            raise OutputError(f"{label}: {exc.reason}", path=exc.path) from None


@contextlib.contextmanager
def staged_outputs(outputs: Sequence[tuple[str, str | None]], *, inputs: Sequence[str] = ()) -> Iterator[None]:
    """Reserve every output now; inside the block they are written, at its end committed together.

    Every output is checked (:func:`check_outputs`) and its temporary file
    created in its folder before the block runs, so an unwritable folder or
    file is reported before any work.  :func:`atomic_writer`,
    :func:`output_stream` and the functions built on them write a reserved
    output into its temporary file (standard output's bytes are held back).
    When the block ends normally every file is renamed into place, then
    every remote object is put, then standard output is written; a fault
    during these puts back the outputs already renamed (see
    :func:`_commit`).  When the block raises, every temporary file is
    removed and nothing is written.

    Parameters
    ----------
    outputs : sequence of (str, str or None)
        Each output's option (for messages) and path; None: not given.
    inputs : sequence of str
        Files the run reads (an output must be none of them).

    Yields
    ------
    None

    Raises
    ------
    OutputError
        An output must not or cannot be written (before the block runs), or
        a reserved output was never written (after it; nothing is committed).
    """
    check_outputs(outputs, inputs=inputs)
    slots = {_slot_key(path): _Slot(path if path == STDIO or remote.is_remote(path) else os.fspath(path), label)
             for label, path in outputs if path is not None}
    try:
        for slot in slots.values():
            if slot.path != STDIO:
                _reserve(slot)
        token = _STAGED.set(slots)
        try:
            yield
        finally:
            _STAGED.reset(token)
        for slot in slots.values():
            if not slot.written:
                raise OutputError(f"{slot.label} was not written; nothing was", path=slot.path)
        _commit(list(slots.values()))
        for slot in slots.values():
            if slot.path == STDIO:
                sys.stdout.buffer.write(slot.buffer)
                sys.stdout.buffer.flush()
    finally:
        for slot in slots.values():
            if slot.tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(slot.tmp)
            if slot.remote_slot is not None:
                slot.remote_slot.discard()


def _commit(slots: list[_Slot]) -> None:
    """Rename every local output into place, then put every remote one: all of them or, on a fault, none.

    Before the first rename every target is checked again (a folder may
    have appeared at one during the run) and every existing target is kept
    as a hard link beside it (``.NAME.fastzip-PID-TOKEN.old``), so nothing
    has changed yet when either fails.  When a rename, a put or a signal
    then interrupts the commit, the outputs renamed so far get their old
    file back (or are removed, when there was none).  Objects are put last,
    as a put can fail where a rename hardly can.  What remains: a crash
    (SIGKILL, power loss) between two renames leaves the outputs renamed so
    far new and the others old, each old one kept in its ``.old`` link (the
    next run for that output removes it); a put that succeeded before a
    later put failed stays (an object cannot be put back without its old
    bytes); and a restore that itself fails leaves that output new.
    """
    local = [slot for slot in slots if slot.tmp is not None]
    kept: dict[str, str | None] = {}          # target -> its old file's link (None: there was none)
    done: list[_Slot] = []
    try:
        for slot in local:
            try:
                check_output(slot.path)
            except OutputError as exc:
                raise OutputError(f"{slot.label}: {exc.reason}; nothing was written", path=exc.path) from None
            kept[slot.target] = _keep_old(slot)
        for slot in local:
            assert slot.tmp is not None
            done.append(slot)                  # before the rename: a signal may come just after it
            try:
                os.replace(slot.tmp, slot.target)
            except OSError as exc:
                raise OutputError(f"cannot write the output: {exc.strerror or exc}; nothing was written",
                                  path=slot.path) from None
            slot.tmp = None
        for slot in slots:
            if slot.remote_slot is not None:
                slot.remote_slot.commit(slot.buffer)
                slot.remote_slot = None
    except BaseException:
        for slot in reversed(done):           # put the old files back
            if slot.tmp is not None and os.path.exists(slot.tmp):
                continue                       # not renamed: its target is as it was
            old = kept.pop(slot.target)
            with contextlib.suppress(OSError):
                if old is None:
                    os.unlink(slot.target)
                else:
                    os.replace(old, slot.target)
        raise
    finally:
        for old in kept.values():
            if old is not None:
                with contextlib.suppress(OSError):
                    os.unlink(old)


def _keep_old(slot: _Slot) -> str | None:
    """A hard link to the slot's existing target (a copy where links are not allowed); None when none exists."""
    folder, name = os.path.split(slot.target)
    old = os.path.join(folder, _OLD_PATTERN.format(name=name, pid=os.getpid(), token=secrets.token_hex(6)))
    try:
        try:
            os.link(slot.target, old)
        except FileNotFoundError:
            return None
        except OSError:                        # a file system without hard links
            shutil.copy2(slot.target, old)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(old)
        raise OutputError(f"cannot keep the old output until the new one is in place: {exc.strerror or exc}; "
                          "nothing was written", path=slot.path) from None
    return old
