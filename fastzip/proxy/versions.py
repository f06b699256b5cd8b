"""The standard data versions of a pool, at one budget (no torch needed).

:func:`build_versions` makes, from one pool and one budget (samples, bytes
of training text, or tokens of a tokenizer):

* ``zip``: ZIP's default mode (:func:`fastzip.select`, its default codec, ``text``);
* ``zip_compat``: the published implementation (``compat="reference"``);
* ``random_s<seed>``: a uniform random subset, one per seed;
* ``random_lenmatch``: random within length strata, as many from each
  stratum as ZIP took: random picks with ZIP's length distribution (under
  a token budget, topped up by further draws of the same mix when they
  fall short of the budget);
* ``redundant``: the samples with the highest stand-alone compression ratio;
* ``inconsistent``: the first random subset with its responses shuffled
  across its prompts (every prompt gets another sample's answer): the
  entropy-law paper's "contradiction" case, about the same ratio, a higher
  first-epoch loss expected;
* ``mix25``, ``mix50``, ``mix75``: that share of the budget from ZIP's order,
  the rest from the first random subset;
* ``zip_strata`` (optional, not in the default set): ZIP within length
  strata, each stratum given the share of the budget that random gives
  it: a length-fair ZIP.

A **held-out slice** of the pool (random records up to ``heldout_bytes``) is
set aside first; no version draws from it.

Budgets. A sample budget is met exactly. A byte or token budget is never
exceeded: random-order versions, and the random part of a mixture, are
filled greedily (later samples that still fit are taken), so they end
within one sample of the budget (``random_lenmatch`` under a byte budget:
of what its first draw can fill). ZIP's default mode under a **byte**
budget is the engine's own ``budget_bytes`` run, and under a **token**
budget the engine's own ``budget_tokens`` run (as is each stratum's run of
``zip_strata``). Token counts are made once, by :meth:`Tokenizer.count
<fastzip.proxy.text.Tokenizer.count>` on each record's training text,
which counts as the engine's ``tokenizer=`` does
(:func:`fastzip.selection.tokens.count_texts`); the engine is given those
counts (``token_counts=``) and every version is costed with them. So
``zip`` is what ``fastzip.select(train, budget_tokens=N, tokenizer=file)``
picks from the pool less its held-out slice (with the same ``zip_options``).

Compat mode takes sample budgets only (``fastzip.select`` refuses
``budget_bytes`` and ``budget_tokens`` with ``compat="reference"``), so
under a byte or token budget ``zip_compat`` is a sample-budget run cut at
the first sample that no longer fits: a compat run of n picks is the start
of any longer one (whole rounds, independent of the budget), so the cut is
the selection compat mode would make up to there; it ends short of the
budget by less than the sample it stopped at (smaller later picks that
would still fit are left out), and the build notes say where it cut.
"""
from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import UsageError
from ..io import write_bytes_atomic
from ..selection.api import select
from ..streams.sizes import compressed_sizes
from .text import SEPARATOR, Tokenizer, record_texts

DEFAULT_VERSIONS = ("zip", "zip_compat", "random", "random_lenmatch", "redundant", "inconsistent", "mix")
"""Kinds built by default (``random`` is one version per seed, ``mix`` one per share)."""
ALL_KINDS = DEFAULT_VERSIONS + ("zip_strata",)
_RESPONSE_ROLES = ("gpt", "assistant", "bot", "model", "chatgpt")
IntArray = npt.NDArray[np.int64]


