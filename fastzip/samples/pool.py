"""The packed pool: every sample serialized once into one contiguous buffer.

A :class:`Pool` holds the serialized samples back to back in one uint8
buffer plus int64 offsets, which is what the batch kernels read; :func:`pack`
builds the same (buffer, offsets) pair from a list of bytes or str.  The
serializers themselves live in :mod:`fastzip.samples.serialize`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError, UsageError
from .serialize import check_serializer, sample_text, serialize_sample


def pack(items: Sequence[bytes | str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Pack items into one contiguous buffer and their offsets.

    Item i is ``buffer[offsets[i]:offsets[i+1]]``; str items are UTF-8 encoded.
    Every batch call of fastzip (``marginal_sizes``, ``compressed_sizes``,
    ``pair_sizes``) accepts the pair in place of a list, so a pool packed once
    is never copied again.

    Parameters
    ----------
    items : sequence of bytes or str
        The items, in order.

    Returns
    -------
    buffer : numpy.ndarray of uint8
        The items back to back.
    offsets : numpy.ndarray of int64
        ``len(items) + 1`` offsets into ``buffer``, starting at 0.

    Examples
    --------
    >>> buffer, offsets = pack([b"ab", "c", b""])
    >>> buffer.tobytes(), offsets.tolist()
    (b'abc', [0, 2, 3, 3])
    """
    pieces = [x.encode("utf-8", errors="surrogatepass") if isinstance(x, str) else x for x in items]
    offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    if pieces:
        np.cumsum([len(b) for b in pieces], out=offsets[1:])
    data = np.frombuffer(b"".join(pieces), dtype=np.uint8) if pieces else np.zeros(0, np.uint8)
    return data, offsets


