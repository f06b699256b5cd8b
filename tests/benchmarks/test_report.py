"""fastzip.cli.bench_report on JSON from a real (tiny) pytest-benchmark run that records as fastzip's benchmarks do.

The plugin's own benchmarks feed the report in tests/benchmarks/test_plugin.py.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fastzip
from fastzip.benchmarks import report as bench_report
from fastzip.cli import bench_report as bench_report_command

pytest.importorskip("pytest_benchmark")

TINY_BENCH = textwrap.dedent('''
    import bz2
    import zlib
    import pytest

    from fastzip.benchmarks.results import SELECT, THROUGHPUT, record

    DATA = b"the quick brown fox jumps over the lazy dog " * 2000
    CODECS = {"zlib-1": lambda b: zlib.compress(b, 1), "zlib-9": lambda b: zlib.compress(b, 9),
              "bz2": lambda b: bz2.compress(b, 9)}

    @pytest.mark.parametrize("label", list(CODECS))
    def test_throughput(benchmark, label):
        benchmark.group = "throughput one-shot tiny"
        out = benchmark.pedantic(CODECS[label], args=(DATA,), rounds=2, iterations=1)
        codec, _, level = label.partition("-")
        record(benchmark, kind=THROUGHPUT, mode="one-shot", corpus="tiny", codec=codec, level=int(level or 0),
               label=label, registered=codec == "bz2", bytes=len(DATA),
               mb_per_s=len(DATA) / 1e6 / benchmark.stats.stats.mean, ratio=len(DATA) / len(out))

    @pytest.mark.benchmark(group="selection scaling")
    @pytest.mark.parametrize("pool_size", [1000, 4000, 16000])
    def test_scaling(benchmark, pool_size):
        benchmark.pedantic(lambda: sorted(range(pool_size * 50, 0, -1)), rounds=2, iterations=1)
        record(benchmark, kind=SELECT, mode="default", pool_size=pool_size)
''')
# what the repository's bench/conftest.py does: load the plugin, have the JSON carry its block
TINY_CONFTEST = textwrap.dedent('''
    pytest_plugins = ["fastzip.benchmarks.plugin"]

    def pytest_configure(config):
        from fastzip.benchmarks.plugin import enable_json_block

        enable_json_block(config)
''')


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory):
    """Run the tiny benchmark file in a subprocess and return its --benchmark-json path."""
    folder = tmp_path_factory.mktemp("tinybench")
    (folder / "test_tiny_bench.py").write_text(TINY_BENCH)
    (folder / "conftest.py").write_text(TINY_CONFTEST)
    out = folder / "bench.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(Path(fastzip.__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run([sys.executable, "-m", "pytest", "test_tiny_bench.py", "-q", "-p", "no:cacheprovider",
                           "--benchmark-only", f"--benchmark-json={out}"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def png_size(path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_markdown_tables_from_a_real_run(bench_json, tmp_path, capsys):
    assert bench_report.report(str(bench_json), str(tmp_path), plots=False) == 0
    text = (tmp_path / "report.md").read_text()
    assert capsys.readouterr().out.strip() == text.strip()
    assert "## throughput one-shot tiny" in text and "## selection scaling" in text
    assert "mode: one-shot · corpus: tiny · input: 88 KB" in text   # shared values above the table
    assert "| benchmark | mean | ± stddev | rounds | codec | MB/s | ratio |" in text
    rows = [line for line in text.splitlines() if line.startswith("| `throughput[")]
    assert len(rows) == 3 and "| zlib-1 |" in rows[0] and "| zlib-9 |" in rows[1] and "| bz2 |" in rows[2]
    data = json.loads(bench_json.read_text())
    mbs = data["benchmarks"][0]["extra_info"]["mb_per_s"]
    assert bench_report.fmt_value("mb_per_s", mbs) in rows[0]
    assert text.count("| `scaling[") == 3
    assert "Fitted slopes" in text and "- default: **" in text
    assert not list(tmp_path.glob("*.png"))


def test_summary_compares_the_codecs_of_each_corpus(bench_json, tmp_path):
    assert bench_report.report(str(bench_json), str(tmp_path), plots=False, out=open(os.devnull, "w")) == 0
    text = (tmp_path / "report.md").read_text()
    summary = text.split("## Codecs on tiny\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    assert rows[0] == "| codec | one-shot MB/s | ratio |"
    data = json.loads(bench_json.read_text())
    for row, bench in zip(rows[1:], data["benchmarks"][:3]):
        e = bench["extra_info"]
        name = e["label"] + (" (registered)" if e["registered"] else "")
        assert row == f"| {name} | {bench_report.fmt_value('mb_per_s', e['mb_per_s'])} | " \
                      f"{bench_report.fmt_value('ratio', e['ratio'])} |"
    assert len(rows) == 4
    assert text.index("## Codecs on tiny") < text.index("## throughput one-shot tiny")


def test_the_plugins_block_heads_the_report(bench_json, tmp_path):
    data = json.loads(bench_json.read_text())
    block = data["fastzip"]
    assert block["version"] == fastzip.__version__ and set(block["build"]["codecs"]) == {"zlib", "zstd", "lz4"}
    assert bench_report.report(str(bench_json), str(tmp_path), plots=False, out=open(os.devnull, "w")) == 0
    text = (tmp_path / "report.md").read_text()
    zlib_info = block["build"]["codecs"]["zlib"]
    assert f"- fastzip {fastzip.__version__}: zlib {zlib_info['active']} {zlib_info['library']}, zstd " in text
    assert "- threads: 1" in text


def test_extra_info_takes_json_values_only():
    from fastzip.benchmarks.results import record

    class Bench:
        extra_info: dict = {}

    record(Bench, ratio=2.5, label="zstd-3", threads=1, registered=False, mb_per_s=None)
    assert Bench.extra_info["ratio"] == 2.5
    with pytest.raises(TypeError, match="extra_info\\['sizes'\\] must be a number"):
        record(Bench, sizes=[1, 2])


def test_png_plots_are_valid_and_small(bench_json, tmp_path):
    pytest.importorskip("matplotlib")
    assert bench_report.report(str(bench_json), str(tmp_path)) == 0
    for name in ("throughput.png", "scaling.png"):
        path = tmp_path / name
        width, height = png_size(path)
        assert width > 100 and height > 100
        assert path.stat().st_size < 200_000
    assert "![scaling](scaling.png)" in (tmp_path / "report.md").read_text()
    assert not (tmp_path / "quality.png").exists()        # no quality benchmarks in this run
    assert not list(tmp_path.glob(".*.tmp"))              # atomic writes leave nothing behind


def test_fitted_slope():
    assert bench_report.fit_slope([1, 10, 100], [2, 200, 20000]) == pytest.approx(2.0)
    assert bench_report.fit_slope([1000, 2000, 4000], [3.0, 3.0, 3.0]) == pytest.approx(0.0)


def test_without_matplotlib_the_markdown_is_still_written(bench_json, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib -> ImportError
    assert bench_report.report(str(bench_json), str(tmp_path)) == 0
    assert "matplotlib is not installed" in capsys.readouterr().err
    assert (tmp_path / "report.md").exists() and not list(tmp_path.glob("*.png"))


def test_cli_errors_are_one_line(tmp_path):
    missing = subprocess.run([sys.executable, "-m", "fastzip", "bench-report", str(tmp_path / "nope.json")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "nope.json" in missing.stderr
    assert missing.stderr == f"fastzip bench-report: error: {tmp_path / 'nope.json'}: no such file\n"
    bad = tmp_path / "bad.json"
    bad.write_text('{"no": "benchmarks"}')
    proc = subprocess.run([sys.executable, "-m", "fastzip", "bench-report", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2 and "not a pytest-benchmark JSON file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    bad.write_text('{"benchmarks": [}')
    proc = subprocess.run([sys.executable, "-m", "fastzip", "bench-report", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith(f"fastzip bench-report: error: {bad}: not JSON (")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_subcommand_wiring(bench_json, tmp_path):
    parser = argparse.ArgumentParser(prog="fastzip")
    bench_report_command.add_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench-report", str(bench_json), "-o", str(tmp_path / "out"), "--no-plots"])
    assert args.func(args) == 0
    assert (tmp_path / "out" / "report.md").exists()
