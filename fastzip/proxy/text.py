"""Training text and tokens of a data version (no torch needed).

A data version's training text is its records under the ``text``
serializer (the human-readable content: ``role: content`` lines for chats,
Alpaca fields joined by newlines), one record after another, each ended by a
newline: the stream ZIP's default mode measures, plus separators.

Tokens are bytes by default (a vocabulary of 256) or the ids of a
``tokenizers`` JSON file.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._optional import require_tokenizers
from ..errors import InputError
from ..samples.serialize import serialize_sample
from ..selection.tokens import count_texts

SEPARATOR = b"\n"
"""What ends each record in the training text."""


def record_texts(records: Sequence[Any], path: str | None = None) -> list[bytes]:
    """Each record's training text (the ``text`` serializer), without its separator.

    Parameters
    ----------
    records : sequence
        The records (dicts, str or bytes).
    path : str or None, optional
        The file they came from, for error messages.

    Returns
    -------
    list of bytes

    Raises
    ------
    fastzip.errors.InputError
        A record the ``text`` serializer cannot read, naming its file and number.
    """
    out = []
    for i, record in enumerate(records):
        try:
            out.append(serialize_sample(record, "text", record=i))
        except InputError as exc:
            raise exc.with_path(path) if path is not None else exc from None
    return out


def joined_text(texts: Sequence[bytes]) -> bytes:
    """The training stream: every text followed by :data:`SEPARATOR`.

    Parameters
    ----------
    texts : sequence of bytes
        Record texts, in order.

    Returns
    -------
    bytes
    """
    return b"".join(t + SEPARATOR for t in texts)


@dataclass(frozen=True)
class Tokenizer:
    """Bytes, or a ``tokenizers`` JSON file.

    Parameters
    ----------
    path : str or None
        The tokenizer file; None is the byte-level tokenizer.
    vocab_size : int
        Size of the vocabulary (256 for bytes).
    fingerprint : str
        SHA-256 of the file's bytes (``"bytes"`` for the byte level): what a
        cache key records.
    backend : object
        The loaded ``tokenizers.Tokenizer`` (None for bytes).
    """

    path: str | None
    vocab_size: int
    fingerprint: str
    backend: Any = None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Tokenizer:
        """The byte-level tokenizer (``path=None``) or a ``tokenizers`` JSON file.

        Parameters
        ----------
        path : str, os.PathLike or None, optional
            A file saved by ``tokenizers.Tokenizer.save``.

        Returns
        -------
        Tokenizer

        Raises
        ------
        fastzip.errors.InputError
            The file is missing or not a tokenizer.
        fastzip.errors.MissingDependencyError
            A file is given and ``tokenizers`` is not installed.
        """
        if path is None:
            return cls(None, 256, "bytes")
        p = os.fspath(path)
        tokenizers = require_tokenizers()
        try:
            with open(p, "rb") as f:
                raw = f.read()
            backend = tokenizers.Tokenizer.from_str(raw.decode("utf-8"))
        except FileNotFoundError:
            raise InputError("no such file", path=p) from None
        except (OSError, UnicodeDecodeError, Exception) as exc:   # tokenizers raises a bare Exception
            raise InputError(f"not a tokenizers JSON file: {' '.join(str(exc).split())[:200]}",
                             path=p) from None
        return cls(p, int(backend.get_vocab_size(with_added_tokens=True)), hashlib.sha256(raw).hexdigest(),
                   backend)

    def encode(self, text: bytes) -> npt.NDArray[np.int64]:
        """The token ids of ``text``.

        Parameters
        ----------
        text : bytes
            UTF-8 text (the byte level takes any bytes).

        Returns
        -------
        numpy.ndarray of int64
        """
        if self.backend is None:
            return np.frombuffer(text, dtype=np.uint8).astype(np.int64)
        ids = self.backend.encode(text.decode("utf-8", errors="replace"), add_special_tokens=False).ids
        return np.asarray(ids, dtype=np.int64)

    def count(self, texts: Sequence[bytes]) -> npt.NDArray[np.int64]:
        """Tokens in each text (bytes at the byte level), separators not counted.

        A file's counts are :func:`fastzip.selection.tokens.count_texts`, the
        ones :func:`fastzip.select` uses for ``budget_tokens`` with this
        tokenizer: no special tokens, invalid UTF-8 replaced.

        Parameters
        ----------
        texts : sequence of bytes

        Returns
        -------
        numpy.ndarray of int64
        """
        if self.backend is None:
            return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        return count_texts(texts, self.backend)      # the engine's own count: token budgets agree with it


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, for cache keys.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    str
        Hex digest.

    Raises
    ------
    fastzip.errors.InputError
        The file cannot be read.
    """
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except FileNotFoundError:
        raise InputError("no such file", path=os.fspath(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=os.fspath(path)) from None
    return h.hexdigest()
