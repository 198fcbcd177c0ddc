"""`tui-bot serve` as installed: where it binds, which token it takes, what it prints and never prints."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.serve.conftest import ServeProcess
from tui_bot.cli import main
from tui_bot.serve.guard import TOKEN_ENV, new_token

GOOD_TOKEN = "Sixteen-or-more_chars.0123"


def _main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, token: str | None
) -> tuple[int, str, str]:
    """`tui-bot serve ARGS` in this process, in tmp_path, with TUI_BOT_SERVE_TOKEN=token (unset: None)."""
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.upper().startswith("TUI_BOT_")]:
        monkeypatch.delenv(name)
    if token is not None:
        monkeypatch.setenv(TOKEN_ENV, token)
    status = main(["serve", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _status(url: str) -> int:
    """The status of a GET, redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.parametrize(
    ("args", "token", "fragment"),
    [
        (["--host", "10.1.2.3"], None, "--host 10.1.2.3 is not a loopback address: add --allow-remote"),
        (["--host", "bot.example.com"], None, "--host bot.example.com is not a loopback address"),
        (["--host", "0.0.0.0", "--allow-remote"], None, "--host 0.0.0.0 binds every address: give --public-url"),
        (["--public-url", "bot.example.com"], None, "--public-url 'bot.example.com': expected http(s)://HOST[:PORT]"),
        ([], "short", "TUI_BOT_SERVE_TOKEN: expected at least 16 characters"),
        ([], "sixteen chars and a space", "TUI_BOT_SERVE_TOKEN: expected at least 16"),
        (["--port", "70000"], None, "argument --port: expected a port 0-65535"),
    ],
)
def test_bad_options_get_one_line_and_status_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    token: str | None,
    fragment: str,
) -> None:
    status, out, err = _main(tmp_path, monkeypatch, capsys, *args, token=token)
    assert status == 2
    assert err.startswith(f"tui-bot: {fragment}") and err.count("\n") == 1, err
    assert out == ""
    assert token is None or token not in err  # an offered token is never echoed


def test_a_remote_host_takes_the_flag_and_gets_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 192.0.2.1 is TEST-NET-1, on no interface here: the warning comes first, then the bind fails, status 1.
    status, out, err = _main(
        tmp_path, monkeypatch, capsys, "--host", "192.0.2.1", "--allow-remote", "--port", "0", token=None
    )
    assert status == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == (
        "tui-bot serve: warning: 192.0.2.1 is not loopback; the token and the screen cross the network in clear"
    )
    assert lines[1].startswith("tui-bot serve: cannot listen on 192.0.2.1:0: ") and len(lines) == 2
    assert "Traceback" not in err


def test_a_generated_token_is_printed_once_as_the_url_to_open_and_never_logged(
    serve: Callable[..., ServeProcess],
) -> None:
    running = serve()
    assert running.lines[0].startswith("serving the console at http://127.0.0.1:")
    assert running.lines[0].endswith("(venue sim, one tab at a time)")
    token = running.open_url.rsplit("?token=", 1)[1]
    assert running.open_url == f"{running.base}/?token={token}" and len(token) >= 43
    assert _status(f"{running.base}/") == 401
    assert _status(f"{running.base}/?token=x{token}") == 401
    assert _status(running.open_url) == 303
    out, err = running.stop()
    assert out == "stopped.\n"
    assert "refused GET / from 127.0.0.1: token missing or wrong" in err
    assert token not in err and token not in out


def test_a_token_from_the_environment_is_used_and_not_printed(serve: Callable[..., ServeProcess]) -> None:
    running = serve(env={"TUI_BOT_SERVE_TOKEN": GOOD_TOKEN})
    assert running.open_url == f"{running.base}/?token=<TUI_BOT_SERVE_TOKEN>"
    assert _status(f"{running.base}/?token={new_token()}") == 401
    assert _status(f"{running.base}/?token={GOOD_TOKEN}") == 303
    out, err = running.stop()
    assert GOOD_TOKEN not in out + err + "\n".join(running.lines)


def test_attached_it_serves_any_number_of_tabs_and_says_so(serve: Callable[..., ServeProcess], redis_url: str) -> None:
    running = serve("--attach", redis_url)
    assert running.lines[0].startswith("serving the console at http://127.0.0.1:")
    assert running.lines[0].endswith("(attached, venue sim, any number of tabs)")
    out, err = running.stop()
    assert out == "stopped.\n" and redis_url not in out + err + "\n".join(running.lines)


def test_attached_without_redis_answering_is_one_line_status_1_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], unused_tcp_port: int
) -> None:
    url = f"redis://:hunter2@127.0.0.1:{unused_tcp_port}/0"
    status, out, err = _main(tmp_path, monkeypatch, capsys, "--attach", url, "--port", "0", token=None)
    assert status == 1 and out == ""
    assert err.startswith("tui-bot serve: Redis does not answer (") and err.count("\n") == 1, err
    assert "hunter2" not in err
