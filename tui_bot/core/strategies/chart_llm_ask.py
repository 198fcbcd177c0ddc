"""Asking the model (openai SDK, any OpenAI-compatible base_url) about chart images: caps, deadline, HOLD reasons."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai

from tui_bot.core.indicators import closes, ema
from tui_bot.core.strategies.base import Named, clamp_confidence, hold, last_close
from tui_bot.core.strategies.chart_llm import ChartRequest
from tui_bot.core.strategies.chart_llm_prompt import (
    PROMPT,
    ChartReply,
    ReplyError,
    checked_levels,
    parse_reply,
    user_text,
)
from tui_bot.core.strategies.chart_llm_render import prune_charts, render_chart, save_chart
from tui_bot.core.strategies.chart_llm_settings import ChartLlmSettings
from tui_bot.domain.models import Kline
from tui_bot.domain.recommendations import Direction, Proposal

log = logging.getLogger(__name__)
PROMPT_HEADER = "X-Tui-Bot-Prompt"
"""Request header naming the prompt and its version, e.g. chart_analyst/1 (for the model server's logs)."""
NO_KEY = "unused"
"""Sent as the key when api_key_env names none (the SDK requires one; Ollama and vLLM ignore it)."""
REASON_CHARS = 240


class _Hold(Exception):
    """This symbol holds; the message is the reason."""


@dataclass(frozen=True, slots=True)
class _Batch:
    """What every request of one cycle shares."""

    client: openai.AsyncOpenAI
    gate: asyncio.Semaphore
    settings: ChartLlmSettings
    chart_dir: Path
    key: str


class ChartAsker:
    """Renders, sends and checks: one batch of requests per cycle over one client."""

    def __init__(self, strategy: Named) -> None:
        self.strategy = strategy

    async def propose_many(
        self, requests: Sequence[ChartRequest], settings: ChartLlmSettings, chart_dir: Path
    ) -> list[Proposal]:
        """One proposal per request; those past the cap, or unanswered at the deadline, hold."""
        cap = settings.max_requests_per_cycle
        results: dict[int, Proposal] = {
            i: self._hold(requests[i], f"over the cap of {cap} model requests per cycle")
            for i in range(cap, len(requests))
        }
        key = _api_key(settings)
        if isinstance(key, _Hold):
            return [results.get(i) or self._hold(r, str(key)) for i, r in enumerate(requests)]
        async with openai.AsyncOpenAI(
            api_key=key, base_url=settings.base_url, timeout=settings.request_timeout_s, max_retries=0
        ) as client:
            batch = _Batch(client, asyncio.Semaphore(settings.concurrency), settings, chart_dir, key)
            tasks = {asyncio.create_task(self._guarded(batch, r)): i for i, r in enumerate(requests[:cap])}
            done = await _wait(set(tasks), settings.deadline_s)
        late = f"no reply before the cycle's {settings.deadline_s:g} s deadline (deadline_s)"
        for task, i in tasks.items():
            results[i] = task.result() if task in done else self._hold(requests[i], late)
        await asyncio.to_thread(prune_charts, chart_dir, settings.keep_charts)
        return [results[i] for i in range(len(requests))]

    def _hold(self, request: ChartRequest, why: str) -> Proposal:
        return hold(self.strategy, request.symbol, request.candles, request.inst, why)

    async def _guarded(self, batch: _Batch, request: ChartRequest) -> Proposal:
        """_ask under the concurrency cap, every failure a HOLD whose reason never holds the key."""
        try:
            async with batch.gate:
                return await self._ask(batch, request)
        except (_Hold, ReplyError) as err:
            why = str(err)
        except openai.OpenAIError as err:
            why = _describe(err, batch.settings)
        except ValueError as err:  # the SDK could not decode the body
            why = f"unusable reply: the body is not a chat completion ({type(err).__name__})"
        except Exception as err:  # a bug of ours: logged with its traceback, the symbol still holds
            log.exception("chart_llm failed on %s", request.symbol)
            why = f"failed: {type(err).__name__}"
        return self._hold(request, _scrub(why, batch.key)[:REASON_CHARS])

    async def _ask(self, batch: _Batch, request: ChartRequest) -> Proposal:
        """Render and save the chart, send it with the prompt, and check the reply against the instrument."""
        settings = batch.settings
        candles = request.candles[-settings.candles :]
        png = await asyncio.to_thread(_render, request, settings)
        name = f"{request.symbol}-{request.timeframe}-{candles[-1].start}.png"
        path = await asyncio.to_thread(save_chart, batch.chart_dir, name, png)
        completion = await batch.client.chat.completions.create(
            model=settings.model,
            messages=messages(request, candles, png),
            response_format={"type": "json_object"},
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            extra_headers={PROMPT_HEADER: f"{PROMPT.name}/{PROMPT.version}"},
        )
        text = completion.choices[0].message.content if completion.choices else None
        if not text:
            raise _Hold("reply has no message content")
        text = _scrub(text, batch.key)
        return self._proposal(request, parse_reply(text), text, settings, path)

    def _proposal(
        self, request: ChartRequest, reply: ChartReply, text: str, settings: ChartLlmSettings, path: Path
    ) -> Proposal:
        """A checked reply as a proposal carrying the prompt, model, raw reply and chart path."""
        if reply.side == "HOLD":
            raise _Hold(f"the model holds: {reply.reasoning or '(no reasoning given)'}")
        close = last_close(request.candles, request.inst)
        entry, stop, target = checked_levels(reply, request.inst, close, settings.max_entry_gap_pct)
        return Proposal(
            symbol=request.symbol,
            direction=Direction(reply.side),
            confidence=clamp_confidence(reply.confidence),
            entry=entry,
            stop_loss=stop,
            take_profit=target,
            reasoning=reply.reasoning or "(no reasoning given)",
            strategy=self.strategy.name,
            strategy_version=self.strategy.version,
            prompt_name=PROMPT.name,
            prompt_version=PROMPT.version,
            model_name=settings.model,
            raw_response=text,
            chart_path=str(path),
        )


def messages(request: ChartRequest, candles: Sequence[Kline], png: bytes) -> list[Any]:
    """The chat: the versioned system prompt, then the numbers and the chart as a base64 PNG data URL."""
    image = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return [
        {"role": "system", "content": PROMPT.system},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": user_text(request.symbol, request.timeframe, candles, request.inst)},
                {"type": "image_url", "image_url": {"url": image}},
            ],
        },
    ]


