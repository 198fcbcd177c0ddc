"""A bot's recommendations as it publishes them in Redis (`{bot}:recommendations`): one versioned JSON value.

{"v": 1, "bot", "recommendations": [{id, symbol, side, entry, stop_loss, ..., status, fate}], "held": {symbol:
[reason]}}: what the console shows of each idea. The model's raw reply, the features and the chart's local path stay
in the bot's store.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config

from tui_bot.domain.recommendations import Recommendation

WIRE_VERSION: Literal[1] = 1


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class BotRecommendations:
    """One bot's recommendations (pending ones and the latest decided) and why it held in its latest cycle."""

    bot: str
    recommendations: tuple[Recommendation, ...] = ()
    held: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    v: Literal[1] = WIRE_VERSION

    @classmethod
    def of(
        cls, bot: str, recommendations: list[Recommendation], held: dict[str, tuple[str, ...]]
    ) -> BotRecommendations:
        """What bot publishes: each recommendation without its bulky trace (raw reply, features, chart path)."""
        shown = tuple(replace(rec, raw_response=None, features=None, chart_path=None) for rec in recommendations)
        return cls(bot, shown, dict(held))


_WIRE = TypeAdapter(BotRecommendations)


def encode(value: BotRecommendations) -> str:
    """The wire JSON (compact, keys in the dataclasses' order)."""
    return _WIRE.dump_json(value).decode()


def decode(raw: str | bytes) -> BotRecommendations:
    """The value read back; ValueError says in one line what is wrong (a wire version not understood, a field)."""
    try:
        return _WIRE.validate_json(raw)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "value"
        raise ValueError(f"recommendations not understood: {where}: {first['msg']}") from None
