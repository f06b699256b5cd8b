"""Codec registry and backend policy.

For each built-in codec fastzip uses the native C kernel when it was compiled
in (system headers found at build time) and otherwise the PyPI binding
(``zstandard``, ``lz4``; zlib always has a native kernel).  Setting
``FASTZIP_FORCE_FALLBACK=1`` in the environment forces the bindings for every
codec, so both paths can be tested on one machine.

Users may also register their own codec (any ``compress(bytes) -> bytes``);
it is measured by full recompression, which is exact and slow.
"""
from __future__ import annotations

import os
from typing import Callable

from . import _fallback
from .errors import UsageError

BUILTIN_CODECS = ("zlib", "zstd", "lz4")
DEFAULT_LEVELS = {"zlib": 9, "zstd": 3, "lz4": 0}
_CUSTOM: dict[str, Callable[[bytes], bytes]] = {}

try:
    from . import _native
except ImportError as exc:  # the extension is not built: bindings only
    _native = None
    _NATIVE_IMPORT_ERROR: str | None = str(exc)
else:
    _NATIVE_IMPORT_ERROR = None


def force_fallback() -> bool:
    """True when FASTZIP_FORCE_FALLBACK asks for the PyPI bindings."""
    return os.environ.get("FASTZIP_FORCE_FALLBACK", "") not in ("", "0")


def native_available(codec: str) -> bool:
    """True when ``codec`` has a compiled kernel (regardless of the override)."""
    return _native is not None and _native.codec_available(codec)


def uses_native(codec: str) -> bool:
    """True when new streams of ``codec`` will use the native kernel."""
    return native_available(codec) and not force_fallback()


def available_codecs() -> list[str]:
    return list(BUILTIN_CODECS) + sorted(_CUSTOM)


def resolve(codec: str, level: int | None) -> tuple[str, int]:
    """Check a codec name and level; fill in the codec's default level."""
    if not isinstance(codec, str):
        raise UsageError(f"codec must be a string, got {type(codec).__name__}")
    if codec in _CUSTOM:
        return codec, 0 if level is None else int(level)
    if codec not in BUILTIN_CODECS:
        raise UsageError(f"unknown codec {codec!r}; choose one of {', '.join(available_codecs())}")
    if level is None:
        return codec, DEFAULT_LEVELS[codec]
    if isinstance(level, bool) or not isinstance(level, (int,)) and not hasattr(level, "__index__"):
        raise UsageError(f"level must be an integer, got {level!r}")
    level = int(level)
    if codec == "zlib" and not 0 <= level <= 9:
        raise UsageError(f"zlib level must be 0..9, got {level}")
    if codec == "zstd" and not (1 <= level <= 22 or -131072 <= level <= -1):
        raise UsageError(f"zstd level must be 1..22 (or a negative fast level), got {level}")
    if codec == "lz4" and not -65537 <= level <= 12:
        raise UsageError(f"lz4 level must be <= 12 (0: default, <0: fast acceleration, 1..12: HC), got {level}")
    return codec, level


def new_stream(codec: str, level: int, long_distance: bool = False):
    """A fresh, empty stream object for an already resolved codec and level.

    ``long_distance`` (zstd only) turns on long-distance matching for frames
    whose window exceeds the level's default.
    """
    if codec in _CUSTOM:
        return _fallback.RecompressStream(codec, _CUSTOM[codec])
    if codec == "zstd":
        if uses_native(codec):
            return _native.NativeStream(codec, level, long_distance)
        return _fallback.ZstdFallback(level, long_distance)
    if uses_native(codec):
        return _native.NativeStream(codec, level)
    return _fallback.FALLBACKS[codec](level)


def register_codec(name: str, compress: Callable[[bytes], bytes], *, replace: bool = False) -> None:
    """Register a Python codec under ``name``.

    ``compress`` takes bytes and returns the compressed bytes.  A registered
    codec works everywhere a codec name is accepted (``compression_ratio``,
    ``IncrementalCompressor``, default-mode ``select``, the benchmarks); every
    size is computed by recompressing the whole stream, so it is slow.
    """
    if not isinstance(name, str) or not name:
        raise UsageError("codec name must be a non-empty string")
    if name in BUILTIN_CODECS:
        raise UsageError(f"{name!r} is a built-in codec")
    if not callable(compress):
        raise UsageError("compress must be callable: compress(bytes) -> bytes")
    if name in _CUSTOM and not replace:
        raise UsageError(f"codec {name!r} is already registered (pass replace=True)")
    _CUSTOM[name] = compress


def unregister_codec(name: str) -> None:
    """Remove a codec registered with :func:`register_codec`."""
    _CUSTOM.pop(name, None)


def build_info() -> dict:
    """What this installation computes natively.

    Returns ``{"native_extension": bool, "openmp": bool, "force_fallback": bool,
    "codecs": {codec: {"native": bool, "active": "native"|"fallback",
    "library": "x.y.z"}}, "custom_codecs": [...]}``.
    """
    codecs = {}
    for codec in BUILTIN_CODECS:
        native = native_available(codec)
        version = ".".join(map(str, _native.codec_version(codec))) if native else None
        if version is None:
            version = _binding_version(codec)
        codecs[codec] = {
            "native": native,
            "active": "native" if native and not force_fallback() else "fallback",
            "library": version,
        }
    info = {
        "native_extension": _native is not None,
        "openmp": bool(_native is not None and _native.have_openmp()),
        "force_fallback": force_fallback(),
        "codecs": codecs,
        "custom_codecs": sorted(_CUSTOM),
    }
    if _NATIVE_IMPORT_ERROR:
        info["native_import_error"] = _NATIVE_IMPORT_ERROR
    return info


def _binding_version(codec: str) -> str | None:
    try:
        if codec == "zlib":
            import zlib

            return zlib.ZLIB_RUNTIME_VERSION
        if codec == "zstd":
            import zstandard

            return ".".join(map(str, zstandard.ZSTD_VERSION))
        import lz4

        return lz4.library_version_string()
    except ImportError:
        return None
