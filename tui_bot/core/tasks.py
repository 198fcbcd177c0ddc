"""Background tasks of the core, supervised: each kept referenced until done, a failed iteration logged and
survived, a task that ends unexpectedly reported in health."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from tui_bot.core.health import TaskHealth
from tui_bot.exchange.errors import ExchangeError

FAILURE_PAUSE_S = 1.0
"""A loop whose step failed waits at least this long before the next step, so a step that always fails cannot spin."""
LOG_EVERY_S = 60.0
_EXPECTED = (ExchangeError, OSError, TimeoutError)
"""Failures of the outside world: logged without a traceback (it would only show our own call path)."""
_MAX_REMEMBERED = 256

Step = Callable[[], Awaitable[None] | None]


async def cancel_and_wait(
    tasks: Sequence[asyncio.Task[Any]], *, again_after_s: float = 0.1, raise_errors: bool = True
) -> None:
    """Cancel the tasks and wait until they have ended, cancelling again one that went on (a library call that a
    cancel meets can turn it into an error on Python 3.11 — redis-py does — and a loop that survives errors then
    carries on); a task's error is raised unless raise_errors is off."""
    pending = [task for task in tasks if not task.done()]
    while pending:
        for task in pending:
            task.cancel()
        _, still = await asyncio.wait(pending, timeout=again_after_s)
        pending = list(still)
    for task in tasks:
        if raise_errors and not task.cancelled() and (err := task.exception()) is not None:
            raise err


def describe(err: BaseException) -> str:
    """The error's type and message on one short line."""
    text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:159] + "…"


def _now_ms() -> int:
    return int(time.time() * 1000)


class FailureLog:
    """Logs a failure the first time (unexpected ones with their traceback), then each distinct one at most once
    every `every_s` with how often it happened meanwhile."""

    def __init__(
        self, logger: logging.Logger, *, every_s: float = LOG_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._log = logger
        self._every_s = every_s
        self._clock = clock
        self._logged: dict[tuple[str, str], tuple[float, int]] = {}  # (what, error) -> (logged at, repeats since)

    def failed(self, what: str, err: Exception, detail: str = "") -> None:
        key = (what, describe(err))
        now = self._clock()
        logged = self._logged.get(key)
        if logged is not None and now - logged[0] < self._every_s:
            self._logged[key] = (logged[0], logged[1] + 1)
            return
        self._forget_old(now)
        self._logged[key] = (now, 0)
        where = f" ({detail})" if detail else ""
        level = logging.WARNING if isinstance(err, _EXPECTED) else logging.ERROR
        if logged is not None:
            self._log.log(
                level, "%s failed%s: %s (again %d× in the last %.0f s)", what, where, key[1], logged[1], now - logged[0]
            )
        else:
            self._log.log(
                level, "%s failed%s: %s", what, where, key[1], exc_info=None if level == logging.WARNING else err
            )

    def _forget_old(self, now: float) -> None:
        """Keep the memory small when many distinct errors pass by (one may then be logged again sooner)."""
        if len(self._logged) >= _MAX_REMEMBERED:
            self._logged = {k: v for k, v in self._logged.items() if now - v[0] < self._every_s}


class BackgroundTasks:
    """The background tasks of one component: referenced until done, failures logged and shown in health."""

    def __init__(self, health: TaskHealth, logger: logging.Logger) -> None:
        self.health = health
        self._logger = logger
        self._failure_log = FailureLog(logger)
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, name: str, coro: Coroutine[Any, Any, None], *, one_off: bool = False) -> asyncio.Task[None]:
        """Run coro as a task, kept until it ends; ending is reported in health unless it is a one-off job
        (a one-off's error is reported as a failure of name)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._ended(done, one_off))
        return task

    def every(self, name: str, seconds: float, step: Step, *, pause_s: float = FAILURE_PAUSE_S) -> asyncio.Task[None]:
        """Run step every `seconds` (the first after one period) until cancelled; a step that fails is logged and
        shown in health, the next waits at least pause_s, and a step that succeeds clears the trouble."""
        return self.spawn(name, self._loop(name, seconds, step, pause_s))

    async def _loop(self, name: str, seconds: float, step: Step, pause_s: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                pending = step()
                if pending is not None:
                    await pending
            except Exception as err:
                self.failed(name, err)
                await asyncio.sleep(max(pause_s - seconds, 0.0))
            else:
                self.health.recovered(name)

    async def attempt(self, name: str, job: Awaitable[None], detail: str = "") -> None:
        """Await job; an error is logged and shown in health as a failure of name instead of raised."""
        try:
            await job
        except Exception as err:
            self.failed(name, err, detail)
        else:
            self.health.recovered(name)

    def failed(self, name: str, err: Exception, detail: str = "") -> None:
        """Record one failure of name: in health, and in the log unless it repeats too often."""
        self.health.failed(name, describe(err), _now_ms())
        self._failure_log.failed(name, err, detail)

    async def stop(self, *, spare: asyncio.Task[None] | None = None) -> None:
        """Cancel every task but spare and wait until they have ended; their errors were reported, not raised."""
        await cancel_and_wait([task for task in self._tasks if task is not spare], raise_errors=False)

    def _ended(self, task: asyncio.Task[None], one_off: bool) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        err = task.exception()
        if one_off and (err is None or isinstance(err, Exception)):
            if err is not None:
                self.failed(task.get_name(), err)
            return
        why = describe(err) if err is not None else "returned without an error"
        self.health.ended(task.get_name(), why, _now_ms())
        self._logger.error("task %s ended unexpectedly: %s", task.get_name(), why, exc_info=err)
