"""ZIP-FIT with fastzip as its compression backend: the same picks, faster.

ZIP-FIT (gzip-alignment data selection, arXiv 2410.18194;
``pip install --no-deps zip-fit==1.0.9``) ranks every source text by its mean
similarity ``1 - NCD`` to a set of target texts, with ``C(s + t)`` from one
``gzip.compress`` call per pair on a process pool, and keeps the top k.

fastzip computes the same sizes in one C call on a thread pool
(``scoring.ncd_matrix`` on ``fastzip.pair_sizes``) and averages each row as
ZIP-FIT does, so the similarities are equal bit for bit and so are the picks.
This script runs ZIP-FIT's own ``rank_sequences_by_alignment`` next to the
fastzip path on real texts from tests/data (sources: openai evals records and
chit-chat dialogues; targets: Perl and Python FAQ answers) and asserts that
both agree::

    python examples/zipfit_backend.py --sources 1000 --targets 100 --level 9

Its zstd and lz4 modes are reproduced the same way (``fastzip_rank(...,
algorithm="zstd")``; zstd's sizes match when python-zstandard bundles the libzstd
fastzip links).  ZIP-FIT imports ``datasets`` (for its loaders) and ``brotli``
(for its brotli mode) at module level; ranking with gzip, zstd or lz4 uses neither, so when they are not
installed this script gives ZIP-FIT empty stand-ins for them.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
import types
from pathlib import Path

from fastzip import scoring

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def _jsonl(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_texts(n_sources: int, n_targets: int) -> tuple[list[str], list[str]]:
    evals = ["\n".join(r[k] for k in ("instruction", "input", "output") if r[k])
             for r in _jsonl("openai_evals_5k.jsonl")]
    chats = ["\n".join(f"{t['from']}: {t['value']}" for t in r["conversations"])
             for r in _jsonl("chitchat_1k.jsonl")]
    faq = [f"{r['instruction']}\n{r['output']}" for r in _jsonl("faq_qa.jsonl")]
    n_chat = n_sources * 2 // 5
    sources = evals[: n_sources - n_chat] + chats[:n_chat]
    return sources, faq[:n_targets]


def fastzip_rank(sources: list[str], targets: list[str], k: int, level: int = 0,
                 n_threads: int = -1, algorithm: str = "gzip") -> list[tuple[str, float]]:
    """``ZIPFIT(..., k=k, compression_algorithm=algorithm, compress_level=level)
    .rank_sequences_by_alignment(sources, targets)`` for gzip, zstd and lz4.

    Their sizes are ``gzip.compress``, ``zstandard.ZstdCompressor(level).compress``
    and ``lz4.frame.compress``: fastzip's codecs "gzip", "zstd" and "lz4" with
    their default (one-shot) containers.
    """
    similarity = 1 - scoring.ncd_matrix(sources, targets, codec=algorithm, level=level,
                                        n_threads=n_threads)
    mean = similarity.mean(axis=1)       # np.mean of each source's similarities, as ZIP-FIT
    ranked = sorted(range(len(sources)), key=lambda i: mean[i], reverse=True)[:k]
    return [(sources[i], mean[i]) for i in ranked]


def _zipfit_class():
    """ZIP-FIT's class, with stand-ins for the two imports gzip ranking never uses."""
    for name in ("datasets", "brotli"):
        try:
            __import__(name)
        except ImportError:
            stub = types.ModuleType(name)
            stub.load_dataset = None
            sys.modules[name] = stub
    from zip_fit import ZIPFIT

    return ZIPFIT


def zipfit_rank(sources: list[str], targets: list[str], k: int, level: int = 0,
                algorithm: str = "gzip") -> list[tuple[str, float]]:
    """ZIP-FIT's own code (a process per core)."""
    zipfit = _zipfit_class()(source_dataset="", target_dataset="", k=k, output_file=os.devnull,
                             compression_algorithm=algorithm, compress_level=level)
    with contextlib.redirect_stdout(io.StringIO()):          # its progress lines
        return zipfit.rank_sequences_by_alignment(sources, targets)


def same_picks(ours: list[tuple[str, float]], theirs: list[tuple[str, float]]) -> bool:
    """Equal texts and scores; among equal scores ZIP-FIT's order follows its worker timing."""
    if [s for _, s in ours] != [s for _, s in theirs]:
        return False
    by_score: dict[float, list[str]] = {}
    for (text_a, score), (text_b, _) in zip(ours, theirs):
        by_score.setdefault(score, [[], []])
        by_score[score][0].append(text_a)
        by_score[score][1].append(text_b)
    last = ours[-1][1] if ours else None
    return all(sorted(a) == sorted(b) or score == last for score, (a, b) in by_score.items())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("-k", type=int, default=100)
    parser.add_argument("--level", type=int, default=9, help="gzip level (ZIP-FIT's default is 0)")
    parser.add_argument("--threads", type=int, default=-1)
    args = parser.parse_args(argv)
    sources, targets = load_texts(args.sources, args.targets)

    start = time.perf_counter()
    theirs = zipfit_rank(sources, targets, args.k, args.level)
    t_zipfit = time.perf_counter() - start
    start = time.perf_counter()
    ours = fastzip_rank(sources, targets, args.k, args.level, n_threads=args.threads)
    t_fz = time.perf_counter() - start

    assert same_picks(ours, theirs), "picks differ"
    print(f"{len(sources)} sources x {len(targets)} targets, gzip-{args.level}, top {args.k}: "
          f"same picks and scores; ZIP-FIT {t_zipfit:.2f} s ({os.cpu_count()} processes), "
          f"fastzip {t_fz:.2f} s ({t_zipfit / t_fz:.1f}x)")
    return {"zipfit_s": t_zipfit, "fastzip_s": t_fz}


if __name__ == "__main__":
    main()
