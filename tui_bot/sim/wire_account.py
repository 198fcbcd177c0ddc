"""Bybit v5 wire dicts for positions, wallets and closed PnL, plus the shared number formatters."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from tui_bot.domain.enums import Side
from tui_bot.domain.models import ClosedPnl, Instrument, Wallet, WalletCoin
from tui_bot.domain.numbers import ONE, plain
from tui_bot.sim.records import AnyPosition

MAX_PLACES = 8
RATE_PLACES = 4
MIN_BREAK_EVEN_FEE = Decimal("0.00055")
RISK_LIMIT_VALUE = "2000000"


@lru_cache(maxsize=1024)
def decimals(step: Decimal) -> int:
    """Number of decimal places a step carries ("0.10" gives 2, "1" gives 0)."""
    return max(0, -int(step.as_tuple().exponent))


def fmt_step(value: Decimal, places: int) -> str:
    """Zero as "0", otherwise at least `places` decimals, keeping finer digits up to MAX_PLACES."""
    if value == 0:
        return "0"
    text = format(value, "f")
    dot = text.find(".")
    if (dot < 0 and places == 0) or (dot >= 0 and len(text) - dot - 1 == places):
        return text
    finer = -int(value.normalize().as_tuple().exponent)
    return plain(value, max(places, min(MAX_PLACES, finer)))


def fmt_price(value: Decimal, inst: Instrument) -> str:
    """A price at the instrument's tick precision ("0" when unset)."""
    return fmt_step(value, decimals(inst.tick_size))


def fmt_qty(value: Decimal, inst: Instrument) -> str:
    """A quantity at the instrument's qty-step precision ("0" when zero)."""
    return fmt_step(value, decimals(inst.qty_step))


