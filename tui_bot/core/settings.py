"""Trading settings at run time: validated edits, persisted in the DB config table, applied live."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tui_bot.core.bus import Bus
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.store.ops import SetConfig
from tui_bot.store.writer import StoreWriter

CONFIG_KEY = "trading"


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    """The trading settings changed (in the app or by a toggle); `changed` names the fields."""

    settings: TradingSettings
    changed: tuple[str, ...]


class SettingsRejected(ValueError):
    """An edit failed validation; `errors` maps each field to a plain reason, nothing was applied."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class SettingsService:
    """Owns the current TradingSettings; every accepted edit is persisted and published."""

    def __init__(self, initial: TradingSettings, writer: StoreWriter | None, bus: Bus) -> None:
        self.current = initial
        self._writer = writer
        self._bus = bus
        self.listeners: list[Callable[[TradingSettings], None]] = []

    @staticmethod
    def merged(base: TradingSettings, stored: dict[str, Any] | None) -> TradingSettings:
        """config.toml values overlaid with what the DB holds (ignored field by field if invalid)."""
        if not stored:
            return base
        data = base.model_dump()
        for key, value in stored.items():
            if key in data:
                try:
                    TradingSettings.model_validate({**data, key: value})
                    data[key] = value
                except ValidationError:
                    continue
        return TradingSettings.model_validate(data)

    def update(self, changes: dict[str, Any]) -> TradingSettings:
        """Validate changes against the current settings; apply all of them or none."""
        data = self.current.model_dump(mode="json")
        unknown = [k for k in changes if k not in data]
        if unknown:
            raise SettingsRejected({k: "unknown setting" for k in unknown})
        try:
            updated = TradingSettings.model_validate({**data, **changes})
        except ValidationError as err:
            raise SettingsRejected({".".join(str(p) for p in e["loc"]) or "settings": e["msg"] for e in err.errors()}) from None
        changed = tuple(k for k in changes if getattr(updated, k) != getattr(self.current, k))
        self.current = updated
        if changed:
            if self._writer is not None:
                self._writer.enqueue(SetConfig(CONFIG_KEY, updated.model_dump(mode="json"), int(time.time() * 1000)))
            self._bus.publish([SettingsChanged(updated, changed)])
            for listener in self.listeners:
                listener(updated)
        return updated

    def toggle(self, field: str) -> TradingSettings:
        """Flip a boolean setting (e.g. enable_sl_tightening for the `t` key)."""
        value = getattr(self.current, field)
        if not isinstance(value, bool):
            raise SettingsRejected({field: "not an on/off setting"})
        return self.update({field: not value})
