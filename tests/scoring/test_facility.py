"""fastzip.scoring.facility_location_greedy against a naive facility-location greedy written here."""
from __future__ import annotations

import numpy as np
import pytest

from fastzip import scoring
from tests.scoring.helpers import clustered_embeddings, unit


def naive_facility(x, k):
    sim = np.maximum(unit(x) @ unit(x).T, 0)
    cover = np.zeros(len(x))
    picks, gains = [], []
    for _ in range(k):
        g = np.maximum(sim - cover[:, None], 0).sum(axis=0)
        g[picks] = -np.inf
        j = int(np.argmax(g))
        picks.append(j)
        gains.append(g[j])
        cover = np.maximum(cover, sim[:, j])
    return np.array(picks), np.array(gains)


@pytest.mark.parametrize("cache_bytes", [0, 1 << 30])
def test_facility_location_matches_naive_greedy(cache_bytes):
    x = clustered_embeddings(600, 40, n_clusters=15, seed=13, spread=0.7)
    got, gains = scoring.facility_location_greedy(x, 30, dtype=np.float64, return_gains=True,
                                                  similarity_cache_bytes=cache_bytes,
                                                  device="cpu")
    want, want_gains = naive_facility(x, 30)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(gains, want_gains, rtol=1e-9)
    assert np.all(np.diff(gains) <= 1e-9)


def test_facility_location_float32_and_errors(emb):
    got = scoring.facility_location_greedy(emb, 10, device="cpu")
    want, _ = naive_facility(emb, 10)
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="more than the number of samples"):
        scoring.facility_location_greedy(emb, 401, device="cpu")
    with pytest.raises(ValueError, match="k must be >= 1"):
        scoring.facility_location_greedy(emb, -1, device="cpu")
    with pytest.raises(ValueError, match="similarity_cache_bytes"):
        scoring.facility_location_greedy(emb, 3, similarity_cache_bytes=-1, device="cpu")
