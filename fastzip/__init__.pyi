"""Type stubs for the lazily loaded top-level names of fastzip."""
from . import codecs as codecs
from . import compressor as compressor
from . import errors as errors
from . import io as io
from . import law as law
from . import pool as pool
from . import ray as ray
from . import scale as scale
from . import scoring as scoring
from . import selection as selection
from . import serialize as serialize
from . import shards as shards
from . import sizes as sizes
from .codecs import build_info as build_info
from .codecs import register_codec as register_codec
from .codecs import unregister_codec as unregister_codec
from .compressor import IncrementalCompressor as IncrementalCompressor
from .compressor import compression_ratio as compression_ratio
from .errors import FastzipError as FastzipError
from .errors import InputError as InputError
from .errors import MissingDependencyError as MissingDependencyError
from .errors import OutputError as OutputError
from .errors import UsageError as UsageError
from .pool import pack as pack
from .selection import RoundTrace as RoundTrace
from .selection import SelectionResult as SelectionResult
from .selection import select as select
from .sizes import compressed_sizes as compressed_sizes
from .sizes import pair_sizes as pair_sizes

__version__: str
# as fastzip/__init__.py builds it: sorted(_LAZY) + sorted(_SUBMODULES)
__all__ = [
    "FastzipError", "IncrementalCompressor", "InputError", "MissingDependencyError", "OutputError", "RoundTrace",
    "SelectionResult", "UsageError", "build_info", "compressed_sizes", "compression_ratio", "pack", "pair_sizes",
    "register_codec", "select", "unregister_codec",
    "codecs", "compressor", "errors", "io", "law", "pool", "ray", "scale", "scoring", "selection", "serialize",
    "shards", "sizes",
]
