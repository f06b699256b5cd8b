"""Greedy k-center (farthest-point) selection, as in the core-set approach of Sener & Savarese.

Each step takes the point farthest from everything picked so far, then lowers
every point's distance-to-nearest-center with one matrix-vector product and a
fused element-wise minimum. Memory: the embeddings, plus O(n) vectors (and an
``n x block`` temporary when starting from ``initial``); never ``n x n``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args, overload

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from . import _device
from ._cuda_kernels import kcenter_update_kernel
from ._device import Array, ArrayModule, Device
from ._embeddings import DEFAULT_DTYPE, block_size, prepare
from ._validate import as_count, as_index_array

Metric = Literal["cosine", "l2"]
"""The distances :func:`kcenter_greedy` knows."""

METRICS: tuple[Metric, ...] = get_args(Metric)


@overload
def kcenter_greedy(embeddings: Array, k: int, initial: Array | Sequence[int] | None = None,
                   metric: Metric = "cosine", *, dtype: npt.DTypeLike = DEFAULT_DTYPE,
                   return_radii: Literal[False] = False, device: Device = "auto") -> Array: ...


@overload
def kcenter_greedy(embeddings: Array, k: int, initial: Array | Sequence[int] | None = None,
                   metric: Metric = "cosine", *, dtype: npt.DTypeLike = DEFAULT_DTYPE,
                   return_radii: Literal[True], device: Device = "auto") -> tuple[Array, Array]: ...


def kcenter_greedy(embeddings: Array, k: int, initial: Array | Sequence[int] | None = None,
                   metric: Metric = "cosine", *, dtype: npt.DTypeLike = DEFAULT_DTYPE,
                   return_radii: bool = False, device: Device = "auto") -> Array | tuple[Array, Array]:
    """Pick *k* points by greedy k-center; return their indices in pick order.

    First pick when *initial* is empty: the point farthest from the mean of
    the (normalized, for cosine) rows, so the result does not depend on the
    row order. Every tie, there and later, goes to the lowest index.

    Parameters
    ----------
    embeddings : numpy.ndarray or cupy.ndarray
        ``(n, d)`` float array.
    k : int
        Number of new points to pick (``1 <= k <=`` points not in *initial*).
    initial : array_like of int or None
        Indices already selected (e.g. a labelled set). Picks start from them
        and are never repeated; they are not part of the output.
    metric : {"cosine", "l2"}
        ``"cosine"`` (distance ``1 - cos``, rows normalized first) or ``"l2"``
        (Euclidean).
    dtype : numpy.dtype, default float32
        Compute dtype, float32 or float64.
    return_radii : bool, default False
        Also return the covering radius after each pick.
    device : {"auto", "cpu", "cuda"}
        Where to compute (see :mod:`fastzip.scoring`).

    Returns
    -------
    indices : numpy.ndarray or cupy.ndarray
        ``(k,)`` int64 indices in pick order.
    radii : numpy.ndarray or cupy.ndarray
        Only with ``return_radii``: ``(k,)`` float64, entry ``i`` the covering
        radius (largest distance from any point to its nearest picked or
        initial point) after pick ``i``, in the metric's own units; it never
        increases.

    Raises
    ------
    fastzip.errors.InputError
        Bad embeddings, metric, dtype or indices, or ``k`` out of range.
    RuntimeError
        ``device="cuda"`` without CuPy or a usable CUDA GPU.
    """
    if metric not in METRICS:
        raise InputError(f"metric must be one of {METRICS}, got {metric!r}")
    prep = prepare(embeddings, device, dtype, normalize=metric == "cosine")
    x, xp = prep.x, prep.xp
    n = int(x.shape[0])
    k = as_count(k, "k")
    init = (np.empty(0, np.int64) if initial is None
            else as_index_array(initial, n, "initial", allow_empty=True, unique=False))
    n_free = n - int(np.unique(init).size)
    if k > n_free:
        raise InputError(f"k={k} is more than the {n_free} points available "
                         f"(n={n}, {n - n_free} already in initial)")

    sq_norm = (xp.ones(n, dtype=x.dtype) if metric == "cosine"
               else xp.einsum("ij,ij->i", x, x))
    update = _update_min_dist_gpu if prep.device == "cuda" else _update_min_dist_cpu
    # min_dist holds squared L2 distance to the nearest center (for cosine rows,
    # 2 * (1 - cos)); -inf marks a center so it is never picked again.
    if init.size:
        min_dist = _min_dist_to_set(x, sq_norm, init, xp)
        min_dist[xp.asarray(init)] = -np.inf
    else:
        min_dist = xp.full(n, np.inf, dtype=x.dtype)

    picks = np.empty(k, dtype=np.int64)
    radii = np.empty(k, dtype=np.float64)
    for i in range(k):
        if i == 0 and not init.size:
            j = _farthest_from_mean(x, sq_norm, xp)
        else:
            j = int(xp.argmax(min_dist))
            if return_radii and i > 0:
                radii[i - 1] = float(min_dist[j])
        picks[i] = j
        update(x @ x[j], sq_norm, sq_norm[j], min_dist)
        min_dist[j] = -np.inf
    if return_radii:
        radii[k - 1] = max(float(min_dist.max()), 0.0)
        radii = np.sqrt(radii) if metric == "l2" else radii / 2.0
        return (_device.like_input(picks, prep.was_cupy),
                _device.like_input(radii, prep.was_cupy))
    return _device.like_input(picks, prep.was_cupy)


def _farthest_from_mean(x: Array, sq_norm: Array, xp: ArrayModule) -> int:
    """argmax_i |x_i - mean|^2 = argmax_i (|x_i|^2 - 2 x_i . mean); ties -> lowest index."""
    mean = x.mean(axis=0)
    return int(xp.argmax(sq_norm - 2 * (x @ mean)))


def _min_dist_to_set(x: Array, sq_norm: Array, centers: np.ndarray, xp: ArrayModule) -> Array:
    """Squared distance from every row to its nearest row in *centers*, blockwise."""
    n = int(x.shape[0])
    out = xp.full(n, np.inf, dtype=x.dtype)
    step = block_size(n)
    for start in range(0, centers.size, step):
        idx = xp.asarray(centers[start:start + step])
        dist = x @ x[idx].T                       # (n, block) dot products
        dist *= -2
        dist += sq_norm[:, None]
        dist += sq_norm[idx][None, :]
        xp.minimum(out, dist.min(axis=1), out=out)
    xp.maximum(out, 0, out=out)
    return out


def _update_min_dist_cpu(dot: np.ndarray, sq_norm: np.ndarray, center_sq_norm: np.floating[Any],
                         min_dist: np.ndarray) -> None:
    """min_dist = min(min_dist, max(|x|^2 + |c|^2 - 2 x.c, 0)), in place (*dot* is scratch)."""
    dot *= -2
    dot += sq_norm
    dot += center_sq_norm
    np.maximum(dot, 0, out=dot)
    np.minimum(min_dist, dot, out=min_dist)


def _update_min_dist_gpu(dot: Array, sq_norm: Array, center_sq_norm: Array, min_dist: Array) -> None:
    """GPU twin of :func:`_update_min_dist_cpu`: one fused element-wise kernel."""
    kcenter_update_kernel()(dot, sq_norm, center_sq_norm, min_dist)
