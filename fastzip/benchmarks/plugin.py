"""fastzip's pytest plugin: options and fixtures for benchmarking compressors on your data.

Loaded in every pytest session where fastzip is installed (the ``pytest11``
entry point, named like this module, so ``-p no:fastzip.benchmarks.plugin``
turns it off), so importing it costs nothing: a corpus is read only when
named on the command line or when a test asks for it.

Options
-------
``--fastzip-corpus PATH``
    A JSON list, JSONL (``.jsonl``, ``.ndjson``) or Parquet file; repeat it
    for several corpora.  Default: the bundled sample pool (481 Perl and
    Python FAQ pairs).
``--fastzip-text-field FIELD``
    Read this field of each record (else the ``text`` serializer's rules).
``--fastzip-format {json,jsonl,parquet}``
    For a corpus whose name does not say its format.
``--fastzip-codecs LIST``
    Only these codecs: ``zstd-5,zlib,brotli`` (``CODEC-LEVEL``, a built-in
    codec's benchmark levels, or a registered codec).  Codecs registered
    with :func:`fastzip.register_codec` in a module loaded with ``-p`` or in
    the top-level ``conftest.py`` join the matrix.
``--fastzip-threads N``
    Threads for ``marginal_sizes`` and ``select`` (default 1).

Fixtures
--------
``fastzip_corpora`` (session)
    Every corpus, as :class:`fastzip.benchmarks.corpus.Corpus`.
``fastzip_corpus`` (session)
    One corpus; tests that use it run once per corpus.
``fastzip_codec_matrix`` (session)
    The codecs to benchmark, as :class:`fastzip.benchmarks.matrix.CodecSpec`.
``fastzip_codec``
    One codec of the matrix; tests that use it run once per codec.  The
    stdlib examples (bz2, lzma) are registered while they run.
``fastzip_example_codecs`` (session)
    Registers bz2 and lzma with :func:`fastzip.register_codec`.
``fastzip_quality_size``
    With ``fastzip_corpus`` and ``fastzip_codec``: the size of the selection
    pool (``corpus.quality_pool(size)``); built-in codecs run on two pools,
    registered ones on the small one.
``fastzip_threads`` (session)
    ``--fastzip-threads``.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .corpus import Corpus
    from .matrix import CodecSpec

_CORPORA = pytest.StashKey["list[Corpus]"]()
_MATRIX = pytest.StashKey["list[CodecSpec]"]()
_REPORT = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--fastzip-*`` options (see the module docstring).

    Parameters
    ----------
    parser : pytest.Parser
        pytest's command-line parser.
    """
    group = parser.getgroup("fastzip", "fastzip benchmarks (pytest --pyargs fastzip.benchmarks)")
    group.addoption("--fastzip-corpus", action="append", metavar="PATH", default=None,
                    help="JSON list, JSONL or Parquet file to benchmark on (repeatable); "
                         "default: fastzip's bundled sample pool")
    group.addoption("--fastzip-text-field", metavar="FIELD", default=None,
                    help="read this field of each record as the sample's text")
    group.addoption("--fastzip-format", choices=["json", "jsonl", "parquet"], default=None,
                    help="the corpus's format, when its name does not say it")
    group.addoption("--fastzip-codecs", metavar="LIST", default=None,
                    help="comma-separated codecs to benchmark: CODEC-LEVEL (zstd-5), a built-in codec "
                         "(its benchmark levels) or a registered codec; default: all of them")
    group.addoption("--fastzip-threads", type=int, metavar="N", default=1,
                    help="threads for marginal_sizes and select (default 1)")


