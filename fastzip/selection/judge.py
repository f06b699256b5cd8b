"""One fixed measure of a selection's redundancy, to compare selectors and codecs.

A selector's own codec cannot grade it: zlib sees 32 KB, lz4 64 KB, and a
selection made with one codec would be judged by its own blind spots.
:func:`judge_ratio` uses one judge for every selection.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import zstandard as zs

from ..errors import UsageError
from ..samples.pool import Pool

#: zstd's largest window (2 GB); a longer selection is judged on its last 2 GB
_MAX_WINDOW_LOG = 31
_MIN_WINDOW_LOG = 20


def judge_ratio(pool: Pool | Any, indices: Iterable[int], level: int = 19) -> float:
    """Compression ratio of a selection under zstd-19 with a window covering all of it.

    The samples are taken in index order (so the order of ``indices`` does
    not matter), one per line, and compressed as one zstd frame at level 19
    with a window of at least the whole blob (up to zstd's 2 GB maximum).
    Lower means less redundancy.  Compare a selection with random subsets
    of the same size from the same pool, never across pools.

    Parameters
    ----------
    pool : fastzip.samples.pool.Pool or sequence of bytes
        The serialized pool the indices point into (for ``select``'s text
        serializer: ``Pool.from_samples(rows, "text")``).
    indices : iterable of int
        The selection (0-based pool indices).  A repeated index counts each
        time it appears, as a repeated record would in the data.
    level : int
        The zstd level (19; a lower one judges very large selections faster).

    Returns
    -------
    float
        ``len(blob) / len(zstd19(blob))``.

    Raises
    ------
    fastzip.UsageError
        When ``indices`` is empty, or an index is outside the pool.
    """
    order = sorted(int(i) for i in indices)
    if not order:
        raise UsageError("judge_ratio needs at least one index")
    if order[0] < 0 or order[-1] >= len(pool):
        bad = order[0] if order[0] < 0 else order[-1]
        raise UsageError(f"index {bad} is outside the pool of {len(pool)} samples")
    item = pool.item if isinstance(pool, Pool) else pool.__getitem__
    blob = b"\n".join(bytes(item(i)) for i in order)
    if not blob:
        raise UsageError("judge_ratio: the selected samples are empty")
    window_log = min(_MAX_WINDOW_LOG, max(_MIN_WINDOW_LOG, len(blob).bit_length()))
    params = zs.ZstdCompressionParameters.from_level(level, window_log=window_log)
    return len(blob) / len(zs.ZstdCompressor(compression_params=params).compress(blob))
