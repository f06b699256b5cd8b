"""DEITA's representation filter (Liu et al. 2024, "What Makes Good Data for Alignment?").

Walk the samples in a given order (usually by descending quality score) and
keep one only if its cosine similarity to every sample kept so far is at most
``threshold``. The walk is batched: a block of candidates is compared with the
kept set in one matrix product, and the candidates inside the block are then
resolved against each other in order, on the host, from one small block-by-block
similarity matrix. The result is the same as the one-at-a-time loop.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .._checks import finite_number
from ..errors import InputError
from . import _device
from ._device import Array, ArrayModule, Device
from ._embeddings import DEFAULT_DTYPE, block_size, prepare
from ._validate import as_count, as_index_array

CANDIDATE_BLOCK = 512


def deita_filter(embeddings: Array, order: Array | Sequence[int] | None = None, threshold: float = 0.9,
                 budget: int | None = None, *, dtype: npt.DTypeLike = DEFAULT_DTYPE,
                 device: Device = "auto") -> Array:
    """Indices kept by the DEITA repr filter, in the order they were kept.

    Parameters
    ----------
    embeddings : numpy.ndarray or cupy.ndarray
        ``(n, d)`` float array (rows need not be normalized).
    order : array_like of int or None
        Indices to visit, in order (a permutation of ``range(n)`` or a subset;
        no repeats). ``None`` visits ``0 .. n-1``.
    threshold : float, default 0.9
        Keep a sample when its cosine similarity to every kept sample is
        ``<= threshold``; in ``[-1, 1]`` (DEITA uses 0.9).
    budget : int or None
        Stop once this many samples are kept (``None``: no limit).
    dtype : numpy.dtype, default float32
        Compute dtype, float32 or float64.
    device : {"auto", "cpu", "cuda"}
        Where to compute (see :mod:`fastzip.scoring`).

    Returns
    -------
    numpy.ndarray or cupy.ndarray
        int64 indices into *embeddings*; pairwise cosine similarity among
        them is ``<= threshold``. The first visited sample is always kept.

    Raises
    ------
    fastzip.errors.InputError
        Bad embeddings, dtype or order, a zero row, a threshold that is not
        a number in ``[-1, 1]``, or a budget below 1.
    RuntimeError
        ``device="cuda"`` without CuPy or a usable CUDA GPU.
    """
    prep = prepare(embeddings, device, dtype, normalize=True)
    x, xp = prep.x, prep.xp
    n = int(x.shape[0])
    visit = np.arange(n, dtype=np.int64) if order is None else as_index_array(order, n, "order")
    value = finite_number(threshold)
    if value is None or not -1.0 <= value <= 1.0:
        raise InputError(f"threshold is a cosine similarity and must be in [-1, 1], got {threshold}")
    threshold = value
    limit = visit.size if budget is None else min(as_count(budget, "budget"), visit.size)

    kept = _KeptSet(xp, int(x.shape[1]), x.dtype)
    for start in range(0, visit.size, CANDIDATE_BLOCK):
        cand_idx = visit[start:start + CANDIDATE_BLOCK]
        cand = x[xp.asarray(cand_idx)]
        passes = _device.to_host(kept.max_similarity(cand) <= threshold)
        inner = _device.to_host(cand @ cand.T)
        chosen = _resolve_block(passes, inner, threshold, limit - kept.size)
        kept.add(cand[xp.asarray(chosen)], cand_idx[chosen])
        if kept.size >= limit:
            break
    return _device.like_input(kept.indices(), prep.was_cupy)


def _resolve_block(passes: np.ndarray, inner: np.ndarray, threshold: float,
                   room: int) -> np.ndarray:
    """Positions kept within one candidate block, visiting it in order.

    *passes[j]*: candidate j is within threshold of everything kept before the
    block; *inner*: the block's own cosine similarities.
    """
    alive = passes.copy()
    chosen: list[int] = []
    for j in range(alive.size):
        if not alive[j]:
            continue
        chosen.append(j)
        if len(chosen) == room:
            break
        alive[j + 1:] &= inner[j, j + 1:] <= threshold
    return np.asarray(chosen, dtype=np.int64)


class _KeptSet:
    """Unit rows kept so far, in a buffer that doubles as it fills."""

    def __init__(self, xp: ArrayModule, dim: int, dtype: npt.DTypeLike) -> None:
        self.xp = xp
        self.rows = xp.empty((1024, dim), dtype=dtype)
        self.size = 0
        self._indices: list[np.ndarray] = []

    def add(self, rows: Array, indices: np.ndarray) -> None:
        need = self.size + int(rows.shape[0])
        if need > self.rows.shape[0]:
            grown = self.xp.empty((max(need, 2 * self.rows.shape[0]), self.rows.shape[1]),
                                  dtype=self.rows.dtype)
            grown[:self.size] = self.rows[:self.size]
            self.rows = grown
        self.rows[self.size:need] = rows
        self.size = need
        self._indices.append(indices)

    def max_similarity(self, cand: Array) -> Array:
        """Largest cosine similarity of each candidate row to the kept rows (-inf if none)."""
        best = self.xp.full(int(cand.shape[0]), -np.inf, dtype=cand.dtype)
        step = block_size(int(cand.shape[0]))
        for start in range(0, self.size, step):
            sims = cand @ self.rows[start:min(start + step, self.size)].T
            self.xp.maximum(best, sims.max(axis=1), out=best)
        return best

    def indices(self) -> np.ndarray:
        if not self._indices:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(self._indices).astype(np.int64, copy=False)
