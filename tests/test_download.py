"""Full MNIST downloads (mnist_core.data.download), served by a real HTTP server on 127.0.0.1, never the internet.

The served mnist.npz holds the same arrays as Keras' file, built here from the team's IDX files.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app_security.text import escape_markdown
from mnist_core.data import download, load_mnist
from mnist_core.data.download import DownloadError, download_mnist

ROOT = Path(__file__).resolve().parent.parent
NOTHING_SAVED = (
    "Nothing was saved and the embedded sample still works. Try again when online, set DIGIT_LAB_MNIST_URL to a "
    "mirror of mnist.npz you can reach, or set MNIST_DATA_DIR to a folder holding the MNIST files."
)


# ---------------------------------------------------------------- a local server
class Handler(http.server.BaseHTTPRequestHandler):
    """GET /mnist.npz (whole), /cut.npz (says its full size, sends half), /other.npz, /slow.npz (late), else 404."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/slow.npz":
            time.sleep(1.5)  # longer than the test's timeout; the client is gone by then
            return
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        sent = body[: len(body) // 2] if self.path == "/cut.npz" else body
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(sent)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def mnist_npz(mnist_dir, tmp_path_factory) -> bytes:
    """mnist.npz as Keras ships it (uint8 arrays, compressed), from the IDX files."""
    data = load_mnist(mnist_dir)
    path = tmp_path_factory.mktemp("served") / "mnist.npz"
    arrays = {k: getattr(data, k).astype(np.uint8) for k in ("x_train", "y_train", "x_test", "y_test")}
    np.savez_compressed(path, **arrays)
    return path.read_bytes()


@pytest.fixture(scope="session")
def server(mnist_npz):
    """http://127.0.0.1:PORT serving mnist.npz, a cut-off copy and another file."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.files = {"/mnist.npz": mnist_npz, "/cut.npz": mnist_npz, "/other.npz": b"not mnist " * 1000}
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def keras_home(tmp_path, monkeypatch, mnist_npz) -> Path:
    """An empty Keras home, no MNIST_DATA_DIR, and the served file's hash as the one expected."""
    home = tmp_path / "keras-home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.delenv(download.URL_ENV, raising=False)
    monkeypatch.setenv(download.SHA256_ENV, hashlib.sha256(mnist_npz).hexdigest())
    return home


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- the engine
def test_keras_source_and_hash_are_the_ones_keras_uses():
    source = (Path(np.__file__).parents[1] / "keras" / "src" / "datasets" / "mnist.py").read_text()
    assert download.KERAS_SHA256 in source
    assert download.KERAS_URL.rsplit("/", 1)[0] + "/" in source


def test_download_puts_full_mnist_in_the_keras_cache_and_load_mnist_uses_it(server, keras_home, mnist_npz):
    assert load_mnist().is_embedded
    seen = []
    result = download_mnist(url=f"{server}/mnist.npz", progress=lambda done, total: seen.append((done, total)))
    target = keras_home / "datasets" / "mnist.npz"
    assert result.path == target and result.downloaded
    assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(mnist_npz).hexdigest()
    assert (result.n_train, result.n_test, result.size) == (60_000, 10_000, len(mnist_npz))
    assert seen[-1] == (len(mnist_npz), len(mnist_npz))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert sorted(p.name for p in target.parent.iterdir()) == ["mnist.npz"]  # no temp file
    data = load_mnist()  # no restart: the next call finds the cache
    assert (len(data.y_train), len(data.y_test), data.kind) == (60_000, 10_000, "full")
    assert "(Keras cache)" in data.source
    again = download_mnist(url=f"{server}/nowhere.npz")  # the right file is there: nothing is fetched
    assert not again.downloaded and again.n_train == 60_000


def _refused() -> str:
    return f"http://127.0.0.1:{free_port()}/mnist.npz"


FAILURES = [  # (case, url path or a callable giving the url, keyword arguments, expected message)
    ("http-404", "/missing.npz", {}, "{url} answered HTTP 404 Not Found. " + NOTHING_SAVED),
    (
        "connection-refused",
        _refused,
        {},
        "{host} refused the connection (nothing is serving there, or you are offline). " + NOTHING_SAVED,
    ),
    (
        "offline",  # .invalid never resolves (RFC 2606): what a machine without a network sees
        "http://mnist.invalid/mnist.npz",
        {},
        "Could not find mnist.invalid (no network, or a wrong address). " + NOTHING_SAVED,
    ),
    (
        "timeout",
        "/slow.npz",
        {"timeout": 0.5},
        "{host} did not answer within 0.5 s (a slow or broken connection). " + NOTHING_SAVED,
    ),
    ("truncated", "/cut.npz", {}, "The download from {url} stopped after {half:,} of {size:,} bytes. " + NOTHING_SAVED),
    (
        "wrong-checksum",
        "/other.npz",
        {},
        "The file from {url} is damaged or is not MNIST: its SHA-256 is {other_hash}, expected {hash}. "
        + NOTHING_SAVED,
    ),
    (
        "too-large",
        "/mnist.npz",
        {"max_bytes": 1_000_000},
        "{url} offers {size:,} bytes; MNIST is 11 MB, so this is not it. " + NOTHING_SAVED,
    ),
    (
        "not-http",
        "file:///etc/passwd",
        {},
        "'file:///etc/passwd' is not an http(s) address. Set DIGIT_LAB_MNIST_URL to the address of an mnist.npz.",
    ),
]


@pytest.mark.parametrize(("case", "where", "kwargs", "expected"), FAILURES, ids=[f[0] for f in FAILURES])
def test_a_failed_download_says_why_and_leaves_nothing(server, keras_home, mnist_npz, case, where, kwargs, expected):
    url = where() if callable(where) else where if "://" in where else server + where
    with pytest.raises(DownloadError) as caught:
        download_mnist(url=url, **kwargs)
    size, other = len(mnist_npz), b"not mnist " * 1000
    assert str(caught.value) == expected.format(
        url=url,
        host=url.split("/")[2],
        half=size // 2,
        size=size,
        hash=hashlib.sha256(mnist_npz).hexdigest(),
        other_hash=hashlib.sha256(other).hexdigest(),
    )
    assert list(keras_home.rglob("*")) == []  # not the file, not a temp file, not even the folder
    assert load_mnist().is_embedded


def test_a_disk_error_says_which_file_and_leaves_the_old_one(server, keras_home, monkeypatch):
    old = keras_home / "datasets" / "mnist.npz"
    old.parent.mkdir()
    old.write_bytes(b"an older file")
    monkeypatch.setenv("KERAS_HOME", str(old))  # a file where a folder must be
    with pytest.raises(DownloadError) as caught:
        download_mnist(url=f"{server}/mnist.npz")
    assert str(caught.value) == (
        f"Could not write {old}/datasets/mnist.npz: Not a directory. Check that the folder is writable, "
        f"or set KERAS_HOME to one. {NOTHING_SAVED}"
    )
    assert old.read_bytes() == b"an older file" and sorted(old.parent.iterdir()) == [old]


def test_a_failed_forced_download_keeps_the_good_file(server, keras_home, mnist_npz):
    download_mnist(url=f"{server}/mnist.npz")
    with pytest.raises(DownloadError, match="stopped after"):
        download_mnist(url=f"{server}/cut.npz", force=True)
    target = keras_home / "datasets" / "mnist.npz"
    assert target.read_bytes() == mnist_npz and sorted(target.parent.iterdir()) == [target]
    assert load_mnist().kind == "full"


# ---------------------------------------------------------------- the CLI
def cli(args: list[str], keras_home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MNIST_DATA_DIR"}
    env.update(PYTHONPATH=str(ROOT), KERAS_HOME=str(keras_home))
    return subprocess.run(
        [sys.executable, "-m", "mnist_core", "download", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_download_shows_progress_and_where_the_file_went(server, keras_home, mnist_npz):
    result = cli(["--url", f"{server}/mnist.npz"], keras_home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("[...") and lines[-2].startswith("[" + "#" * 30 + "]")  # a line per 10% in a log
    assert lines[-1] == (
        f"Full MNIST saved to {keras_home}/datasets/mnist.npz ({len(mnist_npz):,} bytes, SHA-256 checked): "
        "60,000 training and 10,000 test digits."
    )


def test_cli_download_failure_exits_non_zero_with_the_message(server, keras_home):
    result = cli(["--url", f"{server}/missing.npz"], keras_home)
    assert result.returncode == 1
    assert result.stderr == f"error: {server}/missing.npz answered HTTP 404 Not Found. {NOTHING_SAVED}\n"
    assert list(keras_home.rglob("*")) == []


# ---------------------------------------------------------------- the Home page
def open_home(monkeypatch, tmp_path) -> AppTest:
    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(tmp_path / "runs"))
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_home_button_downloads_full_mnist_and_every_page_uses_it(server, keras_home, monkeypatch, tmp_path):
    monkeypatch.setenv(download.URL_ENV, f"{server}/mnist.npz")
    at = open_home(monkeypatch, tmp_path)
    assert "embedded sample" in at.warning[0].value
    at.button(key="home_get_mnist").click().run()
    assert not at.exception, at.exception
    assert not at.warning and not at.get("button")  # the banner and the button are gone
    assert (
        escape_markdown("60,000 train") in at.success[0].value
        and escape_markdown("(Keras cache)") in at.success[0].value
    )
    assert "Full MNIST downloaded" in at.success[1].value
    assert load_mnist().kind == "full"


def test_home_button_shows_why_a_download_failed(server, keras_home, monkeypatch, tmp_path):
    monkeypatch.setenv(download.URL_ENV, f"{server}/missing.npz")
    at = open_home(monkeypatch, tmp_path)
    at.button(key="home_get_mnist").click().run()
    assert not at.exception, at.exception
    assert at.error[0].value == escape_markdown(f"{server}/missing.npz answered HTTP 404 Not Found. {NOTHING_SAVED}")
    assert "embedded sample" in at.warning[0].value and list(keras_home.rglob("*")) == []


def test_download_imports_no_tensorflow_keras_or_streamlit():
    code = "import sys, mnist_core.cli.download; print(sorted({'tensorflow', 'keras', 'streamlit'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_cli_help_lists_download():
    result = subprocess.run([sys.executable, "-m", "mnist_core", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert "download            download full MNIST (11 MB)" in result.stdout
