"""Private stream: auth, subscribe, ping and the order/execution/position/wallet pushes."""

from __future__ import annotations

import orjson

from tui_bot.sim import wire
from tui_bot.sim.auth import verify_ws_auth
from tui_bot.sim.connection import Peer
from tui_bot.sim.engine import PRIVATE_TOPICS, ExchangeEngine, Notification
from tui_bot.sim.faults import Faults
from tui_bot.sim.ws_request import WsRequest

CATEGORISED = {"order.linear": "order", "execution.linear": "execution", "position.linear": "position"}
ACCEPTED_ONLY = {"greeks", "execution.fast", "dcp"}


class PrivateHub:
    """Authenticated private peers and delivery of the engine's notifications to them."""

    def __init__(self, engine: ExchangeEngine, faults: Faults) -> None:
        self.engine = engine
        self.faults = faults
        self.peers: set[Peer] = set()
        self._held: list[tuple[Peer, str]] = []
        self._delayed: list[Notification] = []
        self._msg_seq = 0

    def drop(self, peer: Peer) -> None:
        self.peers.discard(peer)

    def handle(self, peer: Peer, request: WsRequest) -> None:
        """Answer one control request from a private peer."""
        op, req_id = request.op, request.req_id
        now = self.engine.clock.now_ms()
        if op == "ping":
            peer.send(wire.private_pong(conn_id=peer.conn_id, req_id=req_id, time_ms=now))
        elif op == "auth":
            self._auth(peer, request.args, req_id, now)
        elif op in ("subscribe", "unsubscribe"):
            failure = self._subscribe(peer, request.args, op == "subscribe")
            peer.send(
                wire.private_ws_response(
                    op, success=failure is None, ret_msg=failure or "", conn_id=peer.conn_id, req_id=req_id
                )
            )
        else:
            peer.send(
                wire.private_ws_response(
                    op, success=False, ret_msg="error:invalid op", conn_id=peer.conn_id, req_id=req_id
                )
            )

    def _auth(self, peer: Peer, args: list[str] | None, req_id: str | None, now: int) -> None:
        if peer.api_key is not None:
            peer.send(
                wire.private_ws_response(
                    "auth", success=False, ret_msg="Repeat auth", conn_id=peer.conn_id, req_id=req_id
                )
            )
            return
        account, code, message = verify_ws_auth(self.engine.accounts, args, now)
        if account is not None:
            peer.api_key = account.api_key
        peer.send(
            wire.private_ws_response("auth", success=code == 0, ret_msg=message, conn_id=peer.conn_id, req_id=req_id)
        )

    def _subscribe(self, peer: Peer, args: list[str] | None, subscribe: bool) -> str | None:
        if peer.api_key is None:
            return "Request not authorized"
        if not args:
            return "error:args invalid"
        plain = [a for a in args if a in PRIVATE_TOPICS]
        categorised = [a for a in args if a in CATEGORISED]
        if plain and categorised:
            return "error:cannot mix all-in-one and categorised topics"
        unknown = [
            a
            for a in args
            if a not in PRIVATE_TOPICS and a not in CATEGORISED and a not in ACCEPTED_ONLY and a != "wallet"
        ]
        if unknown:
            return f"error:handler not found,topic:{unknown[0]}"
        for topic in args:
            if subscribe:
                peer.topics.add(topic)
            else:
                peer.topics.discard(topic)
        return None

    def publish(self, notes: list[Notification]) -> None:
        """Deliver notifications to their account's subscribed peers, through the armed faults."""
        ready: list[Notification] = []
        held: list[Notification] = []
        for note in self._delayed:
            (held if self.faults.is_stalled(note.topic) else ready).append(note)
        self._delayed = held
        for note in [*ready, *notes]:
            if self.faults.is_stalled(note.topic):
                self._delayed.append(note)
                continue
            self._deliver(note)
        self._release_held()

    def _deliver(self, note: Notification) -> None:
        self._msg_seq += 1
        now = self.engine.clock.now_ms()
        for peer in tuple(self.peers):
            if peer.api_key != note.api_key:
                continue
            topic = (
                note.topic
                if note.topic in peer.topics
                else next((t for t, plain in CATEGORISED.items() if plain == note.topic and t in peer.topics), None)
            )
            if topic is None:
                continue
            msg_id = f"{self._msg_seq}-{note.topic}-{peer.conn_id[:8]}"
            text = orjson.dumps(wire.private_message(topic, msg_id, now, note.data)).decode()
            self._send(peer, text)

    def _send(self, peer: Peer, text: str) -> None:
        if self.faults.reorder_private > 0:
            self._held.append((peer, text))
            self.faults.reorder_private -= 1
            return
        peer.send(text)
        if self.faults.duplicate_private > 0:
            self.faults.duplicate_private -= 1
            peer.send(text)

    def _release_held(self) -> None:
        if self._held and self.faults.reorder_private == 0:
            held, self._held = self._held, []
            for peer, text in reversed(held):
                peer.send(text)

    def has_delayed(self) -> bool:
        return bool(self._delayed)
