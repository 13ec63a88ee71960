"""Two Digit Lab replicas behind a real nginx, as docs/DEPLOY.md deploys them: two `streamlit run app.py` servers
on one runs folder and one Redis, a real Celery worker training, and nginx (Debian's) in front with the sticky
sessions of docs/nginx-replicas.conf. Two Chromium contexts go through the proxy, each pinned to its replica by
the sticky cookie: a run started through replica 1 is followed live and stopped through replica 2, Draw answers
on both, and nginx's own log shows which replica served every request of each browser."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
from browser_utils import ROOT, VIEWPORT, canvas_box, chromium_path, draw_strokes, open_page, streamlit_server
from pool_utils import PoolWorker, RedisServer, free_port, wait_for, worker_env

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")  # Debian's, off a user's PATH
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None, reason="no system Chromium (chromium) on PATH"),
    pytest.mark.skipif(NGINX is None, reason="no nginx (scripts/setup-tests.sh installs it)"),
]
playwright_api = pytest.importorskip("playwright.sync_api")

NGINX_SITE = ROOT / "docs" / "nginx-replicas.conf"  # the config DEPLOY.md documents, run as it is
COOKIE = "digit_lab_replica"
LOG_LINE = re.compile(
    r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) replica=(?P<replica>\S+) sticky=(?P<key>\S+)'
)
RUN_URL = "train?hidden_units=32&epochs=50&batch_size=16&min_steps=0"  # the form's most epochs: stopped long before
NGINX_MAIN = """daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
    access_log {tmp}/access.log digit_lab;
}}
"""


class Nginx:
    """nginx in the foreground as the current user, its config, pid, logs and temp files all in `folder`."""

    def __init__(self, folder: Path, replicas: list[str]):
        self.folder, self.port, self.replicas, self.process = folder, free_port(), replicas, None
        self.url = f"http://localhost:{self.port}"

    def start(self) -> Nginx:
        site = NGINX_SITE.read_text().replace("@LISTEN@", f"127.0.0.1:{self.port}")
        for number, address in enumerate(self.replicas, start=1):
            site = site.replace(f"@REPLICA_{number}@", address)
        (self.folder / "site.conf").write_text(site)
        (self.folder / "nginx.conf").write_text(NGINX_MAIN.format(tmp=self.folder))
        args = [NGINX, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"), "-e", "error.log"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: self.replica_of(None) is not None, 20, f"nginx answering ({self.error_log()})", every=0.1)
        return self

    def replica_of(self, key: str | None) -> str | None:
        """The replica that answers a request carrying sticky id `key` (no cookie: None), by its header."""
        request = urllib.request.Request(
            f"{self.url}/_stcore/health", headers={"Cookie": f"{COOKIE}={key}"} if key else {}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.headers["X-Digit-Lab-Replica"]
        except OSError:
            return None

    def key_for(self, replica: str) -> str:
        """A sticky id that nginx's consistent hash sends to `replica` (what a browser's cookie would hold)."""
        return next(f"class-{n}" for n in range(200) if self.replica_of(f"class-{n}") == replica)

    def served(self) -> list[dict[str, str]]:
        lines = (self.folder / "access.log").read_text().splitlines() if (self.folder / "access.log").is_file() else []
        return [match.groupdict() for match in map(LOG_LINE.search, lines) if match]

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text()[-2000:] if path.is_file() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture  # a rerun starts everything afresh: no run left training from the first try
def replicas(tmp_path_factory):
    """Redis, one Celery worker, two Streamlit replicas on one runs folder, nginx in front; yields them."""
    tmp = tmp_path_factory.mktemp("replicas")
    root = tmp / "runs"
    root.mkdir()
    redis = RedisServer(tmp).start()
    env = worker_env(redis.url, root)  # replicas and worker alike: the broker, the runs folder, embedded digits
    worker = PoolWorker("w1", env, tmp)
    with contextlib.ExitStack() as stack:
        stack.callback(redis.kill)
        stack.callback(worker.kill)  # nothing of the run is needed after the test: no warm shutdown
        worker.start()
        urls = [
            stack.enter_context(
                streamlit_server(root, env=env, log=tmp / f"replica{n}.log", args=["--server.address", "127.0.0.1"])
            )
            for n in (1, 2)
        ]
        addresses = [f"127.0.0.1:{url.rsplit(':', 1)[1]}" for url in urls]
        nginx = Nginx(tmp, addresses).start()
        stack.callback(nginx.stop)
        yield nginx, root


def sticky_context(browser, nginx: Nginx, replica: str):
    """A browser context whose sticky cookie sends it to `replica` (as if nginx had handed it out there)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_cookies([{"name": COOKIE, "value": nginx.key_for(replica), "url": nginx.url}])
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def live_counts(page) -> tuple[int, int]:
    """(epoch shown on the progress bar, epochs done in the caption) of the live run panel."""
    bar = page.get_by_test_id("stProgress").first.inner_text()
    caption = page.get_by_text(re.compile(r"\d+ epochs done")).first.inner_text()
    return int(re.search(r"Epoch (\d+)/", bar).group(1)), int(re.search(r"(\d+) epochs done", caption).group(1))


