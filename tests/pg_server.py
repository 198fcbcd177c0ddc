"""A throwaway PostgreSQL server for the tests: its own data directory, a free loopback port, a unix socket."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

USER = "tui"
PASSWORD = "s3cret-pw-for-tests"
_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "listen_addresses=127.0.0.1")


def postgres_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: pg_config's, else the newest Debian /usr/lib/postgresql/N/bin."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """initdb + pg_ctl in a temp dir (as the postgres user when we are root: initdb refuses root)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="tui-bot-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as, str(self.bindir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stdout}{done.stderr}")

    def init(self) -> None:
        """Create the cluster: superuser tui, trust on the socket, a password over TCP."""
        password_file = self.dir / "pw"
        password_file.write_text(PASSWORD)
        if self._as:
            shutil.chown(password_file, "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, f"--pwfile={password_file}", "--auth-local=trust",
            "--auth-host=scram-sha-256", "--locale=C", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        password_file.unlink()

    def start(self) -> None:
        options = " ".join([f"-p {self.port}", f"-k {self.dir}", *(f"-c {s}" for s in _SETTINGS)])
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def admin(self) -> psycopg.Connection:
        """A superuser connection over the socket, in autocommit."""
        return psycopg.connect(host=str(self.dir), port=self.port, user=USER, dbname="postgres", autocommit=True)

    def create_database(self) -> str:
        """A fresh empty database's name."""
        name = f"t{next(self._names)}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return name

    def socket_url(self, database: str) -> str:
        """The storage URL of database over the unix socket (no password needed)."""
        return f"postgresql://{USER}@/{database}?host={self.dir}&port={self.port}"

    def tcp_url(self, database: str, user: str = USER) -> str:
        """The storage URL of database over TCP on loopback (the password must come from the environment)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"
