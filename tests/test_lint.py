"""The code is linted and formatted with ruff (settings in pyproject.toml), checked with the tests."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_check_passes():
    result = _ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_every_file_as_it_is():
    result = _ruff("format", "--check", ".")
    assert result.returncode == 0, "Run `ruff format .`:\n" + result.stdout + result.stderr


def test_no_comment_of_the_app_or_the_engine_carries_an_issue_number():
    """Why a line is there belongs in the comment; which issue asked for it belongs in the commit message."""
    import re

    folders = [ROOT / "mnist_core", ROOT / "ui", ROOT / "pages", ROOT / "app_security"]
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in [ROOT / "app.py", *(p for folder in folders for p in sorted(folder.rglob("*.py")))]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\b[Ii]ssues? [0-9]+\b", line)
    ]
    assert found == []
