"""The codecs the repository's benchmarks compare: the plugin's matrix (fastzip.benchmarks.matrix).

* ``BUILTIN_CODECS``: zlib 1/6/9, zstd 1/3/9/19, lz4 default (level 0) and
  HC (level 9), all measured by fastzip's incremental kernels.
* ``CUSTOM_CODECS``: stdlib bz2 and lzma registered with
  :func:`fastzip.register_codec` (the ``custom_codecs`` fixture); fastzip
  measures them by recompressing the whole stream, which is what any
  user-supplied codec costs.

The tests that take the plugin's ``fastzip_codec`` fixture also run every
codec registered before collection, and honour ``--fastzip-codecs``.

Not a test module (no ``bench_`` prefix), so pytest does not collect it.
"""
from __future__ import annotations

from fastzip.benchmarks.matrix import (  # noqa: F401
    BUILTIN_LEVELS,
    DEFAULT_LEVELS,
    EXAMPLE_CODECS,
    check_marginal_sizes,
    codec_label,
    forced_fallback,
    rate,
)
from fastzip.samples.serialize import serialize_sample
from fastzip.streams import codecs

# the codecs with a PyPI binding (bench_quality and bench_kernels add lz77 by name)
BUILTIN_CODECS = [(c, lv) for c, lv in BUILTIN_LEVELS if not codecs.native_only(c)]
DEFAULT_LEVEL_CODECS = list(DEFAULT_LEVELS)
CUSTOM_CODECS = EXAMPLE_CODECS
# custom codecs take level 0 (fastzip ignores the level of a registered codec)
ALL_CODECS = BUILTIN_CODECS + [(name, 0) for name in CUSTOM_CODECS]


def text_pieces(rows: list) -> list[bytes]:
    """Each sample as the ``text`` serializer writes it (default mode's serializer)."""
    return [serialize_sample(r, "text") for r in rows]
