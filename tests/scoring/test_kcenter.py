"""fastzip.scoring.kcenter_greedy against a naive k-center greedy written here."""
from __future__ import annotations

import numpy as np
import pytest

from fastzip import scoring
from fastzip.scoring import _embeddings
from tests.scoring.helpers import clustered_embeddings, unit


def naive_distances(x, metric):
    if metric == "cosine":
        u = unit(x)
        return 1.0 - u @ u.T
    x = np.asarray(x, dtype=np.float64)
    return np.sqrt(np.maximum(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1), 0))


def naive_kcenter(x, k, metric, initial=()):
    dist = naive_distances(x, metric)
    chosen = list(initial)
    if chosen:
        min_d = dist[:, chosen].min(axis=1)
    else:
        # Documented first pick: farthest from the mean of the (normalized) rows.
        pts = unit(x) if metric == "cosine" else np.asarray(x, dtype=np.float64)
        first = int(np.argmax(((pts - pts.mean(axis=0)) ** 2).sum(1)))
        chosen, min_d = [first], dist[:, first].copy()
    picks = chosen[len(initial):]
    radii = [min_d.max()] if not initial else []
    while len(picks) < k:
        masked = min_d.copy()
        masked[chosen] = -np.inf
        j = int(np.argmax(masked))
        picks.append(j)
        chosen.append(j)
        min_d = np.minimum(min_d, dist[:, j])
        radii.append(min_d.max())
    return np.array(picks), np.array(radii)


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_kcenter_matches_naive(emb, metric):
    got, radii = scoring.kcenter_greedy(emb, 25, metric=metric, dtype=np.float64,
                                        return_radii=True, device="cpu")
    want, want_radii = naive_kcenter(emb, 25, metric)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(radii, want_radii, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_kcenter_with_initial_matches_naive(emb, metric, monkeypatch):
    monkeypatch.setattr(_embeddings, "BLOCK_ELEMENTS", 400 * 2)   # two initial centres a block
    initial = [5, 17, 300]
    got = scoring.kcenter_greedy(emb, 15, initial=initial, metric=metric, dtype=np.float64,
                                 device="cpu")
    want, _ = naive_kcenter(emb, 15, metric, initial=initial)
    np.testing.assert_array_equal(got, want)
    assert not set(got.tolist()) & set(initial)


def test_kcenter_float32_radius_never_increases_and_is_true_radius():
    x = clustered_embeddings(3000, 96, seed=4)
    picks, radii = scoring.kcenter_greedy(x, 60, metric="l2", return_radii=True, device="cpu")
    assert picks.dtype == np.int64 and len(set(picks.tolist())) == 60
    assert np.all(np.diff(radii) <= 1e-5 * radii[0])
    xd = x.astype(np.float64)
    true_r = np.sqrt(((xd[:, None, :] - xd[None, picks, :]) ** 2).sum(-1)).min(1).max()
    assert radii[-1] == pytest.approx(true_r, rel=1e-4)


def test_kcenter_duplicates_and_ties_pick_lowest_index():
    x = np.repeat(np.eye(3, dtype=np.float32), 2, axis=0)   # rows 0=1, 2=3, 4=5
    picks = scoring.kcenter_greedy(x, 6, metric="l2", device="cpu")
    assert sorted(picks.tolist()) == list(range(6))
    assert picks[:3].tolist() == [0, 2, 4]                  # every tie goes to the lowest index


@pytest.mark.parametrize("kwargs,match", [
    (dict(k=0), "k must be >= 1"),
    (dict(k=401), "more than the 400 points"),
    (dict(k=398, initial=[1, 2, 3]), "more than the 397 points"),
    (dict(k=3, metric="manhattan"), "metric must be one of"),
    (dict(k=3, initial=[400]), "outside \\[0, 400\\)"),
    (dict(k=3, dtype=np.float16), "dtype must be float32 or float64"),
    (dict(k=2.5), "must be an integer"),
])
def test_kcenter_bad_arguments(emb, kwargs, match):
    with pytest.raises(ValueError, match=match):
        scoring.kcenter_greedy(emb, device="cpu", **kwargs)
