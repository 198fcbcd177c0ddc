"""Alerts end to end: the embedded exchange on loopback, the full runtime, and loopback stubs of Telegram's Bot
API and of a JSON webhook. Each alert arrives once at each; no log record ever holds the bot token."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.core.conftest import fast_settings, sim_of, wait_for
from tests.core.test_resilience import private_stream_refused
from tests.golden import assert_matches_golden
from tests.notify.stub import HOOK_SECRET, TOKEN, Reply, StubServer
from tui_bot.config import Settings
from tui_bot.core.alert_rules import AlertSettings
from tui_bot.core.price_alerts import PRICE_ALERTS_KEY, PriceAlertInvalid
from tui_bot.domain.alerts import AlertKind, Cross, Severity
from tui_bot.domain.enums import Side
from tui_bot.domain.numbers import floor_to_step, plain
from tui_bot.exchange.errors import RejectedError
from tui_bot.notify.settings import NotifySettings
from tui_bot.runtime import Runtime, start_runtime

TICK = Decimal("0.10")  # BTCUSDT and ETHUSDT


def alerting_settings(stub: StubServer, **alerts: float) -> Settings:
    settings = fast_settings()
    settings.alerts = AlertSettings.model_validate(
        {"check_interval_s": 0.05, "connection_down_warning_s": 1, "connection_down_critical_s": 30, **alerts}
    )
    settings.notify = NotifySettings.model_validate(
        {
            "backoff_s": 0.01,
            "backoff_max_s": 0.05,
            "telegram": {"bot_token": TOKEN, "chat_id": "-100123", "base_url": stub.telegram_base},
            "webhook": {"url": stub.hook_url("hook")},
        }
    )
    return settings


@pytest.fixture
async def stub() -> AsyncIterator[StubServer]:
    server = StubServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def no_secret_in_any_log_record(caplog: pytest.LogCaptureFixture) -> Any:
    """Every record of every logger at every level during the test: none holds the token or the webhook secret."""
    caplog.set_level(logging.DEBUG)
    yield
    for record in [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]:
        text = record.getMessage() + (record.exc_text or "")
        assert TOKEN not in text and HOOK_SECRET not in text, f"{record.name} logged a secret: {text}"


@pytest.fixture
async def rt(stub: StubServer, tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await start_runtime(alerting_settings(stub), tmp_path / "alerts.db")
    yield runtime
    await runtime.close()


def telegram_sent(stub: StubServer, kind: AlertKind, subject: str = "") -> list[tuple[str, str]]:
    """(severity, text) of each Telegram message about kind (and subject) that the stub accepted."""
    found = []
    for body in stub.delivered("/tg/"):
        head, text = body["text"].split("\n", 1)
        words = head.split()  # [SIM tb1] SEVERITY kind [subject] at time
        if words[3] == kind.value and (not subject or words[4] == subject):
            found.append((words[2].lower(), text))
    return found


def webhook_sent(stub: StubServer, kind: AlertKind, subject: str = "") -> list[tuple[str, str]]:
    return [
        (b["severity"], b["text"])
        for b in stub.delivered("/hook/")
        if b["kind"] == kind.value and (not subject or b["subject"] == subject)
    ]


def sent_to_both(stub: StubServer, kind: AlertKind, subject: str = "") -> Callable[[], bool]:
    return lambda: bool(telegram_sent(stub, kind, subject)) and bool(webhook_sent(stub, kind, subject))


async def everything_sent(rt: Runtime, stub: StubServer) -> None:
    """Wait until all alerts raised so far reached both stubs: a price alert armed now at ETHUSDT's last price
    fires at its next ticker, after every bus item before it, and each channel sends in order."""
    last = rt.engine.state.last_price("ETHUSDT")
    assert last is not None
    marker = rt.alerts.add_price_alert("ETHUSDT", last, Cross.ABOVE)
    text = f"ETHUSDT crossed above {plain(marker.level)}:"
    await stub.wait_until(
        lambda: (
            any(t.startswith(text) for _, t in telegram_sent(stub, AlertKind.PRICE))
            and any(t.startswith(text) for _, t in webhook_sent(stub, AlertKind.PRICE))
        )
    )


# -- the three the issue names ---------------------------------------------------------------------------


async def test_a_take_profit_fill_reaches_telegram_and_the_webhook_exactly_once(rt: Runtime, stub: StubServer) -> None:
    """Telegram's first answer is a 502 that echoes the token: the retry delivers once, the log never shows it."""
    stub.script("/tg/", Reply(502, {"ok": False, "description": f"no upstream for /tg/bot{TOKEN}/sendMessage"}))
    sim = sim_of(rt)
    market = sim.engine.markets["BTCUSDT"]
    take_profit = floor_to_step(market.last_price * Decimal("1.002"), TICK)  # clear of the next steps
    await rt.orders.place("BTCUSDT", Side.BUY, Decimal("0.010"), take_profit=take_profit)
    await wait_for(lambda: "BTCUSDT" in rt.engine.state.positions)
    market.set_price(floor_to_step(take_profit * Decimal("1.005"), TICK), sim.clock.now_ms())
    await stub.wait_until(sent_to_both(stub, AlertKind.TAKE_PROFIT, "BTCUSDT"))
    await rt.engine.resync("test")  # the fill again from REST is no news
    await everything_sent(rt, stub)
    ((severity, text),) = webhook_sent(stub, AlertKind.TAKE_PROFIT)
    assert telegram_sent(stub, AlertKind.TAKE_PROFIT) == [(severity, text)]
    assert [r.status for r in stub.received if r.path.startswith("/tg/")][:2] == [502, 200], "refused, then sent"
    assert severity == "info" and text.startswith("BTCUSDT take profit filled: Sell 0.010 @ ")
    assert "gross PnL +" in text
    for body in stub.bodies("/hook/"):
        assert_matches_golden(body, "notify_webhook_alert")
    for body in stub.bodies("/tg/"):
        assert_matches_golden(body, "notify_telegram_send_message")


