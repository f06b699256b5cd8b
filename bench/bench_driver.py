"""The bounded driver: the same selection from a disk-backed pool and from memory, and the memory each holds.

Run:  pytest bench/bench_driver.py --benchmark-only --benchmark-group-by=group

A pool of real text (the bundled evals samples, tests/data/openai_evals_5k.jsonl,
repeated to about 256 MiB of serialized bytes; ``dedupe=False`` keeps the
copies) is written once to a pool folder (fastzip.scale.disk).  Two fresh
processes then select 2,000 samples with lz77, K 10000/200/100: one from the
folder memory-mapped, one from the same bytes read into memory.  Each
samples its anonymous resident memory (``RssAnon``: not the file pages the
kernel maps in and may drop at will) every 5 ms and reports the peak.

Checks: both pick the same samples.  Target (``test_driver_targets``): the
disk-backed run's peak anonymous memory is below the in-memory run's by at
least half the pool's bytes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import corpora
import pytest

from fastzip.samples.pool import Pool
from fastzip.scale.disk import write_pool

POOL_BYTES = 256 << 20
BUDGET = 2000

CHILD = textwrap.dedent("""
    import json, os, sys, threading, time
    import numpy as np
    import fastzip
    from fastzip.samples.pool import Pool
    from fastzip.scale.disk import open_pool

    peak = [0]
    def rss_anon():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
        return 0
    def watch():
        while True:
            peak[0] = max(peak[0], rss_anon())
            time.sleep(0.005)
    threading.Thread(target=watch, daemon=True).start()
    folder, where, budget = sys.argv[1], sys.argv[2], int(sys.argv[3])
    pool = open_pool(folder)
    if where == "memory":
        pool = Pool(np.array(pool.data), np.array(pool.offsets), pool.serializer)
    res = fastzip.select(pool, budget, k1=10000, k2=200, k3=100, codec="lz77", dedupe=False)
    time.sleep(0.02)
    print(json.dumps({"peak_anon": max(peak[0], rss_anon()), "indices": res.indices.tolist()}))
""")


@pytest.fixture(scope="module")
def pool_folder(tmp_path_factory, request):
    rows = corpora.fixture_rows("openai_evals_5k.jsonl")
    one = Pool.from_samples(rows, "text")
    # with timings off (a correctness run) a 16 MiB pool is enough to check the picks
    size = (16 << 20) if request.config.getoption("benchmark_disable", False) else POOL_BYTES
    copies = max(1, size // max(1, int(one.offsets[-1])))
    pool = one.take([i for _ in range(copies) for i in range(len(one))])
    folder = tmp_path_factory.mktemp("driver") / "pool"
    write_pool(pool, folder)
    return folder, int(pool.offsets[-1]), len(pool)


def run_child(folder, where: str) -> dict:
    env = dict(os.environ)
    done = subprocess.run([sys.executable, "-c", CHILD, str(folder), where, str(BUDGET)], capture_output=True,
                          text=True, env=env, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    out: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return out


@pytest.mark.benchmark(group="bounded driver")
def test_disk_and_memory_pools_pick_the_same(benchmark, bench_results, pool_folder):
    folder, nbytes, n = pool_folder
    disk = benchmark.pedantic(run_child, args=(folder, "disk"), rounds=1, iterations=1)
    memory = run_child(folder, "memory")
    assert disk["indices"] == memory["indices"] and len(disk["indices"]) == BUDGET
    figures = {"pool_bytes": nbytes, "samples": n, "disk_peak_anon": disk["peak_anon"],
               "memory_peak_anon": memory["peak_anon"]}
    bench_results.record("driver", "peaks", figures)
    benchmark.extra_info.update(kind="driver", budget=BUDGET, **figures)


@pytest.mark.reads_results
@pytest.mark.benchmark(group="targets")
def test_driver_targets(timed_target, bench_results):
    """The disk-backed pool saves at least half the pool's bytes of anonymous memory."""
    figures = bench_results.section("driver").get("peaks")
    if figures is None:
        pytest.skip("needs test_disk_and_memory_pools_pick_the_same in the same run")
    saved = figures["memory_peak_anon"] - figures["disk_peak_anon"]
    assert saved >= figures["pool_bytes"] / 2, (
        f"disk-backed peak {figures['disk_peak_anon'] >> 20} MiB, in memory {figures['memory_peak_anon'] >> 20} MiB, "
        f"pool {figures['pool_bytes'] >> 20} MiB")
