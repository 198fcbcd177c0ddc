"""Bad command-line, config and environment input: one line naming the input and what it takes, exit status 2."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import console_script
from tui_bot.cli import main

ADMIN = "http://127.0.0.1:1/_sim"  # never reached: every case here is refused before anything is sent
FAULT = ["--admin", ADMIN]
NOWHERE = "missing-dir/file"


def case(
    case_id: str,
    argv: list[str],
    *fragments: str,
    toml: str | bytes | None = None,
    env: dict[str, str] | None = None,
    lines: int = 1,
) -> object:
    return pytest.param(argv, toml, env or {}, fragments, lines, id=case_id)


CASES = [
    # tui-bot fault: parameters are checked as the exchange checks them, before anything is sent
    case(
        "fault-seconds-malformed",
        ["fault", "stall", "topic=tickers.*", "seconds=--5", *FAULT],
        "fault stall: seconds: Input should be a valid number",
        "(got '--5')",
        "stall takes topic, seconds",
    ),
    case(
        "fault-seconds-negative",
        ["fault", "stall", "topic=tickers.*", "seconds=-5", *FAULT],
        "fault stall: seconds: Input should be greater than 0 (got '-5')",
    ),
    case("fault-seconds-empty", ["fault", "stall", "topic=tickers.*", "seconds=", *FAULT], "seconds:", "(got '')"),
    case(
        "fault-corrupt-rest-path",
        ["fault", "corrupt-rest", "path=/v5/order/create", *FAULT],
        "fault corrupt-rest: path: must be one of /v5/position/list",
    ),
    case("fault-topic-missing", ["fault", "stall", "seconds=5", *FAULT], "fault stall: topic: Field required"),
    case(
        "fault-count-zero",
        ["fault", "duplicate", "count=0", *FAULT],
        "count: Input should be greater than or equal to 1",
    ),
    case(
        "fault-count-not-a-number", ["fault", "reorder", "count=two", *FAULT], "count: Input should be a valid integer"
    ),
    case(
        "fault-unknown-key", ["fault", "duplicate", "coutn=2", *FAULT], "coutn: not a known key; duplicate takes count"
    ),
    case(
        "fault-kind-unknown",
        ["fault", "drop", "kind=pubilc", *FAULT],
        "'public', 'private', 'trade' or 'all' (got 'pubilc')",
    ),
    case(
        "fault-code-unknown", ["fault", "rest-error", "code=12345", *FAULT], "code: must be one of 10000, 10006, 10016"
    ),
    case("fault-not-key-value", ["fault", "drop", "public", *FAULT], "fault drop: expected KEY=VALUE, got 'public'"),
    case(
        "fault-name-unknown",
        ["fault", "meteor", *FAULT],
        "argument name: invalid choice: 'meteor'",
        "see tui-bot fault --help",
    ),
    case(
        "fault-admin-not-a-url",
        ["fault", "clear", "--admin", "notaurl"],
        "argument --admin: expected the admin URL `tui-bot sim` prints, like http://127.0.0.1:PORT/_sim, got 'notaurl'",
    ),
    case(
        "fault-admin-no-port",
        ["fault", "clear", "--admin", "http://127.0.0.1/_sim"],
        "argument --admin:",
        "got 'http://127.0.0.1/_sim'",
    ),
    case("fault-admin-not-http", ["fault", "clear", "--admin", "ftp://127.0.0.1:21/_sim"], "argument --admin:"),
    case("fault-admin-missing", ["fault", "clear"], "the following arguments are required: --admin"),
    # tui-bot sim
    case(
        "sim-port-too-high",
        ["sim", "--port", "70000"],
        "argument --port: expected a port 0-65535 (0 = any free port), got '70000'",
    ),
    case("sim-port-negative", ["sim", "--port", "-1"], "argument --port: expected a port 0-65535", "got '-1'"),
    case("sim-port-not-a-number", ["sim", "--port", "abc"], "argument --port: expected a port 0-65535", "got 'abc'"),
    case("sim-seed-not-a-number", ["sim", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
    case("sim-balance-negative", ["sim", "--balance", "-1"], "argument --balance: must be a positive number: '-1'"),
    case(
        "sim-host-not-loopback",
        ["sim", "--host", "0.0.0.0"],
        "sim: the embedded exchange binds loopback only, not '0.0.0.0'",
    ),
    case("sim-latency-negative", ["sim", "--latency-ms", "-1"], "sim: latency must be 0-5000 ms, not -1"),
    case("sim-no-symbols", ["sim", "--symbols", ","], "sim: at least one symbol is required"),
    case("sim-symbol-not-linear", ["sim", "--symbols", "BTC-PERP"], "sim: ", "not a linear USDT symbol"),
    # files the command writes, in a directory that is not there
    case(
        "db-missing-dir-console",
        ["--db", f"{NOWHERE}.db"],
        f"--db {NOWHERE}.db: directory missing-dir does not exist (create it or give another path)",
    ),
    case(
        "db-missing-dir-listen",
        ["listen", "--db", f"{NOWHERE}.db"],
        f"--db {NOWHERE}.db: directory missing-dir does not exist",
    ),
    case(
        "db-missing-dir-cycle",
        ["cycle", "--once", "--db", f"{NOWHERE}.db"],
        f"--db {NOWHERE}.db: directory missing-dir",
    ),
    case("db-is-a-directory", ["cycle", "--once", "--db", "."], "--db .: is a directory, expected a file path"),
    case(
        "db-path-missing-dir",
        ["cycle", "--once"],
        f"[storage] db_path {NOWHERE}.db: directory missing-dir does not exist",
        toml=f'[storage]\ndb_path = "{NOWHERE}.db"\n',
    ),
    case(
        "log-file-missing-dir",
        ["listen"],
        f"[listen] log_file {NOWHERE}.log: directory missing-dir does not exist",
        toml=f'[listen]\nlog_file = "{NOWHERE}.log"\n',
    ),
    case(
        "log-file-missing-dir-env",
        ["cycle", "--once"],
        f"TUI_BOT_LISTEN__LOG_FILE {NOWHERE}.log: directory missing-dir",
        env={"TUI_BOT_LISTEN__LOG_FILE": f"{NOWHERE}.log"},
    ),
    # TUI_BOT_ variables are reported as the environment's, by name
    case(
        "env-list-not-json",
        ["cycle", "--once"],
        """TUI_BOT_BOT__WATCHLIST: expected a JSON list like ["BTCUSDT","ETHUSDT"] (got 'BTCUSDT,ETHUSDT')""",
        toml="[bot]\n",
        env={"TUI_BOT_BOT__WATCHLIST": "BTCUSDT,ETHUSDT"},
    ),
    case(
        "env-steps-not-json",
        ["cycle", "--once"],
        """TUI_BOT_TRADING__RR_TIGHTENING_STEPS: expected a JSON list like [{"at_r":"1","stop_r":"0"},""",
        env={"TUI_BOT_TRADING__RR_TIGHTENING_STEPS": "1:0,2:1"},
    ),
    case(
        "env-not-an-int",
        ["sim"],
        "TUI_BOT_SIM__PORT: Input should be a valid integer",
        "(got 'abc')",
        toml="[sim]\nport = 0\n",
        env={"TUI_BOT_SIM__PORT": "abc"},
    ),
    case(
        "env-unknown-key",
        ["sim"],
        "TUI_BOT_SIM__COLOUR: not a known key (known: host, port, seed,",
        env={"TUI_BOT_SIM__COLOUR": "red"},
    ),
    case(
        "env-bad-choice",
        ["sim"],
        "TUI_BOT_EXCHANGE__VENUE: Input should be 'sim', 'demo', 'testnet', 'mainnet' or 'custom'",
        env={"TUI_BOT_EXCHANGE__VENUE": "moon"},
    ),
    # one key for the order path
    case(
        "orders-over-trade-ws-in-file",
        ["cycle", "--once"],
        "config.toml: trading.orders_over_trade_ws: no longer a config setting; set [exchange] orders_via",
        '"ws" or "rest"',
        toml="[trading]\norders_over_trade_ws = false\n",
    ),
    case(
        "orders-over-trade-ws-in-env",
        ["cycle", "--once"],
        "TUI_BOT_TRADING__ORDERS_OVER_TRADE_WS: no longer a config setting",
        env={"TUI_BOT_TRADING__ORDERS_OVER_TRADE_WS": "false"},
    ),
    # strategies that cannot load are refused when the config is read, not at the next cycle
    case(
        "strategy-unknown",
        ["cycle", "--once"],
        "config.toml: trading.strategies: strategy 'nosuch': not a built-in "
        "(chart_llm, ema_trend, range_breakout, rsi_reversion) nor a path like package.module:ClassName",
        toml='[trading]\nstrategies = ["ema_trend", "nosuch"]\n',
    ),
    case(
        "strategy-twice",
        ["cycle", "--once"],
        "trading.strategies: strategy 'ema_trend' is listed twice",
        toml='[trading]\nstrategies = ["ema_trend", "rsi_reversion", "ema_trend"]\n',
    ),
    case(
        "strategy-does-not-import",
        ["cycle", "--once"],
        "strategy 'no_such_pkg.mod:Momentum': cannot import module 'no_such_pkg.mod'",
        toml='[trading]\nstrategies = ["no_such_pkg.mod:Momentum"]\n',
    ),
    case(
        "strategy-not-a-strategy",
        ["cycle", "--once"],
        "strategy 'collections:OrderedDict': OrderedDict lacks name, version, min_candles, propose()",
        toml='[trading]\nstrategies = ["collections:OrderedDict"]\n',
    ),
    case(
        "strategy-env",
        ["cycle", "--once"],
        "TUI_BOT_TRADING__STRATEGIES: strategy 'nosuch': not a built-in",
        env={"TUI_BOT_TRADING__STRATEGIES": '["nosuch"]'},
    ),
    # alerts and notification channels
    case(
        "alerts-warning-above-critical",
        ["cycle", "--once"],
        "config.toml: alerts: connection_down_warning_s must not exceed connection_down_critical_s",
        toml="[alerts]\nconnection_down_warning_s = 300\n",
    ),
    case(
        "alerts-unknown-key",
        ["cycle", "--once"],
        "config.toml: alerts.latency_ms: not a known key (known: check_interval_s,",
        toml="[alerts]\nlatency_ms = 5\n",
    ),
    case(
        "notify-severity-unknown",
        ["cycle", "--once"],
        "config.toml: notify.min_severity: Input should be 'info', 'warning' or 'critical' (got 'loud')",
        toml='[notify]\nmin_severity = "loud"\n',
    ),
    case(
        "notify-telegram-token-without-chat",
        ["cycle", "--once"],
        "config.toml: notify.telegram: set both bot_token and chat_id, or neither",
        toml='[notify.telegram]\nbot_token = "123:SECRETxyz"\n',
    ),
    case(
        "notify-telegram-key-misspelt",
        ["cycle", "--once"],
        "config.toml: notify.telegram.token: not a known key (known: bot_token, chat_id, base_url)",
        toml='[notify.telegram]\ntoken = "123:SECRETxyz"\n',
    ),
    case(
        "notify-webhook-not-a-url",
        ["cycle", "--once"],
        "config.toml: notify.webhook.url: must be an http:// or https:// URL with a host",
        toml='[notify.webhook]\nurl = "hooks.example/SECRETxyz"\n',
    ),
    case(
        "notify-discord-url-env",
        ["cycle", "--once"],
        "TUI_BOT_NOTIFY__DISCORD__WEBHOOK_URL: must be an http:// or https:// URL with a host",
        env={"TUI_BOT_NOTIFY__DISCORD__WEBHOOK_URL": "discord/api/webhooks/1/SECRETxyz"},
    ),
    case(
        "notify-token-wrong-type",
        ["cycle", "--once"],
        "config.toml: notify.telegram.bot_token: Input should be a valid string",
        toml='[notify.telegram]\nbot_token = 123456789\nchat_id = "1"\n',
    ),
    case(
        "notify-rate-zero",
        ["cycle", "--once"],
        "config.toml: notify.rate_limit: Input should be greater than or equal to 1 (got 0)",
        toml="[notify]\nrate_limit = 0\n",
    ),
    # the config file itself, --venue and the commands
    case("config-missing", ["--config", "missing.toml", "cycle", "--once"], "config file not found: missing.toml"),
    case("config-is-a-directory", ["--config", ".", "cycle", "--once"], ".: [Errno 21] Is a directory"),
    case(
        "config-toml-syntax",
        ["cycle", "--once"],
        "config.toml: Expected ']' at the end of a table declaration (at line 1",
        toml="[sim\n",
    ),
    case(
        "config-not-utf8",
        ["cycle", "--once"],
        "config.toml: 'utf-8' codec can't decode byte 0xff",
        toml=b"\xff\xfe[sim]\n",
    ),
    case(
        "config-unknown-key",
        ["cycle", "--once"],
        "config.toml: sim.colour: not a known key (known: host, port,",
        toml='[sim]\ncolour = "red"\n',
    ),
    case(
        "config-unknown-section",
        ["cycle", "--once"],
        "config.toml: simm: not a known key (known: exchange, streams, bot,",
        toml="[simm]\nport = 1\n",
    ),
    case(
        "config-wrong-type",
        ["cycle", "--once"],
        "config.toml: sim.port: Input should be a valid integer",
        "(got 'x')",
        toml='[sim]\nport = "x"\n',
    ),
    case(
        "config-out-of-range",
        ["cycle", "--once"],
        "config.toml: sim.port: Input should be less than or equal to 65535 (got 70000)",
        toml="[sim]\nport = 70000\n",
    ),
    case(
        "config-two-bad-keys",
        ["cycle", "--once"],
        "trading.leverage: Input should be a valid decimal (got 'abc')",
        "trading.timeframe: Input should be '1', '3',",
        toml='[trading]\nleverage = "abc"\ntimeframe = 15\n',
        lines=2,
    ),
    case(
        "venue-unknown",
        ["--venue", "nosuch", "cycle", "--once"],
        "argument --venue: invalid choice: 'nosuch' (choose from 'sim',",
    ),
    case(
        "venue-custom-without-urls",
        ["--venue", "custom", "cycle", "--once"],
        "--venue custom: venue 'custom' needs rest_url, public_ws_url, private_ws_url",
    ),
    case("cycle-without-once", ["cycle"], "the following arguments are required: --once; see tui-bot cycle --help"),
    case(
        "command-unknown",
        ["trade"],
        "argument command: invalid choice: 'trade' "
        "(choose from 'sim', 'listen', 'cycle', 'fault', 'stats', 'db', 'serve', 'bot')",
    ),
]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() sets up logging for the process; put the test run's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def _clean_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in os.environ:
        if name.upper().startswith("TUI_BOT_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(("argv", "toml", "env", "fragments", "lines"), CASES)
def test_bad_input_is_one_line_per_problem_and_status_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    toml: str | bytes | None,
    env: dict[str, str],
    fragments: tuple[str, ...],
    lines: int,
) -> None:
    monkeypatch.chdir(tmp_path)
    _clean_env(monkeypatch, env)
    if toml is not None:
        (tmp_path / "config.toml").write_bytes(toml if isinstance(toml, bytes) else toml.encode())
    before = sorted(tmp_path.iterdir())
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == lines and all(line.startswith("tui-bot: ") for line in err.splitlines()), err
    for fragment in fragments:
        assert fragment in err
    assert "SECRETxyz" not in err and "123456789" not in err, "a token or webhook URL is never echoed"
    assert "config.toml" not in err or not env, "a variable's error is the environment's, not the file's"
    assert sorted(tmp_path.iterdir()) == before, "nothing is created (no DB, no log) when the input is refused"


@pytest.mark.parametrize(
    ("argv", "env", "fragment"),
    [
        (["sim", "--port", "70000"], {}, "argument --port: expected a port 0-65535"),
        (["fault", "stall", "topic=tickers.*", "seconds=--5", *FAULT], {}, "fault stall: seconds:"),
        (["--db", f"{NOWHERE}.db"], {}, "--db missing-dir/file.db: directory missing-dir does not exist"),
        (["listen"], {"TUI_BOT_BOT__WATCHLIST": "BTCUSDT,ETHUSDT"}, "TUI_BOT_BOT__WATCHLIST: expected a JSON list"),
    ],
)
def test_the_installed_command_prints_one_line_and_no_traceback(
    tmp_path: Path, argv: list[str], env: dict[str, str], fragment: str
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("TUI_BOT_")}
    result = subprocess.run(
        [str(console_script()), *argv], capture_output=True, text=True, timeout=30, cwd=tmp_path, env={**clean, **env}
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"tui-bot: {fragment}") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["listen"], ["cycle", "--once"]])
def test_a_db_file_that_is_not_a_database_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _clean_env(monkeypatch, {})
    (tmp_path / "notes.db").write_text("these are my notes, not a database\n" * 10)
    assert main([*command, "--db", "notes.db"]) == 1
    err = capsys.readouterr().err
    assert err == f"tui-bot {command[0]}: database notes.db: file is not a database\n"
    assert (tmp_path / "notes.db").read_text().startswith("these are my notes"), "left as it was"
