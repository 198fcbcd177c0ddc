"""The order ticket's logic, without widgets: parse and validate what was typed, build the intent, preview it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from tui_bot.core.console_api import ConsoleBackend
from tui_bot.core.orders import OrderInvalid, check_order
from tui_bot.core.risk import SizingRefused, max_notional, size_position
from tui_bot.domain.enums import OrderType, Side, TimeInForce, TriggerBy
from tui_bot.domain.intents import PlaceOrderIntent
from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import plain
from tui_bot.domain.requests import OrderRequest
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.ui.screens._fields import FieldInvalid, parse_decimal
from tui_bot.ui.screens.leverage import leverage_error
from tui_bot.ui.screens.tpsl import stop_error

NUMBERS = ("qty", "price", "trigger", "tp", "sl", "leverage")
FIELDS = ("symbol", *NUMBERS)
PRICE_FIELDS = frozenset({"price", "trigger", "tp", "sl"})
RISING, FALLING = 1, 2


@dataclass(slots=True)
class OrderFields:
    """The ticket's raw contents, as typed."""

    symbol: str
    side: Side
    order_type: OrderType
    risk_sized: bool = False
    texts: dict[str, str] = field(default_factory=dict)
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    trigger_by: TriggerBy = TriggerBy.LAST


@dataclass(slots=True)
class TicketContext:
    """What the ticket checks against: the instruments, the market now and the account."""

    instruments: Mapping[str, Instrument]
    last_prices: dict[str, Decimal]
    settings: TradingSettings
    equity: Decimal | None = None
    available: Decimal | None = None
    marks: dict[str, Decimal] = field(default_factory=dict)
    leverages: Mapping[str, Decimal] = field(default_factory=dict)

    def leverage_of(self, symbol: str, typed: Decimal | None) -> Decimal:
        """The leverage the order will trade at: the ticket's, else the symbol's current one, else the setting."""
        return typed or self.leverages.get(symbol) or self.settings.leverage


@dataclass(slots=True)
class Evaluation:
    """What the ticket would send (None while invalid), each field's reason, and what the risk sizing computed."""

    intent: PlaceOrderIntent | None
    errors: dict[str, str]
    risk_qty: Decimal | None = None
    risk_note: str = ""
    entry: Decimal | None = None
    warning: str = ""


def _parse(fields: OrderFields, inst: Instrument | None, errors: dict[str, str]) -> dict[str, Decimal | None]:
    """Each number field strictly parsed (decimals no finer than the instrument's tick / qty / leverage step)."""
    steps = {"qty": inst.qty_step, "leverage": inst.leverage_step} if inst else {}
    values: dict[str, Decimal | None] = {}
    for name in NUMBERS:
        step = (inst.tick_size if inst else None) if name in PRICE_FIELDS else steps.get(name)
        try:
            values[name] = parse_decimal(fields.texts.get(name, ""), step=step, zero_ok=name != "qty")
        except FieldInvalid as err:
            errors[name] = str(err)
    return values


def _price_error(inst: Instrument, value: Decimal) -> str:
    if inst.price_ok(value):
        return ""
    return f"must be a multiple of {plain(inst.tick_size)} within {plain(inst.min_price)}–{plain(inst.max_price)}"


def trigger_direction(trigger: Decimal, reference: Decimal) -> int:
    """Bybit's triggerDirection: 1 fires when the price rises to the trigger (above now), 2 when it falls to it."""
    return RISING if trigger > reference else FALLING


def _check_trigger(
    fields: OrderFields, ctx: TicketContext, inst: Instrument, trigger: Decimal | None, errors: dict[str, str]
) -> int:
    """The trigger's direction from where the price is now (0 without a trigger); a reason on the field if bad."""
    if trigger is None or "trigger" in errors:
        return 0
    if error := _price_error(inst, trigger):
        errors["trigger"] = error
        return 0
    mark = fields.trigger_by is TriggerBy.MARK
    reference = (ctx.marks if mark else ctx.last_prices).get(inst.symbol)
    name = "mark" if mark else "last"
    if not reference:
        errors["trigger"] = f"no {name} price yet"
        return 0
    if trigger == reference:
        errors["trigger"] = f"equals the {name} price: nothing to wait for"
        return 0
    return trigger_direction(trigger, reference)


