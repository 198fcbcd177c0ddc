"""Pure text formatting for the console: prices, quantities, money, PnL, ages and state dots."""

from __future__ import annotations

import time
from decimal import ROUND_HALF_UP, Decimal

from tui_bot.domain.enums import CreateType, ExecType, Side, StopOrderType
from tui_bot.domain.events import ConnectionState
from tui_bot.domain.models import Execution, Instrument
from tui_bot.domain.numbers import places_of
from tui_bot.domain.order_ids import OrderReason, parse_order_id

DASH = "—"
ZERO = Decimal(0)

STATE_DOTS: dict[ConnectionState, str] = {
    ConnectionState.LIVE: "●",
    ConnectionState.CONNECTING: "◐",
    ConnectionState.RECONNECTING: "◐",
    ConnectionState.STALE: "◍",
    ConnectionState.DOWN: "○",
    ConnectionState.STOPPED: "○",
}

STOP_KINDS: dict[StopOrderType, str] = {
    StopOrderType.NONE: "",
    StopOrderType.TAKE_PROFIT: "TP",
    StopOrderType.PARTIAL_TAKE_PROFIT: "TP",
    StopOrderType.STOP_LOSS: "SL",
    StopOrderType.PARTIAL_STOP_LOSS: "SL",
    StopOrderType.TRAILING_STOP: "Trailing",
    StopOrderType.STOP: "Stop",
}

CREATE_REASONS: dict[CreateType, str] = {
    CreateType.BY_TAKE_PROFIT: "TP",
    CreateType.BY_PARTIAL_TAKE_PROFIT: "TP",
    CreateType.BY_STOP_LOSS: "SL",
    CreateType.BY_PARTIAL_STOP_LOSS: "SL",
    CreateType.BY_TRAILING_STOP: "Trailing",
    CreateType.BY_STOP_ORDER: "Stop",
    CreateType.BY_LIQ: "Liquidation",
    CreateType.BY_CLOSING: "Close",
}

REASON_LABELS: dict[OrderReason, str] = {
    OrderReason.ENTRY: "Entry",
    OrderReason.SCALE_IN: "Scale-in",
    OrderReason.MANUAL_ENTRY: "Manual entry",
    OrderReason.TAKE_PROFIT: "TP",
    OrderReason.STOP_LOSS: "SL",
    OrderReason.TRAILING_STOP: "Trailing",
    OrderReason.TIGHTEN: "Tighten",
    OrderReason.TIME_EXIT: "Time exit",
    OrderReason.RISK_LIMIT: "Risk limit",
    OrderReason.MANUAL_EXIT: "Manual exit",
    OrderReason.PANIC: "Panic",
    OrderReason.REPLACEMENT: "Replace",
}
ENTRY_REASONS = frozenset({OrderReason.ENTRY, OrderReason.SCALE_IN, OrderReason.MANUAL_ENTRY})
"""Reasons of orders sent to open or add; one that reduced a position instead (a ticket sell on a long) is an exit."""

EXIT_LABELS: dict[str, str] = {
    "liquidation": "Liquidation",
    "adl": "ADL",
    "external": "External",
    "reconciled": "Reconciled",
    "reconciled_partial": "Reconciled (part)",
    "unknown": "Unknown",
}
"""Stored exit reasons that are not one of our order reasons (see store/trades.py exit_reason)."""


def _fixed(value: Decimal, places: int, *, commas: bool = False) -> str:
    """value rounded half-up to places, without exponent, '-0' shown as '0'."""
    quantum = Decimal(1).scaleb(-places)
    text = f"{value.quantize(quantum, rounding=ROUND_HALF_UP):{',' if commas else ''}.{places}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def price(value: Decimal | None, instrument: Instrument | None = None, *, unset: str = DASH) -> str:
    """A price at the instrument's tick precision; unset (None or 0) shows as a dash."""
    if value is None or value == 0:
        return unset
    if instrument is None:
        return _plain(value)
    return _fixed(value, places_of(instrument.tick_size))


def qty(value: Decimal, instrument: Instrument | None = None) -> str:
    """A quantity at the instrument's qty-step precision."""
    if instrument is None:
        return _plain(value)
    return _fixed(value, places_of(instrument.qty_step))


def money(value: Decimal | None) -> str:
    """An amount in 2 decimal places with thousands separators; None shows as a dash."""
    return DASH if value is None else _fixed(value, 2, commas=True)


def fee(value: Decimal) -> str:
    """A fee in 4 decimal places (fees are often fractions of a cent)."""
    return _fixed(value, 4)


def signed_money(value: Decimal | None) -> str:
    """A PnL amount with an explicit sign ('+12.30', '-4.00', '0.00')."""
    if value is None:
        return DASH
    text = _fixed(value, 2, commas=True)
    return text if text.startswith("-") or text.strip("0.,") == "" else f"+{text}"


def percent(value: Decimal | None) -> str:
    """A signed percentage in 2 decimal places ('+1.25%')."""
    if value is None:
        return DASH
    text = _fixed(value, 2)
    return f"{text}%" if text.startswith("-") or text.strip("0.") == "" else f"+{text}%"


def tone(value: Decimal | float | None) -> str:
    """'up', 'down' or '' (flat or unknown), for choosing a PnL style."""
    if value is None or value == 0:
        return ""
    return "up" if value > 0 else "down"


