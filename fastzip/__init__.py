"""fastzip: fast, exact ZIP data selection and the entropy law.

The heavy pieces load on first use, so ``import fastzip`` stays cheap and
``fastzip.law`` / ``fastzip.scoring`` work even where the native extension
has not been built yet.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "IncrementalCompressor": "fastzip.streams.compressor",
    "compression_ratio": "fastzip.streams.compressor",
    "compressed_sizes": "fastzip.streams.sizes",
    "pair_sizes": "fastzip.streams.sizes",
    "build_info": "fastzip.streams.codecs",
    "register_codec": "fastzip.streams.codecs",
    "unregister_codec": "fastzip.streams.codecs",
    "pack": "fastzip.samples.pool",
    "select": "fastzip.selection.api",
    "SelectionResult": "fastzip.selection.result",
    "RoundTrace": "fastzip.selection.trace",
    "FastzipError": "fastzip.errors",
    "InputError": "fastzip.errors",
    "UsageError": "fastzip.errors",
    "OutputError": "fastzip.errors",
    "MissingDependencyError": "fastzip.errors",
}
# the subpackages, bottom layer first (each imports only from those before it; see pyproject.toml)
_SUBMODULES = ("errors", "samples", "streams", "io", "selection", "scale", "law", "scoring", "benchmarks", "proxy",
               "cli")

__all__ = sorted(_LAZY) + sorted(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"fastzip.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'fastzip' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
