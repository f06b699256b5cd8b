"""fastzip's pytest plugin (fastzip.benchmarks), run as a user runs it, and the judge it uses."""
from __future__ import annotations

import importlib.metadata
import json
import os
import random
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import fastzip
from fastzip.benchmarks import matrix
from fastzip.benchmarks.corpus import Corpus
from fastzip.samples.pool import Pool
from fastzip.selection.judge import judge_ratio

pytest.importorskip("pytest_benchmark")

PLUGIN = "fastzip.benchmarks.plugin"
EXPECTED_LABELS = [matrix.codec_label(c, lv) for c, lv in matrix.BUILTIN_LEVELS] + ["bz2", "lzma"]
BENCHMARKS = ("test_one_shot", "test_incremental", "test_selection_quality")


def entry_point_installed() -> bool:
    """True when the installed fastzip declares the plugin (then pytest loads it by itself)."""
    return any(ep.value == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11"))


def run_plugin(args: list[str], cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m pytest --pyargs fastzip.benchmarks ARGS`` with the fastzip this test imports.

    An installed fastzip loads the plugin through its ``pytest11`` entry
    point; a tree built in place (no entry point installed) gets ``-p``.
    """
    root = str(Path(fastzip.__file__).resolve().parent.parent)
    paths = [root] + ([str(extra_path)] if extra_path else []) + [os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))
    load = [] if entry_point_installed() else ["-p", PLUGIN]
    return subprocess.run([sys.executable, "-m", "pytest", *load, "--pyargs", "fastzip.benchmarks", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def junit_cases(path: Path) -> dict[str, str]:
    """Test id -> outcome ("passed", "failed", "error", "skipped") from a JUnit XML report."""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = child.tag
        out[case.get("name")] = outcome
    return out


# ------------------------------------------------------------------------------ the judge
def test_judge_ratio_is_zstd19_over_the_selection_in_index_order(faq_rows):
    import zstandard as zs

    pool = Pool.from_samples(faq_rows, "text")
    picked = [40, 3, 17, 250, 8]
    blob = b"\n".join(pool.item(i) for i in sorted(picked))
    params = zs.ZstdCompressionParameters.from_level(19, window_log=20)
    want = len(blob) / len(zs.ZstdCompressor(compression_params=params).compress(blob))
    assert judge_ratio(pool, picked) == want
    assert judge_ratio(pool, picked[::-1]) == want                      # order-independent
    assert judge_ratio(pool, np.array(picked)) == want
    assert judge_ratio([pool.item(i) for i in range(len(pool))], picked) == want   # a list of bytes too


def test_judge_ratio_sees_redundancy_beyond_zlibs_window(faq_rows):
    """A selection that repeats itself 200 KB later is judged far more redundant: the window covers it all."""
    pool = Pool.from_samples(faq_rows, "text")
    rng = random.Random(0)
    first = sorted(rng.sample(range(len(pool)), 150))
    pieces = [pool.item(i) for i in first]
    assert sum(len(p) for p in pieces) > 100_000
    doubled = pieces + pieces
    assert judge_ratio(doubled, range(len(doubled))) > 1.8 * judge_ratio(pieces, range(len(pieces)))


def test_judge_ratio_errors(faq_rows):
    pool = Pool.from_samples(faq_rows[:20], "text")
    with pytest.raises(fastzip.UsageError, match="at least one index"):
        judge_ratio(pool, [])
    with pytest.raises(fastzip.UsageError, match="index 20 is outside the pool of 20 samples"):
        judge_ratio(pool, [0, 20])
    with pytest.raises(fastzip.UsageError, match="index -1"):
        judge_ratio(pool, [-1])


# ------------------------------------------------------------------ matrix and corpus pieces
def test_codec_matrix_and_selection():
    labels = [s.label for s in matrix.codec_matrix()]
    assert labels[:len(EXPECTED_LABELS)] == EXPECTED_LABELS
    fastzip.register_codec("rle-test", lambda b: b, replace=True)
    try:
        assert "rle-test" in [s.label for s in matrix.codec_matrix()]
        picked = matrix.codec_matrix("zstd-5, zlib,rle-test,lz4-0,zstd-5")
        assert [s.label for s in picked] == ["zstd-5", "zlib-1", "zlib-6", "zlib-9", "rle-test", "lz4-0"]
        assert [s.registered for s in picked] == [False] * 4 + [True, False]
    finally:
        fastzip.unregister_codec("rle-test")
    for bad, message in (("brotli", "unknown codec 'brotli'"), ("zlib-10", "zlib level must be 0..9"),
                         (" , ", "names no codec")):
        with pytest.raises(fastzip.UsageError, match=message):
            matrix.codec_matrix(bad)


def test_corpus_workloads(evals_rows):
    corpus = Corpus.from_samples("evals", evals_rows)
    pieces = [fastzip.samples.serialize.serialize_sample(r, "text") for r in evals_rows]
    assert corpus.total == len(evals_rows) and len(corpus.pool) < len(evals_rows)   # only what is used
    assert corpus.one_shot_blob() == b"\n".join(pieces)[:1_000_000]
    stream, cands = corpus.stream_and_candidates(200)
    n = _count_pieces(stream, pieces)
    assert stream == b"\n".join(pieces[:n])               # whole samples, just past 1 MB
    assert len(stream) + 1 >= 1_000_000 > len(b"\n".join(pieces[:n - 1])) + 1
    assert cands == pieces[n:n + 200]
    qpool = corpus.quality_pool(2000)
    assert len(qpool.pool) == 1999                          # the first 2,000 samples, one duplicate dropped
    assert (qpool.budget, qpool.k1, qpool.k2, qpool.k3) == (199, 1999, 99, 49)
    assert corpus.quality_sizes(registered=False) == [2000, 300] and corpus.quality_sizes(registered=True) == [300]
    with pytest.raises(fastzip.UsageError, match="at least 10 samples, the corpus has 3"):
        Corpus.from_samples("tiny", ["a", "b", "c"])


def _count_pieces(stream: bytes, pieces: list[bytes]) -> int:
    """How many whole pieces, joined by newlines, make up ``stream``."""
    size, n = -1, 0
    while size < len(stream):
        size += len(pieces[n]) + 1
        n += 1
    assert size == len(stream)
    return n


# ---------------------------------------------------------------- the plugin, as users run it
def test_plugin_runs_the_codec_matrix_on_a_corpus(data_dir, tmp_path):
    xml = tmp_path / "junit.xml"
    proc = run_plugin(["--fastzip-corpus", str(data_dir / "chitchat_1k.jsonl"), "--benchmark-disable", "-q",
                       "-p", "no:cacheprovider", f"--junit-xml={xml}"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cases = junit_cases(xml)
    assert set(cases.values()) == {"passed"}
    for label in EXPECTED_LABELS:
        assert cases[f"test_one_shot[chitchat_1k-{label}]"] == "passed"
        assert cases[f"test_incremental[chitchat_1k-{label}]"] == "passed"
        assert cases[f"test_selection_quality[chitchat_1k-300-{label}]"] == "passed"
    builtin = EXPECTED_LABELS[:-2]
    assert [c for c in cases if c.startswith("test_selection_quality[chitchat_1k-1000-")] == \
        [f"test_selection_quality[chitchat_1k-1000-{label}]" for label in builtin]   # registered: small pool only
    assert len(cases) == 3 * len(EXPECTED_LABELS) + len(builtin)


def test_report_reads_what_the_plugin_writes(data_dir, tmp_path):
    out = tmp_path / "bench.json"
    proc = run_plugin(["--fastzip-corpus", str(data_dir / "chitchat_1k.jsonl"), "--fastzip-codecs",
                       "zstd-3,lz4-0,bz2", "--benchmark-only", f"--benchmark-json={out}", "-q",
                       "-p", "no:cacheprovider"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    block = data["fastzip"]
    assert block["version"] == fastzip.__version__ and block["codecs"] == ["zstd-3", "lz4-0", "bz2"]
    assert block["corpora"][0]["name"] == "chitchat_1k" and block["corpora"][0]["samples"] == 1000
    kinds = sorted((b["extra_info"]["kind"], b["extra_info"].get("mode", ""), b["extra_info"]["label"])
                   for b in data["benchmarks"])
    assert kinds == sorted([(k, m, lab) for k, m in (("throughput", "one-shot"), ("throughput", "incremental"))
                            for lab in ("zstd-3", "lz4-0", "bz2")]
                           + [("quality", "", lab) for lab in ("zstd-3", "lz4-0", "zstd-3", "lz4-0", "bz2")])

    report_dir = tmp_path / "report"
    cmd = subprocess.run([sys.executable, "-m", "fastzip", "bench-report", str(out), "-o", str(report_dir),
                          "--no-plots"], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(Path(fastzip.__file__).resolve().parent.parent)))
    assert cmd.returncode == 0, cmd.stderr
    text = (report_dir / "report.md").read_text()
    assert f"- fastzip {fastzip.__version__}: zlib " in text
    assert "- corpus chitchat_1k (" in text and "chitchat_1k.jsonl): 1,000 samples, 3.06 MB" in text
    summary = text.split("## Codecs on chitchat_1k", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    assert rows[0] == ("| codec | one-shot MB/s | ratio | marginal sizes/s | vs random (999) | select, s (999) "
                       "| vs random (300) | select, s (300) |")
    assert [r.split(" | ")[0] for r in rows[1:]] == ["| zstd-3", "| lz4-0", "| bz2 (registered)"]
    zstd = next(b for b in data["benchmarks"] if b["extra_info"]["label"] == "zstd-3"
                and b["extra_info"].get("mode") == "one-shot")["extra_info"]
    assert rows[1].split(" | ")[1:3] == [f"{zstd['mb_per_s']:.3g}", f"{zstd['ratio']:.3g}"]
    assert rows[3].split(" | ")[4:6] == ["", ""]            # registered codecs: the small pool only
    for group in ("throughput one-shot chitchat_1k", "throughput incremental chitchat_1k",
                  "quality chitchat_1k (999 samples)", "quality chitchat_1k (300 samples)"):
        assert f"## {group}\n" in text


def test_registered_codecs_join_the_matrix(data_dir, tmp_path):
    (tmp_path / "my_codecs.py").write_text(textwrap.dedent('''
        import zlib
        import fastzip

        fastzip.register_codec("deflate1", lambda data: zlib.compress(data, 1))
    '''))
    xml = tmp_path / "junit.xml"
    proc = run_plugin(["-p", "my_codecs", "--fastzip-corpus", str(data_dir / "faq_qa.jsonl"),
                       "--fastzip-codecs", "deflate1,zstd-3", "--benchmark-disable", "-q", "-p", "no:cacheprovider",
                       f"--junit-xml={xml}"], cwd=tmp_path, extra_path=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cases = junit_cases(xml)
    assert sorted(cases) == sorted(["test_one_shot[faq_qa-deflate1]", "test_one_shot[faq_qa-zstd-3]",
                                    "test_incremental[faq_qa-deflate1]", "test_incremental[faq_qa-zstd-3]",
                                    "test_selection_quality[faq_qa-481-zstd-3]",
                                    "test_selection_quality[faq_qa-300-deflate1]",
                                    "test_selection_quality[faq_qa-300-zstd-3]"])
    assert set(cases.values()) == {"passed"}


def test_without_a_corpus_the_bundled_pool_is_used(tmp_path):
    proc = run_plugin(["--collect-only", "-q", "-p", "no:cacheprovider"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "test_codecs.py::test_one_shot[faq_qa-zstd-3]" in proc.stdout
    assert "test_quality.py::test_selection_quality[faq_qa-481-lzma]" not in proc.stdout
    assert "test_quality.py::test_selection_quality[faq_qa-300-lzma]" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--fastzip-corpus", "{tmp}/missing.jsonl"], "missing.jsonl"),
    (["--fastzip-corpus", "{tmp}/bad.jsonl"], "bad.jsonl: record 1 (line 2): "),
    (["--fastzip-corpus", "{tmp}/few.jsonl"], "at least 10 samples, the corpus has 3"),
    (["--fastzip-corpus", "{tmp}/pool.txt"], "pass --fastzip-format"),
    (["--fastzip-corpus", "{tmp}/few.jsonl", "--fastzip-text-field", "body"],
     "record 0 (line 1): missing field 'body'"),
    (["--fastzip-corpus", "-"], "--fastzip-corpus needs a file"),
    (["--fastzip-codecs", "brotli"], "unknown codec 'brotli' in --fastzip-codecs"),
    (["--fastzip-threads", "0"], "--fastzip-threads must be at least 1"),
])
def test_bad_options_stop_the_run_with_one_line(tmp_path, args, message):
    (tmp_path / "bad.jsonl").write_text('{"text": "fine"}\n{"text": \n')
    (tmp_path / "few.jsonl").write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c"}\n')
    (tmp_path / "pool.txt").write_text('{"text": "a"}\n')
    proc = run_plugin([a.format(tmp=tmp_path) for a in args] + ["--collect-only", "-q", "-p", "no:cacheprovider"],
                      cwd=tmp_path)
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and message in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_json_and_parquet_corpora_with_a_text_field(faq_rows, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [{"question": r["instruction"], "answer": r["output"]} for r in faq_rows[:200]]
    (tmp_path / "faq.json").write_text(json.dumps(rows))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "faq.parquet")
    out = tmp_path / "bench.json"
    proc = run_plugin(["--fastzip-corpus", "faq.json", "--fastzip-corpus", "faq.parquet",
                       "--fastzip-text-field", "answer", "--fastzip-codecs", "zstd-3", "--benchmark-only",
                       f"--benchmark-json={out}", "-q", "-p", "no:cacheprovider"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert [c["name"] for c in data["fastzip"]["corpora"]] == ["faq-0", "faq-1"]   # one name twice: numbered
    assert {c["text_field"] for c in data["fastzip"]["corpora"]} == {"answer"}
    one_shot = {b["extra_info"]["corpus"]: b["extra_info"] for b in data["benchmarks"]
                if b["extra_info"].get("mode") == "one-shot"}
    answers = "\n".join(r["answer"] for r in rows).encode()
    assert one_shot["faq-0"]["bytes"] == one_shot["faq-1"]["bytes"] == len(answers)   # the field, both formats
    assert one_shot["faq-0"]["ratio"] == one_shot["faq-1"]["ratio"] == fastzip.compression_ratio(answers, "zstd", 3)