@dataclass
class Pool:
    """Every sample serialized once: ``data[offsets[i]:offsets[i+1]]`` is sample i.

    Parameters
    ----------
    data : numpy.ndarray of uint8
        The serialized samples back to back.
    offsets : numpy.ndarray of int64
        ``len(pool) + 1`` offsets into ``data``, starting at 0.
    serializer : str
        The serializer the samples went through (``repr``, ``json`` or ``text``).

    Attributes
    ----------
    lengths : numpy.ndarray of int64
        Each sample's serialized length in bytes (``numpy.diff(offsets)``).
    """

    data: npt.NDArray[np.uint8]
    offsets: npt.NDArray[np.int64]
    serializer: str
    lengths: npt.NDArray[np.int64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.lengths = np.diff(self.offsets)   # read in every stage's inner loop: computed once

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def item(self, i: int) -> bytes:
        """The serialized bytes of sample ``i``.

        Parameters
        ----------
        i : int
            A position in the pool, from 0.

        Returns
        -------
        bytes
            ``data[offsets[i]:offsets[i+1]]`` as bytes.
        """
        return self.data[self.offsets[i]:self.offsets[i + 1]].tobytes()

    def take(self, indices: npt.ArrayLike) -> Pool:
        """A new pool of the samples at ``indices``, in that order.

        Parameters
        ----------
        indices : array_like of int
            Positions in this pool; they may repeat.

        Returns
        -------
        Pool
            The samples at ``indices``, with this pool's serializer.
        """
        positions = np.asarray(indices, dtype=np.int64)
        lengths = self.lengths[positions]
        offsets = np.zeros(len(positions) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        data = np.empty(int(offsets[-1]), dtype=np.uint8)
        for k, i in enumerate(positions.tolist()):
            data[offsets[k]:offsets[k + 1]] = self.data[self.offsets[i]:self.offsets[i + 1]]
        return Pool(data, offsets, self.serializer)

    def first_occurrences(self) -> npt.NDArray[np.int64]:
        """Indices of the samples whose bytes no earlier sample has, in pool order.

        Samples are grouped by a 128-bit BLAKE2b digest and compared byte for
        byte within a group, so the answer is exact.

        Returns
        -------
        numpy.ndarray of int64
            The first copy of every distinct sample, ascending.
        """
        first_by_digest: dict[bytes, list[int]] = {}
        keep = []
        data, offsets = self.data, self.offsets
        for i in range(len(self)):
            piece = data[offsets[i]:offsets[i + 1]]
            digest = hashlib.blake2b(piece.data, digest_size=16).digest()
            firsts = first_by_digest.setdefault(digest, [])
            if any(np.array_equal(piece, data[offsets[j]:offsets[j + 1]]) for j in firsts):
                continue
            firsts.append(i)
            keep.append(i)
        return np.asarray(keep, dtype=np.int64)

    @classmethod
    def from_samples(cls, samples: Iterable[Any], serializer: str, text_field: str | None = None,
                     allow_empty: bool = False) -> Pool:
        """Serialize samples into a pool.

        Parameters
        ----------
        samples : iterable
            Dicts, str or bytes, read once.
        serializer : str
            ``repr``, ``json`` or ``text`` (docs/semantics.md §4).
        text_field : str or None, optional
            For ``text``: the field of each record to read.
        allow_empty : bool, optional
            Accept samples with no content (refused by default).

        Returns
        -------
        Pool
            The serialized samples.

        Raises
        ------
        fastzip.errors.UsageError
            ``serializer`` is not a serializer's name.
        fastzip.errors.InputError
            A sample is null, empty (unless ``allow_empty``) or cannot be
            serialized; the message names its record, counted from 0.
        """
        check_serializer(serializer)
        # one growing buffer: never the pieces and their concatenation at once
        buffer = bytearray()
        ends = [0]
        for i, sample in enumerate(samples):
            if sample is None:
                raise InputError("sample is null", record=i)
            b = serialize_sample(sample, serializer, i, text_field)
            if not allow_empty and _is_empty(sample, b, serializer, text_field, i):
                raise InputError("empty sample", record=i)
            buffer += b
            ends.append(len(buffer))
        data = np.frombuffer(buffer, dtype=np.uint8) if buffer else np.zeros(0, np.uint8)
        return cls(data, np.asarray(ends, dtype=np.int64), serializer)


def _is_empty(sample: Any, serialized: bytes, serializer: str, text_field: str | None, record: int) -> bool:
    """A sample with no content: an empty string, an empty object, or no text."""
    if isinstance(sample, (str, bytes, bytearray)):
        return len(sample) == 0
    if isinstance(sample, dict) and not sample:
        return True
    if serializer == "text":
        return len(serialized) == 0
    return not sample_text(sample, record, text_field).strip() if text_field else False


def as_pool(samples: Any, serializer: str, text_field: str | None = None) -> Pool:
    """``samples`` serialized into a pool; a :class:`Pool` is checked and returned as it is.

    Parameters
    ----------
    samples : sequence, data frame, Arrow table or Pool
        The samples (a data frame's or table's rows are its records).
    serializer : str
        The serializer the caller needs.
    text_field : str or None, optional
        The field holding each record's text (raw samples only).

    Returns
    -------
    Pool

    Raises
    ------
    fastzip.errors.UsageError
        A Pool serialized another way, ``text_field`` with a Pool, or not a sequence of samples.
    """
    if isinstance(samples, Pool):
        if samples.serializer != serializer:
            raise UsageError(f"the pool was serialized with {samples.serializer!r} but "
                             f"{serializer!r} is needed; pass serializer={samples.serializer!r} or the raw samples")
        if text_field is not None:
            raise UsageError("text_field applies to raw samples, not to an already serialized Pool")
        return samples
    if isinstance(samples, (str, bytes, bytearray, dict)):
        raise UsageError("samples must be a sequence of samples, not a single "
                         f"{type(samples).__name__}")
    rows = _rows_of_table(samples)
    if rows is not None:
        samples = rows
    elif not isinstance(samples, Iterable):
        raise UsageError(f"samples must be a sequence, got {type(samples).__name__}")
    return Pool.from_samples(samples, serializer, text_field)


def _rows_of_table(samples: Any) -> list[dict[str, Any]] | None:
    """The rows of a data frame or table as dicts (iterating one gives its column names)."""
    module = type(samples).__module__.split(".")[0]
    rows: list[dict[str, Any]] | None = None
    if module == "pandas" and hasattr(samples, "columns") and hasattr(samples, "to_dict"):
        rows = samples.to_dict("records")
    elif module == "polars" and hasattr(samples, "to_dicts"):
        rows = samples.to_dicts()
    elif module == "pyarrow" and hasattr(samples, "to_pylist") and hasattr(samples, "schema"):
        rows = samples.to_pylist()
    return rows
