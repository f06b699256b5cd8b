"""Device resolution, the lazy CuPy import and array-module helpers.

CuPy is imported only when a call resolves ``device="cuda"`` or
``device="auto"``; the outcome (module or the reason it is unusable) is cached
for the life of the process, so ``import fastzip.scoring`` never touches it.

Rules shared by every scoring function:

* ``device="cpu"``: compute with numpy.
* ``device="cuda"``: compute with CuPy; ``RuntimeError`` naming what is missing
  (the CuPy package, or a usable CUDA GPU) when it cannot.
* ``device="auto"`` (default): a CuPy input runs on its GPU; a numpy input runs
  on the GPU when CuPy and a CUDA device are usable, otherwise on the CPU,
  silently.

Results follow the input: numpy in -> numpy out, CuPy in -> CuPy out,
whatever device did the work.
"""
from __future__ import annotations

import functools
from types import ModuleType
from typing import Any, Literal, NamedTuple, get_args

import numpy as np
import numpy.typing as npt

from ..errors import InputError

Device = Literal["auto", "cpu", "cuda"]
"""Where a scoring function computes: ``device=`` of every heavy function."""

ResolvedDevice = Literal["cpu", "cuda"]
"""What :func:`resolve_device` decides."""

Array = Any
"""A numpy or CuPy array (CuPy in, CuPy out); ``Any`` keeps CuPy an optional dependency."""

ArrayModule = ModuleType
"""numpy or cupy: the module whose functions make and combine :data:`Array` values."""

DEVICES: tuple[Device, ...] = get_args(Device)


class CupyStatus(NamedTuple):
    """Outcome of the one-time CuPy probe: the module, or why it is unusable."""

    module: Any  # cupy (untyped, optional) or None; every caller checks ``missing`` first
    missing: str | None  # None when usable; otherwise a sentence naming what is missing


@functools.lru_cache(maxsize=1)
def cupy_status() -> CupyStatus:
    """Import CuPy and look for a CUDA device, once per process."""
    try:
        import cupy  # noqa: PLC0415  (lazy on purpose)
    except Exception as exc:  # ImportError, or a broken CUDA install raising at import
        return CupyStatus(None, f"CuPy is not installed or failed to import ({exc}); "
                                "install the GPU extra: pip install 'fastzip-select[gpu]'")
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # CUDARuntimeError when there is no driver
        return CupyStatus(None, f"CuPy is installed but no CUDA GPU is usable ({exc})")
    if count < 1:
        return CupyStatus(None, "CuPy is installed but no CUDA GPU was found")
    return CupyStatus(cupy, None)


def is_cupy_array(x: object) -> bool:
    """True for a CuPy ndarray, decided without importing CuPy."""
    return type(x).__module__.split(".", 1)[0] == "cupy"


def resolve_device(device: Device, *arrays: object) -> ResolvedDevice:
    """Return ``"cpu"`` or ``"cuda"`` for *device* and the given input arrays."""
    if device not in DEVICES:
        raise InputError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cpu":
        return "cpu"
    if device == "auto" and any(is_cupy_array(a) for a in arrays):
        return "cuda"
    status = cupy_status()
    if status.module is not None:
        return "cuda"
    if device == "cuda":
        raise RuntimeError(f"device='cuda' was requested but {status.missing}")
    return "cpu"


def array_module(device: ResolvedDevice) -> ArrayModule:
    """numpy for ``"cpu"``, cupy for ``"cuda"`` (after :func:`resolve_device`)."""
    return cupy_status().module if device == "cuda" else np


def to_device(x: Array, device: ResolvedDevice, dtype: npt.DTypeLike | None = None) -> Array:
    """Move *x* to *device* (as a numpy or CuPy array), casting to *dtype* if given."""
    if device == "cuda":
        cp = cupy_status().module
        return cp.asarray(x, dtype=dtype)
    if is_cupy_array(x):
        x = x.get()
    return np.asarray(x, dtype=dtype)


def to_host(x: Array) -> np.ndarray:
    """A numpy copy (or view) of *x*, whichever device it lives on."""
    return x.get() if is_cupy_array(x) else np.asarray(x)


def like_input(result: Array, input_was_cupy: bool) -> Array:
    """Return *result* as CuPy when the caller passed CuPy, else as numpy."""
    if input_was_cupy:
        if is_cupy_array(result):
            return result
        return cupy_status().module.asarray(result)
    return to_host(result)
