"""Nearest-neighbour cosine similarity of every sample to a reference set."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from . import _device
from ._device import Array, ArrayModule, Device, ResolvedDevice
from ._embeddings import DEFAULT_DTYPE, block_size, prepare, unit_rows
from ._validate import as_index_array, check_embeddings

ROW_BLOCK = 4096


@overload
def max_similarity(embeddings: Array, selected: Array | Sequence[int], *, dtype: npt.DTypeLike = DEFAULT_DTYPE,
                   return_index: Literal[False] = False, device: Device = "auto") -> Array: ...


@overload
def max_similarity(embeddings: Array, selected: Array | Sequence[int], *, dtype: npt.DTypeLike = DEFAULT_DTYPE,
                   return_index: Literal[True], device: Device = "auto") -> tuple[Array, Array]: ...


def max_similarity(embeddings: Array, selected: Array | Sequence[int], *, dtype: npt.DTypeLike = DEFAULT_DTYPE,
                   return_index: bool = False, device: Device = "auto") -> Array | tuple[Array, Array]:
    """Largest cosine similarity of each row of *embeddings* to the *selected* set.

    Computed in ``ROW_BLOCK x block`` tiles: memory stays bounded for any n and m.

    Parameters
    ----------
    embeddings : numpy.ndarray or cupy.ndarray
        ``(n, d)`` float array.
    selected : array_like
        Either 1-D integer indices into *embeddings* (a row that is itself
        selected scores 1.0), or a 2-D ``(m, d)`` float array of reference
        embeddings.
    dtype : numpy.dtype, default float32
        Compute dtype, float32 or float64.
    return_index : bool, default False
        Also return, per row, the position in *selected* of its most similar
        member (lowest position on ties).
    device : {"auto", "cpu", "cuda"}
        Where to compute (see :mod:`fastzip.scoring`).

    Returns
    -------
    similarities : numpy.ndarray or cupy.ndarray
        ``(n,)`` similarities in the compute dtype.
    positions : numpy.ndarray or cupy.ndarray
        Only with ``return_index``: ``(n,)`` int64 positions in *selected*.

    Raises
    ------
    fastzip.errors.InputError
        Bad embeddings, dtype or indices, a zero row, an empty reference
        set, or references of another dimension.
    RuntimeError
        ``device="cuda"`` without CuPy or a usable CUDA GPU.
    """
    prep = prepare(embeddings, device, dtype, normalize=True)
    x, xp = prep.x, prep.xp
    n = int(x.shape[0])
    ref = _reference_rows(x, xp, selected, prep.device)
    if int(ref.shape[1]) != int(x.shape[1]):
        raise InputError(f"selected has dimension {ref.shape[1]}, embeddings {x.shape[1]}")
    m = int(ref.shape[0])
    best = xp.full(n, -np.inf, dtype=x.dtype)
    where = xp.zeros(n, dtype=np.int64)
    step = block_size(min(n, ROW_BLOCK))
    for r0 in range(0, n, ROW_BLOCK):
        rows = slice(r0, min(r0 + ROW_BLOCK, n))
        for c0 in range(0, m, step):
            sims = x[rows] @ ref[c0:c0 + step].T
            arg = sims.argmax(axis=1)
            top = sims.max(axis=1)
            better = top > best[rows]          # strict: earlier block wins ties
            best[rows] = xp.where(better, top, best[rows])
            where[rows] = xp.where(better, arg + c0, where[rows])
    best_out = _device.like_input(best, prep.was_cupy)
    if return_index:
        return best_out, _device.like_input(where, prep.was_cupy)
    return best_out


def _reference_rows(x: Array, xp: ArrayModule, selected: Array | Sequence[int],
                    device: ResolvedDevice) -> Array:
    """Unit reference rows: picked from *x* by index, or given as a 2-D array."""
    given: Array = selected if hasattr(selected, "ndim") else np.asarray(selected)
    if given.ndim == 2:
        if int(given.shape[0]) == 0:
            raise InputError("selected is empty")
        check_embeddings(given, "selected")
        return unit_rows(_device.to_device(given, device, x.dtype), xp, "selected")
    idx = as_index_array(given, int(x.shape[0]), "selected", unique=False)
    return x[xp.asarray(idx)]
