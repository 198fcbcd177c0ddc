"""orderLinkId codec: Bybit's rules, uniqueness within one millisecond, and parsing back."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui_bot.domain.order_ids import OrderIdFactory, OrderReason, parse_order_id

BYBIT_RULE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


@given(
    bot=st.from_regex(r"[A-Za-z0-9_]{1,12}", fullmatch=True),
    reason=st.sampled_from(list(OrderReason)),
    ms=st.integers(min_value=0, max_value=4_102_444_800_000),
)
def test_ids_fit_bybit_and_parse_back(bot: str, reason: OrderReason, ms: int) -> None:
    link = OrderIdFactory(bot).new(reason, ms)
    assert BYBIT_RULE.fullmatch(link)
    parsed = parse_order_id(link)
    assert parsed is not None
    assert (parsed.bot, parsed.reason, parsed.time_ms) == (bot, reason, ms)


def test_unique_within_the_same_millisecond() -> None:
    factory = OrderIdFactory("tb1")
    ids = {factory.new(OrderReason.ENTRY, 1_795_000_000_000) for _ in range(10_000)}
    assert len(ids) == 10_000


@pytest.mark.parametrize("foreign", ["", "smoke-1", "user-try-1", "abc-xx-1-2", "a b-en-1-2", "x-en-zz!-1", "x-en-1"])
def test_foreign_ids_do_not_parse(foreign: str) -> None:
    assert parse_order_id(foreign) is None


@pytest.mark.parametrize("bot", ["", "has-dash", "x" * 13, "sp ace"])
def test_bad_bot_ids_are_refused(bot: str) -> None:
    with pytest.raises(ValueError, match="bot id"):
        OrderIdFactory(bot)
