"""Answer only requests addressed to this machine: a guard against DNS rebinding.

A web page on `rebind.evil.example` can make its name resolve to 127.0.0.1 and then talk to a
Digit Lab running on localhost as if it were its own site; every such request still carries
`Host: rebind.evil.example`. Streamlit checks the Host of its WebSocket against `server.allowedHosts`
(from the first connection on, with the list in .streamlit/config.toml); it does not check plain
HTTP requests (pages, static files, uploads, media). `install_host_check()`, called from app.py,
wraps Starlette's request handling so every HTTP request and WebSocket is checked against the same
setting. It runs on the first script run; before that no session exists, so the only unchecked
answers are the public static files and the health check.

The setting is Streamlit's own `server.allowedHosts` (config.toml, `--server.allowedHosts NAME` or
`STREAMLIT_SERVER_ALLOWED_HOSTS="localhost 127.0.0.1 ::1 NAME"`): host names, `*.suffix` for a
domain's subdomains, ports ignored; `*` opts out. An empty list means the local names only.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

OPTION = "server.allowedHosts"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")  # what an empty setting allows
REFUSAL = b"Digit Lab answers only requests addressed to localhost or a name in server.allowedHosts.\n"
_MARK = "_digit_lab_host_check"
_INSTALLING = threading.Lock()


def allowed_hosts() -> list[str]:
    """The setting's names, or the local names when it is empty or unreadable."""
    try:
        from streamlit import config

        names = [str(name).strip().lower().rstrip(".") for name in config.get_option(OPTION) or []]
    except Exception:  # no Streamlit config (a plain Python process): be strict
        names = []
    return [name for name in names if name] or list(LOCAL_HOSTS)


def host_allowed(host: str | None, allowed: list[str] | tuple[str, ...]) -> bool:
    """Whether a Host header (`name[:port]`, `[v6]:port`) names one of `allowed` (port ignored)."""
    if "*" in allowed:
        return True
    name = _host_name(host)
    if name is None:
        return False
    return any(name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])) for pattern in allowed)


def _host_name(host: str | None) -> str | None:
    """The lower-case name of a Host header, or None when it is missing or is not just a host and port."""
    if not host or any(ch in host for ch in "/?#@\\ ") or len(host) > 255:
        return None
    try:
        parts = urlsplit(f"//{host}")
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return None
    return parts.hostname.rstrip(".") if parts.hostname else None


def install_host_check() -> bool:
    """Check the Host of every request the Streamlit server answers from now on; True when newly installed.

    Starlette looks `__call__` up on its class for each request, so wrapping it there covers the app
    Streamlit has already built, without touching Streamlit's own files.
    """
    from starlette.applications import Starlette

    with _INSTALLING:  # two sessions' first runs at once must not wrap it twice
        if getattr(Starlette.__call__, _MARK, False):
            return False
        Starlette.__call__ = _checking(Starlette.__call__)
        return True


def _checking(answer: Any) -> Any:
    """`answer` (Starlette.__call__), answering only requests whose Host is allowed."""

    async def checked(self: Any, scope: dict, receive: Any, send: Any) -> None:
        host = _header(scope, b"host")
        if scope.get("type") in ("http", "websocket") and not host_allowed(host, allowed_hosts()):
            await _refuse(scope, send)
            return
        await answer(self, scope, receive, send)

    setattr(checked, _MARK, True)
    return checked


def _header(scope: dict, name: bytes) -> str | None:
    values = [value for key, value in scope.get("headers", []) if key.lower() == name]
    return values[0].decode("latin-1") if len(values) == 1 else None  # two Host headers: refuse


async def _refuse(scope: dict, send: Any) -> None:
    """403 for HTTP; for a WebSocket, closing before accepting makes the server answer 403."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(REFUSAL)).encode())]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": REFUSAL})
