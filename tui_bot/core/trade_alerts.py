"""Alerts for what happens to the account: TP/SL/liquidation fills, refused and rejected orders, stops the bot
moved, panic, the account feed falling back to REST polling, and the win-rate guard tripping or recovering."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from tui_bot.core.alert_rules import AlertSettings, Episodes
from tui_bot.core.wr_guard import WrGuardChanged
from tui_bot.domain.alerts import Alert, AlertKind, Severity
from tui_bot.domain.enums import CreateType, ExecType, OrderStatus, StopOrderType
from tui_bot.domain.events import (
    ExecutionReceived,
    OrderRejected,
    OrderUpdated,
    PanicStarted,
    ProtectionActed,
    StreamMode,
    StreamModeChanged,
)
from tui_bot.domain.models import Execution, Order
from tui_bot.domain.numbers import plain

ORDERS_REMEMBERED = 1000
"""Orders whose fill or rejection was alerted, kept so a partly filled TP alerts once (the oldest forgotten first)."""

_TAKE_PROFIT = frozenset(
    {
        StopOrderType.TAKE_PROFIT,
        StopOrderType.PARTIAL_TAKE_PROFIT,
        CreateType.BY_TAKE_PROFIT,
        CreateType.BY_PARTIAL_TAKE_PROFIT,
    }
)
_TRAILING = frozenset({StopOrderType.TRAILING_STOP, CreateType.BY_TRAILING_STOP})
_STOP_LOSS = frozenset(
    {StopOrderType.STOP_LOSS, StopOrderType.PARTIAL_STOP_LOSS, CreateType.BY_STOP_LOSS, CreateType.BY_PARTIAL_STOP_LOSS}
)


def _signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + plain(value)


def fill_alert(execution: Execution) -> Alert | None:
    """The alert a fill deserves: take profit, stop loss, trailing stop, liquidation or ADL; None for others."""
    e = execution
    tags = {e.stop_order_type, e.create_type}
    if e.exec_type is ExecType.BUST_TRADE or e.create_type is CreateType.BY_LIQ:
        kind, severity, what = AlertKind.LIQUIDATION, Severity.CRITICAL, "liquidated"
    elif e.exec_type is ExecType.ADL_TRADE:
        kind, severity, what = AlertKind.LIQUIDATION, Severity.CRITICAL, "auto-deleveraged"
    elif e.exec_type is not ExecType.TRADE:
        return None
    elif tags & _TAKE_PROFIT:
        kind, severity, what = AlertKind.TAKE_PROFIT, Severity.INFO, "take profit filled"
    elif tags & _TRAILING:
        kind, severity, what = AlertKind.STOP_LOSS, Severity.WARNING, "trailing stop filled"
    elif tags & _STOP_LOSS:
        kind, severity, what = AlertKind.STOP_LOSS, Severity.WARNING, "stop loss filled"
    else:
        return None
    pnl = f", gross PnL {_signed(e.exec_pnl)} USDT" if e.closed_size else ""
    text = f"{e.symbol} {what}: {e.side.value} {plain(e.exec_qty)} @ {plain(e.exec_price)}{pnl}"
    return Alert(e.exec_time, severity, kind, e.symbol, text)


def rejected_alert(order: Order, now_ms: int) -> Alert:
    """An order the exchange accepted, then rejected (e.g. a post-only order that would have taken liquidity)."""
    price = f" @ {plain(order.price)}" if order.price else ""
    text = (
        f"{order.symbol} {order.side.value} {order.order_type.value} {plain(order.qty)}{price} rejected by the "
        f"exchange ({order.reject_reason.value})"
    )
    return Alert(order.updated_time or now_ms, Severity.WARNING, AlertKind.ORDER_REJECTED, order.symbol, text)


class TradeAlerts:
    """Turns the bus's trading events into alerts: a fill or rejection once per order, a moved stop at most once
    per symbol every stop_moved_every_s, the feed mode as an episode."""

    def __init__(self, settings: AlertSettings, episodes: Episodes) -> None:
        self.settings = settings
        self.episodes = episodes
        self._alerted: OrderedDict[str, None] = OrderedDict()
        self._stop_moved_ms: dict[str, int] = {}

    def on_item(self, item: object, now_ms: int) -> Alert | None:
        """The alert one bus item raises, if any."""
        if isinstance(item, ExecutionReceived):
            return self._once(item.execution.order_id, fill_alert(item.execution))
        if isinstance(item, OrderUpdated) and item.order.status is OrderStatus.REJECTED:
            return self._once(item.order.order_id, rejected_alert(item.order, now_ms))
        if isinstance(item, OrderRejected):
            text = f"{item.symbol} {item.side.value} {plain(item.qty)} refused: {item.message}"
            return Alert(now_ms, Severity.WARNING, AlertKind.ORDER_REJECTED, item.symbol, text)
        if isinstance(item, ProtectionActed):
            return self._stop_moved(item, now_ms)
        if isinstance(item, PanicStarted):
            text = f"panic: cancelling {item.orders} orders and closing {item.positions} positions at market"
            return Alert(now_ms, Severity.CRITICAL, AlertKind.PANIC, "", text)
        if isinstance(item, WrGuardChanged):
            severity = Severity.WARNING if item.tripped else None
            return self.episodes.update(AlertKind.WR_GUARD, item.strategy, severity, item.text, now_ms, item.text)
        if isinstance(item, StreamModeChanged):
            polling = Severity.WARNING if item.mode is StreamMode.POLL else None
            return self.episodes.update(
                AlertKind.STREAM_MODE,
                "account",
                polling,
                f"account feed polling REST ({item.reason})",
                now_ms,
                f"account feed streaming again ({item.reason})",
            )
        return None

    def _once(self, order_id: str, alert: Alert | None) -> Alert | None:
        """alert, unless one was raised for this order already (an order without an id always alerts)."""
        if alert is None or not order_id:
            return alert
        if order_id in self._alerted:
            return None
        self._alerted[order_id] = None
        if len(self._alerted) > ORDERS_REMEMBERED:
            self._alerted.popitem(last=False)
        return alert

    def _stop_moved(self, item: ProtectionActed, now_ms: int) -> Alert | None:
        last = self._stop_moved_ms.get(item.symbol)
        if last is not None and now_ms - last < self.settings.stop_moved_every_s * 1000:
            return None
        self._stop_moved_ms[item.symbol] = now_ms
        return Alert(
            now_ms, Severity.INFO, AlertKind.STOP_MOVED, item.symbol, f"{item.symbol} {item.action}: {item.detail}"
        )
