"""Codec registry and backend policy.

For each built-in codec fastzip uses the native C kernel when it was compiled
in (system headers found at build time) and otherwise the PyPI binding
(``zstandard``, ``lz4``; zlib always has a native kernel).  Setting
``FASTZIP_FORCE_FALLBACK=1`` in the environment forces the bindings for every
codec, so both paths can be tested on one machine.

``lz77`` is fastzip's own incremental LZ77 cost model (csrc/fz_lz77.h): an
estimate of the compressed size, not a real compressor's output, with
appends that cost O(appended bytes).  It has no PyPI binding, so it is
native only: without the extension, or under ``FASTZIP_FORCE_FALLBACK``,
asking for it raises :class:`fastzip.errors.InputError`.

Users may also register their own codec (any ``compress(bytes) -> bytes``);
it is measured by full recompression, which is exact and slow.

Every stream, native or not, implements ``fastzip.streams.protocol.Stream``
and declares its :class:`fastzip.streams.protocol.Capabilities`;
``capabilities(codec)`` gives them for a codec name.
"""
from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lz4
import numpy as np
import zstandard

from ..errors import InputError, UsageError
from . import fallback
from .protocol import Capabilities, Stream


@dataclass(frozen=True)
class CodecSpec:
    """A built-in codec: its default level, its valid levels and its fallback."""

    name: str
    default_level: int
    valid: Callable[[int], bool]
    levels: str                          # the valid levels, for error messages
    fallback: Callable[[int, bool], Stream] | None  # PyPI-binding stream class; None: native only


_BUILTINS = {
    "zlib": CodecSpec("zlib", 9, lambda v: 0 <= v <= 9, "0..9", fallback.ZlibFallback),
    "zstd": CodecSpec("zstd", 3, lambda v: 1 <= v <= 22 or -131072 <= v <= -1,
                      "1..22 (or a negative fast level)", fallback.ZstdFallback),
    "lz4": CodecSpec("lz4", 0, lambda v: -65537 <= v <= 12,
                     "<= 12 (0: default, <0: fast acceleration, 1..12: HC)", fallback.Lz4Fallback),
    "lz77": CodecSpec("lz77", 2, lambda v: v in (1, 2), "1 (greedy) or 2 (one step of lookahead)", None),
}

# The default-mode codec of select(), and of the out-of-core and Ray paths'
# stage-1 scorer: the one place it is named (resolve_select reads it).  lz77,
# because its match finder reaches the whole selection (zstd's tables stop
# growing at hashLog 24, and past about 30 MB of selection it no longer sees
# the early picks) and its sizes are bit-identical on every build (integer
# prices).  It is native only: without its kernel the default is refused in
# one line (check_default_codec), never silently swapped for another codec.
DEFAULT_SELECT_CODEC = "lz77"

BUILTIN_CODECS = ("zlib", "zstd", "lz4")   # with a PyPI binding: native or fallback
NATIVE_ONLY_CODECS = ("lz77",)             # no binding: the native extension is required
DEFAULT_LEVELS = {name: spec.default_level for name, spec in _BUILTINS.items()}
_CUSTOM: dict[str, Callable[[bytes], bytes]] = {}

try:
    from . import _native
except ImportError as _exc:  # the extension is not built: bindings only
    # mypy types the name as the module; None is its documented "not built" value
    _native = None  # type: ignore[assignment]
    _NATIVE_IMPORT_ERROR: str | None = str(_exc)
else:
    _NATIVE_IMPORT_ERROR = None


def force_fallback() -> bool:
    """Whether FASTZIP_FORCE_FALLBACK asks for the PyPI bindings.

    Returns
    -------
    bool
        True when the variable is set to anything but empty or ``0``.
    """
    return os.environ.get("FASTZIP_FORCE_FALLBACK", "") not in ("", "0")


def native_available(codec: str) -> bool:
    """Whether ``codec`` has a compiled kernel (regardless of the override).

    Parameters
    ----------
    codec : str
        The codec to look up in the native extension.

    Returns
    -------
    bool
        False without the extension.
    """
    return _native is not None and _native.codec_available(codec)


def uses_native(codec: str) -> bool:
    """Whether new streams of ``codec`` will use the native kernel.

    Parameters
    ----------
    codec : str
        A resolved codec name.

    Returns
    -------
    bool
        True when it is compiled in and FASTZIP_FORCE_FALLBACK is not set.
    """
    return native_available(codec) and not force_fallback()


def available_codecs() -> list[str]:
    """The names of every codec.

    Returns
    -------
    list of str
        The built-in codecs, then the registered ones, sorted.
    """
    return list(_BUILTINS) + sorted(_CUSTOM)


