"""Wiring of the headless core for one venue: exchange client, store, engine and order service."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tui_bot.config import Credentials, Settings, SimSettings
from tui_bot.core.alerts import AlertService
from tui_bot.core.bot import TradingBot
from tui_bot.core.engine import EXEC_SYNCED_KEY, Engine, EngineOptions
from tui_bot.core.local_backend import LocalConsoleBackend
from tui_bot.core.market_view import MarketView
from tui_bot.core.orders import OrderService
from tui_bot.core.price_alerts import PRICE_ALERTS_KEY
from tui_bot.core.protection import Owns, Protection, every_position
from tui_bot.core.settings import CONFIG_KEY, SettingsService
from tui_bot.core.watchlist import WATCHLIST_KEY, Watchlist, stored_watchlist
from tui_bot.domain.order_ids import OrderIdFactory
from tui_bot.exchange.bybit.client import BybitClient
from tui_bot.exchange.bybit.urls import VenueUrls, venue_urls
from tui_bot.exchange.client import EventSink, ExchangeClient
from tui_bot.notify.notifier import Notifier
from tui_bot.store.db import Database, SchemaError, StoreOpenError, open_database, redacted, sqlite_file
from tui_bot.store.ops import ReconcileOpenTrades
from tui_bot.store.repos import exec_times, get_config, last_execution_time, load_orders
from tui_bot.store.writer import StoreWriter

if TYPE_CHECKING:
    from tui_bot.sim.server import SimExchange  # imported at run time only for venue "sim"

log = logging.getLogger(__name__)


class SetupError(Exception):
    """The runtime cannot start as configured; the message says what to change."""


@dataclass
class Runtime:
    """Everything a headless session or the console runs on."""

    settings: Settings
    client: BybitClient
    engine: Engine
    orders: OrderService
    writer: StoreWriter
    conn: Database
    db_path: Path | str  # the SQLite file, or the storage URL (password hidden)
    trading: SettingsService
    sim: SimExchange | None = None
    bot: TradingBot | None = None
    protection: Protection | None = None
    market: MarketView | None = None
    alerts: AlertService | None = None
    notifier: Notifier | None = None

    @cached_property
    def backend(self) -> LocalConsoleBackend:
        """The door a console, `listen` and `cycle --once` use: this runtime's state, health, history and intents."""
        assert self.market is not None, "the runtime has not started"
        return LocalConsoleBackend(
            self.engine,
            self.orders,
            self.trading,
            self.writer,
            self.conn,
            market=self.market,
            bot=self.bot,
            protection=self.protection,
            close=self.close,
            alerts=self.alerts,
        )

    async def close(self) -> None:
        """Stop the bot and the streams, apply and persist what is queued, close the DB, stop an embedded exchange.

        Every step runs even when one before it fails (the first failure is raised at the end): the writer
        must get to write what is queued whatever else went wrong.
        """
        steps = [
            self.bot.stop if self.bot is not None else None,
            self.protection.stop if self.protection is not None else None,
            self.market.stop if self.market is not None else None,
            self.alerts.stop if self.alerts is not None else None,
            self.engine.stop,
            self.notifier.stop if self.notifier is not None else None,
            self.writer.stop,
            self.conn.close,
            self.sim.stop if self.sim is not None else None,
        ]
        failure: BaseException | None = None
        for step in steps:
            if step is None:
                continue
            try:
                await step()
            except BaseException as err:  # noqa: BLE001 - recorded, re-raised after the remaining steps
                log.exception("closing: %s failed", getattr(step, "__qualname__", step))
                failure = failure or err
        if failure is not None:
            raise failure


def _embedded_exchange(cfg: SimSettings, account_file: Path | None) -> SimExchange:
    """The embedded exchange as [sim] describes it, its paper account resumed from account_file."""
    from tui_bot.sim.server import SimExchange

    return SimExchange(
        host=cfg.host,
        port=cfg.port,
        seed=cfg.seed,
        symbols=cfg.symbols,
        balance=cfg.balance,
        step_seconds=cfg.step_ms / 1000,
        autostep=cfg.autostep,
        idle_timeout=cfg.idle_timeout_s,
        funding_period_s=cfg.funding_period_s or None,
        latency_ms=cfg.latency_ms,
        clock_start_ms=cfg.clock_start_ms,
        state_file=account_file,
    )


def _all_loopback(*urls: str) -> bool:
    """True when every given URL points at this machine: a custom venue elsewhere is treated as live money."""
    hosts = {urlsplit(u).hostname for u in urls if u}
    return bool(hosts) and all(h in ("127.0.0.1", "localhost", "::1") for h in hosts)


