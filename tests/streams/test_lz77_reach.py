"""The lz77 cost codec: its reach over a large selection and its exact sizes.

Reach: a sample already in the stream, measured again after more selected
text has been appended, adds a fraction of its stand-alone size (0 when seen
as fully redundant, 1 when unseen).  The codec must keep it at most 20%
after 1 GB of other text (the slow test); the default run checks 96 MB, the
shortest distance at which the codec without its far table (a fixed table
of recent positions only) already fails (45% at 96 MB, 85% at 128 MB).

Exact sizes: the cost model prices in integers, so its sizes are the same
on every platform, compiler, optimisation level and thread count.
tests/data/lz77_expected.json holds them for a fixed workload of real text;
regenerate it (only when the cost model changes on purpose, with its
version) with ``python3 -m tests.streams.test_lz77_reach``.
"""
from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from fastzip.samples.pool import pack
from fastzip.streams import _native, codecs
from tests.helpers import DATA, load_jsonl

native_lz77 = pytest.mark.skipif(not codecs.native_available("lz77"), reason="native extension not built")
EXPECTED = DATA / "lz77_expected.json"
LETTERS = string.ascii_lowercase.encode()
# the affine letter maps i -> a*i + b (mod 26) other than the identity: 311 of them
AFFINE = [(a, b) for a in (1, 3, 5, 7, 9, 11, 15, 17, 19, 21, 23, 25) for b in range(26) if (a, b) != (1, 0)]


@pytest.fixture(autouse=True)
def _native_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FASTZIP_FORCE_FALLBACK", raising=False)


def compact(rows: list[Any]) -> list[bytes]:
    return [json.dumps(r, ensure_ascii=False).encode() for r in rows]


def corpora() -> tuple[list[bytes], list[bytes]]:
    """The probes (every 10th evals record) and the rest of the real text (evals, chitchat, faq)."""
    evals = compact(load_jsonl("openai_evals_5k.jsonl"))
    rest = [r for i, r in enumerate(evals) if i % 10] + compact(load_jsonl("chitchat_1k.jsonl")) \
        + compact(load_jsonl("faq_qa.jsonl"))
    return evals[::10], rest


def relettered(text: bytes, block: int) -> bytes:
    """`text` with its ASCII letters re-mapped by the block's affine substitution (case kept)."""
    a, b = AFFINE[block]
    lower = bytes(LETTERS[(a * i + b) % 26] for i in range(26))
    return text.translate(bytes.maketrans(LETTERS + LETTERS.upper(), lower + lower.upper()))


def other_text(rest: list[bytes], size: int) -> Iterator[bytes]:
    """`size` bytes of other selected text, in blocks of about 8 MB.

    Block r is every record of `rest` (the probes are not among them), each
    behind a marker ``<r:j>``, starting at a different record each block,
    with the letters re-mapped by an affine substitution of its own.  Plain
    repetition would make a gigabyte of the same 8 MB, whose windows a table
    holds once; re-lettered, each block brings as many new 8- and 32-byte
    windows as that much fresh text of the same kind would, while keeping
    real text's statistics (word lengths, punctuation, JSON structure,
    repeats within a block).
    """
    sent = 0
    block = 0
    while sent < size:
        start = (block * 997) % len(rest)
        order = list(range(start, len(rest))) + list(range(start))
        text = relettered(b"".join(b"<%d:%d> " % (block, j) + rest[j] + b"\n" for j in order), block)
        piece = text[:size - sent]
        sent += len(piece)
        block += 1
        yield piece


def lz77_stream(level: int = 2) -> Any:
    return _native.NativeStream("lz77", level)


def append(stream: Any, data: bytes) -> None:
    stream.append(np.frombuffer(data, dtype=np.uint8))


def measure(stream: Any, cands: list[bytes], threads: int = 2, prefix: bytes = b"") -> Any:
    data, offsets = pack(cands)
    return np.asarray(stream.measure(data, offsets, prefix=prefix, n_threads=threads))


