"""The served console's door over real HTTP and WebSocket: the token on every request, the own Origin on upgrades."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.serve.conftest import Served, console_config
from tui_bot.serve.guard import new_token, origin_of
from tui_bot.serve.server import GuardedServer
from tui_bot.serve_cli import served_console

FOREIGN = "http://evil.example"


async def _status(url: str, **kwargs: object) -> int:
    async with aiohttp.ClientSession() as session, session.get(url, allow_redirects=False, **kwargs) as response:  # type: ignore[arg-type]
        return response.status


async def _upgrade_status(url: str, origin: str | None, cookies: dict[str, str] | None = None) -> int:
    """The status a WebSocket upgrade gets (101 when accepted, the socket then closed)."""
    async with aiohttp.ClientSession(cookies=cookies) as session:
        try:
            async with session.ws_connect(url, origin=origin) as ws:
                await ws.close()
                return 101
        except aiohttp.WSServerHandshakeError as err:
            return err.status


async def test_page_and_files_without_the_right_token_are_refused(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")
    cookie = f"tui_bot_serve_{served.url.rsplit(':', 1)[1]}"
    assert await _status(f"{served.url}/") == 401
    assert await _status(f"{served.url}/?token={wrong}") == 401
    assert await _status(f"{served.url}/?token=") == 401
    assert await _status(f"{served.url}/", cookies={cookie: wrong}) == 401
    assert await _status(f"{served.url}/static/js/textual.js") == 401
    assert await _status(f"{served.url}/static/js/textual.js?token={served.token}") == 303
    assert not served.console_started
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused GET / from 127.0.0.1: token missing or wrong" in logged
    assert served.token not in logged and wrong not in logged


async def test_the_printed_url_trades_the_token_for_a_strict_cookie_and_leaves_the_address(served: Served) -> None:
    jar = aiohttp.CookieJar(unsafe=True)  # the server is an IP address
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(f"{served.url}/?fontsize=20&token={served.token}", allow_redirects=False) as first:
            assert first.status == 303
            assert first.headers["Location"] == "/?fontsize=20"
            set_cookie = first.headers["Set-Cookie"]
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/"):
            assert attribute in set_cookie
        assert "Secure" not in set_cookie  # plain http on loopback: a Secure cookie would never come back
        async with session.get(f"{served.url}/?fontsize=20") as page:
            assert page.status == 200
            html = await page.text()
    assert f'data-session-websocket-url="ws://127.0.0.1:{served.url.rsplit(":", 1)[1]}/ws"' in html
    assert served.token not in html


async def test_websocket_without_the_right_token_is_refused_even_from_the_own_origin(served: Served) -> None:
    own = origin_of(served.url)
    assert await _upgrade_status(served.ws, own) == 401
    assert await _upgrade_status(f"{served.ws}&token=nope-{served.token}", own) == 401
    assert not served.console_started


async def test_websocket_from_another_origin_is_refused_even_with_the_token(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    with_token = f"{served.ws}&token={served.token}"
    other_port = served.url.rsplit(":", 1)[0] + ":1"  # same site, other origin: a cookie would still be sent
    cookie = {f"tui_bot_serve_{served.url.rsplit(':', 1)[1]}": served.token}
    assert await _upgrade_status(with_token, FOREIGN) == 403
    assert await _upgrade_status(with_token, other_port) == 403
    assert await _upgrade_status(with_token, None) == 403
    assert await _upgrade_status(served.ws, FOREIGN, cookies=cookie) == 403
    assert not served.console_started
    assert "refused GET /ws from 127.0.0.1: WebSocket from origin 'http://evil.example'" in caplog.text
    assert served.token not in caplog.text


async def test_right_token_and_own_origin_get_the_console_one_tab_at_a_time(served: Served) -> None:
    own = origin_of(served.url)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{served.ws}&token={served.token}", origin=own) as ws:
            screen = b""
            async with asyncio.timeout(50):
                while b"Symbol" not in screen:  # the quote board's header
                    message = await ws.receive()
                    assert message.type == aiohttp.WSMsgType.BINARY, message
                    screen += message.data
            assert served.console_started
            assert await _upgrade_status(f"{served.ws}&token={served.token}", own) == 409
        assert ws.closed


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://Bot.Example.com:443/", "https://bot.example.com"),
        ("http://bot.example.com:80", "http://bot.example.com"),
        ("https://bot.example.com:8443", "https://bot.example.com:8443"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_origin_of_a_url_is_what_a_browser_sends_from_its_pages(url: str, origin: str) -> None:
    assert origin_of(url) == origin


async def test_behind_a_proxy_the_public_url_is_the_own_origin(tmp_path: Path) -> None:
    console = served_console(argparse.Namespace(config=console_config(tmp_path), db=None, venue=None, attach=None))
    server = GuardedServer(console, new_token(), "127.0.0.1", 0, "https://bot.example.com")
    assert await server.start() == "https://bot.example.com"
    url = f"http://127.0.0.1:{server.port}"
    try:
        direct = f"{url}/ws?width=80&height=24&token={server.token}"
        assert await _upgrade_status(direct, url) == 403  # the loopback address is not where browsers come from
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/?token={server.token}", allow_redirects=False) as first:
                assert first.status == 303
                assert "Secure" in first.headers["Set-Cookie"]
            cookie = {f"tui_bot_serve_{server.port}": server.token}
            async with session.get(f"{url}/", cookies=cookie) as page:
                assert 'data-session-websocket-url="wss://bot.example.com/ws"' in await page.text()
    finally:
        await server.stop()
    assert not (tmp_path / "console.db").exists()


def test_the_served_console_is_this_command_line_on_the_same_settings_one_tab_at_a_time(tmp_path: Path) -> None:
    config, db = console_config(tmp_path), tmp_path / "other.db"
    console = served_console(argparse.Namespace(config=config, db=db, venue="testnet", attach=None))
    assert shlex.split(console.command) == [
        sys.executable,
        "-m",
        "tui_bot",
        "--config",
        str(config),
        "--db",
        str(db),
        "--venue",
        "testnet",
    ]
    assert console.max_sessions == 1
    bare = served_console(argparse.Namespace(config=None, db=None, venue=None, attach=None))
    assert shlex.split(bare.command) == [sys.executable, "-m", "tui_bot"]


def test_with_attach_every_tab_is_an_attached_console_and_any_number_run_at_once(tmp_path: Path) -> None:
    config, url = console_config(tmp_path), "redis://127.0.0.1:6379/0"
    console = served_console(argparse.Namespace(config=config, db=None, venue=None, attach=url))
    assert shlex.split(console.command) == [sys.executable, "-m", "tui_bot", "--config", str(config), "--attach", url]
    assert console.max_sessions is None
