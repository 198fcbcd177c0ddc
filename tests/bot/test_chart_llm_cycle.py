"""chart_llm in the analysis cycle on the embedded exchange, its model a loopback stub: traced recommendations,
and HOLDs (deadline, HTTP 500, malformed JSON, stop on the wrong side) logged with their reasons."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.bot.chat_stub import API_KEY, ChatStub, Reply, completion, trade
from tests.core.conftest import fast_settings
from tui_bot.core.cycle import HELD_SHOWN, held_line
from tui_bot.core.strategies.chart_llm_settings import ChartLlmSettings
from tui_bot.domain.recommendations import Direction, Proposal, RecommendationStatus
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.store.repos import load_recommendations

KEY_ENV = "TUI_BOT_TEST_CHART_LLM_KEY"
PERMISSIVE = {"min_confidence_threshold": 0.0, "min_rr": Decimal("0.1"), "timeframe": "1", "run_cycles": False}


@pytest.fixture
async def stub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ChatStub]:
    monkeypatch.setenv(KEY_ENV, API_KEY)
    server = ChatStub()
    await server.start()
    yield server
    await server.stop()


async def started(tmp_path: Path, stub: ChatStub, **chart: Any) -> Runtime:
    settings = fast_settings()
    settings.trading = settings.trading.model_copy(update={**PERMISSIVE, "strategies": ["chart_llm"]})
    settings.chart_llm = ChartLlmSettings(base_url=stub.base_url, api_key_env=KEY_ENV, **chart)
    return await start_runtime(settings, tmp_path / "bot.db", schedule_cycles=False)


async def test_a_valid_reply_is_a_pending_recommendation_with_its_prompt_model_reply_and_chart(
    tmp_path: Path, stub: ChatStub
) -> None:
    stub.default = trade("LONG", stop_pct=-1.0, target_pct=2.0, confidence=0.7)
    rt = await started(tmp_path, stub)
    try:
        assert rt.bot is not None
        cycle = await rt.bot.run_cycle("test")
        pending = rt.bot.pending()
        assert cycle.status == "done" and cycle.recommendations == len(pending) == 2, cycle
        for rec in pending:
            assert rec.strategy == "chart_llm"
            assert (rec.prompt_name, rec.prompt_version, rec.model_name) == ("chart_analyst", "1", "qwen2.5vl:7b")
            assert '"side": "LONG"' in (rec.raw_response or "") and rec.confidence == Decimal("0.7")
            chart = Path(rec.chart_path or "")
            assert chart.parent == tmp_path / "charts" and chart.name.startswith(f"{rec.symbol}-1-") and chart.is_file()
            assert rec.stop_loss < rec.entry < rec.take_profit
        done = await rt.bot.approve(pending[0].id)
        assert done.status == RecommendationStatus.EXECUTED, done.fate
        assert done.chart_path == pending[0].chart_path
        await rt.writer.flush()
        stored = await load_recommendations(rt.conn, cycle.id)
        assert {r.id: r for r in stored} == {done.id: done} | {r.id: r for r in pending[1:]}
    finally:
        await rt.close()


async def test_the_cycle_does_not_wait_past_the_deadline(
    tmp_path: Path, stub: ChatStub, caplog: pytest.LogCaptureFixture
) -> None:
    """The stub never answers: without the deadline this cycle would wait until pytest-timeout."""
    stub.default = lambda body: Reply(hang=True)
    rt = await started(tmp_path, stub, request_timeout_s=600, deadline_s=0.5)
    try:
        assert rt.bot is not None
        with caplog.at_level(logging.WARNING, logger="tui_bot.core.cycle"):
            cycle = await rt.bot.run_cycle("test")
        assert (cycle.status, cycle.recommendations, cycle.skip_reason) == ("done", 0, "no trade ideas (2 HOLD)")
        late = "no reply before the cycle's 0.5 s deadline (deadline_s)"
        assert f"chart_llm holds 2 of 2 symbols: BTCUSDT: {late}; ETHUSDT: {late}" in caplog.text
        assert rt.bot.analysis.held == {s: [f"chart_llm: {late}"] for s in ("BTCUSDT", "ETHUSDT")}, "for the console"
    finally:
        await rt.close()


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (Reply(500, {"error": {"message": "CUDA out of memory"}}), "HTTP 500 from "),
        (Reply(body=completion("LONG! buy now")), "reply is not JSON"),
        (None, "is not below the entry"),
    ],
    ids=["http-500", "malformed-json", "stop-on-the-wrong-side"],
)
async def test_an_unusable_reply_holds_with_the_reason_logged(
    tmp_path: Path, stub: ChatStub, caplog: pytest.LogCaptureFixture, reply: Reply | None, said: str
) -> None:
    stub.default = (lambda body: reply) if reply else trade("LONG", stop_pct=1.0, target_pct=2.0)
    rt = await started(tmp_path, stub)
    try:
        assert rt.bot is not None
        with caplog.at_level(logging.WARNING, logger="tui_bot.core.cycle"):
            cycle = await rt.bot.run_cycle("test")
        assert (cycle.status, cycle.recommendations, cycle.skip_reason) == ("done", 0, "no trade ideas (2 HOLD)")
        [line] = [r.getMessage() for r in caplog.records if "chart_llm holds" in r.getMessage()]
        assert line.startswith("chart_llm holds 2 of 2 symbols: BTCUSDT: ") and line.count(said) == 2, line
        assert API_KEY not in caplog.text and len(stub.seen) == 2
    finally:
        await rt.close()


def test_the_cycle_names_the_first_held_symbols_and_counts_the_rest() -> None:
    def held(n: int) -> Proposal:
        return Proposal(
            f"S{n}USDT", Direction.HOLD, 0.0, Decimal(1), Decimal(1), Decimal(1), f"why {n}", "chart_llm", "1.0"
        )

    two = held_line("chart_llm", [held(1), held(2)], 5)
    assert two == "chart_llm holds 2 of 5 symbols: S1USDT: why 1; S2USDT: why 2"
    many = held_line("chart_llm", [held(n) for n in range(HELD_SHOWN + 3)], 200)
    assert many.startswith(f"chart_llm holds {HELD_SHOWN + 3} of 200 symbols: S0USDT: why 0;")
    assert many.endswith(f"S{HELD_SHOWN - 1}USDT: why {HELD_SHOWN - 1}; and 3 more")