def reach(appended: int) -> Any:
    """Per probe: what it adds after `appended` bytes of other text, over its stand-alone size."""
    probes, rest = corpora()
    alone = measure(lz77_stream(), probes)
    stream = lz77_stream()
    append(stream, b"\n".join(probes) + b"\n")
    for piece in other_text(rest, appended):
        append(stream, piece)
    return measure(stream, probes) / alone


# ------------------------------------------------------------------ reach ---
@native_lz77
def test_a_selected_sample_stays_seen_after_96_mb_of_other_text() -> None:
    ratio = reach(96 << 20)
    assert ratio.mean() <= 0.20, (ratio.mean(), np.quantile(ratio, 0.9))


@native_lz77
@pytest.mark.slow
def test_a_selected_sample_stays_seen_after_1_gb_of_other_text() -> None:
    ratio = reach(1 << 30)
    assert ratio.mean() <= 0.20, (ratio.mean(), np.quantile(ratio, 0.9))


@native_lz77
def test_other_text_is_new_to_the_stream() -> None:
    """The appended text is not the probes again: each probe alone is far from seen in it."""
    probes, rest = corpora()
    stream = lz77_stream()
    for piece in other_text(rest, 16 << 20):
        append(stream, piece)
    alone = measure(lz77_stream(), probes)
    assert measure(stream, probes).mean() / alone.mean() > 0.8
    assert relettered(b"Hello, World", 0) != b"Hello, World"


# ----------------------------------------------------------- exact sizes ---
def workload(threads: int = 1, *more_threads: int) -> dict[str, list[int]]:
    """Sizes of a fixed set of real candidates, stand-alone and after ~18 MB of stream, both levels.

    The stream (real text, then re-lettered blocks) makes the far table
    double twice; the candidates include stretches of the stream itself, so
    matches into it and their backward extension count too.  Every batch is
    measured on `threads` and on each of `more_threads`; a size that differs
    between thread counts makes the result differ from any expectation.
    """
    probes, rest = corpora()
    chats = compact(load_jsonl("chitchat_1k.jsonl"))
    head = b"\n".join(rest[:3000])
    cands = probes + chats[::20] + [head[i:i + n] for i, n in zip(range(0, 2_000_000, 97_000), range(40, 9000, 430))]

    def sizes_of(stream: Any, prefix: bytes = b"") -> list[int]:
        first: list[int] = measure(stream, cands, threads, prefix).tolist()
        for t in more_threads:
            again = measure(stream, cands, t, prefix).tolist()
            first = [a if a == b else -1 for a, b in zip(first, again)]
        return first

    sizes: dict[str, list[int]] = {}
    for level in (1, 2):
        sizes[f"alone-level{level}"] = sizes_of(lz77_stream(level))
        stream = lz77_stream(level)
        append(stream, head)
        for piece in other_text(rest, 16 << 20):
            append(stream, piece)
        sizes[f"stream-level{level}"] = sizes_of(stream)
        sizes[f"stream-level{level}-sep"] = sizes_of(stream, b"\n")
    return sizes


@native_lz77
def test_sizes_equal_the_committed_ones() -> None:
    """The same sizes on any build (-O0, no OpenMP, sanitizers) and on 1, 2 and 3 threads."""
    expected = json.loads(EXPECTED.read_text())
    assert expected["cost_model"] == ".".join(map(str, _native.codec_version("lz77")))
    sizes = workload(1, 2, 3)
    assert sizes.keys() == expected["sizes"].keys()
    for key, want in expected["sizes"].items():
        got = sizes[key]
        diff = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
        assert len(got) == len(want) and not diff, f"{key}: {len(diff)} sizes differ, first at {diff[:1]}"


if __name__ == "__main__":
    major_minor_patch = ".".join(map(str, _native.codec_version("lz77")))
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in workload().items()]
    header = f'{{"cost_model": "{major_minor_patch}",\n "workload": "tests/streams/test_lz77_reach.py::workload",\n'
    EXPECTED.write_text(header + ' "sizes": {\n' + ",\n".join(lines) + "\n }\n}\n")
    print(f"wrote {EXPECTED}")
