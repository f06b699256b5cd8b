"""Shared fixtures: the real corpora in tests/data and both codec backends."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import DATA, load_jsonl


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def evals_rows() -> list:
    """4,842 real instruction/input/output triples (openai evals)."""
    return load_jsonl("openai_evals_5k.jsonl")


@pytest.fixture(scope="session")
def faq_rows() -> list:
    return load_jsonl("faq_qa.jsonl")


@pytest.fixture(scope="session")
def chitchat_rows() -> list:
    return load_jsonl("chitchat_1k.jsonl")


@pytest.fixture(scope="session")
def evals_bytes(evals_rows) -> list:
    """Each evals record as compact JSON bytes (about 0.8 KB each)."""
    return [json.dumps(r, ensure_ascii=False).encode() for r in evals_rows]


@pytest.fixture(scope="session")
def evals_stream(evals_bytes) -> bytes:
    """About 3.7 MB of real text: every evals record, one per line."""
    return b"\n".join(evals_bytes)


@pytest.fixture(params=["native", "fallback"])
def backend(request, monkeypatch):
    """Run a test once per backend (native kernels, PyPI bindings)."""
    if request.param == "native":
        from fastzip.streams import codecs

        if not codecs.native_available("zlib"):
            pytest.skip("native extension not built")
        monkeypatch.delenv("FASTZIP_FORCE_FALLBACK", raising=False)
    else:
        monkeypatch.setenv("FASTZIP_FORCE_FALLBACK", "1")
    return request.param


@pytest.fixture
def faq_copy(tmp_path, data_dir) -> Path:
    """A copy of the bundled FAQ pool at ``tmp_path/in/pool.jsonl``, alone in its folder (runs must not change it)."""
    src = tmp_path / "in" / "pool.jsonl"
    src.parent.mkdir()
    src.write_bytes((data_dir / "faq_qa.jsonl").read_bytes())
    return src


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if ``fastzip select`` reads the pool or starts a selection (in memory, out of core, Ray)."""
    from fastzip.cli import select as cli_select

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the arguments and outputs were checked")
    for name in ("select", "select_shards", "select_files"):
        monkeypatch.setattr(cli_select, name, forbidden)
    monkeypatch.setattr(cli_select.io, "read_pool", forbidden)
