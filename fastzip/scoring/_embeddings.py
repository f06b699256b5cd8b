"""Shared plumbing for the embedding kernels: checks, device move, normalization, blocking."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from . import _device
from ._device import Array, ArrayModule, Device, ResolvedDevice
from ._validate import check_embeddings

DEFAULT_DTYPE = np.float32
# Largest temporary similarity block, in elements (64 MiB of float32).
BLOCK_ELEMENTS = 1 << 24


class Prepared(NamedTuple):
    """Embeddings ready for the kernels, with what is needed to shape the output."""

    x: Array                # (n, d) array on the chosen device, in the compute dtype
    xp: ArrayModule         # numpy or cupy
    device: ResolvedDevice  # "cpu" or "cuda"
    was_cupy: bool          # the caller passed a CuPy array: return CuPy


def check_dtype(dtype: npt.DTypeLike) -> np.dtype[Any]:
    """The compute dtype: float32 (default) or float64."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise InputError(f"dtype must be float32 or float64, got {dt}")
    return dt


def prepare(embeddings: Array, device: Device, dtype: npt.DTypeLike, *, normalize: bool,
            name: str = "embeddings") -> Prepared:
    """Validate *embeddings*, move them to the resolved device and cast them.

    With ``normalize=True`` rows are scaled to unit L2 norm (a new array; the
    caller's is never modified); a zero row is an error since its cosine
    similarity is undefined.
    """
    if not hasattr(embeddings, "dtype"):
        embeddings = np.asarray(embeddings)
    dt = check_dtype(dtype)
    dev = _device.resolve_device(device, embeddings)
    was_cupy = _device.is_cupy_array(embeddings)
    check_embeddings(embeddings, name)
    x = _device.to_device(embeddings, dev, dt)
    xp = _device.array_module(dev)
    if normalize:
        x = unit_rows(x, xp, name)
    return Prepared(x, xp, dev, was_cupy)


def unit_rows(x: Array, xp: ArrayModule, name: str = "embeddings") -> Array:
    """Rows of *x* scaled to unit L2 norm, as a new array."""
    norms = xp.sqrt(xp.einsum("ij,ij->i", x, x))
    zero = xp.flatnonzero(norms == 0)
    if zero.size:
        raise InputError(f"{name} row {int(zero[0])} is all zeros: its cosine similarity is "
                         "undefined")
    return x / norms[:, None]


def block_size(n_rows: int, limit: int | None = None) -> int:
    """Columns per block so that an ``n_rows x block`` temporary stays under BLOCK_ELEMENTS."""
    size = max(1, BLOCK_ELEMENTS // max(1, n_rows))
    return size if limit is None else max(1, min(size, limit))
