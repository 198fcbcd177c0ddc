"""The quote board's open interest and sparkline: shown where the board has room, from the exchange's tickers."""

from __future__ import annotations

from decimal import Decimal

from tests.core.conftest import sim_of, wait_for
from tests.ui.conftest import Console
from tui_bot.ui.widgets.quotes import SPARK_POINTS, QuoteBoard, compact, sparkline

BTC = "BTCUSDT"


def test_compact_sizes_and_sparklines() -> None:
    assert [compact(Decimal(v)) for v in ("0", "7.5", "950", "48213.2", "1234567", "2500000000")] == [
        "—",
        "7.5",
        "950",
        "48.2K",
        "1.23M",
        "2.50B",
    ]
    assert sparkline([Decimal(p) for p in ("1", "2", "3", "4", "5", "6", "7", "8")]) == "▁▂▃▄▅▆▇█"
    assert sparkline([Decimal("5"), Decimal("5")]) == "▄▄" and sparkline([]) == ""


async def test_oi_and_the_sparkline_show_at_240_columns_from_the_exchanges_tickers(console: Console) -> None:
    async with console(size=(240, 60)) as (app, pilot):
        assert app.runtime is not None
        board = app.query_one(QuoteBoard)
        market = sim_of(app.runtime).engine.markets[BTC]
        await wait_for(lambda: board.has_row(BTC) and len(board.trail(BTC)) == SPARK_POINTS, timeout=15.0)
        assert [str(c.label) for c in board.columns.values()][-2:] == ["OI", "Last prices"]
        await wait_for(lambda: board.cell(BTC, "oi") == compact(market.open_interest))
        trail = board.trail(BTC)
        assert all(a != b for a, b in zip(trail, trail[1:], strict=False)), "one point per move of the last price"
        assert board.cell(BTC, "spark") == sparkline(trail) and len(board.cell(BTC, "spark")) == SPARK_POINTS
        assert board.cell(BTC, "last") == f"{trail[-1]:f}", "the newest point is the last price shown"
        await pilot.resize_terminal(200, 60)
        await wait_for(lambda: "oi" not in board.columns)
        assert "spark" not in board.columns and board.cell(BTC, "last") != ""
        await pilot.resize_terminal(120, 36)
        await pilot.press("m")  # the market view takes the screen: the stacked board is full width again
        await wait_for(lambda: "oi" in board.columns and "spark" in board.columns)