@dataclass
class VersionSet:
    """Data versions of one pool at one budget.

    Parameters
    ----------
    pool : list
        The pool's records.
    heldout : numpy.ndarray of int64
        Pool indices of the held-out slice (no version contains them).
    indices : dict of str to numpy.ndarray
        Pool indices of each version, in its order.
    records : dict of str to list
        Each version's records (``inconsistent``'s are altered copies).
    unit : str
        ``samples``, ``bytes`` or ``tokens``.
    budget : int
        The budget in that unit.
    cost : dict of str to int
        Each version's size in the budget's unit.
    notes : list of str
        What the builder had to adjust.
    """

    pool: list[Any]
    heldout: IntArray
    indices: dict[str, IntArray] = field(default_factory=dict)
    records: dict[str, list[Any]] = field(default_factory=dict)
    unit: str = "samples"
    budget: int = 0
    cost: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Version names, in build order."""
        return list(self.indices)

    def write(self, folder: str | os.PathLike[str]) -> dict[str, str]:
        """Write each version, and the held-out slice as ``heldout.jsonl``, as JSONL files.

        Parameters
        ----------
        folder : str or os.PathLike
            Created when missing.

        Returns
        -------
        dict of str to str
            File by version name (``heldout`` included).
        """
        os.makedirs(folder, exist_ok=True)
        out = {}
        items = list(self.records.items()) + [("heldout", [self.pool[i] for i in self.heldout])]
        for name, recs in items:
            path = os.path.join(os.fspath(folder), f"{name}.jsonl")
            payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode("utf-8")
            write_bytes_atomic(path, payload)
            out[name] = path
        return out


def _fill(order: IntArray, cost: IntArray, budget: int, unit: str) -> IntArray:
    """Take ``order`` while the budget allows: the first ``budget`` (samples), or greedily what fits."""
    if unit == "samples":
        return order[:budget]
    c = cost[order]
    if c.sum() <= budget:
        return order
    taken = []
    room = budget
    for i, ci in zip(order.tolist(), c.tolist()):
        if ci <= room:
            taken.append(i)
            room -= ci
            if room <= 0:
                break
    return np.asarray(taken, dtype=np.int64)


def _prefix(order: IntArray, cost: IntArray, budget: int, unit: str) -> IntArray:
    """The longest prefix of ``order`` within the budget (a sample budget takes the first ``budget``)."""
    if unit == "samples":
        return order[:budget]
    within = np.cumsum(cost[order]) <= budget
    n = len(order) if within.all() else int(np.argmin(within))
    return order[:n]


def _heldout(n: int, texts: list[bytes], heldout_bytes: int, max_share: float, seed: int) -> IntArray:
    rng = np.random.default_rng([seed, 0x4E1D])
    perm = rng.permutation(n)
    sizes = np.array([len(texts[i]) + len(SEPARATOR) for i in perm], dtype=np.int64)
    k = int(np.searchsorted(np.cumsum(sizes), heldout_bytes)) + 1
    k = max(1, min(k, int(max_share * n)))
    return np.sort(perm[:k]).astype(np.int64)


def _run_zip(records: list[Any], cost: IntArray, budget: int, unit: str, compat: bool,
             zip_options: dict[str, Any]) -> tuple[IntArray, str | None]:
    """ZIP's picks (indices into ``records``) within the budget, and a note when compat's run was cut."""
    n = len(records)
    opts = dict(zip_options)
    if compat:
        opts = {k: v for k, v in opts.items() if k in ("k1", "k2", "k3", "n_threads")}
        opts["compat"] = "reference"
        opts["k1"] = min(opts.get("k1", 10000), n)
    else:
        opts.setdefault("serializer", "text")
    if unit == "samples":
        res = select(records, budget=min(budget, n), **opts)
        return np.asarray(res.indices[:budget], dtype=np.int64), None
    if unit == "bytes" and not compat:
        if opts.get("serializer") != "text":
            raise UsageError("a byte budget counts the text serializer's bytes; leave ZIP's serializer at 'text'")
        return np.asarray(select(records, budget_bytes=budget, **opts).indices, dtype=np.int64), None
    if unit == "tokens" and not compat:
        # the engine's token budget, on the very counts every other version is costed with
        return np.asarray(select(records, budget_tokens=budget, token_counts=cost, **opts).indices,
                          dtype=np.int64), None
    # compat mode takes sample budgets only: a sample-budget run, cut where the budget ends (see the module
    # docstring); grow it until the cut falls inside. Its cost grows with the square of the picks (each
    # candidate is measured against the whole selection), so start near the count the budget holds at the
    # pool's mean cost, with a quarter more for luck, rather than far past it
    average = max(1.0, float(np.mean(cost)))
    want = min(n, max(opts.get("k3", 100), int(1.25 * budget / average)))
    while True:
        order = np.asarray(select(records, budget=want, **opts).indices, dtype=np.int64)
        cut = _prefix(order, cost, budget, unit)
        if len(cut) < len(order) or want >= n:
            # compat mode works in whole rounds: the run can be longer than asked for
            return cut, f"cut a {len(order)}-sample run at {len(cut)} samples"
        want = min(n, 2 * want)


def _length_strata(lengths: IntArray, n_strata: int) -> IntArray:
    """Stratum (0..n_strata-1) of each sample by length quantile."""
    edges = np.quantile(np.log1p(lengths), np.linspace(0, 1, n_strata + 1)[1:-1])
    return np.searchsorted(edges, np.log1p(lengths), side="right").astype(np.int64)


def shuffle_responses(records: Sequence[Any], seed: int = 0) -> tuple[list[Any], int]:
    """Copies of ``records`` whose responses are shuffled among them, no record keeping its own.

    The response of a record is the last turn of a ShareGPT ``conversations``
    list from ``gpt``/``assistant``, the last ``assistant`` message of an
    OpenAI ``messages`` list, or its ``output`` (Alpaca) or ``ideal`` (evals)
    field.

    Parameters
    ----------
    records : sequence
        The records.
    seed : int, optional
        Seeds the shuffle.

    Returns
    -------
    tuple of (list, int)
        The altered copies, and how many records had a response to swap.
    """
    out = [copy.deepcopy(r) for r in records]
    slots: list[tuple[Any, Any]] = []
    for r in out:
        slot = _response_slot(r)
        if slot is not None:
            slots.append(slot)
    if len(slots) < 2:
        return out, 0
    rng = np.random.default_rng([seed, 0x5EED])
    perm = rng.permutation(len(slots))
    values = [slots[i][0][slots[i][1]] for i in range(len(slots))]
    # a cyclic shift along a random order is a derangement: nobody keeps their own answer
    for j in range(len(perm)):
        src, dst = perm[j], perm[(j + 1) % len(perm)]
        container, key = slots[dst]
        container[key] = values[src]
    return out, len(slots)


def _response_slot(record: Any) -> tuple[Any, Any] | None:
    """(container, key) of a record's response, or None."""
    if not isinstance(record, dict):
        return None
    for field_name, role_key, content_key in (("conversations", "from", "value"), ("messages", "role", "content")):
        turns = record.get(field_name)
        if isinstance(turns, list):
            for turn in reversed(turns):
                if isinstance(turn, dict) and str(turn.get(role_key, "")).lower() in _RESPONSE_ROLES \
                        and content_key in turn:
                    return turn, content_key
            return None
    for key in ("output", "ideal", "response", "completion"):
        if key in record:
            return record, key
    return None


