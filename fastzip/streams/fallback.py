"""Pure-Python streams over the PyPI bindings (zlib module, zstandard, lz4).

Each class implements the stream protocol (:class:`fastzip.streams.protocol.Stream`:
``capabilities``, ``append``, ``seal``, ``measure``, ``params``), as
:class:`fastzip.streams._native.NativeStream` does, declares the same capabilities
as the native kernel of its codec and computes the same sizes with the same
library calls, so it serves where a native codec was not compiled in, under
``FASTZIP_FORCE_FALLBACK=1``, and in tests as the oracle.  The ``lz77``
cost model has no PyPI binding and so no class here: it is native only.
Batches run on a thread pool; the bindings release the GIL while they
compress.
"""
from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import lz4.block
import numpy as np
import zstandard

from .protocol import Capabilities, I64Array, U8Array

ZstdParams = dict[str, int]   # one of the parameter sets of csrc/fz_zstd.c, by name

_CHUNK = 64  # candidates per task


def _run_batch(fn: Callable[[bytes], int], pieces: Sequence[bytes], n_threads: int) -> I64Array:
    """``fn`` of every piece, on up to ``n_threads`` threads, as int64."""
    out = np.empty(len(pieces), dtype=np.int64)
    if n_threads <= 1 or len(pieces) <= _CHUNK:
        for i, piece in enumerate(pieces):
            out[i] = fn(piece)
        return out

    def work(start: int) -> None:
        for i in range(start, min(start + _CHUNK, len(pieces))):
            out[i] = fn(pieces[i])

    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        futures = [pool.submit(work, s) for s in range(0, len(pieces), _CHUNK)]
        try:
            for f in futures:
                f.result()
        except BaseException:  # Ctrl-C or an error: drop the queued work
            for f in futures:
                f.cancel()
            raise
    return out


class _FallbackBase:
    """What every fallback stream shares: the batch ``measure`` over a per-piece ``_size``."""

    codec = ""
    capabilities: Capabilities

    def __init__(self, level: int) -> None:
        self.level = level

    def seal(self) -> None:
        """Make appended bytes visible to ``measure`` (nothing to do here)."""

    def params(self, frame_len: int) -> tuple[ZstdParams, ZstdParams]:
        """No parameters to report: only zstd has them.

        Parameters
        ----------
        frame_len : int
            Unused.

        Raises
        ------
        RuntimeError
            Always.
        """
        raise RuntimeError(f"params: codec {self.codec} has no parameters to report")

    def zstd_params(self, frame_len: int) -> tuple[ZstdParams, ZstdParams]:
        """zstd only; this codec is not zstd, so it always raises RuntimeError.

        Parameters
        ----------
        frame_len : int
            Unused.
        """
        raise RuntimeError("zstd_params: codec is not zstd")

    def _size(self, piece: bytes) -> int:
        raise NotImplementedError

    def append(self, data: U8Array) -> None:
        """Append raw bytes (each codec's class does).

        Parameters
        ----------
        data : numpy.ndarray of uint8
        """
        raise NotImplementedError

    def measure(self, data: U8Array, offsets: I64Array, prefix: bytes = b"", suffix: bytes = b"", base: int = 0,
                n_threads: int = 1, index: I64Array | None = None) -> I64Array:
        """Sizes against the stream per body, as :meth:`fastzip.streams.protocol.Stream.measure` says.

        Parameters
        ----------
        data, offsets, prefix, suffix, base, n_threads, index
            As the protocol defines them; ``index`` may be any integer array.

        Returns
        -------
        numpy.ndarray of int64

        Raises
        ------
        ValueError
            Offsets or indices outside the buffer, as the native kernel raises.
        """
        data = np.asarray(data, dtype=np.uint8)
        offsets = np.asarray(offsets, dtype=np.int64)
        if offsets.size == 0:
            raise ValueError("offsets must have at least one entry")
        if offsets.size > 1 and (offsets[0] < 0 or offsets[-1] > data.size or np.any(np.diff(offsets) < 0)):
            raise ValueError("offsets point outside the data buffer or decrease")
        if index is not None:
            index = np.asarray(index, dtype=np.int64)
            if index.size and (index.min() < 0 or index.max() >= offsets.size - 1):
                raise ValueError("index points outside the offsets")
            offsets_lo, offsets_hi = offsets[index], offsets[index + 1]
        else:
            offsets_lo, offsets_hi = offsets[:-1], offsets[1:]
        raw = np.ascontiguousarray(data).data.cast("B")  # no copy of the pool
        pieces = [prefix + raw[a:b] + suffix for a, b in zip(offsets_lo.tolist(), offsets_hi.tolist())]
        return _run_batch(self._size, pieces, n_threads) + base


