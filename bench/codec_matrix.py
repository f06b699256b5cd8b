"""The codecs the benchmarks compare, and helpers shared by bench_codecs/scaling/quality.

* ``BUILTIN_CODECS``: zlib 1/6/9, zstd 1/3/9/19, lz4 default (level 0) and
  HC (level 9), all measured by fastzip's incremental kernels.
* ``CUSTOM_CODECS``: stdlib bz2 and lzma registered with
  :func:`fastzip.register_codec`; fastzip measures them by recompressing the
  whole stream, which is what any user-supplied codec costs.

Not a test module (no ``bench_`` prefix), so pytest does not collect it.
"""
from __future__ import annotations

import bz2
import contextlib
import lzma
import os
import zlib
from typing import Callable, Iterator

import numpy as np

import fastzip
from fastzip import codecs
from fastzip.serialize import serialize_sample

BUILTIN_CODECS = [("zlib", 1), ("zlib", 6), ("zlib", 9),
                  ("zstd", 1), ("zstd", 3), ("zstd", 9), ("zstd", 19),
                  ("lz4", 0), ("lz4", 9)]
DEFAULT_LEVEL_CODECS = [("zlib", 9), ("zstd", 3), ("lz4", 0)]
CUSTOM_CODECS: dict[str, Callable[[bytes], bytes]] = {
    "bz2": lambda data: bz2.compress(data, 9),
    "lzma": lambda data: lzma.compress(data, preset=6),
}
# custom codecs take level 0 (fastzip ignores the level of a registered codec)
ALL_CODECS = BUILTIN_CODECS + [(name, 0) for name in CUSTOM_CODECS]


def codec_label(codec: str, level: int) -> str:
    """``zstd-3``; ``lz4-0`` is lz4's default mode, ``lz4-9`` its HC mode; custom codecs bare."""
    return codec if codec in CUSTOM_CODECS else f"{codec}-{level}"


def register_custom_codecs() -> None:
    """Register the stdlib codecs (idempotent)."""
    for name, compress in CUSTOM_CODECS.items():
        fastzip.register_codec(name, compress, replace=True)


def unregister_custom_codecs() -> None:
    for name in CUSTOM_CODECS:
        fastzip.unregister_codec(name)


def text_pieces(rows: list) -> list[bytes]:
    """Each sample as the ``text`` serializer writes it (default mode's serializer)."""
    return [serialize_sample(r, "text") for r in rows]


def rate(benchmark, amount: float) -> float | None:
    """``amount`` per second of the benchmark's mean time; None when timings are off."""
    if benchmark.disabled or not benchmark.stats:
        return None
    return amount / benchmark.stats.stats.mean


@contextlib.contextmanager
def forced_fallback() -> Iterator[None]:
    """New streams use the PyPI bindings (python-zstandard, python-lz4) inside the block."""
    old = os.environ.get("FASTZIP_FORCE_FALLBACK")
    os.environ["FASTZIP_FORCE_FALLBACK"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["FASTZIP_FORCE_FALLBACK"]
        else:
            os.environ["FASTZIP_FORCE_FALLBACK"] = old


def _zstd_versions_match() -> bool:
    import zstandard

    native = fastzip._native.codec_version("zstd") if codecs.native_available("zstd") else None
    return native is None or tuple(native) == tuple(zstandard.ZSTD_VERSION)


def check_marginal_sizes(ic: fastzip.IncrementalCompressor, stream: bytes, cands: list[bytes],
                         sizes: np.ndarray) -> None:
    """Assert that ``sizes`` (from ``ic.marginal_sizes(cands)``) are exact, cheaply.

    zlib and registered codecs: equal to one-shot compression of
    ``stream ++ separator ++ candidate``.  zstd and lz4 (whose sizes are sums
    of frames, see fastzip.compressor): equal to the same measurement through
    the independent PyPI bindings, when those link the same library version.
    """
    sep = ic.separator if stream else b""
    if ic.codec == "zlib":
        want = [len(zlib.compress(stream + sep + c, ic.level)) for c in cands]
    elif ic.codec in CUSTOM_CODECS:
        want = [len(CUSTOM_CODECS[ic.codec](stream + sep + c)) for c in cands]
    elif ic.codec == "zstd" and not _zstd_versions_match():
        assert (sizes > ic.compressed_size).all()
        return
    else:
        with forced_fallback():
            other = fastzip.IncrementalCompressor(ic.codec, ic.level, separator=ic.separator)
        other.extend([stream])
        want = other.marginal_sizes(cands, n_threads=1).tolist()
    assert sizes.tolist() == want, f"{ic.codec}-{ic.level}: marginal sizes are not exact"
