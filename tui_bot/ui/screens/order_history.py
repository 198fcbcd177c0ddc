"""Order history: every order the account placed or saw, refused ones included, newest first, with a detail line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from tui_bot.core.history import OrderEntry
from tui_bot.domain.enums import Side
from tui_bot.domain.models import Instrument
from tui_bot.ui import format as fmt
from tui_bot.ui.screens._history import HistoryScreen, utc_stamp
from tui_bot.ui.widgets.cells import LiveTable

EMPTY = (
    "No orders yet. Every order you or the bot send is listed here with its outcome (filled, cancelled, or "
    "rejected with the exchange's code), and so are the orders the exchange places for a position's TP/SL."
)
STATUS_TONES = {
    "Filled": "up",
    "Rejected": "down",
    "PartiallyFilled": "warn",
    "Cancelled": "muted",
    "Deactivated": "muted",
    "Untriggered": "muted",
}


def detail_line(entry: OrderEntry, inst: Instrument | None) -> str:
    """Everything about one order that the row has no room for: full ids, fills, trigger, why it ended."""
    parts = [f"orderLinkId {entry.order_link_id or fmt.DASH}", f"order id {entry.order_id or fmt.DASH}"]
    if entry.filled_qty:
        parts.append(f"filled {fmt.qty(entry.filled_qty, inst)} @ {fmt.price(entry.avg_price, inst)}")
    if entry.trigger_price:
        parts.append(f"trigger {fmt.price(entry.trigger_price, inst)}")
    if entry.reduce_only:
        parts.append("reduce-only")
    if entry.code is not None:
        parts.append(f"refused when sent: {entry.detail}")
    elif entry.detail:
        parts.append(entry.detail)
    return " · ".join(parts)


class OrderHistoryTable(LiveTable):
    """One row per order, newest first; the status is toned (filled, rejected, cancelled…)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("time", "Time UTC"),
        ("symbol", "Symbol"),
        ("side", "Side"),
        ("status", "Status"),
        ("type", "Type"),
        ("qty", "Qty"),
        ("price", "Price"),
        ("id", "orderLinkId"),
    )

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.entries: dict[str, OrderEntry] = {}

    @property
    def selected_entry(self) -> OrderEntry | None:
        key = self.selected_key
        return self.entries.get(key) if key is not None else None

    def show(self, entries: tuple[OrderEntry, ...], instruments: Mapping[str, Instrument]) -> None:
        """Replace the rows with these orders (newest first, as given)."""
        self.clear()
        self.entries = {e.key: e for e in entries}
        for entry in entries:
            self.set_row(entry.key, self._row(entry, instruments.get(entry.symbol)))

    def _row(self, e: OrderEntry, inst: Instrument | None) -> dict[str, object]:
        kind = fmt.stop_kind(e.stop_order_type)
        status = f"{e.status} {e.code}" if e.code is not None else e.status
        return {
            "time": utc_stamp(e.time_ms),
            "symbol": e.symbol,
            "side": self.toned(e.side.value, "up" if e.side is Side.BUY else "down"),
            "type": f"{e.order_type.value} {kind}".strip(),
            "qty": fmt.qty(e.qty, inst),
            "price": fmt.price(e.price, inst, unset="Market"),
            "status": self.toned(status, STATUS_TONES.get(e.status, "")),
            "id": fmt.short_id(e.order_link_id, e.order_id, width=20),
        }


class OrderHistoryScreen(HistoryScreen[tuple[OrderEntry, ...]]):
    """The newest orders with a detail line for the cursor row (full ids, fills, trigger, reject code and words)."""

    TITLE = "Order history"
    HINT = "Newest first · the selected order in full below · r reloads · Esc closes"

    def __init__(
        self, load: Callable[[], Awaitable[tuple[OrderEntry, ...]]], instruments: Mapping[str, Instrument]
    ) -> None:
        super().__init__(load)
        self.instruments = instruments

    def compose_body(self) -> ComposeResult:
        yield Static("Loading…", id="history-empty", classes="history-empty", markup=False)
        yield OrderHistoryTable(id="order-history", classes="history-table")
        yield Static("", id="order-detail", classes="history-detail", markup=False)

    def show(self, loaded: tuple[OrderEntry, ...]) -> None:
        empty = self.query_one("#history-empty", Static)
        empty.update(EMPTY)
        empty.display = not loaded
        table = self.query_one(OrderHistoryTable)
        table.show(loaded, self.instruments)
        table.focus()
        self.show_detail()

    def show_detail(self) -> None:
        """The detail line of the order under the cursor."""
        entry = self.query_one(OrderHistoryTable).selected_entry
        text = detail_line(entry, self.instruments.get(entry.symbol)) if entry is not None else ""
        self.query_one("#order-detail", Static).update(text)

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.show_detail()