def native_only(codec: str) -> bool:
    """Whether ``codec`` is a built-in codec without a PyPI binding (it needs the native extension).

    Parameters
    ----------
    codec : str
        Any codec name (a registered codec is never native only).

    Returns
    -------
    bool
        True for ``lz77``.
    """
    return codec in _BUILTINS and _BUILTINS[codec].fallback is None


def resolve(codec: str, level: int | None) -> tuple[str, int]:
    """Check a codec name and level; fill in the codec's default level.

    Parameters
    ----------
    codec : str
        A built-in or registered codec.
    level : int or None
        Its level; None is its default.

    Returns
    -------
    codec : str
    level : int

    Raises
    ------
    fastzip.errors.UsageError
        An unknown codec, or a level it does not have.
    """
    if not isinstance(codec, str):
        raise UsageError(f"codec must be a string, got {type(codec).__name__}")
    if codec in _CUSTOM:
        return codec, 0 if level is None else int(level)
    spec = _BUILTINS.get(codec)
    if spec is None:
        raise UsageError(f"unknown codec {codec!r}; choose one of {', '.join(available_codecs())}")
    if level is None:
        return codec, spec.default_level
    if isinstance(level, bool) or not isinstance(level, (int,)) and not hasattr(level, "__index__"):
        raise UsageError(f"level must be an integer, got {level!r}")
    level = int(level)
    if not spec.valid(level):
        raise UsageError(f"{codec} level must be {spec.levels}, got {level}")
    return codec, level


def check_default_codec() -> None:
    """Refuse, in one line, a default-mode run whose default codec cannot run here.

    The default codec (:data:`DEFAULT_SELECT_CODEC`, ``lz77``) is native
    only; fastzip never swaps it for another codec behind the caller's back,
    since another codec makes other selections.

    Raises
    ------
    fastzip.errors.UsageError
        The native extension is not built, lacks the codec, or
        ``FASTZIP_FORCE_FALLBACK`` is set (an :class:`fastzip.errors.InputError`,
        never blamed on an input file).
    """
    codec = DEFAULT_SELECT_CODEC
    if not native_only(codec) or uses_native(codec):
        return
    if _native is None:
        why = "the native extension is not built"
    elif force_fallback():
        why = "FASTZIP_FORCE_FALLBACK is set"
    else:
        why = "it was not compiled into the native extension"
    raise UsageError(f"the default codec {codec} needs the native extension ({why}); pass codec='zstd' "
                     "(--codec zstd) to use the PyPI bindings")


def resolve_select(codec: str | None, level: int | None) -> tuple[str, int]:
    """Default mode's codec and level: :func:`resolve`, with no codec meaning the default codec.

    Parameters
    ----------
    codec : str or None
        A built-in or registered codec; None (or empty) is
        :data:`DEFAULT_SELECT_CODEC`.
    level : int or None
        Its level; None is its default.

    Returns
    -------
    codec : str
    level : int

    Raises
    ------
    fastzip.errors.UsageError
        An unknown codec or level, as :func:`resolve` raises them; no codec
        where the default codec cannot run (:func:`check_default_codec`).
    """
    if codec:
        return resolve(codec, level)
    check_default_codec()
    try:
        return resolve(DEFAULT_SELECT_CODEC, level)
    except UsageError as exc:   # a level meant for another codec: say which codec it was checked against
        raise UsageError(f"{exc.reason} (no codec was given, so the level is the default codec "
                         f"{DEFAULT_SELECT_CODEC}'s; pass the codec too)") from None


def _native_only_error(codec: str) -> InputError:
    if _native is None:
        why = f"the native extension is not built ({_NATIVE_IMPORT_ERROR})"
    elif force_fallback():
        why = "FASTZIP_FORCE_FALLBACK is set"
    else:
        why = "it was not compiled into the native extension"
    return InputError(f"codec {codec!r} is native only (it has no PyPI binding) and {why}; "
                      "use zstd, zlib or lz4, or build the extension")


def capabilities(codec: str, level: int | None = None) -> Capabilities:
    """What ``codec`` can do, as a new stream of it would declare.

    Parameters
    ----------
    codec : str
        A built-in or registered codec.
    level : int or None, optional
        Its level; None is its default.

    Returns
    -------
    Capabilities
    """
    codec, level = resolve(codec, level)
    return new_stream(codec, level).capabilities


