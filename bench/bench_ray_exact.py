"""Ray exact at B = 100,000: the same selection as one machine, and the driver's peak memory.

Run:  pytest bench/bench_ray_exact.py -m slow --benchmark-only --benchmark-json=bench/results/ray_exact.json

The pool: 900,000 samples of every OpenAI eval (``pip install --no-deps
evals==3.0.1.post1``), as OpenAI messages, written once as 8 JSONL shards
under /tmp (never committed; a later run reuses them).

Two commands, each in its own process, each timed and its peak resident
memory taken (``ru_maxrss`` of the command, through a small launcher):

1. ``fastzip select SHARDS -o local.jsonl --budget 100000 --codec lz77
   --indices-out local.json`` (one machine: a folder runs out of core);
2. the same with ``--ray --strategy exact``: a local Ray cluster (``num_cpus`` = the
   machine's cores) scores the shards in tasks, and the driver selects
   exactly from the top N (N = 1,000 rounds x K1 = 10,000 covers the whole
   pool here; ``--strategy auto`` would choose GreeDi, since N is over
   ``max_driver_samples``).  The driver's peak memory is the command's: Ray's worker
   processes are not its children's ``ru_maxrss``.

Checks: both select the same 100,000 indices in the same order.
The figures (wall time, driver peak RSS, the pool's bytes) go to the JSON.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import corpora
import pytest

pytestmark = pytest.mark.slow

POOL = 900_000
BUDGET = 100_000
SHARDS = 8
FOLDER = os.environ.get("FASTZIP_BENCH_RAY_POOL", "/tmp/fastzip_ray_exact_pool")

_LAUNCHER = (
    "import os, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "code = os.waitstatus_to_exitcode(status)\n"
    "print(usage.ru_maxrss, time.perf_counter() - t)\n"
    "sys.exit(code)\n"
)


def shards() -> str:
    """The pool's shard folder, written once."""
    marker = os.path.join(FOLDER, ".complete")
    if os.path.exists(marker):
        return FOLDER
    rows = corpora.evals_all_samples(POOL)
    if rows is None or len(rows) < POOL:
        pytest.skip(f"the evals package is not installed (or too small): {corpora.EVALS_INSTALL}")
    os.makedirs(FOLDER, exist_ok=True)
    per = -(-POOL // SHARDS)
    for s in range(SHARDS):
        with open(os.path.join(FOLDER, f"part-{s:02d}.jsonl"), "w", encoding="utf-8") as f:
            for row in rows[s * per:(s + 1) * per]:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    with open(marker, "w") as f:
        f.write("complete\n")
    return FOLDER


def _run(args: list[str]) -> tuple[int, float]:
    """Peak RSS (bytes) and wall seconds of a command."""
    proc = subprocess.run([sys.executable, "-c", _LAUNCHER, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rss, wall = proc.stdout.strip().splitlines()[-1].split()
    return int(rss) * 1024, float(wall)


def _both(tmp: str) -> dict:
    folder = shards()
    base = [sys.executable, "-m", "fastzip", "select", folder, "--budget", str(BUDGET), "--codec", "lz77", "--quiet"]
    local_rss, local_s = _run(base + ["-o", os.path.join(tmp, "local.jsonl"),
                                      "--indices-out", os.path.join(tmp, "local.json")])
    ray_rss, ray_s = _run(base + ["--ray", "--strategy", "exact", "-o", os.path.join(tmp, "ray"),
                                  "--indices-out", os.path.join(tmp, "ray.json")])
    return {"local_peak_rss": local_rss, "local_s": local_s, "ray_driver_peak_rss": ray_rss, "ray_s": ray_s,
            "pool_file_bytes": sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder)
                                   if n.endswith(".jsonl"))}


@pytest.mark.benchmark(group="ray exact at B = 100k")
def test_ray_exact_equals_one_machine(benchmark, tmp_path):
    figures = benchmark.pedantic(_both, args=(str(tmp_path),), rounds=1, iterations=1)
    local = json.load(open(tmp_path / "local.json"))
    ray = json.load(open(tmp_path / "ray.json"))
    assert len(local) == BUDGET and local == ray, "Ray exact differs from the single-machine selection"
    benchmark.extra_info.update(kind="ray exact", pool=POOL, budget=BUDGET, shards=SHARDS, codec="lz77",
                                cores=os.cpu_count(), **figures)
