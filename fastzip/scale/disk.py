"""A disk-backed pool: the packed samples in a file, memory-mapped, so the engine's memory is not the pool's bytes.

``fastzip.select`` reads a pool's buffer only through the batch kernels and
:meth:`Pool.item <fastzip.samples.pool.Pool.item>`, so a :class:`~fastzip.samples.pool.Pool` whose ``data``
(and ``offsets``) are ``numpy.memmap`` views of files selects exactly as an
in-memory one does; the operating system pages the samples in as the
rounds touch them.  What stays in memory is the engine's own state: the
selection, the codec's tables and about 16 bytes per pool sample (stage 1's
sorted indices and scores) plus the lengths.

A pool folder holds ``samples.bin`` (the serialized samples back to back),
``offsets.npy`` (``len + 1`` int64 offsets) and ``pool.json`` (the
serializer and the count).  :class:`~fastzip.scale.PoolWriter` builds one
a sample at a time, so a pool larger than memory can be written; every file
is renamed into place only when complete.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..samples.pool import Pool
from ..samples.serialize import check_serializer

SAMPLES_FILE = "samples.bin"
OFFSETS_FILE = "offsets.npy"
META_FILE = "pool.json"


class PoolWriter:
    """Write serialized samples to a pool folder, one at a time.

    Parameters
    ----------
    folder : str or os.PathLike
        The pool folder (created; files already there are replaced).
    serializer : str
        The serializer the samples went through.

    Examples
    --------
    >>> with PoolWriter(folder, "text") as w:          # doctest: +SKIP
    ...     for b in serialized_samples:
    ...         w.add(b)
    >>> pool = open_pool(folder)                       # doctest: +SKIP
    """

    def __init__(self, folder: str | os.PathLike[str], serializer: str):
        self.folder = os.fspath(folder)
        self.serializer = check_serializer(serializer)
        os.makedirs(self.folder, exist_ok=True)
        self._tmp = os.path.join(self.folder, SAMPLES_FILE + f".{os.getpid()}.tmp")
        self._file = open(self._tmp, "wb")
        self._ends: list[int] = [0]

    def add(self, sample: bytes) -> None:
        """Append one serialized sample.

        Parameters
        ----------
        sample : bytes
            The sample's serialized bytes.
        """
        self._file.write(sample)
        self._ends.append(self._ends[-1] + len(sample))

    def extend(self, samples: Iterable[bytes]) -> None:
        """Append serialized samples in order.

        Parameters
        ----------
        samples : iterable of bytes
            The samples' serialized bytes.
        """
        for sample in samples:
            self.add(sample)

    def add_packed(self, data: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64]) -> None:
        """Append packed samples (``data[offsets[i]:offsets[i+1]]``, offsets from 0) in one write.

        Parameters
        ----------
        data : numpy.ndarray of uint8
            The samples back to back; bytes past ``offsets[-1]`` are not
            written.
        offsets : numpy.ndarray of int64
            ``len + 1`` offsets, the first 0: sample i is
            ``data[offsets[i]:offsets[i+1]]``.
        """
        base = self._ends[-1]
        self._file.write(np.ascontiguousarray(data[:int(offsets[-1])]).data)
        self._ends.extend((np.asarray(offsets[1:], dtype=np.int64) + base).tolist())

    def close(self) -> None:
        """Finish the folder: the samples, their offsets and the metadata, each renamed into place."""
        self._file.close()
        os.replace(self._tmp, os.path.join(self.folder, SAMPLES_FILE))
        offsets_tmp = os.path.join(self.folder, f"offsets.{os.getpid()}.tmp.npy")
        np.save(offsets_tmp, np.asarray(self._ends, dtype=np.int64))
        os.replace(offsets_tmp, os.path.join(self.folder, OFFSETS_FILE))
        meta_tmp = os.path.join(self.folder, META_FILE + f".{os.getpid()}.tmp")
        with open(meta_tmp, "w", encoding="utf-8") as f:
            json.dump({"serializer": self.serializer, "samples": len(self._ends) - 1}, f)
        os.replace(meta_tmp, os.path.join(self.folder, META_FILE))

    def abort(self) -> None:
        """Drop what was written."""
        self._file.close()
        if os.path.exists(self._tmp):
            os.remove(self._tmp)

    def __enter__(self) -> PoolWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def write_pool(pool: Pool, folder: str | os.PathLike[str]) -> None:
    """Write an in-memory pool to a pool folder (see :class:`PoolWriter`).

    Parameters
    ----------
    pool : fastzip.samples.pool.Pool
        The samples; the pool's serializer is recorded with them.
    folder : str or os.PathLike
        The pool folder (created; files already there are replaced).
    """
    with PoolWriter(folder, pool.serializer) as writer:
        step = 1 << 16
        for start in range(0, len(pool), step):
            stop = min(len(pool), start + step)
            offsets = np.asarray(pool.offsets[start:stop + 1], dtype=np.int64)
            writer.add_packed(pool.data[int(offsets[0]):int(offsets[-1])], offsets - offsets[0])


def open_pool(folder: str | os.PathLike[str]) -> Pool:
    """The pool in ``folder``, memory-mapped (read only).

    Parameters
    ----------
    folder : str or os.PathLike
        A pool folder, as :class:`PoolWriter` and :func:`write_pool` write
        one.

    Returns
    -------
    fastzip.samples.pool.Pool
        Its ``data`` a read-only ``numpy.memmap`` of the samples file (an
        empty array when there are no bytes), its ``offsets`` memory-mapped
        too, its serializer the recorded one.

    Raises
    ------
    fastzip.errors.InputError
        Not a pool folder, or its files disagree.
    """
    path = os.fspath(folder)
    try:
        with open(os.path.join(path, META_FILE), encoding="utf-8") as f:
            meta: dict[str, Any] = json.load(f)
        offsets: npt.NDArray[np.int64] = np.load(os.path.join(path, OFFSETS_FILE), mmap_mode="r")
        size = os.path.getsize(os.path.join(path, SAMPLES_FILE))
    except (OSError, ValueError) as exc:
        raise InputError(f"not a pool folder ({exc})", path=path) from None
    if len(offsets) != int(meta.get("samples", -1)) + 1 or int(offsets[-1]) != size:
        raise InputError("the pool folder's files disagree (samples, offsets, size)", path=path)
    data: npt.NDArray[np.uint8]
    if size:
        data = np.memmap(os.path.join(path, SAMPLES_FILE), dtype=np.uint8, mode="r")
    else:
        data = np.zeros(0, np.uint8)             # mmap cannot map an empty file
    return Pool(data, offsets, check_serializer(str(meta["serializer"])))
