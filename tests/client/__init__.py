"""Client-side connection tests; helpers: a small stand-in decoder and an event recorder."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from tui_bot.domain.events import ConnectionState, ConnectionStateChanged, Event, FrameRejected
from tui_bot.exchange.bybit.frames import Control, FrameError


@dataclass(frozen=True, slots=True, kw_only=True)
class DataReceived(Event):
    """What the stand-in decoder makes of a data frame: its topic and type."""

    topic: str
    kind: str


def _load(raw: str | bytes) -> dict[str, Any]:
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise FrameError(f"invalid JSON: {err}") from None
    if not isinstance(msg, dict):
        raise FrameError("frame is not a JSON object")
    return msg


def control_of(msg: dict[str, Any]) -> Control:
    """A Control from any of the public, private and trade reply shapes."""
    success = msg["success"] if "success" in msg else msg.get("retCode", 0) == 0
    data = msg.get("data")
    return Control(
        op=str(msg.get("op", "")),
        success=bool(success),
        message=str(msg.get("ret_msg", msg.get("retMsg", ""))),
        req_id=str(msg.get("req_id", msg.get("reqId", "")) or ""),
        conn_id=str(msg.get("conn_id", msg.get("connId", ""))),
        ret_code=int(msg.get("retCode", 0)),
        data=data if isinstance(data, dict) else {},
        header=msg.get("header") or {},
    )


def decode_stream(raw: str | bytes, received_ns: int) -> Control | list[Event]:
    """Stand-in for parse.decode_public/decode_private: controls by 'op', data frames by 'topic'."""
    msg = _load(raw)
    if "topic" in msg:
        ts = msg.get("ts", msg.get("creationTime", 0))
        return [
            DataReceived(
                topic=msg["topic"], kind=str(msg.get("type", "")), exchange_ts=int(ts), received_ns=received_ns
            )
        ]
    if "op" in msg:
        return control_of(msg)
    raise FrameError("neither a control reply nor a data frame")


def decode_trade(raw: str | bytes) -> Control:
    """Stand-in for parse.decode_trade."""
    msg = _load(raw)
    if "op" not in msg:
        raise FrameError("trade frame without op")
    return control_of(msg)


class Recorder:
    """Collects every event a connection emits."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, events: list[Event]) -> None:
        self.events.extend(events)

    def states(self) -> list[tuple[ConnectionState, str]]:
        """Every state transition, in order, with its reason."""
        return [(e.state, e.reason) for e in self.events if isinstance(e, ConnectionStateChanged)]

    def state_list(self) -> list[ConnectionState]:
        return [state for state, _ in self.states()]

    def data(self, topic: str | None = None) -> list[DataReceived]:
        return [e for e in self.events if isinstance(e, DataReceived) and (topic is None or e.topic == topic)]

    def rejected(self) -> list[FrameRejected]:
        return [e for e in self.events if isinstance(e, FrameRejected)]

    def index_of(self, state: ConnectionState, after: int = 0) -> int:
        """Position in events of the first transition to state at or after index `after` (-1 when none)."""
        for i, event in enumerate(self.events[after:], after):
            if isinstance(event, ConnectionStateChanged) and event.state is state:
                return i
        return -1


async def until(predicate: Callable[[], bool], timeout: float = 3.0, what: str = "condition") -> None:
    """Poll predicate every 10 ms; fail the test with `what` when it does not hold within timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)