def _check_stops(
    fields: OrderFields,
    inst: Instrument,
    values: dict[str, Decimal | None],
    entry: Decimal | None,
    errors: dict[str, str],
) -> None:
    """TP/SL on the right side of the entry; none on a reduce-only order (the exchange refuses them there)."""
    for leg in ("tp", "sl"):
        value = values.get(leg) or None
        if value is None or leg in errors:
            continue
        if fields.reduce_only:
            errors[leg] = "not with reduce-only"
        elif error := stop_error(value, leg, fields.side, entry, inst, "entry"):
            errors[leg] = error


def _check_qty(
    inst: Instrument,
    fields: OrderFields,
    qty: Decimal | None,
    price: Decimal | None,
    entry: Decimal | None,
    errors: dict[str, str],
) -> None:
    """Quantity rules of check_order (step, min, max, min notional) for this qty alone."""
    if qty is None:
        errors.setdefault("qty", "required")
        return
    if "qty" in errors or entry is None:
        return
    request = OrderRequest(
        inst.symbol, fields.side, fields.order_type, qty, "", price=price, reduce_only=fields.reduce_only
    )
    try:
        check_order(inst, request, entry)
    except OrderInvalid as err:
        errors["qty"] = str(err)


def risk_sized(
    fields: OrderFields, ctx: TicketContext, inst: Instrument, entry: Decimal | None, sl: Decimal | None, lev: Decimal
) -> tuple[Decimal | None, str]:
    """The bot's own sizing (core.risk.size_position: the loss at the SL, both fees in, is risk% of equity)."""
    if fields.reduce_only:
        return None, "not with reduce-only"
    if ctx.equity is None or ctx.available is None:
        return None, "equity unknown"
    if entry is None:
        return None, "needs an entry price"
    if sl is None:
        return None, "needs a stop loss"
    settings = ctx.settings.model_copy(update={"leverage": lev})
    try:
        sizing = size_position(
            inst, fields.side, entry, sl, equity=ctx.equity, available=ctx.available, settings=settings
        )
    except SizingRefused as err:
        return None, str(err)
    notes = "".join(f", {note}" for note in sizing.notes)
    return sizing.qty, f"risk {sizing.risk_usd:,.2f} USDT with fees{notes}"


def _entry(
    fields: OrderFields,
    ctx: TicketContext,
    inst: Instrument,
    values: dict[str, Decimal | None],
    errors: dict[str, str],
) -> tuple[Decimal | None, Decimal | None]:
    """The limit price (None for market) and the price the order is expected to open at."""
    limit = fields.order_type is OrderType.LIMIT
    price = values.get("price") if limit else None
    if limit and "price" not in errors:
        if price is None:
            errors["price"] = "required for a limit order"
        elif error := _price_error(inst, price):
            errors["price"] = error
    if limit:
        return price, price if "price" not in errors else None
    trigger = values.get("trigger")
    if trigger is not None:
        return None, trigger if "trigger" not in errors else None
    last = ctx.last_prices.get(inst.symbol) or None
    if last is None:
        errors["form"] = f"no last price for {inst.symbol} yet: use a limit order"
    return None, last


def margin_warning(intent: PlaceOrderIntent, entry: Decimal, ctx: TicketContext) -> str:
    """A warning when the order's value is beyond what the available balance carries at its leverage."""
    if intent.reduce_only or ctx.available is None:
        return ""
    lev = ctx.leverage_of(intent.symbol, intent.leverage)
    carried = max_notional(ctx.available, lev)
    notional = intent.qty * entry
    if notional <= carried:
        return ""
    return (
        f"Margin: order value {notional:,.2f} USDT exceeds the {carried:,.2f} USDT that available "
        f"{ctx.available:,.2f} USDT carries at {plain(lev)}x (fees kept free): the exchange will refuse it"
    )


