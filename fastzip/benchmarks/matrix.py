"""The codec matrix the benchmarks compare, and the checks their results pass.

* :data:`BUILTIN_LEVELS`: zlib 1/6/9, zstd 1/3/9/19, lz4 default (level 0)
  and HC (level 9), measured by fastzip's incremental kernels.
* :data:`EXAMPLE_CODECS`: stdlib bz2 and lzma, registered with
  :func:`fastzip.register_codec` for the benchmarks, as examples of what any
  user codec costs: fastzip measures a registered codec by recompressing the
  whole stream.
* Every other codec registered with :func:`fastzip.register_codec` before
  the benchmarks are collected (in a ``conftest.py``, or a module loaded with
  ``pytest -p mymodule``) joins the matrix.

No pytest import here: the report command reads this module on installs
without pytest.
"""
from __future__ import annotations

import bz2
import contextlib
import lzma
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import zstandard

from ..errors import UsageError
from ..streams import codecs
from ..streams.compressor import IncrementalCompressor, compression_ratio
from .results import Benchmark

#: the built-in codecs: those with a PyPI binding, and the native-only lz77
BUILTINS: tuple[str, ...] = tuple(codecs.BUILTIN_CODECS) + tuple(codecs.NATIVE_ONLY_CODECS)
BUILTIN_LEVELS: tuple[tuple[str, int], ...] = (
    ("zlib", 1), ("zlib", 6), ("zlib", 9),
    ("zstd", 1), ("zstd", 3), ("zstd", 9), ("zstd", 19),
    ("lz4", 0), ("lz4", 9),
    ("lz77", 2),
)
#: each built-in codec at its default level
DEFAULT_LEVELS: tuple[tuple[str, int], ...] = tuple((c, codecs.DEFAULT_LEVELS[c]) for c in codecs.BUILTIN_CODECS)


def _bz2_9(data: bytes) -> bytes:
    return bz2.compress(data, 9)


def _lzma_6(data: bytes) -> bytes:
    return lzma.compress(data, preset=6)


EXAMPLE_CODECS: dict[str, Callable[[bytes], bytes]] = {"bz2": _bz2_9, "lzma": _lzma_6}


@dataclass(frozen=True)
class CodecSpec:
    """One cell of the matrix: a codec name and level.

    Attributes
    ----------
    codec : str
        A built-in codec or a name given to :func:`fastzip.register_codec`.
    level : int
        The level (0 for a registered codec, which has none).
    registered : bool
        True for a registered codec (measured by full recompression).
    """

    codec: str
    level: int
    registered: bool = False

    @property
    def label(self) -> str:
        """The cell's name in ids and reports.

        ``zstd-3``; ``lz4-0`` is lz4's default mode, ``lz4-9`` its HC mode; a
        registered codec bare.
        """
        return self.codec if self.registered else f"{self.codec}-{self.level}"


def codec_label(codec: str, level: int) -> str:
    """The label of a codec at a level.

    Parameters
    ----------
    codec : str
        A built-in or registered codec.
    level : int
        Its level (ignored for a registered codec).

    Returns
    -------
    str
        As :attr:`CodecSpec.label`.
    """
    return CodecSpec(codec, level, codec not in BUILTINS).label


def registered_codecs() -> list[str]:
    """Names of the codecs registered now, plus the stdlib examples.

    Returns
    -------
    list of str
        The examples (bz2, lzma) first, then every other registered codec.
    """
    custom = [name for name in codecs.available_codecs() if name not in BUILTINS]
    return list(dict.fromkeys(list(EXAMPLE_CODECS) + custom))


def codec_matrix(selection: str | None = None) -> list[CodecSpec]:
    """The codecs to benchmark.

    Parameters
    ----------
    selection : str or None
        None: every built-in codec at its benchmark levels, then every
        registered codec (the stdlib examples first).  Otherwise a
        comma-separated list of labels: ``zstd-5`` (a built-in codec at any
        level), ``zstd`` (its benchmark levels), or a registered codec's name.

    Raises
    ------
    fastzip.UsageError
        For a name that is neither a built-in nor a registered codec, or a
        level the codec does not have.

    Returns
    -------
    list of CodecSpec
        The cells, in order, without repeats.
    """
    registered = registered_codecs()
    if selection is None:
        runnable = [(c, lv) for c, lv in BUILTIN_LEVELS if not codecs.native_only(c) or codecs.uses_native(c)]
        return ([CodecSpec(c, lv) for c, lv in runnable]
                + [CodecSpec(name, 0, True) for name in registered])
    specs: list[CodecSpec] = []
    for part in (p.strip() for p in selection.split(",")):
        if not part:
            continue
        if part in registered:
            specs.append(CodecSpec(part, 0, True))
        elif part in BUILTINS:
            specs += [CodecSpec(c, lv) for c, lv in BUILTIN_LEVELS if c == part]
        else:
            name, _, level = part.rpartition("-")
            if name not in BUILTINS or not level.lstrip("-").isdigit():
                known = ", ".join(list(BUILTINS) + registered)
                raise UsageError(f"unknown codec {part!r} in --fastzip-codecs; "
                                 f"use CODEC-LEVEL or one of {known}")
            specs.append(CodecSpec(*codecs.resolve(name, int(level))))
    if not specs:
        raise UsageError("--fastzip-codecs names no codec")
    return list(dict.fromkeys(specs))


