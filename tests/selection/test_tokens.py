"""Token budgets: never exceeded, filled greedily, counted as the tokenizer counts (issue 19 §1)."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastzip
from fastzip.cli.main import main
from fastzip.errors import InputError, MissingDependencyError, UsageError
from fastzip.samples.pool import Pool
from fastzip.selection import tokens

tokenizers = pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory, evals_rows):
    """A small byte-level BPE trained here on the pool's own text: nothing is downloaded."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=600, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    texts = [fastzip.samples.serialize.sample_text(r) for r in evals_rows[:1500]]
    tok.train_from_iterator(texts, trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return path


@pytest.fixture(scope="module")
def rows(evals_rows):
    return evals_rows[:400]


def expected_counts(path, pool):
    tok = tokenizers.Tokenizer.from_file(str(path))
    return np.asarray([len(tok.encode(pool.item(i).decode("utf-8", errors="replace"),
                                      add_special_tokens=False).ids) for i in range(len(pool))])


def test_counts_are_the_tokenizers_own(tokenizer_file, rows):
    pool = Pool.from_samples(rows, "text")
    tok, _ = tokens.load_tokenizer(tokenizer_file)
    counts = tokens.count_tokens(pool, tok)
    assert counts.tolist() == expected_counts(tokenizer_file, pool).tolist()
    assert counts.min() > 0 and len(set(counts.tolist())) > 50      # a real, varied count


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(0, 300), size=st.integers(20, 100), fraction=st.floats(0.02, 0.6),
       codec=st.sampled_from(["zstd", "lz77"]))
def test_token_budget_is_never_exceeded_and_filled_within_one_sample(tokenizer_file, rows, start, size,
                                                                     fraction, codec):
    sub = rows[start:start + size]
    pool = Pool.from_samples(sub, "text")
    counts = expected_counts(tokenizer_file, pool)
    keep = pool.first_occurrences()
    budget = max(int(counts[keep].min()), int(fraction * counts[keep].sum()))
    res = fastzip.select(sub, budget_tokens=budget, tokenizer=tokenizer_file, k1=40, k2=20, k3=8, codec=codec)
    used = int(counts[res.indices].sum())
    assert res.tokens == used                         # the counts the engine used are the tokenizer's
    assert 0 < used <= budget                         # never exceeded
    assert len(set(res.indices.tolist())) == len(res.indices)
    left = np.setdiff1d(keep, res.indices)
    if len(left):
        assert counts[left].min() > budget - used     # nothing else fits: filled to within one sample


def test_token_field_counts_and_equivalence_with_given_counts(rows):
    counts = [len(r["instruction"].split()) + 3 for r in rows]
    records = [dict(r, n_tokens=c) for r, c in zip(rows, counts)]
    by_field = fastzip.select(records, budget_tokens=4000, token_field="n_tokens", k1=200, k2=50, k3=20,
                              text_field="instruction")
    pool = Pool.from_samples(records, "text", "instruction")
    by_counts = fastzip.select(pool, budget_tokens=4000, token_counts=counts, k1=200, k2=50, k3=20)
    assert by_field.indices.tolist() == by_counts.indices.tolist()
    assert by_field.tokens == sum(counts[i] for i in by_field.indices) <= 4000


@pytest.mark.parametrize("records,kwargs,error,message", [
    ([{"text": "a b", "n": 3}, {"text": "c d"}], {}, InputError, r"record 1: no token count field 'n'"),
    ([{"text": "a b", "n": 3}, {"text": "c d", "n": "7"}], {}, InputError,
     r"record 1: token count field 'n' holds '7', not an integer"),
    ([{"text": "a b", "n": 3.5}], {}, InputError, r"record 0: token count field 'n' holds 3.5, not an integer"),
    ([{"text": "a b", "n": -1}], {}, InputError, "negative"),
    ([{"text": "a b", "n": 30}, {"text": "c", "n": 20}], {}, InputError,
     r"record 1: budget_tokens \(10\) is smaller than every sample; the smallest has 20 tokens"),
    ([{"text": "a", "n": 1}], {"budget": 1}, UsageError, "exactly one of budget"),
    ([{"text": "a", "n": 1}], {"compat": "reference"}, UsageError, "not budget_tokens"),
])
def test_bad_token_inputs_give_one_line(records, kwargs, error, message):
    args = {"budget_tokens": 10, "token_field": "n", **kwargs}
    with pytest.raises(error, match=message) as info:
        fastzip.select(records, **args)
    assert "\n" not in str(info.value)


