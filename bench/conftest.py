"""Fixtures for bench_codecs / bench_scaling / bench_quality (the lead's benches do not use them)."""
from __future__ import annotations

import pytest

import corpora
from codec_matrix import register_custom_codecs, unregister_custom_codecs


@pytest.fixture(scope="session")
def sharegpt_pairs_all() -> list:
    """Every ShareGPT human/gpt pair (about 61k), or skip when the package is missing."""
    pairs = corpora.sharegpt_pairs(None)
    if pairs is None:
        pytest.skip(f"ShareGPT is not installed: {corpora.SHAREGPT_INSTALL}")
    return pairs


@pytest.fixture(scope="session")
def custom_codecs():
    """bz2 and lzma registered as fastzip codecs for the session."""
    register_custom_codecs()
    yield
    unregister_custom_codecs()
