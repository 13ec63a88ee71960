"""Every preset reaches the test accuracy it states on the embedded 5,000-digit sample: the data a
newcomer trains on after a fresh clone (no MNIST_DATA_DIR, no Keras cache). Real worker processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_core.presets import PRESETS
from mnist_core.runs import start_run

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 0.015  # 1,000 test digits: one standard error near 97% is about 0.5 points


@pytest.fixture
def embedded_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hide full MNIST from this process and the workers it starts; returns a fresh runs folder."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    return tmp_path / "runs"


@pytest.mark.slow
def test_quick_from_the_cli_on_a_fresh_clone_reaches_95_percent(embedded_only: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "mnist_core", "train", "--preset", "quick", "--runs-dir", str(embedded_only)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"^completed: Completed 9 epochs; .*: test accuracy (\d+\.\d\d)%\.$", result.stdout, re.MULTILINE)
    assert found, result.stdout
    accuracy = float(found.group(1)) / 100
    assert accuracy >= 0.95 and accuracy >= PRESETS["quick"].expected_embedded - TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in PRESETS if name != "quick"])
def test_preset_reaches_its_stated_figure_on_the_embedded_sample(name: str, embedded_only: Path) -> None:
    preset = PRESETS[name]
    handle = start_run(preset.config, name=f"preset {name}", runs_dir_path=embedded_only)
    status = handle.wait(timeout=900)
    assert status.state == "completed", status.message
    assert status.data_source.startswith("Embedded sample")
    accuracy = handle.evaluation().accuracy
    assert accuracy >= preset.expected_embedded - TOLERANCE, f"{name}: {accuracy:.2%}"
    if name == "cnn":
        assert accuracy >= 0.975
