"""`tui-bot db copy` from SQLite to PostgreSQL and back to a new SQLite file, then `tui-bot stats` on all three:
the same figures to the byte (CSV, JSON and the table), for two bots and five close reasons over several days."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.pg_server import PgServer
from tests.store.factories import fill, write_session
from tests.store.test_copy import _in_process, _tui_bot
from tui_bot.domain.enums import CreateType, Side, StopOrderType
from tui_bot.domain.models import Execution
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.store.db import redacted
from tui_bot.store.ops import RecordExecution

TRADES = 250
T0 = 1_700_000_000_000
MINUTE = 60_000
BOTS = (OrderIdFactory("b1"), OrderIdFactory("b2"))
SYMBOLS = (("BTCUSDT", "SOLUSDT"), ("ETHUSDT", "XRPUSDT"))
EXITS: tuple[tuple[str, CreateType, StopOrderType], ...] = (
    ("take_profit", CreateType.BY_USER, StopOrderType.NONE),  # our own take-profit order
    ("stop_loss", CreateType.BY_STOP_LOSS, StopOrderType.STOP_LOSS),  # the exchange's, for the bot holding it
    ("trailing_stop", CreateType.BY_TRAILING_STOP, StopOrderType.TRAILING_STOP),
    ("manual_exit", CreateType.BY_USER, StopOrderType.NONE),
    ("liquidation", CreateType.BY_LIQ, StopOrderType.NONE),
)
OUR_EXITS = {"take_profit": OrderReason.TAKE_PROFIT, "manual_exit": OrderReason.MANUAL_EXIT}


def _round_trip(i: int) -> tuple[Execution, Execution]:
    """Trade i: bot b1 or b2 on one of its symbols, closed 10 minutes later for one of five reasons, won or lost."""
    bot, symbol = BOTS[i % 2], SYMBOLS[i % 2][i // 2 % 2]
    side, back = (Side.BUY, Side.SELL) if i % 3 else (Side.SELL, Side.BUY)
    reason, create_type, stop_type = EXITS[i % 5]
    qty, t = f"0.{i % 9 + 1}", T0 + i * 25 * MINUTE
    exit_link = bot.new(OUR_EXITS[reason], t) if reason in OUR_EXITS else ""
    entry = fill(
        f"e{i}",
        side,
        qty,
        f"{100 + i % 17}.{i % 100:02d}",
        symbol=symbol,
        fee=f"0.0{i % 7}37",
        order_link_id=bot.new(OrderReason.ENTRY, t),
        exec_time=t,
    )
    exit_ = fill(f"x{i}", back, qty, f"{99 + i % 23}.{i * 7 % 100:02d}", symbol=symbol, fee=f"0.0{i % 5}41",
                 order_link_id=exit_link, exec_time=t + 10 * MINUTE, create_type=create_type,
                 stop_order_type=stop_type, closed_size=qty)  # fmt: skip
    return entry, exit_


@pytest.fixture
async def history(tmp_path: Path) -> Path:
    """An SQLite store with TRADES closed trades, written through the store's own writer."""
    path = tmp_path / "history.db"
    await write_session(path, *(RecordExecution(f) for i in range(TRADES) for f in _round_trip(i)))
    return path


async def _stats(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, folder: Path, url: str
) -> dict[str, str]:
    """`tui-bot stats` on the store at url ([storage] url from the environment) in each format."""
    monkeypatch.setenv("TUI_BOT_STORAGE__URL", url)
    said = {}
    for form in ("csv", "json", "table"):
        status, out, err = await _in_process(capsys, folder, "stats", "--format", form)
        assert (status, err) == (0, ""), err
        said[form] = out
    monkeypatch.delenv("TUI_BOT_STORAGE__URL")
    return said


async def test_stats_are_identical_after_a_copy_to_postgresql_and_back(
    history: Path,
    pg_server: PgServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pg, back = pg_server.socket_url(pg_server.create_database()), f"sqlite:///{tmp_path / 'back.db'}"
    there = _tui_bot(tmp_path, "db", "copy", "--from", f"sqlite:///{history}", "--to", pg)
    assert there.returncode == 0, there.stderr
    status, _, err = await _in_process(capsys, tmp_path, "db", "copy", "--from", pg, "--to", back)
    assert status == 0, err
    urls = (f"sqlite:///{history}", pg, back)
    said = [await _stats(capsys, monkeypatch, tmp_path, url) for url in urls]
    rows = list(csv.DictReader(io.StringIO(said[0]["csv"])))
    reasons = {(r["bot"], r["key"]) for r in rows if r["section"] == "reason"}
    assert reasons == {(bot, reason) for bot in ("b1", "b2", "(all)") for reason, _, _ in EXITS}
    assert {r["section"] for r in rows} == {"reason", "symbol", "day"}
    assert sum(int(r["trades"]) for r in rows if r["section"] == "day" and r["bot"] == "(all)") == TRADES
    assert said[1]["csv"] == said[0]["csv"] and said[2]["csv"] == said[0]["csv"]
    names = [redacted(url) for url in urls]  # the one line that differs: which database was read
    reports = [json.loads(s["json"]) for s in said]
    assert [r.pop("database") for r in reports] == names
    assert reports[1] == reports[0] and reports[2] == reports[0]
    tables = [s["table"].replace(name, "DB") for s, name in zip(said, names, strict=True)]
    assert f"{TRADES} closed trades in DB (every bot)" in tables[0]
    assert tables[1] == tables[0] and tables[2] == tables[0]
