"""Bad records: --on-invalid {error,skip}; a missing --text-field is never serialized another way.

Reproduces issue 21, Why 5: one empty ShareGPT conversation aborted the run
with no way to skip it, and a record without the ``--text-field`` was
silently JSON-serialized (``fastzip ratio --text-field``) and could be selected.
"""
from __future__ import annotations

import json

import pytest

from fastzip import io as fio
from fastzip.cli import main
from fastzip.errors import InputError
from fastzip.samples.serialize import serialize_sample

ARGS = ["--budget", "20", "--k1", "200", "--k2", "50", "--k3", "10", "--quiet"]
BAD = {7: b'{"id": "x", "conversations": []}\n',              # an empty ShareGPT conversation
       30: b"{not json\n",                                    # malformed
       31: b"null\n",                                         # not a record
       200: b'{"id": "y", "conversations": [{"from": "A"}]}\n'}                # a turn without its text


@pytest.fixture
def chitchat(tmp_path, data_dir):
    """Real ShareGPT conversations with four invalid records among them; returns (path, lines)."""
    lines = (data_dir / "chitchat_1k.jsonl").read_bytes().splitlines(keepends=True)[:300]
    for at, line in sorted(BAD.items()):
        lines.insert(at, line)
    path = tmp_path / "chat.jsonl"
    path.write_bytes(b"".join(lines))
    return path, lines


def test_an_invalid_record_stops_the_run_by_default(tmp_path, capsys, chitchat):
    path, _ = chitchat
    assert main(["select", str(path), "-o", str(tmp_path / "o.jsonl"), *ARGS]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "record 7 (line 8): empty sample" in err, err
    assert not (tmp_path / "o.jsonl").exists()


def test_skip_leaves_invalid_records_out_and_says_which(tmp_path, capsys, chitchat):
    path, lines = chitchat
    out, idx = tmp_path / "o.jsonl", tmp_path / "i.json"
    assert main(["select", str(path), "-o", str(out), "--indices-out", str(idx), "--on-invalid", "skip",
                 *ARGS]) == 0
    err = capsys.readouterr().err
    assert "skipped 4 invalid records" in err
    for at in BAD:
        assert f"record {at} (line {at + 1})" in err
    indices = json.loads(idx.read_text())
    assert not set(indices) & set(BAD)
    assert out.read_bytes() == b"".join(lines[i] for i in indices)      # numbered as the input is
    # the same selection as from the input without the bad records
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(b"".join(line for i, line in enumerate(lines) if i not in BAD))
    assert main(["select", str(clean), "-o", str(tmp_path / "c.jsonl"), *ARGS]) == 0
    assert (tmp_path / "c.jsonl").read_bytes() == out.read_bytes()


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_skip_in_json_lists_and_parquet(tmp_path, chitchat, fmt):
    path, lines = chitchat
    rows = [json.loads(line) for i, line in enumerate(lines) if i != 30]       # JSON cannot hold a malformed row
    rows[31 - 1] = {"id": "z"}                                                    # a row without the text field
    if fmt == "json":
        src = tmp_path / "chat.json"
        src.write_text(json.dumps(rows))
    else:
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq
        src = tmp_path / "chat.parquet"
        pq.write_table(pa.Table.from_pylist([{"text": json.dumps(r)} if r else {"text": ""} for r in rows]), src)
    dataset, pool = fio.read_pool(str(src), "text", text_field="text" if fmt == "parquet" else None,
                                  on_invalid="skip")
    assert len(pool) == len(dataset) - len(dataset.skipped)
    assert dataset.kept is not None and len(dataset.kept) == len(pool)
    assert all(isinstance(e, InputError) and str(src) in str(e) for e in dataset.skipped)


def test_a_missing_text_field_is_an_error_under_every_serializer():
    for serializer in ("repr", "json", "text"):
        with pytest.raises(InputError, match="record 3: missing field 'body'"):
            serialize_sample({"text": "hi"}, serializer, 3, text_field="body")
    assert serialize_sample({"body": "hi"}, "text", 0, text_field="body") == b"hi"


def test_ratio_with_text_field_reads_that_field_or_refuses(tmp_path, capsys):
    src = tmp_path / "t.jsonl"
    src.write_text('{"text": "hello world one"}\n{"body": "no text here"}\n')
    assert main(["ratio", str(src), "--text-field", "text"]) == 2          # was: 0, the record JSON-serialized
    assert "record 1 (line 2): missing field 'text'" in capsys.readouterr().err
    assert main(["ratio", str(src), "--text-field", "text", "--serializer", "repr"]) == 2
    assert "--text-field is read by the text serializer" in capsys.readouterr().err
    assert main(["select", str(src), "-o", str(tmp_path / "o.jsonl"), "--budget", "1", "--text-field", "text",
                 "--serializer", "json"]) == 2
    assert "--text-field is read by the text serializer" in capsys.readouterr().err
    assert main(["select", str(src), "-o", str(tmp_path / "o.jsonl"), "--budget", "1", "--k1", "2", "--k2", "1",
                 "--k3", "1", "--text-field", "text", "--on-invalid", "skip", "--quiet"]) == 0
    assert (tmp_path / "o.jsonl").read_text() == '{"text": "hello world one"}\n'
