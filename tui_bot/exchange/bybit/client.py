"""Bybit v5 behind the venue-neutral ExchangeClient: REST via pybit, streams via websockets."""

from __future__ import annotations

import asyncio
from typing import Any

from tui_bot.domain.metrics import ConnectionStats, RestStats
from tui_bot.domain.models import Execution, Instrument, Kline, LedgerEntry, Order, Position, PublicTrade, Wallet
from tui_bot.domain.numbers import plain
from tui_bot.domain.requests import AmendRequest, OrderAck, OrderRequest, TradingStopRequest
from tui_bot.exchange.bybit import parse
from tui_bot.exchange.bybit.order_params import CATEGORY, amend_params, order_params
from tui_bot.exchange.bybit.reconnect import ReconnectPolicy
from tui_bot.exchange.bybit.rest import BybitRest
from tui_bot.exchange.bybit.rest_retry import trade_ws_call
from tui_bot.exchange.bybit.urls import VenueUrls
from tui_bot.exchange.bybit.ws import ARGS_CHARS_PER_CONNECTION, StreamConnection, TradeConnection, args_chars
from tui_bot.exchange.client import EventSink

PRIVATE_TOPICS = ("order", "execution", "position", "wallet")
_SEVEN_DAYS_MS = 7 * 86_400_000


