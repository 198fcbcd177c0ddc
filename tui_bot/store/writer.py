"""The single writer task: queues ops without blocking and commits them in batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

import aiosqlite

from tui_bot.store.apply import apply_op
from tui_bot.store.ops import WriteOp
from tui_bot.store.trades import TradeLedger, rebuild_ledger

log = logging.getLogger(__name__)


class StoreWriter:
    """The only writer of the database: everything pending goes into one transaction per batch.

    A batch that fails is rolled back and retried op by op, so one bad op is logged and
    counted in ``errors`` without losing the others. The trade ledger is rebuilt from the
    executions table and the reconciliation marks when the task starts unless one is given.
    """

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.05,
        ledger: TradeLedger | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._conn = conn
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._ledger = ledger
        self._queue: deque[WriteOp] = deque()
        self._has_work = asyncio.Event()
        self._urgent = asyncio.Event()
        self._enqueued = 0
        self._processed = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.written = 0
        self.batches = 0
        self.errors = 0

    @property
    def pending(self) -> int:
        """Ops enqueued but not yet written (or failed)."""
        return self._enqueued - self._processed

    @property
    def ledger(self) -> TradeLedger | None:
        """The trade ledger the writer keeps (None until the task has rebuilt it)."""
        return self._ledger

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
        """Wait until every op enqueued so far has been committed (or counted as an error)."""
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
        """Write everything pending, then end the task (the connection stays open)."""
        if self._task is None:
            self.start()
        self._closing = True
        self._has_work.set()
        self._urgent.set()
        assert self._task is not None
        await self._task

    async def _run(self) -> None:
        if self._ledger is None:
            self._ledger = await rebuild_ledger(self._conn)
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._has_work.clear()
                await self._has_work.wait()
                continue
            await self._linger()
            while self._queue:
                count = min(len(self._queue), self.batch_size)
                batch = [self._queue.popleft() for _ in range(count)]
                await self._write_batch(self._ledger, batch)
                self._processed += count
                self._wake_waiters()

    async def _linger(self) -> None:
        """Wait up to flush_interval for more ops, unless a flush, stop or full batch asks to hurry."""
        if not self._urgent.is_set() and self.flush_interval > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._urgent.wait(), self.flush_interval)
        self._urgent.clear()

    async def _write_batch(self, ledger: TradeLedger, batch: list[WriteOp]) -> None:
        """Commit batch in one transaction, falling back to one transaction per op on error."""
        self.batches += 1
        try:
            await self._transaction(ledger, batch)
        except Exception as exc:
            if len(batch) == 1:
                self._count_failure(batch[0], exc)
                return
            log.warning("store batch of %d ops failed (%s); retrying op by op", len(batch), exc)
            for op in batch:
                try:
                    await self._transaction(ledger, [op])
                except Exception as op_exc:
                    self._count_failure(op, op_exc)

    async def _transaction(self, ledger: TradeLedger, ops: list[WriteOp]) -> None:
        """Apply ops and commit, or roll the database and the ledger back and re-raise."""
        ledger.checkpoint()
        try:
            await self._conn.execute_fetchall("BEGIN")
            for op in ops:
                await apply_op(self._conn, ledger, op)
            await self._conn.execute_fetchall("COMMIT")
        except BaseException:
            ledger.rollback()
            await self._rollback()
            raise
        ledger.release()
        self.written += len(ops)

    async def _rollback(self) -> None:
        """Roll back an open transaction, if any (errors here are logged, not raised)."""
        try:
            if self._conn.in_transaction:
                await self._conn.execute_fetchall("ROLLBACK")
        except Exception:
            log.exception("store rollback failed")

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
        """Fail pending flush() calls if the task ended early (crash or cancellation)."""
        if not task.cancelled() and task.exception() is not None:
            log.error("store writer task failed", exc_info=task.exception())
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(RuntimeError("store writer stopped before the flush completed"))
        self._waiters = []