class ZlibFallback(_FallbackBase):
    """zlib via the standard module: ``compressobj().copy()`` per candidate."""

    codec = "zlib"
    capabilities = Capabilities(sum_of_frames=False, whole_stream=False, cheap_append=True, monotone=False)

    def __init__(self, level: int, long_distance: bool = False) -> None:   # long_distance: zstd only
        super().__init__(level)
        self._raw = bytearray()  # level 0 only: stored blocks depend on call pattern
        self._obj = zlib.compressobj(level)
        self._emitted = 0

    def append(self, data: U8Array) -> None:
        """Feed bytes to the deflate stream (level 0 keeps them raw: stored blocks depend on the calls).

        Parameters
        ----------
        data : numpy.ndarray of uint8
        """
        chunk = bytes(data)
        if self.level == 0:
            self._raw += chunk
        else:
            self._emitted += len(self._obj.compress(chunk))

    def _size(self, piece: bytes) -> int:
        if self.level == 0:
            return len(zlib.compress(bytes(self._raw) + piece, 0))
        copy = self._obj.copy()
        return self._emitted + len(copy.compress(piece)) + len(copy.flush())


class Lz4Fallback(_FallbackBase):
    """lz4 blocks via python-lz4 with the stream's last 64 KB as dictionary."""

    codec = "lz4"
    capabilities = Capabilities(sum_of_frames=True, whole_stream=False, cheap_append=True, monotone=False)
    _WINDOW = 65536

    def __init__(self, level: int, long_distance: bool = False) -> None:   # long_distance: zstd only
        super().__init__(level)
        self._compress = lz4.block.compress
        self._tail = b""
        self._kwargs: dict[str, str | int]
        if level >= 1:
            self._kwargs = {"mode": "high_compression", "compression": level}
        elif level < 0:
            self._kwargs = {"mode": "fast", "acceleration": -level}
        else:
            self._kwargs = {"mode": "default"}

    def append(self, data: U8Array) -> None:
        """Keep the stream's last 64 KB, the next block's dictionary.

        Parameters
        ----------
        data : numpy.ndarray of uint8
        """
        self._tail = (self._tail + bytes(data))[-self._WINDOW:]

    def _size(self, piece: bytes) -> int:
        return len(self._compress(piece, store_size=False, dict=self._tail, **self._kwargs))


def _ceil_log2(n: int) -> int:
    return max(0, (n - 1).bit_length()) if n > 1 else 0


