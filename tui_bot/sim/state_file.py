"""The embedded exchange's paper account kept across restarts: the account and every market's price in one JSON
file, written atomically when the account changed (looked at every few seconds) and when the exchange stops, read
back when it starts.

The API key and secret are never written: a restarted exchange issues new ones and the account moves to them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tui_bot.sim.account import Account
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.market import MarketState

log = logging.getLogger(__name__)

STATE_VERSION = 1
SAVE_INTERVAL_S = 2.0
"""How often the file is brought up to date while the exchange runs (a crash loses at most this much)."""
_SECRET_FIELDS = {"api_key", "api_secret"}


class SimStateError(Exception):
    """The state file cannot be read back; the message is one line naming the file."""


_ACCOUNT = TypeAdapter(Account)
_MARKETS = TypeAdapter(list[MarketState])


def state_bytes(engine: ExchangeEngine, api_key: str) -> bytes:
    """The file's content for the account of api_key and every market, now (call on the exchange's loop)."""
    account = _ACCOUNT.dump_python(engine.accounts[api_key], mode="json", exclude=_SECRET_FIELDS)
    markets = _MARKETS.dump_python([m.saved_state() for m in engine.markets.values()], mode="json")
    document = {"version": STATE_VERSION, "saved_ms": engine.clock.now_ms(), "account": account, "markets": markets}
    return json.dumps(document, separators=(",", ":")).encode()


class StateSaver:
    """Keeps the file of one account current: written when the engine's revision of the account moved, and at stop."""

    def __init__(self, path: Path, engine: ExchangeEngine, api_key: str) -> None:
        self.path, self.engine, self.api_key = path, engine, api_key
        self.interval_s = SAVE_INTERVAL_S
        self.checks = 0
        self.writes = 0
        self._saved_revision = engine.revisions.get(api_key, 0)  # the file holds what was loaded (or nothing yet)

    async def run(self) -> None:
        """Every interval, write the file if the account changed since the last write (until cancelled)."""
        while True:
            await asyncio.sleep(self.interval_s)
            revision = self.engine.revisions.get(self.api_key, 0)
            if revision != self._saved_revision:
                content = state_bytes(self.engine, self.api_key)  # on the exchange's loop: nothing moves meanwhile
                if await asyncio.to_thread(self._write, content):
                    self._saved_revision = revision
            self.checks += 1

    def save_now(self) -> None:
        """Write the file now, changed or not (at stop: the markets' prices as they are)."""
        revision = self.engine.revisions.get(self.api_key, 0)
        if self._write(state_bytes(self.engine, self.api_key)):
            self._saved_revision = revision

    def _write(self, content: bytes) -> bool:
        try:
            write_state(self.path, content)
        except OSError as err:
            log.warning("paper account file %s: cannot write it (%s)", self.path, err.strerror or err)
            return False
        self.writes += 1
        return True


def write_state(path: Path, content: bytes) -> None:
    """Replace the file atomically (a crash mid-write leaves the previous state)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def load_state(path: Path, engine: ExchangeEngine, api_key: str) -> bool:
    """Resume the account of api_key and the markets from path; False when there is no file yet."""
    try:
        document: Any = json.loads(path.read_bytes())
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as err:
        raise SimStateError(f"paper account file {path}: cannot read it ({err.__class__.__name__})") from None
    if not isinstance(document, dict) or document.get("version") != STATE_VERSION:
        raise SimStateError(f"paper account file {path}: not a version {STATE_VERSION} state file")
    own = engine.accounts[api_key]
    try:
        keys = {"api_key": own.api_key, "api_secret": own.api_secret}
        account = _ACCOUNT.validate_python({**document["account"], **keys})
        markets = _MARKETS.validate_python(document["markets"])
    except (KeyError, TypeError, ValidationError) as err:
        raise SimStateError(f"paper account file {path}: malformed ({_first_error(err)})") from None
    engine.accounts[api_key] = account
    for saved in markets:
        market = engine.markets.get(saved.symbol)
        if market is not None:  # a symbol no longer listed keeps nothing but its positions' history
            market.resume(saved, engine.clock.now_ms())
    log.info("paper account resumed from %s: balance %s, %d open positions", path, account.wallet_balance,
             sum(1 for p in account.positions.values() if p.size))  # fmt: skip
    return True


def _first_error(err: Exception) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(err)
