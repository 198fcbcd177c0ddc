"""Commands one process sends a bot over Redis, and the bot's acknowledgements: immutable values, versioned JSON.

A command entry holds one field, `command`: {"v": 1, "sender", "sent_ms", "ttl_ms", "command": {"type", ...}}.
An acknowledgement entry holds one field, `ack`: {"v": 1, "bot", "stream", "entry", "ok", "message", "ms"}; it
names the command by its stream and entry id (the id Redis gave the command entry), so a sender finds its answer.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config

from tui_bot.domain.metrics import wall_ms

WIRE_VERSION: Literal[1] = 1
COMMAND_FIELD = "command"
ACK_FIELD = "ack"
DEFAULT_TTL_MS = 30_000
"""A command not started within this long after it was sent is refused as stale (never executed late)."""

_STRICT = ConfigDict(extra="forbid", strict=True)
SYMBOL_PATTERN = r"^[A-Z0-9]{2,30}$"


@with_config(_STRICT)
@dataclass(frozen=True, slots=True)
class Approve:
    """Trade a pending recommendation (the gates run again)."""

    recommendation_id: Annotated[str, Field(min_length=1, max_length=64)]
    type: Literal["approve"] = "approve"


@with_config(_STRICT)
@dataclass(frozen=True, slots=True)
class Dismiss:
    """Drop a pending recommendation (it is followed as a phantom)."""

    recommendation_id: Annotated[str, Field(min_length=1, max_length=64)]
    type: Literal["dismiss"] = "dismiss"


@with_config(_STRICT)
@dataclass(frozen=True, slots=True)
class ToggleTightening:
    """Flip SL tightening (the console's `t`)."""

    type: Literal["toggle_tightening"] = "toggle_tightening"


@with_config(_STRICT)
@dataclass(frozen=True, slots=True)
class PauseEntries:
    """Open no new positions (ideas and approvals are refused); open ones stay protected."""

    type: Literal["pause_entries"] = "pause_entries"


@with_config(_STRICT)
@dataclass(frozen=True, slots=True)
class ResumeEntries:
    """Open new positions again."""

    type: Literal["resume_entries"] = "resume_entries"


@with_config(_STRICT)
@dataclass(frozen=True, slots=True)
class ClosePosition:
    """Close percent of the position in symbol with a reduce-only market order."""

    symbol: Annotated[str, Field(pattern=SYMBOL_PATTERN)]
    percent: Annotated[int, Field(ge=1, le=100)] = 100
    type: Literal["close_position"] = "close_position"


@with_config(_STRICT)
@dataclass(frozen=True, slots=True)
class Panic:
    """Cancel every order and close every position at market."""

    type: Literal["panic"] = "panic"


Command = Approve | Dismiss | ToggleTightening | PauseEntries | ResumeEntries | ClosePosition | Panic


def single_line(text: str) -> str:
    """text with every run of whitespace (newlines too) as one space."""
    return " ".join(text.split())


@with_config(_STRICT)
@dataclass(frozen=True, slots=True)
class Envelope:
    """A command as sent: who sent it, when (wall-clock ms), and how long it may wait before it is stale."""

    command: Annotated[Command, Field(discriminator="type")]
    sender: Annotated[str, Field(min_length=1, max_length=64)]
    sent_ms: Annotated[int, Field(ge=0)]
    ttl_ms: Annotated[int, Field(gt=0)]
    v: Literal[1] = WIRE_VERSION

    @classmethod
    def now(cls, command: Command, sender: str, ttl_ms: int = DEFAULT_TTL_MS) -> Envelope:
        """command sent by sender at this moment."""
        return cls(command, sender, wall_ms(), ttl_ms)

    def stale_by_ms(self, now_ms: int) -> int | None:
        """How far past its TTL the command is at now_ms (None while it is fresh)."""
        late = now_ms - self.sent_ms - self.ttl_ms
        return late if late > 0 else None


@with_config(_STRICT)
@dataclass(frozen=True, slots=True)
class Ack:
    """A bot's answer to one command entry: done (ok) or refused, in one line."""

    bot: str
    stream: str
    entry: str
    ok: bool
    message: str
    ms: int
    v: Literal[1] = WIRE_VERSION


class MalformedEntry(ValueError):
    """A stream entry that is not a command (or an ack) this version understands; the message is one line."""


_ENVELOPE = TypeAdapter(Envelope)
_ACK = TypeAdapter(Ack)


def encode(value: Envelope | Ack) -> str:
    """The wire JSON of a command envelope or an ack (compact, keys in a fixed order)."""
    return json.dumps(asdict(value), separators=(",", ":"), sort_keys=True)


def decode_envelope(fields: dict[str, str]) -> Envelope:
    """The command of a stream entry's fields; MalformedEntry says in one line what is wrong."""
    try:
        return _ENVELOPE.validate_json(_payload(fields, COMMAND_FIELD))
    except ValidationError as err:
        raise MalformedEntry(f"malformed command: {_validation_line(err)}") from None


def decode_ack(fields: dict[str, str]) -> Ack:
    """The acknowledgement of a stream entry's fields; MalformedEntry says in one line what is wrong."""
    try:
        return _ACK.validate_json(_payload(fields, ACK_FIELD))
    except ValidationError as err:
        raise MalformedEntry(f"malformed ack: {_validation_line(err)}") from None


def _payload(fields: dict[str, str], name: str) -> str:
    """The field's JSON once it is an object of this wire version (strict validation reads it as JSON)."""
    raw = fields.get(name)
    if raw is None:
        raise MalformedEntry(f"no {name!r} field (fields: {', '.join(sorted(fields)) or 'none'})")
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise MalformedEntry(f"{name} is not JSON ({err})") from None
    if not isinstance(data, dict):
        raise MalformedEntry(f"{name} is not a JSON object")
    if data.get("v") != WIRE_VERSION:
        raise MalformedEntry(f"{name} wire version {data.get('v')!r} not understood (this side speaks {WIRE_VERSION})")
    return raw


def _validation_line(err: ValidationError) -> str:
    """The first problem of a validation error as one line (where: what), with how many more there are."""
    first = err.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "entry"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"