async def _venue(
    settings: Settings, use_testnet: bool = False, db_path: Path | None = None
) -> tuple[VenueUrls, str, str, SimExchange | None]:
    """URLs and keys of the configured venue (mainnet becomes testnet when the trading setting says so);
    `sim` starts the embedded exchange in this process (its paper account resumed from its file)."""
    ex = settings.exchange
    if ex.venue == "sim":
        from tui_bot.sim.state_file import SimStateError

        try:
            sim = _embedded_exchange(settings.sim, paper_account_file(settings, db_path))
        except SimStateError as err:
            raise SetupError(f"{err}; move it away to start a new paper account") from None
        served = await sim.start()
        log.info(
            "embedded exchange: REST %s, admin %s (tui-bot fault ... --admin %s)",
            served.rest,
            served.admin,
            served.admin,
        )
        return (
            venue_urls(
                "sim",
                rest=served.rest,
                public_ws=served.public_ws,
                private_ws=served.private_ws,
                trade_ws=served.trade_ws,
            ),
            sim.api_key,
            sim.api_secret,
            sim,
        )
    creds = Credentials()
    if not creds.present:
        raise SetupError(f"venue {ex.venue!r} needs BYBIT_API_KEY and BYBIT_API_SECRET in the environment")
    if ex.venue == "custom":
        urls = venue_urls(
            "custom",
            rest=ex.rest_url,
            public_ws=ex.public_ws_url,
            private_ws=ex.private_ws_url,
            trade_ws=ex.trade_ws_url,
            live_money=not _all_loopback(ex.rest_url, ex.public_ws_url, ex.private_ws_url, ex.trade_ws_url),
        )
    else:
        urls = venue_urls("testnet" if ex.venue == "mainnet" and use_testnet else ex.venue)
    return urls, creds.api_key, creds.api_secret.get_secret_value(), None


def database_shown(settings: Settings, db_path: Path | None = None) -> str:
    """The database a command opens (--db, else [storage]) as it may be printed: never with a password."""
    return redacted(db_path or settings.storage.target())


def paper_account_file(settings: Settings, db_path: Path | None = None) -> Path | None:
    """Where the embedded exchange keeps its paper account ([sim] account_file, else NAME.sim.json beside the SQLite
    database); None when [sim] keep_account is off, or the store is PostgreSQL and no file is named."""
    if not settings.sim.keep_account:
        return None
    if settings.sim.account_file is not None:
        return settings.sim.account_file
    db_file = database_file(settings, db_path)
    return Path(db_file).with_suffix(".sim.json") if db_file is not None else None


def database_file(settings: Settings, db_path: Path | None = None) -> Path | None:
    """The SQLite file a command opens (--db, else [storage]); None for PostgreSQL (a bad URL: SetupError)."""
    try:
        return db_path or sqlite_file(settings.storage.target())
    except StoreOpenError as err:
        raise SetupError(str(err)) from None


async def start_runtime(
    settings: Settings,
    db_path: Path | None = None,
    *,
    trading_bot: bool = True,
    schedule_cycles: bool = True,
    protect: bool = True,
    account_feed: Callable[[ExchangeClient], ExchangeClient] | None = None,
    owns: Owns = every_position,
) -> Runtime:
    """Open the DB, load what it knows, connect to the venue, seed from REST and start streaming; then protect
    the open positions owns says this process holds (unless protect is off) and start the trading bot (cycles on
    schedule if schedule_cycles). account_feed wraps the venue client the core uses, which then opens no private
    stream (a headless bot follows the account from Redis)."""
    target = db_path or settings.storage.target()
    try:
        conn = await open_database(target)
    except (StoreOpenError, SchemaError) as err:  # bad URL, unreachable, refused, not a database, too new
        raise SetupError(str(err)) from None
    base = settings.trading.model_copy(update={"orders_over_trade_ws": settings.exchange.orders_via == "ws"})
    try:
        config = await get_config(conn)
        settings.bot.watchlist[:] = stored_watchlist(config.get(WATCHLIST_KEY), settings.bot.watchlist)
        overrides = SettingsService.overrides(base, config.get(CONFIG_KEY))
        trading_settings = SettingsService.with_overrides(base, overrides)
        urls, key, secret, sim = await _venue(settings, trading_settings.use_testnet, db_path)
    except BaseException:
        await conn.close()
        raise
    st = settings.streams
    client = _client(settings, urls, key, secret, private_stream=account_feed is None)
    writer = StoreWriter(conn, candle_retention_days=settings.storage.candle_retention_days)
    writer.start()
    options = EngineOptions(
        watchlist=settings.bot.watchlist,
        fallback_after_s=st.fallback_after_s,
        poll_interval_s=st.poll_interval_s,
        reconcile_interval_s=st.reconcile_interval_s,
    )
    core_client = account_feed(client) if account_feed is not None else client
    engine = Engine(core_client, options, writer=writer)
    engine.state.last_exec_time = await last_execution_time(conn) or 0
    engine.state.exec_synced_ms = int(config.get(EXEC_SYNCED_KEY) or 0)
    engine.state.open_orders = {
        o.order_id: o for o in await load_orders(conn, open_only=True)
    }  # the start reseed settles them
    engine.state.exec_floor_ms = engine.exec_memory_floor()
    engine.state.exec_ids = await exec_times(conn, engine.state.exec_floor_ms)
    orders = OrderService(
        engine,
        core_client,
        OrderIdFactory(settings.bot.bot_id),
        via="ws" if trading_settings.orders_over_trade_ws else "rest",
    )
    trading = SettingsService(trading_settings, writer, engine.announce, overrides)
    trading.listeners.append(lambda current: setattr(orders, "via", "ws" if current.orders_over_trade_ws else "rest"))
    where = target if isinstance(target, Path) else conn.url
    runtime = Runtime(settings, client, engine, orders, writer, conn, where, trading, sim)
    try:
        await engine.start()
        runtime.market = MarketView(engine, Watchlist(engine, writer))
        await runtime.market.start()
        # The embedded exchange starts flat, and positions can close while nothing records: close such stale trades.
        writer.enqueue(ReconcileOpenTrades.from_positions(engine.state.positions.values(), client.now_ms()))
        if protect:
            await start_protection(runtime, owns)
        await _start_alerts(runtime, config.get(PRICE_ALERTS_KEY))
        if trading_bot:
            runtime.bot = TradingBot(
                engine,
                orders,
                trading,
                writer,
                settings.bot.watchlist,
                live_money=client.live_money,
                conn=conn,
                signals=settings.signals,
            )
            store_file = sqlite_file(target)  # chart images go next to an SQLite file, else the working dir
            charts_dir = store_file.parent if store_file else Path.cwd()
            runtime.bot.analysis.configure_chart_llm(settings.chart_llm, charts_dir)
            runtime.bot.ml.configure(settings.ml, charts_dir)
            await runtime.bot.start(schedule=schedule_cycles)
    except BaseException:  # a failed start, or Ctrl-C during it: close what was opened, then report the cause
        with contextlib.suppress(Exception):
            await runtime.close()
        raise
    return runtime


