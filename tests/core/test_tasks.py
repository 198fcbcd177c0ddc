"""BackgroundTasks: loops survive failing steps without spinning or flooding the log, cancel still cancels,
a task that ends unexpectedly shows in health, and stop leaves nothing running."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from tui_bot.core.health import TROUBLE_SHOWN_MS, TaskHealth
from tui_bot.core.tasks import BackgroundTasks, FailureLog, cancel_and_wait
from tui_bot.exchange.errors import RetryableError

log = logging.getLogger("tests.tasks")


async def turns(count: int = 20) -> None:
    """Let the loop run other tasks for a while (no wall time involved)."""
    for _ in range(count):
        await asyncio.sleep(0)


class Flaky:
    """A step that fails while `failing` is true and counts its calls."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.failing = True
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.failing:
            raise self.error


async def test_a_loop_keeps_going_through_failing_steps_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    health = TaskHealth()
    tasks = BackgroundTasks(health, log)
    step = Flaky(ValueError("bad row"))
    with caplog.at_level(logging.WARNING, logger="tests.tasks"):
        loop_task = tasks.every("worker", 0, step, pause_s=0)
        await turns(50)
        assert step.calls >= 10
        [line] = health.lines(now_ms=_now_ms())
        assert line.startswith(f"worker failing {health.troubles['worker'].failures}× (ValueError: bad row), last ")
        step.failing = False
        await turns()
        assert health.lines(_now_ms()) == [] and not loop_task.done()
    records = [r for r in caplog.records if "worker failed" in r.getMessage()]
    assert len(records) == 1, "the same error again within a minute is counted, not logged"
    assert records[0].exc_info is not None, "an unexpected error is logged with its traceback"
    await tasks.stop()
    assert loop_task.cancelled()


async def test_a_failed_step_waits_its_pause_so_a_loop_that_always_fails_cannot_spin() -> None:
    tasks = BackgroundTasks(TaskHealth(), log)
    step = Flaky(RuntimeError("always"))
    tasks.every("worker", 0, step, pause_s=3600)
    await turns(50)
    assert step.calls == 1
    await tasks.stop()


async def test_stop_cancels_a_step_in_progress_and_a_step_cannot_swallow_the_cancel() -> None:
    tasks = BackgroundTasks(TaskHealth(), log)
    started = asyncio.Event()

    async def step() -> None:
        started.set()
        await asyncio.sleep(3600)

    loop_task = tasks.every("sleeper", 0, step)
    await started.wait()
    await tasks.stop()
    assert loop_task.cancelled()


async def test_stop_ends_a_loop_whose_step_turned_the_cancel_into_an_error() -> None:
    """redis-py on Python 3.11 can meet a cancel inside a read and raise TimeoutError instead: the loop survives
    that error as any other, so one cancel is not enough (the attached console's close hung on it)."""
    tasks = BackgroundTasks(TaskHealth(), log)
    started = asyncio.Event()
    converted = 0

    async def step() -> None:
        nonlocal converted
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if converted == 0:
                converted += 1
                me = asyncio.current_task()
                assert me is not None
                me.uncancel()
                raise TimeoutError("Timeout reading from redis") from None
            raise

    loop_task = tasks.every("reader", 0, step, pause_s=0)
    await started.wait()
    async with asyncio.timeout(5):
        await tasks.stop()
    assert converted == 1 and loop_task.cancelled()


async def test_cancel_and_wait_raises_a_tasks_error_unless_told_not_to() -> None:
    async def fails() -> None:
        raise KeyError("state")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    with pytest.raises(KeyError):
        await cancel_and_wait([task])
    await cancel_and_wait([task], raise_errors=False)


async def test_a_task_that_ends_unexpectedly_shows_as_died_and_stop_does_not_raise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = TaskHealth()
    tasks = BackgroundTasks(health, log)

    async def crash() -> None:
        raise KeyError("state")

    async def quit_early() -> None:
        return

    with caplog.at_level(logging.ERROR, logger="tests.tasks"):
        tasks.spawn("crasher", crash())
        tasks.spawn("quitter", quit_early())
        await turns()
    assert health.lines(_now_ms()) == ["crasher died (KeyError: 'state')", "quitter died (returned without an error)"]
    assert "task crasher ended unexpectedly" in caplog.text
    tasks.health.recovered("crasher")
    assert len(health.lines(_now_ms())) == 2, "a died task stays shown"
    await tasks.stop()


async def test_a_one_off_job_that_fails_is_a_failure_not_a_death() -> None:
    health = TaskHealth()
    tasks = BackgroundTasks(health, log)

    async def job() -> None:
        raise RetryableError(10016, "System error")

    async def fine() -> None:
        return

    jobs = [tasks.spawn("resync", job(), one_off=True), tasks.spawn("tickers", fine(), one_off=True)]
    await turns()
    assert [line.split(", last")[0] for line in health.lines(_now_ms())] == [
        "resync failing 1× (RetryableError: System error (10016))"
    ]
    assert all(task.done() for task in jobs)


async def test_attempt_reports_instead_of_raising_and_clears_on_success() -> None:
    health = TaskHealth()
    tasks = BackgroundTasks(health, log)

    async def job(fail: bool) -> None:
        if fail:
            raise ValueError("garbage")

    await tasks.attempt("resync", job(True))
    await tasks.attempt("resync", job(True))
    assert health.troubles["resync"].failures == 2
    await tasks.attempt("resync", job(False))
    assert health.troubles == {}


def test_failure_log_repeats_once_a_minute_with_a_count(caplog: pytest.LogCaptureFixture) -> None:
    clock = [0.0]
    failures = FailureLog(log, clock=lambda: clock[0])
    with caplog.at_level(logging.WARNING, logger="tests.tasks"):
        for second in range(59):
            clock[0] = float(second)
            failures.failed("poll", ValueError("bad row"))
        failures.failed("poll", ValueError("another"))
        failures.failed("poll", RetryableError(10016, "System error"))
        failures.failed("poll", RetryableError(10016, "System error"))
        clock[0] = 61.0
        failures.failed("poll", ValueError("bad row"))
        clock[0] = 119.0
        failures.failed("poll", RetryableError(10016, "System error"))
    lines = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert lines == [
        ("ERROR", "poll failed: ValueError: bad row", True),
        ("ERROR", "poll failed: ValueError: another", True),
        ("WARNING", "poll failed: RetryableError: System error (10016)", False),
        ("ERROR", "poll failed: ValueError: bad row (again 58× in the last 61 s)", False),
        ("WARNING", "poll failed: RetryableError: System error (10016) (again 1× in the last 61 s)", False),
    ]


def test_task_health_forgets_a_failure_after_a_quiet_while_but_not_a_death() -> None:
    health = TaskHealth()
    health.failed("listener", "ValueError: x", 1_000)
    health.failed("listener", "ValueError: y", 2_000)
    health.ended("consumer", "returned without an error", 2_000)
    assert health.lines(5_000) == [
        "consumer died (returned without an error)",
        "listener failing 2× (ValueError: y), last 3s ago",
    ]
    assert health.lines(2_000 + TROUBLE_SHOWN_MS) == ["consumer died (returned without an error)"]
    health.failed("listener", "ValueError: z", 2_000 + TROUBLE_SHOWN_MS)
    assert health.troubles["listener"].failures == 1, "a failure after a quiet while starts a new count"


def _now_ms() -> int:
    return int(time.time() * 1000)
