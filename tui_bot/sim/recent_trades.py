"""GET /v5/market/recent-trade: the latest trades of a symbol from the exchange's own tape, newest first."""

from __future__ import annotations

from itertools import islice
from typing import Any

from tui_bot.sim import wire
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.market import TAPE_KEPT
from tui_bot.sim.params import Params, read_category
from tui_bot.sim.queries import nothing_listed

DEFAULT_LIMIT = 500


def recent_trade(engine: ExchangeEngine, raw: dict[str, Any]) -> dict[str, Any]:
    """Up to limit (1-1000, default 500) of the symbol's latest trades, newest first; other categories list none."""
    p = Params(raw, from_query=True)
    category = read_category(p)
    symbol = p.symbol(required=True)
    limit = p.integer("limit", default=DEFAULT_LIMIT, low=1, high=TAPE_KEPT) or DEFAULT_LIMIT
    if category != "linear":
        return nothing_listed(category, cursor=False)
    market = engine.market(symbol)
    rows = [wire.recent_trade_to_wire(t, market.instrument) for t in islice(reversed(market.tape), limit)]
    return {"category": "linear", "list": rows}
