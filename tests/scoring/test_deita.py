"""fastzip.scoring.deita_filter against a naive DEITA filter written here."""
from __future__ import annotations

import numpy as np
import pytest

from fastzip import scoring
from fastzip.scoring import _embeddings
from tests.scoring.helpers import clustered_embeddings, unit


def naive_deita(x, order, threshold, budget=None):
    u = unit(x)
    kept = []
    for i in order:
        if not kept or (u[kept] @ u[i]).max() <= threshold:
            kept.append(int(i))
            if budget is not None and len(kept) == budget:
                break
    return np.array(kept)


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.95])
def test_deita_matches_naive_and_keeps_similarity_below_threshold(threshold):
    x = clustered_embeddings(1500, 48, n_clusters=40, seed=9, spread=0.6)
    order = np.random.default_rng(5).permutation(1500)
    got = scoring.deita_filter(x, order, threshold, dtype=np.float64, device="cpu")
    np.testing.assert_array_equal(got, naive_deita(x, order, threshold))
    got32 = scoring.deita_filter(x, order, threshold, device="cpu")
    sims = unit(x[got32]) @ unit(x[got32]).T
    np.fill_diagonal(sims, -1)
    assert sims.max() <= threshold + 1e-6
    # every rejected sample is too close to a kept one that came before it
    rank = np.empty(1500, int)
    rank[order] = np.arange(1500)
    rejected = np.setdiff1d(order, got32)
    close = unit(x[rejected]) @ unit(x[got32]).T > threshold - 1e-6
    earlier = rank[got32][None, :] < rank[rejected][:, None]
    assert (close & earlier).any(axis=1).all()


def test_deita_budget_and_subset_order(monkeypatch):
    from fastzip.scoring import deita

    monkeypatch.setattr(deita, "CANDIDATE_BLOCK", 16)            # many candidate blocks,
    monkeypatch.setattr(_embeddings, "BLOCK_ELEMENTS", 16 * 10)  # 10 kept rows a product
    x = clustered_embeddings(2000, 32, n_clusters=60, seed=11, spread=0.8)
    order = np.arange(1999, -1, -3)
    got = scoring.deita_filter(x, order, 0.7, budget=37, dtype=np.float64, device="cpu")
    np.testing.assert_array_equal(got, naive_deita(x, order, 0.7, budget=37))
    assert got.size == 37 and set(got.tolist()) <= set(order.tolist())


@pytest.mark.parametrize("kwargs,match", [
    (dict(threshold=1.5), "in \\[-1, 1\\]"),
    (dict(threshold=-1.01), "in \\[-1, 1\\]"),
    (dict(budget=0), "budget must be >= 1"),
    (dict(order=[1, 2, 1]), "repeated"),
    (dict(order=[]), "order is empty"),
    (dict(order=[[0, 1]]), "1-D"),
])
def test_deita_bad_arguments(emb, kwargs, match):
    with pytest.raises(ValueError, match=match):
        scoring.deita_filter(emb, device="cpu", **kwargs)
