"""Fixtures for the repository's benchmarks, on top of fastzip's pytest plugin (fastzip.benchmarks).

The plugin gives the codec matrix (``fastzip_codec``, ``fastzip_example_codecs``),
the options (``--fastzip-codecs``, ``--fastzip-threads``) and the ``fastzip``
block of ``--benchmark-json``; this file adds the repository's own corpora.
"""
from __future__ import annotations

import corpora
import pytest

# an installed fastzip loads the plugin through its pytest11 entry point (same name: loaded once);
# this line covers a tree built in place
pytest_plugins = ["fastzip.benchmarks.plugin"]


def pytest_configure(config: pytest.Config) -> None:
    from fastzip.benchmarks.plugin import enable_json_block  # after pytest_plugins: assertions rewritten

    enable_json_block(config)
    config.addinivalue_line("markers", "reads_results: reads what other benchmarks recorded in bench_results; "
                                       "runs after every other test")


@pytest.fixture(scope="session")
def sharegpt_pairs_all() -> list:
    """Every ShareGPT human/gpt pair (about 61k), or skip when the package is missing."""
    pairs = corpora.sharegpt_pairs(None)
    if pairs is None:
        pytest.skip(f"ShareGPT is not installed: {corpora.SHAREGPT_INSTALL}")
    return pairs


@pytest.fixture(scope="session")
def custom_codecs(fastzip_example_codecs):
    """bz2 and lzma registered as fastzip codecs for the session (the plugin's fixture)."""
    return fastzip_example_codecs


@pytest.fixture(scope="session", params=corpora.THROUGHPUT_CORPORA)
def repo_corpus(request):
    """One of the repository's corpora as a plugin corpus, or skip when its package is missing."""
    return corpora.corpus_or_skip(request.param)


class BenchResults:
    """What the benchmarks of this session measured, for the checks that compare them.

    The ``bench_results`` fixture (one per session).  A benchmark records its
    figures under a section and a key; a check reads them with :meth:`need`,
    which skips naming what is missing and which benchmark makes it, or with
    :meth:`get_or_compute`, which computes a missing (untimed) result itself.
    A check that reads recorded figures carries the ``reads_results`` marker,
    which runs it after every other test of the session.
    """

    def __init__(self) -> None:
        self._sections: dict[str, dict] = {}

    def record(self, section: str, key, value) -> None:
        """Keep ``value`` under ``section`` and ``key`` (a later record of the same key replaces it)."""
        self._sections.setdefault(section, {})[key] = value

    def get(self, section: str, key, default=None):
        """The value recorded under ``section`` and ``key``, or ``default``."""
        return self._sections.get(section, {}).get(key, default)

    def section(self, section: str) -> dict:
        """A copy of everything recorded under ``section`` (empty when nothing was)."""
        return dict(self._sections.get(section, {}))

    def need(self, section: str, keys, made_by: str) -> dict:
        """The values of ``keys`` under ``section``; skip, naming the missing keys, unless all were recorded."""
        have = self._sections.get(section, {})
        missing = [key for key in keys if key not in have]
        if missing:
            pytest.skip(f"needs {section} results {missing} from {made_by} in the same run "
                        "(deselected, skipped, or run alone)")
        return {key: have[key] for key in keys}

    def get_or_compute(self, section: str, key, compute):
        """The value under ``section`` and ``key``; computed with ``compute()`` and recorded when missing."""
        values = self._sections.setdefault(section, {})
        if key not in values:
            values[key] = compute()
        return values[key]


@pytest.fixture(scope="session")
def bench_results() -> BenchResults:
    """The session's :class:`BenchResults`: benchmarks record in it, target checks read it."""
    return BenchResults()


@pytest.fixture
def timed_target(request, benchmark):
    """For a check of timings: kept by ``--benchmark-only`` (it takes ``benchmark``), skipped when timings are off."""
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    if request.config.getoption("benchmark_disable", False):
        pytest.skip("timings are off (--benchmark-disable)")
    return benchmark


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``reads_results`` run last, after the benchmarks whose figures they read, in any order given."""
    readers = [item for item in items if item.get_closest_marker("reads_results")]
    if readers:
        items[:] = [item for item in items if not item.get_closest_marker("reads_results")] + readers
