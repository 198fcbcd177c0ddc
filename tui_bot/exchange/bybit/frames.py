"""Shapes shared by the decoder and the connection layer: control replies, decode failures, frame topics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class FrameError(ValueError):
    """A frame that cannot be decoded or is refused; the message says why, `reason` what kind (counted per kind).

    Reasons: "malformed" (shape, types, JSON), "number" (a value breaks the wire grammar), "sign" (negative
    where Bybit sends none), "range" (a price not positive or outside its instrument's price filter),
    "topic" (the body names another symbol or interval than its topic), "unknown topic".
    """

    def __init__(self, message: str, reason: str = "malformed") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Control:
    """A reply to one of our own requests (auth, subscribe, unsubscribe, ping) rather than data.

    `success` is normalised across the public, private and trade shapes (trade uses retCode).
    """

    op: str
    success: bool
    message: str = ""
    req_id: str = ""
    conn_id: str = ""
    ret_code: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    header: dict[str, str] = field(default_factory=dict)


_TOPIC_KEY = '"topic":"'
_TOPIC_KEY_BYTES = b'"topic":"'
_TOPIC_HEAD_TEXT = '{"topic":"'
TOPIC_HEAD = _TOPIC_HEAD_TEXT.encode()
TOPIC_START = len(TOPIC_HEAD)
TOPIC_SCAN = 200
MAX_TOPIC_NAMES = 4096


def topic_of(raw: str | bytes) -> str:
    """The topic of a data frame from a bounded scan of its head ('' when absent), cheaper than parsing."""
    if isinstance(raw, str):
        start = (
            TOPIC_START if raw.startswith(_TOPIC_HEAD_TEXT) else raw.find(_TOPIC_KEY, 0, TOPIC_SCAN) + len(_TOPIC_KEY)
        )
        end = raw.find('"', start, TOPIC_SCAN) if start >= len(_TOPIC_KEY) else -1
        return raw[start:end] if end > 0 else ""
    start = TOPIC_START if raw.startswith(TOPIC_HEAD) else raw.find(_TOPIC_KEY_BYTES, 0, TOPIC_SCAN) + len(_TOPIC_KEY)
    end = raw.find(b'"', start, TOPIC_SCAN) if start >= len(_TOPIC_KEY) else -1
    return raw[start:end].decode(errors="replace") if end > 0 else ""


def learn_topic(names: dict[bytes, str], head: bytes, raw: bytes) -> str:
    """topic_of(raw), remembered in names under the frame's head bytes (bounded: cleared when full)."""
    topic = topic_of(raw)
    if topic:
        if len(names) >= MAX_TOPIC_NAMES:
            names.clear()
        names[head] = topic
    return topic
