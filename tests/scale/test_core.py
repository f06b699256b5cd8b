"""The engine-neutral core: score, prefilter, local_select, merge, and the N bound."""
from __future__ import annotations

import random

import numpy as np
import pytest

import fastzip
from fastzip import scale
from fastzip.errors import InputError, UsageError
from fastzip.samples.pool import Pool
from fastzip.streams.compressor import IncrementalCompressor


def batches_of(scored: scale.ScoredBatch, size: int, shuffle_seed: int | None = None):
    parts = [scored.take(np.arange(i, min(i + size, len(scored)))) for i in range(0, len(scored), size)]
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(parts)
    return parts


def prefiltered_select(rows, budget, n, k1, k2, k3, batch=700, shuffle_seed=None, **kw):
    scored = scale.score(rows, keep_items=True, codec=kw.get("codec"), level=kw.get("level"))
    top = scale.prefilter(batches_of(scored, batch, shuffle_seed), n, dedupe=True)
    return scale.local_select(list(top.items), top.ids, budget, k1=k1, k2=k2, k3=k3, **kw).ids


@pytest.mark.parametrize("codec,level", [("lz77", 2), ("zstd", 3), ("zlib", 6), ("lz4", 0)])
def test_score_is_stage1_score_bit_for_bit(evals_rows, codec, level):
    rows = evals_rows[:800]
    pool = Pool.from_samples(rows, "text")
    sizes = IncrementalCompressor(codec, level).marginal_sizes((pool.data, pool.offsets), 1)
    expected = pool.lengths / sizes                # default mode's stage-1 expression
    got = scale.score(rows, codec=codec, level=level, n_threads=2)
    assert got.scores.dtype == np.float64
    assert got.scores.tobytes() == expected.tobytes()
    assert np.array_equal(got.nbytes, pool.lengths)
    assert np.array_equal(got.ids, np.arange(len(rows)))


def test_scorer_pickles_without_its_compressor(evals_rows):
    import pickle

    scorer = scale.Scorer("zstd", 3)
    first = scorer(evals_rows[:50])
    clone = pickle.loads(pickle.dumps(scorer))
    assert clone._ic is None
    assert clone(evals_rows[:50]).scores.tobytes() == first.scores.tobytes()


def test_the_scorer_defaults_to_select_s_codec(evals_rows, monkeypatch):
    """Out of core and on Ray, stage 1's scores come from the Scorer: its default is select's, lz77-2."""
    assert (scale.Scorer().codec, scale.Scorer().level) == ("lz77", 2)
    assert scale.Scorer().config()["codec"] == fastzip.select(evals_rows[:300], 10, k1=300, k2=40, k3=10).codec
    monkeypatch.setenv("FASTZIP_FORCE_FALLBACK", "1")
    with pytest.raises(UsageError, match="the default codec lz77 needs the native extension"):
        scale.Scorer()
    assert scale.Scorer("zstd").codec == "zstd"


def test_score_error_names_the_record(evals_rows):
    rows = evals_rows[:10] + [{"text": ""}]
    with pytest.raises(InputError, match="record 10"):
        scale.score(rows)
    with pytest.raises(InputError, match="record 13"):
        scale.Scorer()(rows, first_record=3)


# --- the N bound -----------------------------------------------------------
@pytest.mark.parametrize("rows_name,budget,k1,k2,k3", [
    ("evals", 120, 200, 40, 20),
    ("evals", 60, 300, 60, 20),
    ("evals", 100, 150, 30, 10),
    ("chitchat", 50, 100, 30, 10),
    ("faq", 30, 60, 20, 10),
])
def test_prefilter_bound_is_exact(request, rows_name, budget, k1, k2, k3):
    rows = request.getfixturevalue(f"{rows_name}_rows")[:3000]
    n = scale.prefilter_size(budget, k1, k3)
    assert n < len(rows)               # the prefilter really drops samples
    full = fastzip.select(rows, budget, k1=k1, k2=k2, k3=k3)
    assert np.array_equal(prefiltered_select(rows, budget, n, k1, k2, k3, shuffle_seed=1), full.indices)


@pytest.mark.parametrize("codec,level,k1", [(None, None, 100), ("zstd", 3, 200)])
def test_prefilter_bound_is_tight(evals_rows, codec, level, k1):
    """One round's worth of candidates fewer and the selection changes (the bound is not loose).

    With the default codec (lz77) at K1 = 200 on this pool the last K1 samples are never picked
    (one round too few selects the same); at K1 = 100, 20 of the 120 picks change.
    """
    rows, budget, k2, k3 = evals_rows[:3000], 120, 40, 20
    n = scale.prefilter_size(budget, k1, k3)
    full = fastzip.select(rows, budget, k1=k1, k2=k2, k3=k3, codec=codec, level=level)
    assert np.array_equal(prefiltered_select(rows, budget, n, k1, k2, k3, codec=codec, level=level), full.indices)
    short = prefiltered_select(rows, budget, n - k1, k1, k2, k3, codec=codec, level=level)
    assert not np.array_equal(short, full.indices)


