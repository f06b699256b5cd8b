"""Stage 1 in O(K1 log K1) a round gives exactly the order of the O(N) partition it replaced."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastzip
from fastzip.samples.pool import Pool
from fastzip.selection.config import RunConfig
from fastzip.selection.greedy import LAZY_BATCH, Frontier, _key_order, _RoundView, _stage3, stable_lowest
from fastzip.streams.compressor import IncrementalCompressor
from tests.helpers import load_jsonl

EVALS = load_jsonl("openai_evals_5k.jsonl")[:350]


def old_stage1(pi, available, costs, room, k1):
    """Today's stage 1 before the change: a partition over every eligible sample."""
    eligible = available & (costs <= room)
    pool_ids = np.flatnonzero(eligible)
    return pool_ids[stable_lowest(pi[pool_ids], min(k1, len(pool_ids)))]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**60)), unique_by=lambda t: t[1], max_size=80),
       st.integers(1, 4), st.integers(0, 90), st.booleans())
def test_key_order_is_lexsort_on_sorted_runs_with_ties(entries, n_runs, k, whole):
    """The k lowest (score, id) of a few sorted runs, ties across runs included, are exactly lexsort's."""
    scores = np.asarray([float(s) for s, _ in entries], dtype=np.float64)
    ids = np.asarray([i for _, i in entries], dtype=np.int64)
    runs = [np.lexsort((ids[part], scores[part])) + part[0] if len(part) else part
            for part in np.array_split(np.arange(len(ids)), n_runs)]
    order = np.concatenate(runs).astype(np.int64) if runs else np.zeros(0, np.int64)
    s, i = scores[order], ids[order]
    expected = np.lexsort((i, s))
    got = _key_order(s, i) if whole else _key_order(s, i, k)
    assert got.tolist() == (expected if whole else expected[:k]).tolist()


@st.composite
def rounds(draw):
    """A pool of scores with many ties, and per round: re-scores (tied too), picks and a shrinking room."""
    n = draw(st.integers(1, 60))
    levels = draw(st.lists(st.floats(0.5, 4.0, allow_nan=False), min_size=1, max_size=4))
    scores = np.asarray(draw(st.lists(st.sampled_from(levels), min_size=n, max_size=n)))
    costs = np.asarray(draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)), dtype=np.int64)
    skip = np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    k1 = draw(st.integers(1, 12))
    budgeted = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    fraction = draw(st.sampled_from([1.0, 0.5, 0.2, 0.05]))    # small rooms: most samples never fit
    return scores, costs, skip, k1, budgeted, levels, seed, fraction


@settings(max_examples=300, deadline=None)
@given(rounds())
def test_frontier_takes_exactly_what_the_partition_took(case):
    scores, costs, skip, k1, budgeted, levels, seed, fraction = case
    rng = np.random.default_rng(seed)
    pi = scores.copy()
    available = ~skip
    frontier = Frontier(scores, skip)
    room = float(costs.sum()) * fraction if budgeted else np.inf
    for _ in range(40):
        want = old_stage1(pi, available, costs, room, k1)
        got = frontier.lowest(k1, costs if budgeted else None, room)
        assert got.tolist() == want.tolist()
        if len(want) == 0:
            break
        # stage 2 and 3 stand-ins: every taken sample re-scored (ties likely), some picked
        fresh = rng.choice(np.asarray(levels + [0.25, 9.0]), size=len(want))
        pi[want] = fresh
        picked = rng.random(len(want)) < 0.3
        available[want[picked]] = False
        frontier.give_back(want[~picked], fresh[~picked])
        if budgeted:
            room -= float(costs[want[picked]].sum())
        if rng.random() < 0.2:                   # a checkpoint taken and restored mid-run changes nothing
            saved = frontier.state()
            frontier = Frontier(scores, skip)
            frontier.restore(saved)


