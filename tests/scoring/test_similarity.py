"""fastzip.scoring.max_similarity against full cosine-similarity matrices."""
from __future__ import annotations

import numpy as np
import pytest

from fastzip import scoring
from fastzip.scoring import _embeddings
from tests.scoring.helpers import unit


def test_max_similarity_indices_and_reference_array(emb, monkeypatch):
    from fastzip.scoring import similarity

    monkeypatch.setattr(similarity, "ROW_BLOCK", 64)        # exercise the tiling:
    monkeypatch.setattr(_embeddings, "BLOCK_ELEMENTS", 64 * 2)   # 64 rows x 2 columns
    sel = [3, 99, 250, 251, 399]
    sims, where = scoring.max_similarity(emb, sel, return_index=True, dtype=np.float64,
                                         device="cpu")
    full = unit(emb) @ unit(emb[sel]).T
    np.testing.assert_allclose(sims, full.max(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(where, full.argmax(axis=1))
    np.testing.assert_allclose(sims[sel], 1.0, rtol=1e-12)
    ref = np.random.default_rng(3).standard_normal((70, 64))
    got = scoring.max_similarity(emb, ref, device="cpu")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, (unit(emb) @ unit(ref).T).max(axis=1), atol=1e-5)
    with pytest.raises(ValueError, match="dimension"):
        scoring.max_similarity(emb, ref[:, :10], device="cpu")
    with pytest.raises(ValueError, match="selected is empty"):
        scoring.max_similarity(emb, [], device="cpu")
