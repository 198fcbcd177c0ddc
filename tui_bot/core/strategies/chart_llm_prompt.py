"""The chart analyst's versioned prompt, and its JSON reply checked against the instrument (side, tick, band)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tui_bot.core.indicators import to_tick
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.numbers import round_to_step
from tui_bot.domain.validation import reason


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt as sent: its name and version are stored with every idea it produced; change the text, bump the
    version (tests/unit/test_chart_llm_prompt.py holds each version's text to a hash)."""

    name: str
    version: str
    system: str


PROMPT = Prompt(
    name="chart_analyst",
    version="1",
    system=(
        "You are a disciplined crypto futures trader reading one candlestick chart image of a USDT perpetual. "
        "Green candles closed up, red closed down; the coloured lines are the EMAs named at the top left; prices "
        "are on the right. Decide whether to open a trade at about the last close now.\n"
        "Answer with one JSON object and nothing else, with exactly these keys:\n"
        '{"side": "LONG" | "SHORT" | "HOLD", "confidence": number 0 to 1, "entry": number, '
        '"stop_loss": number, "take_profit": number, "reasoning": "one or two sentences"}\n'
        "For LONG the stop_loss is below the entry and the take_profit above it; for SHORT the reverse. "
        "The entry is within 1% of the last close. Use HOLD (with the last close for all three prices) when the "
        "chart gives no clear edge."
    ),
)


def user_text(symbol: str, timeframe: str, candles: Sequence[Kline], inst: Instrument) -> str:
    """The numbers beside the image: symbol, bar length, last close, the chart's range and the price tick."""
    places = max(inst.price_scale, 0)
    high = max(c.high for c in candles)
    low = min(c.low for c in candles)
    return (
        f"{symbol}, {len(candles)} bars of {timeframe} min. Last close {candles[-1].close:.{places}f}; "
        f"chart high {high:.{places}f}, low {low:.{places}f}; tick size {inst.tick_size}."
    )


class ReplyError(ValueError):
    """The model's reply cannot be used; the message says why in one line."""


class ChartReply(BaseModel):
    """The reply's JSON object (keys beyond these are ignored)."""

    model_config = ConfigDict(extra="ignore")

    side: Literal["LONG", "SHORT", "HOLD"]
    confidence: float = Field(ge=0, le=1)
    entry: Decimal | None = Field(None, gt=0)
    stop_loss: Decimal | None = Field(None, gt=0)
    take_profit: Decimal | None = Field(None, gt=0)
    reasoning: str = Field("", max_length=4000)

    @field_validator("side", mode="before")
    @classmethod
    def _upper(cls, side: object) -> object:
        return side.strip().upper() if isinstance(side, str) else side


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def parse_reply(text: str) -> ChartReply:
    """The reply's JSON object (a surrounding ``` fence is allowed); ReplyError says what is wrong."""
    fenced = _FENCE.match(text.strip())
    body = fenced.group(1) if fenced else text
    try:
        data = json.loads(body)
    except json.JSONDecodeError as err:
        raise ReplyError(f"reply is not JSON ({err.msg} at char {err.pos})") from None
    if not isinstance(data, dict):
        raise ReplyError(f"reply is JSON but not an object (a {type(data).__name__})")
    try:
        return ChartReply.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "reply"
        raise ReplyError(f"reply field {where}: {reason(first)}") from None


def checked_levels(
    reply: ChartReply, inst: Instrument, last_close: Decimal, max_gap_pct: float
) -> tuple[Decimal, Decimal, Decimal]:
    """Entry, stop and target of a LONG or SHORT reply on the tick grid; ReplyError when one is missing, outside
    the price band, the entry is too far from the last close, or the stop or target is on the wrong side."""
    if reply.entry is None or reply.stop_loss is None or reply.take_profit is None:
        raise ReplyError(f"{reply.side} reply lacks entry, stop_loss or take_profit")
    sign = 1 if reply.side == "LONG" else -1
    tick = inst.tick_size
    entry = round_to_step(reply.entry, tick)
    stop = to_tick(reply.stop_loss, tick, up=sign < 0)  # away from the entry
    target = to_tick(reply.take_profit, tick, up=sign < 0)  # toward the entry
    for name, price in (("entry", entry), ("stop_loss", stop), ("take_profit", target)):
        if not (inst.min_price <= price <= inst.max_price and price > 0):
            raise ReplyError(f"{name} {price} is outside the price band {inst.min_price}-{inst.max_price}")
    gap = abs(entry - last_close) / last_close * 100
    if gap > Decimal(str(max_gap_pct)):
        raise ReplyError(f"entry {entry} is {gap:.2f}% from the last close {last_close} (max {max_gap_pct:g}%)")
    below, above = ("below", "above") if sign > 0 else ("above", "below")
    if (entry - stop) * sign < tick:
        raise ReplyError(f"stop_loss {stop} is not {below} the entry {entry} for a {reply.side}")
    if (target - entry) * sign < tick:
        raise ReplyError(f"take_profit {target} is not {above} the entry {entry} for a {reply.side}")
    return entry, stop, target
