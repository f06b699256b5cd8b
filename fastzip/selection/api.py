"""fastzip.select: ZIP data selection (docs/semantics.md §2, §3, §5)."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm.auto import tqdm

from ..errors import InputError, UsageError
from ..samples.pool import Pool, as_pool
from ..samples.serialize import FRAMING
from ..streams.compressor import IncrementalCompressor
from . import tokens
from .checkpoint import FileCheckpointer, open_folder, pool_digest
from .config import RunConfig
from .greedy import Checkpointer, run_default
from .reference import run_reference
from .result import SelectionResult
from .trace import RoundTrace

DIGEST_CHUNK = 65536      # samples hashed at once when looking for exact duplicates
RATIO_CHUNK = 65536       # samples joined at once when measuring the selection's ratio


def selection_ratio(pool: Pool, indices: npt.NDArray[np.integer[Any]], codec: str, level: int) -> float:
    """Ratio of the selection, serialized in selection order as one stream.

    Parameters
    ----------
    pool : Pool
        The pool the selection was made from.
    indices : numpy.ndarray of int
        Pool indices in selection order.
    codec, level : str, int
        The codec and level to measure with.

    Returns
    -------
    float
        Raw over compressed size; NaN for an empty selection.
    """
    if len(indices) == 0:
        return float("nan")
    framing = FRAMING[pool.serializer]
    sep = framing.separator
    total = len(framing.open) + int(pool.lengths[indices].sum()) + len(sep) * (len(indices) - 1) \
        + len(framing.close)
    if total == 0:
        raise InputError("cannot compute the compression ratio of empty input")   # as compression_ratio says
    # written into one buffer a chunk of samples at a time: a million picks never become a list of
    # bytes objects, a joined copy and a packed copy of it
    blob = np.empty(total, dtype=np.uint8)
    blob[:len(framing.open)] = np.frombuffer(framing.open, dtype=np.uint8)
    at = len(framing.open)
    for start in range(0, len(indices), RATIO_CHUNK):
        piece = (sep if start else b"") + sep.join(pool.item(int(i)) for i in indices[start:start + RATIO_CHUNK])
        blob[at:at + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        at += len(piece)
    blob[at:] = np.frombuffer(framing.close, dtype=np.uint8)
    ratio = IncrementalCompressor(codec, level).ratios((blob, np.array([0, total], dtype=np.int64)), n_threads=1)
    return float(ratio[0])


def select(samples: Any, budget: int | None = None, k1: int = 10000, k2: int = 200, k3: int = 100,
           codec: str | None = None, level: int | None = None, serializer: str | None = None,
           compat: str | None = None, n_threads: int = -1, progress: bool = False, *,
           budget_bytes: int | None = None, lazy: bool | None = None, text_field: str | None = None,
           dedupe: bool = True, budget_tokens: int | None = None, tokenizer: Any = None,
           token_field: str | None = None, token_counts: Any = None,
           checkpoint: str | os.PathLike[str] | None = None) -> SelectionResult:
    """Select the least redundant subset of ``samples`` with ZIP.

    Parameters
    ----------
    samples : sequence or Pool
        Dicts, str or bytes (a list, a Hugging Face ``datasets.Dataset``, ...),
        or a :class:`fastzip.samples.pool.Pool`.  A pandas or polars data frame, or a
        pyarrow table, selects its rows.
    budget : int or None, optional
        Number of samples to select.  Default mode selects exactly this many;
        ``compat="reference"`` overshoots to a multiple of ``k3`` (F5).
    k1, k2, k3 : int, optional
        Stage sizes, ``k3 <= k2 <= k1``.  Default mode clamps k1 to the pool;
        compat mode raises where the reference crashes (F6).
    codec, level, serializer : str, int, str or None, optional
        Default mode defaults to ``lz77`` level 2 and the ``text``
        serializer (or a Pool's own serializer); compat mode is always zlib
        9 and ``repr``.  ``lz77`` is the native LZ77 cost model: its match
        finder reaches the whole selection, each pick is appended to the
        stream at once in O(its length), so the cost of a pick does not grow
        with the selection, and its sizes (estimates) are bit-identical on
        every build.  It is native only: without the native extension, or
        under ``FASTZIP_FORCE_FALLBACK``, default mode with no codec raises
        :class:`fastzip.errors.UsageError` rather than switch codecs; pass
        ``codec="zstd"`` (zstd-3 was the default before) to run there.
    compat : str or None, optional
        None (default mode) or ``"reference"`` (docs/semantics.md §2, faults
        included).
    n_threads : int, optional
        Threads for the batch kernels; -1 is every core.  Results do not
        depend on it.
    progress : bool, optional
        Show a tqdm progress bar on stderr.
    budget_bytes : int or None, optional
        Default mode only, instead of ``budget``: select while some sample
        still fits; the selection's serialized bytes (separators not
        counted) never exceed this.
    lazy : bool or None, optional
        Default mode: lazy greedy stage 3 (``False`` re-scores every
        candidate at every pick).  ``None`` (default) is lazy where the codec
        declares monotone added sizes (zstd and lz77, which see the whole
        stream, so a candidate's added size shrinks as the selection grows)
        and exhaustive otherwise (zlib, lz4 and registered codecs: their
        sliding windows break that property, and lazy picks measured worse
        there).  Lazy and exhaustive can differ slightly wherever the codec
        is not monotone.
    text_field : str or None, optional
        For the ``text`` serializer, read this field of each record.
    dedupe : bool, optional
        Default mode drops every sample whose serialized bytes equal an
        earlier sample's (the first copy stays), and reports how many in
        ``SelectionResult.duplicates_dropped``: the ratio objective would
        otherwise pick exact copies, since a copy changes the ratio least.
        ``False`` keeps them.  Compat mode never drops (the reference does not).
    budget_tokens : int or None, optional
        Default mode only, instead of ``budget``: as ``budget_bytes``, with
        each sample costing its token count; the selection's tokens never
        exceed this.  Needs exactly one of ``tokenizer``, ``token_field``
        and ``token_counts``.
    tokenizer : str, os.PathLike or tokenizers.Tokenizer, optional
        A local ``tokenizers`` JSON file (or a loaded tokenizer) counting
        each sample's *serialized* text, the bytes the codec sees, without
        special tokens (needs ``pip install 'fastzip-select[tokens]'``).
    token_field : str or None, optional
        Read each record's precomputed count from this field (raw samples
        only): a non-negative integer.
    token_counts : array_like of int, optional
        The counts themselves, one per sample (for a prebuilt Pool).
    checkpoint : str or os.PathLike or None, optional
        Default mode: a folder where the engine's state is kept every few
        rounds or seconds; a run stopped at any point (even ``kill -9``) and
        started again with the same arguments and samples continues from it
        and gives the same selection.  A folder made by another run is
        refused.

    Returns
    -------
    SelectionResult
        The picks in selection order, their ratio and the per-round trace.

    Raises
    ------
    fastzip.errors.UsageError
        Bad arguments: an unknown mode, codec, level or serializer, bad stage
        sizes, not exactly one budget, a budget larger than the pool, token
        options without a token budget (or not exactly one with it), a
        checkpoint in compat mode; default mode without a codec where the
        default codec, lz77, cannot run (no native extension, or
        ``FASTZIP_FORCE_FALLBACK``).
    fastzip.errors.InputError
        Bad samples (naming the record, counted from 0), an empty pool, a
        byte or token budget smaller than every sample, a record without
        its token count or with a count that is not a non-negative
        integer, a checkpoint of another run.
    fastzip.errors.MissingDependencyError
        ``tokenizer`` without the tokenizers package.
    """
    config = RunConfig.from_arguments(
        compat=compat, budget=budget, budget_bytes=budget_bytes, k1=k1, k2=k2, k3=k3, codec=codec, level=level,
        serializer=serializer, n_threads=n_threads, lazy=lazy, dedupe=dedupe, progress=progress,
        text_field=text_field, pool_serializer=samples.serializer if isinstance(samples, Pool) else None,
        budget_tokens=budget_tokens)
    _check_token_options(config, tokenizer, token_field, token_counts)
    if checkpoint is not None and config.compat is not None:
        raise UsageError("checkpoint= needs the default mode (compat='reference' keeps no state)")
    loaded, token_source = (None, "")
    if tokenizer is not None:
        loaded, token_source = tokens.load_tokenizer(tokenizer)   # first: a missing package fails at once
    counts: npt.NDArray[np.int64] | None = None
    if token_field is not None:
        if isinstance(samples, Pool):
            raise UsageError("token_field reads the records; a prebuilt Pool has none: pass token_counts=")
        samples = tokens.records_of(samples)
        counts = tokens.counts_from_records(samples, token_field)
        token_source = f"field:{token_field}"
    pool = as_pool(samples, config.serializer, text_field)
    if len(pool) == 0:
        raise InputError("the pool is empty")
    if loaded is not None:
        counts = tokens.count_tokens(pool, loaded)
    elif token_counts is not None:
        counts = tokens.check_counts(token_counts, len(pool))
        token_source = "counts"
    skip = _duplicates(pool) if config.drops_duplicates else None
    dropped = 0 if skip is None else int(skip.sum())
    _check_pool_fits(config, pool, dropped, counts, skip)
    checkpointer = None
    if checkpoint is not None:
        key = {"engine": "select", **_config_key(config), "pool": pool_digest(pool),
               "tokens": token_source, "counts": None if counts is None else tokens.fingerprint_counts(counts)}
        checkpointer = FileCheckpointer(open_folder(checkpoint, key))
    run = _run(config, pool, skip, counts, checkpointer)
    indices = np.asarray(run.chosen, dtype=np.int64)
    return SelectionResult(
        indices=indices, ratio=selection_ratio(pool, indices, config.codec, config.level), codec=config.codec,
        level=config.level, serializer=config.serializer, compat=config.compat, k1=config.k1, k2=config.k2,
        k3=config.k3, trace=run.rounds, duplicates_dropped=dropped,
        tokens=None if counts is None else int(counts[indices].sum()))


def _duplicates(pool: Pool) -> npt.NDArray[np.bool_]:
    """A mask of the samples whose bytes equal an earlier sample's.

    The same answer as :meth:`Pool.first_occurrences`, in about 25 bytes a
    sample (a 16-byte digest each and one sort) instead of a dictionary:
    samples are grouped by a 128-bit BLAKE2b digest, sorted stably, and
    compared byte for byte within a group, so the answer is exact.
    """
    n = len(pool)
    digests = np.empty(n, dtype="S16")
    data, offsets = pool.data, pool.offsets
    for start in range(0, n, DIGEST_CHUNK):
        stop = min(n, start + DIGEST_CHUNK)
        digests[start:stop] = [hashlib.blake2b(data[offsets[i]:offsets[i + 1]].data, digest_size=16).digest()
                               for i in range(start, stop)]
    order = np.argsort(digests, kind="stable")          # equal digests: ascending index
    ranked = digests[order]
    del digests
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = ranked[1:] != ranked[:-1]
    del ranked
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], n)
    duplicate = np.zeros(n, dtype=bool)
    for a, b in zip(starts[ends - starts > 1].tolist(), ends[ends - starts > 1].tolist()):
        firsts = [int(order[a])]
        for i in order[a + 1:b].tolist():
            piece = data[offsets[i]:offsets[i + 1]]
            if any(np.array_equal(piece, data[offsets[j]:offsets[j + 1]]) for j in firsts):
                duplicate[i] = True
            else:
                firsts.append(i)        # a digest collision: a distinct sample
    return duplicate


def _check_token_options(config: RunConfig, tokenizer: Any, token_field: str | None, token_counts: Any) -> None:
    """Token options go with a token budget, exactly one of them; else a UsageError."""
    given = [name for name, value in (("tokenizer", tokenizer), ("token_field", token_field),
                                      ("token_counts", token_counts)) if value is not None]
    if config.budget_tokens is None and given:
        raise UsageError(f"{' and '.join(given)} given without budget_tokens")
    if config.budget_tokens is not None and len(given) != 1:
        raise UsageError("budget_tokens needs exactly one of tokenizer, token_field and token_counts"
                         + (f"; got {' and '.join(given)}" if given else ""))


def _config_key(config: RunConfig) -> dict[str, Any]:
    """The settings that decide a selection (not threads or the progress bar): part of a checkpoint's key."""
    return {"budget": config.budget, "budget_bytes": config.budget_bytes, "budget_tokens": config.budget_tokens,
            "k1": config.k1, "k2": config.k2, "k3": config.k3, "codec": config.codec, "level": config.level,
            "serializer": config.serializer, "lazy": config.lazy, "dedupe": config.dedupe,
            "text_field": config.text_field}


