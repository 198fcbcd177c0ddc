"""One Bybit WebSocket kept alive: auth, heartbeat, silence watchdog, reconnect; shared by stream and trade sockets.

The heartbeat and silence watchdog are ws_heartbeat.py's; when to try again is the ReconnectPolicy's
(reconnect.py): at once after a live session, backing off after failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, WebSocketException

from tui_bot.domain.events import ConnectionState, ConnectionStateChanged, Event, FrameRejected
from tui_bot.domain.metrics import ConnectionStats, sample_stride, wall_ms
from tui_bot.exchange.bybit.frames import (
    TOPIC_HEAD,
    TOPIC_SCAN,
    TOPIC_START,
    Control,
    FrameError,
    learn_topic,
    topic_of,
)
from tui_bot.exchange.bybit.log_limit import LogLimit
from tui_bot.exchange.bybit.reconnect import DEFAULT_RECONNECT, ReconnectPolicy
from tui_bot.exchange.bybit.signing import ws_auth_signature
from tui_bot.exchange.bybit.ws_direct import connect_direct
from tui_bot.exchange.bybit.ws_heartbeat import Heartbeat

log = logging.getLogger(__name__)

Decoder = Callable[[str | bytes, int], Control | list[Event]]
EventSink = Callable[[list[Event]], None]

MAX_FRAME_BYTES = 16 * 1024 * 1024
OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 1.0
REJECTED_TEXT_CHARS = 500


async def cancel_until_done(task: asyncio.Task[None]) -> None:
    """Cancel task and wait for it, cancelling again if a cancellation was swallowed.

    On Python 3.11, asyncio.wait_for can drop a cancellation that races with the awaited
    reply completing, leaving the task running; re-cancelling makes stop() reliable.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.5)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()


def describe(err: BaseException) -> str:
    """A short reason for a failed or lost connection, as the health panel shows it."""
    if isinstance(err, ConnectionClosed):
        return f"connection lost: {err}"
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class SessionEnded(Exception):
    """The current socket must be abandoned; the message is the reason shown to the user."""


class AuthRejected(SessionEnded):
    """The venue refused our credentials on this socket."""


