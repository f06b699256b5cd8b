"""Tests of fastzip.scoring against naive numpy implementations written here.

Loss data: random logits with a real vocabulary size (32,000). Embedding data:
a fixed random generator, clustered so the selections are not trivial.
GPU tests are marked ``gpu`` and skipped without CuPy and a CUDA device.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc
import zlib

import numpy as np
import pytest

from fastzip import scoring
from fastzip.scoring import _device, _embeddings

VOCAB = 32_000


# --- naive references --------------------------------------------------------------------

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


def unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


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


def naive_deita(x, order, threshold, budget=None):
    u = unit(x)
    kept = []
    for i in order:
        if not kept or (u[kept] @ u[i]).max() <= threshold:
            kept.append(int(i))
            if budget is not None and len(kept) == budget:
                break
    return np.array(kept)


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


def clustered_embeddings(n, d, n_clusters=12, seed=0, spread=0.35):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_clusters, d))
    labels = rng.integers(0, n_clusters, n)
    return (centers[labels] + spread * rng.standard_normal((n, d))).astype(np.float32)


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def logits_and_labels():
    rng = np.random.default_rng(7)
    logits = (3.0 * rng.standard_normal((3, 48, VOCAB))).astype(np.float32)
    labels = rng.integers(0, VOCAB, size=(3, 48))
    labels[0, :10] = -100          # a prompt
    labels[1, 30:] = -100          # padding
    labels[2, ::3] = -100
    return logits, labels


@pytest.fixture(scope="module")
def emb():
    return clustered_embeddings(400, 64)


def _cupy_or_skip():
    status = _device.cupy_status()
    if status.module is None:
        pytest.skip(f"GPU test needs CuPy and a CUDA device: {status.missing}")
    return status.module


# --- device resolution ---------------------------------------------------------------------

def test_import_does_not_import_cupy_but_auto_probes_once():
    """A meta-path hook records every attempt to import cupy."""
    code = textwrap.dedent("""
        import sys
        attempts = []
        class Spy:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] == 'cupy':
                    attempts.append(name)
                    raise ImportError('cupy blocked by the test')
                return None
        sys.meta_path.insert(0, Spy())
        import numpy as np
        import fastzip.scoring as s
        x = np.eye(4, dtype=np.float32) + 0.1
        s.kcenter_greedy(x, 2, device='cpu')
        assert attempts == [], attempts
        s.kcenter_greedy(x, 2, device='auto')
        s.max_similarity(x, [0], device='auto')
        assert attempts == ['cupy'], attempts
        try:
            s.kcenter_greedy(x, 2, device='cuda')
        except RuntimeError as exc:
            assert 'CuPy' in str(exc), exc
        else:
            raise AssertionError('device=cuda without CuPy did not raise')
        print('ok')
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_cuda_without_gpu_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(_device, "cupy_status", lambda: _device.CupyStatus(
        None, "CuPy is installed but no CUDA GPU was found"))
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        _device.resolve_device("cuda")
    assert _device.resolve_device("auto") == "cpu"
    assert _device.resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device must be one of"):
        _device.resolve_device("gpu")


# --- token_nll -----------------------------------------------------------------------------

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


# --- k-center ------------------------------------------------------------------------------

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


@pytest.mark.parametrize("fn", ["kcenter_greedy", "facility_location_greedy", "deita_filter",
                                "max_similarity"])
