"""The public compression API: arguments, errors, build info, custom codecs."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import fastzip


@pytest.mark.parametrize("kwargs, message", [
    (dict(codec="brotli"), "unknown codec 'brotli'"),
    (dict(codec="zlib", level=10), "zlib level must be 0..9"),
    (dict(codec="zlib", level=-1), "zlib level must be 0..9"),
    (dict(codec="zstd", level=0), "zstd level must be 1..22"),
    (dict(codec="zstd", level=23), "zstd level must be 1..22"),
    (dict(codec="lz4", level=13), "lz4 level must be <= 12"),
    (dict(codec="zlib", level="9"), "level must be an integer"),
    (dict(codec=3), "codec must be a string"),
])
def test_bad_codec_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fastzip.IncrementalCompressor(**kwargs)


def test_bad_candidates():
    ic = fastzip.IncrementalCompressor("zlib")
    with pytest.raises(ValueError, match="candidate 1 must be bytes or str, got int"):
        ic.marginal_sizes([b"a", 5])
    with pytest.raises(ValueError, match="wrap a single candidate"):
        ic.marginal_sizes(b"abc")
    with pytest.raises(ValueError, match=r"n_threads \(--threads\) must not be 0"):
        ic.marginal_sizes([b"a"], n_threads=0)
    data = np.frombuffer(b"abcdef", np.uint8)
    with pytest.raises(ValueError, match="outside the data buffer"):
        ic.marginal_sizes((data, np.array([0, 3, 9], np.int64)))
    with pytest.raises(ValueError, match="must not decrease|decrease"):
        ic.marginal_sizes((data, np.array([0, 4, 2], np.int64)))
    with pytest.raises(ValueError, match="outside"):
        ic.marginal_sizes((data, np.array([0, 3, 6], np.int64)), index=np.array([2]))


def test_empty_batches_and_empty_candidates():
    ic = fastzip.IncrementalCompressor("zstd")
    assert ic.marginal_sizes([]).shape == (0,)
    assert ic.marginal_sizes([""]).tolist()[0] > 0
    with pytest.raises(ValueError, match="empty input"):
        fastzip.compression_ratio([])


def test_build_info_reports_each_codec(monkeypatch):
    info = fastzip.build_info()
    assert info["native_extension"] is True
    assert set(info["codecs"]) == {"zlib", "zstd", "lz4"}
    assert info["codecs"]["zlib"]["native"] is True
    assert info["codecs"]["zlib"]["library"] == zlib.ZLIB_RUNTIME_VERSION
    monkeypatch.setenv("FASTZIP_FORCE_FALLBACK", "1")
    forced = fastzip.build_info()
    assert forced["force_fallback"] is True
    assert all(c["active"] == "fallback" for c in forced["codecs"].values())
    assert fastzip.IncrementalCompressor("zlib").native is False


def test_register_codec_rules():
    with pytest.raises(ValueError, match="built-in"):
        fastzip.register_codec("zlib", zlib.compress)
    with pytest.raises(ValueError, match="callable"):
        fastzip.register_codec("x-test", "not callable")
    fastzip.register_codec("zlib1-test", lambda b: zlib.compress(b, 1))
    try:
        with pytest.raises(ValueError, match="already registered"):
            fastzip.register_codec("zlib1-test", zlib.compress)
        ic = fastzip.IncrementalCompressor("zlib1-test")
        ic.extend([b"hello world " * 10])
        assert ic.marginal_sizes([b"more"]).tolist() == [len(zlib.compress(b"hello world " * 10 + b"more", 1))]
        assert "zlib1-test" in fastzip.build_info()["custom_codecs"]
    finally:
        fastzip.unregister_codec("zlib1-test")


@pytest.mark.parametrize("serializer", ["repr", "json", "text"])
def test_serializers_follow_the_spec(faq_rows, serializer):
    import json

    rows = faq_rows[:20]
    blob = fastzip.samples.serialize.serialize_list(rows, serializer)
    if serializer == "repr":
        assert blob == str(rows).encode("utf-8")
    elif serializer == "json":
        assert blob == "\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows).encode()
    else:
        assert blob == "\n".join("\n".join(p for p in (r["instruction"], r["input"], r["output"]) if p)
                                 for r in rows).encode()


def test_text_serializer_shapes(chitchat_rows):
    conv = chitchat_rows[0]
    text = fastzip.samples.serialize.sample_text(conv)
    first = conv["conversations"][0]
    assert text.startswith(f"{first['from']}: {first['value']}")
    msgs = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    assert fastzip.samples.serialize.sample_text(msgs) == "user: hi\nassistant: hello"
    assert fastzip.samples.serialize.sample_text({"text": "plain"}) == "plain"
    assert fastzip.samples.serialize.sample_text({"other": 1}) == '{"other":1}'


def test_ratio_of_each_codec_is_consistent(evals_bytes):
    blob = b"\n".join(evals_bytes[:300])
    for codec in ("zlib", "zstd", "lz4"):
        ic = fastzip.IncrementalCompressor(codec)
        size = ic.marginal_sizes([blob])[0]
        assert fastzip.compression_ratio(blob, codec=codec) == len(blob) / size
