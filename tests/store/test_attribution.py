"""Every execution attributed to a bot, and trades per bot and symbol, against the embedded exchange over loopback.

Two bots (two runtimes, bot ids alpha and beta) trade one account on different symbols; another program (a signed
REST client with its own orderLinkIds) trades a third. The exchange then settles funding, fires alpha's take profit
and liquidates beta's position. Alpha's runtime records everything in the store under test (SQLite, PostgreSQL).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.conftest import SignedRest
from tests.core.conftest import custom_venue
from tests.sim.ws_helpers import admin_post
from tui_bot.domain.enums import Side
from tui_bot.domain.numbers import ZERO, round_to_step
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.sim.server import SimExchange
from tui_bot.store.attribution import EXTERNAL
from tui_bot.store.repos import load_trades

D = Decimal
BTC, ETH, SOL = "BTCUSDT", "ETHUSDT", "SOLUSDT"
HOLDER = {BTC: "alpha", ETH: "beta", SOL: EXTERNAL}
"""Who trades each symbol in the scenario: every execution in a symbol, the exchange's own included, is theirs."""


@dataclass
class Account:
    """The two bots' runtimes and the other program's client, all on the exchange's one account."""

    sim: SimExchange
    alpha: Runtime
    beta: Runtime
    other: SignedRest


async def _runtime(sim: SimExchange, bot_id: str, storage_url: str) -> Runtime:
    """A runtime of bot bot_id on the exchange's account, storing into storage_url (no cycles, no protection)."""
    settings = custom_venue(sim)
    settings.bot.bot_id = bot_id
    settings.storage.url = SecretStr(storage_url)
    return await start_runtime(settings, trading_bot=False, protect=False)