def new_stream(codec: str, level: int, long_distance: bool = False) -> Stream:
    """A fresh, empty stream object for an already resolved codec and level.

    Parameters
    ----------
    codec : str
        A codec name, as :func:`resolve` returns it.
    level : int
        Its level, as :func:`resolve` returns it.
    long_distance : bool, optional
        zstd only: long-distance matching for frames whose window exceeds
        the level's default.

    Returns
    -------
    Stream
        The native stream where the codec is compiled in and not forced
        off, else its PyPI fallback (or, for a registered codec, a full
        recompression).

    Raises
    ------
    fastzip.errors.InputError
        A native-only codec (lz77) without its native kernel.
    """
    if codec in _CUSTOM:
        return fallback.RecompressStream(codec, _CUSTOM[codec])
    if uses_native(codec):
        return _native.NativeStream(codec, level, long_distance)
    spec = _BUILTINS[codec]
    if spec.fallback is None:
        raise _native_only_error(codec)
    return spec.fallback(level, long_distance)


def register_codec(name: str, compress: Callable[[bytes], bytes], *, replace: bool = False) -> None:
    """Register a Python codec under ``name``.

    A registered codec works everywhere a codec name is accepted
    (``compression_ratio``, ``IncrementalCompressor``, default-mode
    ``select``, the benchmarks); every size is computed by recompressing the
    whole stream, so it is slow.

    Parameters
    ----------
    name : str
        The codec's name (not a built-in one).
    compress : callable
        ``compress(bytes) -> bytes``: the compressed bytes.
    replace : bool, optional
        Replace a codec already registered under ``name``.

    Raises
    ------
    fastzip.errors.UsageError
        An empty or built-in name, a ``compress`` that is not callable, or a
        name already registered without ``replace``.
    """
    if not isinstance(name, str) or not name:
        raise UsageError("codec name must be a non-empty string")
    if name in _BUILTINS:
        raise UsageError(f"{name!r} is a built-in codec")
    if not callable(compress):
        raise UsageError("compress must be callable: compress(bytes) -> bytes")
    if name in _CUSTOM and not replace:
        raise UsageError(f"codec {name!r} is already registered (pass replace=True)")
    _CUSTOM[name] = compress


def unregister_codec(name: str) -> None:
    """Remove a codec registered with :func:`register_codec`.

    Parameters
    ----------
    name : str
        The codec's name; an unknown name is ignored.
    """
    _CUSTOM.pop(name, None)


# ----------------------------------------------------------------------------- which zlib
# compat mode promises the published selections exactly, which holds only if
# deflate emits the bytes stock zlib (madler/zlib, 1.2.x and 1.3.x) emits.
# zlib-ng, Fedora's default zlib since 40, does not promise that (zlib-ng
# issue 795).  So the zlib in use is identified by what it makes of a fixed
# input, not by its version string: Python's zlib by the bytes (their
# SHA-256), the native extension's by the sizes it measures.
_STOCK_ZLIB = {   # level: (length, SHA-256) of stock zlib.compress(_zlib_probe(), level)
    1: (30936, "4b3aecd3e51c0a129fd4b18cb88ae1348a9ca6163b76e294af48c36ae57b212e"),
    6: (26816, "294869635e33331ddb2ab54e6271ede33fbd44768ebb620c187ebd2e3b3bf618"),
    9: (26366, "7e11001c930d743fcbecfc581b5013bdc05fd488d6305e7731f7925f691ccd8a"),
}
#: Set to 1 to let compat mode run on a zlib whose output differs from stock zlib's.
ANY_ZLIB_ENV = "FASTZIP_ANY_ZLIB"


def _zlib_probe() -> bytes:
    """A fixed input with the repeats and near-repeats that make deflate implementations differ."""
    return b"".join(b"%d: the quick brown fox %d jumps over the lazy dog %x; " % (i, i * i % 977, i * 7919 % 65521)
                    + (b"\n" if i % 7 == 0 else b"") for i in range(3000))


def _python_deflate(data: bytes, level: int) -> bytes:
    return zlib.compress(data, level)


