"""Logged-in sessions, bound to the browser that logged in, with an idle timeout.

Two things identify a logged-in user on every script run:

* the login token in the Streamlit session state (what a Streamlit session id resumes),
* the browser cookie ``pingan_browser``: a random id signed by this server process, set
  HttpOnly by :mod:`dashboards.gate` on the first response to a browser (page scripts
  cannot read it, so a cross-site script or a copied session id does not carry it).

A login records (token -> user, browser id, last activity) here, in the server process
that both the gate and the page scripts run in; a run whose browser id differs from the
one that logged in is refused, and so is one idle for longer than the configured
timeout. The gate asks :func:`browser_logged_in` before serving media (exports) to a
browser. Kept in memory on purpose: a restarted server forgets every login, which is
what its fresh signing key does to the cookies anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass

COOKIE = "pingan_browser"
# Signing key of the browser cookies: per server process unless the deployment sets one
# (several processes behind one address must share it).
_KEY = (os.environ.get("PINGAN_DASHBOARD_SECRET") or "").encode() or secrets.token_bytes(32)


def new_browser_cookie() -> str:
    browser = secrets.token_urlsafe(24)
    return f"{browser}.{_sign(browser)}"


def browser_of(cookie: str | None) -> str | None:
    """The browser id of a cookie this server signed, else None."""
    if not cookie or "." not in cookie:
        return None
    browser, _, signature = cookie.rpartition(".")
    return browser if browser and hmac.compare_digest(signature, _sign(browser)) else None


def _sign(browser: str) -> str:
    return hmac.new(_KEY, browser.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass
class Login:
    username: str
    browser: str | None
    last_seen: float


class Refused(Exception):
    """The session may not go on: ``reason`` is ``session_expired`` or ``session_rebound``."""

    def __init__(self, reason: str, username: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.username = username


_lock = threading.Lock()
_logins: dict[str, Login] = {}


def open_login(username: str, browser: str | None) -> str:
    """A new login token for ``username`` in ``browser``."""
    token = secrets.token_urlsafe(32)
    with _lock:
        _logins[token] = Login(username, browser, time.monotonic())
    return token


def resume(token: str, browser: str | None, idle_seconds: float) -> str:
    """The username of a live login presented by the browser that opened it.

    Raises :class:`Refused` (and forgets the login) when it has been idle too long or is
    presented by another browser; returns "" for an unknown token."""
    now = time.monotonic()
    with _lock:
        login = _logins.get(token)
        if login is None:
            return ""
        if login.browser != browser:
            # Someone else holds the session id: end the login for both, the owner
            # logs in again (an attacker never gets the owner's cookie).
            del _logins[token]
            raise Refused("session_rebound", login.username)
        if now - login.last_seen > idle_seconds:
            del _logins[token]
            raise Refused("session_expired", login.username)
        login.last_seen = now
        return login.username


def close(token: str | None) -> None:
    with _lock:
        _logins.pop(token or "", None)


def browser_logged_in(browser: str | None, idle_seconds: float) -> bool:
    """Whether ``browser`` holds a live login (the gate serves media only to such)."""
    if browser is None:
        return False
    now = time.monotonic()
    with _lock:
        return any(
            login.browser == browser and now - login.last_seen <= idle_seconds
            for login in _logins.values()
        )
