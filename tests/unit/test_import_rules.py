"""Layering rules of DESIGN §2, checked statically and in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tui_bot"

# Which tui_bot packages each layer may import (itself always allowed).
ALLOWED = {
    "domain": set(),
    "exchange": {"domain"},
    "store": {"domain"},
    "sim": {"domain", "exchange.bybit.signing", "exchange.bybit.schemas"},
    "core": {"domain", "exchange", "store"},
    "notify": {"domain"},
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _violations() -> list[str]:
    found = []
    for path in PACKAGE.rglob("*.py"):
        layer = path.relative_to(PACKAGE).parts[0]
        for name in _imports(path):
            top = name.split(".")[0]
            if top in ("textual", "rich") and layer != "ui":
                found.append(f"{path.relative_to(PACKAGE)} imports {name}")
            if top != "tui_bot" or layer not in ALLOWED:
                continue
            target = name.removeprefix("tui_bot.")
            allowed = ALLOWED[layer] | {layer}
            if not any(target == a or target.startswith(a + ".") for a in allowed):
                found.append(f"{path.relative_to(PACKAGE)} ({layer}) imports {name}")
    return found


def test_layers_import_only_what_design_allows() -> None:
    assert _violations() == []


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from tui_bot.sim.server import SimExchange\nimport textual\n")
    assert _imports(bad) == ["tui_bot.sim.server", "textual"]


def test_headless_modules_do_not_load_textual() -> None:
    code = (
        "import sys, tui_bot.cli, tui_bot.sim.server, tui_bot.domain.models, tui_bot.config\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == ""


def test_running_the_core_does_not_load_textual(tmp_path: Path) -> None:
    code = (
        "import asyncio, sys\n"
        "from decimal import Decimal\n"
        "from tui_bot.config import Settings\n"
        "from tui_bot.domain.enums import Side\n"
        "from tui_bot.runtime import start_runtime\n"
        "async def main():\n"
        f"    rt = await start_runtime(Settings(), {str(tmp_path / 'c.db')!r})\n"
        "    await rt.orders.place('BTCUSDT', Side.BUY, Decimal('0.001'))\n"
        "    await asyncio.sleep(0.3)\n"
        "    assert 'BTCUSDT' in rt.engine.state.positions\n"
        "    await rt.bot.run_cycle('test')\n"
        "    await rt.close()\n"
        "asyncio.run(main())\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))) or 'clean')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "clean"