async def test_a_connection_down_past_its_threshold_warns_once_and_clears_once(rt: Runtime, stub: StubServer) -> None:
    """Threshold 1 s, checked every 50 ms: the private stream refused for a while raises one warning."""
    async with private_stream_refused(sim_of(rt)):
        await stub.wait_until(sent_to_both(stub, AlertKind.CONNECTION_DOWN, "private"))
        assert AlertKind.CONNECTION_DOWN in [a.kind for a in rt.alerts.active()]
    await stub.wait_until(lambda: len(webhook_sent(stub, AlertKind.CONNECTION_DOWN, "private")) == 2)
    await everything_sent(rt, stub)
    for sent in (
        webhook_sent(stub, AlertKind.CONNECTION_DOWN, "private"),
        telegram_sent(stub, AlertKind.CONNECTION_DOWN, "private"),
    ):
        assert [severity for severity, _ in sent] == ["warning", "cleared"], sent
        assert sent[0][1].startswith("private connection ") and " for 1s" in sent[0][1]
        assert sent[1][1].startswith("private connection live again after ")
    assert AlertKind.CONNECTION_DOWN not in [a.kind for a in rt.alerts.active()]


async def test_a_price_alert_reaches_telegram_and_the_webhook_exactly_once(
    rt: Runtime, stub: StubServer, tmp_path: Path
) -> None:
    sim = sim_of(rt)
    market = sim.engine.markets["BTCUSDT"]
    level = market.last_price + 200 * TICK
    armed = rt.alerts.add_price_alert("BTCUSDT", level)
    assert armed.direction is Cross.ABOVE and rt.alerts.price_alerts() == [armed]
    market.set_price(floor_to_step(level * Decimal("1.005"), TICK), sim.clock.now_ms())
    await stub.wait_until(sent_to_both(stub, AlertKind.PRICE, "BTCUSDT"))
    market.set_price(level - 50 * TICK, sim.clock.now_ms())
    market.set_price(level + 50 * TICK, sim.clock.now_ms())  # crossing again: the alert fired already
    await everything_sent(rt, stub)
    for sent in (webhook_sent(stub, AlertKind.PRICE, "BTCUSDT"), telegram_sent(stub, AlertKind.PRICE, "BTCUSDT")):
        assert len(sent) == 1 and sent[0][1].startswith(f"BTCUSDT crossed above {plain(level)}: last "), sent
    assert rt.alerts.price_alerts() == []
    await rt.writer.flush()
    with sqlite3.connect(rt.db_path) as db:
        assert db.execute("select value from config where key = ?", (PRICE_ALERTS_KEY,)).fetchone() == ("[]",)


# -- price alerts: stored, checked ---------------------------------------------------------------------------


