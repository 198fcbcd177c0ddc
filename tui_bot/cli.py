"""Composition root: parse arguments, load settings, run the requested command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tui_bot.config import ConfigError, Settings, load_settings
from tui_bot.logs import configure_logging

FAULTS = ("drop", "stall", "duplicate", "reorder", "rest-error", "clock-skew", "reject-order", "lose-reply",
          "wipe-order-cache", "corrupt-rest", "clear")


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def _common_options(parser: argparse.ArgumentParser, default: object) -> None:
    """--config, --db and --venue, accepted before or after the command (after wins)."""
    parser.add_argument("--config", type=Path, default=default, help="settings file (default: ./config.toml when present)")
    parser.add_argument("--db", type=Path, default=default, help="SQLite database file")
    parser.add_argument("--venue", choices=("sim", "demo", "testnet", "mainnet", "custom"), default=default,
                        help="override [exchange] venue (default: the embedded exchange, sim)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tui-bot", description="Terminal trading console for Bybit v5 USDT perpetuals.")
    _common_options(parser, None)
    commands = parser.add_subparsers(dest="command")
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, argparse.SUPPRESS)
    sim = commands.add_parser("sim", parents=[common], help="run the embedded Bybit v5 exchange on loopback until interrupted")
    sim.add_argument("--host", help="loopback address to bind (default 127.0.0.1)")
    sim.add_argument("--port", type=int, help="port (0 = any free port)")
    sim.add_argument("--api-key", help="API key to accept (generated when not given)")
    sim.add_argument("--api-secret", help="API secret of that key (generated when not given)")
    sim.add_argument("--seed", type=int, help="seed of the price process and ids")
    sim.add_argument("--symbols", help="comma-separated symbols, e.g. BTCUSDT,ETHUSDT")
    sim.add_argument("--balance", type=_decimal, help="starting USDT balance")
    commands.add_parser("listen", parents=[common], help="record every execution and keep the account in sync, headless, until interrupted")
    cycle = commands.add_parser("cycle", parents=[common], help="run the analysis cycle now, execute it per the settings, and exit")
    cycle.add_argument("--once", action="store_true", required=True, help="run exactly one cycle (required)")
    fault = commands.add_parser("fault", parents=[common], help="arm a fault on a running embedded exchange")
    fault.add_argument("name", choices=FAULTS)
    fault.add_argument("params", nargs="*", metavar="KEY=VALUE",
                       help="e.g. kind=private | topic=tickers.* seconds=5 | code=10006 count=3 | ms=3000")
    fault.add_argument("--admin", required=True, help="admin URL printed by `tui-bot sim`, e.g. http://127.0.0.1:PORT/_sim")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(None, logging.WARNING)
    try:
        settings = load_settings(args.config)
        if args.venue:
            settings.exchange = settings.exchange.model_copy(update={"venue": args.venue})
            settings.exchange.model_validate(settings.exchange.model_dump())
    except (ConfigError, ValueError) as err:
        print(f"tui-bot: {err}", file=sys.stderr)
        return 2
    if args.command == "sim":
        return run_sim(args, settings)
    if args.command == "fault":
        return send_fault(args.admin, args.name, args.params)
    if args.command == "listen":
        from tui_bot.listen import run_listen

        return run_listen(settings, args.db)
    if args.command == "cycle":
        from tui_bot.cycle_once import run_cycle_once

        return run_cycle_once(settings, args.db)
    from tui_bot.ui.run import run_console

    return run_console(settings, args.db)


def run_sim(args: argparse.Namespace, settings: Settings) -> int:
    """Start the embedded exchange with settings overridden by flags, print its URLs and keys."""
    from tui_bot.sim.server import SimExchange

    cfg = settings.sim
    symbols = [s for s in (args.symbols.split(",") if args.symbols else cfg.symbols) if s.strip()]
    try:
        sim = SimExchange(
            host=args.host or cfg.host, port=cfg.port if args.port is None else args.port,
            api_key=args.api_key, api_secret=args.api_secret, seed=cfg.seed if args.seed is None else args.seed,
            symbols=symbols, balance=args.balance or cfg.balance, step_seconds=cfg.step_ms / 1000,
            idle_timeout=cfg.idle_timeout_s, funding_period_s=cfg.funding_period_s or None,
        )
    except ValueError as err:
        print(f"tui-bot sim: {err}", file=sys.stderr)
        return 2
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
    """POST a fault to a running exchange's admin endpoint."""
    body: dict[str, object] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"tui-bot fault: expected KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        body[key] = int(value) if value.lstrip("-").isdigit() else value
    request = urllib.request.Request(f"{admin.rstrip('/')}/faults/{name}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback admin URL
            print(response.read().decode())
    except urllib.error.HTTPError as err:
        print(f"tui-bot fault: {err.code} {err.read().decode()}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, ValueError) as err:
        print(f"tui-bot fault: cannot reach {admin}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