def _render(request: ChartRequest, settings: ChartLlmSettings) -> bytes:
    """The chart of the newest settings.candles bars with each configured EMA (computed over all the bars)."""
    values = closes(request.candles)
    shown = len(request.candles[-settings.candles :])
    lines = {f"EMA{p}": ema(values, p)[-shown:] for p in settings.ema_periods}
    return render_chart(request.candles[-shown:], lines, price_decimals=request.inst.price_scale)


async def _wait(tasks: set[asyncio.Task[Proposal]], deadline_s: float) -> set[asyncio.Task[Proposal]]:
    """The tasks done within the deadline; the rest are cancelled (and awaited) before returning."""
    if not tasks:
        return set()
    done, pending = await asyncio.wait(tasks, timeout=deadline_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return done


def _api_key(settings: ChartLlmSettings) -> str | _Hold:
    """The key from the variable api_key_env names (NO_KEY when it names none)."""
    if not settings.api_key_env:
        return NO_KEY
    key = os.environ.get(settings.api_key_env, "")
    return key if key else _Hold(f"environment variable {settings.api_key_env} (api_key_env) is not set")


def _describe(err: openai.OpenAIError, settings: ChartLlmSettings) -> str:
    """An SDK error as a HOLD reason: timeout, unreachable server, or the HTTP status and the server's message."""
    if isinstance(err, openai.APITimeoutError):
        return f"no reply within {settings.request_timeout_s:g} s (request_timeout_s)"
    if isinstance(err, openai.APIConnectionError):
        return f"cannot reach {settings.base_url}: {err.__cause__ or err}"
    if isinstance(err, openai.APIStatusError):
        return f"HTTP {err.status_code} from {settings.base_url}: {err.message}"
    return f"unusable reply ({type(err).__name__}: {err})"


def _scrub(text: str, key: str) -> str:
    """text with the API key masked wherever it appears (a server may echo the request's headers)."""
    return text.replace(key, "***") if key != NO_KEY else text