def test_embedding_kernels_reject_bad_embeddings(fn):
    call = {
        "kcenter_greedy": lambda x: scoring.kcenter_greedy(x, 1, device="cpu"),
        "facility_location_greedy": lambda x: scoring.facility_location_greedy(x, 1,
                                                                               device="cpu"),
        "deita_filter": lambda x: scoring.deita_filter(x, None, device="cpu"),
        "max_similarity": lambda x: scoring.max_similarity(x, [0], device="cpu"),
    }[fn]
    x = np.ones((5, 4), np.float32)
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity \\(first at index \\(3, 1\\)"):
        call(x)
    with pytest.raises(ValueError, match="empty"):
        call(np.zeros((0, 4), np.float32))
    with pytest.raises(ValueError, match="2-D"):
        call(np.ones(4, np.float32))
    z = np.ones((5, 4), np.float32)
    z[2] = 0
    with pytest.raises(ValueError, match="row 2 is all zeros"):
        call(z)


# --- DEITA filter --------------------------------------------------------------------------

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


# --- facility location ---------------------------------------------------------------------

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


# --- max_similarity ------------------------------------------------------------------------

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


# --- NCD -----------------------------------------------------------------------------------

TEXTS = [
    "the quick brown fox jumps over the lazy dog " * 4,
    "the quick brown fox leaps over the lazy cat " * 4,
    "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 3,
    "SELECT name, count(*) FROM users GROUP BY name ORDER BY 2 DESC;",
    b"\x00\x01\x02 binary payload \xff\xfe" * 5,
]


def naive_ncd(a, b, size):
    a = [t.encode() if isinstance(t, str) else t for t in a]
    b = [t.encode() if isinstance(t, str) else t for t in b]
    out = np.empty((len(a), len(b)))
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            cx, cy, cxy = size(x), size(y), size(x + y)
            out[i, j] = (cxy - min(cx, cy)) / max(cx, cy)
    return out


class ZlibStream:
    """Stand-in with IncrementalCompressor's contract, on zlib one-shot compression."""

    def __init__(self, codec="zlib", level=6):
        assert codec == "zlib"
        self.level, self.data = level, b""

    def extend(self, items):
        self.data += b"".join(items)

    def marginal_sizes(self, items, n_threads=-1):
        if isinstance(items, tuple):                        # the (buffer, offsets) form
            buf, off = bytes(items[0]), items[1]
            items = [buf[off[i]:off[i + 1]] for i in range(len(off) - 1)]
        return np.array([len(zlib.compress(self.data + x, self.level)) for x in items],
                        dtype=np.int64)


def test_ncd_formula_on_a_stand_in_compressor(monkeypatch):
    import fastzip

    monkeypatch.setattr(fastzip, "IncrementalCompressor", ZlibStream, raising=False)
    got = scoring.ncd_matrix(TEXTS, codec="zlib", level=6)
    want = naive_ncd(TEXTS, TEXTS, lambda s: len(zlib.compress(s, 6)))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got_ab = scoring.ncd_matrix(TEXTS[:2], TEXTS[2:], codec="zlib", level=6)
    np.testing.assert_allclose(got_ab, want[:2, 2:], rtol=1e-12)
    with pytest.raises(ValueError, match="a is empty"):
        scoring.ncd_matrix([], codec="zlib")
    with pytest.raises(TypeError, match="a\\[1\\] must be str or bytes"):
        scoring.ncd_matrix(["x", 3], codec="zlib")
    with pytest.raises(TypeError, match="sequence of items"):
        scoring.ncd_matrix("abc", codec="zlib")


def _native_compressor():
    try:
        from fastzip import IncrementalCompressor
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"fastzip.IncrementalCompressor is not available yet ({exc})")
    return IncrementalCompressor


def test_ncd_native_zlib_equals_one_shot_zlib():
    _native_compressor()
    got = scoring.ncd_matrix(TEXTS, codec="zlib", level=6)
    want = naive_ncd(TEXTS, TEXTS, lambda s: len(zlib.compress(s, 6)))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_ncd_native_zstd_properties():
    _native_compressor()
    texts = TEXTS[:4]
    m = scoring.ncd_matrix(texts, codec="zstd", level=3)
    assert m.shape == (4, 4) and np.isfinite(m).all()
    assert (m >= 0).all() and (m <= 1.2).all()
    off = m[~np.eye(4, dtype=bool)]
    assert np.diag(m).max() < off.min()                       # NCD(x, x) is the smallest
    assert m[0, 1] < m[0, 2] and m[0, 1] < m[0, 3]            # fox/fox closer than fox/lorem
    np.testing.assert_allclose(m, m.T, atol=0.15)             # roughly symmetric


# --- GPU parity (skipped without CuPy and a CUDA device) -----------------------------------

@pytest.mark.gpu
def test_gpu_token_nll_matches_cpu(logits_and_labels):
    cp = _cupy_or_skip()
    logits, labels = logits_and_labels
    cpu = scoring.token_nll(logits, labels, device="cpu")
    from_host = scoring.token_nll(logits, labels, device="cuda", chunk_size=17)
    on_gpu = scoring.token_nll(cp.asarray(logits), cp.asarray(labels))
    assert isinstance(from_host, np.ndarray) and isinstance(on_gpu, cp.ndarray)
    np.testing.assert_allclose(from_host, cpu, rtol=1e-5)
    np.testing.assert_allclose(on_gpu.get(), cpu, rtol=1e-5)


@pytest.mark.gpu
@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_gpu_embedding_kernels_match_cpu(emb, metric):
    cp = _cupy_or_skip()
    g = cp.asarray(emb)
    for kwargs in (dict(), dict(initial=[1, 2])):
        cpu = scoring.kcenter_greedy(emb, 20, metric=metric, dtype=np.float64, device="cpu",
                                     **kwargs)
        gpu = scoring.kcenter_greedy(g, 20, metric=metric, dtype=np.float64, **kwargs)
        np.testing.assert_array_equal(gpu.get(), cpu)
    order = np.random.default_rng(0).permutation(len(emb))
    np.testing.assert_array_equal(
        scoring.deita_filter(g, order, 0.8, dtype=np.float64).get(),
        scoring.deita_filter(emb, order, 0.8, dtype=np.float64, device="cpu"))
    np.testing.assert_array_equal(
        scoring.facility_location_greedy(g, 10, dtype=np.float64).get(),
        scoring.facility_location_greedy(emb, 10, dtype=np.float64, device="cpu"))
    np.testing.assert_allclose(
        scoring.max_similarity(g, [0, 5, 9]).get(),
        scoring.max_similarity(emb, [0, 5, 9], device="cpu"), atol=1e-5)
