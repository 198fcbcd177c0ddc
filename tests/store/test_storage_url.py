"""[storage] url: SQLite or PostgreSQL; a database that cannot be opened is one clear line at start, never a secret."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.pg_server import PASSWORD, USER, PgServer
from tui_bot.cli import main
from tui_bot.store.db import StoreOpenError, open_database
from tui_bot.store.repos import count

WRONG = "not-the-pw-123"


def _cwd_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> None:
    """Run from tmp_path with a config.toml whose [storage] url is url, and no PostgreSQL password around."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper().startswith("TUI_BOT_") or name in ("PGPASSWORD", "PGPASSFILE"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    (tmp_path / "config.toml").write_text(f'[storage]\nurl = "{url}"\n')


def _refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, command: list[str]
) -> str:
    """What `tui-bot <command>` says on stderr when its database cannot be opened (it must say nothing else)."""
    _cwd_with(monkeypatch, tmp_path, url)
    status = main(command)
    out, err = capsys.readouterr()
    assert status in (1, 2) and out == "", out
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("command", [["listen"], ["cycle", "--once"]])
def test_a_refused_connection_is_one_line_and_nothing_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        err = _refused(tmp_path, monkeypatch, capsys, f"postgresql://{USER}@127.0.0.1:{port}/db", command)
    assert err.startswith(f"tui-bot {command[0]}: database postgresql://{USER}@127.0.0.1:{port}/db: ")
    assert "refused" in err.lower()
    assert not (tmp_path / "tui_bot.db").exists()  # no SQLite file made instead


def test_a_wrong_password_is_one_line_without_the_password(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_server.tcp_url("postgres").replace(f"{USER}@", f"{USER}:{WRONG}@")
    err = _refused(tmp_path, monkeypatch, capsys, url, ["listen"])
    assert "password authentication failed" in err
    assert WRONG not in err and f"{USER}:***@127.0.0.1" in err


def test_a_wrong_password_from_the_environment_is_not_shown_either(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _cwd_with(monkeypatch, tmp_path, pg_server.tcp_url("postgres"))
    monkeypatch.setenv("PGPASSWORD", WRONG)
    assert main(["listen"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "password authentication failed" in err and WRONG not in err


def test_a_missing_database_is_one_line(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _cwd_with(monkeypatch, tmp_path, pg_server.tcp_url("no_such_db"))
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    assert main(["listen"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert 'database "no_such_db" does not exist' in err and PASSWORD not in err


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://root:pw@localhost/db", "storage.url: expected sqlite:///PATH or postgresql://"),
        ("postgresql://", "names no database"),
        ("postgresql://u@h:notaport/db", "not a database URL"),
    ],
)
def test_a_wrong_url_is_one_line_with_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, says: str
) -> None:
    err = _refused(tmp_path, monkeypatch, capsys, url, ["listen"])
    assert says in err and ":pw@" not in err


async def test_the_password_comes_from_the_environment_or_pgpass_and_is_never_logged(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = pg_server.tcp_url(pg_server.create_database())
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    with pytest.raises(StoreOpenError, match="password authentication failed|no password supplied"):
        await open_database(url)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:*:{USER}:{PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    with caplog.at_level(logging.DEBUG):
        db = await open_database(url)
        assert await count(db, "executions") == 0
        await db.close()
        monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
        monkeypatch.setenv("PGPASSWORD", PASSWORD)
        db = await open_database(url)
        assert PASSWORD not in db.url
        await db.close()
    assert PASSWORD not in caplog.text
