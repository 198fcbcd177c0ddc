"""Mapping dataclasses to table rows and back: enums by value (Decimal, bool and ints pass as they are)."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import fields
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

from sqlalchemy import Column, Row, Table

from tui_bot.domain.models import Execution, Kline, Order
from tui_bot.store import schema
from tui_bot.store.rows import CycleRow, PhantomRow, RecommendationRow, RejectedOrder, Trade

T = TypeVar("T")


def encode(value: object) -> object:
    """One Python value as a column value (the column types do the rest)."""
    if isinstance(value, Enum):
        return value.value
    return value


def _base_type(hint: Any) -> Any:
    """The non-None member of an optional type hint."""
    if get_origin(hint) in (Union, types.UnionType):
        members = [arg for arg in get_args(hint) if arg is not type(None)]
        return members[0]
    return hint


def decode(hint: Any, value: object) -> object:
    """One column value as the Python type named by hint."""
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
    """Columns of one dataclass (field names, optionally renamed) in one table, with encode and decode."""

    def __init__(self, cls: type[T], table: Table, renames: Mapping[str, str] | None = None) -> None:
        hints = get_type_hints(cls)
        renames = renames or {}
        self.cls = cls
        self.table = table
        self._fields = [(f.name, renames.get(f.name, f.name), hints[f.name]) for f in fields(cls)]  # type: ignore[arg-type]
        self.columns: tuple[str, ...] = tuple(column for _, column, _ in self._fields)

    def params(self, obj: T) -> dict[str, object]:
        """The column values of obj."""
        return {column: encode(getattr(obj, name)) for name, column, _ in self._fields}

    def decode(self, row: Row[Any]) -> T:
        """The dataclass instance held by row."""
        values = row._mapping
        return self.cls(**{name: decode(hint, values[column]) for name, column, hint in self._fields})

    def select_columns(self) -> list[Column[Any]]:
        """The table's columns of this codec, for a select()."""
        return [self.table.c[column] for column in self.columns]


ORDER_CODEC = RowCodec(Order, schema.orders, {"created_time": "created_ms", "updated_time": "updated_ms"})
EXECUTION_CODEC = RowCodec(
    Execution,
    schema.executions,
    {"exec_price": "price", "exec_qty": "qty", "exec_value": "value", "exec_fee": "fee"},
)
KLINE_CODEC = RowCodec(Kline, schema.candles)
TRADE_CODEC = RowCodec(Trade, schema.trades)
CYCLE_CODEC = RowCodec(CycleRow, schema.cycles)
RECOMMENDATION_CODEC = RowCodec(RecommendationRow, schema.recommendations)
PHANTOM_CODEC = RowCodec(PhantomRow, schema.phantoms)
REJECTED_ORDER_CODEC = RowCodec(RejectedOrder, schema.rejected_orders)
