"""Fuzzing the readers and the CLI with byte-level mutations of real files.

The invariant, for every input: exit 0 with a valid output, or exit 2 with
one ``fastzip: error:`` line and nothing written; never a traceback (an
exception out of ``main``), never another status, never a changed input.
The default run tries a bounded number of examples; the slow set many more.
Compressed inputs (.gz, .zst, .bz2, .xz) are fuzzed two ways: their
compressed bytes mutated (corrupt and truncated streams), and mutated records
compressed intact (the decompressed data is bad); in memory and out of core.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import json
import lzma
import os
import tempfile

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastzip.cli import main
from tests.helpers import DATA

COMPRESS = {"gz": lambda b: gzip.compress(b, mtime=0), "zst": zstandard.ZstdCompressor().compress,
            "bz2": bz2.compress, "xz": lzma.compress}
DECOMPRESS = {"gz": gzip.decompress, "bz2": bz2.decompress, "xz": lzma.decompress,
              "zst": lambda b: zstandard.ZstdDecompressor().stream_reader(io.BytesIO(b)).read()}

FAQ_LINES = (DATA / "faq_qa.jsonl").read_bytes().splitlines(keepends=True)[:12]


def _split(fmt: str) -> tuple[str, str | None]:
    """``jsonl.gz`` -> (``jsonl``, ``gz``)."""
    base, _, compression = fmt.partition(".")
    return base, compression or None


def _seed(fmt: str) -> bytes:
    base, compression = _split(fmt)
    if compression:
        return COMPRESS[compression](_seed(base))
    if fmt == "jsonl":
        return b"".join(FAQ_LINES)
    records = [json.loads(line) for line in FAQ_LINES]
    if fmt == "json":
        return json.dumps(records).encode()
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(records), sink)
    return sink.getvalue().to_pybytes()


_INTERESTING = [b"", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\n", b"{", b"}", b"[", b"]", b'"', b"\\u", b"\\ud800",
                b"null", b"1e999", b"9" * 40, b"-", b",", b":", b"PAR1", b"\r\n", "é".encode()]


@st.composite
def mutations(draw, seed: bytes) -> bytes:
    """``seed`` with a few byte flips, insertions, deletions or a truncation."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.one_of(st.sampled_from(_INTERESTING), st.binary(max_size=8)))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "duplicate":
            data[at:at] = data[at:at + draw(st.integers(1, 200))]
    return bytes(data)


def check_invariant(payload: bytes, fmt: str, out_fmt: str, extra: tuple[str, ...] = ()) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, f"pool.{fmt}")
        out = os.path.join(tmp, f"out.{out_fmt}")
        with open(src, "wb") as f:
            f.write(payload)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main(["select", src, "-o", out, "--budget", "2", "--k1", "12", "--k2", "4", "--k3", "2",
                       "--quiet", *extra])
        with open(src, "rb") as f:
            assert f.read() == payload, "the input changed"
        lines = err.getvalue().strip().splitlines()
        if rc == 0:
            assert os.path.exists(out) and lines == []
            _assert_valid(out, out_fmt)
        else:
            assert rc == 2, (rc, err.getvalue())
            assert len(lines) == 1 and lines[0].startswith("fastzip: error: "), err.getvalue()
            assert not os.path.exists(out)
        assert sorted(os.listdir(tmp)) == sorted({os.path.basename(src)} | ({os.path.basename(out)} if rc == 0
                                                                             else set()))
    return rc


def _assert_valid(path: str, fmt: str) -> None:
    fmt, compression = _split(fmt)
    with open(path, "rb") as f:
        data = f.read()
    if compression:
        data = DECOMPRESS[compression](data)
    if fmt == "jsonl":
        rows = [json.loads(line) for line in data.splitlines()]
    elif fmt == "json":
        rows = json.loads(data.decode("utf-8"))
    else:
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    assert len(rows) == 2


def _fuzz_test(fmt: str, out_fmt: str, examples: int, extra: tuple[str, ...] = (), inside: bool = False):
    """Mutate ``fmt``'s bytes; with ``inside``, mutate the records and compress them intact."""
    base, compression = _split(fmt)
    seed = _seed(base if inside else fmt)

    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(payload=mutations(seed))
    def run(payload):
        if inside and compression:
            payload = COMPRESS[compression](payload)
        check_invariant(payload, fmt, out_fmt, extra)

    run()


CASES = [("jsonl", "jsonl"), ("json", "json"), ("parquet", "parquet"), ("jsonl", "parquet"), ("parquet", "json")]


@pytest.mark.parametrize("fmt, out_fmt", CASES)
def test_mutated_inputs_end_in_a_valid_output_or_one_error_line(fmt, out_fmt):
    if "parquet" in (fmt, out_fmt):
        pytest.importorskip("pyarrow")
    _fuzz_test(fmt, out_fmt, examples=40)


@pytest.mark.slow
@pytest.mark.parametrize("fmt, out_fmt", CASES)
def test_mutated_inputs_many_more(fmt, out_fmt):
    if "parquet" in (fmt, out_fmt):
        pytest.importorskip("pyarrow")
    _fuzz_test(fmt, out_fmt, examples=1500)


OOC = ("--out-of-core", "on")
COMPRESSED = [("jsonl.gz", "jsonl", ()), ("jsonl.zst", "jsonl.gz", ()), ("jsonl.bz2", "json", ()),
              ("jsonl.xz", "jsonl.zst", ()), ("json.gz", "json.xz", ()), ("jsonl.gz", "jsonl", OOC),
              ("jsonl.zst", "jsonl.bz2", OOC)]
_IDS = [f"{a}-{b}{'-ooc' if e else ''}" for a, b, e in COMPRESSED]


@pytest.mark.parametrize("inside", [False, True], ids=["compressed-bytes", "records"])
@pytest.mark.parametrize("fmt, out_fmt, extra", COMPRESSED, ids=_IDS)
def test_mutated_compressed_inputs_end_in_a_valid_output_or_one_error_line(fmt, out_fmt, extra, inside):
    _fuzz_test(fmt, out_fmt, examples=25, extra=extra, inside=inside)


@pytest.mark.slow
@pytest.mark.parametrize("inside", [False, True], ids=["compressed-bytes", "records"])
@pytest.mark.parametrize("fmt, out_fmt, extra", COMPRESSED, ids=_IDS)
def test_mutated_compressed_inputs_many_more(fmt, out_fmt, extra, inside):
    _fuzz_test(fmt, out_fmt, examples=800, extra=extra, inside=inside)


def test_the_harness_reads_compressed_seeds():
    """The compressed seeds are valid: unmutated, each selects (so the fuzz above starts from good data)."""
    for fmt, out_fmt, extra in COMPRESSED:
        assert check_invariant(_seed(fmt), fmt, out_fmt, extra) == 0, fmt


def test_the_harness_catches_a_traceback(monkeypatch):
    """A reader that crashes must fail the harness (so the harness can fail)."""
    import fastzip.io

    def crash(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(fastzip.io, "read_pool", crash)
    with pytest.raises(RuntimeError, match="a bug"):
        check_invariant(_seed("jsonl"), "jsonl", "jsonl")