def test_prefilter_bound_other_codecs(evals_rows):
    rows, budget, k1, k2, k3 = evals_rows[:1500], 40, 100, 20, 10
    for codec in ("zlib", "lz4"):
        full = fastzip.select(rows, budget, k1=k1, k2=k2, k3=k3, codec=codec)
        got = prefiltered_select(rows, budget, scale.prefilter_size(budget, k1, k3), k1, k2, k3, codec=codec)
        assert np.array_equal(got, full.indices), codec


def test_prefilter_size():
    assert scale.prefilter_size(100, 10000, 100) == 10000
    assert scale.prefilter_size(101, 10000, 100) == 20000
    with pytest.raises(InputError):
        scale.prefilter_size(0, 1, 1)


# --- prefilter ---------------------------------------------------------------
def test_prefilter_equals_full_sort_in_any_batch_order():
    rng = np.random.default_rng(0)
    n = 20000
    scores = rng.integers(0, 300, n).astype(np.float64) / 7     # many ties
    ids = rng.permutation(n).astype(np.int64) * 3
    batch = scale.ScoredBatch(ids, scores, np.ones(n, np.int64), extra={"loc": ids + 1})
    expected = np.lexsort((ids, scores))[:5000]
    for size, seed in ((1000, None), (777, 3), (20000, None)):
        top = scale.prefilter(batches_of(batch, size, seed), 5000)
        assert np.array_equal(top.ids, ids[expected])
        assert np.array_equal(top.extra["loc"], ids[expected] + 1)


def test_prefilter_memory_stays_bounded():
    rng = np.random.default_rng(1)
    top = scale.TopN(1000)
    peak = 0
    for i in range(200):
        ids = np.arange(i * 500, (i + 1) * 500)
        top.add(scale.ScoredBatch(ids, rng.random(500), np.ones(500, np.int64)))
        peak = max(peak, len(top))
    assert top.seen == 100_000
    assert peak <= 2 * max(1000, 4096) + 500
    assert len(top.result()) == 1000


def test_prefilter_dedupe_is_exact(evals_rows):
    """Duplicates inserted later in the pool, batches in any order: equal to the top N of the first copies."""
    base = evals_rows[:1500]
    rng = random.Random(5)
    rows = list(base)
    for _ in range(600):   # copies of random earlier rows, placed after them
        j = rng.randrange(len(rows))
        rows.insert(rng.randrange(j + 1, len(rows) + 1), rows[j])
    seen, first = set(), []
    scored = scale.score(rows, keep_items=True)
    for i, b in enumerate(scored.items):
        if b not in seen:
            seen.add(b)
            first.append(i)
    unique = scored.take(np.asarray(first))
    n = 400
    expected = unique.ids[unique.order()[:n]]
    for seed in (None, 1, 2):
        top = scale.TopN(n, dedupe=True)
        for part in batches_of(scored, 97, seed):
            top.add(part)
        got = top.result()
        assert np.array_equal(got.ids, expected)
        assert top.duplicates > 0
    # without dedupe the duplicates take places
    plain = scale.prefilter(batches_of(scored, 97), n)
    assert not np.array_equal(plain.ids, expected)


def test_prefilter_dedupe_matches_select(evals_rows):
    rows = evals_rows[:1200] + evals_rows[100:400]
    budget, k1, k2, k3 = 60, 150, 30, 10
    full = fastzip.select(rows, budget, k1=k1, k2=k2, k3=k3)
    scored = scale.score(rows, keep_items=True)
    top = scale.prefilter(batches_of(scored, 300), scale.prefilter_size(budget, k1, k3), dedupe=True)
    got = scale.local_select(list(top.items), top.ids, budget, k1=k1, k2=k2, k3=k3)
    assert np.array_equal(got.ids, full.indices)


# --- local_select and merge ---------------------------------------------------
def test_local_select_uses_id_order(faq_rows):
    rows = faq_rows[:200]
    ids = np.arange(len(rows)) * 10 + 7
    perm = np.random.default_rng(2).permutation(len(rows))
    scored = scale.score(rows, keep_items=True)
    part = scale.local_select([scored.items[i] for i in perm], ids[perm], 20, k1=100, k2=20, k3=10)
    full = fastzip.select(rows, 20, k1=100, k2=20, k3=10)
    assert np.array_equal(part.ids, ids[full.indices])
    assert part.ratio == pytest.approx(full.ratio)
    raw = scale.local_select([rows[i] for i in perm], ids[perm], 20, k1=100, k2=20, k3=10, serialized=False)
    assert np.array_equal(raw.ids, part.ids) and raw.items == part.items