@contextlib.contextmanager
def example_codecs_registered() -> Iterator[list[str]]:
    """Register the stdlib examples that are not registered yet; remove them after.

    A codec the user registered under the same name is left alone.

    Yields
    ------
    list of str
        The examples' names.
    """
    added = [name for name in EXAMPLE_CODECS if name not in codecs.available_codecs()]
    for name in added:
        codecs.register_codec(name, EXAMPLE_CODECS[name])
    try:
        yield list(EXAMPLE_CODECS)
    finally:
        for name in added:
            codecs.unregister_codec(name)


# ----------------------------------------------------------------------------- checks
def rate(benchmark: Benchmark, amount: float) -> float | None:
    """How much per second, at the benchmark's mean time.

    Parameters
    ----------
    benchmark : pytest_benchmark.fixture.BenchmarkFixture
        A benchmark that has run.
    amount : float
        What one round processed (MB, candidates).

    Returns
    -------
    float or None
        ``amount`` per second; ``None`` when timings are off (``--benchmark-disable``).
    """
    if benchmark.disabled or not benchmark.stats:
        return None
    return float(amount / benchmark.stats.stats.mean)


@contextlib.contextmanager
def forced_fallback() -> Iterator[None]:
    """New streams use the PyPI bindings (python-zstandard, python-lz4) inside the block.

    Yields
    ------
    None
        The environment variable ``FASTZIP_FORCE_FALLBACK`` is restored on exit.
    """
    old = os.environ.get("FASTZIP_FORCE_FALLBACK")
    os.environ["FASTZIP_FORCE_FALLBACK"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["FASTZIP_FORCE_FALLBACK"]
        else:
            os.environ["FASTZIP_FORCE_FALLBACK"] = old


def zstd_versions_match() -> bool:
    """Whether zstd sizes can be checked against python-zstandard.

    Returns
    -------
    bool
        True when the native zstd kernel (if any) links the same libzstd as
        python-zstandard.
    """
    if not codecs.native_available("zstd"):
        return True
    return tuple(codecs.build_info()["codecs"]["zstd"]["library"].split(".")) == \
        tuple(str(v) for v in zstandard.ZSTD_VERSION)


def one_shot_size(blob: bytes, codec: str, level: int) -> int:
    """Compressed size of ``blob`` as :func:`fastzip.compression_ratio` measures it.

    Parameters
    ----------
    blob : bytes
        The data.
    codec : str
        A built-in or registered codec.
    level : int
        Its level.

    Returns
    -------
    int
        The compressed size in bytes.
    """
    return round(len(blob) / compression_ratio(blob, codec=codec, level=level))


def check_marginal_sizes(ic: IncrementalCompressor, stream: bytes, cands: Sequence[bytes],
                         sizes: np.ndarray) -> None:
    """Assert that ``sizes`` (from ``ic.marginal_sizes(cands)``) are exact, cheaply.

    zlib and registered codecs: equal to one-shot compression of ``stream
    ++ separator ++ candidate``.  zstd and lz4 (whose sizes are sums of
    frames, see fastzip.streams.compressor): equal to the same measurement through
    the independent PyPI bindings, when those link the same library version.

    Parameters
    ----------
    ic : IncrementalCompressor
        The stream measured; it holds ``stream`` as one piece.
    stream : bytes
        The stream's bytes.
    cands : sequence of bytes
        The candidates measured.
    sizes : numpy.ndarray
        What ``ic.marginal_sizes(cands)`` returned.

    Raises
    ------
    AssertionError
        A size that is not exact.
    """
    sep = ic.separator if stream else b""
    if ic.codec == "zlib":
        want = [len(zlib.compress(stream + sep + c, ic.level)) for c in cands]
    elif ic.codec not in BUILTINS:
        want = [one_shot_size(stream + sep + c, ic.codec, ic.level) for c in cands]
    elif codecs.native_only(ic.codec):      # an estimate with no second implementation to agree with
        assert (np.asarray(sizes) > 0).all()
        assert np.array_equal(sizes, ic.marginal_sizes(list(cands), n_threads=1))
        return
    elif ic.codec == "zstd" and not zstd_versions_match():
        assert (np.asarray(sizes) > ic.compressed_size).all()
        return
    else:
        with forced_fallback():
            other = IncrementalCompressor(ic.codec, ic.level, separator=ic.separator)
        other.extend([stream])
        want = other.marginal_sizes(list(cands), n_threads=1).tolist()
    assert np.asarray(sizes).tolist() == want, f"{ic.codec}-{ic.level}: marginal sizes are not exact"
