"""Peak memory of `fastzip select` on the whole ShareGPT corpus.

Run:  pytest bench/bench_memory.py --benchmark-only -s

Target (issue 3): peak RSS of the CLI on a pool of P serialized bytes stays
under 3·P + 300 MB.  P is the pool's size under the run's serializer (text,
the default mode's), measured the way fastzip packs it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from corpora import SHAREGPT_INSTALL, sharegpt_conversations

MB = 1 << 20


@pytest.fixture(scope="module")
def sharegpt_file(tmp_path_factory):
    conversations = sharegpt_conversations()
    if conversations is None:
        pytest.skip(f"ShareGPT corpus not installed: {SHAREGPT_INSTALL}")
    path = tmp_path_factory.mktemp("sharegpt") / "sharegpt.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for conv in conversations:
            if conv.get("conversations"):
                f.write(json.dumps(conv, ensure_ascii=False) + "\n")
    return path


def _pool_bytes(path) -> int:
    from fastzip.io import read_records
    from fastzip.samples.pool import Pool

    return int(Pool.from_samples(read_records(path), "text", allow_empty=True).offsets[-1])


# A child's ru_maxrss starts from its parent's peak at fork time on Linux, so
# a big parent (this pytest process, holding the corpus) would inflate it.
# A small launcher process forks the command and reports the command's peak.
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "code = os.waitstatus_to_exitcode(status)\n"
    "print(usage.ru_maxrss)\n"
    "sys.exit(code)\n"
)


def _peak_rss_of(args: list[str]) -> int:
    """Run a command; return its peak resident set size in bytes (Linux ru_maxrss is KiB)."""
    proc = subprocess.run([sys.executable, "-c", _LAUNCHER, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.strip().splitlines()[-1]) * 1024


@pytest.mark.benchmark(group="memory")
def test_peak_rss_of_select_on_sharegpt(benchmark, sharegpt_file, tmp_path):
    pool_bytes = _pool_bytes(sharegpt_file)
    n = sum(1 for _ in open(sharegpt_file, encoding="utf-8"))
    out = tmp_path / "selected.jsonl"
    command = [sys.executable, "-m", "fastzip", "select", str(sharegpt_file), "-o", str(out),
               "--budget", str(n // 10), "--quiet"]
    peak = benchmark.pedantic(_peak_rss_of, args=(command,), rounds=1, iterations=1)
    limit = 3 * pool_bytes + 300 * MB
    benchmark.extra_info.update(pool_records=n, pool_bytes=pool_bytes, peak_rss_bytes=peak,
                                limit_bytes=limit, file_bytes=os.path.getsize(sharegpt_file))
    print(f"\npool: {n} records, P = {pool_bytes / MB:.1f} MB serialized; "
          f"peak RSS {peak / MB:.0f} MB; limit 3P + 300 MB = {limit / MB:.0f} MB")
    assert peak < limit
