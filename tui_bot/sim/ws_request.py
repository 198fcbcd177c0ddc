"""Client frames read as Bybit's stream gateway reads them: a JSON object whose string fields take strings or numbers.

Bybit's gateway decodes each frame into a typed request with fuzzy string decoders (its own reply to an
object where a topic belongs: "Failed to decode incoming data:op.CmdReq.Args: []string: fuzzyStringDecoder:
not number or string"), so a number where a string belongs is read as its text, null as absent, and
anything else fails the whole frame, answered without op or request id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

DECODE_FAILED = "Failed to decode incoming data"


class FrameError(ValueError):
    """A client frame that does not decode into a request; the message is the reply's text."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"{DECODE_FAILED}: {detail}")


@dataclass(frozen=True, slots=True)
class WsRequest:
    """One decoded client request: op, its request id (None when absent) and its raw args and header."""

    op: str
    req_id: str | None
    args: Any = None
    header: dict[str, str] | None = None


def _fuzzy_string(value: object, field: str) -> str | None:
    """A string field's value: a string, a number's text, None for null; FrameError for anything else."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise FrameError(f"{field}: not number or string")


def _object(text: str) -> dict[str, Any]:
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise FrameError("not valid JSON") from None
    if not isinstance(frame, dict):
        raise FrameError("not a JSON object")
    return frame


def decode_control(text: str) -> WsRequest:
    """A public or private socket frame: op, req_id and args, a list of strings (null: None)."""
    frame = _object(text)
    args = frame.get("args")
    if args is not None:
        if not isinstance(args, list):
            raise FrameError("args: not an array")
        args = [_fuzzy_string(item, "args") or "" for item in args]
    return WsRequest(_fuzzy_string(frame.get("op"), "op") or "", _fuzzy_string(frame.get("req_id"), "req_id"), args)


def decode_trade(text: str) -> WsRequest:
    """A trade socket frame: op, reqId, the header object of strings and the raw args (checked per op)."""
    frame = _object(text)
    header = frame.get("header")
    if header is not None:
        if not isinstance(header, dict):
            raise FrameError("header: not an object")
        header = {key: _fuzzy_string(value, f"header.{key}") or "" for key, value in header.items()}
    return WsRequest(
        _fuzzy_string(frame.get("op"), "op") or "",
        _fuzzy_string(frame.get("reqId"), "reqId"),
        frame.get("args"),
        header,
    )
