"""Position protection: R from the first stop, stop tightening by R steps, trailing stops and aged positions."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from tui_bot.core import stops
from tui_bot.core.engine import Engine
from tui_bot.core.orders import OrderService
from tui_bot.core.settings import SettingsService
from tui_bot.core.tasks import BackgroundTasks
from tui_bot.domain.enums import Side
from tui_bot.domain.events import (
    Event,
    PositionUpdated,
    ProtectionActed,
    ResyncCompleted,
    TickerUpdated,
)
from tui_bot.domain.models import Position
from tui_bot.domain.numbers import ZERO, plain
from tui_bot.domain.order_ids import OrderReason
from tui_bot.domain.requests import TradingStopRequest
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.exchange.errors import ExchangeError, plain_words
from tui_bot.store.db import Database
from tui_bot.store.ops import SnapshotPosition
from tui_bot.store.repos import first_snapshot_since
from tui_bot.store.writer import StoreWriter

log = logging.getLogger(__name__)
ARMED = "protect:armed"
RETRY_AFTER_S = 5.0
CLIENT_TRAIL_EVERY_S = 1.0
_HOUR_MS = 3_600_000
RESTORE_SLACK_MS = 60_000

Owns = Callable[[str], bool]
"""Whether this process holds (and so protects) the position in a symbol."""


def every_position(symbol: str) -> bool:
    """A single process protects every position of the account."""
    return True


@dataclass
class Guard:
    """What protection knows about one open position (reset when it goes flat or flips side)."""

    side: Side
    opened_ms: int
    open_time: int = 0
    """The exchange's openTime of the position this guard was made for (0 when it did not say)."""
    r: Decimal | None = None
    sent_stop: Decimal = ZERO
    steps_done: set[Decimal] = field(default_factory=set)
    best_mark: Decimal = ZERO
    trail_armed: bool = False
    trail_active: bool = False
    last_trail_s: float = 0.0
    aged_done: bool = False
    busy: bool = False
    retry_at: float = 0.0


@dataclass
class Action:
    """One protective request: what to send (None = close the position), how to record it, what it settles."""

    action: str
    reason: str
    detail: str
    request: TradingStopRequest | None
    new_stop: Decimal | None = None
    commit: Callable[[], None] = lambda: None