def pytest_configure(config: pytest.Config) -> None:
    """Read the corpora the user named now, so a bad file stops the run with one line.

    Parameters
    ----------
    config : pytest.Config
        The session's configuration.

    Raises
    ------
    pytest.UsageError
        ``--fastzip-threads`` below 1, or a corpus that cannot be read.
    """
    if config.getoption("--fastzip-threads") < 1:
        raise pytest.UsageError("--fastzip-threads must be at least 1")
    if config.getoption("--fastzip-corpus"):
        _corpora(config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    """Check ``--fastzip-codecs`` before collecting, once the ``-p`` modules and first conftests registered theirs.

    Parameters
    ----------
    session : pytest.Session
        The test session.

    Raises
    ------
    pytest.UsageError
        A codec that is neither built in nor registered.
    """
    if session.config.getoption("--fastzip-codecs") is not None:
        _matrix(session.config)


def _usage_error(exc: Exception) -> pytest.UsageError:
    return pytest.UsageError(str(exc).replace("--format", "--fastzip-format"))


def _corpora(config: pytest.Config) -> list[Corpus]:
    """The corpora, read once per session."""
    if _CORPORA not in config.stash:
        # lazy: this plugin loads in every pytest session (module docstring)
        from ..errors import FastzipError
        from ..io import bundled_sample_path
        from .corpus import Corpus

        paths = config.getoption("--fastzip-corpus") or [bundled_sample_path()]
        field, fmt = config.getoption("--fastzip-text-field"), config.getoption("--fastzip-format")
        if "-" in paths:
            raise pytest.UsageError("--fastzip-corpus needs a file: pytest keeps standard input to itself")
        corpora = []
        try:
            for path in paths:
                corpora.append(Corpus.read(path, text_field=field, format=fmt))
        except FastzipError as exc:
            raise _usage_error(exc) from None
        names = [c.name for c in corpora]
        for k, corpus in enumerate(corpora):       # two files with one name: number them
            if names.count(corpus.name) > 1:
                corpus.name = f"{corpus.name}-{k}"
        config.stash[_CORPORA] = corpora
    return config.stash[_CORPORA]


def _matrix(config: pytest.Config) -> list[CodecSpec]:
    if _MATRIX not in config.stash:
        # lazy: this plugin loads in every pytest session (module docstring)
        from ..errors import FastzipError
        from .matrix import codec_matrix

        try:
            config.stash[_MATRIX] = codec_matrix(config.getoption("--fastzip-codecs"))
        except FastzipError as exc:
            raise _usage_error(exc) from None
    return config.stash[_MATRIX]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test once per corpus, codec (and selection pool size) when it asks for them.

    Parameters
    ----------
    metafunc : pytest.Metafunc
        The test function being collected.

    Raises
    ------
    pytest.UsageError
        ``fastzip_quality_size`` without ``fastzip_corpus`` and ``fastzip_codec``.
    """
    names = metafunc.fixturenames
    wants_corpus, wants_codec = "fastzip_corpus" in names, "fastzip_codec" in names
    if not (wants_corpus or wants_codec):
        return
    config = metafunc.config
    corpora = _corpora(config) if wants_corpus else []
    matrix = _matrix(config) if wants_codec else []
    if "fastzip_quality_size" in names:
        if not (wants_corpus and wants_codec):
            raise pytest.UsageError("fastzip_quality_size needs the fastzip_corpus and fastzip_codec fixtures")
        cases, ids = [], []
        for k, corpus in enumerate(corpora):
            for size in dict.fromkeys(corpus.quality_sizes(False) + corpus.quality_sizes(True)):
                for spec in matrix:
                    if size in corpus.quality_sizes(spec.registered):
                        cases.append((k, size, spec))
                        ids.append(f"{corpus.name}-{size}-{spec.label}")
        metafunc.parametrize(["fastzip_corpus", "fastzip_quality_size", "fastzip_codec"], cases, ids=ids,
                             indirect=["fastzip_corpus", "fastzip_codec"])
        return
    if wants_corpus:
        metafunc.parametrize("fastzip_corpus", range(len(corpora)), ids=[c.name for c in corpora],
                             indirect=True, scope="session")
    if wants_codec:
        metafunc.parametrize("fastzip_codec", matrix, ids=[s.label for s in matrix], indirect=True)


@pytest.fixture(scope="session")
def fastzip_corpora(pytestconfig: pytest.Config) -> list[Corpus]:
    """Every corpus of the session (``--fastzip-corpus``, else the bundled sample pool)."""
    pytestconfig.stash[_REPORT] = True
    return _corpora(pytestconfig)


@pytest.fixture(scope="session")
def fastzip_corpus(request: pytest.FixtureRequest, fastzip_corpora: list[Corpus]) -> Corpus:
    """One corpus (tests that use it run once per corpus); the first when not parametrized."""
    index: int = getattr(request, "param", 0)
    return fastzip_corpora[index]


@pytest.fixture(scope="session")
def fastzip_example_codecs() -> Iterator[list[str]]:
    """bz2 and lzma registered as fastzip codecs for the session (a user's own registration wins)."""
    # lazy: this plugin loads in every pytest session (module docstring)
    from .matrix import example_codecs_registered

    with example_codecs_registered() as names:
        yield names


@pytest.fixture(scope="session")
def fastzip_codec_matrix(pytestconfig: pytest.Config, fastzip_example_codecs: list[str]) -> list[CodecSpec]:
    """Every codec to benchmark (``--fastzip-codecs``, else the whole matrix)."""
    pytestconfig.stash[_REPORT] = True
    return _matrix(pytestconfig)


@pytest.fixture
def fastzip_codec(request: pytest.FixtureRequest, fastzip_codec_matrix: list[CodecSpec]) -> CodecSpec:
    """One codec of the matrix (tests that use it run once per codec); the first when not parametrized."""
    spec: CodecSpec = getattr(request, "param", fastzip_codec_matrix[0])
    return spec


@pytest.fixture(scope="session")
def fastzip_threads(pytestconfig: pytest.Config) -> int:
    """Threads for ``marginal_sizes`` and ``select`` (``--fastzip-threads``, default 1)."""
    return int(pytestconfig.getoption("--fastzip-threads"))


def enable_json_block(config: pytest.Config) -> None:
    """Have ``--benchmark-json`` carry fastzip's build and corpora (the repository's bench/ calls this).

    Parameters
    ----------
    config : pytest.Config
        The session's configuration.
    """
    config.stash[_REPORT] = True


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(config: pytest.Config, benchmarks: list[Any], output_json: dict[str, Any]) -> None:
    """Add the fastzip version, its build (native or fallback, per codec) and the corpora to the JSON.

    Only in sessions that used fastzip's fixtures (or called
    :func:`enable_json_block`): another project's JSON is left alone.

    Parameters
    ----------
    config : pytest.Config
        The session's configuration.
    benchmarks : list
        pytest-benchmark's results (unused).
    output_json : dict
        The JSON document; it gains the key :data:`~fastzip.benchmarks.results.JSON_KEY`.
    """
    if not config.stash.get(_REPORT, False):
        return                                  # another project's benchmarks: leave its JSON alone
    # lazy: this plugin loads in every pytest session (module docstring)
    from .. import __version__
    from ..streams.codecs import build_info
    from .results import JSON_KEY

    block: dict[str, Any] = {"version": __version__, "build": build_info(),
                             "threads": config.getoption("--fastzip-threads")}
    if _CORPORA in config.stash:
        block["corpora"] = [c.describe() for c in config.stash[_CORPORA]]
    if _MATRIX in config.stash:
        block["codecs"] = [s.label for s in config.stash[_MATRIX]]
    output_json[JSON_KEY] = block
