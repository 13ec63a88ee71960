"""The training queue on a real Celery pool (issue 16): a real redis-server and two real workers, started here
as processes of their own that share one runs folder. Each run's child imports TensorFlow (seconds on a
loaded machine), so the scenarios are few and each checks several things a user would notice."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from pool_utils import HEARTBEAT_TIMEOUT_S, REPO, PoolWorker, RedisServer, wait_for, worker_env

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.people import Person
from mnist_core.runs.files import CLAIM

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TINY = TrainingConfig(hidden_units=(8,), epochs=1, train_limit=200, batch_size=50)
LONG = TrainingConfig(hidden_units=(8,), epochs=200, train_limit=200, batch_size=50)  # stopped or killed
RUN_S = 240  # generous: a run's child imports TensorFlow, on a machine other people load too
WORKERS = ("w1", "w2")


class Pool:
    def __init__(self, tmp, redis: RedisServer):
        self.root, self.redis = tmp / "runs", redis
        self.root.mkdir()
        env = worker_env(redis.url, self.root)
        self.workers = {name: PoolWorker(name, env, tmp) for name in WORKERS}

    def logs(self) -> str:
        return "\n".join(f"--- {w.name}\n{w.log()[-4000:]}" for w in self.workers.values())


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pool")
    redis = RedisServer(tmp).start()
    pool = Pool(tmp, redis)
    try:
        for worker in pool.workers.values():
            worker.start()
        yield pool
    finally:
        for worker in pool.workers.values():
            worker.stop()
        redis.kill()


@pytest.fixture(autouse=True)
def broker_mode(pool, monkeypatch):
    """This process queues through the pool, as the app does with $DIGIT_LAB_BROKER set."""
    monkeypatch.setenv("DIGIT_LAB_BROKER", pool.redis.url)
    monkeypatch.setenv("DIGIT_LAB_HEARTBEAT_TIMEOUT", str(HEARTBEAT_TIMEOUT_S))
    monkeypatch.delenv("DIGIT_LAB_QUEUE_PER_PERSON", raising=False)


def person(name: str) -> Person:
    return Person(f"https://idp|{name}", f"{name}@school.example", name.title())


def finished(handles: list[runs.RunHandle], pool: Pool) -> list:
    statuses = [wait_for(lambda h=h: h.status().is_finished and h.status(), RUN_S, f"{h.id} ends\n{pool.logs()}")
                for h in handles]  # fmt: skip
    return statuses


def trained_once(handle: runs.RunHandle, status) -> None:
    """Completed by the worker its status names, with the metrics of exactly one training (its batch steps
    never start over, one epoch row)."""
    assert status.state == "completed", status.message
    assert status.worker in WORKERS and (handle.path / CLAIM).read_text() == status.worker
    metrics = handle.metrics()
    steps = [row["step"] for row in metrics.batches]
    assert len(metrics.epochs) == 1 and steps and steps == sorted(set(steps)), steps


def cli_train(pool: Pool, name: str) -> subprocess.Popen:
    args = ["train", "--preset", "seed001", "--name", name, "--hidden-units", "8", "--epochs", "1", "--min-steps", "0"]
    args += ["--train-limit", "200", "--batch-size", "50"]
    env = worker_env(pool.redis.url, pool.root)
    return subprocess.Popen(
        [sys.executable, "-m", "mnist_core", *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def most_at_once(statuses) -> int:
    spans = [(s.started_at, s.ended_at) for s in statuses]
    return max(sum(1 for a, b in spans if a <= start < b) for start, _ in spans)


def test_six_runs_of_three_people_two_at_a_time_fair_each_once_through_a_redis_restart(pool):
    ann, bob, cat = person("ann"), person("bob"), person("cat")
    plan = [ann, ann, ann, bob, bob, cat]
    handles = [runs.start_run(TINY, name=f"{p.name} {i}", runs_dir_path=pool.root, owner=p) for i, p in enumerate(plan)]
    wait_for(lambda: all((h.path / CLAIM).exists() for h in handles[:2]), RUN_S, f"two runs start\n{pool.logs()}")
    assert all(h.status().is_waiting for h in handles[2:]), "two workers of concurrency 1: the other four wait"
    pool.redis.kill()  # it keeps nothing on disk: the queue lives in the run folders
    time.sleep(3)  # the workers and the queue's hand-outs find no broker
    assert all(h.status().is_active for h in handles), "nothing is lost while the broker is down"
    pool.redis.start()
    statuses = finished(handles, pool)
    for handle, status in zip(handles, statuses, strict=True):
        trained_once(handle, status)
    handed = [h.name for h, s in sorted(zip(handles, statuses, strict=True), key=lambda hs: hs[1].handed_at)]
    # Ann's first two take the two free slots; then round-robin: Bob, Cat (never served), Ann, Bob.
    assert handed == ["Ann 0", "Ann 1", "Bob 3", "Cat 5", "Ann 2", "Bob 4"]
    assert most_at_once(statuses) == 2, "two workers of concurrency 1 train two runs at once, never more"
    assert {s.worker for s in statuses} == set(WORKERS), "both workers trained"


def test_stop_a_running_and_a_waiting_run_a_killed_worker_s_run_is_interrupted_and_the_cli_waits(pool, request):
    fay, gus = person("fay"), person("gus")
    long_runs = [runs.start_run(LONG, name=f"long {p.name}", runs_dir_path=pool.root, owner=p) for p in (fay, gus)]
    cli = cli_train(pool, "next")  # the CLI queues through the pool and waits, printing its usual lines
    request.addfinalizer(lambda: cli.poll() is None and cli.kill())
    next_run = wait_for(lambda: next((h for h in runs.list_runs(pool.root) if h.name == "next"), None), 60, "CLI run")
    cancelled = runs.start_run(TINY, name="cancelled", runs_dir_path=pool.root, owner=gus)
    cancelled.stop()
    assert cancelled.status().state == "stopped" and "never started" in cancelled.status().message
    wait_for(lambda: all(h.metrics().batches for h in long_runs), RUN_S, f"both long runs train\n{pool.logs()}")
    victim = next(h for h in long_runs if h.status().worker == "w1")
    survivor = next(h for h in long_runs if h.status().worker == "w2")
    killed_at = time.monotonic()
    pool.workers["w1"].kill()
    wait_for(lambda: victim.status().state == "interrupted", HEARTBEAT_TIMEOUT_S + 10, "the killed worker's run ends")
    assert time.monotonic() - killed_at <= HEARTBEAT_TIMEOUT_S + 10
    assert victim.status().message.startswith("Worker w1 stopped answering (no heartbeat for ")  # named as such
    survivor.stop()
    status = wait_for(lambda: survivor.status().is_finished and survivor.status(), RUN_S, "the stopped run ends")
    assert status.state == "stopped" and "Stopped on request" in status.message
    (done,) = finished([next_run], pool)
    trained_once(next_run, done)
    assert done.worker == "w2", "the other worker goes on with the queue"
    out, err = cli.communicate(timeout=RUN_S)
    assert cli.returncode == 0, err
    assert f"Run {next_run.id} queued" in out and "completed: Completed 1 epoch" in out and "epoch 1/1" in out, out
    assert not (cancelled.path / CLAIM).exists() and not cancelled.metrics().batches, "a cancelled run never starts"
