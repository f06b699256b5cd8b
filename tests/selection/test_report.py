"""The selection report (docs/semantics.md §7.6): its series come from the run and the pool."""
from __future__ import annotations

import base64
import json
import re
import sys

import numpy as np
import pytest

import fastzip
from fastzip.cli import main
from fastzip.errors import MissingDependencyError
from fastzip.samples.pool import Pool
from fastzip.selection import report

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pool(evals_rows):
    return evals_rows[:1500]


@pytest.fixture(scope="module")
def selection(pool):
    return fastzip.select(pool, 200, k1=1500, k2=100, k3=50)


def _embedded(html_bytes: bytes) -> tuple[dict, bytes]:
    """The JSON payload and the PNG image embedded in an HTML report."""
    text = html_bytes.decode("utf-8")
    payload = re.search(r'<script type="application/json" id="fastzip-report-data">(.*?)</script>',
                        text, re.DOTALL).group(1)
    image = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text).group(1)
    return json.loads(payload.replace("<\\/", "</")), base64.b64decode(image)


def _by_gid(fig, gid: str) -> list:
    return [a for a in fig.findobj() if getattr(a, "get_gid", lambda: None)() == gid]


def _step_heights(polygon) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges and heights of a step histogram's outline."""
    xy = polygon.get_xy()
    return xy[::2, 0], xy[1:-1:2, 1]


def test_report_data_matches_trace_and_pool(selection, pool):
    data = report.report_data(selection, pool)
    trace = selection.trace
    assert len(trace) == 4
    assert data.rounds.tolist() == [t.round for t in trace]
    assert data.selected.tolist() == [t.selected for t in trace] == [50, 100, 150, 200]
    assert data.ratio.tolist() == [t.ratio for t in trace]
    for stage in ("stage1_s", "stage2_s", "stage3_s"):
        assert getattr(data, stage).tolist() == [getattr(t, stage) for t in trace]
    lengths = Pool.from_samples(pool, "text").lengths
    assert np.array_equal(data.pool_lengths, lengths)
    assert np.array_equal(data.selection_lengths, lengths[selection.indices])
    # stand-alone scores: each sample's own ratio under the run's codec, the default one (lz77-2)
    assert (selection.codec, selection.level) == ("lz77", 2)
    for i in (0, 7, int(selection.indices[0]), 1499):
        one = fastzip.samples.serialize.serialize_sample(pool[i], "text")
        assert data.pool_scores[i] == pytest.approx(fastzip.compression_ratio(one, codec="lz77", level=2))
    assert np.array_equal(data.selection_scores, data.pool_scores[selection.indices])
    # ZIP picks a less redundant subset than chance, as the judge sees it
    assert len(data.judge_random) == 5 and data.judge_level == 19
    assert data.judge_selection < 0.9 * data.judge_random_mean


def test_plotted_series_are_the_trace_and_the_pool_lengths(selection, pool):
    fig = selection.plot(samples=pool)
    ratio_line, = _by_gid(fig, "ratio")
    assert ratio_line.get_xdata().tolist() == [t.selected for t in selection.trace]
    assert ratio_line.get_ydata().tolist() == [t.ratio for t in selection.trace]
    for gid, name in (("stage1", "stage1_s"), ("stage2", "stage2_s"), ("stage3", "stage3_s")):
        bars = _by_gid(fig, gid)
        assert [b.get_height() for b in bars] == pytest.approx([getattr(t, name) for t in selection.trace])
    bottoms = [b.get_y() for b in _by_gid(fig, "stage3")]
    assert bottoms == pytest.approx([t.stage1_s + t.stage2_s for t in selection.trace])

    lengths = Pool.from_samples(pool, "text").lengths
    for gid, values in (("lengths-pool", lengths), ("lengths-selection", lengths[selection.indices])):
        polygon, = _by_gid(fig, gid)
        edges, heights = _step_heights(polygon)
        counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
        assert heights == pytest.approx(counts / len(values))
        assert heights.sum() == pytest.approx(1.0)


def test_html_report_is_one_self_contained_file(selection, pool, tmp_path):
    path = tmp_path / "report.html"
    data = selection.plot(path, pool)
    blob = path.read_bytes()
    # nothing loaded from elsewhere: no links, external sources or scripts
    assert b"<img" in blob and b"<link" not in blob and b'src="http' not in blob and b"<script src" not in blob
    payload, png = _embedded(blob)
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000
    assert payload["trace"]["selected"] == [t.selected for t in selection.trace]
    assert payload["trace"]["ratio"] == [t.ratio for t in selection.trace]
    assert payload["judge"]["selection"] == data.judge_selection
    assert payload["result"]["selected"] == 200 and payload["result"]["pool"] == 1500
    assert payload["lengths"]["pool"]["median"] == float(np.median(data.pool_lengths))


def test_report_is_deterministic_but_for_timings(selection, pool):
    a = report.report_data(selection, pool)
    b = report.report_data(selection, pool, n_threads=1)
    assert a.judge_random == b.judge_random and a.judge_selection == b.judge_selection
    assert np.array_equal(a.pool_scores, b.pool_scores)


