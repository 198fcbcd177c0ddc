"""Strategies by name: a built-in key or a dotted path to a user's class that satisfies the Strategy protocol."""

from __future__ import annotations

import importlib
from typing import Any

from tui_bot.core.strategies.base import Strategy
from tui_bot.core.strategies.chart_llm import ChartLlm
from tui_bot.core.strategies.ema_trend import EmaTrend
from tui_bot.core.strategies.range_breakout import RangeBreakout
from tui_bot.core.strategies.rsi_reversion import RsiReversion

BUILTINS: dict[str, type] = {
    EmaTrend.name: EmaTrend,
    RsiReversion.name: RsiReversion,
    RangeBreakout.name: RangeBreakout,
}
ANALYSTS: dict[str, type] = {ChartLlm.name: ChartLlm}
"""Model-backed strategies by name: the cycle asks them about all its symbols at once (propose_many)."""


class StrategyLoadError(ValueError):
    """A configured strategy entry cannot be loaded; the message names the entry and the reason."""


def load_strategies(names: list[str]) -> list[Strategy]:
    """One instance per entry, in order; strategy names must be unique."""
    loaded: list[Strategy] = []
    seen: dict[str, str] = {}
    for entry in names:
        if entry.strip() in seen.values():
            raise StrategyLoadError(f"strategy {entry.strip()!r} is listed twice")
        strategy = load_strategy(entry)
        if strategy.name in seen:
            raise StrategyLoadError(
                f"strategy {entry!r}: name {strategy.name!r} is already used by {seen[strategy.name]!r}"
            )
        seen[strategy.name] = entry.strip()
        loaded.append(strategy)
    return loaded


def load_strategy(entry: str) -> Strategy:
    """Instantiate one built-in or `package.module:ClassName` / `package.module.ClassName` with no arguments."""
    key = entry.strip()
    cls = BUILTINS.get(key) or ANALYSTS.get(key) or _import_class(entry, key)
    try:
        instance = cls()
    except Exception as err:
        raise StrategyLoadError(f"strategy {entry!r}: {cls.__qualname__}() failed: {err}") from err
    _check(entry, instance)
    return instance


def _import_class(entry: str, path: str) -> type:
    """The class a dotted path names."""
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        known = ", ".join(sorted(BUILTINS | ANALYSTS))
        raise StrategyLoadError(
            f"strategy {entry!r}: not a built-in ({known}) nor a path like package.module:ClassName"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as err:
        raise StrategyLoadError(f"strategy {entry!r}: cannot import module {module_name!r}: {err}") from err
    found: Any = module
    for part in attr.split("."):
        if not hasattr(found, part):
            raise StrategyLoadError(f"strategy {entry!r}: module {module_name!r} has no class {attr!r}")
        found = getattr(found, part)
    if not isinstance(found, type):
        raise StrategyLoadError(f"strategy {entry!r}: {attr!r} in {module_name!r} is not a class")
    return found


def _check(entry: str, strategy: Any) -> None:
    """Raise unless strategy has the protocol's attributes with sensible values."""
    cls = type(strategy).__qualname__
    missing = [a for a in ("name", "version", "min_candles") if not hasattr(strategy, a)]
    if not callable(getattr(strategy, "propose", None)):
        missing.append("propose()")
    if missing:
        raise StrategyLoadError(f"strategy {entry!r}: {cls} lacks {', '.join(missing)} (see the Strategy protocol)")
    if not isinstance(strategy.name, str) or not strategy.name or not isinstance(strategy.version, str):
        raise StrategyLoadError(f"strategy {entry!r}: {cls}.name and .version must be strings (name not empty)")
    if not isinstance(strategy.min_candles, int) or strategy.min_candles < 1:
        raise StrategyLoadError(f"strategy {entry!r}: {cls}.min_candles must be a positive int")