def _check_pool_fits(config: RunConfig, pool: Pool, dropped: int, counts: npt.NDArray[np.int64] | None = None,
                     skip: npt.NDArray[np.bool_] | None = None) -> None:
    """The checks of ``config`` that need the pool: its budget and, in compat mode, k1.

    Raises
    ------
    fastzip.errors.UsageError
        A budget larger than the pool (after ``dropped`` duplicates), or
        compat mode's k1 past it.
    fastzip.errors.InputError
        A byte budget smaller than every sample (naming the smallest).
    """
    n = len(pool) - dropped
    if config.budget is not None:
        if config.budget > n:
            after = f" after dropping {dropped} exact duplicates" if dropped else ""
            raise UsageError(f"budget ({config.budget}) is larger than the pool ({n} samples{after})")
    elif config.budget_bytes is not None:
        smallest = int(np.argmin(pool.lengths))
        if pool.lengths[smallest] > config.budget_bytes:
            raise InputError(f"budget_bytes ({config.budget_bytes}) is smaller than every sample; the smallest "
                             f"is {int(pool.lengths[smallest])} bytes", record=smallest)
    elif config.budget_tokens is not None and counts is not None:
        considered = np.flatnonzero(~skip) if skip is not None else np.arange(len(counts))
        smallest = int(considered[np.argmin(counts[considered])])
        if counts[smallest] > config.budget_tokens:
            raise InputError(f"budget_tokens ({config.budget_tokens}) is smaller than every sample; the smallest "
                             f"has {int(counts[smallest])} tokens", record=smallest)
    if config.compat == "reference" and config.k1 > n:
        raise UsageError(f"k1 ({config.k1}) exceeds the pool ({n} samples); the reference crashes "
                         "here (F6). Lower k1, or use the default mode, which clamps it")