def build_versions(pool: Sequence[Any], *, budget: int | None = None, budget_bytes: int | None = None,
                   budget_tokens: int | None = None, tokenizer: Tokenizer | str | None = None,
                   kinds: Sequence[str] = DEFAULT_VERSIONS, random_seeds: Sequence[int] = (0, 1, 2),
                   mixtures: Sequence[float] = (0.25, 0.5, 0.75), heldout_bytes: int = 131072,
                   heldout_max_share: float = 0.1, seed: int = 0, n_strata: int = 10,
                   zip_options: dict[str, Any] | None = None) -> VersionSet:
    """The standard data versions of ``pool`` at one budget (see the module docstring).

    Parameters
    ----------
    pool : sequence
        The records (dicts, str or bytes), as ``fastzip.select`` takes them.
    budget, budget_bytes, budget_tokens : int or None
        Exactly one: samples, bytes of training text (``text`` serializer,
        separators not counted), or tokens of ``tokenizer``.
    tokenizer : Tokenizer, str or None, optional
        For ``budget_tokens``: a :class:`Tokenizer` or a ``tokenizers`` JSON
        file; None counts bytes.
    kinds : sequence of str, optional
        Which kinds to build, from :data:`ALL_KINDS`.
    random_seeds : sequence of int, optional
        One ``random_s<seed>`` version each; the first also seeds
        ``inconsistent``, the mixtures and ``random_lenmatch``.
    mixtures : sequence of float, optional
        ZIP's shares of the ``mix<percent>`` versions, each in (0, 1).
    heldout_bytes : int, optional
        Size of the held-out slice in bytes of text (default 128 KiB) ...
    heldout_max_share : float, optional
        ... but at most this share of the pool's records.
    seed : int, optional
        Seeds the held-out slice.
    n_strata : int, optional
        Length strata for ``random_lenmatch`` and ``zip_strata``.
    zip_options : dict, optional
        More arguments of :func:`fastzip.select` for ZIP (``k1``, ``codec``,
        ``n_threads`` ...).

    Returns
    -------
    VersionSet

    Raises
    ------
    fastzip.errors.UsageError
        Not exactly one budget, an unknown kind, a share outside (0, 1), a
        budget the pool less its held-out slice cannot fill.
    fastzip.errors.InputError
        A record the ``text`` serializer cannot read.
    """
    given = [(u, b) for u, b in (("samples", budget), ("bytes", budget_bytes), ("tokens", budget_tokens))
             if b is not None]
    if len(given) != 1:
        raise UsageError("give exactly one of budget, budget_bytes and budget_tokens")
    unit, amount = given[0]
    if isinstance(amount, bool) or not isinstance(amount, (int, np.integer)) or amount < 1:
        raise UsageError(f"the budget must be a positive integer, got {amount!r}")
    amount = int(amount)
    unknown = [k for k in kinds if k not in ALL_KINDS]
    if unknown:
        raise UsageError(f"unknown version kind(s) {', '.join(unknown)}; choose from {', '.join(ALL_KINDS)}")
    if any(not 0 < m < 1 for m in mixtures):
        raise UsageError(f"mixture shares must lie in (0, 1), got {list(mixtures)}")
    if not random_seeds:
        raise UsageError("give at least one random seed")
    records_all = list(pool)
    texts_all = record_texts(records_all)
    heldout = _heldout(len(records_all), texts_all, heldout_bytes, heldout_max_share, seed)
    train_ids = np.setdiff1d(np.arange(len(records_all)), heldout).astype(np.int64)
    records = [records_all[i] for i in train_ids]
    texts = [texts_all[i] for i in train_ids]
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    if unit == "samples":
        cost = np.ones(len(records), dtype=np.int64)
    elif unit == "bytes":
        cost = lengths
    else:
        tok = tokenizer if isinstance(tokenizer, Tokenizer) else Tokenizer.load(tokenizer)
        cost = tok.count(texts)
    if int(cost.sum()) < amount:
        raise UsageError(f"the pool less its held-out slice holds {int(cost.sum())} {unit}, "
                         f"less than the budget ({amount})")
    out = VersionSet(pool=records_all, heldout=heldout, unit=unit, budget=amount)
    opts = dict(zip_options or {})
    local: dict[str, IntArray] = {}

    zip_order, note = _run_zip(records, cost, amount, unit, False, opts)
    if note:
        out.notes.append(f"zip: {note}")
    if "zip" in kinds:
        local["zip"] = zip_order
    if "zip_compat" in kinds:
        compat_order, note = _run_zip(records, cost, amount, unit, True, opts)
        local["zip_compat"] = compat_order
        if note:
            out.notes.append(f"zip_compat: {note}")
    randoms = {s: np.random.default_rng([s, 0xA11]).permutation(len(records)).astype(np.int64)
               for s in random_seeds}
    first_random = randoms[random_seeds[0]]
    if "random" in kinds:
        for s, order in randoms.items():
            local[f"random_s{s}"] = _fill(order, cost, amount, unit)
    strata = _length_strata(lengths, n_strata)
    if "random_lenmatch" in kinds:
        local["random_lenmatch"] = _length_matched(zip_order, strata, cost, amount, unit, random_seeds[0])
    if "redundant" in kinds:
        sizes = compressed_sizes(texts, codec="zstd", level=3)
        ratio = lengths / np.maximum(sizes, 1)
        local["redundant"] = _fill(np.argsort(-ratio, kind="stable").astype(np.int64), cost, amount, unit)
    if "mix" in kinds:
        for share in mixtures:
            local[f"mix{round(100 * share)}"] = _mixture(zip_order, first_random, cost, amount, unit, share)
    if "zip_strata" in kinds:
        local["zip_strata"] = _zip_within_strata(records, strata, first_random, cost, amount, unit, opts)
    for name, idx in local.items():
        out.indices[name] = train_ids[idx]
        out.records[name] = [records[i] for i in idx]
        out.cost[name] = int(cost[idx].sum())
    if "inconsistent" in kinds:
        base = _fill(first_random, cost, amount, unit)
        shuffled, swapped = shuffle_responses([records[i] for i in base], random_seeds[0])
        if swapped == 0:
            out.notes.append("inconsistent: no record has a response field to shuffle; version left out")
        else:
            out.indices["inconsistent"] = train_ids[base]
            out.records["inconsistent"] = shuffled
            new_cost = Tokenizer.load(None).count(record_texts(shuffled)) if unit == "bytes" else cost[base]
            out.cost["inconsistent"] = int(np.sum(new_cost)) if unit != "samples" else len(base)
            if unit == "tokens":
                out.notes.append("inconsistent: token cost is the unshuffled records'; a shuffle can move "
                                 "a few tokens across a prompt/response boundary")
    return out


