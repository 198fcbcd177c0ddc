"""The notifier against loopback stubs of Telegram and of webhooks: bodies, rate limit, retries, drops, secrets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.golden import assert_matches_golden, load_fixture
from tests.notify.stub import HOOK_SECRET, TOKEN, Reply, StubServer
from tui_bot.domain.alerts import Alert, AlertKind, Severity
from tui_bot.notify.channels import DiscordChannel, TelegramChannel, WebhookChannel
from tui_bot.notify.notifier import Notifier
from tui_bot.notify.settings import NotifySettings

GOLDEN_ALERT = Alert(
    1784712600123,
    Severity.WARNING,
    AlertKind.CONNECTION_DOWN,
    "private",
    "private connection reconnecting for 31s: connection refused",
)
CHAT = "-1001234567890"


def alert(n: int, severity: Severity = Severity.WARNING) -> Alert:
    return Alert(1784712600000 + n, severity, AlertKind.PRICE, "BTCUSDT", f"alert number {n}")


def settings(stub: StubServer, **options: Any) -> NotifySettings:
    """Telegram, Discord and the JSON webhook all pointed at the stub; quick retries unless told otherwise."""
    base: dict[str, Any] = {
        "backoff_s": 0.01,
        "backoff_max_s": 0.05,
        "max_attempts": 3,
        "timeout_s": 5,
        "telegram": {"bot_token": TOKEN, "chat_id": CHAT, "base_url": stub.telegram_base},
        "discord": {"webhook_url": stub.hook_url("discord")},
        "webhook": {"url": stub.hook_url("hook")},
    }
    return NotifySettings.model_validate({**base, **options})


@pytest.fixture
async def stub() -> AsyncIterator[StubServer]:
    server = StubServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_no_secret_logged(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert TOKEN not in text and HOOK_SECRET not in text, f"secret logged by {record.name}: {text}"


async def run(notifier: Notifier, *alerts: Alert) -> None:
    await notifier.start()
    for item in alerts:
        notifier.submit(item)


# -- bodies ---------------------------------------------------------------------------------------------


def test_each_channel_body_is_its_golden_frame() -> None:
    s = NotifySettings.model_validate(
        {
            "telegram": {"bot_token": TOKEN, "chat_id": CHAT},
            "discord": {"webhook_url": "https://discord.example/api/webhooks/1/abc"},
            "webhook": {"url": "https://hooks.example/alerts"},
        }
    )
    assert TelegramChannel(s.telegram).body(GOLDEN_ALERT, "SIM tb1") == load_fixture("notify_telegram_send_message")
    assert DiscordChannel(s.discord).body(GOLDEN_ALERT, "SIM tb1") == load_fixture("notify_discord_webhook")
    assert WebhookChannel(s.webhook).body(GOLDEN_ALERT, "SIM tb1") == load_fixture("notify_webhook_alert")


async def test_an_alert_reaches_every_channel_once_at_its_url_in_its_shape(stub: StubServer) -> None:
    notifier = Notifier(settings(stub), "SIM tb1")
    await run(notifier, GOLDEN_ALERT)
    await notifier.stop()
    assert [r.path for r in stub.received if r.path.startswith("/tg/")] == [f"/tg/bot{TOKEN}/sendMessage"]
    assert stub.bodies("/tg/") == [load_fixture("notify_telegram_send_message")]
    assert stub.bodies("/discord/") == [load_fixture("notify_discord_webhook")]
    assert stub.bodies("/hook/") == [load_fixture("notify_webhook_alert")]
    assert [w.sent for w in notifier.workers] == [1, 1, 1]


async def test_info_alerts_are_silent_on_telegram_and_fit_their_frames(stub: StubServer) -> None:
    notifier = Notifier(settings(stub), "LIVE bot7")
    await run(notifier, alert(1, Severity.INFO), alert(2, Severity.CRITICAL))
    await notifier.stop()
    telegram = stub.bodies("/tg/")
    assert [body["disable_notification"] for body in telegram] == [True, False]
    for body in telegram:
        assert_matches_golden(body, "notify_telegram_send_message")
    for body in stub.bodies("/hook/"):
        assert_matches_golden(body, "notify_webhook_alert")


async def test_alerts_below_min_severity_are_not_sent(stub: StubServer) -> None:
    notifier = Notifier(settings(stub, min_severity="warning"), "SIM tb1")
    await run(notifier, alert(1, Severity.INFO), alert(2, Severity.CLEARED), alert(3, Severity.WARNING))
    await notifier.stop()
    assert [b["text"] for b in stub.bodies("/hook/")] == ["alert number 2", "alert number 3"]


# -- pacing, retries and drops ------------------------------------------------------------------------------


async def test_each_channel_is_rate_limited(stub: StubServer) -> None:
    """Two a second with a burst of two: the fifth goes out at least 1.5 s after the first."""
    notifier = Notifier(settings(stub, rate_limit=2, rate_period_s=1), "SIM tb1")
    await run(notifier, *(alert(n) for n in range(5)))
    await stub.wait_until(lambda: len(stub.times("/hook/")) == 5)
    times = stub.times("/hook/")
    assert times[4] - times[0] >= 1.4, times
    await notifier.stop()
    assert [b["text"] for b in stub.bodies("/hook/")] == [f"alert number {n}" for n in range(5)], "in order"


async def test_429_and_5xx_are_retried_with_backoff_and_the_alert_arrives_once(
    stub: StubServer, everything_logged: pytest.LogCaptureFixture
) -> None:
    stub.script(
        "/tg/",
        Reply(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}),
        Reply(
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 0.3",
                "parameters": {"retry_after": 0.3},
            },
        ),
    )
    stub.script("/hook/", Reply(503), Reply(502))
    notifier = Notifier(settings(stub, max_attempts=5), "SIM tb1")
    await run(notifier, alert(1))
    await notifier.stop()
    tg = stub.times("/tg/")
    assert len(tg) == 3 and tg[2] - tg[1] >= 0.3, "the third try waits as long as the 429 asked"
    assert len(stub.times("/hook/")) == 3
    assert [w.sent for w in notifier.workers] == [1, 1, 1] and [w.dropped for w in notifier.workers] == [0, 0, 0]
    retries = [r.getMessage() for r in everything_logged.records if "failed (" in r.getMessage()]
    assert any("telegram: try 2 of 5 failed (HTTP 429" in line for line in retries), retries
    assert_no_secret_logged(everything_logged)


async def test_after_the_last_try_the_alert_is_dropped_with_a_log_line_and_the_next_one_goes(
    stub: StubServer, everything_logged: pytest.LogCaptureFixture
) -> None:
    stub.script("/hook/", *(Reply(500) for _ in range(3)))
    notifier = Notifier(settings(stub, max_attempts=3), "SIM tb1")
    await run(notifier, alert(1), alert(2))
    await notifier.stop()
    assert [b["text"] for b in stub.bodies("/hook/")] == ["alert number 1"] * 3 + ["alert number 2"]
    hook = next(w for w in notifier.workers if w.channel.name == "webhook")
    assert (hook.sent, hook.dropped) == (1, 1)
    drops = [r.getMessage() for r in everything_logged.records if "dropped" in r.getMessage()]
    assert drops == ["notify webhook: dropped alert after 3 tries (HTTP 500: ): alert number 1"]


async def test_a_client_error_is_not_retried(stub: StubServer) -> None:
    stub.script("/tg/", Reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}))
    notifier = Notifier(settings(stub), "SIM tb1")
    await run(notifier, alert(1))
    await notifier.stop()
    assert len(stub.times("/tg/")) == 1
    assert [w.dropped for w in notifier.workers if w.channel.name == "telegram"] == [1]


async def test_a_dead_channel_is_retried_then_dropped_and_nothing_logged_names_its_secret(
    stub: StubServer, everything_logged: pytest.LogCaptureFixture
) -> None:
    """Nothing listens on the Telegram URL; its server, when it answers, echoes the secret path back."""
    dead = StubServer()
    await dead.start()
    await dead.stop()
    stub.script("/hook/", Reply(500, {"error": f"no route for /hook/{HOOK_SECRET}"}))
    notifier = Notifier(
        settings(stub, telegram={"bot_token": TOKEN, "chat_id": CHAT, "base_url": dead.base}), "SIM tb1"
    )
    await run(notifier, alert(1))
    await notifier.stop()
    telegram = next(w for w in notifier.workers if w.channel.name == "telegram")
    assert telegram.dropped == 1
    lines = [r.getMessage() for r in everything_logged.records]
    assert any("notify telegram: dropped alert after 3 tries (ClientConnectorError" in line for line in lines), lines
    assert any('(HTTP 500: {"error": "no route for ***"})' in line for line in lines), lines
    assert_no_secret_logged(everything_logged)
    assert TOKEN not in repr(notifier.settings) and HOOK_SECRET not in repr(notifier.settings)
    assert TOKEN not in str(notifier.settings.telegram.bot_token)


async def test_a_hung_channel_holds_up_neither_the_caller_nor_the_other_channels(stub: StubServer) -> None:
    stub.script("/tg/", Reply(200, {"ok": True}, delay_s=30.0))
    notifier = Notifier(settings(stub, timeout_s=60, flush_timeout_s=0.2), "SIM tb1")
    await notifier.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(3):
        notifier.submit(alert(n))
    assert loop.time() - started < 0.05, "submit only queues"
    await stub.wait_until(lambda: len(stub.bodies("/hook/")) == 3 and len(stub.bodies("/discord/")) == 3)
    telegram = next(w for w in notifier.workers if w.channel.name == "telegram")
    assert telegram.sent == 0 and len(stub.bodies("/tg/")) == 1, "telegram is still waiting on its first answer"
    await notifier.stop()  # gives up on the hung send after flush_timeout_s
    assert telegram.queue.qsize() == 2


async def test_a_full_queue_drops_its_oldest_alert_with_a_log_line(
    stub: StubServer, everything_logged: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier(settings(stub, queue_size=2, telegram={}, discord={}), "SIM tb1")
    for n in range(4):  # not started: nothing leaves the queue yet
        notifier.submit(alert(n))
    await notifier.start()
    await notifier.stop()
    assert [b["text"] for b in stub.bodies("/hook/")] == ["alert number 2", "alert number 3"]
    full = [r.getMessage() for r in everything_logged.records if "dropped the oldest" in r.getMessage()]
    assert full == [
        "notify webhook: 2 alerts waiting; dropped the oldest: alert number 0",
        "notify webhook: 2 alerts waiting; dropped the oldest: alert number 1",
    ]


async def test_no_channel_configured_sends_nothing_and_opens_no_session() -> None:
    notifier = Notifier(NotifySettings(), "SIM tb1")
    await notifier.start()
    notifier.submit(alert(1))
    await notifier.stop()
    assert notifier.workers == []
