"""The training queue (issue 15): fair order, per-person limits, cancel, ownership, and a queue that lives
in the run folders. The queue's hand-outs are recorded (tests/queue_utils.py) instead of starting workers,
so these run in milliseconds; test_queue_workers.py runs the same rules with real worker processes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from queue_utils import RecordingLauncher, use_launcher

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.people import Person, person_from_claims, teacher_emails
from mnist_core.runs import heartbeat
from mnist_core.runs import queue as run_queue
from mnist_core.runs.queue import Waiting, fair_order

TINY = TrainingConfig(hidden_units=(8,), epochs=1, train_limit=100, batch_size=32)
ANN, BOB, CAT = (Person(f"https://idp|{n}", f"{n}@school.example", n.title()) for n in ("ann", "bob", "cat"))
TEACHER = Person("https://idp|tess", "tess@school.example", "Tess", is_teacher=True)


def finish(handle: runs.RunHandle) -> None:
    """What a worker does at the end of a run: a finished state, then the next hand-out."""
    handle.files.update_status(state="completed", ended_at=time.time(), message="Completed.")


@pytest.fixture
def launcher(monkeypatch: pytest.MonkeyPatch) -> RecordingLauncher:
    monkeypatch.delenv(run_queue.PER_PERSON_ENV, raising=False)
    return use_launcher(monkeypatch, RecordingLauncher(slots=1))


# --- the fair order, on its own ---------------------------------------------------------------------------


def test_fair_order_is_round_robin_between_people():
    waiting = [Waiting(f"{p}{i}", p, t) for t, (p, i) in enumerate((p, i) for p in "abc" for i in range(3))]
    assert [w.run_id for w in fair_order(waiting, {})] == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]


def test_the_person_served_longest_ago_goes_first():
    waiting = [Waiting("a1", "a", 1.0), Waiting("b1", "b", 2.0), Waiting("c1", "c", 3.0)]
    assert [w.run_id for w in fair_order(waiting, {"a": 100.0, "b": 50.0})] == ["c1", "b1", "a1"]


def test_five_runs_of_one_person_do_not_hold_back_anothers_first():
    waiting = [Waiting(f"a{i}", "a", float(i)) for i in range(5)] + [Waiting("b0", "b", 10.0)]
    assert [w.run_id for w in fair_order(waiting, {"a": 0.0})][:1] == ["b0"]


def test_an_experiment_holds_one_place():
    entries = [Waiting(f"e{i}", "a", i, experiment="x1") for i in range(4)] + [Waiting("r", "a", 9.0)]
    assert run_queue.waiting_count(entries, "a") == 2 and run_queue.waiting_count(entries, "b") == 0


@pytest.mark.parametrize(("name", "value"), [("DIGIT_LAB_TRAINING_SLOTS", "0"), ("DIGIT_LAB_TRAINING_SLOTS", "two"),
                                             ("DIGIT_LAB_QUEUE_PER_PERSON", "-1")])  # fmt: skip
def test_bad_queue_settings_are_named(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(run_queue.QueueSettingError, match=rf"^{name}='{value}' is not a whole number from 1 to"):
        run_queue.training_slots() if "SLOTS" in name else run_queue.queue_per_person()


def test_default_slots_are_one_per_two_cores(monkeypatch):
    monkeypatch.delenv(run_queue.SLOTS_ENV, raising=False)
    monkeypatch.setattr(run_queue.os, "cpu_count", lambda: 16)
    assert run_queue.training_slots() == 8
    monkeypatch.setattr(run_queue.os, "cpu_count", lambda: 1)
    assert run_queue.training_slots() == 1


# --- the queue in run folders ------------------------------------------------------------------------------


def test_three_people_with_three_runs_each_start_round_robin(tmp_path, launcher):
    started = {p.name: [] for p in (ANN, BOB, CAT)}
    for person in (ANN, BOB, CAT):  # Ann queues all three first, then Bob, then Cat
        for i in range(3):
            started[person.name].append(runs.start_run(TINY, f"{person.name} {i}", tmp_path, owner=person).id)
    assert launcher.launched == [started["Ann"][0]]  # one slot: the rest wait
    while len(launcher.launched) < 9:
        finish(runs.load_run(launcher.launched[-1], tmp_path))
        runs.dispatch(tmp_path)
    owners = [runs.load_run(run_id, tmp_path).owner.label for run_id in launcher.launched]
    assert owners == ["Ann", "Bob", "Cat"] * 3
    assert launcher.launched == [started[n][i] for i in range(3) for n in ("Ann", "Bob", "Cat")]


def test_start_queues_and_the_status_says_so(tmp_path, launcher):
    first = runs.start_run(TINY, "first", tmp_path, owner=ANN)
    second = runs.start_run(TINY, "second", tmp_path, owner=BOB)
    assert first.status().state == "queued" and not first.status().is_waiting  # handed to a worker
    status = second.status()
    assert status.state == "queued" and status.is_waiting and status.handed_at is None
    assert status.message == "Waiting in the training queue…" and status.queued_at >= status.created_at
    assert [h.id for h in runs.active_runs(tmp_path, BOB)] == [second.id]


def test_a_person_over_the_queue_limit_gets_a_message_and_nothing_changes(tmp_path, launcher, monkeypatch):
    monkeypatch.setenv(run_queue.PER_PERSON_ENV, "2")
    runs.start_run(TINY, "trains", tmp_path, owner=ANN)
    runs.start_run(TINY, "waits 1", tmp_path, owner=ANN)
    runs.start_run(TINY, "waits 2", tmp_path, owner=ANN)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(runs.RunQueueFullError, match=r"^You already have 2 runs waiting in the queue, the most"):
        runs.start_run(TINY, "one too many", tmp_path, owner=ANN)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    runs.start_run(TINY, "bob is not held back", tmp_path, owner=BOB)


def test_a_waiting_run_is_cancelled_and_never_starts(tmp_path, launcher):
    first = runs.start_run(TINY, "first", tmp_path, owner=ANN)
    waiting = runs.start_run(TINY, "second", tmp_path, owner=ANN)
    waiting.stop()
    status = waiting.status()
    assert status.state == "stopped" and status.message == "Cancelled while it waited in the queue; it never started."
    finish(first)
    assert runs.dispatch(tmp_path) == [] and launcher.launched == [first.id]
    assert not (waiting.path / "stop.request").exists()


def test_the_queue_survives_a_restart(tmp_path, launcher, monkeypatch):
    """The queue is the run folders: a new server process (new handles, a new launcher) finds it whole."""
    handles = [runs.start_run(TINY, f"r{i}", tmp_path, owner=p) for i, p in enumerate((ANN, ANN, BOB))]
    later = use_launcher(monkeypatch, RecordingLauncher(slots=1))
    assert runs.dispatch(tmp_path) == []  # the first run is still training (handed out moments ago)
    finish(runs.load_run(handles[0].id, tmp_path))
    assert [h.id for h in runs.dispatch(tmp_path)] == [handles[2].id]  # Bob's first before Ann's second
    assert later.launched == [handles[2].id] and launcher.launched == [handles[0].id]


def test_a_dead_worker_frees_its_slot_and_the_next_run_starts(tmp_path, launcher):
    first = runs.start_run(TINY, "dies", tmp_path, owner=ANN)
    second = runs.start_run(TINY, "next", tmp_path, owner=BOB)
    first.files.update_status(state="running", pid=2**22 + 4321, host=heartbeat.HOST)  # a pid that is gone
    assert [h.id for h in runs.dispatch(tmp_path)] == [second.id]
    assert first.status().state == "interrupted"


def test_a_run_without_heartbeat_for_the_timeout_is_interrupted(tmp_path, launcher, monkeypatch):
    """Liveness without pids: a run on another machine whose heartbeat stopped."""
    run = runs.start_run(TINY, "remote", tmp_path, owner=ANN)
    beat = {"at": time.time() - 31, "worker": "digit-lab@other-host", "host": "other-host", "pid": 99}
    (run.path / "heartbeat.json").write_text(json.dumps(beat))
    run.files.update_status(state="running", handed_at=time.time() - 60, pid=99, host="other-host")
    assert run.status().state == "interrupted"
    monkeypatch.setenv("DIGIT_LAB_HEARTBEAT_TIMEOUT", "60")
    other = runs.start_run(TINY, "remote 2", tmp_path, owner=BOB)
    (other.path / "heartbeat.json").write_text(json.dumps(beat))
    other.files.update_status(state="running", handed_at=time.time() - 60, pid=99, host="other-host")
    assert other.status().state == "running"  # 31 s is within a 60 s timeout


# --- each person's runs are theirs ------------------------------------------------------------------------


@pytest.fixture
def anns_run(tmp_path, launcher) -> runs.RunHandle:
    handle = runs.start_run(TINY, "anns run", tmp_path, owner=ANN)
    finish(handle)
    return handle


def test_a_run_is_invisible_to_others_until_shared(tmp_path, anns_run):
    assert [h.id for h in runs.list_runs(tmp_path, ANN)] == [anns_run.id]
    assert runs.list_runs(tmp_path, BOB) == []
    with pytest.raises(runs.RunNotFoundError, match="that you can see: it may be someone else's and not shared"):
        runs.load_run(anns_run.id, tmp_path, BOB)
    runs.load_run(anns_run.id, tmp_path, ANN).share()
    assert [h.id for h in runs.list_runs(tmp_path, BOB)] == [anns_run.id]
    assert runs.load_run(anns_run.id, tmp_path, BOB).shared


@pytest.mark.parametrize("action", ["stop", "rename", "delete", "share"])
def test_others_cannot_change_a_shared_run(tmp_path, anns_run, action):
    runs.load_run(anns_run.id, tmp_path, ANN).share()
    before = {p.name: p.read_bytes() for p in anns_run.path.iterdir()}
    as_bob = runs.load_run(anns_run.id, tmp_path, BOB)
    call = {"rename": lambda: as_bob.rename("mine now"), "share": lambda: as_bob.share(False)}.get(
        action, getattr(as_bob, action)
    )
    with pytest.raises(
        runs.RunPermissionError, match=rf"^Run 'anns run' is Ann's: only its owner or a teacher can {action}"
    ):
        call()
    assert {p.name: p.read_bytes() for p in anns_run.path.iterdir()} == before


def test_a_teacher_sees_and_manages_every_run(tmp_path, anns_run):
    as_teacher = runs.load_run(anns_run.id, tmp_path, TEACHER)
    assert [h.id for h in runs.list_runs(tmp_path, TEACHER)] == [anns_run.id]
    as_teacher.rename("checked by tess")
    assert runs.load_run(anns_run.id, tmp_path, ANN).name == "checked by tess"
    as_teacher.delete()
    assert runs.list_runs(tmp_path) == []


def test_a_tampered_owner_makes_the_run_the_teachers_only(tmp_path, anns_run):
    meta = json.loads((anns_run.path / "config.json").read_text())
    for tampered in (["https://idp|ann"], {"id": 7}, {"id": ""}, "ann", {"id": "x" * 301}):
        (anns_run.path / "config.json").write_text(json.dumps({**meta, "owner": tampered, "shared": True}))
        assert runs.list_runs(tmp_path, ANN) == [] and runs.list_runs(tmp_path, BOB) == []
        assert not runs.load_run(anns_run.id, tmp_path).owner.valid
        assert [h.id for h in runs.list_runs(tmp_path, TEACHER)] == [anns_run.id]


def test_without_sign_in_everything_is_as_before(tmp_path, launcher):
    handle = runs.start_run(TINY, "mine", tmp_path)
    assert "owner" not in json.loads((handle.path / "config.json").read_text())
    finish(handle)
    handle.rename("still mine")
    handle.share()
    assert [h.name for h in runs.list_runs(tmp_path)] == ["still mine"]


# --- who is who --------------------------------------------------------------------------------------------


def test_people_come_from_the_providers_claims(monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_TEACHERS", "Tess@School.example, other@x.example;bad-address")
    assert teacher_emails() == {"tess@school.example", "other@x.example"}
    tess = person_from_claims({"sub": "42", "iss": "https://idp", "email": "TESS@school.example", "name": "Tess"})
    assert tess == Person("https://idp|42", "tess@school.example", "Tess", is_teacher=True)
    unverified = person_from_claims({"sub": "43", "iss": "https://idp", "email": "tess@school.example",
                                     "email_verified": False})  # fmt: skip
    assert not unverified.is_teacher
    with pytest.raises(ValueError, match="sent no subject"):
        person_from_claims({"email": "x@y.z"})
    assert len(tess.folder_name) == 24 and "/" not in tess.folder_name


def test_run_ids_of_the_queue_are_never_paths(tmp_path, launcher):
    with pytest.raises(runs.RunNotFoundError):
        runs.load_run("../" + Path(tmp_path).name, tmp_path, ANN)


def test_the_cli_says_where_a_waiting_run_stands(tmp_path, launcher):
    from mnist_core.cli import _bar

    runs.start_run(TINY, "first", tmp_path, owner=ANN)
    waiting = runs.start_run(TINY, "second", tmp_path, owner=BOB)
    assert _bar(waiting).startswith("waiting in the training queue: 1 of 1, starts in about 60s (1 training now)")