class Protection:
    """Watches positions at ticker speed and moves their stops as the trading settings say."""

    def __init__(
        self,
        engine: Engine,
        orders: OrderService,
        settings: SettingsService,
        writer: StoreWriter | None,
        *,
        now_ms: Callable[[], int] | None = None,
        aged_check_s: float = 5.0,
        owns: Owns = every_position,
    ) -> None:
        self.engine = engine
        self.orders = orders
        self.settings = settings
        self.writer = writer
        self.now_ms = now_ms or engine.client.now_ms
        self.aged_check_s = aged_check_s
        self.owns = owns
        self.guards: dict[str, Guard] = {}
        self.actions = 0
        self.tasks = BackgroundTasks(engine.health.tasks, log)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Listen to the engine's applied events, check the positions already open, start the aged monitor."""
        self.engine.listeners.append(self.on_event)
        for symbol in list(self.engine.state.positions):
            self._evaluate(symbol)
        self.tasks.every("protection-aged", self.aged_check_s, self.check_aged)

    async def stop(self) -> None:
        """Stop listening and cancel the aged monitor and any request in flight."""
        with contextlib.suppress(ValueError):
            self.engine.listeners.remove(self.on_event)
        await self.tasks.stop()

    async def restore(self, conn: Database) -> None:
        """Reload each open position's initial stop from its first armed snapshot, so R survives a restart."""
        for symbol, pos in list(self.engine.state.positions.items()):
            if pos.side is None or not pos.size or not self.owns(symbol):
                continue
            guard = self._guard_for(pos)
            # The armed row of this very position: same side and entry (two clocks stamp the times, so allow slack).
            armed = f"{ARMED} {pos.side.value} entry {plain(pos.entry_price)} "
            row = await first_snapshot_since(conn, symbol, armed, guard.opened_ms - RESTORE_SLACK_MS)
            if row is None:
                continue
            entry, stop = Decimal(row[0]), Decimal(row[1])
            r = stops.initial_r(pos.side, entry, stop)
            if r is not None:
                guard.r = r
                log.info("%s: protection restored initial stop %s (R = %s)", symbol, plain(stop), plain(r))

    def initial_risk(self, symbol: str) -> Decimal | None:
        """R of the open position in symbol (entry to its first stop), once armed."""
        guard = self.guards.get(symbol)
        return guard.r if guard is not None else None

    # -- events ---------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Engine listener (never awaits): re-check a position when its mark or the position itself changed."""
        if isinstance(event, TickerUpdated):
            if "mark_price" in event.fields and event.symbol in self.engine.state.positions:
                self._evaluate(event.symbol)
        elif isinstance(event, PositionUpdated):
            self._evaluate(event.position.symbol)
        elif isinstance(event, ResyncCompleted):
            for symbol in set(self.guards) | set(self.engine.state.positions):
                self._evaluate(symbol)

    def _guard_for(self, pos: Position) -> Guard:
        """The guard of an open position, new when the position is new, flipped side or was reopened."""
        assert pos.side is not None
        guard = self.guards.get(pos.symbol)
        reopened = guard is not None and bool(guard.open_time and pos.open_time) and pos.open_time != guard.open_time
        if guard is None or guard.side is not pos.side or reopened:  # reopened: a flat event we never saw
            opened = pos.open_time or pos.created_time or self.now_ms()
            guard = self.guards[pos.symbol] = Guard(pos.side, opened, open_time=pos.open_time)
        return guard

    def _arm(self, pos: Position, guard: Guard) -> None:
        """Take the first protecting stop seen as the position's initial stop and record it."""
        assert pos.side is not None
        r = stops.initial_r(pos.side, pos.entry_price, pos.stop_loss)
        if r is None:
            return
        guard.r = r
        reason = f"{ARMED} {pos.side.value} entry {plain(pos.entry_price)} stop {plain(pos.stop_loss)} R {plain(r)}"
        self._snapshot(pos, reason)
        log.info("%s: protection armed, initial stop %s, R = %s", pos.symbol, plain(pos.stop_loss), plain(r))

    def _evaluate(self, symbol: str) -> None:
        """Decide whether the position needs a protective request now and launch at most one."""
        pos = self.engine.state.positions.get(symbol)
        if pos is None or pos.side is None or not pos.size or not self.owns(symbol):
            self.guards.pop(symbol, None)  # flat, or another process's to protect: nothing armed, nothing recorded
            return
        guard = self._guard_for(pos)
        if pos.mark_price:
            guard.best_mark = stops.best_of(pos.side, guard.best_mark, pos.mark_price)
        if guard.r is None:
            self._arm(pos, guard)
        if guard.r is None or guard.busy or time.monotonic() < guard.retry_at or not pos.mark_price:
            return
        action = self._plan(pos, guard, self.settings.current)
        if action is not None:
            self._launch(pos, guard, action)

    # -- planning ---------------------------------------------------------------------------

    def _plan(self, pos: Position, guard: Guard, s: TradingSettings) -> Action | None:
        """The next protective request for an armed position, if any: tightening first, then trailing."""
        action = None
        if not s.enable_position_tightening:  # the master switch for every stop the bot moves
            return None
        if s.enable_sl_tightening:
            action = self._plan_tighten(pos, guard, s)
        if action is None and s.trailing_stop_mode == "native" and not guard.trail_armed and not pos.trailing_stop:
            action = self._plan_native_trail(pos, guard, s)
        if action is None and s.trailing_stop_mode == "client":
            action = self._plan_client_trail(pos, guard, s)
        return action

    def _tick(self, symbol: str) -> Decimal:
        return self.engine.state.instruments[symbol].tick_size

    def _plan_tighten(self, pos: Position, guard: Guard, s: TradingSettings) -> Action | None:
        assert pos.side is not None and guard.r is not None
        fav = stops.favourable_r(pos.side, pos.entry_price, pos.mark_price, guard.r)
        current = stops.best_of(pos.side, pos.stop_loss, guard.sent_stop)
        hit = stops.tighten_target(
            s.rr_tightening_steps, pos.side, pos.entry_price, guard.r, fav, current, self._tick(pos.symbol)
        )
        if hit is None or hit[0].at_r in guard.steps_done:
            return None
        step, target = hit

        def commit() -> None:
            guard.steps_done.add(step.at_r)
            guard.sent_stop = target

        label = f"{stops.fmt_r(step.at_r)}→{stops.fmt_r(step.stop_r)}"
        detail = (
            f"stop {plain(current) if current else 'none'} → {plain(target)} "
            f"({label} at {stops.fmt_r(fav.quantize(Decimal('0.01')))})"
        )
        return Action(
            "tighten", f"tighten {label}", detail, TradingStopRequest(pos.symbol, stop_loss=target), target, commit
        )

    def _plan_native_trail(self, pos: Position, guard: Guard, s: TradingSettings) -> Action | None:
        assert pos.side is not None and guard.r is not None
        last = self.engine.state.last_price(pos.symbol) or pos.mark_price
        distance, active = stops.native_trailing(
            pos.side,
            pos.entry_price,
            guard.r,
            s.trailing_activate_r,
            s.trailing_distance_r,
            last,
            self._tick(pos.symbol),
        )

        def commit() -> None:
            guard.trail_armed = True

        when = f"from {plain(active)}" if active is not None else "from now"
        detail = f"exchange trailing stop {plain(distance)} ({stops.fmt_r(s.trailing_distance_r)}) {when}"
        request = TradingStopRequest(pos.symbol, trailing_stop=distance, active_price=active)
        return Action("trail", "trail native", detail, request, None, commit)

    def _plan_client_trail(self, pos: Position, guard: Guard, s: TradingSettings) -> Action | None:
        assert pos.side is not None and guard.r is not None
        if not guard.trail_active:
            best_fav = stops.favourable_r(pos.side, pos.entry_price, guard.best_mark, guard.r)
            guard.trail_active = best_fav >= s.trailing_activate_r
        if not guard.trail_active or time.monotonic() - guard.last_trail_s < CLIENT_TRAIL_EVERY_S:
            return None
        current = stops.best_of(pos.side, pos.stop_loss, guard.sent_stop)
        market = self.engine.state.last_price(pos.symbol) or pos.mark_price
        target = stops.client_trailing_target(
            pos.side, guard.best_mark, guard.r, s.trailing_distance_r, current, self._tick(pos.symbol), market
        )
        if target is None:
            return None

        def commit() -> None:
            guard.sent_stop = target

        guard.last_trail_s = time.monotonic()
        detail = (
            f"trailing stop {plain(current) if current else 'none'} → {plain(target)} "
            f"(best mark {plain(guard.best_mark)})"
        )
        return Action("trail", "trail client", detail, TradingStopRequest(pos.symbol, stop_loss=target), target, commit)

    # -- aged positions --------------------------------------------------------------------------

    def check_aged(self) -> None:
        """Act once on each position older than aged_position_hours (0 = off)."""
        s = self.settings.current
        if s.aged_position_hours <= 0 or (s.aged_position_action == "tighten" and not s.enable_position_tightening):
            return
        now = self.now_ms()
        for pos in list(self.engine.state.positions.values()):
            if pos.side is None or not pos.size or not self.owns(pos.symbol):
                continue
            guard = self._guard_for(pos)
            if guard.aged_done or guard.busy or time.monotonic() < guard.retry_at:
                continue
            if now - guard.opened_ms < s.aged_position_hours * _HOUR_MS:
                continue
            action = self._plan_aged(pos, guard, s)
            if action is None:
                guard.aged_done = True
            else:
                self._launch(pos, guard, action)

    def _plan_aged(self, pos: Position, guard: Guard, s: TradingSettings) -> Action | None:
        assert pos.side is not None
        hours = f"open over {plain(s.aged_position_hours)}h"

        def commit() -> None:
            guard.aged_done = True

        if s.aged_position_action == "close":
            return Action("aged", "aged close", f"closed: {hours}", None, None, commit)
        current = stops.best_of(pos.side, pos.stop_loss, guard.sent_stop)
        target = stops.aged_target(pos.side, pos.entry_price, pos.mark_price, current, self._tick(pos.symbol))
        if target is None:
            log.info("%s: %s, but its stop cannot be tightened further", pos.symbol, hours)
            return None

        def commit_stop() -> None:
            guard.aged_done = True
            guard.sent_stop = target

        detail = f"stop {plain(current) if current else 'none'} → {plain(target)} ({hours})"
        return Action(
            "aged", "aged tighten", detail, TradingStopRequest(pos.symbol, stop_loss=target), target, commit_stop
        )

    # -- sending and recording ----------------------------------------------------------------------

    def _launch(self, pos: Position, guard: Guard, action: Action) -> None:
        """Mark the position busy and send the request in a task (one in flight per symbol)."""
        guard.busy = True
        self.tasks.spawn(f"protection-{pos.symbol}", self._run(pos, guard, action), one_off=True)

    async def _run(self, pos: Position, guard: Guard, action: Action) -> None:
        try:
            if action.request is None:
                if await self.orders.close_position(pos.symbol, OrderReason.TIME_EXIT) is None:
                    action.commit()  # already flat: nothing was sent, so nothing is recorded as done
                    log.info("%s: %s — already flat, nothing sent", pos.symbol, action.reason)
                    return
            else:
                await self.orders.set_trading_stop(action.request)
        except ExchangeError as err:
            guard.retry_at = time.monotonic() + RETRY_AFTER_S
            log.warning(
                "%s: could not %s (%s): %s; trying again in %.0fs at the earliest",
                pos.symbol,
                action.reason,
                action.detail,
                plain_words(err.code, err.message),
                RETRY_AFTER_S,
            )
        except (ConnectionError, TimeoutError, OSError) as err:
            guard.retry_at = time.monotonic() + RETRY_AFTER_S
            log.warning("%s: could not %s: network error (%s)", pos.symbol, action.reason, err)
        except Exception as err:
            guard.retry_at = time.monotonic() + RETRY_AFTER_S
            self.tasks.failed(f"protection-{pos.symbol}", err, action.reason)
        else:
            action.commit()
            self._record(pos, action)
        finally:
            guard.busy = False

    def _record(self, pos: Position, action: Action) -> None:
        """Snapshot, publish and log one protective action."""
        self.actions += 1
        snap = replace(pos, stop_loss=action.new_stop) if action.new_stop is not None else pos
        self._snapshot(snap, action.reason)
        self.engine.announce(
            [
                ProtectionActed(
                    symbol=pos.symbol,
                    action=action.reason,
                    detail=action.detail,
                    exchange_ts=0,
                    received_ns=time.time_ns(),
                )
            ]
        )
        log.info("%s: %s — %s", pos.symbol, action.reason, action.detail)

    def _snapshot(self, pos: Position, reason: str) -> None:
        if self.writer is not None:
            self.writer.enqueue(SnapshotPosition(pos, reason, self.now_ms()))