def test_compat_scores_are_the_reference_stand_alone_ratios(evals_rows):
    rows = evals_rows[:300]
    res = fastzip.select(rows, 20, k1=300, k2=40, k3=10, compat="reference")
    data = report.report_data(res, rows)
    for i in (0, 5, 299):
        assert data.pool_scores[i] == pytest.approx(fastzip.compression_ratio([rows[i]]))  # ratio([sample])
    assert data.result["compat"] == "reference"
    assert data.pool_lengths[0] == len(repr(rows[0]).encode())


def test_without_pool_only_the_trace(selection):
    data = report.report_data(selection)
    assert len(data.pool_lengths) == 0 and np.isnan(data.judge_selection)
    assert data.ratio.tolist() == [t.ratio for t in selection.trace]
    report.figure(data)   # draws, with "pool not given" panels


def test_cli_report_png_and_html(tmp_path, data_dir, capsys):
    src = data_dir / "faq_qa.jsonl"
    out, idx = tmp_path / "sel.jsonl", tmp_path / "idx.json"
    png, page = tmp_path / "r.png", tmp_path / "r.html"
    args = ["select", str(src), "-o", str(out), "--budget", "40", "--k1", "481", "--k2", "40",
            "--k3", "20", "--quiet", "--indices-out", str(idx)]
    assert main(args + ["--report", str(png)]) == 0
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert main(args + ["--report", str(page)]) == 0
    payload, image = _embedded(page.read_bytes())
    assert image.startswith(PNG_MAGIC)
    indices = json.loads(idx.read_text())
    lengths = Pool.from_samples([json.loads(x) for x in src.read_text().splitlines()], "text").lengths
    assert payload["trace"]["selected"] == [20, 40]
    assert payload["result"]["pool"] == 481 and payload["result"]["selected"] == len(indices) == 40
    assert payload["lengths"]["selection"]["max"] == float(lengths[indices].max())
    assert payload["lengths"]["pool"]["mean"] == pytest.approx(float(lengths.mean()))


@pytest.mark.parametrize("name,extra,message", [("r.txt", [], "unknown report format"),
                                                ("r.png", ["--indices-out", "r.png"], "is also --indices-out's file")])
def test_cli_bad_report_path_exits_2_before_work(tmp_path, data_dir, capsys, name, extra, message):
    out = tmp_path / "sel.jsonl"
    extra = [str(tmp_path / x) if x.endswith(".png") else x for x in extra]
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(out), "--budget", "5", "--quiet",
                 "--report", str(tmp_path / name), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists() and not (tmp_path / name).exists()


def test_cli_without_matplotlib_names_the_extra(tmp_path, data_dir, capsys, monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib -> ImportError
    out, page = tmp_path / "sel.jsonl", tmp_path / "r.html"
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(out), "--budget", "5", "--quiet",
                 "--report", str(page)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fastzip-select[plot]" in err[0] and "matplotlib" in err[0]
    assert not out.exists() and not page.exists()
    with pytest.raises(MissingDependencyError, match=r"fastzip-select\[plot\]"):
        fastzip.select([{"text": "a"}, {"text": "b"}], 1).plot(tmp_path / "x.png")


def test_a_serialized_pool_is_enough(selection, pool, evals_rows):
    """The CLI may hold only the run's serialized Pool: the same series, the same judge for text."""
    packed = Pool.from_samples(pool, "text")
    a, b = report.report_data(selection, pool), report.report_data(selection, packed)
    assert np.array_equal(a.pool_lengths, b.pool_lengths) and np.array_equal(a.pool_scores, b.pool_scores)
    assert a.judge_selection == b.judge_selection and a.judge_random == b.judge_random
    rows = evals_rows[:300]
    res = fastzip.select(rows, 20, k1=300, k2=40, k3=10, serializer="json")
    data = report.report_data(res, Pool.from_samples(rows, "json"))     # no records: judged over json
    assert data.result["judge_serializer"] == "json"
    assert report.report_data(res, rows).result["judge_serializer"] == "text"
    with pytest.raises(fastzip.InputError, match="serialized with 'text'"):
        report.report_data(res, packed)


def test_report_to_standard_output_is_refused(tmp_path):
    with pytest.raises(fastzip.InputError, match="file name"):
        report.check_report_path("-")


def test_known_lengths_and_scores_without_the_samples(selection, pool, tmp_path):
    """An engine that streamed the pool passes what it measured; the judge is then left out."""
    full = report.report_data(selection, pool)
    data = report.write_report(selection, tmp_path / "r.html", lengths=full.pool_lengths,
                               scores=full.pool_scores)
    assert np.array_equal(data.selection_lengths, full.selection_lengths)
    assert np.array_equal(data.selection_scores, full.selection_scores)
    assert data.judge_random == [] and np.isnan(data.judge_selection)
    payload, _ = _embedded((tmp_path / "r.html").read_bytes())
    assert payload["result"]["pool"] == 1500 and b"judge ratio (" not in (tmp_path / "r.html").read_bytes()
    with pytest.raises(fastzip.InputError, match="both"):
        report.report_data(selection, lengths=full.pool_lengths)
