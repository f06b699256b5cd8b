"""Which zlib (issue 21, Why 8): compat mode's exactness needs stock zlib's bytes; zlib-ng does not promise them.

The zlib is told by its output on a fixed input, never by its version string alone.
"""
from __future__ import annotations

import json
import zlib

import pytest

from fastzip.cli import main
from fastzip.streams import codecs

COMPAT = ["--budget", "5", "--k1", "20", "--k2", "10", "--k3", "5", "--quiet", "--compat", "reference"]


def _filtered(data: bytes, level: int) -> bytes:
    """A real deflate stream of the same data that stock zlib's default strategy would not emit (as zlib-ng's)."""
    c = zlib.compressobj(level, zlib.DEFLATED, 15, 9, zlib.Z_FILTERED)
    return c.compress(data) + c.flush()


@pytest.fixture
def other_zlib(monkeypatch):
    """A zlib whose version string looks stock but whose output is not."""
    monkeypatch.setattr(codecs, "_python_deflate", _filtered)
    monkeypatch.setattr(codecs, "_stream_size", lambda data, level: len(_filtered(data, level)))
    monkeypatch.delenv(codecs.ANY_ZLIB_ENV, raising=False)


def test_the_committed_stock_bytes_are_what_this_stock_zlib_makes():
    if "ng" in zlib.ZLIB_RUNTIME_VERSION:
        pytest.skip("this Python links zlib-ng")
    probe = codecs._zlib_probe()
    for level, (length, _) in codecs._STOCK_ZLIB.items():
        assert len(zlib.compress(probe, level)) == length
    assert codecs.zlib_identity()["stock"] is True


def test_info_names_the_zlib_in_use(capsys):
    assert main(["info"]) == 0
    info = json.loads(capsys.readouterr().out)["zlib"]
    assert info["name"] in ("stock zlib", "zlib-ng", "a zlib that differs from stock zlib")
    assert info["python"]["version"] == zlib.ZLIB_RUNTIME_VERSION
    assert info["stock"] == (info["python"]["stock"] and info["engine"]["stock"])


def test_a_different_output_is_found_whatever_the_version_says(other_zlib):
    who = codecs.zlib_identity()
    assert who["stock"] is False and who["name"] == "a zlib that differs from stock zlib"


def test_the_version_string_alone_does_not_condemn_a_stock_output(monkeypatch):
    if "ng" in zlib.ZLIB_RUNTIME_VERSION:
        pytest.skip("this Python links zlib-ng")
    monkeypatch.setattr(zlib, "ZLIB_RUNTIME_VERSION", "1.3.1.zlib-ng")
    assert codecs.zlib_identity()["stock"] is True


def test_compat_refuses_a_different_zlib_in_one_line_and_writes_nothing(tmp_path, capsys, data_dir, other_zlib):
    out = tmp_path / "o.jsonl"
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(out), *COMPAT]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "compat mode reproduces the published selections only with stock zlib" in err
    assert "--any-zlib" in err and codecs.ANY_ZLIB_ENV in err
    assert not out.exists()
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(out), "--budget", "5", "--quiet"]) == 0


@pytest.mark.parametrize("how", ["option", "env"])
def test_the_opt_out_runs_compat_anyway(tmp_path, capsys, data_dir, other_zlib, monkeypatch, how):
    out = tmp_path / "o.jsonl"
    extra = ["--any-zlib"] if how == "option" else []
    if how == "env":
        monkeypatch.setenv(codecs.ANY_ZLIB_ENV, "1")
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(out), *COMPAT, *extra]) == 0
    assert len(out.read_bytes().splitlines()) == 5


def test_any_zlib_without_compat_is_refused(tmp_path, capsys, data_dir):
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--budget", "5",
                 "--any-zlib"]) == 2
    assert "--any-zlib applies to --compat runs only" in capsys.readouterr().err
