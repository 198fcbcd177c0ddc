"""The chart analyst's prompt is versioned by its text, and its reply is read and checked against the instrument."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from tui_bot.core.strategies.chart_llm_prompt import PROMPT, ChartReply, ReplyError, checked_levels, parse_reply
from tui_bot.domain.models import Instrument

D = Decimal
TEXT_OF_VERSION = {"1": "599133e394e121eb39b7876633cba002d46968ad3efc1ae04262d12d0d3b24e7"}
"""sha256 of each prompt version's text: a changed text with the same version fails here (bump the version)."""
INST = Instrument(
    "BTCUSDT",
    "BTC",
    "USDT",
    tick_size=D("0.5"),
    min_price=D("0.5"),
    max_price=D("200000"),
    qty_step=D("0.001"),
    min_qty=D("0.001"),
    max_qty=D("100"),
    max_market_qty=D("100"),
    min_notional=D("5"),
    price_scale=1,
)


def test_the_prompt_text_belongs_to_its_version() -> None:
    digest = hashlib.sha256(PROMPT.system.encode()).hexdigest()
    assert TEXT_OF_VERSION.get(PROMPT.version) == digest, "prompt text changed: bump PROMPT.version, record its hash"


def reply(side: str, entry: str, stop: str, target: str) -> ChartReply:
    return ChartReply(side=side, confidence=0.5, entry=D(entry), stop_loss=D(stop), take_profit=D(target))  # type: ignore[arg-type]


def test_levels_go_to_the_tick_stop_away_from_and_target_toward_the_entry() -> None:
    assert checked_levels(reply("LONG", "100.3", "98.9", "104.9"), INST, D("100"), 1.0) == (
        D("100.5"),
        D("98.5"),
        D("104.5"),
    )
    assert checked_levels(reply("SHORT", "99.8", "101.1", "95.1"), INST, D("100"), 1.0) == (
        D("100.0"),
        D("101.5"),
        D("95.5"),
    )


@pytest.mark.parametrize(
    ("side", "entry", "stop", "target", "said"),
    [
        ("LONG", "100", "100.2", "104", "stop_loss 100.0 is not below the entry 100.0 for a LONG"),
        ("SHORT", "100", "99", "95", "stop_loss 99.0 is not above the entry 100.0 for a SHORT"),
        ("SHORT", "100", "101", "100.2", "take_profit 100.5 is not below the entry 100.0 for a SHORT"),
        ("LONG", "100", "99", "250000", "take_profit 250000.0 is outside the price band 0.5-200000"),
        ("LONG", "102", "99", "104", "entry 102.0 is 2.00% from the last close 100 (max 1%)"),
    ],
)
def test_out_of_range_levels_are_refused(side: str, entry: str, stop: str, target: str, said: str) -> None:
    with pytest.raises(ReplyError) as caught:
        checked_levels(reply(side, entry, stop, target), INST, D("100"), 1.0)
    assert str(caught.value) == said


def test_a_reply_may_be_fenced_lower_case_and_carry_extra_keys() -> None:
    body = '{"side": " short ", "confidence": 0.4, "entry": 1, "stop_loss": 2, "take_profit": 0.5, "x": 1}'
    text = f"```json\n{body}\n```"
    parsed = parse_reply(text)
    assert (parsed.side, parsed.entry, parsed.reasoning) == ("SHORT", D("1"), "")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "reply is not JSON (Expecting value at char 0)"),
        ('"LONG"', "reply is JSON but not an object (a str)"),
        ('{"side": "LONG", "confidence": -0.1}', "reply field confidence: Input should be greater than or equal to 0"),
        ('{"confidence": 0.5}', "reply field side: Field required"),
        ('{"side": "LONG", "confidence": 0.5, "entry": -3}', "reply field entry: Input should be greater than 0"),
    ],
)
def test_unusable_replies_say_why_in_one_line(text: str, said: str) -> None:
    with pytest.raises(ReplyError) as caught:
        parse_reply(text)
    assert str(caught.value).startswith(said) and "\n" not in str(caught.value)
