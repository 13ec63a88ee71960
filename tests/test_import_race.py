"""Simultaneous imports of one run zip (issue 13, item 10): each gets its own run, none fails."""

from __future__ import annotations

import json
import threading
import zipfile
from pathlib import Path

from mnist_core.config import TrainingConfig
from mnist_core.runs import list_runs
from mnist_core.runs.sharing import import_run_zip

IMPORTERS, ROUNDS = 3, 10
METRICS = b'{"kind":"epoch","epoch":1,"loss":0.5}\n' * 200


def run_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"config": TrainingConfig().to_dict(), "name": "shared"}))
        archive.writestr("status.json", json.dumps({"state": "completed", "message": "ok", "created_at": 1.7e9}))
        archive.writestr("metrics.jsonl", METRICS)
    return path


def test_three_simultaneous_imports_of_one_zip_all_succeed(tmp_path: Path) -> None:
    source, runs = run_zip(tmp_path / "shared.zip"), tmp_path / "runs"
    runs.mkdir()
    errors: list[BaseException] = []
    for _ in range(ROUNDS):
        start = threading.Barrier(IMPORTERS)

        def importer(start: threading.Barrier = start) -> None:
            start.wait()
            try:
                import_run_zip(source, runs)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)

        threads = [threading.Thread(target=importer) for _ in range(IMPORTERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    imported = list_runs(runs)
    assert len(imported) == IMPORTERS * ROUNDS == len({h.path for h in imported})
    assert all((h.path / "metrics.jsonl").read_bytes() == METRICS for h in imported)
    assert sorted(p.name for p in runs.iterdir() if p.name.startswith(".")) == []  # no staging folder left
