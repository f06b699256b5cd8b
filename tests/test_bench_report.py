"""fastzip.bench_report on JSON from a real (tiny) pytest-benchmark run."""
from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import textwrap

import pytest

from fastzip import bench_report

pytest.importorskip("pytest_benchmark")

TINY_BENCH = textwrap.dedent('''
    import zlib
    import pytest

    DATA = b"the quick brown fox jumps over the lazy dog " * 2000

    @pytest.mark.parametrize("level", [1, 9])
    def test_throughput(benchmark, level):
        benchmark.group = "throughput one-shot tiny"
        out = benchmark.pedantic(zlib.compress, args=(DATA, level), rounds=2, iterations=1)
        benchmark.extra_info.update(kind="throughput", mode="one-shot", corpus="tiny", codec="zlib",
                                    level=level, label=f"zlib-{level}", bytes=len(DATA),
                                    mb_per_s=len(DATA) / 1e6 / benchmark.stats.stats.mean,
                                    ratio=len(DATA) / len(out))

    @pytest.mark.benchmark(group="selection scaling")
    @pytest.mark.parametrize("pool_size", [1000, 4000, 16000])
    def test_scaling(benchmark, pool_size):
        benchmark.pedantic(lambda: sorted(range(pool_size * 50, 0, -1)), rounds=2, iterations=1)
        benchmark.extra_info.update(kind="select", mode="default", pool_size=pool_size)
''')


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory):
    """Run the tiny benchmark file in a subprocess and return its --benchmark-json path."""
    folder = tmp_path_factory.mktemp("tinybench")
    (folder / "test_tiny_bench.py").write_text(TINY_BENCH)
    out = folder / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "test_tiny_bench.py", "-q", "-p", "no:cacheprovider",
                           "--benchmark-only", f"--benchmark-json={out}"],
                          cwd=folder, capture_output=True, text=True, timeout=300)
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
    assert len(rows) == 2 and "| zlib-1 |" in rows[0] and "| zlib-9 |" in rows[1]
    data = json.loads(bench_json.read_text())
    mbs = data["benchmarks"][0]["extra_info"]["mb_per_s"]
    assert bench_report.fmt_value("mb_per_s", mbs) in rows[0]
    assert text.count("| `scaling[") == 3
    assert "Fitted slopes" in text and "- default: **" in text
    assert not list(tmp_path.glob("*.png"))


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
    missing = subprocess.run([sys.executable, "-m", "fastzip.bench_report", str(tmp_path / "nope.json")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "nope.json" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"no": "benchmarks"}')
    proc = subprocess.run([sys.executable, "-m", "fastzip.bench_report", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2 and "not a pytest-benchmark JSON file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_subcommand_wiring(bench_json, tmp_path):
    parser = argparse.ArgumentParser(prog="fastzip")
    bench_report.add_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench-report", str(bench_json), "-o", str(tmp_path / "out"), "--no-plots"])
    assert args.func(args) == 0
    assert (tmp_path / "out" / "report.md").exists()
