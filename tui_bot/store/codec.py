"""Mapping dataclasses to SQL rows and back: Decimal as TEXT, enums by value, bools as 0/1."""

from __future__ import annotations

import sqlite3
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

from tui_bot.domain.models import Execution, Kline, Order
from tui_bot.store.rows import CycleRow, PhantomRow, RecommendationRow, RejectedOrder, Trade

T = TypeVar("T")


def encode(value: object) -> object:
    """One Python value as an SQLite value."""
    if value is None:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _base_type(hint: Any) -> Any:
    """The non-None member of an optional type hint."""
    if get_origin(hint) in (Union, types.UnionType):
        members = [arg for arg in get_args(hint) if arg is not type(None)]
        return members[0]
    return hint


def decode(hint: Any, value: object) -> object:
    """One SQLite value as the Python type named by hint."""
    if value is None:
        return None
    base = _base_type(hint)
    if base is Decimal:
        return Decimal(str(value))
    if base is bool:
        return bool(value)
    if isinstance(base, type) and issubclass(base, Enum):
        return base(value)
    return value


class RowCodec(Generic[T]):
    """Columns of one dataclass (field names, optionally renamed) with encode and decode."""

    def __init__(self, cls: type[T], renames: Mapping[str, str] | None = None) -> None:
        hints = get_type_hints(cls)
        renames = renames or {}
        self.cls = cls
        self._fields = [(f.name, renames.get(f.name, f.name), hints[f.name]) for f in fields(cls)]  # type: ignore[arg-type]
        self.columns: tuple[str, ...] = tuple(column for _, column, _ in self._fields)

    def params(self, obj: T) -> dict[str, object]:
        """Named SQL parameters for obj."""
        return {column: encode(getattr(obj, name)) for name, column, _ in self._fields}

    def decode(self, row: sqlite3.Row) -> T:
        """The dataclass instance held by row."""
        return self.cls(**{name: decode(hint, row[column]) for name, column, hint in self._fields})

    def select_list(self) -> str:
        """The column list for a SELECT."""
        return ", ".join(self.columns)


def insert_sql(table: str, columns: Iterable[str], verb: str = "INSERT") -> str:
    """An INSERT with named parameters for columns."""
    names = list(columns)
    return f"{verb} INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + c for c in names)})"


def upsert_sql(table: str, columns: Sequence[str], conflict: Sequence[str], where: str | None = None) -> str:
    """An INSERT that updates every non-key column on a key conflict (optionally only when where holds)."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in conflict)
    sql = f"{insert_sql(table, columns)} ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"
    return f"{sql} WHERE {where}" if where else sql


ORDER_CODEC = RowCodec(Order, {"created_time": "created_ms", "updated_time": "updated_ms"})
EXECUTION_CODEC = RowCodec(
    Execution,
    {"exec_price": "price", "exec_qty": "qty", "exec_value": "value", "exec_fee": "fee"},
)
KLINE_CODEC = RowCodec(Kline)
TRADE_CODEC = RowCodec(Trade)
CYCLE_CODEC = RowCodec(CycleRow)
RECOMMENDATION_CODEC = RowCodec(RecommendationRow)
PHANTOM_CODEC = RowCodec(PhantomRow)
REJECTED_ORDER_CODEC = RowCodec(RejectedOrder)