def _length_matched(zip_order: IntArray, strata: IntArray, cost: IntArray, budget: int, unit: str,
                    seed: int) -> IntArray:
    """Random picks with as many from each length stratum as ZIP took, in random order, within the budget.

    Under a token budget the order goes on, so that the greedy fill ends
    within one sample of the budget as the other random versions do (the
    draw can hold fewer tokens than ZIP's picks): further draws of the same
    size per stratum from the samples not yet drawn, each in random order,
    until the strata ZIP took from are used up, then the other strata's
    samples in random order. The fill reaches past the first draw only
    when room is left after it. Sample and byte budgets use the first draw
    alone.
    """
    rng = np.random.default_rng([seed, 0x1E4])
    picks = []
    wants = {}
    for s in np.unique(strata[zip_order]):
        want = int(np.sum(strata[zip_order] == s))
        members = np.flatnonzero(strata == s)
        picks.append(rng.choice(members, size=min(want, len(members)), replace=False))
        wants[int(s)] = want
    order = rng.permutation(np.concatenate(picks)).astype(np.int64)
    if unit == "tokens":
        order = np.concatenate([order, _more_draws(order, strata, wants, rng)]).astype(np.int64)
    return _fill(order, cost, budget, unit)


def _more_draws(drawn: IntArray, strata: IntArray, wants: dict[int, int],
                rng: np.random.Generator) -> IntArray:
    """The samples not in ``drawn``: rounds of ``wants[s]`` from each stratum s, each round in random order,
    then the samples of the other strata in random order."""
    left = {s: rng.permutation(np.setdiff1d(np.flatnonzero(strata == s), drawn)) for s in wants}
    rounds = []
    start = 0
    while any(start * wants[s] < len(m) for s, m in left.items()):
        rounds.append(rng.permutation(np.concatenate(
            [m[start * wants[s]:(start + 1) * wants[s]] for s, m in left.items()])))
        start += 1
    rounds.append(rng.permutation(np.flatnonzero(~np.isin(strata, list(wants)))))
    return np.concatenate(rounds).astype(np.int64)


