"""How live state is spelled in Redis: a bot's position hash, account values as JSON, fills as stream fields."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import ConfigDict, TypeAdapter, with_config

from tui_bot.domain.enums import Side
from tui_bot.domain.market import DayPnl
from tui_bot.domain.models import Execution, Order, Position, Wallet

POSITION_JSON = TypeAdapter(Position)
ORDER_JSON = TypeAdapter(Order)
WALLET_JSON = TypeAdapter(Wallet)
EXECUTION_JSON = TypeAdapter(Execution)


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class DayPnlValue:
    """The value of ACCOUNT_DAY_PNL: {"day": {day_start_ms, net, gross, fees, funding, as_of_ms, pending}, "v": 1}."""

    day: DayPnl
    v: Literal[1] = 1


DAY_PNL_JSON = TypeAdapter(DayPnlValue)


@dataclass(frozen=True, slots=True)
class LivePosition:
    """One bot's position in one symbol as the listener published it (exchange seq and time)."""

    bot: str
    symbol: str
    side: Side
    size: Decimal
    entry: Decimal
    mark: Decimal
    upnl: Decimal
    seq: int
    time_ms: int

    def fields(self) -> dict[str, str]:
        """The hash `{bot}:position:{symbol}` holds (every field, so one HSET replaces the whole value)."""
        return {
            "side": self.side.value,
            "size": str(self.size),
            "entry": str(self.entry),
            "mark": str(self.mark),
            "upnl": str(self.upnl),
            "seq": str(self.seq),
            "time_ms": str(self.time_ms),
        }

    @classmethod
    def of(cls, bot: str, pos: Position) -> LivePosition:
        """The live value of an open position (side set) held by bot."""
        assert pos.side is not None, "a flat position has no live value"
        return cls(
            bot,
            pos.symbol,
            pos.side,
            pos.size,
            pos.entry_price,
            pos.mark_price,
            pos.unrealised_pnl,
            pos.seq,
            pos.updated_time,
        )

    @classmethod
    def parse(cls, bot: str, symbol: str, fields: dict[str, str]) -> LivePosition:
        """The value of a position hash read back (str keys and values); ValueError/KeyError when malformed."""
        return cls(
            bot,
            symbol,
            Side(fields["side"]),
            Decimal(fields["size"]),
            Decimal(fields["entry"]),
            Decimal(fields["mark"]),
            Decimal(fields["upnl"]),
            int(fields["seq"]),
            int(fields["time_ms"]),
        )


def position_json(pos: Position) -> str:
    return POSITION_JSON.dump_json(pos).decode()


def order_json(order: Order) -> str:
    return ORDER_JSON.dump_json(order).decode()


def wallet_json(wallet: Wallet) -> str:
    return WALLET_JSON.dump_json(wallet).decode()


def day_pnl_json(day: DayPnl) -> str:
    return DAY_PNL_JSON.dump_json(DayPnlValue(day)).decode()


def parse_day_pnl(raw: str | bytes) -> DayPnl:
    """The day figure of an ACCOUNT_DAY_PNL value; ValueError when malformed or of another version."""
    return DAY_PNL_JSON.validate_json(raw).day


def fill_fields(bot: str, execution: Execution) -> dict[str, str]:
    """One fills-stream entry: the exec id and bot beside the whole execution as JSON."""
    return {"exec_id": execution.exec_id, "bot": bot, "execution": EXECUTION_JSON.dump_json(execution).decode()}