def _client(settings: Settings, urls: VenueUrls, key: str, secret: str, *, private_stream: bool = True) -> BybitClient:
    """The venue's client with [exchange] and [streams] timings (private_stream off: the account followed elsewhere)."""
    st = settings.streams
    return BybitClient(
        urls,
        key,
        secret,
        recv_window=settings.exchange.recv_window_ms,
        ping_interval=st.ping_interval_s,
        silence_timeout=st.silence_timeout_s,
        backoff_max=st.backoff_max_s,
        topics_per_connection=st.topics_per_connection,
        private_stream=private_stream,
    )


async def start_order_path(settings: Settings, bot_id: str, sink: EventSink) -> OrderService:
    """The order path of a process that follows the account elsewhere (an attached console): the venue's REST under
    bot_id's orderLinkIds, its instruments loaded, public streams into sink; no private stream, no store."""
    if settings.exchange.venue == "sim":
        raise SetupError("the embedded exchange runs inside the listener, its keys unknown here")
    urls, key, secret, _sim = await _venue(settings, settings.trading.use_testnet)
    client = _client(settings, urls, key, secret)
    engine = Engine(client, EngineOptions())
    try:
        await client.start_public(sink)
        engine.state.instruments = {i.symbol: i for i in await client.fetch_instruments()}
    except BaseException:
        await client.stop()
        raise
    return OrderService(engine, client, OrderIdFactory(bot_id), via="rest")


async def _start_alerts(runtime: Runtime, stored_price_alerts: object) -> None:
    """Raise alerts from here on (to the log, the console's list and the bus) and send them to [notify]'s channels."""
    settings = runtime.settings
    runtime.notifier = Notifier(settings.notify, source=f"{runtime.client.label} {settings.bot.bot_id}")
    await runtime.notifier.start()
    runtime.alerts = AlertService(runtime.engine, settings.alerts, stored_price_alerts=stored_price_alerts)
    runtime.alerts.sinks.append(runtime.notifier.submit)
    runtime.alerts.start()


async def start_protection(runtime: Runtime, owns: Owns = every_position) -> Protection:
    """Protect the open positions owns says this process holds, each with its R restored from the store first."""
    protection = Protection(runtime.engine, runtime.orders, runtime.trading, runtime.writer, owns=owns)
    runtime.protection = protection
    await protection.restore(runtime.conn)  # before start: R from the stored entry stop, not a tightened one
    protection.start()
    return protection


async def open_local_backend(settings: Settings, db_path: Path | None = None, **options: bool) -> LocalConsoleBackend:
    """Start a runtime in this process (options as start_runtime's) and hand back its console backend."""
    return (await start_runtime(settings, db_path, account_feed=None, owns=every_position, **options)).backend


class LocalBackendOpener:
    """How `tui-bot` opens the console's backend: a runtime in this process, started when the app mounts.

    The runtime stays reachable as `runtime` for whoever composed the app (tests and benchmarks drive the
    embedded exchange through it); the app itself holds only the backend.
    """

    def __init__(self, settings: Settings, db_path: Path | None = None) -> None:
        self.settings = settings
        self.db_path = db_path
        self.runtime: Runtime | None = None

    async def __call__(self) -> LocalConsoleBackend:
        self.runtime = await start_runtime(self.settings, self.db_path)
        return self.runtime.backend
