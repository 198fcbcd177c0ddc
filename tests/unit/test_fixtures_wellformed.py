"""Every golden frame parses, and REST frames carry the full v5 envelope."""

from __future__ import annotations

import pytest

from tests.golden import FIXTURES, load_fixture

NAMES = sorted(path.name for path in FIXTURES.glob("*.json"))
REST_NAMES = [name for name in NAMES if name.startswith("rest_")]
ENVELOPE_KEYS = {"retCode", "retMsg", "result", "retExtInfo", "time"}


def test_fixture_set_is_complete() -> None:
    required = {
        "rest_envelope_ok",
        "rest_envelope_error",
        "rest_market_time",
        "rest_instruments_info",
        "rest_tickers",
        "rest_kline",
        "rest_order_create",
        "rest_order_realtime",
        "rest_cancel_all",
        "rest_execution_list",
        "rest_position_list",
        "rest_closed_pnl",
        "rest_wallet_balance",
        "rest_fee_rate",
        "ws_public_subscribe_ok",
        "ws_public_subscribe_fail",
        "ws_public_pong",
        "ws_ticker_snapshot",
        "ws_ticker_delta",
        "ws_kline",
        "ws_public_trade",
        "ws_private_auth_ok",
        "ws_private_auth_fail",
        "ws_private_subscribe_ok",
        "ws_private_pong",
        "ws_order",
        "ws_execution",
        "ws_position",
        "ws_wallet",
        "ws_trade_auth_ok",
        "ws_trade_order_create_ok",
        "ws_trade_order_error",
        "ws_trade_pong",
        "rest_transaction_log",
        "rest_account_info",
        "rest_api_key_info",
        "rest_coin_info",
        "rest_route_not_found",
        "rest_instruments_info_spot",
        "rest_orderbook",
        "rest_recent_trade",
        "ws_orderbook_snapshot",
        "ws_orderbook_delta",
        "ws_orderbook_1_snapshot",
        "ws_trade_order_timestamp_error",
        "rest_order_amend",
        "ws_trade_order_amend_ok",
        "ws_trade_order_amend_error",
    }
    assert required <= {name.removesuffix(".json") for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_fixture_parses_to_object(name: str) -> None:
    assert isinstance(load_fixture(name), dict)


@pytest.mark.parametrize("name", REST_NAMES)
def test_rest_fixture_has_envelope(name: str) -> None:
    frame = load_fixture(name)
    assert set(frame) == ENVELOPE_KEYS
    assert isinstance(frame["retCode"], int) and not isinstance(frame["retCode"], bool)
    assert isinstance(frame["retMsg"], str)
    assert isinstance(frame["result"], dict) and frame["retExtInfo"] == {}
    assert isinstance(frame["time"], int) and not isinstance(frame["time"], bool)
    if frame["retCode"] != 0:
        assert frame["result"] == {}


@pytest.mark.parametrize("name", NAMES)
def test_lists_hold_exactly_one_item(name: str) -> None:
    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list) and node and isinstance(node[0], dict | list):
            assert len(node) == 1, f"{name}: list of {len(node)} items"
            walk(node[0])

    walk(load_fixture(name))
