"""The CI micro-run of the proxy harness, timed: it must take at most 60 seconds.

Run:  pytest bench/bench_proxy_micro.py --benchmark-only

The run tests/proxy/test_harness.py makes in the default suite: five data
versions of 30 KB (ZIP, two random, inconsistent, a 50% mixture) built from
the first 1,000 OpenAI-evals records of tests/data, then ``fastzip law proxy``
trains the tiny model (context 64, width 32, one layer) on each, one seed, on
CPU.  Five versions rather than three: a performance law needs five runs.
The target is on the command; the build of the versions is timed beside it.

Checks: the runs table has the five versions, and every L and Z is a
plausible byte-level figure (L under ln 256 + 0.5 nats, Z between -9 and 0
bits per byte).
"""
from __future__ import annotations

import csv
import time

import corpora
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fastzip.cli import main  # noqa: E402
from fastzip.proxy.versions import build_versions  # noqa: E402

TARGET_S = 60.0
TINY = ["--context", "64", "--width", "32", "--heads", "2", "--layers", "1", "--batch-size", "16"]


@pytest.mark.benchmark(group="proxy micro-run")
def test_proxy_micro_run(benchmark, bench_results, tmp_path):
    rows = corpora.fixture_rows("openai_evals_5k.jsonl")[:1000]
    started = time.perf_counter()
    vs = build_versions(rows, budget_bytes=30_000, kinds=("zip", "random", "inconsistent", "mix"),
                        random_seeds=(0, 1), mixtures=(0.5,), heldout_bytes=12_000)
    files = vs.write(tmp_path / "versions")
    build_s = time.perf_counter() - started
    runs = iter(range(1000))

    def proxy() -> str:
        out = tmp_path / f"runs{next(runs)}.csv"      # a fresh table and cache each round: nothing reused
        versions = [f"{n}={p}" for n, p in files.items() if n != "heldout"]
        assert main(["law", "proxy", *versions, "--heldout", files["heldout"], "-o", str(out), "-q", *TINY]) == 0
        return str(out)

    timings: list[float] = []

    def timed() -> str:
        t0 = time.perf_counter()
        out = proxy()
        timings.append(time.perf_counter() - t0)
        return out

    out = benchmark.pedantic(timed, rounds=1, iterations=1)
    with open(out, newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["name"] for r in table] == ["zip", "random_s0", "random_s1", "mix50", "inconsistent"]
    assert all(0 < float(r["loss"]) < np.log(256) + 0.5 and -9 < float(r["performance"]) < 0 for r in table)
    bench_results.record("proxy micro-run", "seconds", timings[0])
    benchmark.extra_info.update(kind="proxy micro-run", versions=len(table), seeds=1, build_s=build_s,
                                seconds=timings[0], target_s=TARGET_S)


@pytest.mark.reads_results
@pytest.mark.benchmark(group="targets")
def test_proxy_micro_target(timed_target, bench_results):
    """The micro-run's command takes at most a minute."""
    seconds = bench_results.need("proxy micro-run", ["seconds"], "test_proxy_micro_run")["seconds"]
    assert seconds <= TARGET_S, f"the micro-run took {seconds:.1f} s > {TARGET_S:.0f} s"
