"""The validated configuration of one :func:`fastzip.select` run.

:func:`fastzip.select` checks its arguments once, into a frozen
:class:`RunConfig`; the engines (``fastzip.selection.greedy.run_default`` and
``fastzip.selection.reference.run_reference``) take that object instead of a dozen
positional parameters, and never re-check it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UsageError
from ..samples.serialize import FRAMING, check_serializer
from ..streams import codecs
from ..streams.threads import resolve_threads

COMPAT_MODES = (None, "reference")


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int if it is a positive integer, else a :class:`~fastzip.errors.UsageError`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UsageError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise UsageError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_ks(k1: Any, k2: Any, k3: Any) -> tuple[int, int, int]:
    """The stage sizes as ints, each positive and ``k3 <= k2 <= k1``, else a UsageError."""
    k1, k2, k3 = (positive_int(n, v) for n, v in (("k1", k1), ("k2", k2), ("k3", k3)))
    if k2 > k1:
        raise UsageError(f"k2 ({k2}) must not exceed k1 ({k1})")
    if k3 > k2:
        raise UsageError(f"k3 ({k3}) must not exceed k2 ({k2})")
    return k1, k2, k3


@dataclass(frozen=True)
class RunConfig:
    """Every setting of one selection run, validated.

    Build one with :meth:`from_arguments`; the fields are then final.

    Parameters
    ----------
    compat : str or None
        None (default mode) or ``"reference"``.
    budget : int or None
        Samples to select; exactly one of ``budget``, ``budget_bytes`` and
        ``budget_tokens`` is set.
    budget_bytes : int or None
        Default mode only: the most serialized bytes the selection may hold.
    k1, k2, k3 : int
        Stage sizes, ``k3 <= k2 <= k1``.
    codec : str
        The codec that measures redundancy.
    level : int
        Its level.
    serializer : str
        ``repr``, ``json`` or ``text``.
    n_threads : int
        Threads for the batch kernels, resolved (at least 1).
    lazy : bool or None
        Default mode's stage 3: lazy greedy, exhaustive, or (None) what the
        codec's capabilities suggest.
    dedupe : bool
        Drop exact duplicates before selecting (never in compat mode).
    progress : bool
        Show a progress bar.
    text_field : str or None
        For the ``text`` serializer: the field of each record to read.
    budget_tokens : int or None
        Default mode only: the most tokens the selection may hold (each
        sample's count comes from a tokenizer or a field; see
        :mod:`fastzip.selection.tokens`).
    """

    compat: str | None
    budget: int | None
    budget_bytes: int | None
    k1: int
    k2: int
    k3: int
    codec: str
    level: int
    serializer: str
    n_threads: int
    lazy: bool | None = None
    dedupe: bool = True
    progress: bool = False
    text_field: str | None = None
    budget_tokens: int | None = None

    @property
    def budget_cost(self) -> int | None:
        """The budget the samples' costs count against (bytes or tokens), None for a sample budget."""
        return self.budget_bytes if self.budget_bytes is not None else self.budget_tokens

    @property
    def separator(self) -> bytes:
        """The bytes the serializer puts between two samples."""
        return FRAMING[self.serializer].separator

    @property
    def drops_duplicates(self) -> bool:
        """True when the run drops exact duplicates (default mode with ``dedupe``)."""
        return self.compat is None and self.dedupe

    @classmethod
    def from_arguments(cls, *, compat: str | None, budget: Any, budget_bytes: Any, k1: Any, k2: Any, k3: Any,
                       codec: str | None, level: int | None, serializer: str | None, n_threads: int | None,
                       lazy: bool | None = None, dedupe: bool = True, progress: bool = False,
                       text_field: str | None = None, pool_serializer: str | None = None,
                       budget_tokens: Any = None) -> RunConfig:
        """Check :func:`fastzip.select`'s arguments and fill in the defaults.

        Checks that need the pool (a budget larger than it, a byte budget
        smaller than every sample, compat mode's k1 past it) are left to the
        caller.

        Parameters
        ----------
        compat, budget, budget_bytes, k1, k2, k3, codec, level, serializer, n_threads, lazy, dedupe, progress, \
text_field, budget_tokens
            As :func:`fastzip.select` takes them.
        pool_serializer : str or None, optional
            The serializer of an already packed pool: default mode's
            serializer when ``serializer`` is None.

        Returns
        -------
        RunConfig
            The settings, final.

        Raises
        ------
        fastzip.errors.UsageError
            An unknown compat mode, codec, level or serializer; a bad stage
            size or thread count; compat mode with a codec, level or
            serializer other than its own, or with ``budget_bytes`` or
            ``budget_tokens``; not exactly one of ``budget``,
            ``budget_bytes`` and ``budget_tokens``, or one that is not a
            positive integer.
        """
        if compat not in COMPAT_MODES:
            raise UsageError(f"unknown compat mode {compat!r}; use None or 'reference'")
        k1, k2, k3 = check_ks(k1, k2, k3)
        threads = resolve_threads(n_threads)
        if compat == "reference":
            for name, given, fixed in (("codec", codec, "zlib"), ("level", level, 9),
                                       ("serializer", serializer, "repr")):
                if given is not None and given != fixed:
                    raise UsageError(f"compat='reference' always uses {name} {fixed!r}; got {given!r}")
            for name, given in (("budget_bytes", budget_bytes), ("budget_tokens", budget_tokens)):
                if given is not None:
                    raise UsageError(f"compat='reference' takes a budget in samples, not {name}")
            codec, level, serializer = "zlib", 9, "repr"
        else:
            codec, level = codecs.resolve_select(codec, level)
            serializer = check_serializer((pool_serializer if serializer is None else serializer) or "text")
        budgets = [name for name, value in (("budget", budget), ("budget_bytes", budget_bytes),
                                            ("budget_tokens", budget_tokens)) if value is not None]
        if len(budgets) != 1:
            raise UsageError("give exactly one of budget (samples), budget_bytes and budget_tokens"
                             + (f"; got {' and '.join(budgets)}" if budgets else ""))
        if budget is not None:
            budget = positive_int("budget", budget)
        elif budget_bytes is not None:
            budget_bytes = positive_int("budget_bytes", budget_bytes)
        else:
            budget_tokens = positive_int("budget_tokens", budget_tokens)
        return cls(compat=compat, budget=budget, budget_bytes=budget_bytes, k1=k1, k2=k2, k3=k3, codec=codec,
                   level=level, serializer=serializer, n_threads=threads, lazy=lazy, dedupe=dedupe,
                   progress=progress, text_field=text_field, budget_tokens=budget_tokens)
