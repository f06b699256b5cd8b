"""Train a proxy on each data version file and write the runs table.

For each version (a JSON list, JSONL or Parquet file) :func:`run_versions`

1. measures R as ``fastzip law ratio`` does
   (:func:`fastzip.law.ingest.ratio_and_count`: zlib, ``repr`` by default);
2. trains a fresh proxy on the version's text (:mod:`fastzip.proxy.train`);
3. writes ``WORKDIR/NAME/trainer_state.json`` (what ``fastzip law check
   --trainer-state`` reads) and ``WORKDIR/NAME/result.json``;
4. reads L back from that ``trainer_state.json`` with
   :func:`fastzip.law.ingest.loss_from_trainer_state`, so the runs table and
   ``law check`` see the same number.

A version whose ``result.json`` carries the same key (the training
settings, the ratio settings and the SHA-256 of the version, held-out,
out-of-distribution and tokenizer files) is not trained again. Both files
are written atomically, ``result.json`` last, so an interrupted run leaves
no half-written version behind.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .._optional import require_torch
from ..errors import InputError, UsageError
from ..io import atomic_writer, read_records, write_bytes_atomic
from ..law.ingest import loss_from_trainer_state, ratio_and_count
from .state import STATE_FILE, trainer_state, write_trainer_state
from .text import SEPARATOR, Tokenizer, file_digest, joined_text, record_texts

RESULT_FILE = "result.json"
CACHE_FORMAT = 1
"""Bumped whenever training or evaluation changes what a result means."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


@dataclass(frozen=True)
class Version:
    """A data version to train on.

    Parameters
    ----------
    name : str
        Its name in the runs table (and the folder of its outputs).
    path : str
        Its data file.
    """

    name: str
    path: str


@dataclass(frozen=True)
class RatioSettings:
    """How R is measured: the options of ``fastzip law ratio``.

    Parameters
    ----------
    codec : str
    level : int or None
    serializer : str
    """

    codec: str = "zlib"
    level: int | None = None
    serializer: str = "repr"


@dataclass
class VersionResult:
    """One version's row of the runs table, with what else was measured.

    Parameters
    ----------
    name : str
    ratio : float
        R of the version file.
    loss : float
        First-epoch mean training loss L (nats per token), as read back from
        its ``trainer_state.json``.
    performance : float
        Z: minus the held-out loss in bits per byte.
    ood_performance : float or None
        Z on the out-of-distribution file, when one is given.
    records : int
    train_tokens : int
    params : int
    seconds : float
        Training wall time.
    tokens_per_s : float
    epochs_done : float
    device : str
    folder : str
        Where its ``trainer_state.json`` is.
    cached : bool
        Read from a previous run rather than trained now.
    notes : list of str
    """

    name: str
    ratio: float
    loss: float
    performance: float
    ood_performance: float | None
    records: int
    train_tokens: int
    params: int
    seconds: float
    tokens_per_s: float
    epochs_done: float
    device: str
    folder: str
    cached: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def parse_version(spec: str) -> Version:
    """``NAME=FILE``, or a file whose stem is the name.

    Parameters
    ----------
    spec : str

    Returns
    -------
    Version

    Raises
    ------
    fastzip.errors.UsageError
        An empty or unusable name (it names a folder: letters, digits and
        ``._+-``, not starting with a dot).
    """
    if "=" in spec and not os.path.exists(spec):
        name, path = spec.split("=", 1)
    else:
        name, path = Path(spec).stem, spec
    if not _NAME.match(name):
        raise UsageError(f"version {spec!r}: the name {name!r} must be letters, digits and ._+- "
                         "(it names a folder); write NAME=FILE")
    if not path:
        raise UsageError(f"version {spec!r}: no file after '='")
    return Version(name, path)


def _heldout_tokens(path: str, tok: Tokenizer) -> tuple[Any, int]:
    texts = record_texts(read_records(path), path)
    if not texts:
        raise InputError("no records", path=path)
    blob = joined_text(texts)
    tokens = tok.encode(blob)
    if len(tokens) < 2:
        raise InputError("held-out text is shorter than two tokens", path=path)
    # the first token is never scored: at the byte level it is exactly one byte
    scored_bytes = len(blob) - 1 if tok.backend is None else len(blob)
    return tokens, scored_bytes