def test_token_options_need_a_token_budget_and_exactly_one_source(tokenizer_file, rows):
    with pytest.raises(UsageError, match="tokenizer given without budget_tokens"):
        fastzip.select(rows, 5, tokenizer=tokenizer_file)
    with pytest.raises(UsageError, match="exactly one of tokenizer, token_field and token_counts"):
        fastzip.select(rows, budget_tokens=100)
    with pytest.raises(UsageError, match="got tokenizer and token_field"):
        fastzip.select(rows, budget_tokens=100, tokenizer=tokenizer_file, token_field="n")
    with pytest.raises(UsageError, match="a prebuilt Pool has none"):
        fastzip.select(Pool.from_samples(rows, "text"), budget_tokens=100, token_field="n")


def test_a_missing_tokenizers_package_names_the_extra(tokenizer_file, rows, monkeypatch):
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'fastzip-select\[tokens\]'"):
        fastzip.select(rows, budget_tokens=100, tokenizer=tokenizer_file)


def test_a_bad_tokenizer_file_names_it(tmp_path, rows):
    bad = tmp_path / "tok.json"
    bad.write_text('{"not": "a tokenizer"}')
    with pytest.raises(InputError, match="tok.json: not a tokenizers JSON file"):
        fastzip.select(rows, budget_tokens=100, tokenizer=bad)


def test_command_line_token_budget(tmp_path, tokenizer_file, rows, capsys):
    src = tmp_path / "pool.jsonl"
    src.write_text("".join(json.dumps(dict(r, n_tok=len(r["output"]) + 1)) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    assert main(["select", str(src), "-o", str(out), "--budget-tokens", "3000", "--tokenizer", str(tokenizer_file),
                 "--k1", "200", "--k2", "50", "--k3", "20", "--quiet", "--indices-out", str(tmp_path / "i.json")]) == 0
    chosen = json.loads((tmp_path / "i.json").read_text())
    pool = Pool.from_samples(rows, "text")
    assert 0 < expected_counts(tokenizer_file, pool)[chosen].sum() <= 3000
    assert main(["select", str(src), "-o", str(out), "--budget-tokens", "3000", "--token-field", "n_tok",
                 "--k1", "200", "--k2", "50", "--k3", "20", "--quiet", "--indices-out", str(tmp_path / "j.json")]) == 0
    chosen = json.loads((tmp_path / "j.json").read_text())
    assert 0 < sum(len(rows[i]["output"]) + 1 for i in chosen) <= 3000
    capsys.readouterr()
    for extra, message in ((["--token-field", "nope"], "pool.jsonl: record 0 (line 1): no token count field 'nope'"),
                           (["--budget-tokens", "1", "--token-field", "n_tok"], "smaller than every sample"),
                           (["--budget", "5", "--tokenizer", str(tokenizer_file)],
                            "--tokenizer and --token-field go with --budget-tokens"),
                           (["--tokenizer", str(tokenizer_file), "--token-field", "n_tok"],
                            "--budget-tokens needs exactly one of --tokenizer FILE"),
                           ([], "--budget-tokens needs exactly one of")):
        args = ["select", str(src), "-o", str(tmp_path / "x.jsonl"), "--quiet", *extra]
        if "--budget" not in extra and "--budget-tokens" not in extra:
            args += ["--budget-tokens", "100"]
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err
        assert not (tmp_path / "x.jsonl").exists()
    assert main(["select", str(tmp_path), "-o", str(tmp_path / "x.jsonl"), "--budget-tokens", "100",
                 "--token-field", "n_tok", "--quiet"]) == 2
    assert "need default mode with --budget" in capsys.readouterr().err
