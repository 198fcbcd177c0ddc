"""An order the exchange accepted and then refused on its merits (post-only that would take, IOC/FOK that could
not fill), in words a trader reads; the console shows each once."""

from __future__ import annotations

from collections import OrderedDict

from tui_bot.domain.enums import OrderStatus, OrderType, RejectReason
from tui_bot.domain.models import Order
from tui_bot.domain.numbers import plain

_WORDS = {
    RejectReason.POST_ONLY_WILL_TAKE: "post-only order would have taken liquidity, cancelled",
    RejectReason.NO_IMMEDIATE_QTY: "nothing to fill at its price now (IOC), cancelled",
    RejectReason.CANCEL_FOR_NO_FULL_FILL: "could not fill in full at once (FOK), cancelled",
}
_REMEMBERED = 256


def refusal_words(order: Order) -> str | None:
    """'BTCUSDT Buy Limit 0.01 @ 100100: post-only order would have taken liquidity, cancelled (EC_…)', or None
    for an order that was not refused."""
    words = _WORDS.get(order.reject_reason)
    if words is None and order.status is OrderStatus.REJECTED:
        words = "rejected by the exchange"
    if words is None or order.status not in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
        return None
    price = f" @ {plain(order.price)}" if order.order_type is OrderType.LIMIT else ""
    what = f"{order.symbol} {order.side.value} {order.order_type.value} {plain(order.qty)}{price}"
    return f"{what}: {words} ({order.reject_reason.value})"


class Refusals:
    """Remembers which orders were already reported, so a repeated update of one refusal is shown once."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_report(self, order: Order) -> str | None:
        """The refusal's words the first time this order is seen refused; None otherwise."""
        words = refusal_words(order)
        if words is None or order.order_id in self._seen:
            return None
        self._seen[order.order_id] = None
        if len(self._seen) > _REMEMBERED:
            self._seen.popitem(last=False)
        return words
