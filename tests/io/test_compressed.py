"""Compressed pools as curation pipelines write them: .gz, .zst, .bz2, .xz; single files, folders, globs, stdin.

Reproduces issue 21, Why 2: ``pool.jsonl.gz`` was refused ("the name does not
say the format"), ``--format jsonl`` then gave "not valid UTF-8", a folder of
``.jsonl.gz`` shards "held no shards", and nested shard folders were not found.
"""
from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import sys

import numpy as np
import pytest
import zstandard

from fastzip import io as fio
from fastzip.cli import main
from fastzip.errors import InputError
from fastzip.io import compression, shards

ARGS = ["--budget", "20", "--k1", "200", "--k2", "50", "--k3", "10", "--quiet"]
COMPRESS = {".gz": lambda b: gzip.compress(b, mtime=0), ".zst": zstandard.ZstdCompressor().compress,
            ".bz2": bz2.compress, ".xz": lzma.compress}
DECOMPRESS = {".gz": gzip.decompress, ".zst": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b),
              ".bz2": bz2.decompress, ".xz": lzma.decompress}


@pytest.fixture(scope="module")
def faq(data_dir) -> bytes:
    return (data_dir / "faq_qa.jsonl").read_bytes()


def _select(tmp_path, src, *extra, name="sel.jsonl"):
    out, idx = tmp_path / name, tmp_path / "idx.json"
    for p in (out, idx):
        if p.exists():
            p.unlink()
    rc = main(["select", str(src), "-o", str(out), "--indices-out", str(idx), *ARGS, *extra])
    assert rc == 0
    return out.read_bytes(), json.loads(idx.read_text())


@pytest.fixture(scope="module")
def expected(tmp_path_factory, data_dir):
    """The selection from the plain file, in memory."""
    return _select(tmp_path_factory.mktemp("plain"), data_dir / "faq_qa.jsonl")


def _shard_tree(root, faq: bytes, nested: bool) -> None:
    """faq_qa split in four shards, each compressed another way, in one folder or two, plus files to skip."""
    lines = faq.splitlines(keepends=True)
    cuts = [(0, 150, ".gz"), (150, 300, ".zst"), (300, 400, ".bz2"), (400, len(lines), ".xz")]
    for k, (a, b, ext) in enumerate(cuts):
        folder = root / ("a" if k < 2 else "b") if nested else root
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"part-{k}.jsonl{ext}").write_bytes(COMPRESS[ext](b"".join(lines[a:b])))
    (root / ".hidden").mkdir()
    (root / ".hidden" / "junk.jsonl").write_bytes(b"not json\n")       # hidden folder: skipped
    (root / ".part-9.jsonl.crc").write_bytes(b"\x00\x01")               # hidden file: skipped
    (root / "README.md").write_text("shards of faq_qa\n")               # no format in the name: skipped
    (root / "_SUCCESS").write_text("")


@pytest.mark.parametrize("ext", sorted(COMPRESS))
def test_a_compressed_file_selects_as_the_plain_one(tmp_path, faq, expected, ext):
    src = tmp_path / f"pool.jsonl{ext}"
    src.write_bytes(COMPRESS[ext](faq))
    assert _select(tmp_path, src) == expected
    assert _select(tmp_path, src, "--out-of-core", "on") == expected      # streamed: decompressed as read


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_a_folder_of_compressed_shards_selects_as_the_plain_file(tmp_path, faq, expected, nested):
    root = tmp_path / "shards"
    _shard_tree(root, faq, nested)
    assert _select(tmp_path, root) == expected
    pattern = str(root / "**" / "*.jsonl.*") if nested else str(root / "*.jsonl.*")
    assert _select(tmp_path, pattern) == expected


def test_expand_inputs_states_its_rule(tmp_path, faq):
    root = tmp_path / "shards"
    _shard_tree(root, faq, nested=True)
    found = [os.path.relpath(p, root) for p in shards.expand_inputs(str(root))]
    assert found == ["a/part-0.jsonl.gz", "a/part-1.jsonl.zst", "b/part-2.jsonl.bz2", "b/part-3.jsonl.xz"]


