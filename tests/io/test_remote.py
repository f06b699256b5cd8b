"""Remote storage through fsspec (issue 21, What 3): memory://, file:// and a real local S3 server (moto).

Every selection from remote storage equals the one from the local file; an
output is proven writable before any work (an empty temporary object beside
it) and put whole at the end; missing and denied objects are one line.
"""
from __future__ import annotations

import gzip
import json
import os
import uuid

import pytest
import zstandard

from fastzip.cli import main
from fastzip.cli import select as cli_select

fsspec = pytest.importorskip("fsspec", reason="the remote extra is not installed: pip install 'fastzip-select[remote]'")
from fsspec.implementations.memory import MemoryFileSystem  # noqa: E402

ARGS = ["--budget", "20", "--k1", "200", "--k2", "50", "--k3", "10", "--quiet"]


class DeniedFileSystem(MemoryFileSystem):
    """A store that refuses every read and write, as a bucket without rights does."""

    protocol = "deniedmem"
    root_marker = "/"

    def _open(self, path, mode="rb", **kwargs):
        raise PermissionError(f"Access Denied: {path}")

    def info(self, path, **kwargs):          # a HEAD request answered 403, as S3 does
        raise PermissionError(f"Access Denied: {path}")

    def pipe_file(self, path, value, **kwargs):
        raise PermissionError(f"Access Denied: {path}")


fsspec.register_implementation("deniedmem", DeniedFileSystem, clobber=True)


@pytest.fixture(scope="module")
def faq(data_dir) -> bytes:
    return (data_dir / "faq_qa.jsonl").read_bytes()


@pytest.fixture(scope="module")
def expected(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("local") / "sel.jsonl"
    idx = out.with_name("idx.json")
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(out), "--indices-out", str(idx), *ARGS]) == 0
    return out.read_bytes(), json.loads(idx.read_text())


@pytest.fixture
def store(faq):
    """A fresh bucket in fsspec's memory filesystem holding the pool as one object and as nested shards."""
    fs = fsspec.filesystem("memory")
    bucket = f"/b{uuid.uuid4().hex[:8]}"
    lines = faq.splitlines(keepends=True)
    fs.pipe_file(f"{bucket}/pool.jsonl.gz", gzip.compress(faq))
    fs.pipe_file(f"{bucket}/shards/a/part-0.jsonl.zst", zstandard.ZstdCompressor().compress(b"".join(lines[:250])))
    fs.pipe_file(f"{bucket}/shards/b/part-1.jsonl", b"".join(lines[250:]))
    fs.pipe_file(f"{bucket}/shards/.tmp/junk.jsonl", b"not json\n")
    fs.pipe_file(f"{bucket}/shards/_SUCCESS", b"")
    yield fs, f"memory:/{bucket}"
    fs.rm(bucket, recursive=True)


def _select(src: str, out: str, idx: str, *extra: str) -> int:
    return main(["select", src, "-o", out, "--indices-out", idx, *ARGS, *extra])


@pytest.mark.parametrize("source", ["pool.jsonl.gz", "shards", "shards/**/*.jsonl*"])
def test_memory_inputs_and_outputs_select_as_the_local_file(store, expected, source, tmp_path):
    fs, root = store
    assert _select(f"{root}/{source}", f"{root}/out/sel.jsonl", f"{root}/out/idx.json") == 0
    assert fs.cat_file(f"{root}/out/sel.jsonl") == expected[0]
    assert json.loads(fs.cat_file(f"{root}/out/idx.json")) == expected[1]
    assert sorted(p.rsplit("/", 1)[1] for p in fs.ls(f"{root}/out", detail=False)) == ["idx.json", "sel.jsonl"]
    # a compressed remote output, and a local one from a remote input
    assert _select(f"{root}/{source}", f"{root}/out/sel.jsonl.gz", str(tmp_path / "idx.json")) == 0
    assert gzip.decompress(fs.cat_file(f"{root}/out/sel.jsonl.gz")) == expected[0]


