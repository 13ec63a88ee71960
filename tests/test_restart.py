"""Kill the web server (SIGKILL, its whole process group) while a run it started trains; start a new one.

What happens, and what this test holds: the training worker lives in a session of its own
(`start_new_session=True`), so it does not die with the server. It keeps training while no server
runs, the new server answers and shows it training live, and no other run changes. When the worker
itself dies later, the new server shows the run as interrupted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from browser_utils import (
    ROOT,
    chromium_path,
    free_port,
    open_page,
    wait_until_healthy,
)

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.presets import get_preset
from mnist_core.runs.files import RunFiles
from ui.share import config_to_query

pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="no system Chromium (chromium) on PATH"),
]


def start_server(root: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` in a process group of its own, as a service manager would start it."""
    port = free_port()
    env = {**os.environ, runs.RUNS_DIR_ENV: str(root)}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://localhost:{port}"
    wait_until_healthy(url, process)
    return process, url


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0]
    except OSError:
        return False
    return state != "Z"


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def bystander(root: Path) -> Path:
    """A finished run that has nothing to do with any of this."""
    files = RunFiles(root / "20240101-000000-bystander")
    files.path.mkdir(parents=True)
    files.write_meta(TrainingConfig(hidden_units=(8,)), "bystander", None)
    files.update_status(
        state="completed",
        message="Completed 5 epochs.",
        created_at=1.7e9,
        started_at=1.7e9,
        ended_at=1.7e9 + 30,
        epoch=5,
        epochs=5,
    )
    files.metrics.write_text('{"kind":"epoch","epoch":1,"loss":0.5,"val_accuracy":0.9}\n')
    files.model_file("best").write_bytes(b"PK\x03\x04 a model")
    return files.path


def start_long_run_in_the_ui(page, url: str) -> None:
    """Train page opened from a shared link: preset seed001 (Dense 32) with batch 16 and 50 epochs over all
    the data, then Start. (Moving the sliders by keyboard lost a key press now and then under load when a
    finished run's panels re-rendered them; the link is a user's path too and fills every control at once.)"""
    settings = urllib.parse.urlencode(config_to_query(get_preset("seed001").replace(batch_size=16, epochs=50)))
    open_page(page, url, f"train?{settings}")
    page.get_by_text(re.compile(r"batch 16 · 50 epochs")).wait_for(timeout=30_000)
    page.get_by_test_id("stTextInput").filter(has_text="Run name").locator("input").fill("survivor")
    page.get_by_role("button", name="Start training").click()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)
    return value


def test_training_survives_a_server_kill_and_the_new_server_shows_it(tmp_path: Path, page) -> None:
    root = tmp_path / "runs"
    other = bystander(root)
    before = digest(other)
    servers, worker = [], None
    try:
        server, url = start_server(root, tmp_path / "first.log")
        servers.append(server)
        start_long_run_in_the_ui(page, url)
        handle = wait_for(lambda: runs.active_run(root), 60, "the run to appear")
        wait_for(lambda: handle.metrics().batches, 240, "the first batch row")
        worker = handle.status().pid
        assert os.getsid(worker) != os.getsid(server.pid) and os.getpgid(worker) != server.pid

        kill_group(server)  # the server and everything in its process group, with no chance to clean up
        rows = len(handle.metrics().batches)
        wait_for(lambda: len(handle.metrics().batches) > rows, 30, "a batch row with no server running")
        assert alive(worker)

        server, url = start_server(root, tmp_path / "second.log")
        servers.append(server)
        status = handle.status()
        assert status.state == "running" and status.pid == worker
        open_page(page, url, "train")
        page.get_by_text(re.compile(r"Epoch \d+/50")).first.wait_for()
        assert page.get_by_text("survivor").first.is_visible()

        os.kill(worker, signal.SIGKILL)  # now the worker dies: the live view turns into the verdict
        page.get_by_text("The training process ended unexpectedly").first.wait_for(timeout=60_000)
        assert handle.status().state == "interrupted"
    finally:
        if worker and alive(worker):
            os.kill(worker, signal.SIGKILL)
        for server in servers:
            kill_group(server)
    assert digest(other) == before
    assert sorted(h.name for h in runs.list_runs(root)) == ["bystander", "survivor"]
