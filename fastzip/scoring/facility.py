"""Greedy facility location (maximize coverage ``sum_i max_{j in S} sim(i, j)``).

Similarity is cosine similarity, with negative values counted as 0 (the empty
set covers every point at 0), which keeps the objective monotone submodular.

The greedy is *lazy* (Minoux 1978): a gain computed in an earlier step is an
upper bound on the current one, so each step re-evaluates only the candidates at
the top of a max-heap of stale gains, a batch at a time. Picks and ties (lowest index) match the
plain greedy that re-scores every candidate at every step.

Cost: the first gains need every pairwise similarity once, computed in blocks
(``O(n^2 d)`` time, ``O(n * block)`` extra memory). The ``n x n`` matrix is
kept only when it fits ``similarity_cache_bytes``; otherwise each re-evaluation
batch recomputes its rows with one ``(batch, d) x (d, n)`` product.
"""
from __future__ import annotations

import heapq
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from . import _device
from ._device import Array, ArrayModule, Device
from ._embeddings import DEFAULT_DTYPE, block_size, prepare
from ._validate import as_count

FIRST_BATCH = 8
MAX_BATCH = 1024
DEFAULT_CACHE_BYTES = 1 << 30


@overload
def facility_location_greedy(embeddings: Array, k: int, *, dtype: npt.DTypeLike = DEFAULT_DTYPE,
                             return_gains: Literal[False] = False,
                             similarity_cache_bytes: int = DEFAULT_CACHE_BYTES,
                             device: Device = "auto") -> Array: ...


@overload
def facility_location_greedy(embeddings: Array, k: int, *, dtype: npt.DTypeLike = DEFAULT_DTYPE,
                             return_gains: Literal[True],
                             similarity_cache_bytes: int = DEFAULT_CACHE_BYTES,
                             device: Device = "auto") -> tuple[Array, Array]: ...


def facility_location_greedy(embeddings: Array, k: int, *, dtype: npt.DTypeLike = DEFAULT_DTYPE,
                             return_gains: bool = False,
                             similarity_cache_bytes: int = DEFAULT_CACHE_BYTES,
                             device: Device = "auto") -> Array | tuple[Array, Array]:
    """Pick *k* points greedily for facility location; return indices in pick order.

    Parameters
    ----------
    embeddings : numpy.ndarray or cupy.ndarray
        ``(n, d)`` float array.
    k : int
        Number of points, ``1 <= k <= n``.
    dtype : numpy.dtype, default float32
        Compute dtype, float32 or float64.
    return_gains : bool, default False
        Also return each pick's marginal gain (non-increasing).
    similarity_cache_bytes : int, default 1 GiB
        Keep the ``n x n`` similarity matrix (filled by the first pass) when
        it fits in this many bytes (1 GiB: n <= 16,384 in float32), so
        re-evaluations are memory reads; above it, similarities are
        recomputed from the embeddings with one matrix product per batch.
        0 never caches.
    device : {"auto", "cpu", "cuda"}
        Where to compute (see :mod:`fastzip.scoring`).

    Returns
    -------
    indices : numpy.ndarray or cupy.ndarray
        ``(k,)`` int64 indices in pick order.
    gains : numpy.ndarray or cupy.ndarray
        Only with ``return_gains``: ``(k,)`` float64 marginal gains.

    Raises
    ------
    fastzip.errors.InputError
        Bad embeddings or dtype, a zero row, ``k`` out of range, or a
        negative ``similarity_cache_bytes``.
    RuntimeError
        ``device="cuda"`` without CuPy or a usable CUDA GPU.
    """
    prep = prepare(embeddings, device, dtype, normalize=True)
    x, xp = prep.x, prep.xp
    n = int(x.shape[0])
    k = as_count(k, "k")
    if k > n:
        raise InputError(f"k={k} is more than the number of samples n={n}")
    if int(similarity_cache_bytes) < 0:
        raise InputError(f"similarity_cache_bytes must be >= 0, got {similarity_cache_bytes}")

    sims = _Similarities(x, xp, int(similarity_cache_bytes))
    coverage = xp.zeros(n, dtype=x.dtype)        # max(0, sim to nearest pick), per point
    heap = [(-float(g), j) for j, g in enumerate(sims.initial_gains())]
    heapq.heapify(heap)
    picks = np.empty(k, dtype=np.int64)
    pick_gains = np.empty(k, dtype=np.float64)
    for step in range(k):
        fresh: set[int] = set()
        batch = FIRST_BATCH
        while heap[0][1] not in fresh:
            stale = [heapq.heappop(heap)[1] for _ in range(min(batch, len(heap)))]
            exact = _gains(sims.rows(np.asarray(stale)), coverage, xp)
            for j, g in zip(stale, exact):
                heapq.heappush(heap, (-float(g), j))
            fresh.update(stale)
            batch = min(2 * batch, MAX_BATCH)
        neg_gain, j = heapq.heappop(heap)
        picks[step], pick_gains[step] = j, -neg_gain
        xp.maximum(coverage, sims.rows(np.asarray([j]))[0], out=coverage)
    picks_out = _device.like_input(picks, prep.was_cupy)
    if return_gains:
        return picks_out, _device.like_input(pick_gains, prep.was_cupy)
    return picks_out


def _gains(rows: Array, coverage: Array, xp: ArrayModule) -> np.ndarray:
    """Exact marginal gains ``sum_i max(sim(c, i) - coverage_i, 0)``; *rows* is scratch."""
    rows -= coverage[None, :]
    xp.maximum(rows, 0, out=rows)
    return _device.to_host(rows.sum(axis=1, dtype=np.float64))


class _Similarities:
    """Rows of the cosine-similarity matrix: from a cache, or recomputed per request."""

    def __init__(self, x: Array, xp: ArrayModule, cache_bytes: int) -> None:
        self.x, self.xp = x, xp
        n = int(x.shape[0])
        fits = n * n * x.dtype.itemsize <= cache_bytes
        self.cache = xp.empty((n, n), dtype=x.dtype) if fits else None

    def initial_gains(self) -> np.ndarray:
        """Gains against the empty set, ``sum_i max(sim(j, i), 0)``, a block of rows at a time
        (filling the cache on the way)."""
        x, xp = self.x, self.xp
        n = int(x.shape[0])
        out = np.empty(n, dtype=np.float64)
        zero = xp.zeros(n, dtype=x.dtype)
        step = block_size(n)
        for start in range(0, n, step):
            stop = min(start + step, n)
            block = x[start:stop] @ x.T
            if self.cache is not None:
                self.cache[start:stop] = block
            out[start:stop] = _gains(block, zero, xp)
        return out

    def rows(self, idx: np.ndarray) -> Array:
        """``(len(idx), n)`` similarities of points *idx* to every point (a fresh array)."""
        dev_idx = self.xp.asarray(idx)
        if self.cache is not None:
            return self.cache[dev_idx]
        return self.x[dev_idx] @ self.x.T
