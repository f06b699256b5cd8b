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
