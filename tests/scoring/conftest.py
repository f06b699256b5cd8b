"""Fixtures of the scoring tests: clustered embeddings from a fixed random generator."""
from __future__ import annotations

import pytest

from tests.scoring.helpers import clustered_embeddings


@pytest.fixture(scope="module")
def emb():
    return clustered_embeddings(400, 64)
