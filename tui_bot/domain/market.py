"""The market view's values and events: order-book levels and snapshots, the public tape, day PnL, the account summary.

Wire events (`OrderBookReceived`, `PublicTradesReceived`) come from the decoder and reach only the core's market
feed; derived events (`OrderBookChanged`, `TradesChanged`, `DayPnlChanged`, `WatchlistChanged`) go on the bus,
each carrying an immutable snapshot, so a subscriber that takes only the latest one per symbol misses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_bot.domain.events import Event
from tui_bot.domain.models import PublicTrade


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level of an order book; in a delta, size zero deletes the level."""

    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """The best levels of one side each (bids highest first, asks lowest first) as of update_id."""

    symbol: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    update_id: int
    seq: int
    exchange_ts: int

    @property
    def best_bid(self) -> BookLevel | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> BookLevel | None:
        return self.asks[0] if self.asks else None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderBookReceived(Event):
    """One orderbook frame: a snapshot replaces the book, a delta changes the levels it names (size 0: delete).

    update_id counts the topic's frames (each delta is the previous + 1); seq is the venue's cross sequence.
    """

    symbol: str
    depth: int
    snapshot: bool
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    update_id: int
    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicTradesReceived(Event):
    """Trades printed on the public tape, oldest first."""

    symbol: str
    trades: tuple[PublicTrade, ...]


MARKET_FEED = (OrderBookReceived, PublicTradesReceived)
"""Wire events only the market feed reads: never applied to account state, stored or published as they are."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderBookChanged(Event):
    """The symbol's book moved (or was rebuilt): its best levels now."""

    symbol: str
    book: BookSnapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class TradesChanged(Event):
    """New trades printed: the symbol's recent trades now, newest first."""

    symbol: str
    trades: tuple[PublicTrade, ...]


@dataclass(frozen=True, slots=True)
class DayPnl:
    """Realised PnL since day_start_ms (00:00 UTC), from the exchange's transaction log.

    net = gross - fees + funding. `pending` counts fills seen on the stream that the log did not list yet;
    they are included provisionally until it does.
    """

    day_start_ms: int
    net: Decimal
    gross: Decimal
    fees: Decimal
    funding: Decimal
    as_of_ms: int
    pending: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DayPnlChanged(Event):
    day: DayPnl


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """The header's figures at the current marks: equity = wallet balance + the positions' uPnL at their marks.

    available moves with uPnL as the exchange's own does (margin balance less initial margin).
    """

    wallet_balance: Decimal
    unrealised_pnl: Decimal
    equity: Decimal
    available: Decimal
    initial_margin: Decimal
    positions: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchlistChanged(Event):
    """The watchlist now, in the trader's order."""

    symbols: tuple[str, ...]
