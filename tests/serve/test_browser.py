"""The console in a real browser: Debian's chromium driven by Playwright against `tui-bot serve` as installed."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from tests.core.conftest import sim_of, wait_for
from tests.live.commands_support import open_sizes, receiving
from tests.live.conftest import Live
from tests.serve.conftest import Served, console_config
from tui_bot.serve.guard import new_token
from tui_bot.serve.server import GuardedServer
from tui_bot.serve_cli import served_console
from tui_bot.sim.server import SimExchange
from tui_bot.store.db import open_database
from tui_bot.store.repos import get_config

pytest.importorskip("playwright", reason="playwright is in the dev extra")
from playwright.async_api import Browser, Page, async_playwright  # noqa: E402

CHROMIUM = "chromium"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless chromium from the system (Playwright's own download cannot work here); skipped only without it."""
    path = shutil.which(CHROMIUM)
    if path is None:
        if os.environ.get("BROWSER_TESTS_REQUIRED"):
            pytest.fail("chromium not found, and BROWSER_TESTS_REQUIRED is set")
        pytest.skip("chromium not found")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        yield launched
        await launched.close()


@pytest.fixture
async def foreign_site(unused_tcp_port: int) -> AsyncIterator[Callable[[str], str]]:
    """Another site's page (127.0.0.1, another port) whose script opens a WebSocket to a URL; returns its address."""
    pages: dict[str, str] = {}

    async def page(request: web.Request) -> web.Response:
        target = pages[request.match_info["name"]]
        script = (
            f"const ws = new WebSocket({target!r});"
            "ws.onopen = () => { document.title = 'opened'; };"
            "ws.onclose = (e) => { if (document.title !== 'opened') document.title = 'closed ' + e.code; };"
        )
        return web.Response(text=f"<html><body><script>{script}</script></body></html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/{name:\\d+}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()

    def add(target: str) -> str:
        pages[str(len(pages))] = target
        return f"http://127.0.0.1:{unused_tcp_port}/{len(pages) - 1}"

    yield add
    await runner.cleanup()


async def _console_log_says(log: Path, text: str) -> None:
    while not (log.exists() and text in log.read_text()):
        await asyncio.sleep(0.2)


async def _toggle_tightening_off(page: Page, db: Path) -> None:
    """Press `t` until the console's stored setting reads off (a press before it is connected only warns)."""
    conn = await open_database(db)
    try:
        while (await get_config(conn)).get("trading", {}).get("enable_sl_tightening", True):
            await page.keyboard.press("t")
            for _ in range(15):
                await asyncio.sleep(0.2)
                if not (await get_config(conn)).get("trading", {}).get("enable_sl_tightening", True):
                    return
    finally:
        await conn.close()


async def test_the_console_in_a_browser_takes_keys_with_the_token_and_refuses_other_pages(
    served: Served, browser: Browser, foreign_site: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    context = await browser.new_context(viewport={"width": 1024, "height": 600})
    page = await context.new_page()
    refused = await page.goto(f"{served.url}/")
    assert refused is not None and refused.status == 401
    opened = await page.goto(f"{served.url}/?token={served.token}")
    assert opened is not None and opened.status == 200
    assert page.url == f"{served.url}/", "the token left the address bar"
    await page.wait_for_selector("body.-first-byte", timeout=45_000)  # the console drew its first screen
    async with asyncio.timeout(45):
        await _console_log_says(served.folder / "console.log", "private: live")
        await page.click("#terminal")
        await _toggle_tightening_off(page, served.folder / "console.db")
    await page.screenshot(path=served.folder / "console.png")

    # Another site's page in the same browser, which holds the cookie (127.0.0.1 on another port is the same site).
    other = await context.new_page()
    await other.goto(foreign_site(f"ws://{served.url.removeprefix('http://')}/ws?width=80&height=24"))
    await other.wait_for_function("document.title.startsWith('closed') || document.title === 'opened'")
    assert await other.title() == "closed 1006"
    assert "refused GET /ws from 127.0.0.1: WebSocket from origin 'http://127.0.0.1:" in caplog.text
    assert "refused GET / from 127.0.0.1: token missing or wrong" in caplog.text
    assert served.token not in caplog.text
    await context.close()


async def _close_the_first_position(page: Page, sim: SimExchange, left: int) -> None:
    """x, 100 %, y in this tab until the exchange holds `left` positions (keys before the table fills only warn)."""
    while len(open_sizes(sim)) > left:
        await page.click("#terminal")
        for key in ("x", "3", "y"):
            await page.keyboard.press(key)
            await asyncio.sleep(0.5)  # the confirmation arms after 0.3 s
        for _ in range(40):
            if len(open_sizes(sim)) <= left:
                break
            await asyncio.sleep(0.25)
    assert len(open_sizes(sim)) == left


async def test_served_attached_consoles_take_keys_in_two_tabs_at_once_and_act_through_the_bot(
    live: Live,
    redis_url: str,
    tmp_path: Path,
    browser: Browser,
) -> None:
    sim = sim_of(live.runtime)
    await live.market("BTCUSDT", "Buy", "0.010", bot="tb1")
    await live.market("ETHUSDT", "Buy", "0.10", bot="tb1")
    await wait_for(lambda: len(open_sizes(sim)) == 2)
    args = argparse.Namespace(config=console_config(tmp_path), db=tmp_path / "listen.db", venue=None, attach=redis_url)
    server = GuardedServer(served_console(args), new_token(), "127.0.0.1", 0, None, session_wait_s=0.5)
    url = await server.start()
    try:
        async with receiving(redis_url, "tb1", live.runtime.backend):
            context = await browser.new_context(viewport={"width": 1024, "height": 600})
            tabs = [await context.new_page() for _ in range(2)]
            for tab in tabs:
                opened = await tab.goto(f"{url}/?token={server.token}")
                assert opened is not None and opened.status == 200
            for tab in tabs:
                await tab.wait_for_selector("body.-first-byte", timeout=45_000)  # both consoles drew, at once
            async with asyncio.timeout(45):
                await _close_the_first_position(tabs[0], sim, left=1)  # each tab sees the listener's positions
                await _close_the_first_position(tabs[1], sim, left=0)  # and closes one through bot tb1
            await tabs[1].screenshot(path=tmp_path / "attached.png")
            await context.close()
    finally:
        await server.stop()
    assert live.publisher.up  # the consoles' end stopped no listener