def _mixture(zip_order: IntArray, random_order: IntArray, cost: IntArray, budget: int, unit: str,
             share: float) -> IntArray:
    """``share`` of the budget from ZIP's order (a prefix), the rest from random, without repeats."""
    head = _prefix(zip_order, cost, int(round(share * budget)), unit)
    rest = random_order[~np.isin(random_order, head)]
    if unit == "samples":
        return np.concatenate([head, rest[:budget - len(head)]]).astype(np.int64)
    tail = _fill(rest, cost, budget - int(cost[head].sum()), unit)
    return np.concatenate([head, tail]).astype(np.int64)


def _zip_within_strata(records: list[Any], strata: IntArray, random_order: IntArray, cost: IntArray,
                       budget: int, unit: str, opts: dict[str, Any]) -> IntArray:
    """ZIP run inside each length stratum at the share of the budget that random gives that stratum."""
    reference = _fill(random_order, cost, budget, unit)
    picks = []
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s).astype(np.int64)
        share = int(cost[reference[strata[reference] == s]].sum())
        if share <= 0 or cost[members].min() > share:
            continue
        sub = [records[i] for i in members]
        local, _ = _run_zip(sub, cost[members], share, unit, False, opts)
        picks.append(members[local])
    return np.concatenate(picks).astype(np.int64) if picks else np.zeros(0, dtype=np.int64)
