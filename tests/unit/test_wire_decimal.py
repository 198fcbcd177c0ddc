"""The one wire number grammar, and the ticker hot path's screen held to it exactly (property tests).

The reference below is written character by character, independently of the module's regex: a minus
only first and only where signed, ASCII digits, at most one dot with digits on both sides.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.golden import load_fixture
from tui_bot.domain.wire_decimal import (
    WireNumberError,
    is_wire_decimal,
    is_wire_int,
    parse_wire_decimal,
    parse_wire_int,
)
from tui_bot.exchange.bybit import parse_ticker
from tui_bot.exchange.bybit.frames import FrameError
from tui_bot.exchange.bybit.parse_ticker import (
    RANGED_KEYS,
    SIGNED_KEYS,
    TICKER_KEYS,
    decode_tickers,
)
from tui_bot.exchange.bybit.rest import BybitRest

DIGITS = frozenset("0123456789")
EXAMPLES = settings(derandomize=True, deadline=None, database=None, max_examples=3000)


def reference(text: str, *, signed: bool = False) -> bool:
    """The grammar, spelled out: [-]digits[.digits], the minus only when signed."""
    body = text[1:] if signed and text.startswith("-") else text
    whole, dot, fraction = body.partition(".")
    return bool(whole) and set(whole) <= DIGITS and (not dot or (bool(fraction) and set(fraction) <= DIGITS))


ACCEPTED = ["0", "7", "0.5", "104250.40", "0.010", "3107433385.4398", "007", "1784736000000"]
REFUSED = [
    "",
    "-1",
    "1e999999",
    "1e3",
    "1E3",
    "0.00_1",
    "1_000",
    " 0.001 ",
    "0.001 ",
    "\t1",
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "+1",
    "1.",
    ".5",
    "-.5",
    "1.2.3",
    "--1",
    "1-2",
    "-",
    ".",
    "0x1f",
    "١٢",
    "²",
    "1,5",
    "1\n",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_plain_numbers_parse_exactly(text: str) -> None:
    assert parse_wire_decimal(text) == Decimal(text) and parse_wire_decimal(text).as_tuple() == Decimal(text).as_tuple()
    assert is_wire_decimal(text) and reference(text)


@pytest.mark.parametrize("text", REFUSED)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(WireNumberError) as refused:
        parse_wire_decimal(text)
    assert refused.value.reason == ("sign" if text == "-1" else "number")
    assert not is_wire_decimal(text) and not reference(text)


def test_a_minus_only_where_signed() -> None:
    assert parse_wire_decimal("-0.5733772", signed=True) == Decimal("-0.5733772")
    assert parse_wire_decimal("-0", signed=True) == 0
    with pytest.raises(WireNumberError, match="negative: '-0.5'"):
        parse_wire_decimal("-0.5")
    for text in ("--1", "-", "-.5", "- 1", "+-1"):
        with pytest.raises(WireNumberError, match="not a plain number"):
            parse_wire_decimal(text, signed=True)


def test_integers_are_digits_up_to_nineteen() -> None:
    assert parse_wire_int("1784712600123456789") == 1784712600123456789
    assert parse_wire_int("-1", signed=True) == -1 and is_wire_int("-1", signed=True)
    for text in ("9" * 20, "1.0", "1e3", " 1", "+1", "1_0", "١", "²", "", "-1"):
        with pytest.raises(WireNumberError):
            parse_wire_int(text)
        assert not is_wire_int(text)
    assert not is_wire_int(None) and not is_wire_int(7)


def test_rest_rate_limit_headers_take_only_plain_digits() -> None:
    """str.isdigit() is true for "²", which int() refuses: the header would have raised out of every call."""
    rest = BybitRest("http://127.0.0.1:9")
    rest._note_limits("get_positions", {"X-Bapi-Limit-Status": "²"})
    rest._note_limits("get_tickers", {"X-Bapi-Limit-Status": "49"})
    assert rest.stats.limit_remaining == {"get_tickers": 49}


NUMBERISH = st.text(alphabet="0123456789.-", max_size=8)
ODD = st.text(alphabet="0123456789.-+eE_ ,\n١²x", max_size=8)
DIGIT_RUN = st.text(alphabet="0123456789", min_size=1, max_size=6)
VALID = st.builds(  # -?[0-9]{1,6}(\.[0-9]{1,4})?, built from parts: st.from_regex drew the same ten times slower
    lambda sign, whole, fraction: sign + whole + fraction,
    st.sampled_from(["", "-"]),
    DIGIT_RUN,
    st.one_of(st.just(""), st.text(alphabet="0123456789", min_size=1, max_size=4).map(lambda digits: "." + digits)),
)
SAMPLES = st.sampled_from(REFUSED + ACCEPTED + ["-0", "-0.000", "0.000", "-1.5"])
TEXT = st.one_of(VALID, NUMBERISH, ODD, SAMPLES, st.text(max_size=6))


@EXAMPLES
@given(TEXT, st.booleans())
def test_grammar_matches_the_reference(text: str, signed: bool) -> None:
    assert is_wire_decimal(text, signed=signed) == reference(text, signed=signed)


# ---- the ticker hot path's screen ------------------------------------------------------------

KEYS = [
    *RANGED_KEYS,
    *SIGNED_KEYS,
    "bid1Price",
    "bid1Size",
    "ask1Size",
    "volume24h",
    "openInterest",
    "singleOpenInterest",
]
DELTA_VALUES = st.dictionaries(st.sampled_from(KEYS), TEXT, min_size=1, max_size=len(KEYS))


def valid(key: str, text: str) -> bool:
    """One value as the decoder must take it: in the grammar with its key's sign rule, a price above zero."""
    return reference(text, signed=key in SIGNED_KEYS) and (key not in RANGED_KEYS or Decimal(text) > 0)


