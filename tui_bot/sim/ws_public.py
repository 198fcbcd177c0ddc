"""Public linear stream: subscribe/unsubscribe/ping, tickers and orderbooks snapshot+delta, klines, trades."""

from __future__ import annotations

import re
from typing import Any

import orjson

from tui_bot.sim import wire
from tui_bot.sim.connection import Peer
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.faults import Faults
from tui_bot.sim.intervals import INTERVALS
from tui_bot.sim.orderbook import DEPTHS, BookStream
from tui_bot.sim.stepper import StepResult
from tui_bot.sim.ticker_stream import TickerEncoder
from tui_bot.sim.ws_request import WsRequest

_TOPIC = re.compile(
    r"(?:tickers|publicTrade|kline\.(?P<interval>[0-9A-Z]+)|orderbook\.(?P<depth>[1-9][0-9]*))"
    r"\.(?P<symbol>[A-Za-z0-9]+)"
)
KLINE_PUSH_EVERY = 10


class PublicHub:
    """Subscriptions of every public peer and the per-step broadcast of market data."""

    def __init__(self, engine: ExchangeEngine, faults: Faults) -> None:
        self.engine = engine
        self.faults = faults
        self.peers: set[Peer] = set()
        self.subscribers: dict[str, set[Peer]] = {}
        self._tickers: dict[str, TickerEncoder] = {}
        self._books: dict[str, BookStream] = {}
        self._cs: dict[str, int] = {}
        self._steps = 0

    def validate(self, topic: str) -> str | None:
        """None when topic is valid, else Bybit's failure ret_msg."""
        match = _TOPIC.fullmatch(topic)
        interval, depth = (match["interval"], match["depth"]) if match else (None, None)
        if match is None or (interval and interval not in INTERVALS) or (depth and int(depth) not in DEPTHS):
            return f"error:handler not found,topic:{topic}"
        if match["symbol"] not in self.engine.markets:
            return f"Invalid symbol :[{topic}]"
        return None

    def handle(self, peer: Peer, request: WsRequest) -> None:
        """Answer one control request from a public peer."""
        op, req_id = request.op, request.req_id or ""
        if op == "ping":
            peer.send(
                wire.public_ws_response("ping", success=True, ret_msg="pong", conn_id=peer.conn_id, req_id=req_id)
            )
            return
        if op not in ("subscribe", "unsubscribe"):
            peer.send(
                wire.public_ws_response(
                    op, success=False, ret_msg="error:invalid op", conn_id=peer.conn_id, req_id=req_id
                )
            )
            return
        topics = request.args
        if not topics:
            peer.send(
                wire.public_ws_response(
                    op, success=False, ret_msg="error:args invalid", conn_id=peer.conn_id, req_id=req_id
                )
            )
            return
        failure, added = self._subscribe(peer, topics) if op == "subscribe" else (self._unsubscribe(peer, topics), [])
        peer.send(
            wire.public_ws_response(
                op, success=failure is None, ret_msg=failure or "", conn_id=peer.conn_id, req_id=req_id
            )
        )
        for topic in added:
            self._send_initial(peer, topic)

    def _subscribe(self, peer: Peer, topics: list[str]) -> tuple[str | None, list[str]]:
        """Subscribe peer to valid topics; returns the first failure and the topics added (snapshots follow the ack)."""
        failure = None
        added: list[str] = []
        for topic in topics:
            problem = self.validate(topic)
            if problem is None and topic in peer.topics:
                problem = f"error:already subscribed,topic:{topic}"
            if problem is not None:
                failure = failure or problem
                continue
            peer.topics.add(topic)
            self.subscribers.setdefault(topic, set()).add(peer)
            added.append(topic)
        return failure, added

    def _unsubscribe(self, peer: Peer, topics: list[str]) -> str | None:
        failure = None
        for topic in topics:
            if topic not in peer.topics:
                failure = failure or f"error:not subscribed,topic:{topic}"
                continue
            peer.topics.discard(topic)
            self.subscribers.get(topic, set()).discard(peer)
        return failure

    def _send_initial(self, peer: Peer, topic: str) -> None:
        kind, _, rest = topic.partition(".")
        now = self.engine.clock.now_ms()
        if kind == "tickers":
            encoder = self._tickers.get(rest)
            if encoder is None or len(self.subscribers.get(topic, ())) <= 1:
                encoder = self._tickers[rest] = TickerEncoder(self.engine.instruments[rest])
                encoder.update(self.engine.markets[rest].ticker())
            data = dict(encoder.snapshot)
            peer.send(wire.public_message(topic, "snapshot", now, data, cs=self._cs.get(rest, 0)))
        elif kind == "kline":
            interval, symbol = rest.split(".", 1)
            series = self.engine.candle_series(symbol, interval)
            bar = wire.kline_ws(series.live, self.engine.instruments[symbol], timestamp=now)
            peer.send(wire.public_message(topic, "snapshot", now, [bar]))
        elif kind == "orderbook":
            book = self._books.get(topic)
            if book is None or len(self.subscribers.get(topic, ())) <= 1:
                depth, symbol = rest.split(".", 1)
                book = self._books[topic] = BookStream(topic, self.engine.markets[symbol], int(depth))
            peer.send(book.snapshot(now))

    def drop(self, peer: Peer) -> None:
        self.peers.discard(peer)
        for topic in peer.topics:
            self.subscribers.get(topic, set()).discard(peer)
        peer.topics.clear()

    def _fanout(self, topic: str, message: dict[str, Any]) -> None:
        peers = self.subscribers.get(topic)
        if not peers or self.faults.is_stalled(topic):
            return
        text = orjson.dumps(message).decode()
        for peer in tuple(peers):
            peer.send(text)

    def broadcast(self, step: StepResult) -> None:
        """Push this step's ticker deltas, trades and kline updates to subscribers."""
        self._steps += 1
        now = self.engine.clock.now_ms()
        for topic, peers in self.subscribers.items():
            if not peers or not topic.startswith("tickers.") or self.faults.is_stalled(topic):
                continue
            symbol = topic[8:]
            encoder = self._tickers.get(symbol)
            if encoder is None:
                encoder = self._tickers[symbol] = TickerEncoder(self.engine.instruments[symbol])
            delta = encoder.update(self.engine.markets[symbol].ticker())
            if len(delta) > 1:
                self._cs[symbol] = self._cs.get(symbol, 0) + 1
                self._fanout(topic, wire.public_message(topic, "delta", now, delta, cs=self._cs[symbol]))
        self._push_books(now)
        for symbol, trades in step.trades.items():
            topic = f"publicTrade.{symbol}"
            if self.subscribers.get(topic):
                inst = self.engine.instruments[symbol]
                self._fanout(
                    topic,
                    wire.public_message(topic, "snapshot", now, [wire.public_trade_to_wire(t, inst) for t in trades]),
                )
        self._push_klines(step, now)

    def _push_books(self, now: int) -> None:
        """Move every subscribed orderbook topic to the current book (a stalled topic catches up after; a book-gap
        fault withholds a delta, so its subscribers see the next one skip an update id)."""
        for topic, book in self._books.items():
            if self.subscribers.get(topic) and not self.faults.is_stalled(topic):
                frame = book.update(now)
                if frame is not None and not (frame["type"] == "delta" and self.faults.take_book_gap(topic)):
                    self._fanout(topic, frame)

    def _push_klines(self, step: StepResult, now: int) -> None:
        for bar in step.closed_bars:
            topic = f"kline.{bar.interval}.{bar.symbol}"
            self._fanout(
                topic,
                wire.public_message(
                    topic, "snapshot", now, [wire.kline_ws(bar, self.engine.instruments[bar.symbol], timestamp=now)]
                ),
            )
        if self._steps % KLINE_PUSH_EVERY:
            return
        for (symbol, interval), series in self.engine.candles.items():
            topic = f"kline.{interval}.{symbol}"
            if self.subscribers.get(topic):
                live = wire.kline_ws(series.live, self.engine.instruments[symbol], timestamp=now)
                self._fanout(topic, wire.public_message(topic, "snapshot", now, [live]))
