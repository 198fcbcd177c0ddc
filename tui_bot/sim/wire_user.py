"""Bybit v5 wire dicts of the account's log and profile: transaction log, account info, API key, coin info."""

from __future__ import annotations

from datetime import UTC, datetime

from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import plain
from tui_bot.sim.intervals import DAY_MS
from tui_bot.sim.transaction_log import LogEntry
from tui_bot.sim.wire_account import fmt_amount, fmt_price, fmt_qty

Wire = dict[str, object]

KEY_LIFETIME_DAYS = 90
UTA_2_PRO = 6
FEE_PLACES = 8

# What the sim's keys may do: trade and manage positions, nothing that moves money out.
PERMISSIONS: dict[str, list[str]] = {
    "ContractTrade": ["Order", "Position"],
    "Spot": ["SpotTrade"],
    "Wallet": ["AccountTransfer"],
    "Options": ["OptionsTrade"],
    "Derivatives": ["DerivativesTrade"],
    "CopyTrading": [],
    "BlockTrade": [],
    "Exchange": ["ExchangeHistory"],
    "NFT": [],
    "Affiliate": [],
    "Earn": [],
    "FiatP2P": [],
    "FiatConvertBroker": [],
    "FiatGlobalPay": [],
    "FiatBitPay": [],
    "BitCard": [],
    "ByXPost": [],
}

# USDT on its two most used chains; the sim takes no deposits and makes no withdrawals.
USDT_CHAINS: tuple[Wire, ...] = (
    {
        "chainType": "ERC20",
        "confirmation": "6",
        "withdrawFee": "3",
        "depositMin": "0",
        "withdrawMin": "10",
        "chain": "ETH",
        "chainDeposit": "1",
        "chainWithdraw": "1",
        "minAccuracy": "6",
        "withdrawPercentageFee": "0",
        "contractAddress": "0xdac17f958d2ee523a2206206994597c13d831ec7",
        "safeConfirmNumber": "65",
        "withdrawMax": "-1",
    },
    {
        "chainType": "TRC20",
        "confirmation": "50",
        "withdrawFee": "1",
        "depositMin": "0",
        "withdrawMin": "10",
        "chain": "TRX",
        "chainDeposit": "1",
        "chainWithdraw": "1",
        "minAccuracy": "6",
        "withdrawPercentageFee": "0",
        "contractAddress": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        "safeConfirmNumber": "100",
        "withdrawMax": "-1",
    },
)


def transaction_to_wire(e: LogEntry, inst: Instrument) -> Wire:
    """One transaction-log list item for a linear contract (account/transaction-log)."""
    return {
        "id": e.entry_id,
        "symbol": e.symbol,
        "category": "linear",
        "side": e.side.value,
        "transactionTime": str(e.time),
        "type": e.kind,
        "transSubType": "",
        "qty": fmt_qty(e.qty, inst),
        "size": fmt_qty(e.size, inst),
        "currency": e.currency,
        "tradePrice": fmt_price(e.price, inst),
        "funding": "" if e.funding is None else fmt_amount(e.funding),
        "fee": plain(e.fee, FEE_PLACES),
        "cashFlow": fmt_amount(e.cash_flow),
        "change": fmt_amount(e.change),
        "cashBalance": fmt_amount(e.cash_balance),
        "feeRate": fmt_amount(e.fee_rate),
        "bonusChange": "",
        "tradeId": e.trade_id,
        "orderId": e.order_id,
        "orderLinkId": e.order_link_id,
        "extraFees": "",
    }


def account_info_to_wire(updated_ms: int) -> Wire:
    """The account/info result: a UTA 2.0 (pro) account in cross (regular) margin."""
    return {
        "marginMode": "REGULAR_MARGIN",
        "updatedTime": str(updated_ms),
        "unifiedMarginStatus": UTA_2_PRO,
        "dcpStatus": "OFF",
        "timeWindow": 0,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def _iso(ms: int) -> str:
    """A UTC timestamp the way query-api writes it ("2025-10-13T03:20:45Z")."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def api_key_to_wire(api_key: str, uid: int, created_ms: int, now_ms: int) -> Wire:
    """The user/query-api result for the caller's own master key: read-write, no IP bound."""
    expires = created_ms + KEY_LIFETIME_DAYS * DAY_MS
    return {
        "id": str(uid),
        "note": "embedded exchange",
        "apiKey": api_key,
        "readOnly": 0,
        "secret": "",
        "permissions": {kind: list(grants) for kind, grants in PERMISSIONS.items()},
        "ips": ["*"],
        "type": 1,
        "deadlineDay": max(0, -((now_ms - expires) // DAY_MS)),
        "expiredAt": _iso(expires),
        "createdAt": _iso(created_ms),
        "unified": 0,
        "uta": 1,
        "userID": uid,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
    }


def coin_rows(coin: str) -> list[Wire]:
    """asset/coin/query-info rows: USDT (the sim's only coin) unless another coin is named."""
    if coin and coin != "USDT":
        return []
    return [
        {"name": "USDT", "coin": "USDT", "remainAmount": "10000000", "chains": [dict(chain) for chain in USDT_CHAINS]}
    ]
