"""Type stubs for the lazily loaded top-level names of fastzip."""
from . import benchmarks as benchmarks
from . import cli as cli
from . import errors as errors
from . import io as io
from . import law as law
from . import proxy as proxy
from . import samples as samples
from . import scale as scale
from . import scoring as scoring
from . import selection as selection
from . import streams as streams
from .errors import FastzipError as FastzipError
from .errors import InputError as InputError
from .errors import MissingDependencyError as MissingDependencyError
from .errors import OutputError as OutputError
from .errors import UsageError as UsageError
from .samples.pool import pack as pack
from .selection.api import select as select
from .selection.result import SelectionResult as SelectionResult
from .selection.trace import RoundTrace as RoundTrace
from .streams.codecs import build_info as build_info
from .streams.codecs import register_codec as register_codec
from .streams.codecs import unregister_codec as unregister_codec
from .streams.compressor import IncrementalCompressor as IncrementalCompressor
from .streams.compressor import compression_ratio as compression_ratio
from .streams.sizes import compressed_sizes as compressed_sizes
from .streams.sizes import pair_sizes as pair_sizes

__version__: str
# as fastzip/__init__.py builds it: sorted(_LAZY) + sorted(_SUBMODULES)
__all__ = [
    "FastzipError", "IncrementalCompressor", "InputError", "MissingDependencyError", "OutputError", "RoundTrace",
    "SelectionResult", "UsageError", "build_info", "compressed_sizes", "compression_ratio", "pack", "pair_sizes",
    "register_codec", "select", "unregister_codec",
    "benchmarks", "cli", "errors", "io", "law", "proxy", "samples", "scale", "scoring", "selection", "streams",
]
