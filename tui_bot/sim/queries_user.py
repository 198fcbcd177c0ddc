"""Account, key and asset read endpoints: transaction log, account info, API key info, coin info."""

from __future__ import annotations

from typing import Any

from tui_bot.sim.account import Account
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.errors import params_error
from tui_bot.sim.intervals import DAY_MS
from tui_bot.sim.params import Params, read_category
from tui_bot.sim.queries import paginate, time_window
from tui_bot.sim.transaction_log import LogEntry
from tui_bot.sim.wire_user import (
    account_info_to_wire,
    api_key_to_wire,
    coin_rows,
    transaction_to_wire,
)


def _wanted(engine: ExchangeEngine, account: Account, p: Params, window: tuple[int, int]) -> list[LogEntry]:
    """The log rows the filters keep, oldest first (none is a move-position row, so transSubType keeps none)."""
    currency, base = p.string("currency"), p.string("baseCoin")
    kind, sub_type = p.string("type"), p.string("transSubType")
    return [
        e
        for e in account.transactions
        if window[0] <= e.time <= window[1]
        and (not currency or e.currency == currency)
        and (not base or engine.instruments[e.symbol].base_coin == base)
        and (not kind or e.kind == kind)
        and not sub_type
    ]


def transaction_log(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    """account/transaction-log: newest first, 24 h by default, at most 7 days, limit 1-50."""
    p = Params(raw, from_query=True)
    if p.string("accountType", default="UNIFIED") != "UNIFIED":
        raise params_error("accountType only support UNIFIED")
    linear = read_category(p, required=False) == "linear"
    window = time_window(p, engine.clock.now_ms(), span=DAY_MS)
    rows = _wanted(engine, account, p, window) if linear else []
    page, cursor = paginate(rows[::-1], p, default=20, maximum=50)
    return {"list": [transaction_to_wire(e, engine.instruments[e.symbol]) for e in page], "nextPageCursor": cursor}


def account_info(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    """account/info: the unified account's mode and status."""
    return account_info_to_wire(account.created_time)


def api_key_info(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    """user/query-api: the calling key's permissions and profile."""
    return api_key_to_wire(account.api_key, account.uid, account.created_time, engine.clock.now_ms())


def coin_info(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    """asset/coin/query-info: coins with their chains, optionally one coin."""
    return {"rows": coin_rows(Params(raw, from_query=True).string("coin"))}
