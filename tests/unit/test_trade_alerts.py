"""Which trading events become alerts, how they read, and that each is raised once."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from tests.store.factories import fill, order
from tui_bot.core.alert_rules import AlertSettings, Episodes
from tui_bot.core.trade_alerts import TradeAlerts, fill_alert
from tui_bot.domain.alerts import Alert, AlertKind, Severity
from tui_bot.domain.enums import (
    CreateType,
    ExecType,
    OrderStatus,
    RejectReason,
    Side,
    StopOrderType,
)
from tui_bot.domain.events import (
    ExecutionReceived,
    OrderRejected,
    OrderUpdated,
    PanicStarted,
    ProtectionActed,
    Source,
    StreamMode,
    StreamModeChanged,
)

NOW = 1_784_712_600_000


def trade_alerts(**settings: float) -> TradeAlerts:
    return TradeAlerts(AlertSettings.model_validate(settings), Episodes())


def received(execution: object, source: Source = Source.STREAM) -> ExecutionReceived:
    return ExecutionReceived(execution=execution, source=source, exchange_ts=0, received_ns=0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tags", "kind", "severity", "what"),
    [
        (
            {"stop_order_type": StopOrderType.TAKE_PROFIT, "create_type": CreateType.BY_TAKE_PROFIT},
            AlertKind.TAKE_PROFIT,
            Severity.INFO,
            "take profit filled",
        ),
        (
            {"stop_order_type": StopOrderType.PARTIAL_TAKE_PROFIT},
            AlertKind.TAKE_PROFIT,
            Severity.INFO,
            "take profit filled",
        ),
        (
            {"stop_order_type": StopOrderType.STOP_LOSS, "create_type": CreateType.BY_STOP_LOSS},
            AlertKind.STOP_LOSS,
            Severity.WARNING,
            "stop loss filled",
        ),
        ({"create_type": CreateType.BY_PARTIAL_STOP_LOSS}, AlertKind.STOP_LOSS, Severity.WARNING, "stop loss filled"),
        (
            {"stop_order_type": StopOrderType.TRAILING_STOP},
            AlertKind.STOP_LOSS,
            Severity.WARNING,
            "trailing stop filled",
        ),
        ({"exec_type": ExecType.BUST_TRADE}, AlertKind.LIQUIDATION, Severity.CRITICAL, "liquidated"),
        ({"create_type": CreateType.BY_LIQ}, AlertKind.LIQUIDATION, Severity.CRITICAL, "liquidated"),
        ({"exec_type": ExecType.ADL_TRADE}, AlertKind.LIQUIDATION, Severity.CRITICAL, "auto-deleveraged"),
    ],
)
def test_closing_fills_by_tp_sl_and_liquidation_alert(
    tags: dict[str, object], kind: AlertKind, severity: Severity, what: str
) -> None:
    execution = replace(
        fill("e1", Side.SELL, "0.010", "101234.5", exec_time=NOW, closed_size="0.010"),
        exec_pnl=Decimal("12.34"),
        **tags,
    )  # type: ignore[arg-type]
    assert fill_alert(execution) == Alert(
        NOW, severity, kind, "BTCUSDT", f"BTCUSDT {what}: Sell 0.010 @ 101234.5, gross PnL +12.34 USDT"
    )


@pytest.mark.parametrize(
    "execution", [fill("e1", Side.BUY, "0.010", "100"), fill("e2", Side.BUY, "0", "0", exec_type=ExecType.FUNDING)]
)
def test_ordinary_fills_and_funding_raise_nothing(execution: object) -> None:
    assert trade_alerts().on_item(received(execution), NOW) is None


def test_a_tp_filled_in_parts_and_reseeded_alerts_once() -> None:
    alerts = trade_alerts()
    first = fill("e1", Side.SELL, "0.004", "101", stop_order_type=StopOrderType.TAKE_PROFIT)
    second = replace(first, exec_id="e2", exec_qty=Decimal("0.006"))
    raised = [
        alerts.on_item(received(first), NOW),
        alerts.on_item(received(second), NOW),
        alerts.on_item(received(first, Source.REST), NOW),
    ]
    assert [a is not None for a in raised] == [True, False, False]


def test_an_order_the_exchange_rejects_alerts_once() -> None:
    alerts = trade_alerts()
    rejected = replace(order("o1", OrderStatus.REJECTED, NOW), reject_reason=RejectReason.POST_ONLY_WILL_TAKE)
    event = OrderUpdated(order=rejected, exchange_ts=NOW, received_ns=0)
    assert alerts.on_item(event, NOW + 5) == Alert(
        NOW,
        Severity.WARNING,
        AlertKind.ORDER_REJECTED,
        "BTCUSDT",
        "BTCUSDT Buy Limit 1.000 @ 100.50 rejected by the exchange (EC_PostOnlyWillTakeLiquidity)",
    )
    assert alerts.on_item(event, NOW + 6) is None
    assert (
        alerts.on_item(OrderUpdated(order=order("o2", OrderStatus.NEW, NOW), exchange_ts=0, received_ns=0), NOW) is None
    )


def test_a_refused_send_alerts_with_the_venues_words() -> None:
    event = OrderRejected(
        symbol="ETHUSDT",
        side=Side.BUY,
        qty=Decimal("5.00"),
        order_link_id="tb1-me-x-1",
        code=110007,
        message="Insufficient balance (110007)",
        exchange_ts=0,
        received_ns=0,
    )
    assert trade_alerts().on_item(event, NOW) == Alert(
        NOW,
        Severity.WARNING,
        AlertKind.ORDER_REJECTED,
        "ETHUSDT",
        "ETHUSDT Buy 5.00 refused: Insufficient balance (110007)",
    )


def test_stop_moves_alert_at_most_once_a_minute_per_symbol() -> None:
    alerts = trade_alerts()

    def moved(symbol: str, at_s: int) -> Alert | None:
        event = ProtectionActed(
            symbol=symbol, action="trail client", detail="trailing stop 99 → 100", exchange_ts=0, received_ns=0
        )
        return alerts.on_item(event, NOW + at_s * 1000)

    raised = [moved("BTCUSDT", 0), moved("BTCUSDT", 30), moved("ETHUSDT", 31), moved("BTCUSDT", 60)]
    assert [a.subject if a else None for a in raised] == ["BTCUSDT", None, "ETHUSDT", "BTCUSDT"]
    assert raised[0] is not None and raised[0].text == "BTCUSDT trail client: trailing stop 99 → 100"


def test_panic_is_critical() -> None:
    alert = trade_alerts().on_item(PanicStarted(positions=2, orders=3, exchange_ts=0, received_ns=0), NOW)
    assert alert == Alert(
        NOW, Severity.CRITICAL, AlertKind.PANIC, "", "panic: cancelling 3 orders and closing 2 positions at market"
    )


def test_polling_rest_warns_once_and_streaming_again_clears() -> None:
    alerts = trade_alerts()

    def mode(value: StreamMode, reason: str) -> Alert | None:
        return alerts.on_item(StreamModeChanged(mode=value, reason=reason, exchange_ts=0, received_ns=0), NOW)

    raised = [
        mode(StreamMode.POLL, "private stream down"),
        mode(StreamMode.POLL, "private stream stalled"),
        mode(StreamMode.STREAM, "private stream back"),
        mode(StreamMode.STREAM, "again"),
    ]
    assert [(a.severity, a.text) if a else None for a in raised] == [
        (Severity.WARNING, "account feed polling REST (private stream down)"),
        None,
        (Severity.CLEARED, "account feed streaming again (private stream back)"),
        None,
    ]
