"""One unified account: balance, positions, orders, fills and the margin arithmetic over them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from tui_bot.domain.enums import Side
from tui_bot.domain.models import ClosedPnl, Execution, Instrument, Wallet, WalletCoin
from tui_bot.domain.numbers import ZERO, round_to_step
from tui_bot.sim.records import SimOrder, SimPosition
from tui_bot.sim.transaction_log import LogEntry, funding_entry, trade_entry

TAKER_FEE = Decimal("0.00055")
MAKER_FEE = Decimal("0.0002")
DEFAULT_LEVERAGE = Decimal(10)
_USD = Decimal("0.00000001")


@dataclass(slots=True)
class FillResult:
    """What one fill did to a position: the closed part, its gross PnL, and the open fee released."""

    closed_size: Decimal
    gross_pnl: Decimal
    open_fee_released: Decimal


@dataclass
class Account:
    """State of one API key's unified account."""

    api_key: str
    api_secret: str
    wallet_balance: Decimal
    positions: dict[str, SimPosition] = field(default_factory=dict)
    orders: dict[str, SimOrder] = field(default_factory=dict)
    link_ids: dict[str, str] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    closed_pnls: list[ClosedPnl] = field(default_factory=list)
    open_fees: dict[str, Decimal] = field(default_factory=dict)
    cum_realised_pnl: Decimal = ZERO
    seq: int = 0
    created_time: int = 0
    transactions: list[LogEntry] = field(default_factory=list)

    @property
    def uid(self) -> int:
        """The account's 8-digit user id, stable for its API key."""
        return 10_000_000 + int(hashlib.sha256(self.api_key.encode()).hexdigest()[:12], 16) % 90_000_000

    def log_trade(self, execution: Execution) -> None:
        """Record a fill's TRADE row once the fill is booked."""
        self.transactions.append(trade_entry(self.uid, execution, self.position(execution.symbol), self.wallet_balance))

    def log_funding(self, execution: Execution) -> None:
        """Record a funding execution's SETTLEMENT row once it is booked."""
        self.transactions.append(
            funding_entry(self.uid, execution, self.position(execution.symbol), self.wallet_balance)
        )

    def position(self, symbol: str) -> SimPosition:
        """The account's position in symbol (created flat on first use)."""
        pos = self.positions.get(symbol)
        if pos is None:
            pos = SimPosition(symbol=symbol, leverage=DEFAULT_LEVERAGE)
            self.positions[symbol] = pos
        return pos

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def open_orders(self, symbol: str | None = None) -> list[SimOrder]:
        """Open orders (newest first), optionally of one symbol."""
        found = [o for o in self.orders.values() if o.status.is_open and (symbol is None or o.symbol == symbol)]
        return sorted(found, key=lambda o: (o.created_time, o.order_id), reverse=True)

    def apply_fill(
        self, pos: SimPosition, side: Side, qty: Decimal, price: Decimal, fee: Decimal, now: int
    ) -> FillResult:
        """Update position and balance for one fill; returns the closed size and gross PnL."""
        closed = ZERO
        gross = ZERO
        released = ZERO
        if pos.side is not None and pos.side is not side and pos.size > 0:
            closed = min(qty, pos.size)
            gross = (price - pos.entry_price) * closed * pos.side.sign
            open_fee = self.open_fees.get(pos.symbol, ZERO)
            released = open_fee * closed / pos.size
            self.open_fees[pos.symbol] = open_fee - released
            pos.size -= closed
            if pos.size == 0:
                pos.side = None
                pos.entry_price = ZERO
                pos.open_time = 0
                self.open_fees[pos.symbol] = ZERO
        opening = qty - closed
        if opening > 0:
            if pos.side is None:
                pos.side = side
                pos.entry_price = price
                pos.size = opening
                pos.open_time = now
                pos.created_time = pos.created_time or now
            else:
                pos.entry_price = (pos.entry_price * pos.size + price * opening) / (pos.size + opening)
                pos.size += opening
            self.open_fees[pos.symbol] = self.open_fees.get(pos.symbol, ZERO) + fee * opening / qty
        realised = gross - fee
        pos.cur_realised_pnl += realised
        pos.cum_realised_pnl += realised
        self.cum_realised_pnl += realised
        self.wallet_balance += realised
        pos.updated_time = now
        return FillResult(closed, gross, released)

    def order_margin(self, order: SimOrder, instrument: Instrument) -> Decimal:
        """Initial margin an open, non-reduce-only order holds."""
        if order.reduce_only or order.is_conditional or not order.status.is_open:
            return ZERO
        lev = self.position(order.symbol).leverage
        value = order.leaves_qty * order.price
        return value / lev + value * TAKER_FEE

    def position_margins(self, pos: SimPosition, instrument: Instrument) -> tuple[Decimal, Decimal]:
        """(initial margin, maintenance margin) of a position, each with a closing-fee estimate."""
        if pos.size == 0:
            return ZERO, ZERO
        value = pos.size * (pos.mark_price or pos.entry_price)
        close_fee = value * TAKER_FEE
        return value / pos.leverage + close_fee, value * instrument.maintenance_margin_rate + close_fee

    def refresh(self, instruments: dict[str, Instrument]) -> Wallet:
        """Recompute every position's margins and liquidation price, and return the wallet."""
        upl = sum((p.unrealised_pnl for p in self.positions.values()), ZERO)
        position_im = ZERO
        position_mm = ZERO
        for pos in self.positions.values():
            pos.position_im, pos.position_mm = self.position_margins(pos, instruments[pos.symbol])
            position_im += pos.position_im
            position_mm += pos.position_mm
        order_im = sum((self.order_margin(o, instruments[o.symbol]) for o in self.open_orders()), ZERO)
        equity = self.wallet_balance + upl
        for pos in self.positions.values():
            pos.liq_price = self._liq_price(pos, equity, position_mm, instruments[pos.symbol])
        available = equity - position_im - order_im
        coin = WalletCoin(
            coin="USDT",
            wallet_balance=self.wallet_balance,
            equity=equity,
            unrealised_pnl=upl,
            cum_realised_pnl=self.cum_realised_pnl,
            total_order_im=order_im,
            total_position_im=position_im,
            total_position_mm=position_mm,
        )
        return Wallet(
            total_equity=equity,
            total_wallet_balance=self.wallet_balance,
            total_margin_balance=equity,
            total_available_balance=max(available, ZERO),
            total_perp_upl=upl,
            total_initial_margin=position_im + order_im,
            total_maintenance_margin=position_mm,
            coins=(coin,),
        )

    def available_balance(self, instruments: dict[str, Instrument]) -> Decimal:
        return self.refresh(instruments).total_available_balance

    @staticmethod
    def _liq_price(pos: SimPosition, equity: Decimal, total_mm: Decimal, instrument: Instrument) -> Decimal | None:
        """Cross-margin estimate: the mark at which equity falls to maintenance margin."""
        if pos.size == 0 or pos.side is None:
            return None
        mark = pos.mark_price or pos.entry_price
        cushion = (equity - total_mm) / pos.size
        liq = mark - cushion * pos.side.sign
        if liq <= instrument.min_price or liq > instrument.max_price:
            return None
        return round_to_step(liq, instrument.tick_size)
