"""The Host check (issue 13, item 5): a DNS-rebinding page's requests are refused, local ones answered."""

from __future__ import annotations

import asyncio
import http.client
import socket
import time
import tomllib
from pathlib import Path

import pytest

from app_security.host_check import LOCAL_HOSTS, host_allowed

ROOT = Path(__file__).resolve().parent.parent
EVIL = "rebind.evil.example"
LOCAL = list(LOCAL_HOSTS)


@pytest.mark.parametrize(
    ("host", "allowed", "answered"),
    [
        ("localhost:8501", LOCAL, True),
        ("localhost", LOCAL, True),
        ("LocalHost.:8501", LOCAL, True),
        ("127.0.0.1:9", LOCAL, True),
        ("[::1]:8501", LOCAL, True),
        (f"{EVIL}:8501", LOCAL, False),
        (EVIL, LOCAL, False),
        ("localhost.evil.example", LOCAL, False),
        ("evil.example@localhost", LOCAL, False),
        ("localhost:99999", LOCAL, False),
        ("localhost:80/x", LOCAL, False),
        ("127.0.0.2", LOCAL, False),
        ("", LOCAL, False),
        (None, LOCAL, False),
        ("lab.school.lan:8501", [*LOCAL, "lab.school.lan"], True),
        ("pc7.school.lan", [*LOCAL, "*.school.lan"], True),
        ("school.lan.evil.example", [*LOCAL, "*.school.lan"], False),
        (EVIL, ["*"], True),  # the opt-out
    ],
)
def test_host_names_answered(host: str | None, allowed: list[str], answered: bool) -> None:
    assert host_allowed(host, allowed) is answered


def test_config_toml_allows_only_the_local_names() -> None:
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["allowedHosts"] == LOCAL


# ---------------------------------------------------------------- a real server, raw requests
def status(port: int, path: str, host: str) -> int:
    conn = http.client.HTTPConnection("localhost", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host})
        return conn.getresponse().status
    finally:
        conn.close()


def upgrade_status(port: int, host: str) -> int:
    """The status line's code for a WebSocket upgrade of /_stcore/stream with this Host and Origin."""
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: streamlit\r\nOrigin: http://{host}\r\n\r\n"
    )
    with socket.create_connection(("localhost", port), timeout=10) as sock:
        sock.sendall(request.encode())
        return int(sock.recv(200).split(b" ")[1])


def start_a_session(port: int) -> None:
    """What a browser does on opening the app: a WebSocket and a rerun request (this runs app.py)."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    async def go() -> None:
        url = f"ws://localhost:{port}/_stcore/stream"
        async with websockets.connect(url, subprotocols=["streamlit"], open_timeout=10) as ws:
            message = BackMsg()
            message.rerun_script.query_string = ""
            await ws.send(message.SerializeToString())
            # Stay connected until the script run has finished: a session closed at once can stop it before
            # app.py gets to install the check (a fresh clone, with nothing compiled yet, is slow to import).
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                reply = ForwardMsg()
                reply.ParseFromString(await asyncio.wait_for(ws.recv(), 90))
                if reply.WhichOneof("type") == "script_finished":
                    return

    asyncio.run(go())


@pytest.mark.slow
def test_a_real_server_refuses_foreign_hosts(tmp_path: Path) -> None:
    from browser_utils import streamlit_server

    with streamlit_server(tmp_path / "runs") as url:
        port = int(url.rsplit(":", 1)[1])
        assert upgrade_status(port, EVIL) == 403  # Streamlit's own check, from the first connection
        # Until app.py first runs, plain HTTP is unchecked; no session exists then, so only the public static
        # files and the health check answer. (If this starts failing, the check now starts with the server.)
        assert status(port, "/", EVIL) == 200
        start_a_session(port)
        deadline = time.monotonic() + 60
        while status(port, "/", EVIL) != 403 and time.monotonic() < deadline:
            time.sleep(0.2)  # app.py installs the check on its first run
        for path in ("/", "/_stcore/health", "/_stcore/host-config", "/static/../", "/media/x.png"):
            assert status(port, path, EVIL) == 403, path
            assert status(port, path, f"{EVIL}:{port}") == 403, path
        assert upgrade_status(port, EVIL) == 403
        assert upgrade_status(port, f"{EVIL}:{port}") == 403
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost"):
            assert status(port, "/", host) == 200, host
            assert status(port, "/_stcore/health", host) == 200, host
        assert upgrade_status(port, f"localhost:{port}") == 101
        assert upgrade_status(port, f"127.0.0.1:{port}") == 101


@pytest.mark.slow
def test_the_opt_out_answers_any_host(tmp_path: Path) -> None:
    from browser_utils import streamlit_server

    with streamlit_server(tmp_path / "runs", env={"STREAMLIT_SERVER_ALLOWED_HOSTS": "*"}) as url:
        port = int(url.rsplit(":", 1)[1])
        start_a_session(port)
        time.sleep(2)
        assert status(port, "/", EVIL) == 200
        assert upgrade_status(port, EVIL) == 101