class WsConnection:
    """One Bybit WebSocket kept alive across failures; subclasses add what rides on it (topics, requests)."""

    REQ_ID_KEY = "req_id"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        decode: Decoder,
        on_events: EventSink,
        credentials: tuple[str, str] | None = None,
        ping_interval: float = 20.0,
        silence_timeout: float = 30.0,
        reconnect: ReconnectPolicy = DEFAULT_RECONNECT,
        auth_grace_ms: int = 10_000,
        now_ms: Callable[[], int] = wall_ms,
    ) -> None:
        self.name, self.url = name, url
        self.credentials = credentials
        self.ping_interval, self.silence_timeout = ping_interval, silence_timeout
        self.reconnect = reconnect  # read at every retry, so it can be swapped while running
        self.failures = 0  # consecutive failed attempts (ReconnectPolicy); 0 after a live session
        self.auth_grace_ms = auth_grace_ms
        self.now_ms = now_ms
        self.stats = ConnectionStats(name)
        self.heartbeat = Heartbeat(self.stats)
        self._decode = decode
        self._on_events = on_events
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._replies: dict[str, asyncio.Future[Control]] = {}
        self._seq = 0
        self._offset_ms = 0
        self._live_since = 0.0
        self._was_live = False
        self._topic_names: dict[bytes, str] = {}
        self._latency_at = 0
        self.log_limit = LogLimit()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Launch the connection task (no-op when it is already running)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"ws:{self.name}")

    async def stop(self) -> None:
        """Close the socket, end the task and report STOPPED."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_until_done(task)
        self._set_state(ConnectionState.STOPPED, "stopped")

    async def _run(self) -> None:
        """Connect, serve, and when the socket ends wait as the reconnect policy says and try again until cancelled."""
        self.failures = 0
        state, reason = ConnectionState.CONNECTING, ""
        while True:
            self._set_state(state, reason)
            reason = await self._serve_once()
            live_for = time.monotonic() - self._live_since if self._live_since else None
            self._live_since = 0.0
            self.failures = self.reconnect.failures_after(self.failures, live_for)
            state = ConnectionState.RECONNECTING
            if self.stats.state is not ConnectionState.DOWN:
                self._set_state(state, reason)
            await asyncio.sleep(self.reconnect.delay(self.failures))

    async def _serve_once(self) -> str:
        """Run one socket until it ends and return why it ended (auth failure reports DOWN first)."""
        try:
            await self._session()
        except AuthRejected as err:
            self._set_state(ConnectionState.DOWN, str(err))
            return "retrying after auth failure"
        except SessionEnded as err:
            return str(err)
        except (OSError, WebSocketException) as err:
            return describe(err)
        except Exception as err:
            log.exception("%s: unexpected failure", self.name)
            return describe(err)
        return "closed"

    async def _session(self) -> None:
        """One socket: frames are handled as they arrive; auth + handshake, LIVE, keepalive until it closes."""
        self._refresh_offset()
        async with connect_direct(
            self.url,
            self.handle_frame,
            max_size=MAX_FRAME_BYTES,
            close_timeout=CLOSE_TIMEOUT,
            open_timeout=OPEN_TIMEOUT,
        ) as ws:
            self._ws = ws
            tasks = [asyncio.create_task(self._until_closed(ws), name=f"ws:{self.name}:closed")]
            try:
                await self._open(ws, tasks[0])
                self._went_live()
                await self._on_live(ws)
                tasks.append(asyncio.create_task(self._keepalive(ws), name=f"ws:{self.name}:keepalive"))
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            finally:
                ws.detach()  # frames arriving while it closes are not ours any more (a reconnect reseeds)
                self._ws = None
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._fail_replies()

    async def _keepalive(self, ws: ClientConnection) -> None:
        """Ping every ping_interval (refreshing the clock offset) and end the session once it is silent."""

        async def ping() -> None:
            await self._send(ws, self.heartbeat.ping_frame(self.REQ_ID_KEY))
            self._refresh_offset()

        raise SessionEnded(await self.heartbeat.watch(ping, self.ping_interval, self.silence_timeout))

    async def _open(self, ws: ClientConnection, closed: asyncio.Task[None]) -> None:
        """Authenticate and handshake; when the socket died meanwhile, report why it closed."""
        try:
            if self.credentials is not None:
                await self._authenticate(ws)
            await self._handshake(ws)
        except ConnectionError:
            if closed.done() and not closed.cancelled():
                closed.result()
            raise

    def _went_live(self) -> None:
        """Mark the socket LIVE; every LIVE after the first counts as a reconnect."""
        if self._was_live:
            self.stats.reconnects += 1
        self._was_live = True
        self._live_since = time.monotonic()
        self._set_state(ConnectionState.LIVE, "")

    def _set_state(self, state: ConnectionState, reason: str) -> None:
        """Record a transition and send it down the event stream (repeats are dropped)."""
        stats = self.stats
        if stats.state is state and stats.reason == reason and stats.state_changed_ms:
            return
        log.info("%s: %s%s", self.name, state.value, f" ({reason})" if reason else "")
        stats.record_state(state, wall_ms(), reason)
        self._emit(
            [
                ConnectionStateChanged(
                    connection=self.name, state=state, reason=reason, exchange_ts=0, received_ns=time.time_ns()
                )
            ]
        )

    # -- hooks -------------------------------------------------------------------------------------

    async def _handshake(self, ws: ClientConnection) -> None:
        """Work that must finish before LIVE (subclasses subscribe here)."""

    async def _on_live(self, ws: ClientConnection) -> None:
        """Work right after LIVE was announced."""

    def _on_unmatched(self, control: Control) -> None:
        """A control reply nobody waits for: a failure is logged (rate-limited)."""
        if not control.success and (more := self.log_limit.allow("unmatched reply")) is not None:
            log.warning("%s: unmatched failure reply %s%s", self.name, control, more)

    # -- frames ------------------------------------------------------------------------------------

    async def _until_closed(self, ws: ClientConnection) -> None:
        """Wait for the socket to close (its frames reach handle_frame as they arrive); raise why it ended."""
        try:
            await ws.wait_closed()
        finally:
            self._fail_replies()
        closed = ws.close_exc
        if not isinstance(closed, ConnectionClosedOK):
            raise closed
        raise SessionEnded(f"closed by server: {ws.close_code} {ws.close_reason or ''}".rstrip())

    def handle_frame(self, raw: str | bytes, received_ns: int) -> None:
        """Decode one frame: events go to the sink, control replies are handled here, bad frames are counted.

        Per frame: the counts, rate, last-frame and per-topic times are exact; exchange→local latency
        is sampled (metrics.sample_stride), which keeps its percentiles and saves work at high rates.
        """
        stats = self.stats
        stats.frames += 1  # stats.record_frame(received_ns), inlined: this runs per frame
        stats.last_frame_ns = received_ns
        stats.rate.tick(received_ns)
        try:
            decoded = self._decode(raw, received_ns)
        except Exception as err:
            self._reject(raw, err, received_ns)
            return
        if not isinstance(decoded, list):
            self._on_control(decoded)
            return
        if type(raw) is bytes and raw.startswith(TOPIC_HEAD):  # the usual shape: topic from a memo
            head = raw[TOPIC_START : raw.find(b'"', TOPIC_START, TOPIC_SCAN)]
            topic = self._topic_names.get(head) or learn_topic(self._topic_names, head, raw)
        else:
            topic = topic_of(raw)
        if topic:
            stats.topic_last_ns[topic] = received_ns
        if decoded:
            if stats.frames >= self._latency_at:
                self._sample_latency(decoded[0].exchange_ts, received_ns)
            try:
                self._on_events(decoded)
            except Exception:
                log.exception("%s: event consumer failed", self.name)

    def _sample_latency(self, exchange_ts: int, received_ns: int) -> None:
        """Add one exchange→local latency sample and pick the frame that gives the next one."""
        stats = self.stats
        if exchange_ts:
            stats.latency_ms.add(received_ns // 1_000_000 + self._offset_ms - exchange_ts)
        self._latency_at = stats.frames + sample_stride(stats.rate, received_ns)

    def _refresh_offset(self) -> None:
        """Cache now_ms() - wall time so per-frame latency needs no call to now_ms."""
        self._offset_ms = self.now_ms() - wall_ms()

    def _reject(self, raw: str | bytes, err: Exception, received_ns: int) -> None:
        """Count a frame that failed to decode or was refused (per reason); log it with its text (rate-limited)."""
        stats = self.stats
        stats.decode_errors += 1
        reason = err.reason if isinstance(err, FrameError) else "decoder error"
        stats.rejected[reason] = stats.rejected.get(reason, 0) + 1
        text = raw if isinstance(raw, str) else raw.decode(errors="replace")
        more = self.log_limit.allow(reason)
        if more is not None and isinstance(err, FrameError):
            log.warning("%s: rejected frame (%s)%s: %s", self.name, err, more, text[:REJECTED_TEXT_CHARS])
        elif more is not None:
            log.exception("%s: decoder failed on %s%s", self.name, text[:REJECTED_TEXT_CHARS], more)
        self._emit(
            [
                FrameRejected(
                    connection=self.name,
                    text=text[:REJECTED_TEXT_CHARS],
                    error=str(err) or type(err).__name__,
                    exchange_ts=0,
                    received_ns=received_ns,
                )
            ]
        )

    def _emit(self, events: list[Event]) -> None:
        """Hand events to the consumer; a consumer bug is logged and never kills the stream."""
        try:
            self._on_events(events)
        except Exception:
            log.exception("%s: event consumer failed", self.name)

    def _on_control(self, control: Control) -> None:
        """Route a control reply: pongs give an RTT, others resolve the request waiting on their req_id."""
        if control.op in ("ping", "pong"):
            self.heartbeat.answered(control)
            return
        future = self._replies.pop(control.req_id, None) if control.req_id else None
        if future is None and control.op == "auth":
            future = next((self._replies.pop(k) for k in list(self._replies) if k.startswith("auth-")), None)
        if future is not None and not future.done():
            future.set_result(control)
        else:
            self._on_unmatched(control)

    # -- requests ----------------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        """A request id unique for the life of this object."""
        self._seq += 1
        return f"{prefix}-{self._seq}"

    def _expect(self, req_id: str) -> asyncio.Future[Control]:
        """A future resolved by the reply carrying req_id."""
        future: asyncio.Future[Control] = asyncio.get_running_loop().create_future()
        self._replies[req_id] = future
        return future

    async def _wait_reply(self, future: asyncio.Future[Control], req_id: str, what: str) -> Control:
        """The reply to a handshake request; silence ends the session."""
        try:
            return await asyncio.wait_for(future, self.silence_timeout)
        except TimeoutError:
            raise SessionEnded(f"no {what} reply within {self.silence_timeout:g}s") from None
        finally:
            self._replies.pop(req_id, None)

    def _fail_replies(self) -> None:
        """Fail every request still waiting: its socket is gone."""
        replies, self._replies = self._replies, {}
        for future in replies.values():
            if not future.done():
                future.set_exception(ConnectionError(f"{self.name}: connection closed"))
        self.heartbeat.clear()

    async def _send(self, ws: ClientConnection, payload: dict[str, Any]) -> None:
        """Send one JSON text frame."""
        await ws.send(orjson.dumps(payload).decode())

    async def _authenticate(self, ws: ClientConnection) -> None:
        """Sign 'GET/realtime'+expires with a grace period and wait for the verdict."""
        assert self.credentials is not None
        key, secret = self.credentials
        expires = self.now_ms() + self.auth_grace_ms
        req_id = self._next_id("auth")
        future = self._expect(req_id)
        await self._send(
            ws, {self.REQ_ID_KEY: req_id, "op": "auth", "args": [key, expires, ws_auth_signature(secret, expires)]}
        )
        reply = await self._wait_reply(future, req_id, "auth")
        if not reply.success:
            raise AuthRejected(f"auth failed: {reply.message or reply.ret_code}")
