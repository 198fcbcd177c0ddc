"""What a bot does with each command: the same ConsoleBackend calls the console's keys make, answered in one line."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import assert_never

from tui_bot.core.console_api import ConsoleBackend
from tui_bot.domain.recommendations import Recommendation, RecommendationStatus
from tui_bot.live.commands import (
    Approve,
    ClosePosition,
    Command,
    Dismiss,
    Panic,
    PauseEntries,
    ResumeEntries,
    ToggleTightening,
    single_line,
)

log = logging.getLogger(__name__)
_TRADED = frozenset({RecommendationStatus.EXECUTED, RecommendationStatus.PAPER})


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether the command did what it asked, and what happened in one line."""

    ok: bool
    message: str


async def execute(command: Command, backend: ConsoleBackend) -> Outcome:
    """Run command on backend; a refusal of the core (or any failure) is a refused outcome, never an exception."""
    try:
        return await _dispatch(command, backend)
    except Exception as err:  # noqa: BLE001 - every failure is answered to the sender in one line
        if not isinstance(err, ValueError):  # ValueError (and SettingsRejected, BotNotRunning...) is the trader's
            log.exception("command %s failed", command.type)
        return Outcome(False, one_line(err))


def one_line(err: BaseException) -> str:
    """An exception's message on one line (its type when it has none)."""
    return single_line(str(err)) or type(err).__name__


async def _dispatch(command: Command, backend: ConsoleBackend) -> Outcome:
    match command:
        case Approve(recommendation_id=rec_id):
            return _decided(await backend.approve(rec_id), _TRADED)
        case Dismiss(recommendation_id=rec_id):
            return _decided(await backend.dismiss(rec_id), {RecommendationStatus.DISMISSED})
        case ToggleTightening():
            on = backend.toggle_setting("enable_sl_tightening").enable_sl_tightening
            return Outcome(True, f"SL tightening {'on' if on else 'off'}")
        case PauseEntries():
            backend.update_settings({"pause_entries": True})
            return Outcome(True, "entries paused (open positions stay protected)")
        case ResumeEntries():
            backend.update_settings({"pause_entries": False})
            return Outcome(True, "entries resumed")
        case ClosePosition(symbol=symbol, percent=percent):
            ack = await backend.close_position(symbol, percent)
            if ack is None:
                return Outcome(False, f"no {symbol} position to close")
            return Outcome(True, f"closing {percent} % of {symbol} ({ack.order_link_id})")
        case Panic():
            closing = await backend.close_all()
            return Outcome(True, f"panic: orders cancelled, {len(closing)} positions closing")
        case _:
            assert_never(command)


def _decided(rec: Recommendation, wanted: Collection[RecommendationStatus]) -> Outcome:
    """An approval or dismissal as the console tells it (symbol, side, status, fate); ok when it ended as wanted."""
    return Outcome(rec.status in wanted, f"{rec.symbol} {rec.side.value}: {rec.status} — {rec.fate}")
