"""Serializers (docs/semantics.md §4).

A serializer turns one sample into the bytes that stand for it when it is
compressed, and says how samples are joined into one stream:

* ``repr``: ``repr(sample)`` in UTF-8; a list is ``"[" + ", ".join(...) + "]"``,
  exactly the string the published reference builds with ``str(list)``.
* ``json``: ``json.dumps(sample, ensure_ascii=False, separators=(",", ":"))``,
  one per line.
* ``text``: the human-readable content (ShareGPT / OpenAI messages as
  ``role: content`` lines, Alpaca fields joined by newlines, ``{"text": ...}``),
  one sample per line; anything else falls back to ``json``.

The packed pool (:class:`~fastzip.samples.pool.Pool`, :func:`~fastzip.samples.pool.pack`),
which serializes every sample once into one buffer, lives in
``fastzip.samples.pool``.
"""
from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, UsageError

SERIALIZERS = ("repr", "json", "text")


@dataclass(frozen=True)
class Framing:
    """How serialized samples are joined into one stream.

    Parameters
    ----------
    open : bytes
        Before the first sample.
    separator : bytes
        Between samples.
    close : bytes
        After the last sample.
    """

    open: bytes
    separator: bytes
    close: bytes


FRAMING = {
    "repr": Framing(b"[", b", ", b"]"),
    "json": Framing(b"", b"\n", b""),
    "text": Framing(b"", b"\n", b""),
}


def check_serializer(name: str) -> str:
    """Check a serializer's name.

    Parameters
    ----------
    name : str
        ``repr``, ``json`` or ``text``.

    Returns
    -------
    str
        ``name``.

    Raises
    ------
    fastzip.errors.UsageError
        ``name`` is not a serializer's, naming the choices.
    """
    if name not in SERIALIZERS:
        raise UsageError(f"unknown serializer {name!r}; choose one of {', '.join(SERIALIZERS)}")
    return name


