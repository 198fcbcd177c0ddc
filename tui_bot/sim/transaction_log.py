"""The unified account's transaction log: one entry per trade fill and per funding settlement."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_bot.domain.enums import Side
from tui_bot.domain.models import Execution
from tui_bot.domain.numbers import ZERO
from tui_bot.sim.records import SimPosition

TRADE = "TRADE"
SETTLEMENT = "SETTLEMENT"
SETTLE_COIN = "USDT"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One transaction-log row as Bybit reports it for a USDT perpetual.

    funding is None on a TRADE row (Bybit sends ""); positive funding is received. fee is an
    expense when positive. cash_flow is the realised (gross) PnL a closing fill books.
    """

    entry_id: str
    symbol: str
    side: Side
    kind: str
    time: int
    qty: Decimal
    size: Decimal
    price: Decimal
    funding: Decimal | None
    fee: Decimal
    fee_rate: Decimal
    cash_flow: Decimal
    cash_balance: Decimal
    trade_id: str
    order_id: str
    order_link_id: str
    currency: str = SETTLE_COIN

    @property
    def change(self) -> Decimal:
        """What the row did to the wallet: cashFlow + funding - fee."""
        return self.cash_flow + (self.funding or ZERO) - self.fee


def _signed_size(pos: SimPosition) -> Decimal:
    """The position size after the event, negative for a short."""
    return ZERO if pos.side is None else pos.size * pos.side.sign


def trade_entry(uid: int, execution: Execution, pos: SimPosition, balance: Decimal) -> LogEntry:
    """The TRADE row of one fill: its fee, the PnL it realised, the position and balance after it."""
    return LogEntry(
        entry_id=f"{uid}_{execution.symbol}_{execution.seq}",
        symbol=execution.symbol,
        side=execution.side,
        kind=TRADE,
        time=execution.exec_time,
        qty=execution.exec_qty,
        size=_signed_size(pos),
        price=execution.exec_price,
        funding=None,
        fee=execution.exec_fee,
        fee_rate=execution.fee_rate,
        cash_flow=execution.exec_pnl,
        cash_balance=balance,
        trade_id=execution.exec_id,
        order_id=execution.order_id,
        order_link_id=execution.order_link_id,
    )


def funding_entry(uid: int, execution: Execution, pos: SimPosition, balance: Decimal) -> LogEntry:
    """The SETTLEMENT row of one funding charge (execFee paid) at the mark price.

    Bybit's feeRate here is the funding rate, negated for a short.
    """
    return LogEntry(
        entry_id=f"{uid}_{execution.symbol}_{execution.seq}",
        symbol=execution.symbol,
        side=execution.side,
        kind=SETTLEMENT,
        time=execution.exec_time,
        qty=execution.exec_qty,
        size=_signed_size(pos),
        price=execution.exec_price,
        funding=-execution.exec_fee,
        fee=ZERO,
        fee_rate=execution.fee_rate * execution.side.sign,
        cash_flow=ZERO,
        cash_balance=balance,
        trade_id=execution.exec_id,
        order_id=execution.order_id,
        order_link_id=execution.order_link_id,
    )