def valid_delta(values: dict[str, str]) -> bool:
    """What the decoder must accept: every value it reads unset ("") or valid (other keys are never read)."""
    return all(text == "" or valid(key, text) for key, text in values.items() if key in TICKER_KEYS)


def ticker_frame(values: dict[str, Any]) -> dict[str, Any]:
    """The golden ticker delta carrying these values instead of its own."""
    frame = load_fixture("ws_ticker_delta")
    frame["data"] = {"symbol": "BTCUSDT", **values}
    return frame


@EXAMPLES
@given(DELTA_VALUES)
def test_the_screen_passes_exactly_what_the_grammar_allows(values: dict[str, str]) -> None:
    """Accepted iff every value is valid; a valid delta takes the fast path (its own dict handed on as is)."""
    frame = ticker_frame(values)
    data = frame["data"]
    try:
        (event,) = decode_tickers(frame, "BTCUSDT", 0)
    except FrameError as refused:
        assert not valid_delta(values), f"refused a valid delta: {refused}"
        return
    assert valid_delta(values), f"accepted {values}"
    if all(valid(key, text) for key, text in values.items()):
        assert event.fields.raw is data, "a delta of valid number strings passes the screen itself"
    else:  # unset values or other keys: the exact check keeps the values readers read
        assert event.fields.raw == {key: text for key, text in values.items() if text and key in TICKER_KEYS}


def test_the_screen_learns_shapes_and_never_accepts_a_comma_inside_a_value() -> None:
    """ "1,2" joins like two values ("1" and "2"): the shape then has more parts than the object has values."""
    parse_ticker._SHAPES.clear()
    good = {"bid1Price": "104250.50", "bid1Size": "1.250"}
    assert decode_tickers(ticker_frame(good), "BTCUSDT", 0)[0].fields.raw == good
    assert len(parse_ticker._SHAPES) == 1
    for values in ({"bid1Price": "104250,50"}, {"bid1Price": "1,2", "bid1Size": "3"}, {"bid1Size": "1,250"}):
        with pytest.raises(FrameError, match="bad number in"):
            decode_tickers(ticker_frame(values), "BTCUSDT", 0)


def test_integers_and_unset_values_take_the_exact_check() -> None:
    frame = orjson.loads(orjson.dumps(ticker_frame({"markPrice": 104255, "fundingRate": "", "bid1Size": "1.5"})))
    (event,) = decode_tickers(frame, "BTCUSDT", 0)
    assert event.fields.raw == {"markPrice": 104255, "bid1Size": "1.5"}
    with pytest.raises(FrameError, match="negative number in bid1Size: -3"):
        decode_tickers(ticker_frame({"bid1Size": -3}), "BTCUSDT", 0)
