"""The one consumer of exchange events: applies them to state, persists, publishes, keeps streams honest."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tui_bot.core import order_reconcile
from tui_bot.core.bus import Bus
from tui_bot.core.health import Health
from tui_bot.core.state import AccountState
from tui_bot.core.stream_supervisor import StreamSupervisor
from tui_bot.core.tasks import BackgroundTasks
from tui_bot.core.ticker_subscriptions import TickerSubscriptions
from tui_bot.domain.events import (
    ConnectionStateChanged,
    Event,
    ExecutionReceived,
    OrderUpdated,
    PositionUpdated,
    ResyncCompleted,
    Source,
    StreamMode,
    TickerUpdated,
    WalletUpdated,
)
from tui_bot.domain.market import MARKET_FEED
from tui_bot.domain.models import Execution, Order, Position, Wallet
from tui_bot.exchange.client import ExchangeClient
from tui_bot.store.ops import RecordExecution, SetConfig, SnapshotPosition, UpsertOrder
from tui_bot.store.writer import StoreWriter

log = logging.getLogger(__name__)
_PRIVATE = (OrderUpdated, ExecutionReceived, PositionUpdated, WalletUpdated)
_EXEC_LOOKBACK_MS = 5_000
EXEC_SYNCED_KEY = "executions_synced_ms"  # config row: the last completed reseed's time (state.exec_synced_ms)
EXEC_IDS_KEEP_MS = 3_600_000
"""Exec ids stay in memory this long before where the next reseed's execution query starts; only the store
keeps older ones (state.exec_ids is bounded by the fills of about that hour)."""
_FIRST_LOOKBACK_MS = 7 * 86_400_000 - 60_000


@dataclass
class EngineOptions:
    """Timings of the engine's supervision."""

    watchlist: list[str] = field(default_factory=list)
    fallback_after_s: float = 10.0
    poll_interval_s: float = 2.0
    reconcile_interval_s: float = 60.0
    order_event_timeout_s: float = 3.0
    supervise_every_s: float = 0.25
    order_lookups_per_reseed: int = 20  # order-history requests by id per reseed; the rest wait for the next one


@dataclass
class Reseed:
    """A REST snapshot of the account, applied by the consumer like any other input."""

    reason: str
    positions: list[Position]
    orders: list[Order]
    wallet: Wallet
    executions: list[Execution]
    as_of_ms: int = 0
    history: list[Order] = field(default_factory=list)  # orders read from order history (recent ones and looked up)
    lookups: order_reconcile.LookupPlan = order_reconcile.NOTHING_TO_LOOK_UP
    applied: asyncio.Event = field(default_factory=asyncio.Event)


