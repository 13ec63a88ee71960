"""My data (mnist_core.privacy): the inventory, the export zip, deleting all of a person's data (checked by walking
the folders), the retention cleanup, bad input, and `python -m mnist_core data`."""

from __future__ import annotations

import os
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from queue_utils import RecordingLauncher, use_launcher

from mnist_core import my_digits, privacy, runs
from mnist_core.cli import main
from mnist_core.config import TrainingConfig
from mnist_core.lessons import progress
from mnist_core.lessons.files import builtin_names, load_lesson
from mnist_core.lessons.library import save_lesson
from mnist_core.people import Person
from mnist_core.runs.experiments import start_experiment
from mnist_core.runs.files import RunFiles
from mnist_core.runs.sharing import export_run_zip, import_run_zip

ANN = Person("https://idp.example|ann", "ann@school.example", "Ann")
BOB = Person("class:7f3a|s2", name="Bob")  # a class account's id
TESS = Person("https://idp.example|tess", "tess@school.example", "Tess", is_teacher=True)
CONFIG = TrainingConfig(hidden_units=(8,), epochs=1)
OLD = time.time() - 400 * 24 * 3600


@pytest.fixture
def lab(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DIGIT_LAB_MY_DIGITS_DIR", str(tmp_path / "my_digits"))
    monkeypatch.delenv(privacy.RETENTION_ENV, raising=False)
    monkeypatch.delenv(runs.run_queue.PER_PERSON_ENV, raising=False)
    use_launcher(monkeypatch, RecordingLauncher(slots=0))  # every run started here waits in the queue
    return tmp_path


def finished_run(person: Person | None, name: str) -> runs.RunHandle:
    """A completed run of `person`, as the worker leaves it."""
    handle = runs.start_run(CONFIG, name=name, owner=person)
    handle.files.update_status(state="completed", ended_at=time.time(), message="done")
    (handle.path / "model.keras").write_bytes(b"weights of " + name.encode())
    return handle


def draw(person: Person | None, n: int = 2) -> None:
    for label in range(n):
        my_digits.add_digit(np.full((28, 28), 0.5, np.float32), label, folder=my_digits.person_folder(person))


def everything_of_ann(lab: Path) -> dict:
    """Ann: a finished run, a waiting run, an experiment, an imported run, drawings, lesson progress, a lesson."""
    done = finished_run(ANN, "anns mlp")
    waiting = runs.start_run(CONFIG, name="anns queued", owner=ANN)
    start_experiment(CONFIG, {"epochs": ["1", "2"]}, name="epochs", owner=ANN)
    export_run_zip(done, lab / "share.zip")
    imported = import_run_zip(lab / "share.zip", owner=ANN)
    draw(ANN, 3)
    lesson = load_lesson(builtin_names()[0])
    progress.join(runs.runs_dir(), ANN, lesson)
    save_lesson(runs.runs_dir(), lesson.model_copy(update={"name": "anns-lesson"}), ANN)
    return {"done": done, "waiting": waiting, "imported": imported, "lesson": lesson}


def traces_of(person: Person, *folders: Path) -> list[Path]:
    """Every file or folder under `folders` whose path names the person's digest or whose bytes hold their id."""
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if person.folder_name in str(path) or (path.is_file() and person.id.encode() in path.read_bytes()):
                found.append(path)
    return found


def test_the_inventory_lists_all_of_a_persons_data_and_nothing_of_others(lab):
    ann = everything_of_ann(lab)
    bobs = finished_run(BOB, "bobs run")
    draw(BOB)
    operators = finished_run(None, "operators run")
    found = privacy.take_inventory(ANN)
    runs_found = {item.paths[0] for item in found.of_kind("run")}
    assert {ann["done"].path, ann["waiting"].path, ann["imported"].path} < runs_found and len(runs_found) == 5
    assert {item.state for item in found.of_kind("run")} == {"completed", "queued"}
    assert any("experiment epochs" in item.label for item in found.of_kind("run"))
    assert [item.label for item in found.of_kind("digits")] == ["3 drawings"]
    assert found.of_kind("progress")[0].label == f"1 lesson: {ann['lesson'].name}"
    assert [item.label for item in found.of_kind("lesson")] == ["anns-lesson"]
    assert found.size_bytes == sum(item.size_bytes for item in found.items) > 0
    assert bobs.path not in runs_found and operators.path not in runs_found
    text = "\n".join(privacy.summary_lines(found))
    assert "Kept for Ann: 8 item(s)" in text and str(lab / "runs") in text and "365 days" in text
    operator = privacy.take_inventory(None)
    assert [item.paths[0] for item in operator.of_kind("run")] == [operators.path] and not operator.of_kind("digits")
    assert [h.label for h in privacy.people_with_data()] == ["Ann", "Bob"]


def test_the_export_zip_holds_every_file_of_the_person(lab):
    ann = everything_of_ann(lab)
    finished_run(BOB, "bobs run")
    found = privacy.export_zip(ANN, lab / "out" / "ann.zip")
    with zipfile.ZipFile(lab / "out" / "ann.zip") as archive:
        names = archive.namelist()
        assert b"Kept for Ann" in archive.read("README.txt")
        assert b'"digit-lab-my-data"' in archive.read("inventory.json")
        assert archive.read(f"runs/{ann['done'].id}/model.keras") == b"weights of anns mlp"
    run_ids = {name.split("/")[1] for name in names if name.startswith("runs/")}
    assert run_ids == {item.paths[0].name for item in found.of_kind("run")} and len(run_ids) == 5
    assert len([n for n in names if n.startswith("my_digits/") and n.endswith(".png")]) == 3
    assert f"lesson_progress/{ann['lesson'].name}.json" in names
    assert {"lessons_made/anns-lesson.json", "lessons_made/anns-lesson.code.json"} <= set(names)
    assert not [n for n in names if "bobs" in n] and not list((lab / "out").glob(".*"))  # no temp file left


def test_delete_stops_queued_and_training_runs_first_and_leaves_nothing_on_disk(lab, monkeypatch):
    use_launcher(monkeypatch, RecordingLauncher(slots=1))
    training = runs.start_run(CONFIG, name="anns training", owner=ANN)  # handed to a (pretend) worker
    assert training.status().is_active and not training.status().is_waiting
    use_launcher(monkeypatch, RecordingLauncher(slots=0))
    ann = everything_of_ann(lab)
    worker = threading.Thread(target=pretend_worker, args=(training.files,), daemon=True)
    worker.start()
    bobs = finished_run(BOB, "bobs run")
    draw(BOB)
    done = privacy.delete_all(ANN)
    assert {"anns queued", "anns training"} <= set(done.stopped) and not done.still_training
    assert "run 'anns mlp'" in done.removed and "3 drawings" in done.removed
    assert traces_of(ANN, lab / "runs", lab / "my_digits") == []
    assert not [h for h in runs.list_runs() if h.owner.id == ANN.id]
    assert not ann["waiting"].path.exists() and not training.path.exists()
    assert bobs.path.is_dir() and len(my_digits.list_digits(my_digits.person_folder(BOB))) == 2
    assert privacy.take_inventory(ANN).items == ()


def pretend_worker(files: RunFiles) -> None:
    """Trains until asked to stop, then stops as the real worker does (after its batch)."""
    deadline = time.monotonic() + 20
    while not files.stop_flag.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    files.update_status(state="stopped", ended_at=time.time(), message="Stopped by you.")


def test_a_run_that_does_not_stop_in_time_is_kept_and_named(lab, monkeypatch):
    use_launcher(monkeypatch, RecordingLauncher(slots=1))
    runs.start_run(CONFIG, name="stuck", owner=ANN)
    draw(ANN)
    done = privacy.delete_all(ANN, stop_timeout_s=0.2)
    assert done.still_training == ("stuck",) and done.removed == ("2 drawings",)
    assert [item.label for item in privacy.take_inventory(ANN).items] == ["stuck"]


def age(path: Path, when: float = OLD) -> None:
    for item in [path, *path.rglob("*")]:
        os.utime(item, (when, when))


def test_retention_removes_peoples_data_untouched_too_long(lab, monkeypatch):
    old, recent, operators = finished_run(ANN, "old"), finished_run(ANN, "recent"), finished_run(None, "mine")
    queued = runs.start_run(CONFIG, name="old but waiting", owner=BOB)
    draw(ANN)
    lesson = load_lesson(builtin_names()[0])
    progress.join(runs.runs_dir(), ANN, lesson)
    for path in (old.path, operators.path, queued.path, lab / "my_digits" / "people", lab / "runs" / "lessons"):
        age(path)
    planned = privacy.cleanup(dry_run=True)
    assert {r.what for r in planned} >= {"run 'old' of Ann", f"lesson progress {lesson.name!r}"} and len(planned) == 4
    assert old.path.is_dir()  # a dry run removes nothing
    monkeypatch.setenv(privacy.RETENTION_ENV, "0")
    assert privacy.cleanup() == [] and old.path.is_dir()  # 0: kept forever
    monkeypatch.setenv(privacy.RETENTION_ENV, "30")
    assert len(privacy.cleanup()) == 4
    assert not old.path.exists() and recent.path.is_dir() and operators.path.is_dir() and queued.path.is_dir()
    assert traces_of(ANN, lab / "my_digits") == [] and not privacy.take_inventory(ANN).of_kind("progress")
    assert privacy.cleanup_if_due() == []  # it ran today


@pytest.mark.parametrize(
    "value, message",
    [("-1", "not a number of days"), ("ten", r"whole number from 0 \(keep forever\) to 36500"), ("99999", "36500")],
)
def test_a_bad_retention_setting_says_what_to_set(lab, monkeypatch, value, message):
    monkeypatch.setenv(privacy.RETENTION_ENV, value)
    with pytest.raises(privacy.PrivacyError, match=message):
        privacy.cleanup()
    assert "nothing is cleaned up until it is fixed" in privacy.retention_text()


@pytest.mark.parametrize(
    "person_id, message",
    [("", "Give a person's id"), ("  ", "Give a person's id"), ("x" * 301, "at most 300 printable"),
     ("ann\n../..", "at most 300 printable")],
)  # fmt: skip
def test_a_bad_person_id_is_refused_with_what_to_do(person_id, message):
    with pytest.raises(privacy.PrivacyError, match=message):
        privacy.check_person_id(person_id)


def test_an_unknown_person_or_one_with_path_characters_touches_nothing(lab):
    ann = everything_of_ann(lab)
    for person_id in ("https://idp.example|nobody", "../runs", "../../my_digits/people", "/"):
        person = Person(privacy.check_person_id(person_id))  # path characters are fine in ids: never paths
        assert privacy.take_inventory(person).items == ()
        with pytest.raises(privacy.PrivacyError, match="Nothing is kept for someone on this server"):
            privacy.delete_all(person)
        with pytest.raises(privacy.PrivacyError, match="nothing to export"):
            privacy.export_zip(person, lab / "x.zip")
    assert ann["done"].path.is_dir() and len(privacy.take_inventory(ANN).items) == 8


def test_the_data_command_shows_exports_deletes_and_cleans(lab, capsys):
    everything_of_ann(lab)
    finished_run(None, "operators run")
    assert main(["data", "people"]) == 0 and ANN.id in capsys.readouterr().out
    assert main(["data", "show", "--person", ANN.id]) == 0
    out = capsys.readouterr().out
    assert "Kept for Ann: 8 item(s)" in out and "Training run: anns queued, queued" in out and "How long:" in out
    assert main(["data", "show"]) == 0 and "operators run" in capsys.readouterr().out
    assert main(["data", "export", "--person", ANN.id, "--out", str(lab / "ann.zip")]) == 0
    assert "Exported 8 item(s)" in capsys.readouterr().out and zipfile.is_zipfile(lab / "ann.zip")
    assert main(["data", "delete", "--person", ANN.id]) == 2 and "add --yes" in capsys.readouterr().err
    assert main(["data", "delete", "--person", ANN.id, "--yes"]) == 0
    stopped = capsys.readouterr().out.splitlines()[0]
    assert stopped.startswith("Stopped: ") and "anns queued" in stopped and not privacy.take_inventory(ANN).items
    assert main(["data", "delete", "--person", ANN.id, "--yes"]) == 2
    assert f"Nothing is kept for {ANN.id} on this server" in capsys.readouterr().err
    assert main(["data", "show", "--person", "bad\tid"]) == 2 and "printable" in capsys.readouterr().err
    assert main(["data", "cleanup", "--dry-run"]) == 0 and "Would remove 0 item(s)." in capsys.readouterr().out


def test_the_words_say_whether_the_cleanup_has_run_and_when(lab):
    assert "it has not run on this server yet" in privacy.retention_text()
    runs.runs_dir().mkdir(parents=True, exist_ok=True)
    privacy.cleanup()
    assert f"it last ran on {time.strftime('%Y-%m-%d')}" in privacy.retention_text()
    assert "python -m mnist_core data cleanup" in privacy.retention_text()
