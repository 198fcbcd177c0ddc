"""The single writer task: queues ops without blocking and commits them in batches."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import delete, select

from tui_bot.store import schema
from tui_bot.store.apply import apply_op
from tui_bot.store.booking import replay_ledger
from tui_bot.store.db import Database
from tui_bot.store.dialect import error_text, is_transient, may_have_committed
from tui_bot.store.ops import WriteOp
from tui_bot.store.trades import TradeLedger

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_RETRY_DELAY = 0.1
MAX_RETRY_DELAY = 2.0
MAX_FAILURE_DELAY = 30.0
"""Backoff cap after an unexpected error (a retry may replay the whole executions table)."""
DAY_MS = 86_400_000

__all__ = ["StoreWriter", "is_transient"]


class _OutageOutlasted(Exception):
    """The writer was stopped during an outage that lasted longer than its stop grace."""


class StoreWriter:
    """The only writer of the database: everything pending goes into one transaction per batch.

    A batch that fails on a bad op is rolled back and retried op by op, so that op is logged
    and counted in ``errors`` without losing the others. A batch that fails because the
    database is locked, busy, full, failing I/O, restarting or unreachable stays queued and is retried with backoff
    until it commits (``stalled_since`` and ``retries`` show the outage); only stop() gives up,
    after ``stop_grace`` seconds, logging and counting in ``abandoned`` what was not written.
    The trade ledger is rebuilt from the executions table and the reconciliation marks when
    the task starts unless one is given. Transactions run in the writer's own thread on blocking
    connections: one thread hop per batch. With candle_retention_days, candles that started longer ago
    are deleted when the task starts, then at most every prune_every seconds, prune_batch rows per
    transaction between batches of ops.
    """

    def __init__(
        self,
        db: Database,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.05,
        ledger: TradeLedger | None = None,
        stop_grace: float = 10.0,
        candle_retention_days: int | None = None,
        prune_every: float = 600.0,
        prune_batch: int = 5000,
    ) -> None:
        if batch_size < 1 or prune_batch < 1:
            raise ValueError("batch_size and prune_batch must be at least 1")
        self._db = db
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._ledger = ledger
        self.stop_grace = stop_grace
        self.candle_retention_ms = None if candle_retention_days is None else candle_retention_days * DAY_MS
        self.prune_every = prune_every
        self.prune_batch = prune_batch
        self._next_prune = 0.0
        self.pruned = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._queue: deque[WriteOp] = deque()
        self._has_work = asyncio.Event()
        self._urgent = asyncio.Event()
        self._enqueued = 0
        self._processed = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._stop_requested = asyncio.Event()
        self._give_up_at: float | None = None
        self.written = 0
        self.batches = 0
        self.errors = 0
        self.retries = 0
        self._retries_before_stall = 0
        self.abandoned = 0
        self.stalled_since: float | None = None
        self.stall_error: str | None = None

    @property
    def pending(self) -> int:
        """Ops enqueued but not yet written (or failed)."""
        return self._enqueued - self._processed

    @property
    def ledger(self) -> TradeLedger | None:
        """The trade ledger the writer keeps (None until the task has rebuilt it)."""
        return self._ledger

    @property
    def stalled(self) -> bool:
        """Whether writes are failing transiently right now (ops stay queued meanwhile)."""
        return self.stalled_since is not None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the writer task on the running loop."""
        if self._task is not None:
            raise RuntimeError("store writer already started")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="store-writer")
        self._task.add_done_callback(self._on_task_done)

    def enqueue(self, op: WriteOp) -> None:
        """Queue op for writing; never blocks and never drops (raises once the writer is stopping)."""
        if self._closing:
            raise RuntimeError("store writer is stopped")
        self._queue.append(op)
        self._enqueued += 1
        self._has_work.set()
        if len(self._queue) >= self.batch_size:
            self._urgent.set()

    async def flush(self) -> None:
        """Wait until every op enqueued so far has been committed (or dropped as a bad op).

        During an outage this waits for the database to come back; it raises if the writer
        ends first (crash, or stop() giving up).
        """
        target = self._enqueued
        if self._processed >= target:
            return
        if not self.running:
            raise RuntimeError("store writer is not running")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        self._urgent.set()
        await future

    async def stop(self) -> None:
        """Write everything pending, then end the task (the database stays open).

        During an outage this keeps retrying for up to stop_grace seconds, then gives up.
        """
        if self._task is None:
            self.start()
        self._closing = True
        self._stop_requested.set()
        self._has_work.set()
        self._urgent.set()
        assert self._task is not None
        await self._task

    async def _run(self) -> None:
        """Write until stopped; an unexpected error is logged and shown as a stall, then retried with backoff."""
        delay = FIRST_RETRY_DELAY
        try:
            while True:
                try:
                    if not await self._turn():
                        return
                    delay = FIRST_RETRY_DELAY
                except _OutageOutlasted:
                    raise
                except Exception as exc:
                    if self.stalled_since is None:
                        log.error("store writer failed unexpectedly", exc_info=exc)
                    self._note_stall(f"{type(exc).__name__}: {error_text(exc)}")
                    await self._back_off(delay)
                    delay = min(delay * 2, MAX_FAILURE_DELAY)
        except _OutageOutlasted:
            self._abandon()

    async def _turn(self) -> bool:
        """Wait for ops, then commit everything queued; False once stopping with nothing left to write."""
        if self._ledger is None:
            self._ledger = await self._in_thread(self._replay)
            self._note_recovery()
        await self._prune_if_due()
        if not self._queue:
            if self._closing:
                return False
            self._has_work.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._has_work.wait(), self._until_prune())
            return True
        await self._linger()
        while self._queue:
            count = min(len(self._queue), self.batch_size)
            await self._write_batch(self._ledger, list(itertools.islice(self._queue, count)))
            self._wake_waiters()
        return True

    async def _linger(self) -> None:
        """Wait up to flush_interval for more ops, unless a flush, stop or full batch asks to hurry."""
        if not self._urgent.is_set() and self.flush_interval > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._urgent.wait(), self.flush_interval)
        self._urgent.clear()

    async def _write_batch(self, ledger: TradeLedger, batch: list[WriteOp]) -> None:
        """Commit batch (the queue's head) in one transaction, falling back to one per op on a bad op.

        Ops leave the queue only once committed or dropped, so an outage loses none of them.
        """
        self.batches += 1
        exc = await self._commit(ledger, batch)
        if exc is None:
            self._done(len(batch))
            return
        if len(batch) == 1:
            self._count_failure(batch[0], exc)
            self._done(1)
            return
        log.warning("store batch of %d ops failed (%s); retrying op by op", len(batch), exc)
        for op in batch:
            op_exc = await self._commit(ledger, [op])
            if op_exc is not None:
                self._count_failure(op, op_exc)
            self._done(1)

    async def _commit(self, ledger: TradeLedger, ops: list[WriteOp]) -> Exception | None:
        """Commit ops, retrying transient errors with backoff; return the error of a bad op, if any."""
        delay = FIRST_RETRY_DELAY
        resync = False
        while True:
            try:
                if resync:  # the last attempt may have committed after all: book from what is stored
                    ledger.reset_to(await self._in_thread(self._replay))
                    resync = False
                await self._transaction(ledger, ops)
            except Exception as exc:
                if not is_transient(exc):
                    return exc
                resync = resync or may_have_committed(exc)
                self._note_stall(error_text(exc))
                await self._back_off(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
                continue
            self._note_recovery()
            return None

    def _until_prune(self) -> float | None:
        """Seconds until the next candle prune is due (None: candles are kept for ever)."""
        if self.candle_retention_ms is None:
            return None
        return max(0.0, self._next_prune - time.monotonic())

    async def _prune_if_due(self) -> None:
        """Delete one batch of the candles older than the retention; while more are left the next turn (after the
        ops queued meanwhile) goes on. A failure is logged and waits for the next prune."""
        if self.candle_retention_ms is None or self._closing or time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + self.prune_every
        cutoff = int(time.time() * 1000) - self.candle_retention_ms
        try:
            deleted = await self._in_thread(self._prune_batch, cutoff)
        except Exception as exc:
            log.warning("pruning candles failed (%s); trying again in %.0f s", error_text(exc), self.prune_every)
            return
        self.pruned += deleted
        if deleted == self.prune_batch:
            self._next_prune = 0.0

    def _prune_batch(self, cutoff_ms: int) -> int:
        """Delete up to prune_batch candles that started before cutoff_ms; how many went."""
        k = schema.candles.c
        old = select(k.id).where(k.start < cutoff_ms).limit(self.prune_batch).scalar_subquery()
        with self._db.connect_writer() as conn, conn.begin():
            return int(conn.execute(delete(schema.candles).where(k.id.in_(old))).rowcount)

    def _note_stall(self, error: str) -> None:
        """Record a failure that is retried, warning once when an outage starts."""
        self.stall_error = error
        if self.stalled_since is None:
            self.stalled_since = time.time()
            self._retries_before_stall = self.retries
            log.warning("store writes are failing (%s); keeping %d ops queued and retrying", error, self.pending)
        self.retries += 1

    def _note_recovery(self) -> None:
        """Log the end of an outage, if one was going on."""
        if self.stalled_since is None:
            return
        log.warning(
            "store writes recovered after %.1f s and %d retries",
            time.time() - self.stalled_since,
            self.retries - self._retries_before_stall,
        )
        self.stalled_since = None
        self.stall_error = None

    async def _back_off(self, delay: float) -> None:
        """Sleep delay before the next retry; once stopping, raise when stop_grace has run out."""
        if self._closing:
            now = time.monotonic()
            if self._give_up_at is None:
                self._give_up_at = now + self.stop_grace
            if now >= self._give_up_at:
                raise _OutageOutlasted
            await asyncio.sleep(min(delay, self._give_up_at - now))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_requested.wait(), delay)

    def _abandon(self) -> None:
        """Give up on everything still queued (stop during a long outage), saying how much is lost."""
        self.abandoned = len(self._queue)
        log.error(
            "store writer stopped during an outage (%s): %d ops were not written", self.stall_error, self.abandoned
        )
        self._queue.clear()

    def _done(self, count: int) -> None:
        """Take count committed or dropped ops off the head of the queue."""
        for _ in range(count):
            self._queue.popleft()
        self._processed += count

    async def _transaction(self, ledger: TradeLedger, ops: list[WriteOp]) -> None:
        """Apply ops and commit in the writer's thread, or roll the database and the ledger back and re-raise."""
        ledger.checkpoint()
        try:
            await self._in_thread(self._apply, ledger, ops)
        except BaseException:
            ledger.rollback()
            raise
        ledger.release()
        self.written += len(ops)

    def _apply(self, ledger: TradeLedger, ops: list[WriteOp]) -> None:
        """One transaction on a blocking pooled connection: one thread hop per batch, not several per statement."""
        with self._db.connect_writer() as conn, conn.begin():
            for op in ops:
                apply_op(conn, ledger, op)

    def _replay(self) -> TradeLedger:
        with self._db.writes.connect() as conn:
            return replay_ledger(conn)

    async def _in_thread(self, call: Callable[..., T], *args: object) -> T:
        """call(*args) in the writer's own thread (SQLite connections stay with the thread that uses them)."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, call, *args)

    def _count_failure(self, op: WriteOp, exc: Exception) -> None:
        self.errors += 1
        log.error("store write failed for %s: %s", type(op).__name__, exc, exc_info=exc)

    def _wake_waiters(self) -> None:
        """Resolve the flush() calls whose ops are all processed."""
        still: list[tuple[int, asyncio.Future[None]]] = []
        for target, future in self._waiters:
            if self._processed >= target:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((target, future))
        self._waiters = still

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        """Fail pending flush() calls if the task ended early (crash or cancellation); let the thread go."""
        self._thread.shutdown(wait=False)
        if not task.cancelled() and task.exception() is not None:
            log.error("store writer task failed", exc_info=task.exception())
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(RuntimeError("store writer stopped before the flush completed"))
        self._waiters = []