class Engine:
    """The one writer of AccountState once started; times events in Health, stores them via the shared StoreWriter."""

    def __init__(
        self,
        client: ExchangeClient,
        options: EngineOptions,
        *,
        writer: StoreWriter | None = None,
        bus: Bus | None = None,
    ) -> None:
        self.client = client
        self.options = options
        self.writer = writer
        self.bus = bus or Bus()
        self.state = AccountState()
        self.health = Health(clock_offset_ms=client.clock_offset_ms)
        self.resyncs = 0
        self.divergences = 0
        self.listeners: list[Callable[[Event], None]] = []
        self._queue: asyncio.Queue[Event | Reseed | asyncio.Event] = asyncio.Queue()  # an Event marks a drain point
        self.tasks = BackgroundTasks(self.health.tasks, log)
        self.tickers = TickerSubscriptions(client, self.state, options.watchlist, self.tasks)
        self._consumer: asyncio.Task[None] | None = None
        self._resync_lock = asyncio.Lock()
        self.supervisor = StreamSupervisor(
            client, options, health=self.health, bus=self.bus, tasks=self.tasks, resync=self.resync
        )

    @property
    def mode(self) -> StreamMode:
        """The account feed's mode: the private stream, or polling while it is down or stalled."""
        return self.supervisor.mode

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Load instruments, open the streams, seed from REST once the private stream is subscribed, then supervise."""
        self.state.instruments = {i.symbol: i for i in await self.client.fetch_instruments()}
        self._consumer = self.tasks.spawn("engine-consume", self._consume())
        await self.client.start(self.feed)
        await self._await_private_live(self.options.fallback_after_s)
        await self.resync("start")
        await self.tickers.sync()
        self.tasks.every("engine-supervise", self.options.supervise_every_s, self.supervisor.supervise_once)

    async def _await_private_live(self, timeout: float) -> None:
        """Seeding before the subscription is live would lose an order filled in between (only its fill is reseeded)."""
        deadline = time.monotonic() + timeout
        while not self.client.private_live and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop supervising and resyncing, close the streams, apply what is queued, end every task, flush the store."""
        await self.tasks.stop(spare=self._consumer)
        await self.client.stop()
        if self._consumer is not None and not self._consumer.done():  # a start that failed early has none
            await self.drain()
        await self.tasks.stop()
        if self.writer is not None:
            await self.writer.flush()

    async def drain(self) -> None:
        """Wait until every input queued so far has been applied."""
        marker = asyncio.Event()
        self._queue.put_nowait(marker)
        await marker.wait()

    def feed(self, events: list[Event]) -> None:
        """Entry point for stream callbacks (same loop and thread).

        When nothing is queued the events are applied at once, which keeps their order and the
        single-writer rule (`_apply` never awaits) without waiting for the consumer's next turn;
        otherwise they queue behind what is pending. Tickers go straight to their hot path.
        """
        queue = self._queue
        for event in events:
            if not queue.empty():
                queue.put_nowait(event)
                continue
            try:
                if type(event) is TickerUpdated:
                    self._apply_ticker(event)
                else:
                    self._apply(event)
            except Exception as err:
                self._apply_failed(event, err)

    def _apply_safely(self, event: Event) -> None:
        try:
            self._apply(event)
        except Exception as err:
            self._apply_failed(event, err)

    def _apply_failed(self, event: Event, err: Exception) -> None:
        self.tasks.failed("engine-apply", err, f"on {str(event)[:300]}")

    def announce(self, news: list[object]) -> None:
        """Publish what a core service decided (settings, an idea, a protective action): the way onto the bus."""
        self.bus.publish(news)

    # -- consumer --------------------------------------------------------------------------

    async def _consume(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, asyncio.Event):
                item.set()
            elif isinstance(item, Reseed):
                try:
                    self._apply_reseed(item)
                except Exception as err:
                    self.tasks.failed("engine-reseed", err, item.reason)
                finally:
                    item.applied.set()  # the resync waiting for it must not wait forever
            else:
                self._apply_safely(item)

    def _apply(self, event: Event) -> None:
        if type(event) is TickerUpdated:
            self._apply_ticker(event)
            return
        if type(event) in MARKET_FEED:  # book and tape frames: the market feed (a listener) publishes what they change
            self._notify(event)
            return
        if isinstance(event, _PRIVATE) and getattr(event, "source", Source.STREAM) is Source.STREAM:
            self.supervisor.private_heard(event)
        changes = self.state.apply(event)
        if not changes:
            if type(event) is ExecutionReceived and event.execution.exec_time < self.state.exec_floor_ms:
                self._persist(event)  # too old for memory to tell: the store records it once (UNIQUE exec_id)
            return
        self.health.record_applied(event)
        self._persist(event)
        if isinstance(event, ConnectionStateChanged):
            self.supervisor.connection_changed(event)
        self.bus.publish(changes)
        self._notify(event)
        if isinstance(event, (PositionUpdated, OrderUpdated)) and self.tickers.desired() != self.tickers.streamed:
            self.tickers.schedule()

    def _notify(self, event: Event) -> None:
        """Tell every listener; one that fails is logged and does not keep the event from the others."""
        for listener in self.listeners:
            try:
                listener(event)
            except Exception as err:
                self.tasks.failed(
                    f"listener {getattr(listener, '__qualname__', listener)}", err, f"on {type(event).__name__}"
                )

    def _apply_ticker(self, event: TickerUpdated) -> None:
        """The hot path: a ticker needs no private bookkeeping, persistence or resubscription check.

        Bus and listeners are skipped only when there are none (every listener sees every ticker).
        """
        marked = self.state.merge_ticker(event)
        self.health.ticker_applied(event.received_ns)
        if self.bus.subscriptions:
            self.bus.publish([event] if marked is None else [event, marked])
        if self.listeners:
            self._notify(event)

    def _persist(self, event: Event) -> None:
        if self.writer is None:
            return
        if isinstance(event, ExecutionReceived):
            self.writer.enqueue(RecordExecution(event.execution))
        elif isinstance(event, OrderUpdated):
            self.writer.enqueue(UpsertOrder(event.order))
        elif isinstance(event, PositionUpdated):
            self.writer.enqueue(
                SnapshotPosition(event.position, "update", event.exchange_ts or int(time.time() * 1000))
            )

    def _apply_reseed(self, reseed: Reseed) -> None:
        now_ns = time.time_ns()
        divergences = 0
        for execution in sorted(reseed.executions, key=lambda e: (e.exec_time, e.seq)):
            if execution.exec_id not in self.state.exec_ids:
                divergences += reseed.reason != "start"
                self._apply(
                    ExecutionReceived(
                        execution=execution, source=Source.REST, exchange_ts=execution.exec_time, received_ns=now_ns
                    )
                )
        divergences += self._apply_rest_orders(reseed.history, now_ns)
        divergences += self.state.replace_positions(reseed.positions, reseed.as_of_ms)
        divergences += self.state.replace_open_orders(reseed.orders, reseed.as_of_ms)
        answered = {o.order_id for o in reseed.history}
        self._apply_rest_orders(order_reconcile.settle_lookups(self.state, reseed.lookups, answered), now_ns)
        self.state.wallet = reseed.wallet
        if reseed.as_of_ms > self.state.exec_synced_ms:
            self.state.exec_synced_ms = reseed.as_of_ms
            self.state.forget_executions_before(self.exec_memory_floor())
            if self.writer is not None:
                self.writer.enqueue(SetConfig(EXEC_SYNCED_KEY, reseed.as_of_ms))
        if reseed.reason == "start":
            divergences = 0
        self.divergences += divergences
        self.resyncs += 1
        for pos in reseed.positions:
            self._persist(
                PositionUpdated(position=pos, source=Source.REST, exchange_ts=pos.updated_time, received_ns=now_ns)
            )
        for order in reseed.orders:
            self._persist(
                OrderUpdated(order=order, source=Source.REST, exchange_ts=order.updated_time, received_ns=now_ns)
            )
        done = ResyncCompleted(reason=reseed.reason, divergences=divergences, exchange_ts=0, received_ns=now_ns)
        self.bus.publish(
            [WalletUpdated(wallet=reseed.wallet, source=Source.REST, exchange_ts=0, received_ns=now_ns), done]
        )
        self._notify(done)
        self.tickers.schedule()
        reseed.applied.set()

    def _apply_rest_orders(self, orders: list[Order], now_ns: int) -> int:
        """Apply, oldest first, the orders read over REST that tell something new (what we hold is not 'stale');
        returns how many did."""
        news = [o for o in sorted(orders, key=lambda o: (o.updated_time, o.order_id)) if not self.state.knows(o)]
        for order in news:
            self._apply(
                OrderUpdated(order=order, source=Source.REST, exchange_ts=order.updated_time, received_ns=now_ns)
            )
        return len(news)

    # -- resync ------------------------------------------------------------------------------

    async def resync(self, reason: str) -> None:
        """Reload positions, open orders, wallet, and the executions and orders created since the last completed
        reseed; look up in order history the orders that closed or filled unseen (a bounded number, the rest next
        time); then reconcile."""
        async with self._resync_lock:
            as_of = self.client.now_ms()
            since = self._executions_since(as_of)
            positions, orders, wallet, executions, recent = await asyncio.gather(
                self.client.fetch_positions(),
                self.client.fetch_open_orders(),
                self.client.fetch_wallet(),
                self.client.fetch_executions(since),
                self.client.fetch_order_history(since),
            )
            plan = order_reconcile.plan_lookups(
                self.state, orders, executions, recent, as_of, self.options.order_lookups_per_reseed
            )
            looked_up = await self.client.fetch_orders_by_id(plan.wanted) if plan.asked else []
            reseed = Reseed(reason, positions, orders, wallet, executions, as_of, recent + looked_up, plan)
            self._queue.put_nowait(reseed)
            await reseed.applied.wait()

    def exec_memory_floor(self) -> int:
        """Where the exec ids kept in memory start: EXEC_IDS_KEEP_MS before the next reseed's query (0: all)."""
        known = self.state.exec_synced_ms or self.state.last_exec_time
        return known - _EXEC_LOOKBACK_MS - EXEC_IDS_KEEP_MS if known else 0

    def _executions_since(self, as_of: int) -> int:
        """Where a reseed's execution (and recent-order) query starts: a little before the last completed reseed.

        Not the newest fill seen: a fill streamed after a gap must not hide one missed during it.
        """
        known = self.state.exec_synced_ms or self.state.last_exec_time
        return known - _EXEC_LOOKBACK_MS if known else as_of - _FIRST_LOOKBACK_MS
