"""Transaction log, account info, API key info and coin info wire shapes against their golden frames."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.golden import assert_matches_golden, load_fixture
from tests.golden_models import BTC, NOW
from tui_bot.domain.enums import ExecType, OrderType, Side
from tui_bot.domain.models import Execution, Position
from tui_bot.sim import wire
from tui_bot.sim.transaction_log import funding_entry, trade_entry
from tui_bot.sim.wire_user import (
    account_info_to_wire,
    api_key_to_wire,
    coin_rows,
    transaction_to_wire,
)

D = Decimal
UID = 35833391
CLOSE_TIME = 1784716200002


def _closing_sell() -> Execution:
    """The fill that closes a 0.010 BTC long opened at 104250.40, at 104820.10."""
    return Execution(
        exec_id="3a6c0f2e-91b4-5d7e-8f20-4c1b9e7d6a55",
        order_id="5f1d9c3e-77a2-4b0f-8d5e-0c6a9b2e4f31",
        order_link_id="mkt-close-0001",
        symbol="BTCUSDT",
        side=Side.SELL,
        exec_type=ExecType.TRADE,
        exec_price=D("104820.1"),
        exec_qty=D("0.010"),
        exec_value=D("1048.201"),
        exec_fee=D("0.5765105500"),
        fee_rate=D("0.00055"),
        exec_time=CLOSE_TIME,
        is_maker=False,
        order_type=OrderType.MARKET,
        order_price=D("99044.7"),
        order_qty=D("0.010"),
        leaves_qty=D("0"),
        closed_size=D("0.010"),
        exec_pnl=D("5.697"),
        mark_price=D("104820"),
        index_price=D("104822"),
        seq=7,
    )


def _envelope(item: dict[str, object]) -> dict[str, object]:
    return wire.rest_envelope({"nextPageCursor": "", "list": [item]}, time_ms=CLOSE_TIME + 98)


def test_trade_row_matches_golden_exactly() -> None:
    entry = trade_entry(UID, _closing_sell(), Position(symbol="BTCUSDT"), D("10004.54711225"))
    frame = _envelope(transaction_to_wire(entry, BTC))
    assert frame == load_fixture("rest_transaction_log")


def test_change_is_cash_flow_plus_funding_minus_fee() -> None:
    entry = trade_entry(UID, _closing_sell(), Position(symbol="BTCUSDT"), D("10004.54711225"))
    assert entry.change == D("5.697") - D("0.57651055")


def test_funding_row_for_a_short_receiving() -> None:
    funding = replace(
        _closing_sell(),
        exec_type=ExecType.FUNDING,
        order_id="",
        order_link_id="",
        exec_fee=D("-0.10482"),
        fee_rate=D("0.0001"),
        exec_pnl=D(0),
        order_type=None,
    )
    short = Position(symbol="BTCUSDT", side=Side.SELL, size=D("0.010"))
    item = transaction_to_wire(funding_entry(UID, funding, short, D("10000.10482")), BTC)
    assert_matches_golden(_envelope(item), "rest_transaction_log")
    expected = {
        "type": "SETTLEMENT",
        "side": "Sell",
        "funding": "0.10482",
        "fee": "0.00000000",
        "cashFlow": "0",
        "change": "0.10482",
        "feeRate": "-0.0001",
        "size": "-0.010",
        "qty": "0.010",
        "cashBalance": "10000.10482",
        "orderId": "",
    }
    assert {key: item[key] for key in expected} == expected


def test_account_info_matches_golden_exactly() -> None:
    frame = wire.rest_envelope(account_info_to_wire(NOW), time_ms=NOW)
    assert frame == load_fixture("rest_account_info")


def test_api_key_info_matches_golden_exactly() -> None:
    frame = wire.rest_envelope(api_key_to_wire("F5110D9CE5E617C545", UID, NOW, NOW), time_ms=NOW)
    assert frame == load_fixture("rest_api_key_info")


def test_api_key_days_left_count_down() -> None:
    later = api_key_to_wire("K", UID, NOW, NOW + 30 * 86_400_000 + 1)
    assert later["deadlineDay"] == 60 and later["expiredAt"] == "2026-10-20T09:30:00Z"
    gone = api_key_to_wire("K", UID, NOW, NOW + 91 * 86_400_000)
    assert gone["deadlineDay"] == 0


def test_coin_info_rows_and_filter() -> None:
    frame = wire.rest_envelope({"rows": coin_rows("")}, time_ms=NOW)
    assert_matches_golden(frame, "rest_coin_info")
    [usdt] = coin_rows("USDT")
    chains = usdt["chains"]
    assert isinstance(chains, list) and [c["chain"] for c in chains] == ["ETH", "TRX"]
    assert coin_rows("BTC") == [] and coin_rows("usdt") == []