def cache_key(version: Version, cfg: Any, ratio: RatioSettings, heldout: str, ood: str | None,
              tok: Tokenizer) -> str:
    """SHA-256 of everything a version's result depends on.

    Parameters
    ----------
    version : Version
    cfg : fastzip.proxy.train.TrainConfig
    ratio : RatioSettings
    heldout, ood : str or None
        Held-out and out-of-distribution files.
    tok : Tokenizer

    Returns
    -------
    str
    """
    payload = {
        "format": CACHE_FORMAT, "train": cfg.key(), "ratio": ratio.__dict__, "data": file_digest(version.path),
        "heldout": file_digest(heldout), "ood": None if ood is None else file_digest(ood),
        "tokenizer": tok.fingerprint, "separator": SEPARATOR.decode(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _cached(folder: str, key: str) -> VersionResult | None:
    path = os.path.join(folder, RESULT_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key or not os.path.exists(os.path.join(folder, STATE_FILE)):
        return None
    row = data.get("result")
    if not isinstance(row, dict):
        return None
    try:
        result = VersionResult(**row)
    except TypeError:
        return None
    result.cached = True
    return result


def run_versions(versions: Sequence[Version], heldout: str, workdir: str, cfg: Any, *, ood: str | None = None,
                 tokenizer: str | None = None, ratio: RatioSettings | None = None, progress: bool = True,
                 on_result: Callable[[VersionResult], None] | None = None) -> list[VersionResult]:
    """Train and evaluate a proxy on each version (finished ones are read from the cache).

    Parameters
    ----------
    versions : sequence of Version
    heldout : str
        The held-out data file (Z).
    workdir : str
        Folder of the per-version outputs and cache.
    cfg : fastzip.proxy.train.TrainConfig
    ood : str or None, optional
        A second, out-of-distribution held-out file.
    tokenizer : str or None, optional
        A ``tokenizers`` JSON file; None is the byte level.
    ratio : RatioSettings or None, optional
        How R is measured (default: ``fastzip law ratio``'s defaults).
    progress : bool, optional
        A tqdm bar per version on stderr.
    on_result : callable, optional
        Called with each version's result as it is ready.

    Returns
    -------
    list of VersionResult
        In the order of ``versions``.

    Raises
    ------
    fastzip.errors.MissingDependencyError
        torch is not installed.
    fastzip.errors.InputError
        An unreadable or empty file, a version shorter than one sequence.
    fastzip.errors.UsageError
        Two versions with one name, bad training settings.
    """
    require_torch()
    from .train import check_config, resolve_device, train_proxy  # optional dependency: needs torch, checked above

    check_config(cfg)
    resolve_device(cfg.device)
    names = [v.name for v in versions]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"two versions are named {', '.join(dupes)}; name them with NAME=FILE")
    ratio = ratio or RatioSettings()
    for v in versions:   # every file readable before any training: a bad one costs nothing
        record_texts(read_records(v.path), v.path)
    tok = Tokenizer.load(tokenizer)
    held = {"heldout": _heldout_tokens(heldout, tok)}
    if ood is not None:
        held["ood"] = _heldout_tokens(ood, tok)
    results = []
    for v in versions:
        folder = os.path.join(workdir, v.name)
        key = cache_key(v, cfg, ratio, heldout, ood, tok)
        result = _cached(folder, key)
        if result is None:
            result = _train_one(v, folder, key, cfg, tok, held, ratio, progress, train_proxy)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results


def _train_one(v: Version, folder: str, key: str, cfg: Any, tok: Tokenizer, held: dict[str, Any],
               ratio: RatioSettings, progress: bool, train_proxy: Any) -> VersionResult:
    r, count = ratio_and_count(v.path, codec=ratio.codec, level=ratio.level, serializer=ratio.serializer)
    tokens = tok.encode(joined_text(record_texts(read_records(v.path), v.path)))
    n_seq = max(1, (len(tokens) - 1) // cfg.context)
    total = -(-n_seq // cfg.batch_size) * cfg.epochs
    with tqdm(total=total, desc=v.name, unit="step", disable=not progress, dynamic_ncols=True, leave=True) as bar:
        run = train_proxy(tokens, held, cfg, tok.vocab_size, name=v.name, progress=bar.update)
    state = trainer_state(run.log_history, global_step=run.steps, epoch=run.epochs_done, max_steps=total,
                          num_train_epochs=cfg.epochs, train_batch_size=cfg.batch_size,
                          num_input_tokens_seen=run.tokens_seen)
    write_trainer_state(folder, state)
    result = VersionResult(
        name=v.name, ratio=r, loss=loss_from_trainer_state(folder), performance=run.performance["heldout"],
        ood_performance=run.performance.get("ood"), records=count, train_tokens=run.train_tokens,
        params=run.n_params, seconds=run.seconds, tokens_per_s=run.tokens_per_s, epochs_done=run.epochs_done,
        device=run.device, folder=folder, notes=run.notes)
    payload = json.dumps({"key": key, "file": os.path.abspath(v.path), "result": result.to_dict()}, indent=2)
    write_bytes_atomic(os.path.join(folder, RESULT_FILE), payload.encode() + b"\n")
    return result


RUNS_COLUMNS = ("name", "ratio", "loss", "performance", "ood_performance", "records", "train_tokens", "params",
                "tokens_per_s", "device")


def write_runs(results: Sequence[VersionResult], path: str) -> None:
    """Write the runs table as CSV, atomically.

    Columns ``name,ratio,loss,performance`` (what ``fastzip law fit`` reads)
    and then ``ood_performance, records, train_tokens, params, tokens_per_s,
    device``, which the law commands ignore.

    Parameters
    ----------
    results : sequence of VersionResult
    path : str
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(RUNS_COLUMNS)
    for r in results:
        w.writerow([r.name, repr(r.ratio), repr(r.loss), repr(r.performance),
                    "" if r.ood_performance is None else repr(r.ood_performance), r.records, r.train_tokens,
                    r.params, f"{r.tokens_per_s:.0f}", r.device])
    with atomic_writer(path, "w") as f:
        f.write(buf.getvalue())