def test_file_urls_are_local_files(tmp_path, data_dir, expected):
    out, idx = tmp_path / "sel.jsonl", tmp_path / "idx.json"
    assert _select(f"file://{data_dir / 'faq_qa.jsonl'}", f"file://{out}", f"file://{idx}") == 0
    assert out.read_bytes() == expected[0] and json.loads(idx.read_text()) == expected[1]


def test_a_remote_output_is_proven_writable_before_any_work_and_left_untouched_on_failure(store, monkeypatch,
                                                                                          capsys):
    fs, root = store
    seen = {}

    def failing_select(*args, **kwargs):
        seen["tmp"] = [p for p in fs.find(root.split(":/", 1)[1]) if ".fastzip-" in p]
        raise KeyboardInterrupt
    monkeypatch.setattr(cli_select, "select", failing_select)
    assert _select(f"{root}/pool.jsonl.gz", f"{root}/out/sel.jsonl", f"{root}/out/idx.json") == 130
    assert len(seen["tmp"]) == 2                              # both temporary objects existed during the run
    assert not fs.exists(f"{root}/out/sel.jsonl") and not fs.exists(f"{root}/out/idx.json")
    assert [p for p in fs.find(root.split(":/", 1)[1]) if ".fastzip-" in p] == []      # and were removed


@pytest.mark.parametrize("where", ["input", "output"])
def test_denied_and_missing_are_one_line(store, capsys, tmp_path, where):
    fs, root = store
    if where == "input":
        cases = [(f"{root}/nosuch.jsonl", "no such object or prefix"), ("deniedmem://x/pool.jsonl", "access denied")]
        for src, needle in cases:
            assert main(["select", src, "-o", str(tmp_path / "o.jsonl"), *ARGS]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and needle in err and src in err, err
    else:
        assert main(["select", f"{root}/pool.jsonl.gz", "-o", "deniedmem://x/o.jsonl", *ARGS]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "access denied" in err, err
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- a real S3-compatible server
@pytest.fixture(scope="module")
def s3_server():
    pytest.importorskip("s3fs", reason="s3fs is not installed: pip install 'fastzip-select[remote]'")
    server_mod = pytest.importorskip("moto.server", reason="moto is not installed: pip install 'moto[server]'")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch, faq):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3_server}.items():
        monkeypatch.setenv(key, value)
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    bucket = f"fz-{uuid.uuid4().hex[:10]}"
    fs.mkdir(bucket)
    lines = faq.splitlines(keepends=True)
    fs.pipe_file(f"{bucket}/shards/part-0.jsonl.gz", gzip.compress(b"".join(lines[:300])))
    fs.pipe_file(f"{bucket}/shards/sub/part-1.jsonl.zst", zstandard.ZstdCompressor().compress(b"".join(lines[300:])))
    fs.pipe_file(f"{bucket}/pool.jsonl", faq)
    return fs, bucket


def test_s3_inputs_and_outputs_through_a_real_server(s3, expected, tmp_path, capsys):
    fs, bucket = s3
    for source in ("pool.jsonl", "shards"):
        assert _select(f"s3://{bucket}/{source}", f"s3://{bucket}/out/sel.jsonl", str(tmp_path / "idx.json")) == 0
        fs.invalidate_cache()
        assert fs.cat_file(f"{bucket}/out/sel.jsonl") == expected[0]
        assert json.loads((tmp_path / "idx.json").read_text()) == expected[1]
    assert [p for p in fs.find(bucket) if ".fastzip-" in p] == []
    assert main(["ratio", f"s3://{bucket}/pool.jsonl"]) == 0


def test_s3_missing_object_and_bucket_are_one_line_before_any_work(s3, tmp_path, capsys, monkeypatch):
    fs, bucket = s3
    assert main(["select", f"s3://{bucket}/nosuch.jsonl", "-o", str(tmp_path / "o.jsonl"), *ARGS]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such object or prefix" in err, err

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the output was checked")
    monkeypatch.setattr(cli_select, "select", forbidden)
    monkeypatch.setattr(cli_select.io, "read_pool", forbidden)
    missing = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/o.jsonl"
    assert main(["select", f"s3://{bucket}/pool.jsonl", "-o", missing, *ARGS]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "its bucket or folder does not exist" in err, err