def age(ms: float | None) -> str:
    """A compact age: '850ms' under a second, then '3s', '2m', '1h', '4d'; a dash when unknown."""
    if ms is None or ms < 0:
        return DASH
    if ms < 1000:
        return f"{int(ms)}ms"
    seconds = int(ms // 1000)
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def age_since(start_ms: int, now_ms: int) -> str:
    """Age of something that started at start_ms (0 = unknown)."""
    return age(now_ms - start_ms) if start_ms > 0 else DASH


def millis(value: float) -> str:
    """A latency in ms: one decimal under 10 ms, whole ms above."""
    return f"{value:.1f}ms" if value < 10 else f"{value:.0f}ms"


def millis_pair(low: float, high: float) -> str:
    """Two latencies sharing one unit, e.g. p50/p99 as '3.2/18ms'."""
    return f"{millis(low)[:-2]}/{millis(high)}"


def per_second(value: float) -> str:
    """A rate per second."""
    return f"{value:.0f}/s" if value >= 10 or value == int(value) else f"{value:.1f}/s"


def state_dot(state: ConnectionState) -> str:
    """The dot drawn before a connection's state."""
    return STATE_DOTS.get(state, "?")


def count_of(n: int, noun: str) -> str:
    """'1 order', '2 orders', '0 orders'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


HELD_SYMBOLS_SHOWN = 4
"""Symbols whose HOLD reasons a cycle report names (the rest counted)."""


def held_reasons_text(held: dict[str, tuple[str, ...]]) -> str:
    """'Held: BTCUSDT (ema_trend: EMAs are level; ...), ETHUSDT (...) and 2 more symbols'; '' when nothing held."""
    if not held:
        return ""
    named = [f"{symbol} ({'; '.join(reasons)})" for symbol, reasons in list(held.items())[:HELD_SYMBOLS_SHOWN]]
    rest = len(held) - HELD_SYMBOLS_SHOWN
    return "Held: " + ", ".join(named) + (f" and {count_of(rest, 'more symbol')}" if rest > 0 else "")


def clock(ms: int) -> str:
    """Local wall time HH:MM:SS of an epoch-ms timestamp."""
    return time.strftime("%H:%M:%S", time.localtime(ms / 1000))


def side_label(side: Side | None) -> str:
    """'Long'/'Short' for a position side."""
    if side is None:
        return DASH
    return "Long" if side is Side.BUY else "Short"


def r_multiple(side: Side | None, entry: Decimal, mark: Decimal, stop: Decimal) -> str:
    """Open profit in units of initial risk: (mark-entry)*sign / |entry-stop|; a dash without a stop."""
    if side is None or stop <= 0 or entry <= 0 or mark <= 0 or entry == stop:
        return DASH
    r = (mark - entry) * side.sign / abs(entry - stop)
    text = _fixed(r, 2)
    return f"{text}R" if text.startswith("-") or text.strip("0.") == "" else f"+{text}R"


def short_id(order_link_id: str, order_id: str, width: int = 16) -> str:
    """The client id when there is one (middle-elided to width), else the first 8 chars of the order id."""
    if order_link_id:
        if len(order_link_id) <= width:
            return order_link_id
        head = (width - 1) // 2
        return f"{order_link_id[:head]}…{order_link_id[-(width - 1 - head) :]}"
    return order_id[:8]


def stop_kind(stop_order_type: StopOrderType) -> str:
    """Short label of a conditional order's kind ('' for plain orders)."""
    return STOP_KINDS.get(stop_order_type, str(stop_order_type))


def fill_reason(execution: Execution) -> str:
    """Why a fill happened: our id's reason, else the exchange's TP/SL/trailing/liquidation origin."""
    if execution.exec_type is ExecType.FUNDING:
        return "Funding"
    if execution.exec_type is ExecType.ADL_TRADE:
        return "ADL"
    if execution.exec_type is ExecType.BUST_TRADE:
        return "Liquidation"
    parsed = parse_order_id(execution.order_link_id) if execution.order_link_id else None
    if parsed is not None:
        return reason_label(parsed.reason, closing=execution.closed_size > 0)
    if execution.create_type in CREATE_REASONS:
        return CREATE_REASONS[execution.create_type]
    kind = stop_kind(execution.stop_order_type)
    if kind:
        return kind
    return "External" if execution.order_link_id else "Manual"


def reason_label(reason: OrderReason, *, closing: bool) -> str:
    """Our id's reason as the trader reads it; an entry order's fill that closed (part of) a position is an exit."""
    if closing and reason in ENTRY_REASONS:
        return REASON_LABELS[OrderReason.MANUAL_EXIT] if reason is OrderReason.MANUAL_ENTRY else "Exit"
    return REASON_LABELS.get(reason, reason.name.title())


def close_reason(stored: str) -> str:
    """A trade's stored exit reason ('take_profit', 'manual_entry', 'liquidation' …) as a label ('TP', …)."""
    try:
        reason = OrderReason[stored.upper()]
    except KeyError:
        return EXIT_LABELS.get(stored, stored.replace("_", " ").capitalize())
    return reason_label(reason, closing=True)


def gross_pnl(execution: Execution) -> Decimal | None:
    """Gross PnL a closing fill realised (the exchange's execPnl, before any fee); funding's cash flow; None for
    opening fills. Net of both fees is the closed trade's PnL (trade history)."""
    if execution.exec_type is ExecType.FUNDING:
        return -execution.exec_fee
    if execution.closed_size <= 0:
        return None
    return execution.exec_pnl
