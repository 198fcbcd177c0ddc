"""Position sizing: each cap, raise and refusal, a property test on the embedded exchange's filters, and real orders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.conftest import fast_settings, sim_of, wait_for
from tui_bot.core.orders import check_order
from tui_bot.core.risk import (
    SizingRefused,
    entry_orders,
    free_slots,
    max_notional,
    size_position,
    slots_used,
)
from tui_bot.core.state import AccountState
from tui_bot.core.stops import safe_stop
from tui_bot.domain.enums import (
    CreateType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
)
from tui_bot.domain.models import Instrument, Order, Position
from tui_bot.domain.numbers import ceil_to_step, floor_to_step, is_multiple
from tui_bot.domain.requests import OrderRequest
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.runtime import Runtime

BTC = Instrument(
    "BTCUSDT",
    "BTC",
    "USDT",
    Decimal("0.10"),
    Decimal("0.10"),
    Decimal("1999999.80"),
    Decimal("0.001"),
    Decimal("0.001"),
    Decimal("1190.000"),
    Decimal("119.000"),
    Decimal("5"),
)
SOL = Instrument(
    "SOLUSDT",
    "SOL",
    "USDT",
    Decimal("0.010"),
    Decimal("0.010"),
    Decimal("19999.980"),
    Decimal("0.1"),
    Decimal("0.1"),
    Decimal("79770.0"),
    Decimal("7977.0"),
    Decimal("5"),
)


def ts(**changes: object) -> TradingSettings:
    """Settings for exact sizing arithmetic: no fees unless a test asks for them."""
    return TradingSettings.model_validate({**TradingSettings().model_dump(), "taker_fee_rate": "0", **changes})


def D(text: str) -> Decimal:
    return Decimal(text)


def test_qty_is_risk_share_of_equity_over_stop_distance() -> None:
    sized = size_position(
        BTC,
        Side.BUY,
        D("100000"),
        D("99000"),
        equity=D("10000"),
        available=D("10000"),
        settings=ts(risk_percentage="1", max_loss_usd="1000", leverage="5"),
    )
    assert (sized.qty, sized.notional, sized.risk_usd, sized.margin) == (D("0.100"), D("10000"), D("100"), D("2000"))
    assert sized.notes == ()


def test_the_loss_at_the_stop_includes_both_taker_fees() -> None:
    sized = size_position(
        BTC,
        Side.BUY,
        D("100000"),
        D("99000"),
        equity=D("10000"),
        available=D("100000"),
        settings=ts(risk_percentage="1", max_loss_usd="1000", taker_fee_rate="0.0005"),
    )
    # per BTC: 1000 of stop distance + 0.0005 x (100000 entry + 99000 exit) = 1099.5; 100 USDT / 1099.5 = 0.0909…
    assert sized.qty == D("0.090") and sized.risk_usd == D("98.955")


def test_short_is_sized_from_a_stop_above_the_entry() -> None:
    sized = size_position(
        SOL,
        Side.SELL,
        D("100"),
        D("105"),
        equity=D("1000"),
        available=D("1000"),
        settings=ts(risk_percentage="2", max_loss_usd="1000"),
    )
    assert sized.qty == D("4.0") and sized.risk_usd == D("20")


def test_qty_rounds_down_to_the_step() -> None:
    sized = size_position(
        BTC,
        Side.BUY,
        D("100000"),
        D("99000"),
        equity=D("12399"),
        available=D("100000"),
        settings=ts(risk_percentage="1", max_loss_usd="1000"),
    )
    assert sized.qty == D("0.123") and sized.risk_usd <= D("123.99")


def test_risk_is_capped_at_max_loss() -> None:
    sized = size_position(
        BTC,
        Side.BUY,
        D("100000"),
        D("99000"),
        equity=D("100000"),
        available=D("100000"),
        settings=ts(risk_percentage="1", max_loss_usd="50"),
    )
    assert sized.qty == D("0.050") and sized.risk_usd == D("50")
    assert sized.notes == ("risk capped at the max loss of 50.00 USDT",)


def test_notional_is_capped_by_available_margin_with_a_fee_buffer() -> None:
    sized = size_position(
        BTC,
        Side.BUY,
        D("100000"),
        D("99000"),
        equity=D("10000"),
        available=D("100"),
        settings=ts(risk_percentage="1", max_loss_usd="1000", leverage="5"),
    )
    assert sized.qty == D("0.004")
    assert sized.notional <= max_notional(D("100"), D("5")) < D("500")
    assert any("capped by available margin" in n for n in sized.notes)


def test_qty_is_capped_at_the_largest_market_order() -> None:
    sized = size_position(
        SOL,
        Side.BUY,
        D("100"),
        D("99.99"),
        equity=D("10000000"),
        available=D("10000000"),
        settings=ts(risk_percentage="1", max_loss_usd="100000", leverage="100"),
    )
    assert sized.qty == SOL.max_market_qty
    assert any("largest market order" in n for n in sized.notes)


def test_enhanced_sizing_raises_to_the_minimum_position_value() -> None:
    sized = size_position(
        SOL,
        Side.BUY,
        D("100"),
        D("90"),
        equity=D("100"),
        available=D("100"),
        settings=ts(risk_percentage="1", min_position_value_usd="50", use_enhanced_position_sizing=True),
    )
    assert sized.qty == D("0.5") and sized.notional == D("50") and sized.risk_usd == D("5")
    assert sized.notes == ("raised to the minimum position value 50.00 USDT",)


def test_enhanced_sizing_raises_to_the_instrument_minimum_quantity() -> None:
    sized = size_position(
        BTC,
        Side.BUY,
        D("100000"),
        D("99000"),
        equity=D("50"),
        available=D("50"),
        settings=ts(risk_percentage="1", min_position_value_usd="0", use_enhanced_position_sizing=True),
    )
    assert sized.qty == D("0.001") and sized.risk_usd == D("1")
    assert sized.notes == ("raised to the minimum quantity 0.001 BTC",)


def test_below_one_step_is_refused_without_enhanced_sizing() -> None:
    with pytest.raises(SizingRefused) as refused:
        size_position(
            BTC,
            Side.BUY,
            D("100000"),
            D("99000"),
            equity=D("50"),
            available=D("50"),
            settings=ts(risk_percentage="1", use_enhanced_position_sizing=False),
        )
    assert str(refused.value) == (
        "1% of 50.00 USDT equity risks 0.50 USDT, below one qty step (0.001 BTC) at this stop distance"
    )


def test_below_minimum_value_is_refused_without_enhanced_sizing() -> None:
    with pytest.raises(SizingRefused, match="below the minimum order value 5.00 USDT"):
        size_position(
            SOL,
            Side.BUY,
            D("10"),
            D("9"),
            equity=D("20"),
            available=D("200"),
            settings=ts(risk_percentage="1", use_enhanced_position_sizing=False),
        )


def test_raise_that_would_break_max_loss_is_refused() -> None:
    with pytest.raises(SizingRefused, match=r"would risk 1.00 USDT, above the max loss of 0.50 USDT"):
        size_position(
            BTC,
            Side.BUY,
            D("100000"),
            D("99000"),
            equity=D("50"),
            available=D("50"),
            settings=ts(risk_percentage="1", max_loss_usd="0.5", use_enhanced_position_sizing=True),
        )


def test_raise_without_margin_is_refused() -> None:
    with pytest.raises(SizingRefused, match="not enough available margin for the minimum order"):
        size_position(
            BTC,
            Side.BUY,
            D("100000"),
            D("99000"),
            equity=D("50"),
            available=D("10"),
            settings=ts(risk_percentage="1", use_enhanced_position_sizing=True),
        )


@pytest.mark.parametrize(
    ("side", "stop", "message"),
    [
        (Side.BUY, "101", "stop loss is on the wrong side of the entry"),
        (Side.SELL, "99", "stop loss is on the wrong side of the entry"),
        (Side.BUY, "100", "stop loss is on the wrong side of the entry"),
        (Side.BUY, "0", "a stop loss is required"),
        (Side.SELL, "20000", "outside SOLUSDT's price range"),
    ],
)
def test_impossible_stops_are_refused(side: Side, stop: str, message: str) -> None:
    with pytest.raises(SizingRefused, match=message):
        size_position(SOL, side, D("100"), D(stop), equity=D("1000"), available=D("1000"), settings=ts())


def test_no_equity_is_refused() -> None:
    with pytest.raises(SizingRefused, match="no equity"):
        size_position(SOL, Side.BUY, D("100"), D("90"), equity=D("0"), available=D("0"), settings=ts())


def _order(order_id: str, symbol: str, **kw: object) -> Order:
    base: dict[str, object] = dict(
        order_id=order_id,
        order_link_id="",
        symbol=symbol,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("1"),
        price=D("1"),
        time_in_force=TimeInForce.GTC,
        status=OrderStatus.NEW,
        created_time=1,
        updated_time=1,
    )
    return Order(**{**base, **kw})  # type: ignore[arg-type]


def test_slots_count_symbols_with_a_position_or_an_entry_order_once() -> None:
    state = AccountState()
    state.positions["BTCUSDT"] = Position("BTCUSDT", Side.BUY, D("0.01"), D("100000"))
    orders = [
        _order("1", "BTCUSDT"),
        _order("2", "ETHUSDT"),
        _order("3", "ETHUSDT", status=OrderStatus.UNTRIGGERED, stop_order_type=StopOrderType.STOP),
        _order("4", "SOLUSDT", reduce_only=True),
        _order(
            "5",
            "XRPUSDT",
            status=OrderStatus.UNTRIGGERED,
            stop_order_type=StopOrderType.STOP_LOSS,
            create_type=CreateType.BY_STOP_LOSS,
            reduce_only=True,
            close_on_trigger=True,
        ),
        _order(
            "6",
            "DOGEUSDT",
            status=OrderStatus.UNTRIGGERED,
            stop_order_type=StopOrderType.TAKE_PROFIT,
            create_type=CreateType.BY_TAKE_PROFIT,
        ),
        _order("7", "ADAUSDT", close_on_trigger=True),
    ]
    state.open_orders = {o.order_id: o for o in orders}
    assert {o.order_id for o in entry_orders(state)} == {"1", "2", "3"}
    assert slots_used(state) == 2
    assert free_slots(state, ts(max_concurrent_trades=3)) == 1
    assert free_slots(state, ts(max_concurrent_trades=1)) == 0


# -- property test on the embedded exchange's instrument filters --------------------------------------------

PROPERTY_SETTINGS = st.builds(
    lambda pct, loss, lev, enhanced, min_value: ts(
        risk_percentage=pct,
        max_loss_usd=loss,
        leverage=lev,
        use_enhanced_position_sizing=enhanced,
        min_position_value_usd=min_value,
    ),
    st.decimals(D("0.01"), D("10"), places=2),
    st.decimals(D("0.1"), D("5000"), places=1),
    st.integers(1, 100),
    st.booleans(),
    st.decimals(D("0"), D("200"), places=0),
)


def _proposal(inst: Instrument, side: Side, entry: Decimal, stop_frac: Decimal) -> tuple[Decimal, Decimal | None]:
    """A stop and a 2R take profit for entry, rounded to the tick (the take profit dropped when off the price band)."""
    stop = safe_stop(entry - entry * stop_frac * side.sign, side, inst.tick_size)
    raw_tp = entry + 2 * (entry - stop)
    tp = ceil_to_step(raw_tp, inst.tick_size) if side is Side.BUY else floor_to_step(raw_tp, inst.tick_size)
    return stop, tp if inst.price_ok(tp) else None


def _check_sized(
    inst: Instrument,
    side: Side,
    entry: Decimal,
    stop: Decimal,
    tp: Decimal | None,
    equity: Decimal,
    available: Decimal,
    s: TradingSettings,
) -> bool:
    """Size one proposal; True when an order was sized (and it passed every filter)."""
    try:
        sized = size_position(inst, side, entry, stop, equity=equity, available=available, settings=s)
    except SizingRefused as refused:
        assert str(refused)
        return False
    market = OrderRequest(inst.symbol, side, OrderType.MARKET, sized.qty, "x", take_profit=tp, stop_loss=stop)
    check_order(inst, market, entry)
    limit = OrderRequest(
        inst.symbol, side, OrderType.LIMIT, sized.qty, "x", price=entry, take_profit=tp, stop_loss=stop
    )
    check_order(inst, limit, entry)
    assert is_multiple(sized.qty, inst.qty_step)
    assert sized.risk_usd <= s.max_loss_usd
    assert sized.notional <= max_notional(available, s.leverage)
    if not s.use_enhanced_position_sizing:
        assert sized.risk_usd <= equity * s.risk_percentage / 100
    return True


async def test_property_every_sizing_passes_the_exchange_filters(runtime: Runtime) -> None:
    instruments = runtime.engine.state.instruments
    assert {"BTCUSDT", "ETHUSDT", "SOLUSDT"} <= set(instruments)
    outcomes: list[bool] = []

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        symbol=st.sampled_from(["BTCUSDT", "ETHUSDT", "SOLUSDT"]),
        side=st.sampled_from([Side.BUY, Side.SELL]),
        price_factor=st.decimals(D("0.001"), D("20"), places=4),
        stop_frac=st.decimals(D("0.0001"), D("0.6"), places=4),
        equity=st.decimals(D("0"), D("1000000"), places=2),
        available_share=st.decimals(D("0"), D("1"), places=3),
        s=PROPERTY_SETTINGS,
    )
    def check(
        symbol: str,
        side: Side,
        price_factor: Decimal,
        stop_frac: Decimal,
        equity: Decimal,
        available_share: Decimal,
        s: TradingSettings,
    ) -> None:
        inst = instruments[symbol]
        last = sim_of(runtime).engine.markets[symbol].last_price
        entry = max(floor_to_step(last * price_factor, inst.tick_size), inst.min_price)
        stop, tp = _proposal(inst, side, entry, stop_frac)
        outcomes.append(_check_sized(inst, side, entry, stop, tp, equity, equity * available_share, s))

    check()
    assert sum(outcomes) >= 20, f"only {sum(outcomes)} of {len(outcomes)} proposals were sized"


async def test_sized_orders_are_accepted_by_the_exchange(make_runtime: Callable[..., Awaitable[Runtime]]) -> None:
    config = fast_settings()
    config.bot.watchlist = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    runtime = await make_runtime(config)
    try:
        await _place_sized_orders(runtime)
    finally:
        await runtime.close()


async def _place_sized_orders(runtime: Runtime) -> None:
    state = runtime.engine.state
    await wait_for(
        lambda: all(s in state.tickers and state.tickers[s].last_price for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT"))
    )
    plans = [("BTCUSDT", Side.BUY, D("0.01")), ("ETHUSDT", Side.SELL, D("0.02")), ("SOLUSDT", Side.BUY, D("0.05"))]
    placed = []
    for symbol, side, stop_frac in plans:
        inst = state.instruments[symbol]
        for pct in ("0.5", "1", "2"):
            assert state.wallet is not None
            entry = state.tickers[symbol].last_price
            stop, tp = _proposal(inst, side, entry, stop_frac)
            sized = size_position(
                inst,
                side,
                entry,
                stop,
                equity=state.wallet.total_equity,
                available=state.wallet.total_available_balance,
                settings=ts(risk_percentage=pct, max_loss_usd="150", leverage="10"),
            )
            ack = await runtime.orders.place(symbol, side, sized.qty, take_profit=tp, stop_loss=stop)
            await wait_for(lambda ack=ack: ack.order_id in state.closed_orders)  # type: ignore[misc]
            await runtime.engine.drain()
            placed.append((state.closed_orders[ack.order_id].status, sized.qty))
    assert [status for status, _ in placed] == [OrderStatus.FILLED] * 9
    assert all(qty > 0 for _, qty in placed)
