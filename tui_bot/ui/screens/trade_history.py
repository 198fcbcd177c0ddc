"""Trade history: closed trades with net PnL after both fees, R and close reason, and the PnL of each UTC day."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui_bot.core.history import ClosedTrade, DayResult, TradeHistory
from tui_bot.domain.enums import Side
from tui_bot.domain.models import Instrument
from tui_bot.ui import format as fmt
from tui_bot.ui.screens import stats_screen
from tui_bot.ui.screens._history import HistoryScreen, utc_stamp
from tui_bot.ui.widgets.cells import LiveTable

EMPTY = (
    "No closed trades yet. A trade is listed here once its position is flat again (TP, SL, x or a reducing "
    "order); the history is kept in the database across restarts."
)


NARROW_DROPS: tuple[tuple[int, frozenset[str]], ...] = (
    (100, frozenset({"held", "qty", "fees", "opened"})),
    (136, frozenset({"opened"})),
)
"""Below each width, the closed trades' columns left out (least needed first), so entry and exit always show."""


def dropped_columns(width: int) -> frozenset[str]:
    """The closed trades' columns a screen `width` wide leaves out."""
    return next((dropped for below, dropped in NARROW_DROPS if width < below), frozenset())


def r_text(value: Decimal | None) -> str:
    """An R multiple with its sign ('+1.50R'); blank when the initial risk is not known."""
    return "" if value is None else stats_screen.r_text(value)


class ClosedTradesTable(LiveTable):
    """One row per closed trade, newest close first; net PnL and R in the PnL tones."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("closed", "Closed UTC"),
        ("symbol", "Symbol"),
        ("side", "Side"),
        ("net", "Net PnL"),
        ("r", "R"),
        ("entry", "Entry"),
        ("exit", "Exit"),
        ("reason", "Reason"),
        ("held", "Held"),
        ("qty", "Qty"),
        ("fees", "Fees"),
        ("opened", "Opened UTC"),
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.dropped: frozenset[str] = frozenset()

    def ensure_columns(self) -> None:
        """The declared columns but those this width drops."""
        if not self.columns:
            for key, label in self.COLUMNS:
                if key not in self.dropped:
                    self.add_column(label, key=key)

    def fit(self, width: int) -> bool:
        """Drop the columns a screen this wide has no room for; True when the columns changed (rows to redraw)."""
        dropped = dropped_columns(width)
        if dropped == self.dropped:
            return False
        self.dropped = dropped
        self.clear(columns=True)
        self.ensure_columns()
        return True

    def show(self, trades: tuple[ClosedTrade, ...], instruments: Mapping[str, Instrument]) -> None:
        """Replace the rows with these trades."""
        self.clear()
        for n, trade in enumerate(trades):
            self.set_row(f"t{n}", self._row(trade, instruments.get(trade.symbol)))

    def _row(self, t: ClosedTrade, inst: Instrument | None) -> dict[str, object]:
        return {
            "closed": utc_stamp(t.closed_ms),
            "symbol": t.symbol,
            "side": self.toned(fmt.side_label(t.side), "up" if t.side is Side.BUY else "down"),
            "net": self.toned(fmt.signed_money(t.net_pnl), fmt.tone(t.net_pnl)),
            "r": self.toned(r_text(t.r), fmt.tone(t.r)),
            "reason": fmt.close_reason(t.reason),
            "qty": fmt.qty(t.qty, inst),
            "entry": fmt.price(t.entry_price, inst),
            "exit": fmt.price(t.exit_price, inst),
            "fees": fmt.fee(t.fees),
            "opened": utc_stamp(t.opened_ms),
            "held": fmt.age(t.duration_ms),
        }


class DaysTable(LiveTable):
    """Closed trades by the UTC day they closed: count, wins and net PnL, newest day first."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("day", "Day (UTC)"),
        ("count", "Trades"),
        ("wins", "Wins"),
        ("net", "Net PnL"),
    )

    def show(self, days: tuple[DayResult, ...]) -> None:
        """Replace the rows with these days."""
        self.clear()
        for day in days:
            net = self.toned(fmt.signed_money(day.net_pnl), fmt.tone(day.net_pnl))
            self.set_row(day.day, {"day": day.day, "count": str(day.count), "wins": str(day.wins), "net": net})


class TradeHistoryScreen(HistoryScreen[TradeHistory]):
    """Closed trades (as stored, so the same after a restart) and PnL by UTC day."""

    TITLE = "Trade history"
    HINT = "Net PnL: after both fees (and funding) · r reloads · Esc closes"

    def __init__(self, load: Callable[[], Awaitable[TradeHistory]], instruments: Mapping[str, Instrument]) -> None:
        super().__init__(load)
        self.instruments = instruments

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="history-body"):
            yield Static("Loading…", id="history-empty", classes="history-empty", markup=False)
            yield ClosedTradesTable(id="closed-trades")
            yield Static("PnL by day (UTC)", classes="history-heading")
            yield DaysTable(id="days")

    def show(self, loaded: TradeHistory) -> None:
        empty = self.query_one("#history-empty", Static)
        empty.update(EMPTY)
        empty.display = not loaded.trades
        trades = self.query_one(ClosedTradesTable)
        trades.fit(self.app.size.width)
        trades.show(loaded.trades, self.instruments)
        self.query_one(DaysTable).show(loaded.days)
        trades.focus()

    def on_resize(self, event: events.Resize) -> None:
        """Fit the closed trades' columns to the new width and draw the rows again."""
        if self.query_one(ClosedTradesTable).fit(event.size.width) and self.loaded is not None:
            self.show(self.loaded)
