"""Token counts for a token budget: from a local tokenizer file, or from a field of precomputed counts.

A token budget works as a byte budget does (docs/semantics.md §3): the
selection's token count never exceeds it, and the engine fills it greedily,
skipping the samples that no longer fit.  Each sample costs its token count,
which comes one of two ways:

* a ``tokenizers`` tokenizer (a local ``tokenizer.json`` or a
  ``tokenizers.Tokenizer``): the count of sample i is
  ``len(tokenizer.encode(text_i, add_special_tokens=False).ids)`` where
  ``text_i`` is the sample's *serialized* text, the very bytes the codec
  measures (the ``text`` serializer's text, or the ``json``/``repr``
  serialization), decoded as UTF-8 with invalid bytes replaced;
* a field of each record holding a count computed upstream (as data
  pipelines write them), read as is: a non-negative integer.

``tokenizers`` is an optional dependency (``pip install 'fastzip-select[tokens]'``).
"""
from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .._optional import require_tokenizers
from ..errors import InputError, UsageError
from ..io.read import Dataset
from ..samples.pool import Pool

ENCODE_BATCH = 4096          # samples per encode_batch call: bounds the decoded text held at once
FIELD_BATCH = 65536          # records parsed at once when reading counts from a dataset


def load_tokenizer(tokenizer: Any) -> tuple[Any, str]:
    """A tokenizer and a fingerprint of it (its file's or its JSON's SHA-256).

    Parameters
    ----------
    tokenizer : str, os.PathLike or tokenizers.Tokenizer
        A local ``tokenizer.json`` (as ``Tokenizer.save`` writes it), or a
        tokenizer object.

    Returns
    -------
    tokenizer : tokenizers.Tokenizer
    fingerprint : str
        Identifies the tokenizer in a checkpoint's key.

    Raises
    ------
    fastzip.errors.MissingDependencyError
        tokenizers is not installed.
    fastzip.errors.InputError
        The file cannot be read or is not a tokenizer.
    fastzip.errors.UsageError
        ``tokenizer`` is neither a path nor a tokenizer.
    """
    if isinstance(tokenizer, (str, os.PathLike)):
        path = os.fspath(tokenizer)
        module = require_tokenizers()
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except OSError as exc:
            raise InputError(f"cannot read the tokenizer: {exc.strerror or exc}", path=path) from None
        try:
            loaded = module.Tokenizer.from_str(blob.decode("utf-8"))
        except Exception as exc:  # tokenizers raises its own Exception subclass on a bad file
            raise InputError(f"not a tokenizers JSON file: {str(exc).splitlines()[0] if str(exc) else exc!r}",
                             path=path) from None
        return loaded, hashlib.sha256(blob).hexdigest()
    if hasattr(tokenizer, "encode_batch") and hasattr(tokenizer, "to_str"):
        return tokenizer, hashlib.sha256(tokenizer.to_str().encode("utf-8")).hexdigest()
    raise UsageError(f"tokenizer must be a tokenizer.json path or a tokenizers.Tokenizer, got "
                     f"{type(tokenizer).__name__}")


def count_texts(texts: Sequence[bytes], tokenizer: Any) -> npt.NDArray[np.int64]:
    """Each text's token count through ``tokenizer``: decoded as UTF-8 (invalid bytes replaced), no special tokens.

    The one counting rule of a token budget: :func:`count_tokens` applies it
    to a pool's serialized samples, and :class:`fastzip.proxy.Tokenizer`
    to a data version's training texts, so the two agree on every text.

    Parameters
    ----------
    texts : sequence of bytes
        The texts.
    tokenizer : tokenizers.Tokenizer
        A loaded tokenizer (see :func:`load_tokenizer`).

    Returns
    -------
    numpy.ndarray of int64
        One count per text.
    """
    n = len(texts)
    counts = np.zeros(n, dtype=np.int64)
    for start in range(0, n, ENCODE_BATCH):
        stop = min(n, start + ENCODE_BATCH)
        decoded = [texts[i].decode("utf-8", errors="replace") for i in range(start, stop)]
        encoded = tokenizer.encode_batch(decoded, add_special_tokens=False)
        counts[start:stop] = [len(e.ids) for e in encoded]
    return counts


def count_tokens(pool: Pool, tokenizer: Any) -> npt.NDArray[np.int64]:
    """Each sample's token count: its serialized text through ``tokenizer`` (see :func:`count_texts`).

    Parameters
    ----------
    pool : Pool
        The serialized samples.
    tokenizer : tokenizers.Tokenizer
        A loaded tokenizer (see :func:`load_tokenizer`).

    Returns
    -------
    numpy.ndarray of int64
        One count per sample.
    """
    n = len(pool)
    counts = np.zeros(n, dtype=np.int64)
    for start in range(0, n, ENCODE_BATCH):       # a batch of samples copied out of the pool at a time
        stop = min(n, start + ENCODE_BATCH)
        counts[start:stop] = count_texts([pool.item(i) for i in range(start, stop)], tokenizer)
    return counts


