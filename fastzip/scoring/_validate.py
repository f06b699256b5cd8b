"""Input checks shared by the scoring functions; each raises a one-line :class:`~fastzip.errors.InputError`."""
from __future__ import annotations

import operator

import numpy as np

from ..errors import InputError
from ._device import Array, to_host


def check_real_dtype(x: Array, name: str) -> None:
    """Reject integer, boolean, complex and object arrays where floats are expected."""
    kind = np.dtype(x.dtype).kind
    if kind in "biucOSUMm":
        raise InputError(f"{name} must be a floating-point array, got dtype {x.dtype}")


def check_all_finite(x: Array, name: str) -> None:
    """Raise if *x* (numpy or CuPy) has a NaN or an infinity, naming the first one.

    One pass and no large temporary: a float64 sum is finite exactly when every
    element is finite (barring float64 overflow, which then takes the slow path).
    """
    if x.size == 0:
        return
    if bool(np.isfinite(to_host(x.sum(dtype=np.float64)))):
        return
    host = to_host(x)
    bad = np.argwhere(~np.isfinite(host))
    if bad.size == 0:
        return  # the sum overflowed, the values are fine
    where = tuple(int(i) for i in bad[0])
    raise InputError(f"{name} contains NaN or infinity (first at index {where}: {host[where]})")


def check_embeddings(x: Array, name: str = "embeddings") -> None:
    """A non-empty, finite, 2-D float array of shape (n, d)."""
    if x.ndim != 2:
        raise InputError(f"{name} must be 2-D (n_samples, dim), got shape {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {tuple(x.shape)})")
    check_real_dtype(x, name)
    check_all_finite(x, name)


def as_count(value: object, name: str) -> int:
    """An int >= 1 (k, budget, chunk sizes)."""
    try:
        count = operator.index(value)  # type: ignore[arg-type]  # any value: a non-integer raises TypeError
    except TypeError:
        raise InputError(f"{name} must be an integer, got {value!r}") from None
    if count <= 0:
        raise InputError(f"{name} must be >= 1, got {count}")
    return count


def as_index_array(idx: Array, n: int, name: str, *, allow_empty: bool = False,
                   unique: bool = True) -> np.ndarray:
    """A 1-D int64 host array of indices into range(n), checked."""
    arr = to_host(idx)
    arr = np.asarray(arr)
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array of indices, got shape {arr.shape}")
    if arr.size == 0:
        if allow_empty:
            return arr.astype(np.int64)
        raise InputError(f"{name} is empty")
    if arr.dtype.kind not in "iu":
        raise InputError(f"{name} must hold integer indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise InputError(f"{name} has index {bad} outside [0, {n})")
    if unique and np.unique(arr).size != arr.size:
        raise InputError(f"{name} has repeated indices")
    return arr