def test_local_select_rejects_repeated_ids(faq_rows):
    with pytest.raises(InputError, match="id 3 occurs more than once"):
        scale.local_select([b"a", b"b"], [3, 3], 1)


def test_merge_is_select_on_the_union(faq_rows):
    rows = faq_rows[:300]
    scored = scale.score(rows, keep_items=True)
    opts = dict(k1=60, k2=20, k3=10)
    parts = [scale.local_select(list(scored.items[i::3]), scored.ids[i::3], 30, **opts) for i in range(3)]
    assert all(len(p) == 30 for p in parts)
    merged = scale.merge(parts, 25, **opts)
    union = np.sort(np.concatenate([p.ids for p in parts]))
    direct = fastzip.select([rows[i] for i in union], 25, **opts)
    assert np.array_equal(merged.ids, union[direct.indices])
    small = scale.local_select([b"x y z"], [4], 10)       # a partition smaller than its quota
    assert small.ids.tolist() == [4]


def test_add_pool_gives_bytes_only_to_entrants(evals_rows):
    scorer = scale.Scorer()
    plain, lazy = scale.TopN(300), scale.TopN(300)
    for start in range(0, 3000, 250):
        pool = scorer.pool(evals_rows[start:start + 250])
        ids = np.arange(start, start + len(pool))
        plain.add(scorer.score_pool(pool, ids, keep_items=True))
        lazy.add_pool(scorer.score_pool(pool, ids), pool)
    a, b = plain.result(), lazy.result()
    assert plain.seen == lazy.seen == 3000
    assert np.array_equal(a.ids, b.ids) and list(a.items) == list(b.items)


def _as_table(pa, rows):
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return pa.Table.from_pylist([{k: r.get(k) for k in keys} for r in rows])


ARROW_CASES = {
    "roles": [{"messages": [{"role": "user", "content": "hi"}, {"role": "", "content": "x"},
                            {"role": None, "content": "y"}]}, {"messages": [{"content": "z é\u2028"}]}],
    "alpaca_nulls": [{"instruction": "a", "input": "", "output": "c"}, {"instruction": None, "output": "d"},
                     {"output": "", "instruction": "e", "input": "f"}],
    "text": [{"text": "a", "conversations": None}, {"text": "b\n", "conversations": None}],
}
ROW_PATH_CASES = {      # the row-by-row serializer must decide these (and name any bad record)
    "empty_turns": [{"conversations": []}, {"conversations": [{"from": "a", "value": "b"}]}],
    "null_content": [{"conversations": [{"from": "a", "value": "b"}]},
                     {"conversations": [{"from": "a", "value": None}]}],
    "mixed_schema": [{"conversations": [{"from": "a", "value": "b"}]}, {"text": "x"}],
    "alpaca_then_text": [{"instruction": "a"}, {"text": "d"}],
    "content_parts": [{"messages": [{"role": "u", "content": [{"type": "text", "text": "hi"}]}]}],
    "json": [{"a": 1}],
    "int_role": [{"conversations": [{"from": 1, "value": "b"}]}],
}


def test_arrow_text_pool_is_the_serializer_byte_for_byte(evals_rows, chitchat_rows, faq_rows):
    pa = pytest.importorskip("pyarrow")
    from fastzip.errors import InputError as Err
    from fastzip.io.arrow import text_pool

    def reference(table, text_field=None):
        rows = [{k: v for k, v in r.items() if v is not None} for r in table.to_pylist()]
        try:
            return Pool.from_samples(rows, "text", text_field)
        except Err:
            return None

    cases = [(evals_rows, None), (chitchat_rows, None), (faq_rows, None), (faq_rows, "output")]
    cases += [(rows, None) for rows in ARROW_CASES.values()]
    for rows, text_field in cases:
        table = _as_table(pa, rows)
        for part in (table, table.slice(1, 300), pa.concat_tables([table.slice(0, 2), table.slice(2)])):
            got = text_pool(part, "text", text_field, drop=["uid"])
            want = reference(part, text_field)
            assert got is not None and want is not None
            assert got.data.tobytes() == want.data.tobytes()
            assert got.offsets.tolist() == want.offsets.tolist()
    for name, rows in ROW_PATH_CASES.items():
        assert text_pool(_as_table(pa, rows), "text") is None, name
    assert text_pool(_as_table(pa, evals_rows[:50]), "json") is None
