"""The Celery pool's launcher without training (issue 16): capacity from worker registrations, what each worker
trains, and clear messages when the broker is missing, unreachable or not an address. A real redis-server
where a broker must answer; test_celery_pool.py trains on real workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from pool_utils import REPO, RedisServer, free_port
from queue_utils import RecordingLauncher, use_launcher

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.workers import celery_launcher, worker
from mnist_core.workers.celery_launcher import CeleryLauncher, live_workers, pool_status, register, safe_url

TINY = TrainingConfig(hidden_units=(8,), epochs=1, train_limit=200, batch_size=50)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.kill()


def down_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


def unreachable_message(url: str) -> str:
    return f"Cannot reach the training queue's broker at {url}: "


def write_registration(root, worker: str, concurrency: int, age_s: float = 0.0, **changes) -> None:
    register(root, worker, concurrency, started_at=time.time() - 60)
    path = root / ".workers" / f"{worker}.json"
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "at": record["at"] - age_s, **changes}))


def test_capacity_is_the_concurrency_of_the_live_workers(tmp_path, redis_url, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HEARTBEAT_TIMEOUT", "30")
    write_registration(tmp_path, "w1", 1)
    write_registration(tmp_path, "w2", 2, age_s=10)
    write_registration(tmp_path, "gone", 4, age_s=31)  # its machine died half a minute ago
    write_registration(tmp_path, "liar", 8, name="someone-else")  # a file that names another worker
    (tmp_path / ".workers" / "broken.json").write_text("{not json")
    assert [w.name for w in live_workers(tmp_path)] == ["w1", "w2"]
    assert CeleryLauncher(redis_url).capacity(tmp_path) == 3
    celery_launcher.unregister(tmp_path, "w2")  # a warm shutdown removes its file at once
    assert CeleryLauncher(redis_url).capacity(tmp_path) == 1


def test_no_workers_no_capacity_and_runs_wait(tmp_path, redis_url, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_BROKER", redis_url)
    handle = runs.start_run(TINY, runs_dir_path=tmp_path)
    assert handle.status().is_waiting and celery_launcher.pool_status(tmp_path) == []


def test_pool_status_names_what_each_worker_trains(tmp_path):
    write_registration(tmp_path, "w1", 2)
    write_registration(tmp_path, "w2", 1)
    launcher = RecordingLauncher(slots=3)
    with pytest.MonkeyPatch.context() as patch:
        use_launcher(patch, launcher)
        handles = [runs.start_run(TINY, name=f"r{i}", runs_dir_path=tmp_path) for i in range(3)]
    for handle, name in zip(handles, ("w1", "w1", "w2"), strict=True):
        handle.files.update_status(state="running", worker=name, started_at=time.time())
    handles[1].files.update_status(state="completed")
    (w1, w2) = pool_status(tmp_path)
    assert (w1.name, w1.training, w1.free) == ("w1", (handles[0].id,), 1)
    assert (w2.name, w2.training, w2.free, w2.concurrency) == ("w2", (handles[2].id,), 0, 1)


def test_a_broker_that_is_down_is_a_clear_error_and_start_run_leaves_nothing(tmp_path, monkeypatch):
    url = down_url()
    monkeypatch.setenv("DIGIT_LAB_BROKER", url)
    with pytest.raises(runs.RunError) as error:
        runs.start_run(TINY, runs_dir_path=tmp_path)
    assert str(error.value).startswith(unreachable_message(url))
    assert str(error.value).endswith("; start Redis or unset DIGIT_LAB_BROKER")
    assert runs.list_runs(tmp_path) == [], "no run is left behind to count against the person's queue"
    with pytest.raises(celery_launcher.BrokerUnreachableError, match="Cannot reach the training queue's broker"):
        CeleryLauncher(url).launch(runs.RunHandle(tmp_path / "x").files)


@pytest.mark.parametrize(
    ("broker", "message"),
    [
        ("http://queue.example:6379", "DIGIT_LAB_BROKER='http://queue.example:6379' is not a broker address"),
        ("localhost:6379", "use redis://HOST:PORT/DB"),
    ],
)
def test_a_broker_setting_that_is_not_an_address_is_named(tmp_path, monkeypatch, broker, message):
    monkeypatch.setenv("DIGIT_LAB_BROKER", broker)
    with pytest.raises(runs.RunError, match=message):
        runs.start_run(TINY, runs_dir_path=tmp_path)


def test_messages_never_show_the_broker_password():
    assert safe_url("redis://:s3cret@queue:6379/0") == "redis://:**@queue:6379/0"
    assert safe_url("amqp://digit:s3cret@mq//") == "amqp://digit:**@mq//"
    assert "s3cret" not in str(celery_launcher.unreachable("redis://:s3cret@q:1/0", OSError("refused")))


def cli(args: list[str], env_changes: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIT_LAB_")}
    env.update(PYTHONPATH=str(REPO), DIGIT_LAB_RUNS_DIR=str(tmp_path / "runs"), **env_changes)
    command = [sys.executable, "-m", "mnist_core", *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_the_cli_says_what_is_wrong_with_the_broker(tmp_path):
    url = down_url()
    train = cli(["train", "--epochs", "1", "--train-limit", "200"], {"DIGIT_LAB_BROKER": url}, tmp_path)
    assert train.returncode == 2 and train.stderr.startswith(f"error: {unreachable_message(url)}"), train.stderr
    assert "start Redis or unset DIGIT_LAB_BROKER" in train.stderr and not list((tmp_path / "runs").iterdir())
    down = cli(["worker", "--name", "w1"], {"DIGIT_LAB_BROKER": url}, tmp_path)
    assert down.returncode == 2 and unreachable_message(url) in down.stderr
    unset = cli(["worker"], {}, tmp_path)
    assert unset.returncode == 2 and "DIGIT_LAB_BROKER is not set: set it to the broker the app uses" in unset.stderr


def test_bad_worker_options_are_named(tmp_path):
    from mnist_core.workers.celery_worker import WorkerSettings

    with pytest.raises(ValueError, match="--name 'a/b' is not a worker name"):
        WorkerSettings("redis://h:1/0", tmp_path, "a/b", 1)
    with pytest.raises(ValueError, match="--concurrency 0 is out of range"):
        WorkerSettings("redis://h:1/0", tmp_path, "w1", 0)


def test_a_task_for_a_folder_that_is_not_a_run_here_does_nothing(tmp_path, capsys):
    from mnist_core.workers.celery_worker import WorkerSettings, serve_run

    settings = WorkerSettings("redis://h:1/0", tmp_path, "w1", 1)
    (tmp_path.parent / "elsewhere").mkdir(exist_ok=True)
    for path in ("/etc", str(tmp_path.parent / "elsewhere"), str(tmp_path / ".workers"), "../../x"):
        assert serve_run(settings, path) is None
    assert "is not a run in" in capsys.readouterr().out


def test_a_run_stopped_after_its_hand_out_never_trains(tmp_path, monkeypatch):
    launcher = use_launcher(monkeypatch, RecordingLauncher(slots=1))
    handle = runs.start_run(TINY, runs_dir_path=tmp_path)
    assert launcher.launched == [handle.id] and not handle.status().is_waiting
    handle.stop()  # handed out, not started yet: a stop request
    assert worker.serve(handle.path, "w1") == "stopped"
    status = handle.status()
    assert (status.state, status.worker) == ("stopped", "w1")
    assert status.message == "Stopped before it started training; nothing was trained."
    assert not handle.metrics().batches
