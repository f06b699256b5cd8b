"""Runs: one trained model per data version, the rows a law is fitted on.

A run has a ``name``, the compression ratio ``ratio`` (R) of its training
data, its first-epoch training loss ``loss`` (L), and optionally the measured
``performance`` (Z) of the model and the average sample ``quality`` (Q).

:func:`run_from_mapping` reads one row, :func:`fastzip.law.ingest.as_runs`
turns whatever a caller passes into runs, and :func:`validate` applies the
rules a fit needs:

* every value the fit uses is a finite number;
* names are unique;
* no two runs are identical in every number (ratio, loss, performance and
  quality): such a row is almost always a copy-paste duplicate and would count
  twice. Runs that share R but differ in L (repeated training on the same data
  version) are fine.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .._checks import finite_number, real_number
from ..errors import InputError

REQUIRED_COLUMNS: tuple[str, ...] = ("ratio", "loss")
OPTIONAL_COLUMNS: tuple[str, ...] = ("performance", "quality")
NUMERIC_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


@dataclass(frozen=True)
class Run:
    """One training run on one data version.

    Attributes
    ----------
    name : str
        The run's name, unique within a runs table.
    ratio : float
        Compression ratio R of the run's training data.
    loss : float
        First-epoch training loss L.
    performance : float or None
        Measured performance Z of the trained model, if known.
    quality : float or None
        Average sample quality Q of the data version, if known.
    """

    name: str
    ratio: float
    loss: float
    performance: float | None = None
    quality: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The run as a dict of its fields.

        Returns
        -------
        dict
            ``name``, ``ratio``, ``loss``, ``performance`` and ``quality``.
        """
        return asdict(self)


RunsLike = str | os.PathLike[str] | Iterable[Run | Mapping[str, Any]] | Mapping[str, Sequence[Any]]
"""What :func:`fastzip.law.fit` accepts as runs: a path to a runs table, runs or rows, or columns."""


def _number(value: object, column: str, record: int, path: str | None, required: bool) -> float | None:
    """Parse one cell; ``None``/empty is missing. NaN parses (and is refused by
    :func:`validate` only where the fit uses the column)."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if required:
            raise InputError(f"missing value in column '{column}'", path=path, record=record)
        return None
    if isinstance(value, bool):
        raise InputError(f"'{column}' is a boolean, expected a number", path=path, record=record)
    number = real_number(value, parse_text=True)
    if number is None:
        raise InputError(f"'{column}' is {value!r}, expected a number", path=path, record=record)
    return number


def run_from_mapping(row: Mapping[str, Any], record: int, path: str | None = None) -> Run:
    """Build a :class:`Run` from one row of a runs table.

    Column names are matched case-insensitively; unknown columns are ignored.
    In a file (``path`` given) the ``name`` column is required; in memory a
    missing name defaults to ``run<record>``.

    Parameters
    ----------
    row : Mapping[str, Any]
        The row: ``name, ratio, loss`` and optionally ``performance, quality``;
        numbers or text that parses as one.
    record : int
        The row's position, counted from 0 (named in errors).
    path : str or None
        The file the row comes from (named in errors).

    Returns
    -------
    Run
        The run; a missing optional value is ``None``, NaN is kept (see :func:`validate`).

    Raises
    ------
    fastzip.errors.InputError
        A row that is not a mapping, a missing name (in a file) or required
        value, or a value that is not a number.
    """
    if not isinstance(row, Mapping):
        raise InputError(f"expected an object with columns name, ratio, loss; got {type(row).__name__}",
                         path=path, record=record)
    cells = {str(k).strip().lower(): v for k, v in row.items()}
    name = cells.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        if path is not None:
            raise InputError("missing value in column 'name'", path=path, record=record)
        name = f"run{record}"
    values = {c: _number(cells.get(c), c, record, path, c in REQUIRED_COLUMNS) for c in NUMERIC_COLUMNS}
    return Run(name=str(name).strip(), **values)  # type: ignore[arg-type]


def validate(runs: Sequence[Run], columns: Sequence[str]) -> None:
    """Refuse what a fit cannot use (see the module docstring).

    Parameters
    ----------
    runs : Sequence[Run]
        The runs, in table order (errors name their position, counted from 0).
    columns : Sequence[str]
        The columns the fit uses: each must hold a finite number in every run.

    Raises
    ------
    fastzip.errors.InputError
        A missing or non-finite value in ``columns``, a duplicate name, or
        two runs identical in every number.
    """
    for i, run in enumerate(runs):
        for column in columns:
            value = getattr(run, column)
            if value is None:
                raise InputError(f"run '{run.name}' has no '{column}' (every run needs one to fit this law)",
                                 record=i)
            if finite_number(value) is None:
                raise InputError(f"run '{run.name}' has {column} = {value}; values must be finite numbers",
                                 record=i)
    seen_names: dict[str, int] = {}
    seen_rows: dict[tuple[float | None, ...], int] = {}
    for i, run in enumerate(runs):
        if run.name in seen_names:
            raise InputError(f"duplicate run name '{run.name}' (runs {seen_names[run.name]} and {i}); "
                             "names must be unique", record=i)
        seen_names[run.name] = i
        key = tuple(getattr(run, c) for c in NUMERIC_COLUMNS)
        if key in seen_rows:
            j = seen_rows[key]
            raise InputError(f"runs '{runs[j].name}' and '{run.name}' are identical in ratio, loss, "
                             "performance and quality; a run listed twice would count double, remove one",
                             record=i)
        seen_rows[key] = i