@dataclass
class _Run:
    """What the engine reported: the picks in order and one trace per round."""

    chosen: list[int] = field(default_factory=list)
    rounds: list[RoundTrace] = field(default_factory=list)


def _run(config: RunConfig, pool: Pool, skip: npt.NDArray[np.bool_] | None,
         counts: npt.NDArray[np.int64] | None = None, checkpointer: Checkpointer | None = None) -> _Run:
    """Run the engine of ``config``'s mode, with a progress bar when asked for."""
    run = _Run()
    bar = _progress_bar(config.progress, config.budget)

    def on_round(info: RoundTrace) -> None:
        run.rounds.append(info)
        if bar is not None:
            bar.update(info.picks)
            bar.set_postfix(round=info.round, evals=sum(t.evaluations for t in run.rounds),
                            ratio=f"{info.ratio:.3f}")

    try:
        if config.compat == "reference":
            run.chosen = run_reference(pool, config, on_round)
        else:
            run.chosen = run_default(pool, config, on_round, skip=skip, costs=counts, checkpointer=checkpointer)
    finally:
        if bar is not None:
            bar.close()
    return run


def _progress_bar(enabled: bool, budget: int | None) -> Any:
    """A tqdm bar over the samples picked (no total under a byte budget), or None when disabled."""
    if not enabled:
        return None
    return tqdm(total=budget, unit="sample", desc="fastzip select", dynamic_ncols=True)
