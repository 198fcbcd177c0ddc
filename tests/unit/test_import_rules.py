"""Layering rules of DESIGN §2, checked statically and in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tui_bot"

CONSOLE_DOOR = {
    "domain",
    "config",
    "logs",
    "exchange.errors",
    "core.console_api",
    "core.orders",
    "core.risk",
    "core.settings",
    "core.state",
    "core.stats",
    "core.ml_report",
    "core.cycle_report",
    "core.history",
    "core.health",
    "core.bus",
}
"""What a console may reach: the ConsoleBackend and the core modules whose values and checks it speaks in (order
checks, the bot's own sizing and fee arithmetic for the ticket, settings changes, marks, stats and health figures,
a subscription, a cycle's summary); never the engine, the bot, the local backend, the store or exchange.bybit."""

# Which tui_bot modules each layer (a package, or a module at the top) may import; itself always allowed.
ALLOWED = {
    "domain": set(),
    "exchange": {"domain"},
    "store": {"domain"},
    "sim": {"domain", "exchange.bybit.signing", "exchange.bybit.schemas"},
    "core": {"domain", "exchange.client", "exchange.errors", "store"},
    "ui": CONSOLE_DOOR,
    # the modules at the top: the two composition roots wire everything, the commands use the console door
    "__init__": set(),
    "__main__": {"cli"},
    "logs": set(),
    "config": {
        "domain",
        "core.strategies",
        "core.alert_rules",
        "core.ml_settings",
        "notify.settings",
    },  # each section from its owner
    "runtime": {"config", "domain", "core", "exchange", "store", "sim", "notify"},
    "cli": {"config", "domain", "logs", "sim", "listen", "cycle_once", "runtime", "ui.run"}
    | {"stats_cli", "db_cli", "serve_cli", "bot_cli", "attach_cli", "cli_types"},  # commands in their own modules
    "db_cli": {"config", "store"},
    "listen": CONSOLE_DOOR | {"runtime", "live"},
    "cycle_once": CONSOLE_DOOR | {"runtime"},
    # `tui-bot stats` reads the store alone (no exchange, no runtime) and sums with core.stats
    "stats_cli": {"config", "domain", "store", "stats_report"},
    "stats_report": {"domain", "core.stats", "store"},
    "bot_cli": CONSOLE_DOOR | {"runtime", "live", "cli_types"},
    # the console on a listener's Redis, its own order path from the runtime
    "attach_cli": {"config", "core.console_api", "live", "ui.run", "bot_cli", "runtime"},
    "notify": {"domain"},
    "live": {"domain", "core", "store", "exchange.client"},  # Redis between processes: state from the core,
    # commands to a backend, and a headless bot's account feed in place of the venue's private stream
    "serve_cli": {"config", "serve", "cli_types", "bot_cli"},  # runs the console as a command, imports none of it
    "cli_types": set(),  # the argparse types the commands share
    "serve": set(),
}
UI_ONLY = ("textual", "rich")


def _module_of(path: Path, root: Path) -> list[str]:
    """The dotted parts of the package a file's relative imports start from (tui_bot/ui/app.py: tui_bot.ui)."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return parts if path.name == "__init__.py" else parts[:-1]


def _imports(path: Path, root: Path) -> list[str]:
    """Every module path imports (relative imports resolved; `from <package> import x` as <package>.x)."""
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _module_of(path, root)
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            package_dir = root.parent.joinpath(*base.split("."))
            names += [f"{base}.{alias.name}" for alias in node.names] if package_dir.is_dir() else [base]
    return names


def _layer(path: Path, root: Path) -> str:
    """The package under root a file belongs to, or the module's own name for a module at the top."""
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else path.stem


def violations(root: Path = PACKAGE) -> list[str]:
    """Each import under root that its layer may not make, and each file in a layer the rules do not know."""
    found = []
    for path in sorted(root.rglob("*.py")):
        where, layer = path.relative_to(root), _layer(path, root)
        if layer not in ALLOWED:
            found.append(f"{where}: layer {layer!r} has no import rule")
            continue
        allowed = ALLOWED[layer] | {layer}
        for name in _imports(path, root):
            top = name.split(".")[0]
            if top in UI_ONLY and layer != "ui":
                found.append(f"{where} imports {name}")
            if top != root.name:
                continue
            target = name.removeprefix(f"{root.name}.")
            if not any(target == a or target.startswith(a + ".") for a in allowed):
                found.append(f"{where} ({layer}) imports {name}")
    return found


def test_layers_import_only_what_design_allows() -> None:
    assert violations() == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    """A throwaway package named tui_bot under root with the given files (path → source)."""
    package = root / "tui_bot"
    for name, source in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return package


def test_checker_reports_a_planted_violation_in_the_ui(tmp_path: Path) -> None:
    package = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "ui/__init__.py": "",
            "ui/widgets/__init__.py": "",
            "ui/fine.py": "from tui_bot.core.console_api import ConsoleBackend\n"
            "from tui_bot.domain.models import Order\n"
            "import textual\n",
            "ui/stats.py": "from tui_bot.store.repos import load_trades\n",
            "ui/health.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from tui_bot.exchange.bybit.rest import RestStats\n",
            "ui/widgets/sneaky.py": "from ...store import repos\nfrom tui_bot import runtime\n",
            "ui/reach.py": "from tui_bot.core.engine import Engine\nfrom ..core import local_backend\n",
            "listen.py": "from tui_bot.store.rows import CycleRow\nfrom tui_bot.runtime import open_local_backend\n",
            "core/engine.py": "import rich.text\nfrom tui_bot.exchange.bybit.client import BybitClient\n",
            "stray.py": "",
        },
    )
    assert violations(package) == [
        "core/engine.py imports rich.text",
        "core/engine.py (core) imports tui_bot.exchange.bybit.client",
        "listen.py (listen) imports tui_bot.store.rows",
        "stray.py: layer 'stray' has no import rule",
        "ui/health.py (ui) imports tui_bot.exchange.bybit.rest",
        "ui/reach.py (ui) imports tui_bot.core.engine",
        "ui/reach.py (ui) imports tui_bot.core.local_backend",
        "ui/stats.py (ui) imports tui_bot.store.repos",
        "ui/widgets/sneaky.py (ui) imports tui_bot.store",
        "ui/widgets/sneaky.py (ui) imports tui_bot.runtime",
    ]


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
