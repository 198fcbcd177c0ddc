"""The listener's live state in Redis: every change of positions, orders, wallet, day PnL and fills, as applied.

Only the listener writes these keys. Each change is one MULTI/EXEC (a reader never sees half of it) that ends with
the listener's seq and a PUBLISH of the change on CHANGES_CHANNEL. Marks follow the ticker stream, at most one write
per symbol per mark interval. When Redis comes back after an outage, or is found to have lost its keys, the whole
state is written again in one transaction whose message tells readers to take a new snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tui_bot.core.bus import Subscription
from tui_bot.core.engine import Engine
from tui_bot.core.state import PositionMarked
from tui_bot.core.tasks import cancel_and_wait
from tui_bot.domain.events import ExecutionReceived, OrderUpdated, PositionUpdated, ResyncCompleted, WalletUpdated
from tui_bot.domain.market import DayPnl, DayPnlChanged
from tui_bot.domain.models import Execution
from tui_bot.live import keys
from tui_bot.live.batch import ADD_FILL, WriteBatch
from tui_bot.live.codec import LivePosition
from tui_bot.live.connection import REDIS_ERRORS, connect
from tui_bot.live.owners import PositionOwners
from tui_bot.store.writer import StoreWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublisherOptions:
    """Timings and sizes of the live state."""

    heartbeat_ttl_s: float = 5.0
    mark_interval_s: float = 0.1
    fills_max: int = 10_000
    retry_s: float = 0.5
    recent_fills: int = 1_000
    """Fills kept in memory to write again when Redis comes back without them."""


class LivePublisher:
    """Mirrors the engine's account into Redis from the bus, attributing each position to its bot."""

    def __init__(
        self,
        engine: Engine,
        writer: StoreWriter,
        url: str,
        options: PublisherOptions | None = None,
        *,
        day_pnl: Callable[[], DayPnl] | None = None,
    ) -> None:
        self.options = options or PublisherOptions()
        self._day_pnl = day_pnl
        self._day: DayPnl | None = None
        self._day_dirty = False
        self._engine = engine
        self._writer = writer
        self._redis = connect(url)
        self._owners = PositionOwners()
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._fill_sha = ""
        self._seq = 0
        self._full = True
        self._published: dict[str, str] = {}  # symbol -> the bot its position key was written under
        self._published_orders: set[str] = set()
        self._dirty_symbols: set[str] = set()
        self._dirty_orders: set[str] = set()
        self._wallet_dirty = False
        self._fills: list[tuple[str, Execution]] = []
        self._recent_fills: deque[tuple[str, Execution]] = deque(maxlen=self.options.recent_fills)
        self._marks: set[str] = set()
        self._mark_written: dict[str, float] = {}
        self._next_beat = 0.0
        self.down_since: float | None = None
        self.up = False
        self.writes = 0

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Take the store's ledger once every fill so far is booked, follow the bus from that instant, and publish."""
        while True:
            await self._writer.flush()
            ledger = self._writer.ledger
            if ledger is not None and self._writer.pending == 0:  # no batch in the writer's thread: safe to copy
                self._owners = PositionOwners(ledger)
                self._sub = self._engine.bus.subscribe()
                self._take_day()
                break
            await asyncio.sleep(0.01)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="live-publisher")

    async def stop(self) -> None:
        """Stop publishing; the heartbeat is removed so readers see the listener gone at once."""
        if self._task is not None:
            await cancel_and_wait([self._task])
        if self._sub is not None:
            self._engine.bus.unsubscribe(self._sub)
        if self.up:
            with contextlib.suppress(*REDIS_ERRORS):
                await self._redis.delete(keys.LISTENER_HEARTBEAT)
        await self._redis.aclose()

    def _take_day(self) -> None:
        """Today's PnL as the listener last read it (changes follow as DayPnlChanged); none before its first read."""
        day = self._day_pnl() if self._day_pnl is not None else None
        if day is not None and day.as_of_ms:
            self._day = day

    def owner(self, symbol: str) -> str:
        """The bot holding symbol's position as published (external: no bot of ours)."""
        return self._owners.owner(symbol)

    def status(self) -> str:
        """For the health line: redis=up, redis=down 12s, or redis=connecting."""
        if self.up:
            return "redis=up"
        if self.down_since is None:
            return "redis=connecting"
        return f"redis=down {time.monotonic() - self.down_since:.0f}s"

    async def _run(self) -> None:
        while True:
            try:
                await self._publish_all()
                await self._serve()
            except REDIS_ERRORS as err:
                self._went_down(err)
                await self._await_redis()
            except Exception as err:  # a bug must not end publishing: logged, then everything written again
                log.exception("live state publisher failed; writing everything again")
                self._went_down(err)
                await asyncio.sleep(self.options.retry_s)

    def _went_down(self, err: BaseException) -> None:
        if self.up or self.down_since is None:
            log.warning("redis unreachable, live state not published until it is back: %s", err)
            self.down_since = time.monotonic()
        self.up = False
        self._full = True

    async def _await_redis(self) -> None:
        """Keep noting the bus (fills, owners) while Redis is away; return once it answers."""
        assert self._sub is not None
        while True:
            self._note(self._sub.take())
            with contextlib.suppress(*REDIS_ERRORS):
                await self._redis.ping()  # type: ignore[misc]
                return
            await asyncio.sleep(self.options.retry_s)

    # -- following the bus -----------------------------------------------------------------------

    async def _serve(self) -> None:
        """Write every batch the bus hands over, the marks when due and the heartbeat, until Redis fails."""
        assert self._sub is not None
        while True:
            wait = self._next_due() - time.monotonic()
            batch: list[object] = []
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        batch = await self._sub.next_batch()
            else:
                batch = self._sub.take()
            self._note(batch)
            await self._write()
            if self._full:
                return

    def _next_due(self) -> float:
        """When the next heartbeat or held-back mark is due (monotonic)."""
        due = self._next_beat
        interval = self.options.mark_interval_s
        for symbol in self._marks:
            due = min(due, self._mark_written.get(symbol, 0.0) + interval)
        return due

    def _note(self, items: list[object]) -> None:
        """Record what a bus batch changed (written by the next _write)."""
        for item in items:
            kind = type(item)
            if kind is PositionMarked:
                self._marks.add(item.symbol)  # type: ignore[attr-defined]
            elif kind is ExecutionReceived:
                self._note_execution(item.execution)  # type: ignore[attr-defined]
            elif kind is PositionUpdated:
                self._dirty_symbols.add(item.position.symbol)  # type: ignore[attr-defined]
                self._reconcile_owners()
            elif kind is OrderUpdated:
                self._dirty_orders.add(item.order.order_id)  # type: ignore[attr-defined]
            elif kind is WalletUpdated:
                self._wallet_dirty = True
            elif kind is ResyncCompleted:
                self._note_reseed()
            elif kind is DayPnlChanged:
                self._day, self._day_dirty = item.day, True  # type: ignore[attr-defined]

    def _note_execution(self, execution: Execution) -> None:
        """Book the fill; its position is written with it only when the engine's position already shows the fill
        (its seq, Bybit's order is not guaranteed): else the position update that follows writes the new size."""
        bot = self._owners.fill_bot(execution)  # before booking: a TP fill belongs to the holder it closes
        self._owners.apply(execution)
        self._fills.append((bot, execution))
        self._recent_fills.append((bot, execution))
        pos = self._engine.state.positions.get(execution.symbol)
        if pos is not None and pos.seq >= execution.seq:  # the owner may have changed under a position already sent
            self._dirty_symbols.add(execution.symbol)

    def _reconcile_owners(self) -> None:
        held = {symbol: pos.side for symbol, pos in self._engine.state.positions.items() if pos.side and pos.size}
        self._owners.reconcile(held, self._engine.client.now_ms())

    def _note_reseed(self) -> None:
        """A REST reseed replaced positions, orders and wallet without events: compare everything."""
        state = self._engine.state
        self._reconcile_owners()
        self._dirty_symbols |= set(state.positions) | set(self._published)
        self._dirty_orders |= set(state.open_orders) | self._published_orders
        self._wallet_dirty = True

    # -- writing ----------------------------------------------------------------------------------

    async def _write(self) -> None:
        """One MULTI/EXEC of everything noted (and the heartbeat when due); nothing when nothing changed."""
        now = time.monotonic()
        self._take_due_marks(now)
        beat = now >= self._next_beat
        dirty = self._dirty_symbols or self._dirty_orders or self._wallet_dirty or self._day_dirty or self._fills
        if not (beat or dirty):
            return
        batch = self._batch()
        for symbol in self._dirty_symbols:
            self._write_symbol(batch, symbol)
            self._mark_written[symbol] = now
        self._write_orders(batch)
        if self._wallet_dirty and self._engine.state.wallet is not None:
            batch.put_wallet(self._engine.state.wallet)
        if self._day_dirty and self._day is not None:
            batch.put_day_pnl(self._day)
        for bot, execution in self._fills:
            batch.add_fill(bot, execution)
        if beat:
            self._beat(batch, now)
        self._dirty_symbols, self._dirty_orders, self._wallet_dirty, self._fills = set(), set(), False, []
        self._day_dirty = False
        if batch.changes:
            await self._execute(batch, batch.finish(self._next_seq()))
        else:
            await batch.pipe.execute()

    def _take_due_marks(self, now: float) -> None:
        """Marks whose symbol was not written for a mark interval join the write; the rest wait."""
        interval = self.options.mark_interval_s
        due = {s for s in self._marks if now - self._mark_written.get(s, 0.0) >= interval}
        self._dirty_symbols |= due
        self._marks -= due | self._dirty_symbols

    def _write_symbol(self, batch: WriteBatch, symbol: str) -> None:
        """symbol's position as the engine holds it now, under its owner (moved when the owner changed)."""
        pos = self._engine.state.positions.get(symbol)
        was = self._published.get(symbol)
        if pos is None or not pos.size or pos.side is None:
            if was is not None:
                batch.drop_position(was, symbol)
                batch.drop_account_position(symbol)
                del self._published[symbol]
            return
        bot = self._owners.owner(symbol)
        if was is not None and was != bot:
            batch.drop_position(was, symbol)
        batch.put_position(LivePosition.of(bot, pos), pos, listed=was == bot)
        self._published[symbol] = bot

    def _write_orders(self, batch: WriteBatch) -> None:
        open_orders = self._engine.state.open_orders
        for order_id in self._dirty_orders:
            order = open_orders.get(order_id)
            if order is not None:
                batch.put_order(order)
                self._published_orders.add(order_id)
            elif order_id in self._published_orders:
                batch.drop_order(order_id)
                self._published_orders.discard(order_id)

    def _beat(self, batch: WriteBatch, now: float) -> None:
        ttl = self.options.heartbeat_ttl_s
        batch.heartbeat(int(time.time() * 1000), int(ttl * 1000))
        self._next_beat = now + ttl / 3

    def _batch(self) -> WriteBatch:
        return WriteBatch(self._redis.pipeline(transaction=True), self._fill_sha, self.options.fills_max)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def _execute(self, batch: WriteBatch, seq_index: int) -> None:
        """EXEC; a reply without the previous seq (Redis lost its keys) or a failed command: write it all again."""
        results = await batch.pipe.execute(raise_on_error=False)
        self.writes += 1
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            log.warning("live state write partly failed, writing everything again: %s", failed[0])
        if failed or results[seq_index] is None:
            self._full = True

    async def _publish_all(self) -> None:
        """Replace every live key with the engine's state in one transaction, telling readers to snapshot again."""
        if not self._full:
            return
        redis = self._redis
        self._fill_sha = await redis.script_load(ADD_FILL)
        self._seq = max(self._seq, int(await redis.get(keys.LISTENER_SEQ) or 0))
        stale = await self._stale_keys()
        batch = self._batch()
        if stale:
            batch.pipe.delete(*stale)
        self._published, self._published_orders = {}, set()
        state = self._engine.state
        for symbol in list(state.positions):
            self._write_symbol(batch, symbol)
        self._dirty_orders = set(state.open_orders)
        self._write_orders(batch)
        if state.wallet is not None:
            batch.put_wallet(state.wallet)
        if self._day is not None:
            batch.put_day_pnl(self._day)
        for bot, execution in self._recent_fills:
            batch.add_fill(bot, execution)
        self._beat(batch, time.monotonic())
        batch.finish(self._next_seq(), reset=True)
        self._dirty_symbols, self._dirty_orders, self._wallet_dirty, self._fills = set(), set(), False, []
        self._day_dirty = False
        self._marks.clear()
        await batch.pipe.execute()
        self.writes += 1
        self._full = False
        self._came_up()

    async def _stale_keys(self) -> list[str]:
        """Every live key written before (by this listener or one before it), to be replaced."""
        bots = [b.decode() for b in await self._redis.smembers(keys.BOTS)]  # type: ignore[misc]
        pipe = self._redis.pipeline(transaction=False)
        for bot in bots:
            pipe.smembers(keys.open_symbols(bot))
        held = await pipe.execute()
        stale = [keys.position(bot, s.decode()) for bot, symbols in zip(bots, held, strict=True) for s in symbols]
        stale += [keys.open_symbols(bot) for bot in bots]
        return [*stale, keys.ACCOUNT_POSITIONS, keys.ACCOUNT_ORDERS, keys.ACCOUNT_WALLET, keys.ACCOUNT_DAY_PNL]

    def _came_up(self) -> None:
        if self.down_since is not None:
            log.warning("redis back after %.0fs: live state written again", time.monotonic() - self.down_since)
        self.down_since = None
        self.up = True