def evaluate(fields: OrderFields, ctx: TicketContext) -> Evaluation:
    """Validate the ticket field by field, then the whole order with check_order; build the intent if all pass."""
    errors: dict[str, str] = {}
    symbol = fields.symbol.strip().upper()
    inst = ctx.instruments.get(symbol)
    if inst is None:
        errors["symbol"] = "unknown symbol" if symbol else "required"
    values = _parse(fields, inst, errors)
    if inst is None:
        return Evaluation(None, errors)
    direction = _check_trigger(fields, ctx, inst, values.get("trigger"), errors)
    price, entry = _entry(fields, ctx, inst, values, errors)
    _check_stops(fields, inst, values, entry, errors)
    leverage = values.get("leverage")
    if leverage is not None and "leverage" not in errors and (error := leverage_error(leverage, inst)):
        errors["leverage"] = error
    risk_qty, risk_note, qty = None, "", values.get("qty")
    if fields.risk_sized:
        lev = ctx.leverage_of(symbol, leverage if "leverage" not in errors else None)
        risk_qty, risk_note = risk_sized(fields, ctx, inst, entry, values.get("sl") or None, lev)
        qty = risk_qty
        if risk_qty is None:
            errors["qty"] = f"risk-sized: {risk_note}"
    _check_qty(inst, fields, qty, price, entry, errors)
    if errors or qty is None or entry is None:
        return Evaluation(None, errors, risk_qty, risk_note, entry)
    intent = _intent(fields, inst, values, qty, price, entry, direction)
    if isinstance(intent, str):
        return Evaluation(None, {"form": intent}, risk_qty, risk_note, entry)
    return Evaluation(intent, {}, risk_qty, risk_note, entry, margin_warning(intent, entry, ctx))


def _intent(
    fields: OrderFields,
    inst: Instrument,
    values: dict[str, Decimal | None],
    qty: Decimal,
    price: Decimal | None,
    entry: Decimal,
    direction: int,
) -> PlaceOrderIntent | str:
    """The intent, once the whole order passes check_order as the order service checks it; else the reason."""
    tp, sl = values.get("tp") or None, values.get("sl") or None
    limit = fields.order_type is OrderType.LIMIT
    request = OrderRequest(
        inst.symbol,
        fields.side,
        fields.order_type,
        qty,
        "",
        price=price,
        take_profit=tp,
        stop_loss=sl,
        reduce_only=fields.reduce_only,
    )
    try:
        check_order(inst, request, entry)
    except OrderInvalid as err:
        return str(err)
    return PlaceOrderIntent(
        inst.symbol,
        fields.side,
        fields.order_type,
        qty,
        price,
        tp,
        sl,
        values.get("leverage"),
        reduce_only=fields.reduce_only,
        time_in_force=fields.time_in_force if limit else None,
        trigger_price=values.get("trigger"),
        trigger_direction=direction,
        trigger_by=fields.trigger_by,
    )


def ticket_context(backend: ConsoleBackend) -> TicketContext:
    """What a new ticket checks against: instruments, last and mark prices, equity and available, leverages."""
    summary, wallet = backend.account_summary(), backend.wallet()
    equity = summary.equity if summary else wallet.total_equity if wallet else None
    available = summary.available if summary else wallet.total_available_balance if wallet else None
    last_prices = backend.last_prices()
    tickers = (backend.ticker(symbol) for symbol in last_prices)
    return TicketContext(
        backend.instruments(),
        last_prices,
        backend.settings(),
        equity,
        available,
        {t.symbol: t.mark_price for t in tickers if t is not None and t.mark_price},
        {symbol: pos.leverage for symbol, pos in backend.positions().items() if pos.leverage},
    )
