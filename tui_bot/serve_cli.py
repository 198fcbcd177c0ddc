"""`tui-bot serve`: the console in a browser tab (textual-serve), behind a secret token and an Origin check.

With `--attach URL` every tab is an attached console (`tui-bot --attach URL`), as many at once as are opened;
without it the tab's console is the whole bot in one process, one tab at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import shlex
import signal
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tui_bot.cli_types import port, redis_url
from tui_bot.config import Settings
from tui_bot.serve.guard import TOKEN_ENV, TOKEN_QUERY, TokenError, new_token, token_from_env

if TYPE_CHECKING:
    from tui_bot.serve.server import GuardedServer, ServedConsole  # imported at run time: textual-serve loads rich

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `serve` command and its options."""
    serve = commands.add_parser(
        "serve", parents=[common], help="serve the console to a browser (token and Origin checked) until interrupted"
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}, 0 = any free)")
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that is not loopback (plain HTTP: prefer a TLS reverse proxy or an SSH tunnel)",
    )
    serve.add_argument(
        "--public-url",
        help="the URL browsers open, when it is not http://HOST:PORT (behind a reverse proxy: https://bot.example.com)",
    )
    serve.add_argument(
        "--attach",
        metavar="URL",
        type=redis_url,
        default=argparse.SUPPRESS,  # `tui-bot --attach URL serve` says the same
        help="serve attached consoles on a listener's Redis (any number of tabs) instead of the whole bot (one tab)",
    )
    serve.set_defaults(usage_error=serve.error)


def served_console(args: argparse.Namespace) -> ServedConsole:
    """What each tab runs: the console on this command's settings, by the same interpreter.

    Without --attach the console is the whole bot in one process (streams, store, protection, cycles), so one tab
    at a time: a second tab would be a second bot on the same account and database. An attached console is a
    reader acting through command streams, never a bot: any number of tabs.
    """
    from tui_bot.serve.server import ServedConsole

    argv = [sys.executable, "-m", "tui_bot"]
    for flag, value in (("--config", args.config), ("--db", args.db)):
        if value is not None:
            argv += [flag, str(value.resolve())]
    if args.venue:
        argv += ["--venue", args.venue]
    if args.attach is not None:
        return ServedConsole(command=shlex.join([*argv, "--attach", args.attach]), max_sessions=None)
    return ServedConsole(command=shlex.join(argv), max_sessions=1)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check the options and the token, serve until SIGINT/SIGTERM; 1 when the address cannot be bound."""
    problem = _host_problem(args.host, args.allow_remote, args.public_url)
    try:
        token = token_from_env(os.environ)
    except TokenError as err:
        problem = problem or str(err)
    if problem:
        args.usage_error(problem)
    if args.attach is not None and (unreachable := _redis_problem(args.attach)):
        print(f"tui-bot serve: {unreachable}", file=sys.stderr)
        return 1
    if not _is_loopback(args.host):
        warning = f"{args.host} is not loopback; the token and the screen cross the network in clear"
        print(f"tui-bot serve: warning: {warning}", file=sys.stderr)
    os.environ.pop(TOKEN_ENV, None)  # the consoles inherit this environment and have no use for the token
    from tui_bot.serve.server import GuardedServer

    console = served_console(args)
    server = GuardedServer(console, token or new_token(), args.host, args.port, args.public_url)
    try:
        asyncio.run(_serve_until_signal(server, _shown_mode(args, settings), generated=token is None))
    except OSError as err:
        print(f"tui-bot serve: cannot listen on {args.host}:{args.port}: {err.strerror or err}", file=sys.stderr)
        return 1
    return 0


def _redis_problem(url: str) -> str | None:
    """Why the attached consoles could not start (Redis does not answer), or None; the URL is never shown."""
    from tui_bot.bot_cli import ping

    try:
        asyncio.run(ping(url))
    except (OSError, ValueError) as err:  # ValueError: a URL redis-py cannot read; either says it in one line
        return str(err)
    return None


def _shown_mode(args: argparse.Namespace, settings: Settings) -> str:
    """`venue sim`, or `attached, venue sim` (never the Redis URL: it may hold a password)."""
    venue = f"venue {settings.exchange.venue}"
    return f"attached, {venue}" if args.attach is not None else venue


async def _serve_until_signal(server: GuardedServer, mode: str, generated: bool) -> None:
    """Serve, print the URL to open (with the token when it was generated here), stop on SIGINT/SIGTERM."""
    url = await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before the URL is printed: a Ctrl-C at once still stops cleanly
        loop.add_signal_handler(sig, stop.set)
    token = server.token if generated else f"<{TOKEN_ENV}>"
    print(f"serving the console at {url} ({mode}, {_sessions_shown(server)})")
    print(f"open {url.rstrip('/')}/?{TOKEN_QUERY}={token}")
    print("Ctrl-C stops it, and the consoles it runs.", flush=True)
    await stop.wait()
    await server.stop()
    print("stopped.", flush=True)


def _sessions_shown(server: GuardedServer) -> str:
    limit = server.max_sessions
    return "one tab at a time" if limit == 1 else "any number of tabs" if limit is None else f"{limit} tabs at a time"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: where it resolves is not ours to trust
        return False


def _host_problem(host: str, allow_remote: bool, public_url: str | None) -> str | None:
    """Why this --host/--public-url combination is refused, or None."""
    if public_url is not None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"--public-url {public_url!r}: expected http(s)://HOST[:PORT], the address browsers open"
    if _is_loopback(host):
        return None
    if not allow_remote:
        return (
            f"--host {host} is not a loopback address: add --allow-remote to serve it over plain HTTP anyway "
            "(safer: keep 127.0.0.1 behind a TLS reverse proxy or an SSH tunnel, see the README)"
        )
    try:
        unspecified = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        unspecified = False
    if unspecified and public_url is None:
        return f"--host {host} binds every address: give --public-url with the URL browsers open"
    return None