MAX_COUNT = (1 << 63) - 1     # counts are held as int64


def _count_of(value: Any, field: str, record: int) -> int:
    """A record's count: a non-negative integer (an integral float too), else a one-line error."""
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"token count field {field!r} holds {value!r}, not an integer", record=record)
    if isinstance(value, (int, np.integer)):
        count = int(value)
    elif isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        count = int(value)           # 12.0, as a data frame with missing values stores integers
    else:
        raise InputError(f"token count field {field!r} holds {value!r}, not an integer", record=record)
    if count < 0:
        raise InputError(f"token count field {field!r} holds {count}, a negative count", record=record)
    if count > MAX_COUNT:
        raise InputError(f"token count field {field!r} holds {count}, more than a count can hold ({MAX_COUNT})",
                         record=record)
    return count


def counts_from_records(records: Iterable[Any], field: str, first: int = 0) -> npt.NDArray[np.int64]:
    """Each record's precomputed token count, read from ``field``.

    Parameters
    ----------
    records : iterable of mappings
        The records (dicts, or rows of a data frame).
    field : str
        The field holding each count.
    first : int, optional
        The number of the first record (for error messages).

    Returns
    -------
    numpy.ndarray of int64
        One count per record.

    Raises
    ------
    fastzip.errors.InputError
        A record that is not an object, lacks the field, or holds something
        other than a non-negative integer there; names the record.
    """
    out: list[int] = []
    for k, record in enumerate(records):
        i = first + k
        if not isinstance(record, Mapping):
            raise InputError(f"token counts need records with fields; this one is a {type(record).__name__}",
                             record=i)
        if field not in record:
            raise InputError(f"no token count field {field!r}", record=i)
        out.append(_count_of(record[field], field, i))
    return np.asarray(out, dtype=np.int64)


def counts_from_dataset(dataset: Dataset, field: str,
                        records: Sequence[int] | None = None) -> npt.NDArray[np.int64]:
    """The token counts of the records of a dataset read by :func:`fastzip.io.read_pool`.

    Records are parsed a batch at a time, so memory holds one batch of them.

    Parameters
    ----------
    dataset : Dataset
    field : str
        The field holding each record's count.
    records : sequence of int, optional
        Which records, in pool order (default: all of them).

    Raises
    ------
    fastzip.errors.InputError
        As :func:`counts_from_records` (without the file: the caller adds it).
    """
    numbers = range(len(dataset)) if records is None else records
    parts = [np.zeros(0, np.int64)]
    for start in range(0, len(numbers), FIELD_BATCH):
        batch = [int(r) for r in numbers[start:start + FIELD_BATCH]]
        parts.append(counts_from_records(dataset.records_at(batch), field, first=start))
    return np.concatenate(parts)


def fingerprint_counts(counts: npt.NDArray[np.int64]) -> str:
    """SHA-256 of the counts (a checkpoint's key for counts read from a field)."""
    return hashlib.sha256(np.ascontiguousarray(counts, dtype="<i8").tobytes()).hexdigest()


def records_of(samples: Any) -> Any:
    """The records of ``samples``: a data frame's or table's rows as dicts, an iterator as a list, else as is."""
    module = type(samples).__module__.split(".")[0]
    if module == "pandas" and hasattr(samples, "to_dict") and hasattr(samples, "columns"):
        return samples.to_dict("records")
    if module == "polars" and hasattr(samples, "to_dicts"):
        return samples.to_dicts()
    if module == "pyarrow" and hasattr(samples, "to_pylist") and hasattr(samples, "schema"):
        return samples.to_pylist()
    if not hasattr(samples, "__len__"):
        return list(samples)             # read once for the counts, once for the pool
    return samples


def check_counts(counts: Any, n: int) -> npt.NDArray[np.int64]:
    """Given counts as int64, one non-negative integer per sample, else a one-line error.

    Raises
    ------
    fastzip.errors.UsageError
        Not one count per sample.
    fastzip.errors.InputError
        A count that is not a non-negative integer (naming its record).
    """
    values = list(counts)
    if len(values) != n:
        raise UsageError(f"token_counts has {len(values)} entries for {n} samples")
    return np.asarray([_count_of(v, "token_counts", i) for i, v in enumerate(values)], dtype=np.int64)