def draws_a_five(page, url: str) -> str:
    from digit_drawings import template_strokes

    open_page(page, url, "draw")
    draw_strokes(page, template_strokes("5", 150, (130, 150)), canvas_box(page))
    page.locator(".dl-answer").wait_for(timeout=60_000)
    return page.locator(".dl-answer").inner_text()


def test_a_run_started_on_one_replica_is_followed_live_and_stopped_on_the_other(replicas, browser):
    from mnist_core import runs

    nginx, root = replicas
    first, second = nginx.replicas
    with urllib.request.urlopen(f"{nginx.url}/_stcore/health", timeout=5) as new_browser:  # no cookie yet:
        handed = re.search(rf"{COOKIE}=([^;]+)", str(new_browser.headers)).group(1)  # nginx hands one out
        assert {nginx.replica_of(handed) for _ in range(5)} == {new_browser.headers["X-Digit-Lab-Replica"]}

    starter_context, starter = sticky_context(browser, nginx, first)
    watcher_context, watcher = sticky_context(browser, nginx, second)
    try:
        open_page(starter, nginx.url, RUN_URL)
        starter.get_by_text(re.compile(r"Start trains:.*batch 16 · 50 epochs")).wait_for()
        starter.get_by_test_id("stTextInput").filter(has_text="Run name").locator("input").fill("through replica 1")
        starter.get_by_role("button", name="Start training").click()
        starter.get_by_text("through replica 1").first.wait_for()

        response = watcher.goto(f"{nginx.url}/train", wait_until="domcontentloaded")
        assert response.headers["x-digit-lab-replica"] == second
        watcher.get_by_text(re.compile(r"Epoch \d+/50")).first.wait_for(timeout=60_000)
        watcher.evaluate("() => { window.digitLabNoReload = true; }")
        epoch, done = live_counts(watcher)
        watcher.wait_for_function(
            f"() => (document.body.innerText.match(/(\\d+) epochs done/) || [0, -1])[1] >= {done + 2}",
            timeout=60_000,
        )
        later_epoch, later_done = live_counts(watcher)
        assert later_epoch > epoch and later_done >= done + 2
        assert watcher.evaluate("() => window.digitLabNoReload === true")  # live updates, the same page

        watcher.locator(".st-key-train_stop button").click()  # Stop from the replica that did not start it
        watcher.get_by_text("Stopped on request").wait_for(timeout=60_000)
        assert draws_a_five(watcher, nginx.url) == "5"  # Draw answers through replica 2
        assert draws_a_five(starter, nginx.url) == "5"  # and through replica 1
    finally:
        starter_context.close()
        watcher_context.close()

    (handle,) = runs.list_runs(root)
    status = handle.status()
    assert (handle.name, status.state, status.worker) == ("through replica 1", "stopped", "w1")  # trained by Celery
    assert 2 <= status.epoch < 50

    def websockets_logged():  # nginx logs a WebSocket when it closes
        streams = [r for r in nginx.served() if r["path"] == "/_stcore/stream" and r["status"] == "101"]
        return len({r["key"] for r in streams}) >= 2 and streams

    wait_for(websockets_logged, 15, f"both sessions' WebSockets in nginx's log\n{nginx.error_log()}")
    for replica in (first, second):
        key = nginx.key_for(replica)
        served = [r for r in nginx.served() if r["key"] == key]
        assert {r["replica"] for r in served} == {replica}  # every request of that browser, one replica
        assert {"/_stcore/stream", "/train", "/draw"} <= {r["path"].split("?")[0] for r in served}
