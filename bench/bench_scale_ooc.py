"""Out-of-core select on a pool larger than memory should allow: peak RSS and wall time.

Run:  python bench/bench_scale_ooc.py [--gb 5] [--budget 1000] [--folder /tmp/fastzip_ooc_pool]

The pool is real text made big: the evals fixture's 4,842 samples and the
ShareGPT human/gpt pairs (when installed), repeated, each copy carrying a
per-copy marker ("[copy c] " before its first text field) so that no two
samples are equal.  It is written under /tmp as JSONL shards of about
256 MB and never committed; a later run reuses it.

Measured, each in its own process (peak RSS from getrusage):

1. ``fastzip select FOLDER -o out.jsonl --budget B`` (out of core);
2. the baseline: one streaming pass of stand-alone scoring (parse, serialize,
   score; nothing kept) plus ``fastzip.select`` on the N samples kept.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
SHARD_BYTES = 256 * 2**20


def base_samples() -> list[dict]:
    import corpora

    rows = list(corpora.fixture_rows("openai_evals_5k.jsonl"))
    pairs = corpora.sharegpt_pairs(None)
    return rows + (list(pairs) if pairs else [])


def marked(sample: dict, copy: int) -> dict:
    out = json.loads(json.dumps(sample))
    tag = f"[copy {copy}] "
    if "conversations" in out:
        out["conversations"][0]["value"] = tag + out["conversations"][0]["value"]
    elif "instruction" in out:
        out["instruction"] = tag + (out["instruction"] or "")
    else:
        out["text"] = tag + out.get("text", "")
    return out


def generate(folder: str, gb: float) -> tuple[int, int]:
    """Write the pool (or reuse it); returns (samples, bytes)."""
    done = os.path.join(folder, ".complete")
    if os.path.exists(done):
        meta = json.load(open(done))
        if meta["gb"] >= gb:
            return meta["samples"], meta["bytes"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        os.unlink(os.path.join(folder, name))
    base = base_samples()
    target = int(gb * 2**30)
    written = samples = shard = 0
    out = open(os.path.join(folder, f"part-{shard:05d}.jsonl"), "wb")
    size = 0
    copy = 0
    while written < target:
        for s in base:
            line = (json.dumps(marked(s, copy), ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")
            out.write(line)
            size += len(line)
            written += len(line)
            samples += 1
            if size >= SHARD_BYTES:
                out.close()
                shard += 1
                out = open(os.path.join(folder, f"part-{shard:05d}.jsonl"), "wb")
                size = 0
            if written >= target:
                break
        copy += 1
    out.close()
    json.dump({"gb": gb, "samples": samples, "bytes": written, "copies": copy}, open(done, "w"))
    return samples, written


BASELINE = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from fastzip import scale
from fastzip.scale import ooc as shards
import fastzip
folder, budget = sys.argv[2], int(sys.argv[3])
paths = shards.expand_inputs(folder)
scorer = scale.Scorer()
t = time.perf_counter()
for batch in shards.iter_batches(paths):
    scorer(batch.records)
score_s = time.perf_counter() - t
print(json.dumps({"score_only_s": score_s}))
"""


def child_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=5.0)
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--folder", default="/tmp/fastzip_ooc_pool")
    a = ap.parse_args()
    t = time.perf_counter()
    samples, nbytes = generate(a.folder, a.gb)
    print(f"pool: {samples:,} samples, {nbytes / 2**30:.2f} GiB in {a.folder} "
          f"(generated/reused in {time.perf_counter() - t:.0f} s)", flush=True)
    env = {**os.environ, "PYTHONPATH": ROOT}
    out = os.path.join("/tmp", "fastzip_ooc_selected.jsonl")
    # 1. the out-of-core CLI, in its own process
    t = time.perf_counter()
    code = ("import sys, json, resource; sys.path.insert(0, sys.argv[1]); from fastzip.scale import ooc as shards;"
            "r = shards.select_shards(sys.argv[2], int(sys.argv[3]), sys.argv[4]);"
            "print(json.dumps({'timings': r.timings, 'kept': r.kept, 'pool': r.pool_size, 'ratio': r.ratio,"
            "'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")
    res = subprocess.run([sys.executable, "-c", code, ROOT, a.folder, str(a.budget), out], env=env,
                         capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    info = json.loads(res.stdout.strip().splitlines()[-1])
    # 2. the baseline: one pass of stand-alone scoring only
    t = time.perf_counter()
    res2 = subprocess.run([sys.executable, "-c", BASELINE, ROOT, a.folder, str(a.budget)], env=env,
                          capture_output=True, text=True, check=True)
    base_wall = time.perf_counter() - t
    score_only = json.loads(res2.stdout.strip().splitlines()[-1])["score_only_s"]
    baseline = score_only + info["timings"]["select_s"]
    report = {
        "pool_samples": info["pool"], "pool_gib": nbytes / 2**30, "budget": a.budget, "N": info["kept"],
        "N_fraction": info["kept"] / info["pool"], "ooc_wall_s": wall, "ooc_timings": info["timings"],
        "ooc_peak_rss_mb": info["rss_mb"], "score_only_pass_s": score_only, "score_only_wall_s": base_wall,
        "baseline_s": baseline, "ooc_over_baseline": sum(info["timings"].values()) / baseline,
    }
    print(json.dumps(report, indent=1))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "scale_ooc.json"), "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
