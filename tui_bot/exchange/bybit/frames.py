"""Shapes shared by the decoder and the connection layer: control replies and decode failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class FrameError(ValueError):
    """A frame that cannot be decoded; the message says why (the caller counts and logs it)."""


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
