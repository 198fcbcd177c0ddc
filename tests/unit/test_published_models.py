"""What the core publishes cannot change afterwards: decoded models are frozen and re-marking builds a new Position."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal as D

import orjson
import pytest

from tests.golden import load_fixture
from tui_bot.core.state import AccountState, PositionMarked
from tui_bot.domain.events import (
    ExecutionReceived,
    OrderUpdated,
    PositionUpdated,
    TickerUpdated,
    WalletUpdated,
)
from tui_bot.domain.models import Order, Position
from tui_bot.exchange.bybit.parse import decode_private, decode_public
from tui_bot.sim.records import SimOrder, SimPosition

RECEIVED = 1_784_712_600_200_000_000


def _private(name: str) -> object:
    """The one event a golden private frame decodes to."""
    events = decode_private(json.dumps(load_fixture(name)), RECEIVED)
    assert isinstance(events, list) and len(events) == 1
    return events[0]


def _mark(ts: int, mark: str) -> TickerUpdated:
    frame = {
        "topic": "tickers.BTCUSDT",
        "type": "delta",
        "ts": ts,
        "cs": 1,
        "data": {"symbol": "BTCUSDT", "markPrice": mark},
    }
    events = decode_public(orjson.dumps(frame), ts)
    assert isinstance(events, list) and isinstance(events[0], TickerUpdated)
    return events[0]


@pytest.mark.parametrize(
    ("fixture", "attribute", "value"),
    [
        ("ws_position", "mark_price", D(1)),
        ("ws_order", "status", "Cancelled"),
        ("ws_execution", "exec_qty", D(1)),
        ("ws_wallet", "total_equity", D(1)),
    ],
)
def test_a_decoded_model_cannot_be_changed(fixture: str, attribute: str, value: object) -> None:
    event = _private(fixture)
    assert isinstance(event, PositionUpdated | OrderUpdated | ExecutionReceived | WalletUpdated)
    model = next(
        getattr(event, f.name)
        for f in dataclasses.fields(event)
        if f.name in ("position", "order", "execution", "wallet")
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(model, attribute, value)


def test_remarking_builds_a_new_position_and_leaves_the_published_one_as_it_was() -> None:
    state = AccountState()
    update = _private("ws_position")
    assert isinstance(update, PositionUpdated) and update.position.mark_price == D("104255.00")
    published = state.apply(update)
    position = next(c.position for c in published if isinstance(c, PositionUpdated))

    changes = state.apply(_mark(2, "104300.00"))

    held = state.positions["BTCUSDT"]
    assert held is not position and held.mark_price == D("104300.00")
    assert [c.mark_price for c in changes if isinstance(c, PositionMarked)] == [D("104300.00")]
    assert position.mark_price == D("104255.00") and update.position.mark_price == D("104255.00"), (
        "published: unchanged"
    )
    assert held == dataclasses.replace(position, mark_price=D("104300.00")), "only the mark differs"


def test_a_position_update_after_a_ticker_is_published_at_the_ticker_mark_without_changing_the_decoded_one() -> None:
    state = AccountState()
    state.apply(_mark(1, "104300.00"))
    update = _private("ws_position")
    assert isinstance(update, PositionUpdated)
    published = [c for c in state.apply(update) if isinstance(c, PositionUpdated)]
    assert [c.position.mark_price for c in published] == [D("104300.00")]
    assert published[0].position is state.positions["BTCUSDT"]
    assert update.position.mark_price == D("104255.00")


def test_with_mark_copies_every_other_field() -> None:
    position = _private("ws_position").position  # type: ignore[attr-defined]
    assert position.with_mark(D("1.5")) == dataclasses.replace(position, mark_price=D("1.5"))


@pytest.mark.parametrize(("record", "model"), [(SimOrder, Order), (SimPosition, Position)])
def test_the_exchanges_mutable_records_have_the_published_models_fields(record: type, model: type) -> None:
    fields = [(f.name, f.type, f.default) for f in dataclasses.fields(record)]
    assert fields == [(f.name, f.type, f.default) for f in dataclasses.fields(model)]
