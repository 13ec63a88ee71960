"""Deeply nested JSON (issue 13, item 7) in a run folder or zip: a message or a skipped file, not a RecursionError."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from mnist_core.config import TrainingConfig
from mnist_core.runs import RunHandle, list_runs
from mnist_core.runs.files import RunFiles
from mnist_core.runs.sharing import RunImportError, import_run_zip
from mnist_core.storage import read_json, read_jsonl

DEEP = "[" * 100_000 + "]" * 100_000


def test_readers_treat_deep_json_as_unreadable(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    (tmp_path / "rows.jsonl").write_text(DEEP + '\n{"kind": "epoch", "epoch": 1}\n')
    assert read_json(tmp_path / "deep.json", "default") == "default"
    assert read_jsonl(tmp_path / "rows.jsonl") == [{"kind": "epoch", "epoch": 1}]


def test_a_run_with_a_deep_status_still_lists(tmp_path: Path) -> None:
    files = RunFiles(tmp_path / "20240101-000000-deep")
    files.path.mkdir()
    files.write_meta(TrainingConfig(), "deep", None)
    (files.path / "status.json").write_text(DEEP)
    (files.path / "evaluation.json").write_text(DEEP)
    assert [h.id for h in list_runs(tmp_path)] == ["20240101-000000-deep"]
    RunHandle(files.path).status()


@pytest.mark.parametrize("file", ["config.json", "status.json", "evaluation.json", "watch.json"])
def test_a_run_zip_with_deep_json_is_refused_with_a_message(tmp_path: Path, file: str) -> None:
    good = {
        "config.json": json.dumps({"config": TrainingConfig().to_dict(), "name": "x"}),
        "status.json": json.dumps({"state": "completed", "message": "ok", "created_at": 1.7e9}),
    }
    with zipfile.ZipFile(tmp_path / "run.zip", "w") as archive:
        for name, text in {**good, file: "[" * 5_000 + "]" * 5_000}.items():  # within every file's size cap
            archive.writestr(name, text)
    with pytest.raises(RunImportError, match=f"run.zip: {file} is not valid JSON"):
        import_run_zip(tmp_path / "run.zip", tmp_path / "runs")
