"""The gate in front of Streamlit: which HTTP endpoints answer whom, and the browser cookie.

An ASGI middleware of the served app (``dashboards/server.py``, an ``st.App`` that
``pingan serve`` runs), so it sees every request before Streamlit does:

* Every browser gets ``pingan_browser``: a random id signed by this server, set
  ``HttpOnly; SameSite=Strict`` on the first response (the login page). Page scripts
  never see it, so it is the part of a login an attacker holding a session id lacks.
* The websocket (``/_stcore/stream``) is accepted only with a valid cookie, and the
  browser id goes to Streamlit as a trusted user header (``X-Pingan-Browser``, any
  client-sent one is dropped): Streamlit resumes a session id only for the same user
  info, so a session id replayed from another browser opens a fresh, logged-out
  session. The page scripts check the binding again on every run (``ui.current_user``).
* Open without a login: the page (login form), static assets, ``/_stcore/health``
  (says "ok", for ``pingan serve`` and load balancers) and ``/_stcore/host-config``
  (the page needs it before it connects; it carries no data).
* ``/media/*`` (exports, images) only to a browser holding a live login.
* Every other Streamlit endpoint is closed: ``/_stcore/metrics`` (session and cache
  counts; nothing here scrapes it), ``/_stcore/upload_file`` (the app takes no
  uploads), the agent API, script health, ``st.login``'s OIDC routes (not used).
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

from dashboards import sessions

BROWSER_HEADER = "x-pingan-browser"
TRUSTED_HEADERS = '{"X-Pingan-Browser": "pingan_browser"}'
STREAM = "/_stcore/stream"
OPEN_CORE = ("/_stcore/health", "/_stcore/host-config")
CLOSED_PREFIXES = ("/_stcore/", "/auth/", "/oauth2callback")
MEDIA = "/media/"


def decide(path: str, browser: str | None, logged_in: bool) -> int | None:
    """None to pass the request on, else the HTTP status that refuses it."""
    if path == STREAM:
        return None if browser else 403
    if path in OPEN_CORE:
        return None
    if path.startswith(CLOSED_PREFIXES) or path == "/_stcore":
        return 404
    if path.startswith(MEDIA):
        return None if logged_in else 403
    return None  # the page (login form) and static assets


def _cookie(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"cookie":
            try:
                jar = SimpleCookie(value.decode("latin-1"))
            except CookieError:
                return None
            morsel = jar.get(sessions.COOKIE)
            if morsel is not None:
                return morsel.value
    return None


class Gate:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope.get("headers", []) if k != BROWSER_HEADER.encode()]
        browser = sessions.browser_of(_cookie(headers))
        path = scope.get("path", "")
        logged_in = path.startswith(MEDIA) and sessions.browser_logged_in(browser, _idle_seconds())
        refused = decide(path, browser, logged_in)
        if refused is not None:
            await _refuse(scope, receive, send, refused)
            return
        if browser:
            headers.append((BROWSER_HEADER.encode(), browser.encode()))
        scope = {**scope, "headers": headers}
        if scope["type"] == "http" and browser is None:
            send = _setting_cookie(send)
        await self.app(scope, receive, send)


def _idle_seconds() -> float:
    # Imported here, not at the top: dashboards.data declares Streamlit caches, which
    # must be created after the server has started its runtime (the launcher imports
    # this module before).
    from dashboards import auth

    return auth.login_policy().idle_seconds


def _setting_cookie(send: Any) -> Any:
    cookie = f"{sessions.COOKIE}={sessions.new_browser_cookie()}; Path=/; HttpOnly; SameSite=Strict"

    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {
                **message,
                "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())],
            }
        await send(message)

    return wrapped


async def _refuse(scope: dict, receive: Any, send: Any, status: int) -> None:
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008})
        return
    body = "未登录或无权访问。".encode() if status == 403 else b"Not Found"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
