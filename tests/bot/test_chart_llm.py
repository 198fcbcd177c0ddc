"""chart_llm against a loopback chat-completions stub: a valid reply becomes a traced proposal; timeouts, HTTP
errors, malformed or out-of-range replies, the deadline and the caps become HOLD with the reason; no key leaks."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.bot.chat_stub import API_KEY, ChatStub, Reply, completion, trade
from tests.golden import assert_matches_golden
from tui_bot.core.strategies.chart_llm import ChartLlm, ChartRequest
from tui_bot.core.strategies.chart_llm_prompt import PROMPT
from tui_bot.core.strategies.chart_llm_settings import ChartLlmSettings
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.recommendations import Direction, Proposal

KEY_ENV = "TUI_BOT_TEST_CHART_LLM_KEY"
D = Decimal
INST = Instrument(
    "BTCUSDT",
    "BTC",
    "USDT",
    tick_size=D("0.1"),
    min_price=D("0.1"),
    max_price=D("1000000"),
    qty_step=D("0.001"),
    min_qty=D("0.001"),
    max_qty=D("100"),
    max_market_qty=D("100"),
    min_notional=D("5"),
    price_scale=1,
)


def bars(symbol: str = "BTCUSDT", count: int = 120, base: float = 64000.0) -> list[Kline]:
    """A wavy series of closed 15m bars on the 0.1 tick."""
    out: list[Kline] = []
    price = D(str(base))
    for i in range(count):
        close = (D(str(base)) + D(str(round(math.sin(i / 6) * 300 + i * 2, 1)))).quantize(D("0.1"))
        high, low = max(price, close) + D("25.0"), min(price, close) - D("25.0")
        out.append(Kline(symbol, "15", i * 900_000, price, high, low, close, confirm=True))
        price = close
    return out


def request(symbol: str = "BTCUSDT") -> ChartRequest:
    return ChartRequest(symbol, "15", bars(symbol), INST)


def settings(base_url: str, **options: Any) -> ChartLlmSettings:
    values: dict[str, Any] = {"api_key_env": KEY_ENV, "request_timeout_s": 10, "deadline_s": 20, **options}
    return ChartLlmSettings(base_url=base_url, **values)


@pytest.fixture
async def stub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ChatStub]:
    monkeypatch.setenv(KEY_ENV, API_KEY)
    server = ChatStub()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_no_key_logged(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert API_KEY not in text, f"API key logged by {record.name}: {text}"


async def ask(stub: ChatStub, tmp_path: Path, *requests: ChartRequest, **options: Any) -> list[Proposal]:
    strategy = ChartLlm()
    return await strategy.propose_many(list(requests or [request()]), settings(stub.base_url, **options), tmp_path)


def only_hold(proposals: list[Proposal]) -> str:
    [proposal] = proposals
    assert proposal.direction is Direction.HOLD and proposal.strategy == "chart_llm", proposal
    return proposal.reasoning


# -- a valid reply --------------------------------------------------------------------------------------------


async def test_a_valid_reply_is_a_proposal_with_prompt_model_reply_and_chart(stub: ChatStub, tmp_path: Path) -> None:
    stub.default = trade("LONG", stop_pct=-0.5, target_pct=1.07)
    [proposal] = await ask(stub, tmp_path)
    close = bars()[-1].close
    assert (proposal.direction, proposal.entry, proposal.confidence) == (Direction.LONG, close, 0.8)
    assert proposal.stop_loss == (close * D("0.995")).quantize(D("0.1"), rounding="ROUND_DOWN")
    assert proposal.take_profit == (close * D("1.0107")).quantize(D("0.1"), rounding="ROUND_DOWN")
    assert (proposal.prompt_name, proposal.prompt_version) == (PROMPT.name, PROMPT.version) == ("chart_analyst", "1")
    assert proposal.model_name == "qwen2.5vl:7b" and proposal.reasoning == "LONG from the stub"
    assert json.loads(proposal.raw_response or "")["side"] == "LONG"
    chart = Path(proposal.chart_path or "")
    assert chart.parent == tmp_path and chart.name == f"BTCUSDT-15-{bars()[-1].start}.png"
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_request_carries_the_chart_as_a_png_data_url_and_the_prompt_version(
    stub: ChatStub, tmp_path: Path
) -> None:
    stub.default = trade("SHORT", stop_pct=0.5, target_pct=-1.0)
    [proposal] = await ask(stub, tmp_path)
    [seen] = stub.seen
    system, user = seen.body["messages"]
    assert_matches_golden({**seen.body, "messages": [system]}, "llm_chat_completion_request")
    assert user["role"] == "user" and len(user["content"]) == 2
    assert_matches_golden(user["content"][0], "llm_chat_text_part")
    assert_matches_golden(user["content"][1], "llm_chat_image_part")
    assert system["content"] == PROMPT.system and seen.headers["X-Tui-Bot-Prompt"] == "chart_analyst/1"
    url = user["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.removeprefix("data:image/png;base64,")) == Path(proposal.chart_path or "").read_bytes()
    assert seen.headers["Authorization"] == f"Bearer {API_KEY}"


async def test_a_reply_wrapped_in_a_code_fence_is_read(stub: ChatStub, tmp_path: Path) -> None:
    close = float(bars()[-1].close)
    idea = {"side": "long", "confidence": 0.6, "entry": close, "stop_loss": close - 300, "take_profit": close + 600}
    stub.script.append(Reply(body=completion("```json\n" + json.dumps(idea) + "\n```")))
    [proposal] = await ask(stub, tmp_path)
    assert proposal.direction is Direction.LONG and proposal.reasoning == "(no reasoning given)"


# -- HOLD with the reason -------------------------------------------------------------------------------------


async def test_a_request_timeout_holds(stub: ChatStub, tmp_path: Path) -> None:
    stub.script.append(Reply(hang=True))
    reason = only_hold(await ask(stub, tmp_path, request_timeout_s=0.3))
    assert reason == "no reply within 0.3 s (request_timeout_s)"


async def test_the_deadline_ends_the_wait_and_holds_the_unanswered(stub: ChatStub, tmp_path: Path) -> None:
    """A server that never answers: without the deadline this test would hang until pytest-timeout."""
    stub.default = lambda body: Reply(hang=True)
    answers = await ask(stub, tmp_path, request("BTCUSDT"), request("ETHUSDT"), deadline_s=0.5)
    late = "no reply before the cycle's 0.5 s deadline (deadline_s)"
    assert [(p.symbol, p.direction, p.reasoning) for p in answers] == [
        ("BTCUSDT", Direction.HOLD, late),
        ("ETHUSDT", Direction.HOLD, late),
    ]
    assert len(stub.seen) == 2


@pytest.mark.parametrize(("status", "said"), [(500, "HTTP 500"), (429, "HTTP 429"), (503, "HTTP 503")])
async def test_an_http_error_holds(stub: ChatStub, tmp_path: Path, status: int, said: str) -> None:
    stub.script.append(Reply(status, {"error": {"message": "model overloaded", "type": "server_error"}}))
    reason = only_hold(await ask(stub, tmp_path))
    assert reason.startswith(f"{said} from {stub.base_url}") and "model overloaded" in reason


async def test_a_refused_connection_holds(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    strategy = ChartLlm()
    base = f"http://127.0.0.1:{port}/v1"
    reason = only_hold(await strategy.propose_many([request()], ChartLlmSettings(base_url=base), tmp_path))
    assert reason.startswith(f"cannot reach {base}")


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("LONG, definitely: the trend is up", "reply is not JSON"),
        ("[1, 2]", "reply is JSON but not an object"),
        ('{"side": "BUY", "confidence": 0.5}', "reply field side"),
        ('{"side": "LONG", "confidence": 1.5, "entry": 1, "stop_loss": 1, "take_profit": 1}', "reply field confidence"),
        ('{"side": "LONG", "confidence": 0.5}', "LONG reply lacks entry, stop_loss or take_profit"),
        ('{"side": "HOLD", "confidence": 0.1, "reasoning": "chop"}', "the model holds: chop"),
    ],
)
async def test_a_malformed_or_incomplete_reply_holds(stub: ChatStub, tmp_path: Path, content: str, said: str) -> None:
    stub.script.append(Reply(body=completion(content)))
    assert said in only_hold(await ask(stub, tmp_path))


async def test_a_reply_body_that_is_not_json_holds(stub: ChatStub, tmp_path: Path) -> None:
    stub.script.append(Reply(text="<html>bad gateway</html>"))
    assert only_hold(await ask(stub, tmp_path)).startswith("unusable reply")


@pytest.mark.parametrize(
    ("side", "stop_pct", "target_pct", "said"),
    [
        ("LONG", 0.5, 1.0, "stop_loss {stop} is not below the entry {entry} for a LONG"),
        ("SHORT", -0.5, -1.0, "stop_loss {stop} is not above the entry {entry} for a SHORT"),
        ("LONG", -0.5, -1.0, "take_profit {target} is not above the entry {entry} for a LONG"),
    ],
)
async def test_levels_on_the_wrong_side_hold(
    stub: ChatStub, tmp_path: Path, side: str, stop_pct: float, target_pct: float, said: str
) -> None:
    stub.default = trade(side, stop_pct, target_pct)
    reason = only_hold(await ask(stub, tmp_path))
    entry = bars()[-1].close
    up = side == "SHORT"
    stop = (entry * (1 + D(str(stop_pct)) / 100)).quantize(D("0.1"), rounding="ROUND_UP" if up else "ROUND_DOWN")
    target = (entry * (1 + D(str(target_pct)) / 100)).quantize(D("0.1"), rounding="ROUND_UP" if up else "ROUND_DOWN")
    assert reason == said.format(stop=stop, target=target, entry=entry)


async def test_an_entry_far_from_the_last_close_holds(stub: ChatStub, tmp_path: Path) -> None:
    close = float(bars()[-1].close)
    idea = {"side": "LONG", "confidence": 0.5, "entry": close * 1.05, "stop_loss": close, "take_profit": close * 1.1}
    stub.script.append(Reply(body=completion(json.dumps(idea))))
    assert "% from the last close" in only_hold(await ask(stub, tmp_path))


# -- caps, files, secrets -------------------------------------------------------------------------------------


async def test_requests_past_the_cap_hold_and_are_never_sent(stub: ChatStub, tmp_path: Path) -> None:
    stub.default = trade("LONG", -0.5, 1.0)
    answers = await ask(stub, tmp_path, request("A"), request("B"), request("C"), max_requests_per_cycle=1)
    assert [p.direction for p in answers] == [Direction.LONG, Direction.HOLD, Direction.HOLD]
    assert answers[1].reasoning == "over the cap of 1 model requests per cycle" and len(stub.seen) == 1


async def test_concurrency_is_capped(stub: ChatStub, tmp_path: Path) -> None:
    """Replies are held until three requests wait at once; a fourth must not come while they do."""
    answer = trade("LONG", -0.5, 1.0)
    stub.default = lambda body: Reply(body=answer(body).body, held=True)
    symbols = [f"S{i}USDT" for i in range(6)]
    asked = asyncio.create_task(ask(stub, tmp_path, *(request(s) for s in symbols), concurrency=3))
    await stub.wait_in_flight(3)
    await asyncio.sleep(0.3)  # time for a fourth request to arrive, were the cap not kept
    assert (stub.in_flight, len(stub.seen)) == (3, 3)
    stub.release.set()
    answers = await asked
    assert all(p.direction is Direction.LONG for p in answers) and len(stub.seen) == 6
    assert stub.most_in_flight == 3


async def test_only_the_newest_charts_are_kept(stub: ChatStub, tmp_path: Path) -> None:
    stub.default = trade("LONG", -0.5, 1.0)
    await ask(stub, tmp_path, request("A"), request("B"), request("C"), keep_charts=2)
    assert len(list(tmp_path.glob("*.png"))) == 2


async def test_a_missing_key_variable_holds_without_asking(
    stub: ChatStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    reason = only_hold(await ask(stub, tmp_path))
    assert reason == f"environment variable {KEY_ENV} (api_key_env) is not set" and not stub.seen


async def test_the_api_key_never_reaches_a_log_or_a_reason(
    stub: ChatStub, tmp_path: Path, everything_logged: pytest.LogCaptureFixture
) -> None:
    echo = f"invalid request, headers were Authorization: Bearer {API_KEY}"
    stub.script.append(Reply(401, {"error": {"message": echo}}))
    stub.script.append(Reply(body=completion(f"not json, and your key is {API_KEY}")))
    stub.default = trade("LONG", -0.5, 1.0)
    answers = await ask(stub, tmp_path, request("A"), request("B"), request("C"), concurrency=1)
    assert [p.direction for p in answers] == [Direction.HOLD, Direction.HOLD, Direction.LONG]
    assert answers[0].reasoning.startswith("HTTP 401") and "Bearer ***" in answers[0].reasoning
    assert all(API_KEY not in (p.reasoning + (p.raw_response or "")) for p in answers)
    assert any(r.name.startswith(("openai", "httpx")) for r in everything_logged.records), "SDK logs not captured"
    assert_no_key_logged(everything_logged)
