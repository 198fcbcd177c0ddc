"""The header's realised-PnL-today figure: closing PnL minus fees and funding since 00:00 UTC."""

from __future__ import annotations

from decimal import Decimal as D

from tui_bot.domain.enums import ExecType, OrderType, Side
from tui_bot.domain.models import Execution
from tui_bot.ui.bridge import DAY_MS, RealisedToday

DAY = 20_000 * DAY_MS


def _exec(exec_id: str, t: int, pnl: str, fee: str, kind: ExecType = ExecType.TRADE) -> Execution:
    return Execution(
        exec_id,
        "o",
        "",
        "BTCUSDT",
        Side.SELL,
        kind,
        D("1"),
        D("1"),
        D("1"),
        D(fee),
        D("0"),
        t,
        False,
        OrderType.MARKET,
        D("0"),
        D("1"),
        D("0"),
        D("1"),
        D(pnl),
        D("1"),
        D("1"),
        1,
    )


def test_running_total_counts_today_only_and_resets_at_midnight() -> None:
    today = RealisedToday()
    assert today.add([_exec("a", DAY - 5, "100", "1"), _exec("b", DAY + 10, "10", "0.5")], DAY + 20) == D("9.5")
    assert today.add([_exec("c", DAY + 30, "0", "0.2", ExecType.FUNDING)], DAY + 40) == D("9.3")
    assert today.add([], DAY + 50) == D("9.3")
    assert today.add([_exec("d", DAY + DAY_MS + 1, "-4", "1")], DAY + DAY_MS + 2) == D("-5")
