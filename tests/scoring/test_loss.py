"""fastzip.scoring's losses (token_nll, from_logprobs, perplexity, ifd) against naive numpy written here.

Random logits with a real vocabulary size (32,000).  The GPU test is marked
``gpu`` and skipped without CuPy and a CUDA device.
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from fastzip import scoring
from tests.scoring.helpers import cupy_or_skip

VOCAB = 32_000


def naive_token_nll(logits, labels, ignore_index=-100, shift=True):
    """Full float64 log-softmax, then a per-sample mean over the scored tokens."""
    logits = np.asarray(logits, dtype=np.float64)
    if shift:
        logits, labels = logits[:, :-1], labels[:, 1:]
    out = np.empty(logits.shape[0])
    for b in range(logits.shape[0]):
        row = logits[b]
        m = row.max(axis=1, keepdims=True)
        logp = row - m - np.log(np.exp(row - m).sum(axis=1, keepdims=True))
        pos = np.flatnonzero(labels[b] != ignore_index)
        out[b] = -logp[pos, labels[b, pos]].mean() if pos.size else np.nan
    return out


@pytest.fixture(scope="module")
def logits_and_labels():
    rng = np.random.default_rng(7)
    logits = (3.0 * rng.standard_normal((3, 48, VOCAB))).astype(np.float32)
    labels = rng.integers(0, VOCAB, size=(3, 48))
    labels[0, :10] = -100          # a prompt
    labels[1, 30:] = -100          # padding
    labels[2, ::3] = -100
    return logits, labels


@pytest.mark.parametrize("shift", [True, False])
@pytest.mark.parametrize("chunk_size,vocab_chunk", [(256, 32768), (7, 5000)])
def test_token_nll_matches_full_log_softmax(logits_and_labels, shift, chunk_size, vocab_chunk):
    logits, labels = logits_and_labels
    got = scoring.token_nll(logits, labels, shift=shift, chunk_size=chunk_size,
                            vocab_chunk_size=vocab_chunk, device="cpu")
    want = naive_token_nll(logits, labels, shift=shift)
    assert got.shape == (3,) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=2e-6)


def test_token_nll_shift_is_the_hugging_face_alignment(logits_and_labels):
    logits, labels = logits_and_labels
    shifted = scoring.token_nll(logits, labels, shift=True, device="cpu")
    aligned = scoring.token_nll(logits[:, :-1], labels[:, 1:], shift=False, device="cpu")
    np.testing.assert_allclose(shifted, aligned, rtol=1e-12)


def test_token_nll_float16_and_float64(logits_and_labels):
    logits, labels = logits_and_labels
    want = naive_token_nll(logits.astype(np.float16), labels)
    got16 = scoring.token_nll(logits.astype(np.float16), labels, device="cpu")
    np.testing.assert_allclose(got16, want, rtol=1e-5)
    got64 = scoring.token_nll(logits.astype(np.float64), labels, vocab_chunk_size=3000,
                              device="cpu")
    np.testing.assert_allclose(got64, naive_token_nll(logits, labels), rtol=1e-12)


def test_token_nll_masked_vocabulary_and_ignored_nan(logits_and_labels):
    logits, labels = logits_and_labels
    masked = logits.copy()
    masked[:, :, 20_000:] = -np.inf                 # a banned vocabulary slice
    masked[:, :, 31_000:31_500] = -np.inf
    lab = np.where(labels >= 20_000, labels % 20_000, labels)
    masked[0, 3, 100] = np.nan                      # logit position 3 scores label 4: ignored
    got = scoring.token_nll(masked, lab, vocab_chunk_size=4096, device="cpu")
    clean = masked.copy()
    clean[0, 3, 100] = 0.0
    np.testing.assert_allclose(got, naive_token_nll(clean, lab), rtol=2e-6)


def test_token_nll_sample_without_scored_tokens_is_nan(logits_and_labels):
    logits, labels = logits_and_labels
    lab = labels.copy()
    lab[1] = -100
    got = scoring.token_nll(logits, lab, device="cpu")
    assert np.isnan(got[1]) and np.isfinite(got[[0, 2]]).all()


def test_token_nll_memory_stays_bounded():
    """Peak extra memory is a small fraction of a full float32 log-softmax."""
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((2, 1024, VOCAB), dtype=np.float32)
    labels = rng.integers(0, VOCAB, size=(2, 1024))
    full_log_softmax = logits.nbytes
    tracemalloc.start()
    try:
        got = scoring.token_nll(logits, labels, chunk_size=64, device="cpu")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < full_log_softmax / 16, (peak, full_log_softmax)
    # and the answer is still right (checked on a slice, the naive way is big)
    part = scoring.token_nll(logits[:, :128], labels[:, :128], device="cpu")
    np.testing.assert_allclose(part, naive_token_nll(logits[:, :128], labels[:, :128]),
                               rtol=2e-6)
    assert np.isfinite(got).all()


@pytest.mark.parametrize("bad_logits,bad_labels,match", [
    (np.zeros((2, 5, 10), np.float32), np.zeros((2, 4), np.int64), "does not match"),
    (np.zeros((2, 5), np.float32), np.zeros((2, 5), np.int64), "must be 3-D"),
    (np.zeros((2, 5, 10), np.float32), np.zeros((2, 5), np.float32), "labels must be integers"),
    (np.zeros((2, 5, 10), np.int32), np.zeros((2, 5), np.int64), "floating-point"),
    (np.zeros((0, 5, 10), np.float32), np.zeros((0, 5), np.int64), "empty"),
    (np.zeros((2, 5, 10), np.float32), np.full((2, 5), 10), "outside \\[0, 10\\)"),
    (np.zeros((2, 1, 10), np.float32), np.zeros((2, 1), np.int64), "seq >= 2"),
])
def test_token_nll_bad_input(bad_logits, bad_labels, match):
    with pytest.raises(ValueError, match=match):
        scoring.token_nll(bad_logits, bad_labels, device="cpu")


@pytest.mark.parametrize("poison", [np.nan, np.inf])
def test_token_nll_rejects_non_finite_scored_logits(poison):
    logits = np.zeros((2, 6, 50), np.float32)
    labels = np.ones((2, 6), np.int64)
    logits[1, 2, 7] = poison
    with pytest.raises(ValueError, match="sample 1, logit position 2"):
        scoring.token_nll(logits, labels, device="cpu")
    logits[1, 2, 7] = 0
    logits[1, 2, 1] = -np.inf                      # the target itself is impossible
    with pytest.raises(ValueError, match="non-finite loss"):
        scoring.token_nll(logits, labels, device="cpu")


# --- from_logprobs / perplexity / ifd ------------------------------------------------------

def test_from_logprobs_agrees_with_token_nll(logits_and_labels):
    logits, labels = logits_and_labels
    lg, lab = logits[:, :-1].astype(np.float64), labels[:, 1:]
    logp = lg - lg.max(-1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
    mask = lab != -100
    token_lp = np.take_along_axis(logp, np.where(mask, lab, 0)[..., None], -1)[..., 0]
    token_lp[~mask] = np.nan                       # unscored entries may hold anything
    got = scoring.from_logprobs(token_lp, mask)
    np.testing.assert_allclose(got, scoring.token_nll(logits, labels, device="cpu"), rtol=2e-6)
    np.testing.assert_allclose(got, [-token_lp[b][mask[b]].mean() for b in range(3)],
                               rtol=1e-12)


def test_from_logprobs_without_mask_and_errors():
    lp = -np.abs(np.random.default_rng(1).standard_normal((4, 9)))
    np.testing.assert_allclose(scoring.from_logprobs(lp), -lp.mean(axis=1), rtol=1e-12)
    with pytest.raises(ValueError, match="mask shape"):
        scoring.from_logprobs(lp, np.ones((4, 8), bool))
    with pytest.raises(ValueError, match="<= 0"):
        scoring.from_logprobs(-lp)
    bad = lp.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        scoring.from_logprobs(bad)


def test_perplexity_and_ifd():
    rng = np.random.default_rng(2)
    cond, uncond = rng.uniform(0.1, 4, 50), rng.uniform(0.1, 4, 50)
    np.testing.assert_allclose(scoring.perplexity(cond), np.exp(cond), rtol=1e-12)
    np.testing.assert_allclose(scoring.ifd(cond, uncond), cond / uncond, rtol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        scoring.ifd(cond, uncond[:-1])
    with pytest.raises(ValueError, match="uncond_nll > 0"):
        scoring.ifd(cond, np.zeros(50))
    with pytest.raises(ValueError, match="no scored token"):
        scoring.perplexity(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="empty"):
        scoring.perplexity(np.array([]))


@pytest.mark.gpu
def test_gpu_token_nll_matches_cpu(logits_and_labels):
    cp = cupy_or_skip()
    logits, labels = logits_and_labels
    cpu = scoring.token_nll(logits, labels, device="cpu")
    from_host = scoring.token_nll(logits, labels, device="cuda", chunk_size=17)
    on_gpu = scoring.token_nll(cp.asarray(logits), cp.asarray(labels))
    assert isinstance(from_host, np.ndarray) and isinstance(on_gpu, cp.ndarray)
    np.testing.assert_allclose(from_host, cpu, rtol=1e-5)
    np.testing.assert_allclose(on_gpu.get(), cpu, rtol=1e-5)
