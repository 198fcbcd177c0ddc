"""Open orders (plain, conditional and the exchange's own TP/SL), one row per order id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from tui_bot.domain.enums import OrderStatus, Side
from tui_bot.domain.models import Instrument, Order
from tui_bot.ui import format as fmt
from tui_bot.ui.widgets.cells import LiveTable


class OrdersTable(LiveTable):
    """Open orders keyed by order id; the Kind column names TP / SL / Trailing / Stop orders."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("symbol", "Symbol"),
        ("side", "Side"),
        ("type", "Type"),
        ("qty", "Qty"),
        ("price", "Price"),
        ("trigger", "Trigger"),
        ("reduce", "Reduce"),
        ("status", "Status"),
        ("kind", "Kind"),
        ("id", "Id"),
    )

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._orders: dict[str, Order] = {}

    @property
    def selected_order_id(self) -> str | None:
        """Order id of the row under the cursor."""
        return self.selected_key

    @property
    def selected_order(self) -> Order | None:
        """The order under the cursor, as last applied."""
        key = self.selected_key
        return self._orders.get(key) if key is not None else None

    def apply_orders(self, open_orders: dict[str, Order], instruments: Mapping[str, Instrument]) -> None:
        """Reconcile rows with the open orders: add new, update changed cells, drop closed ones."""
        self.ensure_columns()
        selected = self.selected_key
        self._orders = {oid: o for oid, o in open_orders.items() if o.status.is_open}
        for order_id, order in self._orders.items():
            self.set_row(order_id, self._row(order, instruments.get(order.symbol)))
        self.prune(self._orders)
        self.restore_cursor(selected)

    def _row(self, order: Order, inst: Instrument | None) -> dict[str, object]:
        """All cells of one order."""
        leaves = order.qty - order.cum_exec_qty
        qty = fmt.qty(order.qty, inst)
        if order.cum_exec_qty > 0:
            qty = f"{fmt.qty(leaves, inst)}/{qty}"
        status_tone = (
            "warn"
            if order.status is OrderStatus.PARTIALLY_FILLED
            else "muted"
            if order.status is OrderStatus.UNTRIGGERED
            else ""
        )
        return {
            "symbol": order.symbol,
            "side": self.toned(str(order.side), "up" if order.side is Side.BUY else "down"),
            "type": str(order.order_type),
            "qty": qty,
            "price": fmt.price(order.price, inst, unset="Market"),
            "trigger": fmt.price(order.trigger_price, inst, unset=""),
            "reduce": "yes" if order.reduce_only or order.close_on_trigger else "",
            "status": self.toned(str(order.status), status_tone),
            "kind": fmt.stop_kind(order.stop_order_type),
            "id": fmt.short_id(order.order_link_id, order.order_id),
        }
