#!/usr/bin/env python
"""Check fastzip.scoring's GPU path against its CPU path, and time both.

    python bench/gpu_check.py            # full sizes, under 3 minutes on one GPU
    python bench/gpu_check.py --quick    # small sizes, a smoke test

Every GPU function runs on the same inputs as its CPU twin:

* exactness in float64 at moderate sizes (same picks, same kept sets);
* float32 agreement and speed at the sizes that matter: logits
  8 x 2048 x 32,000 and 200,000 x 768 embeddings with k = 2,000.

The CPU side of the greedy k-center is timed over its first ``--cpu-picks``
picks and scaled to k (every step costs the same: one pass over the data),
which keeps the run short; the row says so.

Exit status: 0 when every comparison passes, or when there is no GPU/CuPy
(with a message saying nothing was checked); 1 on any mismatch.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from embeddings import clustered  # noqa: E402

from fastzip import scoring  # noqa: E402
from fastzip.scoring import _device  # noqa: E402

ROWS: list[tuple[str, str, float | None, float | None, str]] = []
FAILURES: list[str] = []


def timed(fn: Callable[[], Any], sync: Callable[[], None] | None = None) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    if sync is not None:
        sync()
    return out, time.perf_counter() - start


def record(name: str, size: str, cpu_s: float | None, gpu_s: float | None, ok: bool,
           note: str = "") -> None:
    status = "ok" if ok else "MISMATCH"
    if not ok:
        FAILURES.append(f"{name} [{size}] {note}")
    ROWS.append((name, size, cpu_s, gpu_s, status + (f" ({note})" if note else "")))
    speed = f"{cpu_s / gpu_s:8.1f}x" if cpu_s and gpu_s else " " * 9
    cpu = f"{cpu_s:9.3f}s" if cpu_s is not None else " " * 10
    gpu = f"{gpu_s:9.3f}s" if gpu_s is not None else " " * 10
    print(f"{name:<28} {size:<30} {cpu} {gpu} {speed}  {ROWS[-1][4]}", flush=True)


def close(a: Any, b: Any, rtol: float, atol: float) -> tuple[bool, str]:
    a, b = _device.to_host(a), _device.to_host(b)
    if a.shape != b.shape:
        return False, f"shapes {a.shape} vs {b.shape}"
    err = float(np.max(np.abs(a - b) / (atol + rtol * np.abs(b)))) if a.size else 0.0
    return err <= 1.0, f"max err {err:.2g} of tolerance"


def same(a: Any, b: Any) -> tuple[bool, str]:
    a, b = _device.to_host(a), _device.to_host(b)
    if a.shape != b.shape:
        return False, f"lengths {a.shape} vs {b.shape}"
    diff = np.flatnonzero(a != b)
    return diff.size == 0, ("identical" if diff.size == 0 else f"first difference at {diff[0]}")


def check_losses(cp: Any, sync: Callable[[], None], batch: int, seq: int) -> None:
    rng = np.random.default_rng(0)
    # small, awkward cases first: float64, float16, masked vocabulary, ignored rows
    small = (3.0 * rng.standard_normal((3, 40, 32_000))).astype(np.float32)
    small[:, :, 25_000:] = -np.inf
    lab = rng.integers(0, 25_000, (3, 40))
    lab[0, :12] = -100
    lab[2] = -100
    for dtype, rtol in ((np.float64, 1e-10), (np.float32, 1e-5), (np.float16, 1e-4)):
        x = small.astype(dtype)
        cpu = scoring.token_nll(x, lab, device="cpu")
        for label, gpu_in in (("host", x), ("resident", cp.asarray(x))):
            gpu = scoring.token_nll(gpu_in, lab, device="cuda", chunk_size=17)
            ok_nan = bool(np.isnan(_device.to_host(gpu)[2]) and np.isnan(cpu[2]))
            ok, note = close(_device.to_host(gpu)[:2], cpu[:2], rtol, 1e-6)
            record(f"token_nll {np.dtype(dtype).name} {label}", "3x40x32000 masked", None, None,
                   ok and ok_nan, note)

    logits = rng.standard_normal((batch, seq, 32_000), dtype=np.float32)
    logits *= 3.0
    labels = rng.integers(0, 32_000, (batch, seq))
    labels[:, : seq // 8] = -100
    size = f"{batch}x{seq}x32000 f32"
    cpu, cpu_s = timed(lambda: scoring.token_nll(logits, labels, device="cpu"))
    host, host_s = timed(lambda: scoring.token_nll(logits, labels, device="cuda"), sync)
    ok, note = close(host, cpu, 1e-5, 1e-5)
    record("token_nll (numpy in)", size, cpu_s, host_s, ok, note)
    dev_logits, dev_labels = cp.asarray(logits), cp.asarray(labels)
    logits = None  # free host memory before the device-input case
    res, res_s = timed(lambda: scoring.token_nll(dev_logits, dev_labels), sync)
    ok, note = close(res, cpu, 1e-5, 1e-5)
    record("token_nll (cupy in)", size, cpu_s, res_s, ok and isinstance(res, cp.ndarray), note)
    dev_logits = None

    lp = -rng.exponential(2.0, size=(4096, 2048))
    mask = rng.random((4096, 2048)) < 0.7
    cpu, cpu_s = timed(lambda: scoring.ifd(scoring.from_logprobs(lp, mask),
                                           scoring.from_logprobs(lp * 1.1, mask)))
    dlp, dmask = cp.asarray(lp), cp.asarray(mask)
    gpu, gpu_s = timed(lambda: scoring.ifd(scoring.from_logprobs(dlp, dmask),
                                           scoring.from_logprobs(dlp * 1.1, dmask)), sync)
    ok, note = close(gpu, cpu, 1e-12, 0)
    ppl_ok, _ = close(scoring.perplexity(gpu), scoring.perplexity(cpu), 1e-12, 0)
    record("from_logprobs+ifd+ppl", "4096x2048 f64", cpu_s, gpu_s, ok and ppl_ok, note)


def check_exact_float64(cp: Any, n: int) -> None:
    """Same picks on both devices when both compute in float64."""
    x = clustered(n, 768, n_clusters=500, seed=1, spread=(0.2, 0.6))
    g = cp.asarray(x)
    f64 = np.float64
    for metric in ("cosine", "l2"):
        cpu = scoring.kcenter_greedy(x, 100, metric=metric, dtype=f64, device="cpu")
        gpu = scoring.kcenter_greedy(g, 100, metric=metric, dtype=f64)
        record(f"kcenter_greedy {metric} f64", f"{n}x768 k=100", None, None, *same(gpu, cpu))
        cpu = scoring.kcenter_greedy(x, 50, initial=[3, 4, 5], metric=metric, dtype=f64,
                                     device="cpu")
        gpu = scoring.kcenter_greedy(g, 50, initial=[3, 4, 5], metric=metric, dtype=f64)
        record(f"kcenter_greedy {metric} init", f"{n}x768 k=50", None, None, *same(gpu, cpu))
    order = np.random.default_rng(2).permutation(n)
    cpu = scoring.deita_filter(x, order, 0.9, dtype=f64, device="cpu")
    gpu = scoring.deita_filter(g, order, 0.9, dtype=f64)
    record("deita_filter f64", f"{n}x768 thr=0.9", None, None, *same(gpu, cpu))
    small = x[: min(n, 5_000)]
    cpu = scoring.facility_location_greedy(small, 50, dtype=f64, device="cpu")
    gpu = scoring.facility_location_greedy(cp.asarray(small), 50, dtype=f64)
    record("facility_location f64", f"{len(small)}x768 k=50", None, None, *same(gpu, cpu))
    sel = np.arange(0, n, 97)
    cpu_s, cpu_i = scoring.max_similarity(x, sel, dtype=f64, return_index=True, device="cpu")
    gpu_s, gpu_i = scoring.max_similarity(g, sel, dtype=f64, return_index=True)
    ok, note = close(gpu_s, cpu_s, 1e-12, 1e-12)
    record("max_similarity f64", f"{n}x768 m={sel.size}", None, None,
           ok and same(gpu_i, cpu_i)[0], note)


def check_speed_float32(cp: Any, sync: Callable[[], None], n: int, k: int, cpu_picks: int,
                        deita_n: int, fl_n: int, fl_k: int) -> None:
    x = clustered(n, 768, n_clusters=500, seed=3, spread=(0.2, 0.6))
    g = cp.asarray(x)
    size = f"{n}x768 k={k}"
    gpu, gpu_s = timed(lambda: scoring.kcenter_greedy(g, k, return_radii=True), sync)
    m = min(cpu_picks, k)
    cpu, cpu_part_s = timed(lambda: scoring.kcenter_greedy(x, m, return_radii=True,
                                                           device="cpu"))
    cpu_s = cpu_part_s * k / m
    agree = int(np.argmax(np.append(_device.to_host(gpu[0])[:m] != cpu[0], True)))
    # float32 near-ties may send the two devices down different paths: the covering
    # radius they reach must still agree closely
    ok, note = close(gpu[1][m - 1], cpu[1][m - 1], 5e-3, 0)
    record("kcenter_greedy cosine f32", size, cpu_s, gpu_s, ok,
           f"CPU timed on {m} picks, scaled; first {agree} picks identical; radius {note}")

    order = np.random.default_rng(4).permutation(deita_n)
    xd, gd = x[:deita_n], g[:deita_n]
    cpu, cpu_s = timed(lambda: scoring.deita_filter(xd, order, 0.9, device="cpu"))
    gpu, gpu_s = timed(lambda: scoring.deita_filter(gd, order, 0.9), sync)
    kept = _device.to_host(gpu)
    # float32 near-threshold flips may change a few decisions, never the invariant
    ok = abs(kept.size - cpu.size) <= max(5, cpu.size // 100)
    pair = _max_pairwise(cp, gd[cp.asarray(kept)])
    record("deita_filter f32", f"{deita_n}x768 thr=0.9", cpu_s, gpu_s,
           ok and pair <= 0.9 + 1e-5,
           f"kept {kept.size} vs {cpu.size} on CPU; max pairwise sim {pair:.4f}")

    xf, gf = x[:fl_n], g[:fl_n]
    cache = 4 << 30
    cpu, cpu_s = timed(lambda: scoring.facility_location_greedy(
        xf, fl_k, return_gains=True, similarity_cache_bytes=cache, device="cpu"))
    gpu, gpu_s = timed(lambda: scoring.facility_location_greedy(
        gf, fl_k, return_gains=True, similarity_cache_bytes=cache), sync)
    ok, note = close(float(np.sum(_device.to_host(gpu[1]))), float(np.sum(cpu[1])), 1e-3, 0)
    record("facility_location f32", f"{fl_n}x768 k={fl_k}", cpu_s, gpu_s, ok,
           f"objective {note}")

    sel = np.arange(0, n, max(1, n // 2_000))
    cpu, cpu_s = timed(lambda: scoring.max_similarity(x, sel, device="cpu"))
    gpu, gpu_s = timed(lambda: scoring.max_similarity(g, sel), sync)
    ok, note = close(gpu, cpu, 0, 2e-5)
    record("max_similarity f32", f"{n}x768 m={sel.size}", cpu_s, gpu_s, ok, note)


def _max_pairwise(cp: Any, rows: Any) -> float:
    u = rows / cp.linalg.norm(rows, axis=1, keepdims=True)
    best = -1.0
    for start in range(0, int(u.shape[0]), 4096):
        s = u[start:start + 4096] @ u.T
        idx = cp.arange(start, min(start + 4096, int(u.shape[0])))
        s[idx - start, idx] = -1.0
        best = max(best, float(s.max()))
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    ap.add_argument("--cpu-picks", type=int, default=200,
                    help="k-center picks timed on the CPU (scaled to k)")
    args = ap.parse_args(argv)

    status = _device.cupy_status()
    if status.module is None:
        print(f"gpu_check: nothing checked, no GPU path available: {status.missing}.")
        print("Run this on a machine with an NVIDIA GPU and CuPy "
              "(pip install 'fastzip[gpu]') to produce the GPU figures.")
        return 0
    cp = status.module
    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    print(f"gpu_check: {name}, CuPy {cp.__version__}, numpy {np.__version__}")

    def sync() -> None:
        cp.cuda.Device().synchronize()

    # warm up: compile the kernels and start cuBLAS outside the timings
    warm = np.random.default_rng(9).standard_normal((4, 8, 64)).astype(np.float32)
    scoring.token_nll(cp.asarray(warm), cp.zeros((4, 8), dtype=cp.int64))
    scoring.kcenter_greedy(cp.asarray(warm[0]), 2)
    sync()

    print(f"{'function':<28} {'size':<30} {'CPU':>10} {'GPU':>10} {'speed-up':>9}  check")
    start = time.perf_counter()
    if args.quick:
        check_losses(cp, sync, batch=2, seq=256)
        check_exact_float64(cp, n=3_000)
        check_speed_float32(cp, sync, n=20_000, k=200, cpu_picks=args.cpu_picks,
                            deita_n=5_000, fl_n=2_000, fl_k=50)
    else:
        check_losses(cp, sync, batch=8, seq=2048)
        check_exact_float64(cp, n=20_000)
        check_speed_float32(cp, sync, n=200_000, k=2_000, cpu_picks=args.cpu_picks,
                            deita_n=50_000, fl_n=20_000, fl_k=200)
    print(f"gpu_check: {len(ROWS)} comparisons in {time.perf_counter() - start:.0f}s")
    if FAILURES:
        print(f"gpu_check: {len(FAILURES)} MISMATCH(ES):")
        for line in FAILURES:
            print(f"  {line}")
        return 1
    print("gpu_check: all GPU results match the CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