class BybitClient:
    """One Bybit account: a REST session, a private stream, an optional trade stream, sharded public streams."""

    def __init__(
        self,
        urls: VenueUrls,
        api_key: str,
        api_secret: str,
        *,
        recv_window: int = 5000,
        ping_interval: float = 20.0,
        silence_timeout: float = 30.0,
        backoff_max: float = 30.0,
        topics_per_connection: int = 50,
        request_timeout: float = 5.0,
        private_stream: bool = True,
    ) -> None:
        self.urls = urls
        self.private_stream = private_stream
        """Off: the account is followed elsewhere (a headless bot reads it from Redis); no private connection."""
        self.label = urls.label
        self.live_money = urls.live_money
        self.rest = BybitRest(urls.rest, api_key, api_secret, recv_window=recv_window)
        self._credentials = (api_key, api_secret)
        self._stream_options: dict[str, Any] = {
            "ping_interval": ping_interval,
            "silence_timeout": silence_timeout,
            "reconnect": ReconnectPolicy(cap=backoff_max),
        }
        self._per_shard = topics_per_connection
        self.recv_window_ms = recv_window
        self._request_timeout = request_timeout
        self._sink: EventSink | None = None
        self.private: StreamConnection | None = None
        self.trade: TradeConnection | None = None
        self.public: list[StreamConnection] = []
        self._shard_of: dict[str, StreamConnection] = {}
        self._topics_wanted: dict[str, set[str]] = {}  # owner ("tickers", "kline:candles", "market", ...) -> topics
        self._topics_lock = asyncio.Lock()
        self.price_bands: dict[str, parse.PriceBand] = {}  # symbol -> its priceFilter, from fetch_instruments
        self._public_decoder = parse.PublicDecoder(self.price_bands)

    # -- lifecycle ------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        """Measure the clock offset, then open the private (unless private_stream is off) and trade streams."""
        await self.start_public(sink)
        if self.private_stream:
            self.private = StreamConnection(
                "private",
                self.urls.private_ws,
                decode=parse.decode_private,
                on_events=sink,
                credentials=self._credentials,
                now_ms=self.rest.now_ms,
                **self._stream_options,
            )
            await self.private.subscribe(PRIVATE_TOPICS)
            self.private.start()
        if self.urls.trade_ws:
            self.trade = TradeConnection(
                "trade",
                self.urls.trade_ws,
                credentials=self._credentials,
                decode_trade=parse.decode_trade,
                on_events=sink,
                recv_window=self.recv_window_ms,
                now_ms=self.rest.now_ms,
                request_timeout=self._request_timeout,
            )
            self.trade.start()

    async def start_public(self, sink: EventSink) -> None:
        """Measure the clock offset and send public frames to sink; no private stream (a REST-only account)."""
        self._sink = sink
        await self.rest.sync_clock()

    async def stop(self) -> None:
        conns = [c for c in (self.private, self.trade, *self.public) if c is not None]
        await asyncio.gather(*(c.stop() for c in conns), return_exceptions=True)

    def now_ms(self) -> int:
        return self.rest.now_ms()

    def clock_offset_ms(self) -> int:
        return self.rest.clock_offset_ms

    def connection_stats(self) -> dict[str, ConnectionStats]:
        conns = [c for c in (self.private, self.trade, *self.public) if c is not None]
        return {c.stats.name: c.stats for c in conns}

    def rest_stats(self) -> RestStats:
        return self.rest.stats

    @property
    def private_live(self) -> bool:
        from tui_bot.domain.events import ConnectionState

        return self.private is not None and self.private.stats.state is ConnectionState.LIVE

    @property
    def trade_ready(self) -> bool:
        return self.trade is not None and self.trade.is_ready

    # -- public streams, sharded ----------------------------------------------------------

    async def set_ticker_symbols(self, symbols: set[str]) -> None:
        """Subscribe tickers.{s} for exactly these symbols, spreading topics over shards."""
        await self._set_topics("tickers", {f"tickers.{s}" for s in symbols})

    async def set_kline_streams(self, symbols: set[str], interval: str, *, owner: str = "candles") -> None:
        """Subscribe kline.{interval}.{s} for exactly these symbols on behalf of owner (dropping the kline topics it
        asked for before, any interval); a topic another owner wants stays."""
        await self._set_topics(f"kline:{owner}", {f"kline.{interval}.{s}" for s in symbols})

    async def set_market_streams(self, symbols: set[str], depth: int) -> None:
        """Subscribe the book (orderbook.{depth}.{s}) and public trades (publicTrade.{s}) of exactly these symbols."""
        await self._set_topics(
            "market", {f"orderbook.{depth}.{s}" for s in symbols} | {f"publicTrade.{s}" for s in symbols}
        )

    async def restart_book_stream(self, symbol: str, depth: int) -> None:
        """Unsubscribe and subscribe orderbook.{depth}.{symbol} again, so the venue sends a new snapshot."""
        topic = f"orderbook.{depth}.{symbol}"
        async with self._topics_lock:
            shard = self._shard_of.get(topic)
            if shard is not None:
                await shard.unsubscribe([topic])
                await shard.subscribe([topic])

    async def _set_topics(self, owner: str, wanted: set[str]) -> None:
        """Make owner's public topics exactly `wanted` and subscribe what any owner wants, no more: unsubscribe first
        so freed room is reused."""
        async with self._topics_lock:
            self._topics_wanted[owner] = wanted
            needed = set().union(*self._topics_wanted.values())
            stale: dict[StreamConnection, list[str]] = {}
            for topic in sorted(t for t in self._shard_of if t not in needed):
                stale.setdefault(self._shard_of.pop(topic), []).append(topic)
            for shard, topics in stale.items():
                await shard.unsubscribe(topics)
            for topic in sorted(needed - set(self._shard_of)):
                shard = self._shard_with_room(topic)
                self._shard_of[topic] = shard
                await shard.subscribe([topic])

    def _shard_with_room(self, topic: str) -> StreamConnection:
        """The first public connection with room for topic (by count and by Bybit's args length), else a new one."""
        for shard in self.public:
            if len(shard.topics) < self._per_shard and args_chars([*shard.topics, topic]) <= ARGS_CHARS_PER_CONNECTION:
                return shard
        assert self._sink is not None
        shard = StreamConnection(
            f"public-{len(self.public) + 1}",
            self.urls.public_ws,
            decode=self._public_decoder.decode,
            on_events=self._sink,
            **self._stream_options,
        )
        self.public.append(shard)
        shard.start()
        return shard

    @property
    def ticker_topics(self) -> set[str]:
        return {t for t in self._shard_of if t.startswith("tickers.")}

    @property
    def kline_topics(self) -> set[str]:
        return {t for t in self._shard_of if t.startswith("kline.")}

    # -- REST queries ---------------------------------------------------------------------

    async def _pages(self, method: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(100):
            result = await self.rest.call(method, **params, **({"cursor": cursor} if cursor else {}))
            items.extend(result.get("list") or [])
            cursor = result.get("nextPageCursor") or ""
            if not cursor:
                break
        return items

    async def fetch_instruments(self) -> list[Instrument]:
        """Every linear instrument; their price filters become the bands ticker prices must lie in."""
        instruments = [
            parse.instrument_from_rest(i)
            for i in await self._pages("get_instruments_info", category=CATEGORY, limit=1000)
        ]
        for inst in instruments:
            band = self.price_bands.get(inst.symbol)
            if band is None or (band.low, band.high) != (inst.min_price, inst.max_price):
                self.price_bands[inst.symbol] = parse.PriceBand(inst.min_price, inst.max_price)
        return instruments

    async def fetch_positions(self) -> list[Position]:
        rows = await self._pages("get_positions", category=CATEGORY, settleCoin="USDT", limit=200)
        return [parse.position_from_rest(r) for r in rows]

    async def fetch_position(self, symbol: str) -> Position:
        """The symbol's position, flat or not: asked by symbol, position/list returns a row even when flat (its leverage
        is the one the next order trades at)."""
        result = await self.rest.call("get_positions", category=CATEGORY, symbol=symbol)
        return parse.position_from_rest(result["list"][0])

    async def fetch_open_orders(self) -> list[Order]:
        rows = await self._pages("get_open_orders", category=CATEGORY, settleCoin="USDT", openOnly=0, limit=50)
        return [parse.order_from_rest(r) for r in rows]

    async def fetch_wallet(self) -> Wallet:
        result = await self.rest.call("get_wallet_balance", accountType="UNIFIED")
        return parse.wallet_from_rest(result["list"][0])

    def _history_window(self, since_ms: int) -> dict[str, int]:
        """startTime/endTime from since_ms (at most seven days back, Bybit's longest window) to now."""
        now = self.now_ms()
        return {"startTime": max(since_ms, now - _SEVEN_DAYS_MS + 60_000), "endTime": now + 60_000}

    async def fetch_executions(self, since_ms: int) -> list[Execution]:
        rows = await self._pages("get_executions", category=CATEGORY, **self._history_window(since_ms), limit=100)
        return [parse.execution_from_rest(r) for r in rows]

    async def fetch_order_history(self, since_ms: int) -> list[Order]:
        """Orders created since since_ms (at most seven days back), open or closed, from order history."""
        rows = await self._pages(
            "get_order_history", category=CATEGORY, settleCoin="USDT", **self._history_window(since_ms), limit=50
        )
        return [parse.order_from_rest(r) for r in rows]

    async def fetch_order(self, symbol: str, order_link_id: str) -> Order | None:
        """The order with this orderLinkId, open or closed: order/realtime first, then order history
        (realtime's closed orders are a cache that a Bybit restart wipes)."""
        for method in ("get_open_orders", "get_order_history"):
            result = await self.rest.call(method, category=CATEGORY, symbol=symbol, orderLinkId=order_link_id)
            rows = result.get("list") or []
            if rows:
                return parse.order_from_rest(rows[0])
        return None

    async def fetch_orders_by_id(self, wanted: list[tuple[str, str, int]]) -> list[Order]:
        """Orders by (symbol, orderId, earliest createdTime) from order history, each sought in the seven days from
        that time (history's default is the last seven days); ids history does not return are left out."""
        results = await asyncio.gather(
            *(
                self.rest.call(
                    "get_order_history",
                    category=CATEGORY,
                    symbol=symbol,
                    orderId=order_id,
                    startTime=created_from,
                    endTime=created_from + _SEVEN_DAYS_MS,
                )
                for symbol, order_id, created_from in wanted
            )
        )
        return [parse.order_from_rest(row) for result in results for row in (result.get("list") or [])[:1]]

    async def fetch_transactions(self, since_ms: int) -> list[LedgerEntry]:
        """The USDT rows of the account's transaction log for linear contracts since since_ms (at most seven days
        back), newest first."""
        rows = await self._pages(
            "get_transaction_log",
            accountType="UNIFIED",
            category=CATEGORY,
            currency="USDT",
            **self._history_window(since_ms),
            limit=50,
        )
        return [parse.ledger_entry_from_rest(r) for r in rows]

    async def fetch_klines(self, symbol: str, interval: str, limit: int) -> list[Kline]:
        result = await self.rest.call("get_kline", category=CATEGORY, symbol=symbol, interval=interval, limit=limit)
        return [parse.kline_from_rest(symbol, interval, row) for row in reversed(result.get("list") or [])]

    async def fetch_recent_trades(self, symbol: str, limit: int) -> list[PublicTrade]:
        """The symbol's latest public trades (GET /v5/market/recent-trade), oldest first."""
        result = await self.rest.call("get_public_trade_history", category=CATEGORY, symbol=symbol, limit=limit)
        return [parse.recent_trade_from_rest(symbol, row) for row in reversed(result.get("list") or [])]

    # -- orders ---------------------------------------------------------------------------------

    async def _trade_op(self, op: str, params: dict[str, Any], operation: str) -> dict[str, Any]:
        """One trade-WS request, asked again only as rest_retry allows."""
        assert self.trade is not None
        return await trade_ws_call(
            self.trade.request, op, params, operation=operation, now_ms=self.now_ms, resync_clock=self.rest.sync_clock
        )

    async def place_order(self, request: OrderRequest, *, via_ws: bool) -> OrderAck:
        params = order_params(request)
        operation = "close" if request.reduce_only else "create"
        if via_ws and self.trade is not None:
            data = await self._trade_op("order.create", params, operation)
        else:
            data = await self.rest.call("place_order", operation=operation, **params)
        return OrderAck(data.get("orderId", ""), data.get("orderLinkId", request.order_link_id))

    async def amend_order(self, request: AmendRequest, *, via_ws: bool) -> OrderAck:
        params = amend_params(request)
        data = await (
            self._trade_op("order.amend", params, "amend")
            if via_ws and self.trade is not None
            else self.rest.call("amend_order", operation="amend", **params)
        )
        return OrderAck(data.get("orderId", ""), data.get("orderLinkId", ""))

    async def cancel_order(self, symbol: str, order_id: str, *, via_ws: bool) -> OrderAck:
        params = {"category": CATEGORY, "symbol": symbol, "orderId": order_id}
        data = await (
            self._trade_op("order.cancel", params, "cancel")
            if via_ws and self.trade is not None
            else self.rest.call("cancel_order", operation="cancel", **params)
        )
        return OrderAck(data.get("orderId", order_id), data.get("orderLinkId", ""))

    async def cancel_all(self, symbol: str | None) -> list[OrderAck]:
        scope = {"symbol": symbol} if symbol else {"settleCoin": "USDT"}
        result = await self.rest.call("cancel_all_orders", operation="cancel", category=CATEGORY, **scope)
        return [OrderAck(i.get("orderId", ""), i.get("orderLinkId", "")) for i in result.get("list") or []]

    async def set_leverage(self, symbol: str, leverage: str) -> None:
        await self.rest.call(
            "set_leverage",
            operation="leverage",
            category=CATEGORY,
            symbol=symbol,
            buyLeverage=leverage,
            sellLeverage=leverage,
        )

    async def set_trading_stop(self, request: TradingStopRequest) -> None:
        params: dict[str, Any] = {"category": CATEGORY, "symbol": request.symbol, "tpslMode": "Full", "positionIdx": 0}
        for key, value in (
            ("takeProfit", request.take_profit),
            ("stopLoss", request.stop_loss),
            ("trailingStop", request.trailing_stop),
            ("activePrice", request.active_price),
        ):
            if value is not None:
                params[key] = plain(value)
        await self.rest.call("set_trading_stop", operation="trading-stop", **params)
