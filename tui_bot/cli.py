"""Composition root: parse arguments, load settings, run the requested command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from tui_bot import bot_cli, db_cli, serve_cli
from tui_bot.cli_types import port, redis_url
from tui_bot.config import ConfigError, ExchangeSettings, RedisSettings, Settings, load_settings, setting_name
from tui_bot.domain.validation import reason
from tui_bot.logs import configure_logging
from tui_bot.sim.fault_params import FAULT_PARAMS, FaultParamsError, fault_params
from tui_bot.stats_cli import add_parser as add_stats_parser
from tui_bot.stats_cli import run as run_stats


class UsageError(Exception):
    """Bad input on the command line or in the settings: main prints it as one line and exits with status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is a UsageError (one line) instead of usage text and an exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}; see {self.prog} --help")


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def _admin_url(text: str) -> str:
    """The admin URL `tui-bot sim` prints: http(s)://host:port/..."""
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError:  # a malformed host or port
        port = None
    if port is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"expected the admin URL `tui-bot sim` prints, like http://127.0.0.1:PORT/_sim, got {text!r}"
        )
    return text


def _common_options(parser: argparse.ArgumentParser, default: object) -> None:
    """--config, --db and --venue, accepted before or after the command (after wins)."""
    parser.add_argument(
        "--config", type=Path, default=default, help="settings file (default: ./config.toml when present)"
    )
    parser.add_argument("--db", type=Path, default=default, help="SQLite database file (instead of [storage])")
    parser.add_argument(
        "--venue",
        choices=("sim", "demo", "testnet", "mainnet", "custom"),
        default=default,
        help="override [exchange] venue (default: the embedded exchange, sim)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tui-bot", description="Terminal trading console for Bybit v5 USDT perpetuals.")
    _common_options(parser, None)
    parser.add_argument("--attach", metavar="URL", type=redis_url, help="console on a listener's Redis")
    commands = parser.add_subparsers(dest="command")
    common = _Parser(add_help=False)
    _common_options(common, argparse.SUPPRESS)
    sim = commands.add_parser(
        "sim", parents=[common], help="run the embedded Bybit v5 exchange on loopback until interrupted"
    )
    sim.add_argument("--host", help="loopback address to bind (default 127.0.0.1)")
    sim.add_argument("--port", type=port, help="port (0 = any free port)")
    sim.add_argument("--api-key", help="API key to accept (generated when not given)")
    sim.add_argument("--api-secret", help="API secret of that key (generated when not given)")
    sim.add_argument("--seed", type=int, help="seed of the price process and ids")
    sim.add_argument("--symbols", help="comma-separated symbols, e.g. BTCUSDT,ETHUSDT")
    sim.add_argument("--balance", type=_decimal, help="starting USDT balance")
    sim.add_argument(
        "--latency-ms", type=float, help="network latency of every response and frame (default 3, 0 = none)"
    )
    listen = commands.add_parser(
        "listen",
        parents=[common],
        help="record every execution and keep the account in sync, headless, until interrupted",
    )
    listen.add_argument("--redis", metavar="URL", help="publish live state to this Redis (instead of [redis] url)")
    cycle = commands.add_parser(
        "cycle", parents=[common], help="run the analysis cycle now, execute it per the settings, and exit"
    )
    cycle.add_argument("--once", action="store_true", required=True, help="run exactly one cycle (required)")
    fault = commands.add_parser("fault", parents=[common], help="arm a fault on a running embedded exchange")
    fault.add_argument("name", choices=tuple(FAULT_PARAMS))
    fault.add_argument(
        "params",
        nargs="*",
        metavar="KEY=VALUE",
        help="e.g. kind=private | topic=tickers.* seconds=5 | code=10006 count=3 | ms=3000",
    )
    fault.add_argument(
        "--admin",
        required=True,
        type=_admin_url,
        help="admin URL printed by `tui-bot sim`, e.g. http://127.0.0.1:PORT/_sim",
    )
    add_stats_parser(commands, common)
    db_cli.add_parser(commands, common)
    serve_cli.add_parser(commands, common)
    bot_cli.add_parser(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; bad input anywhere in the wiring ends as `tui-bot: <what and why>` and status 2."""
    try:
        return _run(build_parser().parse_args(argv))
    except (UsageError, ConfigError) as err:
        for line in str(err).splitlines():
            print(f"tui-bot: {line}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    """Load and check the settings, then hand over to the command (UsageError or ConfigError on bad input)."""
    configure_logging(None, logging.WARNING)
    settings = load_settings(args.config)
    if args.venue:
        settings = _with_venue(settings, args.venue)
    if args.command == "sim":
        return run_sim(args, settings)
    if args.command == "fault":
        return send_fault(args.admin, args.name, args.params)
    if args.command == "stats":
        return run_stats(args, settings)
    if args.command == "db":
        return db_cli.run(args, settings)
    _check_database_file(args.db, settings)
    _check_writable(settings.listen.log_file, setting_name(("listen", "log_file")))
    if args.command == "listen":
        from tui_bot.listen import run_listen

        return run_listen(_with_redis(settings, args.redis), args.db)
    if args.command == "bot":
        return bot_cli.run(args, settings)
    if args.command == "cycle":
        from tui_bot.cycle_once import run_cycle_once

        return run_cycle_once(settings, args.db)
    if args.command == "serve":
        return serve_cli.run(args, settings)
    if args.attach is not None:
        from tui_bot import attach_cli

        return attach_cli.run(settings, args.attach, args.db)
    from tui_bot.runtime import LocalBackendOpener
    from tui_bot.ui.run import run_console

    return run_console(settings, LocalBackendOpener(settings, args.db))


def _with_venue(settings: Settings, venue: str) -> Settings:
    """settings trading on venue (--venue), checked like [exchange] itself."""
    try:
        exchange = ExchangeSettings.model_validate({**settings.exchange.model_dump(), "venue": venue})
    except ValidationError as err:
        raise UsageError(f"--venue {venue}: {'; '.join(reason(e) for e in err.errors())}") from None
    return settings.model_copy(update={"exchange": exchange})


def _with_redis(settings: Settings, url: str | None) -> Settings:
    """settings publishing to url (--redis), checked like [redis] url itself (never echoed: it may hold a password)."""
    if url is None:
        return settings
    try:
        redis = RedisSettings.model_validate({**settings.redis.model_dump(), "url": url})
    except ValidationError as err:
        raise UsageError(f"--redis: {'; '.join(reason(e, show_input=False) for e in err.errors())}") from None
    return settings.model_copy(update={"redis": redis})


def _check_database_file(db: Path | None, settings: Settings) -> None:
    """The SQLite file the command opens (--db, or [storage]) must be writable; a PostgreSQL URL is checked at open."""
    from tui_bot.runtime import SetupError, database_file

    storage = settings.storage
    try:
        path = database_file(settings, db)
    except SetupError as err:
        raise UsageError(f"{setting_name(('storage', 'url'))}: {err}") from None
    if path is not None:
        name = "--db" if db else setting_name(("storage", "url" if storage.url.get_secret_value() else "db_path"))
        _check_writable(path, name)


def _check_writable(path: Path, name: str) -> None:
    """A file the command creates or appends to: its directory must exist and let us write, and it is no directory."""
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{name} {path}: directory {folder} does not exist (create it or give another path)")
    if path.is_dir():
        raise UsageError(f"{name} {path}: is a directory, expected a file path")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise UsageError(f"{name} {path}: not writable")


def run_sim(args: argparse.Namespace, settings: Settings) -> int:
    """Start the embedded exchange with settings overridden by flags, print its URLs and keys."""
    from tui_bot.sim.server import SimExchange

    cfg = settings.sim
    symbols = [s for s in (args.symbols.split(",") if args.symbols else cfg.symbols) if s.strip()]
    try:
        sim = SimExchange(
            host=args.host or cfg.host,
            port=cfg.port if args.port is None else args.port,
            api_key=args.api_key,
            api_secret=args.api_secret,
            seed=cfg.seed if args.seed is None else args.seed,
            symbols=symbols,
            balance=args.balance or cfg.balance,
            step_seconds=cfg.step_ms / 1000,
            idle_timeout=cfg.idle_timeout_s,
            funding_period_s=cfg.funding_period_s or None,
            latency_ms=cfg.latency_ms if args.latency_ms is None else args.latency_ms,
        )
    except ValueError as err:
        raise UsageError(f"sim: {err}") from None
    try:
        asyncio.run(_serve_until_signal(sim))
    except OSError as err:
        print(f"tui-bot sim: cannot listen: {err}", file=sys.stderr)
        return 1
    return 0


async def _serve_until_signal(sim: object) -> None:
    from tui_bot.sim.server import SimExchange

    assert isinstance(sim, SimExchange)
    urls = await sim.start()
    print(f"embedded Bybit v5 exchange ({', '.join(sim.engine.markets)})")
    print(f"  REST        {urls.rest}")
    print(f"  public WS   {urls.public_ws}")
    print(f"  private WS  {urls.private_ws}")
    print(f"  trade WS    {urls.trade_ws}")
    print(f"  admin       {urls.admin}")
    print(f"  API key     {sim.api_key}")
    print(f"  API secret  {sim.api_secret}")
    print("Ctrl-C stops it.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sim.stop()
    print("stopped.", flush=True)


def send_fault(admin: str, name: str, params: list[str]) -> int:
    """Check a fault's KEY=VALUE parameters as the exchange will, then POST it to the admin endpoint."""
    raw: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"fault {name}: expected KEY=VALUE, got {item!r}")
        raw[key] = value
    try:
        body = fault_params(name, raw).model_dump(mode="json", exclude_unset=True)
    except FaultParamsError as err:
        raise UsageError(f"fault {name}: {err}") from None
    request = urllib.request.Request(
        f"{admin.rstrip('/')}/faults/{name}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback admin URL
            print(response.read().decode())
    except urllib.error.HTTPError as err:
        print(f"tui-bot fault: {err.code} {err.read().decode()}", file=sys.stderr)
        return 1
    except OSError as err:  # URLError included: refused, unknown host, timed out
        print(f"tui-bot fault: cannot reach {admin}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
