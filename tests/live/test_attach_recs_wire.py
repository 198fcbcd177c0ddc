"""A bot's published recommendations on the wire: golden JSON, and one clear line for a value not understood."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.golden import load_fixture
from tui_bot.domain.enums import Side
from tui_bot.domain.recommendations import Recommendation
from tui_bot.live.recs_codec import BotRecommendations, decode, encode

IDEA = Recommendation(
    "cy1764879900000-1-1", "cy1764879900000-1", "BTCUSDT", Side.BUY, Decimal("0.72"), Decimal("95000.5"),
    Decimal("94000"), Decimal("97000"), Decimal("1.50"), "ema_trend", "1", "EMA 9 crossed above EMA 21", "pending",
    1764879900000, 1764879900000, "awaiting approval: every gate passed", raw_response="{...}", features='{"v":1}',
    chart_path="charts/BTCUSDT.png",
)  # fmt: skip


def test_a_bots_recommendations_go_on_the_wire_as_the_golden_json_without_their_trace_and_come_back_equal() -> None:
    published = BotRecommendations.of("a1", [IDEA], {"ETHUSDT": ("ema_trend: EMAs flat",)})
    golden = load_fixture("redis_recommendations")
    assert json.loads(encode(published)) == golden
    assert decode(json.dumps(golden)) == published
    assert published.recommendations[0].features is None and published.recommendations[0].raw_response is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"v": 2}, "recommendations not understood: v: Input should be 1"),
        (
            {"recommendations": [{"id": "x"}]},
            "recommendations not understood: recommendations.0.cycle_id: Field required",
        ),
        ({"extra": 1}, "recommendations not understood: extra: Unexpected keyword argument"),
    ],
)
def test_a_value_not_understood_is_refused_in_one_line(change: dict[str, object], says: str) -> None:
    with pytest.raises(ValueError, match=r"\A[^\n]+\Z") as refused:
        decode(json.dumps({**load_fixture("redis_recommendations"), **change}))
    assert str(refused.value) == says
