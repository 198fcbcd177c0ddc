"""textual-serve's server with the guard in front of every route and a cap on consoles running at once."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from textual_serve.server import Server

from tui_bot.serve.guard import Guard

SESSION_WAIT_S = 10.0  # a reloaded tab waits this long for the console of the page it replaces to quit
CONSOLE_QUIT_S = 10.0  # at stop, how long the consoles get to exit after they were told to quit


@dataclass(frozen=True, slots=True)
class ServedConsole:
    """The shell command each browser tab runs, and how many may run at once (None: no limit)."""

    command: str
    max_sessions: int | None


class GuardedServer(Server):
    """One console process per tab (textual-serve's model), behind the token and Origin guard; start() binds it."""

    def __init__(
        self,
        console: ServedConsole,
        token: str,
        host: str,
        port: int,
        public_url: str | None,
        session_wait_s: float = SESSION_WAIT_S,
    ) -> None:
        super().__init__(console.command, host=host, port=port, title="tui-bot", public_url=public_url)
        self._public_url_given = public_url is not None
        self.token = token
        self.max_sessions = console.max_sessions
        self._guard = Guard(token, public_url=lambda: self.public_url, cookie=lambda: f"tui_bot_serve_{self.port}")
        self._sessions = asyncio.Semaphore(console.max_sessions) if console.max_sessions else None
        self._session_wait_s = session_wait_s
        self._session_tasks: set[asyncio.Task[object]] = set()
        self._runner: web.AppRunner | None = None
        self._not_consoles: set[str] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard.middleware)
        return app

    async def start(self) -> str:
        """Bind host:port (0: any free port) and serve; returns the public URL (the bound port filled in)."""
        self._not_consoles = set(_child_pids())  # children this process had before serving are no consoles
        self._runner = web.AppRunner(await self._make_app(), access_log=None)  # the first URL holds the token
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self.stop()
            raise
        self.port = self._runner.addresses[0][1]
        if not self._public_url_given:
            host = f"[{self.host}]" if ":" in self.host else self.host
            self.public_url = f"http://{host}:{self.port}"
        return self.public_url

    async def stop(self) -> None:
        """Quit every console, then stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await _consoles_exited(self.consoles)

    def consoles(self) -> list[str]:
        """Pids of the consoles still running: this process's children but those it had before it served."""
        return [pid for pid in _child_pids() if pid not in self._not_consoles]

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: textual-serve would print its logo and the command here; serve_cli prints the URL to open."""

    async def on_shutdown(self, app: web.Application) -> None:
        """End every session (each sends its console the quit message and waits for the process to exit)."""
        for task in self._session_tasks:
            task.cancel()
        await asyncio.gather(*self._session_tasks, return_exceptions=True)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """A console for this tab once a session is free (409 when none frees up in time)."""
        task = asyncio.current_task()
        assert task is not None
        if self._sessions is not None:
            try:
                async with asyncio.timeout(self._session_wait_s):
                    await self._sessions.acquire()
            except TimeoutError:
                raise web.HTTPConflict(text="409: the console is open in another tab; close it there first\n") from None
        self._session_tasks.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self._session_tasks.discard(task)
            if self._sessions is not None:
                self._sessions.release()


async def _consoles_exited(running: Callable[[], list[str]]) -> None:
    """Wait (up to CONSOLE_QUIT_S) for the consoles, told to quit, to exit (running: their pids), then drop their
    pipes.

    textual-serve waits for a console to close its output, not for it to exit, and never closes its input pipe:
    the process and its transport are left to the event loop, which must still run when they go.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CONSOLE_QUIT_S):
            while running():
                await asyncio.sleep(0.05)
    await asyncio.sleep(0)  # the exit callbacks
    gc.collect()


def _child_pids() -> list[str]:
    """This process's running children (Linux /proc; none known elsewhere)."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    if not tasks.is_dir():
        return []
    found: list[str] = []
    for task in tasks.iterdir():
        with contextlib.suppress(OSError):
            found += (task / "children").read_text().split()
    return found
