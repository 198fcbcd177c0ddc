"""The commands' and acknowledgements' wire form: golden JSON for each, and one clear line for whatever is not one."""

from __future__ import annotations

import json

import pytest

from tests.golden import load_fixture
from tui_bot.live.commands import (
    Ack,
    Approve,
    ClosePosition,
    Command,
    Dismiss,
    Envelope,
    MalformedEntry,
    Panic,
    PauseEntries,
    ResumeEntries,
    ToggleTightening,
    decode_ack,
    decode_envelope,
    encode,
)

SENT_MS = 1764880000000
COMMANDS: dict[str, Command] = {
    "approve": Approve("cy1764879900000-1-1"),
    "dismiss": Dismiss("cy1764879900000-1-2"),
    "toggle_tightening": ToggleTightening(),
    "pause_entries": PauseEntries(),
    "resume_entries": ResumeEntries(),
    "close_position": ClosePosition("BTCUSDT", 50),
    "panic": Panic(),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_goes_on_the_wire_as_its_golden_json_and_comes_back_equal(name: str) -> None:
    envelope = Envelope(COMMANDS[name], "console", SENT_MS, 30_000)
    golden = load_fixture(f"redis_command_{name}")
    assert json.loads(encode(envelope)) == golden
    assert decode_envelope({"command": json.dumps(golden)}) == envelope


def test_an_ack_goes_on_the_wire_as_its_golden_json_and_comes_back_equal() -> None:
    ack = Ack(
        "tb1", "tb1:commands", "1764880000000-0", True, "closing 50 % of BTCUSDT (tb1-mx-mip2l0xt-1a2b)", SENT_MS + 12
    )
    golden = load_fixture("redis_command_ack")
    assert json.loads(encode(ack)) == golden
    assert decode_ack({"ack": json.dumps(golden)}) == ack


def _with(**changes: object) -> dict[str, str]:
    """The golden close_position entry with some keys changed (a None value removes the key)."""
    data = load_fixture("redis_command_close_position")
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return {"command": json.dumps(data)}


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"cmd": "{}"}, "no 'command' field (fields: cmd)"),
        ({"command": "approve it"}, "command is not JSON"),
        ({"command": "[1, 2]"}, "command is not a JSON object"),
        (_with(v=2), "command wire version 2 not understood (this side speaks 1)"),
        (_with(sent_ms=None), "malformed command: sent_ms: Field required"),
        (_with(command={"type": "nuke"}), "malformed command: command: Input tag 'nuke' found using 'type'"),
        (_with(command={"type": "close_position", "symbol": "BTCUSDT", "percent": "50"}), "percent: Input should be"),
        (_with(command={"type": "close_position", "symbol": "BTCUSDT", "percent": 101}), "less than or equal to 100"),
        (_with(command={"type": "close_position", "symbol": "btc usdt"}), "symbol: String should match pattern"),
        (_with(command={"type": "panic", "all": True}), "command.panic.all: Unexpected keyword argument"),
        (_with(command={"type": "approve", "recommendation_id": ""}), "at least 1 character"),
    ],
)
def test_an_entry_that_is_not_a_command_is_refused_in_one_line(fields: dict[str, str], says: str) -> None:
    with pytest.raises(MalformedEntry) as caught:
        decode_envelope(fields)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_staleness_counts_from_the_sender_clock_and_the_commands_ttl() -> None:
    envelope = Envelope(Panic(), "console", SENT_MS, 30_000)
    assert envelope.stale_by_ms(SENT_MS + 30_000) is None
    assert envelope.stale_by_ms(SENT_MS + 30_001) == 1