def old_run_default(pool, config, skip=None):
    """Default mode's engine as it was before stage 1 changed (stage 1 a partition over the pool)."""
    budget, budget_bytes = config.budget, config.budget_bytes
    k1, k2, k3, n_threads = config.k1, config.k2, config.k3, config.n_threads
    n = len(pool)
    lengths = pool.lengths
    alone = IncrementalCompressor(config.codec, config.level)
    pi = lengths / alone.marginal_sizes((pool.data, pool.offsets), n_threads)
    available = np.ones(n, dtype=bool) if skip is None else ~skip
    ic = IncrementalCompressor(config.codec, config.level, separator=config.separator)
    lazy = ic.capabilities.monotone if config.lazy is None else config.lazy
    selected, used = [], 0
    while True:
        room = np.inf if budget_bytes is None else budget_bytes - used
        want = (budget - len(selected)) if budget is not None else k3
        eligible = available & (lengths <= room)
        if want <= 0 or not eligible.any():
            break
        order = old_stage1(pi, available, lengths, room, k1)
        view = _RoundView(ic, pool, n_threads)
        added = view.added(order)
        ratios = view.raw_after(order) / (view.compressed_total + added)
        pi[order] = ratios
        keep = np.argsort(ratios, kind="stable")[:min(k2, len(order))]
        cands = order[keep]
        picks, _, last_added = _stage3(view, cands, added[keep], min(k3, want, len(cands)), room, lazy,
                                       LAZY_BATCH, lengths[cands])
        view.finish()
        if not picks:
            break
        for i in picks:
            available[i] = False
            used += int(lengths[i])
        selected.extend(picks)
        rest = np.isin(cands, picks, invert=True)
        pi[cands[rest]] = ic.raw_after(lengths[cands[rest]]) / (ic.compressed_size + last_added[rest])
        if budget is not None and len(selected) >= budget:
            break
    return selected


@pytest.mark.parametrize("codec,budget,budget_bytes", [("zstd", 120, None), ("lz77", 150, None),
                                                        ("zstd", None, 40_000), ("zlib", 60, None)])
def test_engine_picks_unchanged_on_a_pool_with_ties(evals_rows, codec, budget, budget_bytes):
    """Real samples, each twice or three times (exact score ties), dedupe off: the same picks as before."""
    rows = evals_rows[:300]
    samples = rows + rows[:150] + rows[50:100]
    pool = Pool.from_samples(samples, "text")
    config = RunConfig.from_arguments(compat=None, budget=budget, budget_bytes=budget_bytes, k1=120, k2=40, k3=20,
                                      codec=codec, level=None, serializer="text", n_threads=1, dedupe=False)
    old = old_run_default(pool, config)
    new = fastzip.select(pool, budget, budget_bytes=budget_bytes, k1=120, k2=40, k3=20, codec=codec,
                         dedupe=False, n_threads=1)
    assert new.indices.tolist() == old



@settings(max_examples=15, deadline=None)
@given(start=st.integers(0, 200), size=st.integers(30, 150), repeats=st.integers(1, 3),
       ks=st.tuples(st.integers(5, 80), st.integers(2, 30), st.integers(1, 12)),
       codec=st.sampled_from(["zstd", "lz77", "zlib"]), by_bytes=st.booleans())
def test_engine_equals_todays_engine_on_random_pools_with_ties(start, size, repeats, ks, codec, by_bytes):
    rows = EVALS[start:start + size]
    samples = rows * repeats                           # every sample repeated: exact ties everywhere
    pool = Pool.from_samples(samples, "text")
    k1, k2, k3 = sorted(ks, reverse=True)
    budget = None if by_bytes else max(1, len(samples) // 3)
    budget_bytes = int(pool.lengths.sum() // 4) if by_bytes else None
    if budget_bytes is not None and budget_bytes < pool.lengths.min():
        return
    config = RunConfig.from_arguments(compat=None, budget=budget, budget_bytes=budget_bytes, k1=k1, k2=k2, k3=k3,
                                      codec=codec, level=None, serializer="text", n_threads=1, dedupe=False)
    new = fastzip.select(pool, budget, budget_bytes=budget_bytes, k1=k1, k2=k2, k3=k3, codec=codec,
                         dedupe=False, n_threads=1)
    assert new.indices.tolist() == old_run_default(pool, config)


def test_duplicate_mask_equals_first_occurrences(evals_rows):
    from fastzip.selection.api import _duplicates

    rows = evals_rows[:500]
    pool = Pool.from_samples(rows + rows[100:200] + rows[:50] + rows[:50], "text")
    mask = _duplicates(pool)
    expected = np.ones(len(pool), dtype=bool)
    expected[pool.first_occurrences()] = False
    assert mask.tolist() == expected.tolist() and mask.sum() >= 200


def test_duplicate_mask_survives_digest_collisions(evals_rows, monkeypatch):
    """Every digest equal (a forced collision): the bytes decide, so the mask is still exact."""
    import hashlib

    from fastzip.selection import api

    class Same:
        def __init__(self, *args, **kwargs):
            pass

        def digest(self):
            return b"\0" * 16

    rows = evals_rows[:120]
    pool = Pool.from_samples(rows + rows[:30], "text")
    expected = np.ones(len(pool), dtype=bool)
    expected[pool.first_occurrences()] = False
    monkeypatch.setattr(hashlib, "blake2b", Same)
    assert api._duplicates(pool).tolist() == expected.tolist()
