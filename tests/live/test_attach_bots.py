"""The attached console shows every bot of the account: who holds each position, a bot filter (B), positions and PnL
per bot equal to `tui-bot stats`, and the listener's and each bot's heartbeat in health."""

from __future__ import annotations

import csv
import io
import subprocess
from decimal import Decimal
from pathlib import Path

from textual.widgets import Static

from tests.conftest import console_script
from tests.core.conftest import wait_for
from tests.live.commands_support import receiving
from tests.live.conftest import Live
from tests.ui.conftest import WIDE, console_settings
from tui_bot.attach_cli import opener
from tui_bot.core.console_api import BotsView
from tui_bot.core.stats import day_of
from tui_bot.domain.metrics import wall_ms
from tui_bot.ui import format as fmt
from tui_bot.ui.app import TuiBotApp
from tui_bot.ui.widgets.bots import BotsTable
from tui_bot.ui.widgets.health import HealthPanel
from tui_bot.ui.widgets.positions import PositionsTable

BTC, ETH = "BTCUSDT", "ETHUSDT"


def attached_app(tmp_path: Path, redis_url: str) -> TuiBotApp:
    settings = console_settings(tmp_path)
    return TuiBotApp(settings, opener(settings, redis_url, tmp_path / "listen.db"))


async def bots_shown(app: TuiBotApp) -> BotsTable:
    """The Bots panel, once the attached console has mounted it."""
    await wait_for(lambda: bool(app.query(BotsTable)), timeout=8.0)
    return app.query_one(BotsTable)


def health_text(app: TuiBotApp, name: str) -> str:
    line = app.query_one(HealthPanel).lines.get(f"beat {name}")
    return line.text if line is not None else ""


async def test_positions_name_their_bot_and_b_filters_them_bot_by_bot(
    live: Live, redis_url: str, tmp_path: Path
) -> None:
    await live.market(BTC, "Buy", "0.010", bot="tb1")
    await live.market(ETH, "Buy", "0.10", bot="tb2")
    app = attached_app(tmp_path, redis_url)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await bots_shown(app)
        positions = app.query_one(PositionsTable)
        await wait_for(lambda: positions.has_row(BTC) and positions.has_row(ETH))
        await wait_for(lambda: positions.cell(BTC, "bot") == "tb1" and positions.cell(ETH, "bot") == "tb2")
        assert isinstance(app.backend, BotsView) and app.backend.bot_ids() == ["tb1", "tb2"]
        title = app.query_one("#positions-title", Static)
        seen = []
        for _ in range(3):
            await pilot.press("B")
            await pilot.pause()
            seen.append((str(title.content), sorted(positions.keys())))
        assert seen == [
            ("Positions · bot tb1", [BTC]),
            ("Positions · bot tb2", [ETH]),
            ("Positions · all bots", [BTC, ETH]),
        ]
        app.exit()


def stats_by_bot(db: Path) -> dict[str, tuple[int, Decimal, Decimal]]:
    """`tui-bot stats --format csv`: per bot, trades, total PnL and today's PnL (from its by-day rows)."""
    result = subprocess.run(
        [console_script(), "--db", str(db), "stats", "--format", "csv"], capture_output=True, text=True, check=True
    )
    today = day_of(wall_ms())
    figures: dict[str, tuple[int, Decimal, Decimal]] = {}
    for row in csv.DictReader(io.StringIO(result.stdout)):
        if row["section"] != "day" or row["bot"] == "(all)":
            continue
        trades, total, on_day = figures.get(row["bot"], (0, Decimal(0), Decimal(0)))
        pnl = Decimal(row["total_pnl"])
        figures[row["bot"]] = (trades + int(row["trades"]), total + pnl, on_day + (pnl if row["key"] == today else 0))
    return figures


async def test_the_bots_panel_shows_each_bots_positions_and_pnl_as_tui_bot_stats_sums_it(
    live: Live, redis_url: str, tmp_path: Path
) -> None:
    for bot, symbol, qty in (("tb1", BTC, "0.010"), ("tb2", ETH, "0.10")):
        await live.market(symbol, "Buy", qty, bot=bot)
        await wait_for(lambda b=bot: bool(live.reader.bot_positions(b)))  # type: ignore[misc]
        await live.market(symbol, "Sell", qty, bot=bot)
        await wait_for(lambda b=bot: not live.reader.bot_positions(b))  # type: ignore[misc]
    await live.market(BTC, "Buy", "0.020", bot="tb1")  # open: a position and its uPnL beside the closed trade
    await wait_for(lambda: BTC in live.reader.bot_positions("tb1"))
    await live.runtime.writer.flush()
    expected = stats_by_bot(tmp_path / "listen.db")
    assert set(expected) == {"tb1", "tb2"} and all(trades == 1 for trades, _, _ in expected.values())
    app = attached_app(tmp_path, redis_url)
    async with app.run_test(size=WIDE, notifications=True):
        bots = await bots_shown(app)
        await wait_for(lambda: bots.has_row("tb1") and bots.has_row("tb2"))
        assert isinstance(app.backend, BotsView)
        summaries = {row.bot: row for row in await app.backend.bot_summaries()}
        for bot, (trades, total, today) in expected.items():
            row = summaries[bot]
            assert (row.trades, row.realised_total, row.realised_today) == (trades, total, today)
            assert bots.cell(bot, "total") == fmt.signed_money(total) and bots.cell(bot, "trades") == str(trades)
        assert (summaries["tb1"].positions, summaries["tb2"].positions) == (1, 0)
        assert (bots.cell("tb1", "positions"), bots.cell("tb2", "positions")) == ("1", "0")
        app.exit()


async def test_health_shows_the_listeners_and_each_bots_heartbeat_and_gone_once_a_bot_stops(
    live: Live, redis_url: str, tmp_path: Path
) -> None:
    app = attached_app(tmp_path, redis_url)
    async with (
        receiving(redis_url, "tb1", live.runtime.backend) as receiver,
        app.run_test(size=WIDE, notifications=True),
    ):
        bots = await bots_shown(app)
        await wait_for(lambda: health_text(app, "tb1").startswith("tb1  beat "))
        assert health_text(app, "listener").startswith("listener  beat ")
        await wait_for(lambda: bots.has_row("tb1") and bots.cell("tb1", "beat") not in ("gone", fmt.DASH))
        await receiver.stop()  # the bot deletes its heartbeat as it stops
        await wait_for(lambda: health_text(app, "tb1") == "tb1  gone (no heartbeat)")
        await wait_for(lambda: bots.cell("tb1", "beat") == "gone")
        assert health_text(app, "listener").startswith("listener  beat ")  # the listener still beats
        app.exit()
