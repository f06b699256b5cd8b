"""Checkpoints: a run killed at any point, rerun with the same arguments, gives the same selection.

A checkpoint folder holds ``fastzip-checkpoint.json`` (the key: a digest of
the run's settings and of its input) and the state files of the run.  A
folder made by another run (other settings, another input) is refused in
one line, never silently reused or overwritten.

Every file is written atomically (a temporary file, then a rename), so a
kill at any instant leaves either the previous state or the new one.  The
engine's state (:class:`fastzip.selection.greedy.EngineState`) is written
every :data:`EVERY_ROUNDS` rounds or :data:`EVERY_SECONDS` seconds,
whichever comes first, and once at the end.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from io import BytesIO
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..io.remote import is_remote, local_path
from ..io.write import write_bytes_atomic
from ..samples.pool import Pool
from .greedy import Checkpointer, EngineState
from .trace import RoundTrace

KEY_FILE = "fastzip-checkpoint.json"
ENGINE_FILE = "engine.npz"
FORMAT = 1                   # bump when the files change meaning
EVERY_ROUNDS = 20
EVERY_SECONDS = 10.0


def pool_digest(pool: Pool) -> str:
    """SHA-256 over a pool's serializer, offsets and bytes: the input's identity in a key."""
    h = hashlib.sha256(pool.serializer.encode())
    h.update(np.ascontiguousarray(pool.offsets, dtype="<i8").tobytes())
    step = 1 << 26                                     # 64 MiB at a time: a memory-mapped pool stays on disk
    for start in range(0, len(pool.data), step):
        h.update(np.ascontiguousarray(pool.data[start:start + step]).data)
    return h.hexdigest()


def open_folder(folder: str | os.PathLike[str], key: dict[str, Any], key_file: str = KEY_FILE) -> str:
    """Create or reopen a checkpoint folder for the run that ``key`` describes.

    Parameters
    ----------
    folder : str or os.PathLike
        A local folder (a path or a ``file://`` URL), created if missing; its
        parent must exist.
    key : dict
        JSON-serializable: the run's settings and its input's identity.
    key_file : str, optional
        The key's file name in the folder (default :data:`KEY_FILE`).  A run
        whose input is known only after a pass over it (a Ray Dataset) opens
        the folder with its settings first, then checks its input under a
        second name; either one differing is refused the same way.

    Returns
    -------
    str
        The folder's local path.

    Raises
    ------
    fastzip.errors.InputError
        The folder holds a checkpoint of another run, or cannot be used:
        remote, or in a folder that does not exist.
    """
    path = local_folder(folder)
    try:
        os.mkdir(path)
    except FileExistsError:
        if not os.path.isdir(path):
            raise InputError("the checkpoint is not a folder", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot create the checkpoint folder: {exc.strerror or exc}", path=path) from None
    digest = hashlib.sha256(json.dumps({"format": FORMAT, **key}, sort_keys=True).encode()).hexdigest()
    key_path = os.path.join(path, key_file)
    if os.path.exists(key_path):
        try:
            with open(key_path, encoding="utf-8") as f:
                saved = json.load(f).get("key")
        except (OSError, ValueError, AttributeError):
            saved = None
        if saved != digest:
            raise InputError("this checkpoint was made with other arguments or another input; "
                             "use another folder, or delete it to start afresh", path=path)
    else:
        write_bytes_atomic(key_path, json.dumps({"key": digest, "format": FORMAT}).encode() + b"\n")
    return path


def local_folder(folder: str | os.PathLike[str]) -> str:
    """A checkpoint folder's local path; a remote one, or one whose parent is missing, is refused.

    A checkpoint is written every few rounds with atomic renames, which object
    stores do not have; and a mistyped path should not grow a tree of folders.
    """
    path = os.fspath(local_path(os.fspath(folder)))
    if is_remote(path):
        raise InputError("a checkpoint folder must be local (a path or file://): it is rewritten every few "
                         "rounds by atomic renames, which object stores lack", path=path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise InputError(f"the checkpoint folder's parent {parent} does not exist", path=path)
    return str(path)


def check_place(folder: str | os.PathLike[str], inputs: Iterable[str | None],
                outputs: Iterable[str | None]) -> None:
    """Refuse, before any work, a checkpoint folder that would touch an input or clash with an output.

    The folder may not be an input or an output, lie inside an input folder
    (its files would be read as shards by the next run, and the input must
    never change), or hold an input or an output.

    Parameters
    ----------
    folder : str or os.PathLike
        The checkpoint folder (a local path).
    inputs, outputs : iterables of str or None
        The run's input files and folders, and its output files (None, ``-``
        and remote paths are passed over).

    Raises
    ------
    fastzip.errors.InputError
        Naming the checkpoint folder and what it clashes with.
    """
    ck = os.path.realpath(local_folder(folder))

    def within(path: str, top: str) -> bool:
        return path == top or path.startswith(top.rstrip(os.sep) + os.sep)

    for kind, paths in (("input", inputs), ("output", outputs)):
        for other in paths:
            if other is None or other == "-" or is_remote(other):
                continue
            real = os.path.realpath(local_path(other))
            if within(real, ck):
                raise InputError(f"the checkpoint folder is or holds the {kind} {other}; use a folder of its "
                                 "own", path=os.fspath(folder))
            if kind == "input" and os.path.isdir(real) and within(ck, real):
                raise InputError(f"the checkpoint folder lies inside the input folder {other}, which must not "
                                 "change; use a folder outside it", path=os.fspath(folder))


@contextlib.contextmanager
def removed_on_bad_input(folder: str | os.PathLike[str] | None) -> Iterator[None]:
    """Remove the checkpoint folder again if this run created it and then fails on bad input or arguments.

    Such a folder could never be resumed (its key names the bad run), and it
    would refuse the corrected rerun as "made with other arguments".  A run
    stopped any other way (Ctrl-C, a kill, an output that cannot be written)
    keeps its folder, to resume from.
    """
    created = folder is not None and not os.path.lexists(local_folder(folder))
    try:
        yield
    except InputError:
        if created and folder is not None:
            shutil.rmtree(local_folder(folder), ignore_errors=True)
        raise


def save_arrays(path: str, arrays: dict[str, npt.NDArray[Any]]) -> None:
    """Write arrays as one ``.npz`` file, atomically."""
    buffer = BytesIO()
    np.savez(buffer, **arrays)   # type: ignore[arg-type]
    write_bytes_atomic(path, buffer.getvalue())


def load_arrays(path: str) -> dict[str, npt.NDArray[Any]] | None:
    """The arrays :func:`save_arrays` wrote, or None when there is no such file."""
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise InputError(f"unreadable checkpoint ({exc}); delete it to start afresh", path=path) from None


class FileCheckpointer(Checkpointer):
    """The engine's state in a folder (see the module docstring).

    Parameters
    ----------
    folder : str
        A folder opened with :func:`open_folder`.
    every_rounds, every_seconds : int, float, optional
        How often to write (whichever comes first); default
        :data:`EVERY_ROUNDS` and :data:`EVERY_SECONDS`.
    """

    def __init__(self, folder: str, every_rounds: int | None = None, every_seconds: float | None = None):
        self.path = os.path.join(folder, ENGINE_FILE)
        self.every_rounds = EVERY_ROUNDS if every_rounds is None else every_rounds
        self.every_seconds = EVERY_SECONDS if every_seconds is None else every_seconds
        self.trace: list[RoundTrace] = []
        self.rounds_since = 0
        self.last = time.monotonic()

    def resume(self) -> tuple[EngineState, list[RoundTrace]] | None:
        saved = load_arrays(self.path)
        if saved is None:
            return None
        meta = json.loads(saved["meta"].tobytes().decode("utf-8"))
        self.trace = [RoundTrace(**t) for t in meta["trace"]]
        state = EngineState(round_no=int(meta["round_no"]), picks=saved["picks"].tolist(),
                            round_sizes=saved["round_sizes"].tolist(), used=int(meta["used"]),
                            frontier={k[len("frontier_"):]: v for k, v in saved.items() if k.startswith("frontier_")})
        return state, list(self.trace)

    def after_round(self, state: Callable[[], EngineState], info: RoundTrace) -> None:
        self.trace.append(info)
        self.rounds_since += 1
        if self.rounds_since >= self.every_rounds or time.monotonic() - self.last >= self.every_seconds:
            self._write(state())

    def done(self, state: Callable[[], EngineState]) -> None:
        if self.rounds_since:
            self._write(state())

    def _write(self, state: EngineState) -> None:
        meta = {"round_no": state.round_no, "used": state.used,
                "trace": [dataclasses.asdict(t) for t in self.trace]}
        arrays: dict[str, npt.NDArray[Any]] = {
            "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
            "picks": np.asarray(state.picks, dtype=np.int64),
            "round_sizes": np.asarray(state.round_sizes, dtype=np.int64),
            **{f"frontier_{k}": v for k, v in state.frontier.items()}}
        save_arrays(self.path, arrays)
        self.rounds_since = 0
        self.last = time.monotonic()
