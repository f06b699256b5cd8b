"""Read what the law needs from files: runs tables, first-epoch losses, dataset ratios.

* :func:`read_runs`: a runs table, CSV (header row) or JSON (a list of
  objects, or ``{"runs": [...]}``), with columns ``name, ratio, loss`` and
  optionally ``performance, quality``. Other columns are ignored.
* :func:`first_epoch_loss`: the mean training loss over the first epoch, from
  a number, a Hugging Face Trainer ``trainer_state.json`` (or a checkpoint
  folder holding one), or a CSV of ``step,loss[,epoch]``.
* :func:`dataset_ratio`: the compression ratio R of a data file, computed by
  :func:`fastzip.compression_ratio` over :func:`fastzip.io.read_records`, so
  it matches ``fastzip ratio`` for the same codec, level and serializer.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._checks import finite_number, real_number
from ..errors import InputError
from ..io.read import read_records
from ..streams.compressor import compression_ratio
from .runs import REQUIRED_COLUMNS, Run, RunsLike, run_from_mapping

PathLike = str | os.PathLike[str]
"""A file name: ``str`` or :class:`os.PathLike`."""

# the Trainer's float epochs can land a hair above 1.0 at the epoch boundary
_EPOCH_TOLERANCE = 1e-6
_CHECKPOINT = re.compile(r"checkpoint-(\d+)")   # a Trainer's checkpoint folder, by step


def _read_text(path: PathLike) -> str:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        raise InputError("no such file", path=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=str(path)) from None


def _load_json(path: PathLike) -> Any:
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                         path=str(path)) from None


def _csv_rows(path: PathLike) -> list[list[str]]:
    """Non-empty, non-comment rows of a CSV (tab-separated for .tsv)."""
    delimiter = "\t" if str(path).lower().endswith(".tsv") else ","
    rows = csv.reader(io.StringIO(_read_text(path)), delimiter=delimiter)
    return [r for r in rows if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]


# ---------------------------------------------------------------- runs tables
def read_runs(path: PathLike) -> list[Run]:
    """Read a runs table (``.json`` as JSON, anything else as CSV).

    Parameters
    ----------
    path : str or os.PathLike
        The table: CSV with a header row (tab-separated for ``.tsv``), or JSON,
        a list of objects or ``{"runs": [...]}``; columns ``name, ratio, loss``
        and optionally ``performance, quality``.

    Returns
    -------
    list of Run
        One run per row, in file order.

    Raises
    ------
    fastzip.errors.InputError
        An unreadable file, a missing column or value, or a cell that is not
        a number. Record numbers in errors count data rows (CSV) or list
        items (JSON) from 0.
    """
    p = str(path)
    if p.lower().endswith(".json"):
        data = _load_json(p)
        if isinstance(data, dict) and isinstance(data.get("runs"), list):
            data = data["runs"]
        if not isinstance(data, list):
            raise InputError("expected a JSON list of runs (objects with name, ratio, loss)", path=p)
        rows = data
    else:
        raw = _csv_rows(p)
        if not raw:
            raise InputError("empty runs table", path=p)
        header = [h.strip().lower() for h in raw[0]]
        missing = [c for c in ("name",) + REQUIRED_COLUMNS if c not in header]
        if missing:
            raise InputError(f"runs table lacks column(s) {', '.join(missing)} "
                             f"(header: {', '.join(header)})", path=p)
        rows = []
        for i, r in enumerate(raw[1:]):
            if len(r) > len(header):
                raise InputError(f"{len(r)} cells but the header has {len(header)}", path=p, record=i)
            rows.append(dict(zip(header, r)))
    runs = [run_from_mapping(row, i, path=p) for i, row in enumerate(rows)]
    if not runs:
        raise InputError("runs table has no rows", path=p)
    return runs


# --------------------------------------------------------- first-epoch losses
def _finite_number(value: object, what: str, path: str, record: int | None) -> float:
    number = real_number(value, parse_text=True)
    if number is None:
        raise InputError(f"{what} is {value!r}, expected a number", path=path, record=record)
    if finite_number(number) is None:
        raise InputError(f"{what} is {number}; the run diverged or the log is corrupt", path=path, record=record)
    return number


def _trainer_state_file(path: Path) -> Path:
    """The ``trainer_state.json`` a path names: itself, in the folder, or in its latest ``checkpoint-N``."""
    if not path.is_dir() or (path / "trainer_state.json").exists():
        return path / "trainer_state.json" if path.is_dir() else path
    steps = [(int(m.group(1)), child) for child in path.iterdir()
             if (m := _CHECKPOINT.fullmatch(child.name)) and (child / "trainer_state.json").is_file()]
    if not steps:
        raise InputError("holds no trainer_state.json, nor a checkpoint-N folder with one", path=str(path))
    return max(steps)[1] / "trainer_state.json"


def loss_from_trainer_state(path: PathLike, max_epoch: float = 1.0) -> float:
    """Mean of the training losses a Hugging Face Trainer logged in the first epoch.

    Uses the ``log_history`` entries that have a ``loss`` key and ``epoch <=
    max_epoch``; evaluation entries (``eval_loss``) and the final summary
    (``train_loss``) are not training-step losses and are skipped. Each
    logged loss averages the same number of steps (``logging_steps``), so
    the plain mean is the first-epoch mean.

    Parameters
    ----------
    path : str or os.PathLike
        A ``trainer_state.json``; a checkpoint folder that holds one; or a
        Trainer's output folder, whose own ``trainer_state.json`` is read
        when it has one (``save_state``), else that of its latest
        ``checkpoint-N`` (the highest N).
    max_epoch : float, default 1.0
        Last epoch whose losses count.

    Returns
    -------
    float
        The mean logged training loss at ``epoch <= max_epoch``.

    Raises
    ------
    fastzip.errors.InputError
        No ``log_history``, an entry without an epoch, a non-finite loss,
        or no loss logged in time. Record numbers in errors count
        ``log_history`` entries from 0.
    """
    p = _trainer_state_file(Path(path))
    data = _load_json(p)
    log = data.get("log_history") if isinstance(data, dict) else None
    if not isinstance(log, list):
        raise InputError("no 'log_history' list; is this a Trainer trainer_state.json?", path=str(p))
    losses = []
    later = []
    for i, entry in enumerate(log):
        if not isinstance(entry, dict) or "loss" not in entry:
            continue
        if "epoch" not in entry:
            raise InputError("log entry has 'loss' but no 'epoch'", path=str(p), record=i)
        epoch = _finite_number(entry["epoch"], "epoch", str(p), i)
        if epoch <= max_epoch + _EPOCH_TOLERANCE:
            losses.append(_finite_number(entry["loss"], "loss", str(p), i))
        else:
            later.append(epoch)
    if not losses:
        hint = f" (the first logged loss is at epoch {min(later):g})" if later else ""
        raise InputError(f"no training loss logged at epoch <= {max_epoch:g}{hint}; log more often "
                         "(logging_steps) or pass the loss directly", path=str(p))
    return sum(losses) / len(losses)


def loss_from_csv(path: PathLike, max_epoch: float = 1.0) -> float:
    """Mean training loss over the first epoch from a CSV of ``step,loss[,epoch]``.

    With a header row, columns are found by name (``loss``, optional
    ``epoch``; ``train_loss`` is accepted when there is no ``loss``) in any
    order. Without one, the columns are ``step, loss[, epoch]``. Rows with
    ``epoch > max_epoch`` are left out. **Without an epoch column every row is
    taken to belong to the first epoch** — export only first-epoch steps in
    that case.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV loss log (tab-separated for ``.tsv``).
    max_epoch : float, default 1.0
        Last epoch whose losses count.

    Returns
    -------
    float
        The mean loss over the rows at ``epoch <= max_epoch``.

    Raises
    ------
    fastzip.errors.InputError
        An empty log, no loss column, a cell that is not a finite number, or
        no row in time. Record numbers in errors count data rows from 0.
    """
    p = str(path)
    rows = _csv_rows(p)
    if not rows:
        raise InputError("empty loss log", path=p)

    def numeric(cell: str) -> bool:
        try:
            float(cell)
            return True
        except ValueError:
            return False

    if all(numeric(c) for c in rows[0] if c.strip()):
        loss_col, epoch_col = 1, (2 if len(rows[0]) > 2 else None)
        data = rows
        if len(rows[0]) < 2:
            raise InputError("expected columns step,loss[,epoch]", path=p, record=0)
    else:
        header = [h.strip().lower() for h in rows[0]]
        name = "loss" if "loss" in header else "train_loss" if "train_loss" in header else None
        if name is None:
            raise InputError(f"loss log has no 'loss' column (header: {', '.join(header)})", path=p)
        loss_col = header.index(name)
        epoch_col = header.index("epoch") if "epoch" in header else None
        data = rows[1:]
    losses = []
    for i, row in enumerate(data):
        if loss_col >= len(row):
            raise InputError("row has no loss cell", path=p, record=i)
        if epoch_col is not None and epoch_col < len(row) and row[epoch_col].strip():
            if _finite_number(row[epoch_col], "epoch", p, i) > max_epoch + _EPOCH_TOLERANCE:
                continue
        losses.append(_finite_number(row[loss_col], "loss", p, i))
    if not losses:
        raise InputError(f"no loss rows at epoch <= {max_epoch:g}", path=p)
    return sum(losses) / len(losses)


def first_epoch_loss(source: float | PathLike, max_epoch: float = 1.0) -> float:
    """First-epoch training loss from a number, a Trainer state or a CSV loss log.

    Parameters
    ----------
    source : float or str or os.PathLike
        The loss itself; a ``trainer_state.json`` or a checkpoint folder (any
        file ending in ``.json``, and any folder), read by
        :func:`loss_from_trainer_state`; or any other file, read as a CSV
        loss log by :func:`loss_from_csv`.
    max_epoch : float, default 1.0
        Last epoch whose losses count (files only).

    Returns
    -------
    float
        The first-epoch loss.

    Raises
    ------
    fastzip.errors.InputError
        A non-finite number, or what the file readers raise.
    TypeError
        ``source`` is neither a number nor a path.
    """
    value = real_number(source)
    if value is not None:
        if finite_number(value) is None:
            raise InputError(f"loss is {value}, expected a finite number")
        return value
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"expected a number or a path; got {type(source).__name__}")
    p = Path(source)
    if p.is_dir() or p.suffix.lower() == ".json":
        return loss_from_trainer_state(p, max_epoch)
    return loss_from_csv(p, max_epoch)


# ------------------------------------------------------------- dataset ratios
def ratio_and_count(path: PathLike, *, codec: str = "zlib", level: int | None = None,
                    serializer: str = "repr") -> tuple[float, int]:
    """Compression ratio of a data file and its number of records.

    Parameters
    ----------
    path : str or os.PathLike
        A JSON list, JSONL or Parquet file, read by :func:`fastzip.io.read_records`.
    codec : str, default "zlib"
        The codec of :func:`fastzip.compression_ratio`.
    level : int or None
        Its level; ``None`` is :func:`fastzip.compression_ratio`'s default.
    serializer : str, default "repr"
        How records become bytes.

    Returns
    -------
    tuple of (float, int)
        The ratio and the number of records.

    Raises
    ------
    fastzip.errors.InputError
        An unreadable file, or one with no records.
    """

    records = read_records(str(path))
    if len(records) == 0:
        raise InputError("no records", path=str(path))
    kwargs: dict[str, Any] = {"codec": codec, "serializer": serializer}
    if level is not None:
        kwargs["level"] = level
    return float(compression_ratio(records, **kwargs)), len(records)


def dataset_ratio(path: PathLike, *, codec: str = "zlib", level: int | None = None,
                  serializer: str = "repr") -> float:
    """Compression ratio R of a data file, as ``fastzip ratio`` computes it.

    ``fastzip.compression_ratio(fastzip.io.read_records(path), ...)``.

    Parameters
    ----------
    path : str or os.PathLike
        A JSON list, JSONL or Parquet file (``fastzip.io.read_records``
        reads it).
    codec : str, default "zlib"
        The codec of :func:`fastzip.compression_ratio`: a built-in or
        registered one.
    level : int or None
        Its level; ``None`` is the codec's default (zlib: 9).
    serializer : str, default "repr"
        How records become bytes: ``"repr"``, ``"json"`` or ``"text"``.

    Returns
    -------
    float
        The compression ratio R.

    Raises
    ------
    fastzip.errors.InputError
        An unreadable file, or one with no records.
    fastzip.errors.UsageError
        An unknown codec, level or serializer.
    """
    return ratio_and_count(path, codec=codec, level=level, serializer=serializer)[0]


def as_runs(runs: RunsLike) -> list[Run]:
    """Normalise ``runs`` to a list of :class:`Run`.

    Parameters
    ----------
    runs : RunsLike
        A path to a runs table (CSV or JSON, see :func:`read_runs`), an
        iterable of :class:`Run` or of mappings, or a mapping of columns
        (``{"ratio": [...], "loss": [...]}``).

    Returns
    -------
    list of Run
        The runs, in order.

    Raises
    ------
    fastzip.errors.InputError
        Columns of different lengths, a bad row, or no runs at all.
    """
    if isinstance(runs, (str, os.PathLike)):
        return read_runs(runs)
    if isinstance(runs, Mapping):
        columns = {str(k).strip().lower(): list(v) for k, v in runs.items()}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise InputError(f"columns have different lengths: {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        rows: Iterable[Any] = ({k: v[i] for k, v in columns.items()} for i in range(n))
    else:
        rows = runs
    out = [r if isinstance(r, Run) else run_from_mapping(r, i) for i, r in enumerate(rows)]
    if not out:
        raise InputError("no runs given")
    return out
