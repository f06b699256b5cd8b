"""The stream protocol every codec backend implements, and its capabilities.

A *stream* is one codec's view of a growing byte sequence (the selected
set).  Native streams (:class:`fastzip.streams._native.NativeStream`), the PyPI
fallbacks (:mod:`fastzip.streams.fallback`) and registered Python codecs all
implement :class:`Stream`.  What a codec can do is declared once, in its
:class:`Capabilities`; the selection engines read those, never codec names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

#: A byte buffer as the kernels read it, and the int64 arrays of offsets,
#: indices and sizes that go with it.
U8Array = npt.NDArray[np.uint8]
I64Array = npt.NDArray[np.int64]

# Bit values shared with csrc/fz_common.h (FZ_CAP_*).
CAP_SUM_OF_FRAMES = 1
CAP_WHOLE_STREAM = 2
CAP_CHEAP_APPEND = 4
CAP_MONOTONE = 8
CAP_ESTIMATE = 16


@dataclass(frozen=True)
class Capabilities:
    """What the engines may rely on for one codec.

    Parameters
    ----------
    sum_of_frames : bool
        The stream's compressed size is the sum of one frame per append, and
        a measured size is one more frame on top of it.  Otherwise the size
        is that of the whole stream finished (zlib).
    whole_stream : bool
        Matches reach every byte of the stream, not just a window.
    cheap_append : bool
        An append costs O(appended bytes).  Otherwise appends are cheap but
        the next ``seal`` rebuilds a structure over the whole stream (zstd's
        dictionary), so engines batch them.
    monotone : bool
        What a candidate adds only shrinks as the stream grows (up to codec
        noise), so a stale added size bounds the fresh one and a lazy greedy
        is sound.
    estimate : bool, optional
        Sizes come from a cost model, not from a real compressor.
    """

    sum_of_frames: bool
    whole_stream: bool
    cheap_append: bool
    monotone: bool
    estimate: bool = False

    @classmethod
    def from_bits(cls, bits: int) -> Capabilities:
        """Decode the C kernels' FZ_CAP_* bits.

        Parameters
        ----------
        bits : int
            An OR of the ``CAP_*`` values.

        Returns
        -------
        Capabilities
        """
        return cls(sum_of_frames=bool(bits & CAP_SUM_OF_FRAMES), whole_stream=bool(bits & CAP_WHOLE_STREAM),
                   cheap_append=bool(bits & CAP_CHEAP_APPEND), monotone=bool(bits & CAP_MONOTONE),
                   estimate=bool(bits & CAP_ESTIMATE))


@runtime_checkable
class Stream(Protocol):
    """One codec's incremental state for a growing byte stream."""

    codec: str
    level: int

    @property
    def capabilities(self) -> Capabilities:
        """What the codec can do."""

    def append(self, data: U8Array) -> None:
        """Append raw bytes; call ``seal`` before measuring.

        Parameters
        ----------
        data : numpy.ndarray of uint8
            The bytes.
        """

    def seal(self) -> None:
        """Make appended bytes visible to ``measure``."""

    def measure(self, data: U8Array, offsets: I64Array, prefix: bytes = b"", suffix: bytes = b"", base: int = 0,
                n_threads: int = 1, index: I64Array | None = None) -> I64Array:
        """Size of ``prefix ++ body ++ suffix`` against the stream per body, plus ``base``.

        With ``sum_of_frames`` this is the size of one more frame; otherwise
        the finished size of the stream followed by the piece.

        Parameters
        ----------
        data : numpy.ndarray of uint8
            The bodies back to back.
        offsets : numpy.ndarray of int64
            Body j is ``data[offsets[j]:offsets[j+1]]``.
        prefix, suffix : bytes, optional
            What goes before and after each body.
        base : int, optional
            Added to every size.
        n_threads : int, optional
            Threads for the batch.
        index : numpy.ndarray of int64 or None, optional
            Measure only these bodies, in this order.

        Returns
        -------
        numpy.ndarray of int64
            One size per body (per ``index`` entry).
        """

    def params(self, frame_len: int) -> tuple[dict[str, int], dict[str, int]]:
        """The (frame, table) parameters for a frame of ``frame_len`` bytes.

        Parameters
        ----------
        frame_len : int
            The frame's length in bytes.

        Returns
        -------
        frame, table : dict of str to int
            Parameters by name (zstd's window_log, hash_log, ...).

        Raises
        ------
        RuntimeError
            The codec has none to report.
        """
