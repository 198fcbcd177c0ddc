"""Trading settings at run time: validated edits, persisted in the DB config table, applied live."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tui_bot.core.strategies import StrategyLoadError, load_strategies
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.domain.validation import plain_reason
from tui_bot.store.ops import SetConfig
from tui_bot.store.writer import StoreWriter

log = logging.getLogger(__name__)
CONFIG_KEY = "trading"
SAFE_FLAGS = ("paper_trading", "use_testnet")  # turned on in config.toml, a stored edit cannot turn them off


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


def _validated(data: dict[str, Any], changes: dict[str, Any]) -> TradingSettings:
    """data (JSON values) with changes applied, validated, and the strategies named loadable; else SettingsRejected
    naming every field that is wrong, each with its reason in plain words."""
    errors: dict[str, str] = {}
    updated: TradingSettings | None = None
    try:
        updated = TradingSettings.model_validate({**data, **changes})
    except ValidationError as err:
        errors = {".".join(str(p) for p in e["loc"]) or "settings": plain_reason(e) for e in err.errors()}
    if "strategies" in changes and not any(key.split(".")[0] == "strategies" for key in errors):
        try:
            load_strategies(updated.strategies if updated is not None else changes["strategies"])
        except StrategyLoadError as err:
            errors["strategies"] = str(err)
    if errors or updated is None:
        raise SettingsRejected(errors)
    return updated


def problems(current: TradingSettings, changes: dict[str, Any]) -> dict[str, str]:
    """Every reason `changes` would be refused on top of `current` (empty when they would apply); applies nothing."""
    try:
        _validated(current.model_dump(mode="json"), changes)
    except SettingsRejected as err:
        return err.errors
    return {}


class SettingsService:
    """Owns the current TradingSettings; every accepted edit is persisted and announced."""

    def __init__(
        self,
        initial: TradingSettings,
        writer: StoreWriter | None,
        announce: Callable[[list[object]], None],
        overrides: dict[str, Any] | None = None,
    ) -> None:
        self.current = initial
        self._writer = writer
        self._announce = announce
        """Where SettingsChanged goes: the engine's announce (tests may give a bare Bus's publish)."""
        self._overrides = dict(overrides or {})
        """The settings edited in the app (JSON values): only these are stored, so config.toml keeps the rest."""
        self.listeners: list[Callable[[TradingSettings], None]] = []

    @staticmethod
    def overrides(base: TradingSettings, stored: object) -> dict[str, Any]:
        """The stored edits that still apply on top of config.toml: known, valid, and different from it.

        Anything else is left out with a warning. paper_trading and use_testnet turned on in config.toml
        stay on whatever is stored: leaving them for live money takes the file.
        """
        if not stored:
            return {}
        if not isinstance(stored, dict):
            log.warning("stored trading settings are not a table (%r); using config.toml's", stored)
            return {}
        data = base.model_dump(mode="json")
        kept: dict[str, Any] = {}
        for key, value in stored.items():
            if key not in data:
                log.warning("stored setting %s is not a setting any more; ignored", key)
                continue
            if key in SAFE_FLAGS and data[key] is True and value is not True:
                log.warning("stored setting %s=%r ignored: config.toml turns it on", key, value)
                continue
            try:
                _validated(data, {key: value})
            except SettingsRejected as err:
                log.warning("stored setting %s=%r is no longer valid (%s); using %r", key, value, err, data[key])
                continue
            if value != data[key]:
                kept[key] = value
        if kept:
            log.info("settings edited in the app override config.toml: %s", ", ".join(sorted(kept)))
        return kept

    @staticmethod
    def with_overrides(base: TradingSettings, overrides: dict[str, Any]) -> TradingSettings:
        """base with overrides (already checked by overrides()) applied."""
        return TradingSettings.model_validate({**base.model_dump(mode="json"), **overrides}) if overrides else base

    def update(self, changes: dict[str, Any]) -> TradingSettings:
        """Validate changes against the current settings; apply all of them or none."""
        data = self.current.model_dump(mode="json")
        unknown = [k for k in changes if k not in data]
        if unknown:
            raise SettingsRejected({k: "unknown setting" for k in unknown})
        updated = _validated(data, changes)
        changed = tuple(k for k in changes if getattr(updated, k) != getattr(self.current, k))
        self.current = updated
        if changed:
            values = updated.model_dump(mode="json")
            self._overrides.update({k: values[k] for k in changed})
            if self._writer is not None:
                self._writer.enqueue(SetConfig(CONFIG_KEY, dict(self._overrides), int(time.time() * 1000)))
            self._announce([SettingsChanged(updated, changed)])
            for listener in self.listeners:
                listener(updated)
        return updated

    def toggle(self, field: str) -> TradingSettings:
        """Flip a boolean setting (e.g. enable_sl_tightening for the `t` key)."""
        value = getattr(self.current, field)
        if not isinstance(value, bool):
            raise SettingsRejected({field: "not an on/off setting"})
        return self.update({field: not value})
