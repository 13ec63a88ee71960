"""Share a run: export it as one zip file, import it as a new run (the URL half: test_share.py)."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnist_core.config import TrainingConfig
from mnist_core.runs import RunError, list_runs, load_run, sharing
from mnist_core.runs.evaluation import evaluate_probabilities, save_evaluation
from mnist_core.runs.files import RunFiles
from mnist_core.runs.sharing import RunImportError, export_run_zip, import_run_zip

EVERY_FIELD_CHANGED = TrainingConfig(
    architecture="cnn",
    hidden_units=(64, 32),
    conv_filters=(8, 16, 24),
    dense_units=0,
    batch_norm=True,
    activation="gelu",
    dropout=0.125,
    optimizer="adamw",
    learning_rate=3.5e-4,
    lr_schedule="warmup_cosine",
    batch_size=32,
    epochs=7,
    min_steps=300,
    early_stopping_patience=2,
    scaling="raw",
    augmentation=True,
    validation="test",
    validation_fraction=0.2,
    train_limit=5000,
    seed=42,
)


def make_run(root: Path, state: str = "completed", name: str = "mlp 12:00:01") -> Path:
    """A finished run folder with the files a real run writes (fake but well-formed models)."""
    path = root / "20250101-120001-mlp-12-00-01"
    path.mkdir(parents=True)
    files = RunFiles(path)
    files.write_meta(EVERY_FIELD_CHANGED, name, "/somewhere/mnist")
    files.update_status(state=state, message="done", created_at=1.0, epochs=7, epoch=7, pid=4242)
    files.metrics.write_text('{"kind": "epoch", "epoch": 1, "accuracy": 0.9}\n')
    for model in ("model_best.keras", "model_final.keras"):
        with zipfile.ZipFile(path / model, "w") as archive:
            archive.writestr("config.json", "{}")
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), 20).astype(np.float32)
    save_evaluation(path, evaluate_probabilities(probabilities, rng.integers(0, 10, 20), np.zeros((20, 28, 28))))
    (path / "worker.log").write_text("private log")
    return path


def test_export_then_import_makes_a_new_run(tmp_path):
    source = make_run(tmp_path / "a")
    zip_path = export_run_zip(source, tmp_path / "run.zip")
    with zipfile.ZipFile(zip_path) as archive:
        assert "worker.log" not in archive.namelist() and sharing.MANIFEST in archive.namelist()
    handle = import_run_zip(zip_path, tmp_path / "b")
    assert [h.id for h in list_runs(tmp_path / "b")] == [handle.id]
    assert load_run(handle.id, tmp_path / "b").path == handle.path
    assert handle.id != source.name and handle.name == "mlp 12:00:01 (imported)"
    assert handle.config == EVERY_FIELD_CHANGED and handle.files.data_dir() is None
    status = handle.status()
    assert (status.state, status.epoch, status.pid) == ("completed", 7, None)
    for file in ("metrics.jsonl", "model_best.keras", "model_final.keras", "evaluation.json", "evaluation.npz"):
        assert (handle.path / file).read_bytes() == (source / file).read_bytes()
    assert not (handle.path / "worker.log").exists()
    again = import_run_zip(zip_path, tmp_path / "b")
    assert again.id != handle.id and len(list_runs(tmp_path / "b")) == 2


def test_an_imported_running_run_becomes_interrupted(tmp_path):
    source = make_run(tmp_path / "a", state="completed")
    zip_path = export_run_zip(source, tmp_path / "run.zip")
    rewritten = tmp_path / "running.zip"
    with zipfile.ZipFile(zip_path) as old, zipfile.ZipFile(rewritten, "w") as new:
        for name in old.namelist():
            data = old.read(name)
            if name == "status.json":
                data = json.dumps({**json.loads(data), "state": "running", "ended_at": None}).encode()
            new.writestr(f"folder/{name}", data)  # a re-zipped folder works too
    status = import_run_zip(rewritten, tmp_path / "b").status()
    assert status.state == "interrupted" and "still training when it was exported" in status.message
    assert status.ended_at is not None and status.pid is None


def test_an_imported_real_model_loads(tmp_path):
    from mnist_core.drawing.predict import load_predictor
    from mnist_core.models import build_model

    source = make_run(tmp_path / "a")
    build_model(TrainingConfig(hidden_units=(8,))).save(source / "model_best.keras")
    handle = import_run_zip(export_run_zip(source, tmp_path / "run.zip"), tmp_path / "b")
    assert load_predictor(handle.model_path("best")).probabilities(np.zeros((28, 28), np.float32)).shape == (1, 10)


def test_export_refuses_active_and_missing_runs(tmp_path):
    with pytest.raises(RunError, match="no config.json"):
        export_run_zip(tmp_path / "nothing", tmp_path / "x.zip")
    active = make_run(tmp_path / "a", state="queued")  # queued moments ago: the worker may be starting
    RunFiles(active).update_status(created_at=time.time(), pid=None)
    with pytest.raises(RunError, match="still training; export it when it has finished"):
        export_run_zip(active, tmp_path / "x.zip")


GOOD = {"config.json": json.dumps({"config": {}, "name": "x"}), "status.json": json.dumps({"state": "completed"})}
BAD_ZIPS = [
    ({"status.json": GOOD["status.json"]}, "needs exactly one config.json (found 0)"),
    ({**GOOD, "x/config.json": "{}"}, "needs exactly one config.json (found 2)"),
    ({"config.json": GOOD["config.json"]}, "it has no status.json"),
    ({**GOOD, "config.json": "{"}, "config.json is not valid JSON"),
    ({**GOOD, "config.json": "[]"}, 'config.json has no "config" settings'),
    ({**GOOD, "config.json": json.dumps({"config": {"epochs": 0}})}, "cannot use: epochs is 0"),
    ({**GOOD, "config.json": json.dumps({"config": {"bogus": 1}})}, "Unknown setting(s): bogus"),
    ({**GOOD, "status.json": json.dumps({"state": "exploded"})}, "status.json has state 'exploded'"),
    ({**GOOD, "status.json": "[1]"}, "status.json has state None"),
    ({**GOOD, "evaluation.json": "nope"}, "evaluation.json is not valid JSON"),
    ({**GOOD, "model_best.keras": "not a zip"}, "model_best.keras is damaged (not a zip archive)"),
    ({**GOOD, "../evil.txt": "x"}, "unsafe path '../evil.txt'"),
    ({**GOOD, "/etc/passwd": "x"}, "unsafe path '/etc/passwd'"),
    ({**GOOD, "C:/x": "x"}, "unsafe path 'C:/x'"),
    ({**GOOD, "a\\..\\b": "x"}, "unsafe path"),
]


@pytest.mark.parametrize(("members", "message"), BAD_ZIPS, ids=[m for _, m in BAD_ZIPS])
def test_import_rejects_bad_zips(tmp_path, members, message):
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(RunImportError) as error:
        import_run_zip(path, tmp_path / "runs")
    assert message in str(error.value)
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) in (["bad.zip"], ["bad.zip", "runs"])


def test_import_caps_sizes_and_rejects_non_zips(tmp_path, monkeypatch):
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in GOOD.items():
            archive.writestr(name, data)
        archive.writestr("metrics.jsonl", b"\n" * 5_000_000)
    monkeypatch.setattr(sharing, "MAX_FILE_BYTES", 1_000_000)
    with pytest.raises(RunImportError, match="metrics.jsonl unpacks to 4.8 MB; the limit for one file is 1.0 MB"):
        import_run_zip(path, tmp_path / "runs")
    monkeypatch.setattr(sharing, "MAX_UNPACKED_BYTES", 1_000_000)
    with pytest.raises(RunImportError, match="big.zip unpacks to 4.8 MB; the limit is 1 MB"):
        import_run_zip(path, tmp_path / "runs")
    monkeypatch.setattr(sharing, "MAX_ZIP_BYTES", 100)
    with pytest.raises(RunImportError, match="the limit is 0 MB"):
        import_run_zip(path, tmp_path / "runs")
    (tmp_path / "text.zip").write_bytes(b"hello")
    with pytest.raises(RunImportError, match="text.zip is not a valid zip file"):
        import_run_zip(tmp_path / "text.zip", tmp_path / "runs")


def test_a_run_zip_whose_files_break_the_schema_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    """Issue 13: refused at the door (no run to find damaged and delete later), with what is wrong."""
    path = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"config": TrainingConfig().to_dict(), "name": "x"}))
        archive.writestr("status.json", json.dumps({"state": "completed", "message": "ok", "created_at": 1.7e9}))
        archive.writestr("evaluation.json", json.dumps({"test_accuracy": "very high"}))
    with pytest.raises(RunImportError, match=r"damaged\.zip cannot be imported: evaluation\.json"):
        import_run_zip(path, tmp_path / "runs")
    assert [p for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")] == []
