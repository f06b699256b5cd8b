"""The ``text`` serializer straight from Arrow columns (docs/semantics.md §4).

Ray Data hands scoring actors Arrow tables.  Turning each row into a Python
dict and serializing it costs more than compressing it; for the common
schemas the ``text`` serializer is a few vectorised Arrow kernels instead:

* ``text_field=`` a string column: the column itself;
* ``conversations`` (ShareGPT) / ``messages`` (OpenAI): ``role: content``
  lines, a turn without a role giving its content alone, joined by newlines;
* ``instruction`` / ``input`` / ``output`` (Alpaca): the non-empty fields
  joined by newlines;
* ``text``: the column itself.

The bytes are exactly :func:`fastzip.samples.serialize.serialize_sample`'s for the
row as a dict with its null fields left out (Arrow strings are UTF-8, the
encoding the serializer writes).  Whenever a batch holds anything else (a
column that is null in some rows only, a null turn or content, non-string
values, content parts, an empty result, any other serializer)
:func:`text_pool` returns None and the caller serializes row by row, so the
per-row path keeps every rule and every error message.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..samples.pool import Pool

__all__ = ["text_pool"]

_TURNS = (("conversations", "from", "value"), ("messages", "role", "content"))
_ALPACA = ("instruction", "input", "output")


def _is_string(pa: Any, typ: Any) -> bool:
    return bool(pa.types.is_string(typ) or pa.types.is_large_string(typ))


def _presence(column: Any) -> str:
    """``"all"``, ``"none"`` or ``"some"``: in how many rows the field is non-null (present in the dict)."""
    nulls = column.null_count
    if nulls == 0:
        return "all"
    return "none" if nulls == len(column) else "some"


def _one_array(pa: Any, column: Any) -> Any:
    """A column as one Array (a ChunkedArray's chunks combined; a single chunk is not copied)."""
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def _strings(pa: Any, column: Any) -> Any:
    """A string column as one large_string Array, or None when it is not one."""
    if not _is_string(pa, column.type):
        return None
    return _one_array(pa, column).cast(pa.large_string())


def _turns(pa: Any, pc: Any, column: Any, role_key: str, content_key: str) -> Any:
    """``role: content`` lines of every row's turns, joined by newlines; None when not plain."""
    typ = column.type
    if not (pa.types.is_list(typ) or pa.types.is_large_list(typ)) or not pa.types.is_struct(typ.value_type):
        return None
    fields = [typ.value_type.field(i).name for i in range(typ.value_type.num_fields)]
    if content_key not in fields:
        return None
    column = _one_array(pa, column)
    turns = pc.list_flatten(column)
    if turns.null_count:                      # a null turn: the row path names it
        return None
    children = dict(zip(fields, turns.flatten()))
    content = _strings(pa, children[content_key])
    if content is None or content.null_count:
        return None
    lines = content
    role = children.get(role_key)
    if role is not None and role.null_count < len(role):
        role = _strings(pa, role)
        if role is None:                      # a non-string role prints as Python would: row path
            return None
        joined = pc.binary_join_element_wise(role, content, pa.scalar(": ", pa.large_string()))
        has_role = pc.fill_null(pc.greater(pc.binary_length(role), 0), False)
        lines = pc.if_else(has_role, joined, content)
    counts = pc.list_value_length(column).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    per_row = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), lines)
    return pc.binary_join(per_row, pa.scalar("\n", pa.large_string()))


def _alpaca(pa: Any, pc: Any, columns: dict[str, Any]) -> Any:
    """The non-empty of instruction / input / output, joined by newlines; None when not plain."""
    parts = []
    for key in _ALPACA:
        col = columns.get(key)
        if col is None or _presence(col) == "none":
            continue
        values = _strings(pa, col)
        if values is None:
            return None
        empty = pc.fill_null(pc.equal(pc.binary_length(values), 0), True)
        parts.append(pc.if_else(empty, pa.scalar(None, pa.large_string()), values))
    if not parts:
        return None
    joined = pc.binary_join_element_wise(*parts, pa.scalar("\n", pa.large_string()), null_handling="skip")
    return pc.fill_null(joined, pa.scalar("", pa.large_string()))


def _row_text(pa: Any, pc: Any, table: Any, text_field: str | None) -> Any:
    """One large_string per row, or None when some row needs the row-by-row serializer."""
    columns = {name: table.column(name) for name in table.column_names}
    if text_field is not None:
        col = columns.get(text_field)
        if col is None or col.null_count:
            return None
        return _strings(pa, col)
    present = {name: _presence(col) for name, col in columns.items()}
    for key, role_key, content_key in _TURNS:
        state = present.get(key, "none")
        if state == "some":
            return None
        if state == "all":
            return _turns(pa, pc, columns[key], role_key, content_key)
    alpaca = [present.get(key, "none") for key in ("instruction", "output")]
    if "all" in alpaca:
        return _alpaca(pa, pc, columns)
    if "some" in alpaca:                      # rows with neither go on to "text" or JSON: row path
        both_null = pc.and_(pc.is_null(columns.get("instruction", pa.nulls(len(table)))),
                            pc.is_null(columns.get("output", pa.nulls(len(table)))))
        if pc.any(both_null).as_py():
            return None
        return _alpaca(pa, pc, columns)
    state = present.get("text", "none")
    if state == "all":
        return _strings(pa, columns["text"])
    return None                               # JSON fallback rows, or mixed: row path


def text_pool(table: Any, serializer: str, text_field: str | None = None,
              drop: Sequence[str] = ()) -> Pool | None:
    """The ``text`` serialization of an Arrow table's rows as a :class:`~fastzip.samples.pool.Pool`.

    Parameters
    ----------
    table : pyarrow.Table or pyarrow.RecordBatch
        One sample per row; null fields count as absent.
    serializer : str
        Only ``"text"`` is vectorised; any other gives None.
    text_field : str or None
        As for ``fastzip.select``.
    drop : sequence of str
        Columns that are not part of the sample (ids Ray adds).

    Returns
    -------
    Pool or None
        Byte for byte what :meth:`Pool.from_samples` gives for the rows as
        dicts, or None when some row needs the row-by-row serializer (which
        then raises any error, naming the record).
    """
    import pyarrow as pa  # optional dependency (the parquet and ray extras)
    import pyarrow.compute as pc

    if serializer != "text" or table.num_rows == 0:
        return None
    names = [c for c in table.column_names if c not in drop]
    if not names:
        return None
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    text = _row_text(pa, pc, table.select(names), text_field)
    if text is None or text.null_count or len(text) != table.num_rows:
        return None
    text = _one_array(pa, text).cast(pa.large_string())
    _, offsets_buf, data_buf = text.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[text.offset:text.offset + len(text) + 1]
    if np.any(offsets[1:] == offsets[:-1]):      # an empty sample: the row path raises its error
        return None
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(data_buf, dtype=np.uint8)[start:end] if data_buf is not None else np.zeros(0, np.uint8)
    return Pool(data, offsets - start, serializer)