def json_default(value: Any) -> Any:
    """The JSON form of a value that JSON lacks (Parquet, Arrow and pandas values).

    The form is deterministic and documented:

    * bytes (Arrow binary types): standard base64 text;
    * dates, times and timestamps: ISO 8601 (``isoformat()``);
    * durations: ISO 8601 seconds, ``PT<seconds>S``, exact to the nanosecond;
    * decimals: their exact decimal text; UUIDs: their canonical text;
    * numpy scalars and arrays: the matching Python numbers and lists.

    Lists, structs (dicts), maps (lists of key/value pairs) and intervals
    (named tuples) are JSON already.

    Parameters
    ----------
    value : object
        A value ``json.dumps`` cannot write.

    Returns
    -------
    object
        Its JSON form.

    Raises
    ------
    TypeError
        The value has no JSON form (as ``json.dumps``'s ``default`` must).
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        nanoseconds = getattr(value, "value", None)     # pandas.Timedelta keeps nanoseconds
        if not isinstance(nanoseconds, int):
            nanoseconds = ((value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds) * 1000
        return f"PT{decimal.Decimal(nanoseconds).scaleb(-9).normalize():f}S"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    to_python = getattr(value, "tolist", None)           # numpy scalars and arrays
    if callable(to_python) and type(value).__module__.startswith("numpy"):
        return to_python()
    raise TypeError(f"a value of type {type(value).__name__} has no JSON form")


def dumps_json(value: Any, **options: Any) -> str:
    """``json.dumps`` with :func:`json_default` and ``ensure_ascii=False``.

    Parameters
    ----------
    value : object
        What to write.
    **options
        Passed to ``json.dumps`` (``separators``, ``indent``, ...).

    Returns
    -------
    str
        The JSON text.
    """
    return json.dumps(value, ensure_ascii=False, default=json_default, **options)


def _compact_json(sample: Any, record: int | None) -> str:
    try:
        return dumps_json(sample, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot serialize: {exc}", record=record) from None
    except RecursionError:
        raise InputError("cannot serialize: nested too deeply", record=record) from None


def _text_of_turns(turns: Any, role_key: str, content_key: str, field: str, record: int | None) -> str:
    if not isinstance(turns, list):
        raise InputError(f"field {field!r} must be a list of turns, got {type(turns).__name__}", record=record)
    lines = []
    for t, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise InputError(f"{field}[{t}] must be an object, got {type(turn).__name__}", record=record)
        if content_key not in turn:
            raise InputError(f"{field}[{t}] has no {content_key!r} field", record=record)
        role, content = turn.get(role_key, ""), turn[content_key]
        if isinstance(content, list):  # OpenAI content parts: their text, in order
            texts = [p.get("text", "") if isinstance(p, dict) else p for p in content]
            if not all(isinstance(t, str) for t in texts):
                raise InputError(f"{field}[{t}].{content_key} parts must hold strings", record=record)
            content = "".join(texts)
        if not isinstance(content, str):
            raise InputError(f"{field}[{t}].{content_key} must be a string, got {type(content).__name__}",
                             record=record)
        lines.append(f"{role}: {content}" if role else content)
    return "\n".join(lines)


def sample_text(sample: Any, record: int | None = None, text_field: str | None = None) -> str:
    """The human-readable content of a sample (the ``text`` serializer).

    Parameters
    ----------
    sample : dict, str or bytes
        ShareGPT / OpenAI messages become ``role: content`` lines, Alpaca
        fields are joined by newlines, ``{"text": ...}`` is its text;
        anything else is compact JSON.
    record : int or None, optional
        The sample's record number (from 0), for error messages.
    text_field : str or None, optional
        Read this string field instead.

    Returns
    -------
    str

    Raises
    ------
    fastzip.errors.InputError
        A sample of another type, or a field missing or of the wrong type.
    """
    if isinstance(sample, str):
        return sample
    if isinstance(sample, (bytes, bytearray)):
        return bytes(sample).decode("utf-8", errors="surrogateescape")
    if not isinstance(sample, dict):
        raise InputError(f"a sample must be an object or a string, got {type(sample).__name__}", record=record)
    if text_field is not None:
        if text_field not in sample:
            raise InputError(f"missing field {text_field!r}", record=record)
        value = sample[text_field]
        if not isinstance(value, str):
            raise InputError(f"field {text_field!r} must be a string, got {type(value).__name__}", record=record)
        return value
    if "conversations" in sample:
        return _text_of_turns(sample["conversations"], "from", "value", "conversations", record)
    if "messages" in sample:
        return _text_of_turns(sample["messages"], "role", "content", "messages", record)
    if "instruction" in sample or "output" in sample:
        parts = []
        for key in ("instruction", "input", "output"):
            value = sample.get(key, "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise InputError(f"field {key!r} must be a string, got {type(value).__name__}", record=record)
            if value:
                parts.append(value)
        return "\n".join(parts)
    if "text" in sample:
        value = sample["text"]
        if not isinstance(value, str):
            raise InputError(f"field 'text' must be a string, got {type(value).__name__}", record=record)
        return value
    return _compact_json(sample, record)


def serialize_sample(sample: Any, serializer: str, record: int | None = None,
                     text_field: str | None = None) -> bytes:
    """The bytes of one sample under ``serializer``.

    Parameters
    ----------
    sample : dict, str or bytes
        The sample.
    serializer : str
        ``repr``, ``json`` or ``text`` (docs/semantics.md §4).
    record : int or None, optional
        The sample's record number (from 0), for error messages.
    text_field : str or None, optional
        For ``text``: the field of each record to read.  Under every
        serializer, an object without this field is an error: it is never
        silently serialized another way.

    Returns
    -------
    bytes

    Raises
    ------
    fastzip.errors.InputError
        A sample that cannot be serialized, or an object without ``text_field``, naming its record.
    fastzip.errors.UsageError
        An unknown serializer.
    """
    if text_field is not None and isinstance(sample, dict) and text_field not in sample:
        raise InputError(f"missing field {text_field!r}", record=record)
    if serializer == "repr":
        if not isinstance(sample, (dict, str, bytes, bytearray)):
            raise InputError(f"a sample must be an object or a string, got {type(sample).__name__}",
                             record=record)
        try:
            return repr(sample).encode("utf-8", errors="surrogatepass")
        except RecursionError:
            raise InputError("cannot serialize: nested too deeply", record=record) from None
        except ValueError as exc:      # e.g. an integer past Python's digit limit
            raise InputError(f"cannot serialize: {exc}", record=record) from None
    if serializer == "json":
        if isinstance(sample, (bytes, bytearray)):
            sample = bytes(sample).decode("utf-8", errors="surrogateescape")
        if not isinstance(sample, (dict, str)):
            raise InputError(f"a sample must be an object or a string, got {type(sample).__name__}",
                             record=record)
        return _compact_json(sample, record).encode("utf-8", "surrogatepass")
    check_serializer(serializer)          # "text", or an error naming the choices
    if isinstance(sample, (bytes, bytearray)):
        return bytes(sample)
    return sample_text(sample, record, text_field).encode("utf-8", errors="surrogatepass")


def serialize_list(samples: Iterable[Any], serializer: str, text_field: str | None = None) -> bytes:
    """The whole list as one byte string (``str(list)`` for ``repr``).

    Parameters
    ----------
    samples : iterable
        The samples, in order.
    serializer : str
        ``repr``, ``json`` or ``text``.
    text_field : str or None, optional
        For ``text``: the field of each record to read.

    Returns
    -------
    bytes
        The serialized samples joined by the serializer's framing.

    Raises
    ------
    fastzip.errors.FastzipError
        As :func:`serialize_sample` raises them, for the first sample that fails.
    """
    framing = FRAMING[check_serializer(serializer)]
    body = framing.separator.join(serialize_sample(s, serializer, i, text_field) for i, s in enumerate(samples))
    return framing.open + body + framing.close