async def test_armed_price_alerts_survive_a_restart_and_removal_is_stored(stub: StubServer, tmp_path: Path) -> None:
    first = await start_runtime(alerting_settings(stub), tmp_path / "alerts.db")
    try:
        with pytest.raises(
            PriceAlertInvalid, match="SOLUSDT has no last price yet: say whether to alert above or below"
        ):
            first.alerts.add_price_alert("SOLUSDT", Decimal("9999.00"))  # not streamed: which side is it on?
        far = first.alerts.add_price_alert("SOLUSDT", Decimal("9999.00"), Cross.ABOVE)
        near = first.alerts.add_price_alert(" ethusdt ", Decimal("1.00"))
        assert (far.direction, near.direction, near.symbol) == (Cross.ABOVE, Cross.BELOW, "ETHUSDT")
        await wait_for(lambda: "tickers.SOLUSDT" in first.client.ticker_topics)
    finally:
        await first.close()
    second = await start_runtime(alerting_settings(stub), tmp_path / "alerts.db")
    try:
        assert second.alerts.price_alerts() == [far, near]
        await wait_for(lambda: "tickers.SOLUSDT" in second.client.ticker_topics)
        assert second.alerts.remove_price_alert(far.alert_id) == far
        assert second.alerts.remove_price_alert(far.alert_id) is None
    finally:
        await second.close()
    third = await start_runtime(alerting_settings(stub), tmp_path / "alerts.db")
    try:
        assert third.alerts.price_alerts() == [near]
    finally:
        await third.close()


@pytest.mark.parametrize(
    ("symbol", "level", "message"),
    [
        ("NOPEUSDT", "100", "unknown symbol 'NOPEUSDT'"),
        ("BTCUSDT", "100000.05", "BTCUSDT level must be a multiple of 0.10 between 0.10 and 1999999.80, not 100000.05"),
        ("BTCUSDT", "-5", "BTCUSDT level must be a multiple of 0.10"),
    ],
)
async def test_a_bad_price_alert_is_refused_in_one_line_and_nothing_is_armed(
    rt: Runtime, symbol: str, level: str, message: str
) -> None:
    with pytest.raises(PriceAlertInvalid) as refused:
        rt.alerts.add_price_alert(symbol, Decimal(level))
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)
    assert rt.alerts.price_alerts() == []


# -- the other trading alerts and a health one ------------------------------------------------------------------


async def test_a_refused_order_and_panic_reach_the_channels(rt: Runtime, stub: StubServer) -> None:
    sim = sim_of(rt)
    sim.faults.order_rejects.append((110007, "ab not enough for new order"))
    with pytest.raises(RejectedError):
        await rt.orders.place("ETHUSDT", Side.BUY, Decimal("0.10"))
    await rt.orders.close_all()
    rejected, panic = sent_to_both(stub, AlertKind.ORDER_REJECTED), sent_to_both(stub, AlertKind.PANIC)
    await stub.wait_until(lambda: rejected() and panic())
    await everything_sent(rt, stub)
    assert webhook_sent(stub, AlertKind.ORDER_REJECTED, "ETHUSDT") == [
        ("warning", "ETHUSDT Buy 0.10 refused: Insufficient balance (110007)")
    ]
    assert webhook_sent(stub, AlertKind.PANIC) == [
        ("critical", "panic: cancelling 0 orders and closing 0 positions at market")
    ]
    assert [(a.severity, a.kind) for a in rt.alerts.recent() if a.kind is not AlertKind.PRICE] == [
        (Severity.WARNING, AlertKind.ORDER_REJECTED),
        (Severity.CRITICAL, AlertKind.PANIC),
    ]


async def test_a_stalled_ticker_whose_mark_drifts_from_rests_is_critical_until_they_agree(
    stub: StubServer, tmp_path: Path
) -> None:
    """REST marks are read every 0.2 s while a position is open; the ticker stalls while the market moves 2 %."""
    rt = await start_runtime(alerting_settings(stub, mark_check_interval_s=0.2), tmp_path / "alerts.db")
    try:
        sim = sim_of(rt)
        market = sim.engine.markets["BTCUSDT"]
        await rt.orders.place("BTCUSDT", Side.BUY, Decimal("0.010"))
        await wait_for(lambda: "BTCUSDT" in rt.engine.state.positions)
        sim.faults.stall("tickers.BTCUSDT", 60)
        market.set_price(market.last_price * Decimal("1.02"), sim.clock.now_ms())
        await stub.wait_until(sent_to_both(stub, AlertKind.MARK_DIVERGENCE, "BTCUSDT"))
        ((severity, text),) = webhook_sent(stub, AlertKind.MARK_DIVERGENCE)
        stream_mark = rt.engine.state.tickers["BTCUSDT"].mark_price
        assert severity == "critical" and text.startswith(f"BTCUSDT stream mark {plain(stream_mark)} is "), text
        sim.faults.stalls.clear()
        await stub.wait_until(lambda: len(webhook_sent(stub, AlertKind.MARK_DIVERGENCE)) == 2)
        assert webhook_sent(stub, AlertKind.MARK_DIVERGENCE)[1] == (
            "cleared",
            "BTCUSDT stream mark agrees with REST again",
        )
    finally:
        await rt.close()
