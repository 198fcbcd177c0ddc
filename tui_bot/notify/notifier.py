"""Sends alerts to the configured channels: one queue and worker per channel, rate-limited, retried with backoff
on 429, 5xx and network errors, dropped with a log line after the last try. submit() never waits, so a slow
or dead channel never holds up whoever raised the alert; secrets are scrubbed from every line logged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable

import aiohttp
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from yarl import URL

from tui_bot.domain.alerts import Alert, Severity
from tui_bot.notify.channels import Channel, DiscordChannel, TelegramChannel, WebhookChannel
from tui_bot.notify.settings import NotifySettings

log = logging.getLogger(__name__)
MASK = "***"
_BODY_SHOWN = 200
RETRY_AFTER_MAX_S = 600.0
"""The longest a channel waits when a 429 asks it to (meanwhile its queue keeps the newest queue_size alerts)."""


class Redactor:
    """Replaces every form of the given secrets (as given, as a normalised URL, a URL's path) with ***."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in filter(None, secrets):
            forms.add(secret)
            with contextlib.suppress(ValueError):
                url = URL(secret)
                forms.add(str(url))
                if url.absolute and len(url.path_qs) > 1:
                    forms.add(url.path_qs)
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, MASK)
        return text


class SendFailed(Exception):
    """One try failed: detail is scrubbed; retryable for 429, 5xx and network errors; retry_after from the server."""

    def __init__(self, detail: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _retryable(err: BaseException) -> bool:
    return isinstance(err, SendFailed) and err.retryable


def _payload(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


class ChannelWorker:
    """The queue and the sending loop of one channel."""

    def __init__(self, channel: Channel, settings: NotifySettings, source: str) -> None:
        self.channel = channel
        self.settings = settings
        self.source = source
        self.redact = Redactor(channel.secrets())
        self.queue: asyncio.Queue[Alert] = asyncio.Queue(settings.queue_size)
        self.limiter = AsyncLimiter(settings.rate_limit, settings.rate_period_s)
        self.sent = 0
        self.dropped = 0
        self._backoff = wait_exponential_jitter(
            multiplier=settings.backoff_s, jitter=settings.backoff_s, max=settings.backoff_max_s
        )

    def submit(self, alert: Alert) -> None:
        """Queue the alert; when the queue is full the oldest one is dropped (and logged) to make room."""
        if self.queue.full():
            oldest = self.queue.get_nowait()
            self.queue.task_done()
            self.dropped += 1
            log.warning(
                "notify %s: %d alerts waiting; dropped the oldest: %s",
                self.channel.name,
                self.settings.queue_size,
                self.redact(oldest.text),
            )
        self.queue.put_nowait(alert)

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Send queued alerts in order until cancelled."""
        while True:
            alert = await self.queue.get()
            try:
                await self._deliver(session, alert)
            except Exception as err:  # noqa: BLE001 - a bug here must not end the channel; logged scrubbed
                self.dropped += 1
                log.error("notify %s: dropped an alert: %s", self.channel.name, self.redact(_describe(err)))
            finally:
                self.queue.task_done()

    async def _deliver(self, session: aiohttp.ClientSession, alert: Alert) -> None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            before_sleep=self._note_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._post(session, alert)
        except SendFailed as err:
            self.dropped += 1
            tries = retrying.statistics.get("attempt_number", 1)
            log.warning(
                "notify %s: dropped alert after %d %s (%s): %s",
                self.channel.name,
                tries,
                "try" if tries == 1 else "tries",
                err.detail,
                self.redact(alert.text),
            )
        else:
            self.sent += 1

    async def _post(self, session: aiohttp.ClientSession, alert: Alert) -> None:
        """One try, within the channel's rate limit; raises SendFailed unless the channel answered 2xx."""
        async with self.limiter:
            try:
                async with session.post(self.channel.url(), json=self.channel.body(alert, self.source)) as response:
                    text = await response.text()
                    status = response.status
                    headers = response.headers
            except (aiohttp.ClientError, TimeoutError) as err:
                raise SendFailed(self.redact(_describe(err)), retryable=True) from None
        if 200 <= status < 300:
            return
        wait = self.channel.retry_after(headers, _payload(text)) if status == 429 else None
        raise SendFailed(
            self.redact(f"HTTP {status}: {' '.join(text.split())[:_BODY_SHOWN]}"),
            retryable=status == 429 or status >= 500,
            retry_after=wait,
        )

    def _wait(self, state: RetryCallState) -> float:
        """Jittered exponential backoff up to backoff_max_s, or as long as a 429 asked (at most RETRY_AFTER_MAX_S)."""
        err = state.outcome.exception() if state.outcome is not None else None
        asked = err.retry_after if isinstance(err, SendFailed) and err.retry_after is not None else 0.0
        return max(self._backoff(state), min(asked, RETRY_AFTER_MAX_S))

    def _note_retry(self, state: RetryCallState) -> None:
        err = state.outcome.exception() if state.outcome is not None else None
        pause = state.next_action.sleep if state.next_action is not None else 0.0
        log.info(
            "notify %s: try %d of %d failed (%s); next in %.1fs",
            self.channel.name,
            state.attempt_number,
            self.settings.max_attempts,
            err.detail if isinstance(err, SendFailed) else err,
            pause,
        )


class Notifier:
    """The enabled channels of [notify]; alerts below min_severity are not sent."""

    def __init__(self, settings: NotifySettings, source: str) -> None:
        self.settings = settings
        channels: list[Channel] = []
        if settings.telegram.enabled:
            channels.append(TelegramChannel(settings.telegram))
        if settings.discord.enabled:
            channels.append(DiscordChannel(settings.discord))
        if settings.webhook.enabled:
            channels.append(WebhookChannel(settings.webhook))
        self.workers = [ChannelWorker(channel, settings, source) for channel in channels]
        self._min_rank = Severity(settings.min_severity).rank
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def submit(self, alert: Alert) -> None:
        """Queue the alert for every channel (never waits)."""
        if alert.severity.rank >= self._min_rank:
            for worker in self.workers:
                worker.submit(alert)

    async def start(self) -> None:
        """Open the HTTP session and start one worker per channel (nothing when no channel is configured)."""
        if not self.workers or self._session is not None:
            return
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s))
        self._tasks = [asyncio.create_task(w.run(self._session), name=f"notify-{w.channel.name}") for w in self.workers]
        log.info("alerts are sent to %s", ", ".join(w.channel.name for w in self.workers))

    async def stop(self) -> None:
        """Give queued alerts flush_timeout_s to go out, then stop the workers and close the session."""
        if self._session is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(w.queue.join() for w in self.workers)), self.settings.flush_timeout_s
            )
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._session.close()
        self._session = None
        left = {w.channel.name: w.queue.qsize() for w in self.workers if w.queue.qsize()}
        if left:
            log.warning(
                "notify: alerts not sent before shutdown: %s",
                ", ".join(f"{name} {count}" for name, count in left.items()),
            )