def _stream_size(data: bytes, level: int) -> int:
    """The size the zlib stream select() uses (native, or the fallback) measures for ``data`` alone."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    sizes = new_stream("zlib", level).measure(buffer, np.array([0, len(data)], dtype=np.int64))
    return int(sizes[0])


def zlib_identity() -> dict[str, Any]:
    """Which zlib is in use, told by its output on a fixed input rather than by its version string.

    Returns
    -------
    dict
        ``{"name": "stock zlib" | "zlib-ng" | "a zlib that differs from stock zlib",
        "stock": bool, "python": {"version": str, "stock": bool}, "engine":
        {"backend": "native"|"fallback", "version": str, "stock": bool}}``.
        ``stock`` is True when both Python's zlib (the published reference's)
        and the engine's (compat mode's) deflate exactly as stock zlib does.
    """
    probe = _zlib_probe()
    python_stock = all(hashlib.sha256(_python_deflate(probe, level)).hexdigest() == digest
                       for level, (_, digest) in _STOCK_ZLIB.items())
    native = uses_native("zlib")
    engine_stock = all(_stream_size(probe, level) == length for level, (length, _) in _STOCK_ZLIB.items())
    version = ".".join(map(str, _native.codec_version("zlib"))) if native else zlib.ZLIB_RUNTIME_VERSION
    stock = python_stock and engine_stock
    ng = "ng" in zlib.ZLIB_RUNTIME_VERSION.lower() or "ng" in version.lower()
    name = "stock zlib" if stock else "zlib-ng" if ng else "a zlib that differs from stock zlib"
    return {"name": name, "stock": stock,
            "python": {"version": zlib.ZLIB_RUNTIME_VERSION, "stock": python_stock},
            "engine": {"backend": "native" if native else "fallback", "version": version, "stock": engine_stock}}


def check_compat_zlib(allow_any: bool = False) -> None:
    """Refuse compat mode on a zlib whose output differs from stock zlib's (its exactness would not hold).

    Parameters
    ----------
    allow_any : bool, optional
        Accept any zlib (as does the environment variable ``FASTZIP_ANY_ZLIB=1``).

    Raises
    ------
    fastzip.errors.UsageError
        The zlib in use deflates differently from stock zlib.
    """
    if allow_any or os.environ.get(ANY_ZLIB_ENV, "") not in ("", "0"):
        return
    who = zlib_identity()
    if not who["stock"]:
        versions = f"Python's {who['python']['version']}, the engine's {who['engine']['version']}"
        raise UsageError(f"compat mode reproduces the published selections only with stock zlib, and this one "
                         f"({who['name']}: {versions}) deflates differently; install stock zlib, or accept "
                         f"different selections with --any-zlib or {ANY_ZLIB_ENV}=1")


def build_info() -> dict[str, Any]:
    """What this installation computes natively.

    Returns
    -------
    dict
        ``{"native_extension": bool, "openmp": bool, "force_fallback": bool,
        "codecs": {codec: {"native": bool, "active": "native"|"fallback",
        "library": "x.y.z"}}, "native_only_codecs": {codec: {"native": bool,
        "active": "native"|"unavailable", "library": "x.y.z", "note": str}},
        "custom_codecs": [...]}``.  ``codecs`` lists the codecs that have a
        PyPI binding; ``native_only_codecs`` those that do not (``lz77``);
        ``default_select_codec`` is default mode's codec, its level and
        whether it can run here (``{"codec": "lz77", "level": 2,
        "available": bool}``; where it cannot, default mode needs a codec);
        ``native_import_error`` is added when the extension failed to load.
    """
    codecs: dict[str, dict[str, Any]] = {}
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
    only: dict[str, dict[str, Any]] = {}
    for codec in NATIVE_ONLY_CODECS:
        native = native_available(codec)
        only[codec] = {
            "native": native,
            "active": "native" if native and not force_fallback() else "unavailable",
            "library": ".".join(map(str, _native.codec_version(codec))) if native else None,
            "note": "native only: no PyPI binding; unavailable without the native extension "
                    "or under FASTZIP_FORCE_FALLBACK",
        }
    info: dict[str, Any] = {
        "native_extension": _native is not None,
        "openmp": bool(_native is not None and _native.have_openmp()),
        "force_fallback": force_fallback(),
        "codecs": codecs,
        "native_only_codecs": only,
        "default_select_codec": {"codec": DEFAULT_SELECT_CODEC, "level": DEFAULT_LEVELS[DEFAULT_SELECT_CODEC],
                                 "available": not native_only(DEFAULT_SELECT_CODEC)
                                 or uses_native(DEFAULT_SELECT_CODEC)},
        "custom_codecs": sorted(_CUSTOM),
        "zlib": zlib_identity(),
    }
    if _NATIVE_IMPORT_ERROR:
        info["native_import_error"] = _NATIVE_IMPORT_ERROR
    return info


def _binding_version(codec: str) -> str | None:
    try:
        if codec == "zlib":
            return zlib.ZLIB_RUNTIME_VERSION
        if codec == "zstd":
            return ".".join(map(str, zstandard.ZSTD_VERSION))
        return str(lz4.library_version_string())
    except ImportError:
        return None
