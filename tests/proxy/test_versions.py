"""The standard versions of a pool (no torch needed): budgets, held-out slice, the ZIP prefix claim."""
from __future__ import annotations

import json

import numpy as np
import pytest

import fastzip
from fastzip.errors import UsageError
from fastzip.proxy.text import Tokenizer, record_texts
from fastzip.proxy.versions import ALL_KINDS, build_versions, shuffle_responses


@pytest.fixture(scope="module")
def pool(evals_rows):
    return evals_rows[:1200]


@pytest.fixture(scope="module")
def byte_versions(pool):
    return build_versions(pool, budget_bytes=50_000, kinds=ALL_KINDS, random_seeds=(0, 1), heldout_bytes=20_000)


def _bytes(records):
    return sum(len(t) for t in record_texts(records))


def test_byte_budget_never_exceeded_and_nearly_filled(byte_versions, pool):
    texts = record_texts(pool)
    smallest = min(len(t) for t in texts)
    for name, recs in byte_versions.records.items():
        used = _bytes(recs)
        assert used == byte_versions.cost[name]
        assert used <= 50_000, name
        if name not in ("zip_compat", "zip_strata"):   # cut prefixes and per-stratum budgets can leave more room
            assert 50_000 - used < max(smallest, 2000), (name, used)


def test_heldout_is_in_no_version(byte_versions):
    held = set(byte_versions.heldout.tolist())
    assert 0 < len(held) <= 0.1 * len(byte_versions.pool)
    assert _bytes([byte_versions.pool[i] for i in held]) >= 20_000
    for name, idx in byte_versions.indices.items():
        assert not held & set(idx.tolist()), name


def test_version_names(byte_versions):
    assert byte_versions.names == ["zip", "zip_compat", "random_s0", "random_s1", "random_lenmatch", "redundant",
                                   "mix25", "mix50", "mix75", "zip_strata", "inconsistent"]


def test_zip_is_the_engines_byte_budget_run(byte_versions, pool):
    train = [pool[i] for i in np.setdiff1d(np.arange(len(pool)), byte_versions.heldout)]
    res = fastzip.select(train, budget_bytes=50_000, serializer="text")
    assert [json.dumps(r) for r in byte_versions.records["zip"]] == [json.dumps(train[i]) for i in res.indices]


def test_sample_budget_exact(pool):
    vs = build_versions(pool, budget=120, kinds=("zip", "zip_compat", "random", "mix", "inconsistent"),
                        random_seeds=(3,), heldout_bytes=10_000)
    assert all(len(v) == 120 for v in vs.records.values())
    assert vs.unit == "samples" and vs.cost["zip"] == 120


@pytest.mark.parametrize("compat", [None, "reference"])
def test_sample_budget_order_is_a_prefix_of_a_longer_run(pool, compat):
    """The claim the token-budget cut rests on: a run of n picks is the start of a run of more."""
    short = fastzip.select(pool, budget=150, compat=compat, k1=min(10000, len(pool))).indices
    long = fastzip.select(pool, budget=420, compat=compat, k1=min(10000, len(pool))).indices
    assert list(long[:150]) == list(short[:150])


def test_token_budget_counts_are_the_tokenizers(pool, tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator([t.decode() for t in record_texts(pool)],
                            trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]"], show_progress=False))
    path = tmp_path / "bpe.json"
    tok.save(str(path))
    loaded = Tokenizer.load(path)
    vs = build_versions(pool, budget_tokens=12_000, tokenizer=loaded, kinds=("zip", "random", "mix"),
                        random_seeds=(0,), heldout_bytes=10_000)
    for name, recs in vs.records.items():
        counts = [len(tok.encode(t.decode()).ids) for t in record_texts(recs)]
        assert sum(counts) == vs.cost[name] <= 12_000, name
        assert 12_000 - sum(counts) < 2000, name
    assert any("cut a" in n for n in vs.notes)


def test_shuffle_responses_is_a_derangement(pool):
    recs = pool[:50]
    out, swapped = shuffle_responses(recs, seed=1)
    assert swapped == 50
    assert sorted(r["output"] for r in out) == sorted(r["output"] for r in recs)
    assert all(a["output"] != b["output"] or a["output"] == "" for a, b in zip(out, recs)
               if sum(x["output"] == a["output"] for x in recs) == 1)
    assert [r["instruction"] for r in out] == [r["instruction"] for r in recs]
    assert recs[0] is pool[0] and "output" in pool[0]    # inputs untouched


def test_shuffle_responses_sharegpt(chitchat_rows):
    convs = [{"conversations": [{"from": "human", "value": f"q{i}"}, {"from": "gpt", "value": f"a{i}"}]}
             for i in range(10)]
    out, swapped = shuffle_responses(convs, seed=0)
    assert swapped == 10
    assert all(o["conversations"][1]["value"] != f"a{i}" for i, o in enumerate(out))
    assert all(o["conversations"][0]["value"] == f"q{i}" for i, o in enumerate(out))
    # human-human chats have no response turn: nothing to shuffle
    assert shuffle_responses(chitchat_rows[:5])[1] == 0


def test_mixtures_start_with_zips_picks(byte_versions):
    zip_idx = byte_versions.indices["zip"].tolist()
    sizes = {i: len(t) for i, t in zip(zip_idx, record_texts(byte_versions.records["zip"]))}
    for share in (25, 50, 75):
        mix = byte_versions.indices[f"mix{share}"].tolist()
        within = np.cumsum([sizes[i] for i in zip_idx]) <= round(share / 100 * 50_000)
        k = int(np.argmin(within))          # ZIP's longest prefix within the share
        assert mix[:k] == zip_idx[:k]
        assert len(set(mix)) == len(mix)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one"),
    ({"budget": 5, "budget_bytes": 5}, "exactly one"),
    ({"budget": 0}, "positive integer"),
    ({"budget_bytes": 10**9}, "less than the budget"),
    ({"budget": 10, "kinds": ("zipp",)}, "unknown version kind"),
    ({"budget": 10, "mixtures": (1.5,)}, "mixture shares"),
])
def test_bad_arguments(pool, kwargs, message):
    with pytest.raises(UsageError, match=message):
        build_versions(pool, **kwargs)
