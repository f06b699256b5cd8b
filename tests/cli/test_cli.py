"""The fastzip command line: formats, errors, atomic output, Ctrl-C."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import fastzip
from fastzip.cli import main
from tests.helpers import default_codec, default_codec_args

FAQ_COUNT = 481


def run_cli(*args: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", "fastzip", *args], capture_output=True, text=True)
    return proc.returncode, proc.stderr


def test_select_without_input_uses_the_bundled_pool(tmp_path, capsys):
    out = tmp_path / "sel.jsonl"
    assert main(["select", "-o", str(out), "--budget", "30", "--k1", "481", "--k2", "60", "--k3", "30",
                 *default_codec_args()]) == 0
    err = capsys.readouterr().err
    assert "bundled sample pool" in err and "selected 30 of 481" in err
    lines = out.read_bytes().splitlines(keepends=True)
    bundled = open(fastzip.io.bundled_sample_path(), "rb").read().splitlines(keepends=True)
    assert len(lines) == 30 and all(line in bundled for line in lines)


def test_jsonl_round_trip_keeps_lines_and_order(tmp_path, data_dir):
    src = data_dir / "faq_qa.jsonl"
    out, idx = tmp_path / "out.jsonl", tmp_path / "idx.json"
    assert main(["select", str(src), "-o", str(out), "--budget", "40", "--indices-out", str(idx),
                 "--quiet", *default_codec_args()]) == 0
    indices = json.loads(idx.read_text())
    lines = src.read_bytes().splitlines(keepends=True)
    assert out.read_bytes() == b"".join(lines[i] for i in indices)
    expected = fastzip.select(fastzip.io.read_records(src), 40, codec=default_codec()).indices.tolist()
    assert indices == expected


def test_json_list_compat_round_trip(tmp_path, data_dir):
    src = data_dir / "reference" / "evals_pool_1500.json"
    out, idx = tmp_path / "out.json", tmp_path / "idx.json"
    assert main(["select", str(src), "-o", str(out), "--budget", "100", "--k1", "1500", "--k2", "100",
                 "--k3", "50", "--compat", "reference", "--indices-out", str(idx), "--quiet"]) == 0
    expected = json.loads((data_dir / "reference" / "evals_pool_1500.B100_k1500_100_50.expected.json").read_text())
    assert json.loads(idx.read_text()) == expected
    pool = json.loads(src.read_text())
    written = json.loads(out.read_text())
    assert written == [pool[i] for i in expected]
    assert list(written[0]) == list(pool[expected[0]])   # key order kept


def test_parquet_round_trip(tmp_path, faq_rows):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    src, out = tmp_path / "pool.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.Table.from_pylist(faq_rows), src)
    idx = tmp_path / "idx.json"
    assert main(["select", str(src), "-o", str(out), "--budget", "25", "--indices-out", str(idx), "--quiet",
                 *default_codec_args()]) == 0
    indices = json.loads(idx.read_text())
    table = pq.read_table(out)
    assert table.schema == pq.read_table(src).schema
    assert table.to_pylist() == [faq_rows[i] for i in indices]


def test_text_field_and_plain_strings(tmp_path):
    src = tmp_path / "pool.jsonl"
    texts = [f"line {i}: " + "lorem ipsum " * (i % 7 + 1) + str(i * 7919) for i in range(200)]
    src.write_text("".join(json.dumps({"body": t, "id": i}) + "\n" for i, t in enumerate(texts)))
    out, idx = tmp_path / "o.jsonl", tmp_path / "i.json"
    assert main(["select", str(src), "-o", str(out), "--budget", "20", "--text-field", "body",
                 "--indices-out", str(idx), "--quiet", *default_codec_args()]) == 0
    assert json.loads(idx.read_text()) == fastzip.select(texts, 20, codec=default_codec()).indices.tolist()


def test_ratio_command(data_dir, capsys):
    assert main(["ratio", str(data_dir / "faq_qa.jsonl")]) == 0
    printed = float(capsys.readouterr().out)
    expected = fastzip.compression_ratio(fastzip.io.read_records(data_dir / "faq_qa.jsonl"))
    assert printed == pytest.approx(expected, abs=1e-6)


def test_info_command(capsys):
    assert main(["info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info["codecs"]) == {"zlib", "zstd", "lz4"}
    default = info["default_select_codec"]
    assert (default["codec"], default["level"]) == ("lz77", 2)
    assert default["available"] is (default_codec() is None)


def test_default_mode_where_lz77_cannot_run_is_refused_in_one_line(tmp_path, capsys, data_dir, monkeypatch):
    """No codec where the default codec, lz77, has no kernel: exit 2, one line, before any work, nothing written."""
    monkeypatch.setenv("FASTZIP_FORCE_FALLBACK", "1")
    out = tmp_path / "out.jsonl"
    src = str(data_dir / "faq_qa.jsonl")
    for where in ([src], [str(tmp_path / "missing.jsonl")], [str(data_dir), "--out-of-core", "on"],
                  ["--budget-bytes", "5000", src]):
        budget = [] if "--budget-bytes" in where else ["--budget", "5"]
        assert main(["select", *where, "-o", str(out), *budget]) == 2, where
        err = capsys.readouterr().err.strip()
        assert err.splitlines() == [err] and err.startswith("fastzip: error: the default codec lz77 needs the "
                                                            "native extension (FASTZIP_FORCE_FALLBACK is set)"), err
        assert "--codec zstd" in err and ".jsonl" not in err      # blamed on no file: no file is at fault
        assert os.listdir(tmp_path) == []
    for way_out in (["--codec", "zstd"], ["--codec", "zstd", "--level", "3"], ["--codec", "zlib"],
                    ["--compat", "reference", "--k1", "481", "--k2", "40", "--k3", "5"]):
        assert main(["select", src, "-o", str(out), "--budget", "5", "--quiet", *way_out]) == 0, way_out
        assert len(out.read_bytes().splitlines()) == 5


BAD_INPUTS = {
    "malformed.jsonl": ('{"text": "ok"}\n{"text": "broken\n', "record 1 (line 2): malformed JSON"),
    "not_object.jsonl": ('{"text": "ok"}\n[1, 2]\n', "record 1 (line 2): a record must be a JSON object or a string"),
    "malformed.json": ('[{"text": "a"}, {"text": ]', "malformed JSON at line 1"),
    "not_list.json": ('{"text": "a"}', "expected a JSON list"),
    "empty.jsonl": ("", "the pool is empty"),
    "empty_sample.jsonl": ('{"text": "a"}\n{"text": ""}\n', "record 1 (line 2): empty sample"),
    "wrong_type.jsonl": ('{"text": "a"}\n{"instruction": 3}\n',
                         "record 1 (line 2): field 'instruction' must be a string"),
    "missing_field.jsonl": ('{"body": "a"}\n{"other": "b"}\n', "record 1 (line 2): missing field 'body'"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, name):
    content, message = BAD_INPUTS[name]
    src = tmp_path / name
    src.write_text(content)
    out = tmp_path / "out.jsonl"
    extra = ["--text-field", "body"] if name == "missing_field.jsonl" else []
    assert main(["select", str(src), "-o", str(out), "--budget", "1", "--quiet", *extra,
                 *default_codec_args()]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("fastzip: error: ")
    assert message in err and name in err
    assert not out.exists() and os.listdir(tmp_path) == [name]


@pytest.mark.parametrize("args, message", [
    (["--budget", "0"], "budget must be a positive integer"),
    (["--budget", "100000"], "larger than the pool"),
    (["--budget", "5", "--k1", "10", "--k2", "20"], "must not exceed k1"),
    (["--budget", "5", "--k3", "300"], "must not exceed k2"),
    (["--budget", "5", "--k1", "-1"], "k1 must be a positive integer"),
    (["--budget", "5", "--codec", "lzma"], "unknown codec"),
    (["--budget", "5", "--compat", "reference"], "F6"),
    (["--budget-bytes", "100", "--compat", "reference", "--k1", "100", "--k2", "50", "--k3", "10"], "not budget_bytes"),
])
def test_bad_arguments_exit_2(tmp_path, capsys, data_dir, args, message):
    out = tmp_path / "out.jsonl"
    codec = [] if "--codec" in args or "--compat" in args else default_codec_args()
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(out), "--quiet", *args, *codec]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_unreadable_and_unwritable_paths(tmp_path, capsys, data_dir):
    assert main(["select", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--budget", "1",
                 *default_codec_args()]) == 2
    assert "missing.jsonl: no such file" in capsys.readouterr().err
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(tmp_path / "no" / "dir" / "o.jsonl"),
                 "--budget", "1", *default_codec_args()]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(tmp_path), "--budget", "1",
                 *default_codec_args()]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_existing_output_survives_a_failed_run(tmp_path, data_dir):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(out), "--budget", "99999", "--quiet",
                 *default_codec_args()]) == 2
    assert out.read_text() == "previous\n"


def test_ctrl_c_stops_within_a_second_without_output(tmp_path, data_dir):
    """SIGINT during a long native batch: exit 130 quickly, no partial file."""
    pool = tmp_path / "big.jsonl"
    rows = (data_dir / "openai_evals_5k.jsonl").read_text().splitlines()
    with open(pool, "w") as f:
        for rep in range(6):   # ~29k records: a run of many seconds
            for line in rows:
                rec = json.loads(line)
                rec["rep"] = rep
                f.write(json.dumps(rec) + "\n")
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "fastzip", "select", str(pool), "-o", str(out),
                             "--budget", "5000", "--codec", "zlib", "--k1", "20000", "--quiet",
                             "--keep-duplicates"],
                            stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    stopped = time.perf_counter() - sent
    assert proc.returncode == 130
    assert "interrupted" in proc.stderr.read()
    assert stopped < 1.0
    assert not out.exists() and sorted(os.listdir(tmp_path)) == ["big.jsonl"]


def test_help_documents_every_option():
    code, _ = run_cli("select", "--help")
    assert code == 0
    proc = subprocess.run([sys.executable, "-m", "fastzip", "select", "--help"], capture_output=True, text=True)
    for option in ("--budget", "--budget-bytes", "--k1", "--k2", "--k3", "--codec", "--level", "--serializer",
                   "--compat", "--indices-out", "--threads", "--quiet", "--text-field"):
        assert option in proc.stdout


def test_outputs_get_the_usual_file_mode(tmp_path, data_dir):
    """Atomic writes go through mkstemp (0600); the result must follow the umask."""
    out = tmp_path / "out.jsonl"
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(out), "--budget", "5", "--quiet",
                 *default_codec_args()]) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(out).st_mode & 0o777 == 0o666 & ~umask
