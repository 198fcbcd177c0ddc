"""The trader's price alerts: checked against each symbol's last price, kept in the store's config table."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tui_bot.domain.alerts import Cross, PriceAlert
from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import plain
from tui_bot.store.ops import SetConfig
from tui_bot.store.writer import StoreWriter

log = logging.getLogger(__name__)
PRICE_ALERTS_KEY = "alerts:price"
"""Config row holding the price alerts still armed (a JSON list)."""
MAX_PRICE_ALERTS = 500


class PriceAlertInvalid(ValueError):
    """A price alert that cannot be set; the message says why in one line. Nothing was stored."""


def new_price_alert(
    symbol: str,
    level: Decimal,
    direction: Cross | None,
    instruments: Mapping[str, Instrument],
    last_price: Decimal | None,
    now_ms: int,
) -> PriceAlert:
    """A checked price alert; without a direction it fires when the price moves from where it is now to level."""
    symbol = symbol.strip().upper()
    inst = instruments.get(symbol)
    if inst is None:
        raise PriceAlertInvalid(f"unknown symbol {symbol!r}")
    if not level.is_finite() or level <= 0 or not inst.price_ok(level):
        raise PriceAlertInvalid(
            f"{symbol} level must be a multiple of {plain(inst.tick_size)} between "
            f"{plain(inst.min_price)} and {plain(inst.max_price)}, not {level}"
        )
    if direction is None:
        if last_price is None:
            raise PriceAlertInvalid(
                f"{symbol} has no last price yet: say whether to alert above or below {plain(level)}"
            )
        if last_price == level:
            raise PriceAlertInvalid(f"{symbol} is at {plain(level)} now: say whether to alert above or below it")
        direction = Cross.ABOVE if level > last_price else Cross.BELOW
    return PriceAlert(uuid.uuid4().hex[:8], symbol, level, direction, now_ms)


def _decode(row: object) -> PriceAlert | None:
    """One stored alert, or None (with a warning) when the row is not one."""
    try:
        level = Decimal(str(row["level"])) if isinstance(row, dict) else None
        if isinstance(row, dict) and level is not None and level.is_finite() and level > 0:
            return PriceAlert(
                str(row["id"]), str(row["symbol"]), level, Cross(row["direction"]), int(row["created_ms"])
            )
    except (KeyError, ValueError, TypeError, InvalidOperation):
        pass
    log.warning("stored price alert %r is not one; ignored", row)
    return None


def _encode(alert: PriceAlert) -> dict[str, Any]:
    return {
        "id": alert.alert_id,
        "symbol": alert.symbol,
        "level": plain(alert.level),
        "direction": alert.direction.value,
        "created_ms": alert.created_ms,
    }


class PriceAlertBook:
    """The armed price alerts by id; every change is written through the store's writer."""

    def __init__(self, stored: object, writer: StoreWriter | None) -> None:
        rows = stored if isinstance(stored, list) else []
        if stored is not None and not isinstance(stored, list):
            log.warning("stored price alerts are not a list (%r); starting with none", stored)
        decoded = [_decode(row) for row in rows]
        self._alerts = {a.alert_id: a for a in decoded if a is not None}
        self._writer = writer
        self._symbols = frozenset(a.symbol for a in self._alerts.values())

    def alerts(self) -> list[PriceAlert]:
        """The armed alerts in the order they were armed."""
        return list(self._alerts.values())

    def symbols(self) -> frozenset[str]:
        """The symbols with an armed alert (their tickers must stream)."""
        return self._symbols

    def add(self, alert: PriceAlert) -> None:
        if len(self._alerts) >= MAX_PRICE_ALERTS:
            raise PriceAlertInvalid(f"{MAX_PRICE_ALERTS} price alerts are armed already; remove one first")
        self._alerts[alert.alert_id] = alert
        self._changed()

    def remove(self, alert_id: str) -> PriceAlert | None:
        """Disarm one alert; None when there is no such alert."""
        alert = self._alerts.pop(alert_id, None)
        if alert is not None:
            self._changed()
        return alert

    def reached(self, symbol: str, last_price: Decimal) -> list[PriceAlert]:
        """The alerts of symbol that last_price reaches, disarmed (each fires once)."""
        fired = [a for a in self._alerts.values() if a.symbol == symbol and a.reached(last_price)]
        for alert in fired:
            del self._alerts[alert.alert_id]
        if fired:
            self._changed()
        return fired

    def _changed(self) -> None:
        """Note the armed symbols and store the alerts."""
        self._symbols = frozenset(a.symbol for a in self._alerts.values())
        if self._writer is not None:
            self._writer.enqueue(SetConfig(PRICE_ALERTS_KEY, [_encode(a) for a in self.alerts()]))
