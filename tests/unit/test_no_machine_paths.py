"""No tracked file names a path that exists only on the machine it was written on."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MACHINE_PATH = re.compile(r"""(?<![\w.~-])/(?:tmp|root|home|work)/""")
DOC_SUFFIXES = {".md", ".svg"}  # documentation examples and rendered snapshots may show paths


def tracked_text_files() -> list[Path]:
    """Every tracked file that is not documentation (nor this test, whose examples are such paths)."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    files = [ROOT / n.decode() for n in names if n and Path(n.decode()).suffix not in DOC_SUFFIXES]
    return [f for f in files if f != Path(__file__).resolve()]


def machine_paths(text: str) -> list[str]:
    """The lines of text that name an absolute machine location."""
    return [line.strip() for line in text.splitlines() if MACHINE_PATH.search(line)]


def test_the_pattern_catches_machine_paths_and_spares_others() -> None:
    tmp, root, work = ("/" + name for name in ("tmp", "root", "work"))  # not spelt out: this file is scanned by others
    planted = [f'run("{tmp}/v/bin/tui-bot")', f'x = "{root}/.cache"', f"cd {work}/main"]
    assert machine_paths("\n".join(planted) + "\n") == planted
    assert machine_paths(f"GET /v5/market/tickers\nurl = 'http://h{tmp}/x'\npath = tmp_path / 'a'\n") == []


def test_no_tracked_file_names_a_machine_path() -> None:
    offenders = []
    for path in tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        offenders += [f"{path.relative_to(ROOT)}: {line}" for line in machine_paths(text)]
    assert offenders == []
