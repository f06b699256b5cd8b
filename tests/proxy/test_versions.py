"""The standard versions of a pool (no torch needed): budgets, held-out slice, compat's prefix claim."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

import fastzip
from fastzip.errors import UsageError
from fastzip.proxy.text import record_texts
from fastzip.proxy.versions import ALL_KINDS, _length_strata, build_versions, shuffle_responses

TOKEN_BUDGET = 30_000


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


def test_compat_sample_budget_order_is_a_prefix_of_a_longer_run(pool):
    """The claim zip_compat's byte and token budgets rest on (compat takes sample budgets only)."""
    short = fastzip.select(pool, budget=150, compat="reference", k1=len(pool)).indices
    long = fastzip.select(pool, budget=420, compat="reference", k1=len(pool)).indices
    assert list(long[:150]) == list(short[:150])


@pytest.fixture(scope="module")
def bpe_file(pool, tmp_path_factory):
    """A small byte-level BPE trained here on the pool's own text: nothing is downloaded."""
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator([t.decode() for t in record_texts(pool)],
                            trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]"], show_progress=False))
    path = tmp_path_factory.mktemp("bpe") / "bpe.json"
    tok.save(str(path))
    return path


@pytest.fixture(scope="module")
def token_versions(pool, bpe_file):
    return build_versions(pool, budget_tokens=TOKEN_BUDGET, tokenizer=str(bpe_file), kinds=ALL_KINDS,
                          random_seeds=(0, 1), heldout_bytes=10_000)


@pytest.fixture(scope="module")
def train_counts(pool, bpe_file, token_versions):
    """Pool indices of the training part, and each one's token count straight from the tokenizer."""
    import tokenizers

    tok = tokenizers.Tokenizer.from_file(str(bpe_file))
    train = np.setdiff1d(np.arange(len(pool)), token_versions.heldout)
    counts = {int(i): len(tok.encode(t.decode(), add_special_tokens=False).ids)
              for i, t in zip(train, record_texts([pool[i] for i in train]))}
    return train, counts


def _room_left_fits_nothing(idx, counts, candidates, budget, texts=None):
    """``budget`` less the version's tokens is smaller than every candidate it left out (within one sample).

    With ``texts``, a candidate whose text equals a taken one's is no candidate (the engine drops copies).
    """
    taken = set(idx.tolist())
    used = sum(counts[i] for i in taken)
    taken_texts = {texts[i] for i in taken} if texts is not None else set()
    left = [counts[i] for i in candidates if i not in taken and (texts is None or texts[i] not in taken_texts)]
    return not left or min(left) > budget - used


def test_token_costs_are_the_tokenizers_and_never_exceed_the_budget(token_versions, train_counts):
    _, counts = train_counts
    assert token_versions.unit == "tokens" and token_versions.budget == TOKEN_BUDGET
    assert set(token_versions.names) == {"zip", "zip_compat", "random_s0", "random_s1", "random_lenmatch",
                                         "redundant", "mix25", "mix50", "mix75", "zip_strata", "inconsistent"}
    for name, idx in token_versions.indices.items():
        assert len(set(idx.tolist())) == len(idx) > 0, name
        used = sum(counts[int(i)] for i in idx)
        assert used == token_versions.cost[name] <= TOKEN_BUDGET, name


def test_token_budget_is_filled_to_within_one_sample(token_versions, train_counts, pool):
    train, counts = train_counts
    texts = dict(zip(train.tolist(), record_texts([pool[i] for i in train])))
    for name in ("random_s0", "random_s1", "random_lenmatch", "redundant", "mix25", "mix50", "mix75",
                 "inconsistent"):
        assert _room_left_fits_nothing(token_versions.indices[name], counts, train.tolist(), TOKEN_BUDGET), name
    # the engine's greedy fill: nothing left out fits but copies of a pick (the engine drops exact copies)
    assert _room_left_fits_nothing(token_versions.indices["zip"], counts, train.tolist(), TOKEN_BUDGET, texts)


def test_zip_is_the_engines_token_budget_run(token_versions, pool, bpe_file):
    train = np.setdiff1d(np.arange(len(pool)), token_versions.heldout)
    res = fastzip.select([pool[i] for i in train], budget_tokens=TOKEN_BUDGET, tokenizer=bpe_file)
    assert token_versions.indices["zip"].tolist() == train[res.indices].tolist()
    assert token_versions.cost["zip"] == res.tokens
    assert not any(n.startswith("zip:") for n in token_versions.notes)     # no cut: the engine's own run


def test_zip_compat_is_a_cut_compat_run(token_versions, pool, train_counts):
    """Compat mode refuses token budgets: its version is a sample-budget run cut where the budget ends."""
    train, counts = train_counts
    (note,) = [n for n in token_versions.notes if n.startswith("zip_compat: ")]
    found = re.fullmatch(r"zip_compat: cut a (\d+)-sample run at (\d+) samples", note)
    assert found, note
    want, cut = int(found[1]), int(found[2])
    order = fastzip.select([pool[i] for i in train], budget=want, compat="reference", k1=len(train)).indices
    assert token_versions.indices["zip_compat"].tolist() == train[order[:cut]].tolist()
    room = TOKEN_BUDGET - token_versions.cost["zip_compat"]
    assert cut < len(order) and counts[int(train[order[cut]])] > room       # short by less than that sample


def test_zip_strata_fills_each_strata_share_with_the_engine(token_versions, train_counts, pool):
    """Each length stratum gets the tokens random_s0 spends there, filled by ZIP to within one sample."""
    train, counts = train_counts
    texts = record_texts([pool[i] for i in train])
    strata = dict(zip(train.tolist(), _length_strata(np.array([len(t) for t in texts], dtype=np.int64),
                                                     10).tolist()))
    text_of = dict(zip(train.tolist(), texts))
    for s in set(strata.values()):
        share = sum(counts[int(i)] for i in token_versions.indices["random_s0"] if strata[int(i)] == s)
        members = [i for i in train.tolist() if strata[i] == s]
        picked = np.array([i for i in token_versions.indices["zip_strata"].tolist() if strata[i] == s],
                          dtype=np.int64)
        assert sum(counts[int(i)] for i in picked) <= share, s
        if share >= min(counts[i] for i in members):
            assert _room_left_fits_nothing(picked, counts, members, share, text_of), s


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
