"""Ticker values kept as the venue sent them and turned into Decimals only when read (the ticker hot path).

A venue's decoder checks each ticker object exactly (a value it hands on always converts) and wraps
it, untouched, in `TickerFields` with a `TickerCodec` that says which source key and converter give
each `Ticker` attribute; the core merges those raw values per symbol into a `LiveTicker`, whose
attributes read like `Ticker`'s. Converting a value costs only when something reads it (a position's
mark price, an order's reference price).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields as dataclass_fields
from decimal import Decimal
from typing import Any, Generic, TypeVar, overload

from tui_bot.domain.models import Ticker
from tui_bot.domain.numbers import ZERO

TickerValue = Decimal | int | str
Convert = Callable[[Any], Any]
T = TypeVar("T", Decimal, int, str)

TICKER_ATTRS: tuple[str, ...] = tuple(f.name for f in dataclass_fields(Ticker) if f.name not in ("symbol", "ts"))


def _same(value: Any) -> Any:
    """The value as it is (already typed)."""
    return value


class TickerCodec:
    """How a source's ticker values map to Ticker attributes: attribute -> (source key, converter)."""

    __slots__ = ("names", "reads")

    def __init__(self, reads: Mapping[str, tuple[str, Convert]]) -> None:
        self.reads = dict(reads)
        self.names = {source: name for name, (source, _) in self.reads.items()}


# Attribute-keyed values that are already Decimal/int/str (tests, REST, merged plain dicts).
PLAIN = TickerCodec({name: (name, _same) for name in TICKER_ATTRS})


class TickerFields(Mapping[str, TickerValue]):
    """One update's values as the source sent them, read as Ticker attribute -> typed value on demand."""

    __slots__ = ("codec", "raw")

    def __init__(self, raw: dict[str, Any], codec: TickerCodec) -> None:
        self.raw = raw
        self.codec = codec

    def __getitem__(self, name: str) -> TickerValue:
        source, convert = self.codec.reads[name]
        converted: TickerValue = convert(self.raw[source])
        return converted

    def get(self, name: str, default: Any = None) -> Any:
        """The typed value of one attribute, or default when the update does not carry it."""
        read = self.codec.reads.get(name)
        if read is None or (value := self.raw.get(read[0])) is None:
            return default
        return read[1](value)

    def __contains__(self, name: object) -> bool:
        read = self.codec.reads.get(name) if type(name) is str else None
        return read is not None and read[0] in self.raw

    def __iter__(self) -> Iterator[str]:
        names = self.codec.names
        return (names[key] for key in self.raw if key in names)

    def __len__(self) -> int:
        names = self.codec.names
        return sum(1 for key in self.raw if key in names)

    def __repr__(self) -> str:
        return f"TickerFields({dict(self)!r})"


def merge_fields(old: Mapping[str, TickerValue], new: Mapping[str, TickerValue]) -> Mapping[str, TickerValue]:
    """Two updates as one, later values winning; raw values stay raw when both share a codec."""
    if type(old) is TickerFields and type(new) is TickerFields and old.codec is new.codec:
        return TickerFields({**old.raw, **new.raw}, new.codec)
    return {**old, **new}


class _Read(Generic[T]):
    """A LiveTicker attribute: its source value converted on read, the default when unset."""

    __slots__ = ("default", "name")

    def __init__(self, default: T) -> None:
        self.default: T = default
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> _Read[T]: ...

    @overload
    def __get__(self, obj: LiveTicker, owner: type) -> T: ...

    def __get__(self, obj: LiveTicker | None, owner: type) -> T | _Read[T]:
        if obj is None:
            return self
        source, convert = obj.codec.reads[self.name]
        value = obj.raw.get(source)
        if value is None:
            return self.default
        converted: T = convert(value)
        return converted


class LiveTicker:
    """A symbol's merged ticker: the latest source values, each read as a Decimal (or int/str) like Ticker's."""

    __slots__ = ("codec", "raw", "symbol", "ts")

    last_price = _Read(ZERO)
    mark_price = _Read(ZERO)
    index_price = _Read(ZERO)
    bid1_price = _Read(ZERO)
    bid1_size = _Read(ZERO)
    ask1_price = _Read(ZERO)
    ask1_size = _Read(ZERO)
    prev_price_24h = _Read(ZERO)
    price_24h_pcnt = _Read(ZERO)
    high_price_24h = _Read(ZERO)
    low_price_24h = _Read(ZERO)
    prev_price_1h = _Read(ZERO)
    open_interest = _Read(ZERO)
    open_interest_value = _Read(ZERO)
    turnover_24h = _Read(ZERO)
    volume_24h = _Read(ZERO)
    funding_rate = _Read(ZERO)
    next_funding_time = _Read(0)
    tick_direction = _Read("ZeroPlusTick")

    def __init__(self, symbol: str, fields: Mapping[str, TickerValue], ts: int = 0) -> None:
        self.symbol = symbol
        self.ts = ts
        if type(fields) is TickerFields:
            self.raw, self.codec = dict(fields.raw), fields.codec
        else:
            self.raw, self.codec = dict(fields), PLAIN

    def merge(self, fields: Mapping[str, TickerValue]) -> None:
        """Fold one update in (absent = unchanged); a different codec turns the held values typed first."""
        if type(fields) is TickerFields and fields.codec is self.codec:
            self.raw.update(fields.raw)
            return
        if self.codec is not PLAIN:
            self.raw, self.codec = self.values(), PLAIN
        self.raw.update(fields)

    def values(self) -> dict[str, TickerValue]:
        """Every attribute the ticker holds a value for, typed."""
        return {name: getattr(self, name) for name in TICKER_ATTRS if self.codec.reads[name][0] in self.raw}

    def to_ticker(self) -> Ticker:
        """An eager Ticker copy (unset attributes at their defaults)."""
        return Ticker(symbol=self.symbol, ts=self.ts, **{name: getattr(self, name) for name in TICKER_ATTRS})

    def __repr__(self) -> str:
        return f"LiveTicker({self.symbol!r}, {self.values()!r})"