def fmt_amount(value: Decimal, places: int = MAX_PLACES) -> str:
    """A value, fee, PnL or rate rounded to `places` with trailing zeros stripped ("0" for zero)."""
    text = plain(value, places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def is_flat(p: AnyPosition) -> bool:
    """True when the position holds nothing."""
    return p.side is None or p.size == 0


def break_even_price(p: AnyPosition, taker_fee_rate: Decimal) -> Decimal | None:
    """Price at which closing nets zero after fees (§3.12 formula, mirrored for shorts)."""
    if is_flat(p):
        return None
    fee = max(taker_fee_rate, MIN_BREAK_EVEN_FEE)
    notional = p.entry_price * p.size
    if p.side is Side.BUY:
        return (notional - p.cur_realised_pnl) / (p.size * (ONE - fee))
    return (notional + p.cur_realised_pnl) / (p.size * (ONE + fee))


def _break_even_wire(p: AnyPosition, inst: Instrument, taker_fee_rate: Decimal) -> str:
    """Break-even price rounded to tick precision, "0" when flat."""
    price = break_even_price(p, taker_fee_rate)
    return "0" if price is None else plain(price, decimals(inst.tick_size))


def _position_sides(p: AnyPosition, inst: Instrument) -> dict[str, object]:
    """Fields that depend on whether the position is open."""
    flat = is_flat(p)
    side = p.side
    return {
        "side": "" if flat or side is None else side.value,
        "size": "0" if flat else fmt_qty(p.size, inst),
        "positionValue": "0" if flat else fmt_amount(p.position_value),
        "adlRankIndicator": 0 if flat else 2,
    }


def position_to_wire(p: AnyPosition, inst: Instrument, *, ws: bool, taker_fee_rate: Decimal) -> dict[str, object]:
    """A position object: REST §3.12 (avgPrice) or WS §6.6 (entryPrice plus category)."""
    entry = "0" if is_flat(p) else fmt_price(p.entry_price, inst)
    head: dict[str, object] = {"category": "linear"} if ws else {}
    return {
        **head,
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": RISK_LIMIT_VALUE,
        "symbol": p.symbol,
        **_position_sides(p, inst),
        ("entryPrice" if ws else "avgPrice"): entry,
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": plain(p.leverage),
        "breakEvenPrice": _break_even_wire(p, inst, taker_fee_rate),
        "markPrice": fmt_price(p.mark_price, inst),
        "liqPrice": "" if p.liq_price is None else fmt_price(p.liq_price, inst),
        "positionIM": fmt_amount(p.position_im),
        "positionIMByMp": fmt_amount(p.position_im),
        "positionMM": fmt_amount(p.position_mm),
        "positionMMByMp": fmt_amount(p.position_mm),
        "takeProfit": fmt_price(p.take_profit, inst),
        "stopLoss": fmt_price(p.stop_loss, inst),
        "trailingStop": fmt_price(p.trailing_stop, inst),
        "sessionAvgPrice": "" if p.session_avg_price == 0 else fmt_price(p.session_avg_price, inst),
        "unrealisedPnl": fmt_amount(p.unrealised_pnl),
        "curRealisedPnl": fmt_amount(p.cur_realised_pnl),
        "cumRealisedPnl": fmt_amount(p.cum_realised_pnl),
        "createdTime": str(p.created_time),
        "updatedTime": str(p.updated_time),
        "openTime": p.open_time,
        "seq": p.seq,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "tpslMode": "Full",
        "bustPrice": "",
        "positionBalance": "0",
        "tradeMode": 0,
    }


def coin_to_wire(c: WalletCoin) -> dict[str, object]:
    """One coin item of the wallet account object (§3.16); usdValue equals equity for USDT."""
    return {
        "coin": c.coin,
        "equity": fmt_amount(c.equity),
        "usdValue": fmt_amount(c.equity),
        "walletBalance": fmt_amount(c.wallet_balance),
        "locked": fmt_amount(c.locked),
        "spotHedgingQty": "0",
        "borrowAmount": "0",
        "accruedInterest": "0",
        "totalOrderIM": fmt_amount(c.total_order_im),
        "totalPositionIM": fmt_amount(c.total_position_im),
        "totalPositionMM": fmt_amount(c.total_position_mm),
        "unrealisedPnl": fmt_amount(c.unrealised_pnl),
        "cumRealisedPnl": fmt_amount(c.cum_realised_pnl),
        "bonus": "0",
        "marginCollateral": True,
        "collateralSwitch": True,
        "colRes": "",
        "spotBorrow": "0",
        "availableToWithdraw": "",
        "availableToBorrow": "",
    }


def wallet_to_wire(w: Wallet) -> dict[str, object]:
    """The unified account object (§3.16, also the WS wallet item §6.7)."""
    im_rate = fmt_amount(w.account_im_rate, RATE_PLACES)
    mm_rate = fmt_amount(w.account_mm_rate, RATE_PLACES)
    return {
        "accountType": w.account_type,
        "accountIMRate": im_rate,
        "accountMMRate": mm_rate,
        "accountIMRateByMp": im_rate,
        "accountMMRateByMp": mm_rate,
        "totalEquity": fmt_amount(w.total_equity),
        "totalWalletBalance": fmt_amount(w.total_wallet_balance),
        "totalMarginBalance": fmt_amount(w.total_margin_balance),
        "totalAvailableBalance": fmt_amount(w.total_available_balance),
        "totalPerpUPL": fmt_amount(w.total_perp_upl),
        "totalInitialMargin": fmt_amount(w.total_initial_margin),
        "totalMaintenanceMargin": fmt_amount(w.total_maintenance_margin),
        "totalInitialMarginByMp": fmt_amount(w.total_initial_margin),
        "totalMaintenanceMarginByMp": fmt_amount(w.total_maintenance_margin),
        "accountLTV": "0",
        "coin": [coin_to_wire(c) for c in w.coins],
    }


def closed_pnl_to_wire(c: ClosedPnl, inst: Instrument) -> dict[str, object]:
    """One closed-PnL list item (§3.15)."""
    return {
        "symbol": c.symbol,
        "orderId": c.order_id,
        "side": c.side.value,
        "qty": fmt_qty(c.qty, inst),
        "orderPrice": fmt_price(c.order_price, inst),
        "orderType": c.order_type.value,
        "execType": c.exec_type.value,
        "closedSize": fmt_qty(c.closed_size, inst),
        "cumEntryValue": fmt_amount(c.cum_entry_value),
        "avgEntryPrice": fmt_price(c.avg_entry_price, inst),
        "cumExitValue": fmt_amount(c.cum_exit_value),
        "avgExitPrice": fmt_price(c.avg_exit_price, inst),
        "closedPnl": fmt_amount(c.closed_pnl),
        "fillCount": str(c.fill_count),
        "leverage": plain(c.leverage),
        "openFee": fmt_amount(c.open_fee),
        "closeFee": fmt_amount(c.close_fee),
        "createdTime": str(c.created_time),
        "updatedTime": str(c.updated_time),
    }