@pytest.fixture
async def account(
    manual_sim: SimExchange, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Account]:
    monkeypatch.setenv("BYBIT_API_KEY", manual_sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", manual_sim.api_secret)
    alpha = await _runtime(manual_sim, "alpha", db_url)
    beta = await _runtime(manual_sim, "beta", f"sqlite:///{tmp_path / 'beta.db'}")
    assert manual_sim.urls is not None
    other = SignedRest(manual_sim.urls.rest, manual_sim.api_key, manual_sim.api_secret)
    yield Account(manual_sim, alpha, beta, other)
    await other.close()
    await beta.close()
    await alpha.close()


def _price(sim: SimExchange, symbol: str, factor: str) -> D:
    market = sim.engine.markets[symbol]
    return round_to_step(market.last_price * D(factor), market.tick)


async def _other_program_order(other: SignedRest, side: str, link: str, **extra: Any) -> None:
    body = {"category": "linear", "symbol": SOL, "side": side, "orderType": "Market", "qty": "1.0", "orderLinkId": link}
    reply = await other.post("/v5/order/create", {**body, **extra})
    assert reply["retCode"] == 0, reply


async def _exchange_executions(other: SignedRest) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for symbol in HOLDER:
        query = {"category": "linear", "symbol": symbol, "limit": 100}
        rows += (await other.get("/v5/execution/list", query))["result"]["list"]
    return rows


async def _stored(rt: Runtime, expected: set[str]) -> dict[str, tuple[str, str | None]]:
    """exec id → (bot, reason) of the stored executions, once every expected one is stored."""
    for _ in range(500):
        await rt.writer.flush()
        rows = await rt.conn.fetch("SELECT exec_id, bot, reason FROM executions")
        stored = {str(exec_id): (str(bot), reason) for exec_id, bot, reason in map(tuple, rows)}
        if stored.keys() >= expected:
            return stored
        await asyncio.sleep(0.02)
    raise AssertionError("the runtime did not store every execution of the exchange")


async def _play(account: Account) -> None:
    """Two bots, another program, funding, a take profit and a liquidation."""
    sim, alpha, beta = account.sim, account.alpha, account.beta
    take_profit = _price(sim, BTC, "1.02")
    await alpha.orders.place(BTC, Side.BUY, D("0.010"), take_profit=take_profit)
    await beta.orders.place(ETH, Side.SELL, D("0.20"))
    await _other_program_order(account.other, "Buy", "grid-7-open-x")
    for rt in (alpha, beta):
        await _until(lambda rt=rt: {BTC, ETH, SOL} <= set(rt.engine.state.positions))
    assert (await admin_post(sim, "/funding", {}))[0] == 200
    await _other_program_order(account.other, "Sell", "grid-7-close-x", reduceOnly=True)
    status, text = await admin_post(sim, "/price", {"symbol": BTC, "price": str(take_profit * D("1.01"))})
    assert status == 200, text
    status, text = await admin_post(sim, "/liquidate", {"symbol": ETH})
    assert status == 200, text
    await _until(lambda: not alpha.engine.state.positions)


async def _until(predicate: Any) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the account did not reach the expected state")


@dataclass
class _Expected:
    """A trade as the exchange's fills make it: opening and closing quantities and values, all fees."""

    side: str = ""
    qty: D = ZERO
    value: D = ZERO
    exit_qty: D = ZERO
    exit_value: D = ZERO
    fees: D = ZERO
    exits: list[str] = field(default_factory=list)


def _expected_trades(executions: list[dict[str, Any]]) -> dict[tuple[str, str], _Expected]:
    """(bot, symbol) → the one round trip its fills make (each symbol opened by one fill and closed by the rest)."""
    trades: dict[tuple[str, str], _Expected] = {}
    for row in sorted(executions, key=lambda r: (int(r["execTime"]), int(r["seq"]))):
        trade = trades.setdefault((HOLDER[row["symbol"]], row["symbol"]), _Expected())
        trade.fees += D(row["execFee"])
        if row["execType"] == "Funding":
            continue
        qty, value = D(row["execQty"]), D(row["execPrice"]) * D(row["execQty"])
        if D(row["closedSize"]) == 0:
            trade.side, trade.qty, trade.value = row["side"], trade.qty + qty, trade.value + value
        else:
            trade.exit_qty, trade.exit_value = trade.exit_qty + qty, trade.exit_value + value
            trade.exits.append(row["execType"])
    return trades


async def test_each_execution_belongs_to_its_bot_and_trades_equal_the_exchange_fills(account: Account) -> None:
    await _play(account)
    executions = await _exchange_executions(account.other)
    stored = await _stored(account.alpha, {row["execId"] for row in executions})
    kinds = sorted((row["symbol"], row["execType"], row["createType"], row["orderLinkId"][:5]) for row in executions)
    assert kinds == [
        (BTC, "Funding", "CreateByUser", ""),
        (BTC, "Trade", "CreateByTakeProfit", ""),
        (BTC, "Trade", "CreateByUser", "alpha"),
        (ETH, "BustTrade", "CreateByLiq", ""),
        (ETH, "Funding", "CreateByUser", ""),
        (ETH, "Trade", "CreateByUser", "beta-"),
        (SOL, "Funding", "CreateByUser", ""),
        (SOL, "Trade", "CreateByUser", "grid-"),
        (SOL, "Trade", "CreateByUser", "grid-"),
    ]
    assert {row["execId"]: (HOLDER[row["symbol"]], _reason(row)) for row in executions} == {
        exec_id: stored[exec_id] for exec_id in (row["execId"] for row in executions)
    }
    trades = await load_trades(account.alpha.conn)
    expected = _expected_trades(executions)
    assert sorted((t.bot or "", t.symbol) for t in trades) == sorted(expected)
    for trade in trades:
        want = expected[(trade.bot or "", trade.symbol)]
        assert (trade.status, trade.side.value, trade.qty, trade.exit_qty) == ("closed", want.side, want.qty, want.qty)
        assert (trade.entry_price, trade.exit_price) == (want.value / want.qty, want.exit_value / want.exit_qty)
        assert trade.fees == want.fees, f"{trade.bot}'s {trade.symbol} trade lacks a fee or funding of its fills"
        gross = (want.exit_value - want.value) * (1 if want.side == "Buy" else -1)
        assert trade.pnl == gross - want.fees
    reasons = {t.bot: t.exit_reason for t in trades}
    assert reasons == {"alpha": "take_profit", "beta": "liquidation", EXTERNAL: "external"}


def _reason(row: dict[str, Any]) -> str | None:
    """The reason stored with an execution of the scenario: the exchange's kind, our order's reason, or none."""
    if row["execType"] == "Funding":
        return "funding"
    by_exchange = {"CreateByTakeProfit": "take_profit", "CreateByLiq": "liquidation"}.get(row["createType"])
    return by_exchange or ("manual_entry" if HOLDER[row["symbol"]] != EXTERNAL else None)
