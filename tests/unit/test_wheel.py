"""The built wheel carries the console's stylesheets: installed outside the repo, the console finds them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STYLESHEETS = ("app.tcss", "stats.tcss")
# Run inside the installed venv: where the package and its stylesheets resolve from (one per line).
LOCATE = """
import tui_bot, tui_bot.ui.styles as s
s.require_stylesheets()
print(tui_bot.__file__)
print(*s.SHIPPED, sep="\\n")
"""


@dataclass(frozen=True)
class Installed:
    """A venv outside the repo with the wheel pip-installed in it (dependencies from the running venv)."""

    venv: Path
    package: Path

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=30)

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")


def source_tree(dest: Path) -> Path:
    """The repo's files (tracked and new, not ignored) copied to dest, so building leaves the repo alone."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def pip(*args: str) -> None:
    """Run the suite's own pip offline (no index, build with the setuptools installed here)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        check=True,
        capture_output=True,
        timeout=50,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    src = source_tree(base / "src")
    pip(
        "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir", "-w", str(base / "dist"), str(src)
    )
    (wheel,) = (base / "dist").glob("tui_bot-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=50)
    pip("--python", str(venv / "bin" / "python"), "install", "--no-deps", "--no-index", "--no-cache-dir", str(wheel))
    site = Path(
        subprocess.run(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "suite_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return Installed(venv, site.resolve() / "tui_bot")


def test_the_wheel_installs_the_stylesheets_into_the_package(installed: Installed, tmp_path: Path) -> None:
    styles = installed.package / "ui" / "styles"
    for name in STYLESHEETS:
        assert (styles / name).read_text() == (ROOT / "tui_bot" / "ui" / "styles" / name).read_text()
    located = installed.run(installed.python, "-c", LOCATE, cwd=tmp_path)
    assert located.returncode == 0, located.stderr
    package, *sheets = located.stdout.splitlines()
    assert Path(package).resolve() == installed.package / "__init__.py"
    assert sorted(sheets) == sorted(str(styles / name) for name in STYLESHEETS)


def test_python_dash_m_runs_the_installed_command_line(installed: Installed, tmp_path: Path) -> None:
    result = installed.run(installed.python, "-m", "tui_bot", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: tui-bot") and "{sim,listen,cycle,fault,stats,db,serve,bot}" in result.stdout


def test_a_missing_stylesheet_stops_the_console_with_one_line(installed: Installed, tmp_path: Path) -> None:
    sheet = installed.package / "ui" / "styles" / "app.tcss"
    aside = tmp_path / "app.tcss"
    shutil.move(sheet, aside)
    try:
        result = installed.run(str(installed.venv / "bin" / "tui-bot"), cwd=tmp_path)
    finally:
        shutil.move(aside, sheet)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"tui-bot: the console's stylesheet {sheet} is missing; reinstall tui-bot\n"
