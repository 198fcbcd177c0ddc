"""`tui-bot serve`: the console in a browser tab (textual-serve), behind a secret token and an Origin check."""

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

from tui_bot.config import Settings
from tui_bot.serve.guard import TOKEN_ENV, TOKEN_QUERY, TokenError, new_token, token_from_env

if TYPE_CHECKING:
    from tui_bot.serve.server import GuardedServer, ServedConsole  # imported at run time: textual-serve loads rich

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `serve` command and its options."""
    from tui_bot.cli import _port  # cli imports this module; by now it is loaded

    serve = commands.add_parser(
        "serve", parents=[common], help="serve the console to a browser (token and Origin checked) until interrupted"
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}, 0 = any free)")
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that is not loopback (plain HTTP: prefer a TLS reverse proxy or an SSH tunnel)",
    )
    serve.add_argument(
        "--public-url",
        help="the URL browsers open, when it is not http://HOST:PORT (behind a reverse proxy: https://bot.example.com)",
    )
    serve.set_defaults(usage_error=serve.error)


def served_console(args: argparse.Namespace) -> ServedConsole:
    """What each tab runs: the console on this command's settings, by the same interpreter.

    Until `tui-bot --attach` exists the console is the whole bot in one process (streams, store, protection,
    cycles), so one tab at a time: a second tab would be a second bot on the same account and database. The
    attached console is a reader acting through command streams; serving it lifts the limit.
    """
    from tui_bot.serve.server import ServedConsole

    argv = [sys.executable, "-m", "tui_bot"]
    for flag, value in (("--config", args.config), ("--db", args.db)):
        if value is not None:
            argv += [flag, str(value.resolve())]
    if args.venue:
        argv += ["--venue", args.venue]
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
    if not _is_loopback(args.host):
        warning = f"{args.host} is not loopback; the token and the screen cross the network in clear"
        print(f"tui-bot serve: warning: {warning}", file=sys.stderr)
    os.environ.pop(TOKEN_ENV, None)  # the consoles inherit this environment and have no use for the token
    from tui_bot.serve.server import GuardedServer

    console = served_console(args)
    server = GuardedServer(console, token or new_token(), args.host, args.port, args.public_url)
    try:
        asyncio.run(_serve_until_signal(server, settings.exchange.venue, generated=token is None))
    except OSError as err:
        print(f"tui-bot serve: cannot listen on {args.host}:{args.port}: {err.strerror or err}", file=sys.stderr)
        return 1
    return 0


async def _serve_until_signal(server: GuardedServer, venue: str, generated: bool) -> None:
    """Serve, print the URL to open (with the token when it was generated here), stop on SIGINT/SIGTERM."""
    url = await server.start()
    token = server.token if generated else f"<{TOKEN_ENV}>"
    print(f"serving the console at {url} (venue {venue}, {_sessions_shown(server)})")
    print(f"open {url.rstrip('/')}/?{TOKEN_QUERY}={token}")
    print("Ctrl-C stops it, and the consoles it runs.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
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