def test_standard_input_is_recognised_by_its_magic_bytes(tmp_path, faq, expected):
    out, idx = tmp_path / "sel.jsonl", tmp_path / "idx.json"
    proc = subprocess.run([sys.executable, "-m", "fastzip", "select", "-", "--format", "jsonl", "-o", str(out),
                           "--indices-out", str(idx), *ARGS], input=COMPRESS[".zst"](faq), capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert (out.read_bytes(), json.loads(idx.read_text())) == expected


def test_a_misnamed_file_is_read_by_its_bytes_or_refused(tmp_path, faq, expected, capsys):
    plain_name = tmp_path / "pool.jsonl"                      # gzip bytes behind a plain name: read
    plain_name.write_bytes(COMPRESS[".gz"](faq))
    assert _select(tmp_path, plain_name) == expected
    liar = tmp_path / "liar.jsonl.gz"                         # plain bytes behind a .gz name: refused
    liar.write_bytes(faq)
    assert main(["select", str(liar), "-o", str(tmp_path / "x.jsonl"), *ARGS]) == 2
    err = capsys.readouterr().err
    assert "the name says gzip but the data is not compressed" in err and err.count("\n") == 1
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize("where", ["memory", "out-of-core"])
@pytest.mark.parametrize("fault", ["truncated", "corrupt"])
def test_damaged_compressed_data_is_one_line_and_nothing_written(tmp_path, faq, capsys, where, fault):
    data = COMPRESS[".gz"](faq)
    data = data[: len(data) // 2] if fault == "truncated" else data[:40] + bytes(64) + data[104:]
    src = tmp_path / "pool.jsonl.gz"
    src.write_bytes(data)
    extra = ["--out-of-core", "on"] if where == "out-of-core" else []
    rc = main(["select", str(src), "-o", str(tmp_path / "x.jsonl"), *ARGS, *extra])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "pool.jsonl.gz" in err and "gzip data" in err, err
    assert sorted(os.listdir(tmp_path)) == ["pool.jsonl.gz"]


@pytest.mark.parametrize("ext", sorted(COMPRESS))
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_the_output_is_compressed_by_its_extension(tmp_path, expected, data_dir, ext, fmt):
    raw, indices = _select(tmp_path, data_dir / "faq_qa.jsonl", name=f"sel.{fmt}{ext}")
    assert indices == expected[1]
    plain = DECOMPRESS[ext](raw)
    if fmt == "jsonl":
        assert plain == expected[0]
    else:
        assert json.loads(plain) == [json.loads(line) for line in expected[0].splitlines()]
        assert fio.read_records(str(tmp_path / f"sel.{fmt}{ext}")) == json.loads(plain)   # and reads back


def test_a_json_list_compressed_reads_as_the_plain_one(tmp_path, faq):
    records = [json.loads(line) for line in faq.splitlines()]
    src = tmp_path / "pool.json.zst"
    src.write_bytes(COMPRESS[".zst"](json.dumps(records).encode()))
    assert fio.read_records(str(src)) == records


def test_compressed_shards_stream_a_buffer_at_a_time(tmp_path, data_dir):
    """The out-of-core memory bound: the first batch comes before most of the compressed shard is read."""
    src = tmp_path / "evals.jsonl.gz"
    src.write_bytes(COMPRESS[".gz"]((data_dir / "openai_evals_5k.jsonl").read_bytes()))
    batches = shards.iter_batches([str(src)], batch_size=100)
    first = next(batches)
    assert len(first.records) == 100
    assert 0 < first.consumed_bytes < os.path.getsize(src) // 4
    total = len(first.records) + sum(len(b.records) for b in batches)
    assert total == len((data_dir / "openai_evals_5k.jsonl").read_bytes().splitlines())


def test_copying_out_reads_each_compressed_shard_at_most_once_more(tmp_path, faq, monkeypatch):
    root = tmp_path / "shards"
    _shard_tree(root, faq, nested=True)
    paths = shards.expand_inputs(str(root))
    batches = list(shards.iter_batches(paths, batch_size=64))
    shard = np.concatenate([np.full(len(b.records), b.shard) for b in batches])
    starts = np.concatenate([b.starts for b in batches])
    lengths = np.concatenate([b.lengths for b in batches])
    rng = np.random.default_rng(0)
    pick = rng.permutation(len(shard))[:60]                     # chosen records, in a selection order
    opened: list[str] = []
    real = shards.open_decompressed

    def counting(source, name):
        opened.append(name)
        return real(source, name)
    monkeypatch.setattr(shards, "open_decompressed", counting)
    out = tmp_path / "chosen.jsonl"
    shards.write_chosen(paths, shard[pick], starts[pick], lengths[pick], str(out))
    assert sorted(opened) == sorted({paths[s] for s in shard[pick]})   # each shard once
    lines = faq.splitlines(keepends=True)
    assert out.read_bytes() == b"".join(lines[i] for i in pick)
    opened.clear()
    records = shards.read_records_at(paths, shard[pick], starts[pick], lengths[pick])
    assert records == [json.loads(lines[i]) for i in pick]
    assert len(opened) == len(set(opened))


def test_sniff_tells_each_compression_from_plain_json():
    for ext, name in (".gz", "gzip"), (".zst", "zstd"), (".bz2", "bz2"), (".xz", "xz"):
        assert compression.sniff(COMPRESS[ext](b'{"a": 1}\n')[:6]) == name
    assert compression.sniff(b'{"a":') is None and compression.sniff(b"[1, 2") is None
    assert compression.sniff(b"") is None
    with compression.open_decompressed(io.BytesIO(COMPRESS[".xz"](b"x\ny\n")), "s.xz") as s:
        assert list(s) == [b"x\n", b"y\n"]


def test_the_out_of_core_budget_error_says_duplicates_were_dropped(tmp_path, faq, capsys):
    """Issue 21, Why 3: the budget error counted the deduplicated pool without saying so."""
    lines = faq.splitlines(keepends=True)
    root = tmp_path / "shards"
    root.mkdir()
    (root / "a.jsonl.gz").write_bytes(COMPRESS[".gz"](b"".join(lines[:300])))
    (root / "b.jsonl.zst").write_bytes(COMPRESS[".zst"](b"".join(lines[:300])))   # 300 exact duplicates
    out = tmp_path / "o.jsonl"
    args = ["select", str(root), "-o", str(out), "--budget", "400", "--k1", "1000", "--k2", "200", "--k3", "100",
            "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "budget (400) is larger than the pool (300 samples after dropping exact duplicates)" in err, err
    assert "--keep-duplicates" in err and not out.exists()
    assert main([*args, "--keep-duplicates"]) == 0                        # honoured out of core
    assert len(out.read_bytes().splitlines()) == 400


@pytest.mark.ray
def test_ray_selects_from_compressed_nested_shards_as_from_the_plain_file(tmp_path, faq, expected):
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'fastzip-select[ray]'")
    pytest.importorskip("ray.data")
    started = not ray.is_initialized()
    if started:     # more logical CPUs than cores, so actors and tasks never wait on each other
        ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        root = tmp_path / "shards"
        _shard_tree(root, faq, nested=True)
        assert _select(tmp_path, root, "--ray") == expected
    finally:
        if started:
            ray.shutdown()


def _frames(faq: bytes) -> tuple[bytes, bytes]:
    """faq_qa as two zstd frames (lines 1-240, then the rest), each with its checksum, as ``zstd -q -c`` makes."""
    lines = faq.splitlines(keepends=True)
    zstd = zstandard.ZstdCompressor(write_checksum=True)
    return zstd.compress(b"".join(lines[:240])), zstd.compress(b"".join(lines[240:]))


def _skippable(payload: bytes) -> bytes:
    return b"\x50\x2a\x4d\x18" + len(payload).to_bytes(4, "little") + payload


@pytest.mark.parametrize("where", ["memory", "out-of-core", "folder"])
@pytest.mark.parametrize("cut", ["inside-the-second-frame", "checksum", "mid-block"])
def test_a_truncated_zstd_file_is_refused_as_gzip_is(tmp_path, faq, capsys, where, cut):
    """Review 1: a zstd file cut inside a frame was read up to the cut, exit 0, the rest of its records lost."""
    first, second = _frames(faq)
    whole = zstandard.ZstdCompressor(write_checksum=True).compress(faq)
    data = {"inside-the-second-frame": (first + second)[:len(first) + 30], "checksum": whole[:-3],
            "mid-block": whole[:len(whole) // 2]}[cut]
    root = tmp_path / "in"
    root.mkdir()
    src = root / "pool.jsonl.zst"
    src.write_bytes(data)
    extra = ["--out-of-core", "on"] if where == "out-of-core" else []
    rc = main(["select", str(root if where == "folder" else src), "-o", str(tmp_path / "x.jsonl"), *ARGS, *extra])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and f"{src}: corrupt zstd data: it ends before the end of the compressed stream " \
        "(truncated)" in err, err
    assert sorted(os.listdir(tmp_path)) == ["in"] and src.read_bytes() == data
    with pytest.raises(InputError, match="truncated"):                        # the API (and ratio, law) too
        fio.read_records(str(src))


@pytest.mark.parametrize("layout", ["two-frames", "skippable-between", "skippable-first", "skippable-last"])
def test_every_zstd_frame_is_read_and_skippable_frames_are_skipped(tmp_path, faq, expected, layout):
    first, second = _frames(faq)
    skip = _skippable(b"index or padding, as pzstd writes")
    data = {"two-frames": first + second, "skippable-between": first + skip + second,
            "skippable-first": skip + first + skip + second, "skippable-last": first + second + skip}[layout]
    src = tmp_path / "pool.jsonl.zst"
    src.write_bytes(data)
    assert compression.decompress_bytes(data, str(src)) == faq
    assert _select(tmp_path, src) == expected
    assert _select(tmp_path, src, "--out-of-core", "on") == expected


def test_a_compressed_parquet_output_is_refused_as_such(tmp_path, faq, capsys):
    """Review 11: ``-o sel.parquet.gz`` said "fastzip does not write .parquet files"."""
    src = tmp_path / "pool.jsonl"
    src.write_bytes(faq)
    for name in ("sel.parquet.gz", "sel.pq.zst"):
        for extra in ([], ["--out-of-core", "on"]):
            assert main(["select", str(src), "-o", str(tmp_path / name), *ARGS, *extra]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and f"{tmp_path / name}: compressed Parquet outputs are not written" in err
    assert sorted(os.listdir(tmp_path)) == ["pool.jsonl"]


def _linked_tree(tmp_path, faq: bytes):
    """faq_qa in three shards: one in the folder, one in a folder linked into it, one reached twice by links."""
    lines = faq.splitlines(keepends=True)
    root, outside = tmp_path / "shards", tmp_path / "elsewhere"
    (root / "a").mkdir(parents=True)
    outside.mkdir()
    (root / "a" / "part-0.jsonl").write_bytes(b"".join(lines[:150]))
    (outside / "part-1.jsonl.zst").write_bytes(COMPRESS[".zst"](b"".join(lines[150:300])))
    (root / "a" / "part-2.jsonl.gz").write_bytes(COMPRESS[".gz"](b"".join(lines[300:])))
    (root / "b-linked").symlink_to(outside, target_is_directory=True)            # ln -s ../elsewhere b-linked
    (root / "d-linked-again").symlink_to(outside, target_is_directory=True)      # the same folder, twice
    (root / "c-part-2.jsonl.gz").symlink_to(root / "a" / "part-2.jsonl.gz")      # a file reached twice
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)             # a link back up: no endless walk
    return root


def test_a_folder_follows_linked_folders_once_each(tmp_path, faq, expected):
    """Review 7: a symlinked subfolder was skipped silently (its records lost), while a ``**`` glob followed it."""
    root = _linked_tree(tmp_path, faq)
    found = [os.path.relpath(p, root) for p in shards.expand_inputs(str(root))]
    assert found == ["a/part-0.jsonl", "a/part-2.jsonl.gz", "b-linked/part-1.jsonl.zst"]
    globbed = [os.path.relpath(p, root) for p in shards.expand_inputs(str(root / "*" / "*.jsonl*"))]
    assert globbed == found                                              # a glob lists each real file once too
    indices = _select(tmp_path, root, "--keep-duplicates")[1]
    in_order = b"".join(faq.splitlines(keepends=True)[k] for k in (*range(150), *range(300, 481), *range(150, 300)))
    plain = tmp_path / "in-order.jsonl"
    plain.write_bytes(in_order)
    assert indices == _select(tmp_path, plain, "--keep-duplicates")[1]   # every record, each read once