class ZstdFallback(_FallbackBase):
    """zstd frames via python-zstandard with the whole stream as a raw dictionary.

    Mirrors csrc/fz_zstd.c: the same grown table sizes, a precomputed
    dictionary attached to a ``compressobj()`` frame of unknown size.
    """

    codec = "zstd"
    capabilities = Capabilities(sum_of_frames=True, whole_stream=True, cheap_append=False, monotone=True)
    HASHLOG_CAP = 24
    CHAINLOG_CAP = 24

    def __init__(self, level: int, long_distance: bool = False) -> None:
        super().__init__(level)
        self.long_distance = long_distance
        self._default = zstandard.ZstdCompressionParameters.from_level(level)
        self._tree = 1 if self._default.strategy >= zstandard.STRATEGY_BTLAZY2 else 0   # binary-tree match finders
        self._raw = bytearray()
        self._dict: zstandard.ZstdCompressionDict | None = None
        self._dict_params = self._grown(0)
        self._generation = 0
        self._local = threading.local()

    # -- parameters, as csrc/fz_zstd.c computes them --------------------------
    def _grown(self, stream_len: int) -> ZstdParams:
        d = self._default
        need = _ceil_log2(stream_len + 1)
        tree = self._tree
        hash_log, chain_log = d.hash_log, d.chain_log
        # only ever grow: the strongest levels' defaults already exceed the caps
        hash_log = max(hash_log, min(need, self.HASHLOG_CAP))
        chain_log = max(chain_log, min(need + tree, self.CHAINLOG_CAP))
        window_log = min(max(_ceil_log2(stream_len + 1), d.window_log), 31)
        return dict(window_log=window_log, hash_log=hash_log, chain_log=chain_log,
                    search_log=d.search_log, min_match=d.min_match,
                    target_length=d.target_length, strategy=d.strategy, ldm=0)

    def zstd_params(self, frame_len: int) -> tuple[ZstdParams, ZstdParams]:
        """The frame and dictionary parameters, as csrc/fz_zstd.c picks them.

        Parameters
        ----------
        frame_len : int
            The next frame's length: the frame's tables grow with it while the
            stream is empty, and its window covers stream and frame.

        Returns
        -------
        frame, dictionary : dict of str to int
        """
        frame = dict(self._dict_params)
        if not self._raw:   # no dictionary: the frame's own tables grow with it
            own = self._grown(frame_len)
            frame["hash_log"], frame["chain_log"] = own["hash_log"], own["chain_log"]
        frame["window_log"] = min(max(_ceil_log2(len(self._raw) + frame_len + 1), self._default.window_log), 31)
        frame["ldm"] = int(self.long_distance and frame["window_log"] > self._default.window_log)
        return frame, dict(self._dict_params)

    def params(self, frame_len: int) -> tuple[ZstdParams, ZstdParams]:
        """The frame and dictionary parameters: :meth:`zstd_params`.

        Parameters
        ----------
        frame_len : int
            The next frame's length in bytes.

        Returns
        -------
        frame, dictionary : dict of str to int
        """
        return self.zstd_params(frame_len)

    def _compression_params(self, p: ZstdParams) -> zstandard.ZstdCompressionParameters:
        return zstandard.ZstdCompressionParameters(
            window_log=p["window_log"], hash_log=p["hash_log"], chain_log=p["chain_log"],
            search_log=p["search_log"], min_match=p["min_match"], target_length=p["target_length"],
            strategy=p["strategy"], enable_ldm=bool(p["ldm"]),
            write_checksum=False, write_content_size=False, write_dict_id=False)

    # -- stream ---------------------------------------------------------------
    def append(self, data: U8Array) -> None:
        """Add bytes to the raw dictionary, rebuilt at the next ``seal``.

        Parameters
        ----------
        data : numpy.ndarray of uint8
        """
        self._raw += bytes(data)
        self._dict = None

    def seal(self) -> None:
        """Rebuild the dictionary over the whole stream (once per batch of appends)."""
        if self._dict is not None or not self._raw:
            self._dict_params = self._grown(len(self._raw))
            return
        self._dict_params = self._grown(len(self._raw))
        d = zstandard.ZstdCompressionDict(bytes(self._raw), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        d.precompute_compress(compression_params=self._compression_params(self._dict_params))
        self._dict = d
        self._generation += 1

    def _compressor(self, frame: ZstdParams) -> zstandard.ZstdCompressor:
        """A compressor per thread and frame parameters, reused while the dictionary lasts."""
        cache: dict[tuple[int, int], zstandard.ZstdCompressor] | None = getattr(self._local, "cache", None)
        if cache is None or self._local.generation != self._generation:
            cache = self._local.cache = {}
            self._local.generation = self._generation
        key = (frame["window_log"], frame["ldm"])
        cctx = cache.get(key)
        if cctx is None:
            cctx = cache[key] = zstandard.ZstdCompressor(
                dict_data=self._dict if self._raw else None, compression_params=self._compression_params(frame))
        return cctx

    def _size(self, piece: bytes) -> int:
        frame, _ = self.zstd_params(len(piece))
        obj = self._compressor(frame).compressobj()
        return len(obj.compress(piece)) + len(obj.flush())


FALLBACKS = {"zlib": ZlibFallback, "zstd": ZstdFallback, "lz4": Lz4Fallback}


class RecompressStream(_FallbackBase):
    """A user-registered codec: every size is a full recompression (slow, exact).

    Nothing is known about the codec, so nothing is promised: its size is the
    whole stream's, and a lazy greedy is not assumed sound.
    """

    capabilities = Capabilities(sum_of_frames=False, whole_stream=True, cheap_append=True, monotone=False)

    def __init__(self, name: str, compress: Callable[[bytes], bytes]) -> None:
        super().__init__(0)
        self.codec = name
        self._compress = compress
        self._raw = bytearray()

    def append(self, data: U8Array) -> None:
        """Add bytes to the stream that every size recompresses whole.

        Parameters
        ----------
        data : numpy.ndarray of uint8
        """
        self._raw += bytes(data)

    def _size(self, piece: bytes) -> int:
        return len(self._compress(bytes(self._raw) + piece))
