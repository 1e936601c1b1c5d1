"""Attacks on the served dashboards from outside: over HTTP and from a second browser.

One real ``pingan serve`` process (the gate in front of Streamlit) for the module, over a
snapshot whose every text value starts with markdown, HTML and a formula; Debian's
Chromium through Playwright, a fresh browser context (its own cookies) per visitor.
"""

from __future__ import annotations

import http.client
import io
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import openpyxl
import pytest

from contracts.settings import Settings
from dashboards import access_log, auth, export, serve, sessions
from tests import browser
from tests.dashboards.conftest import PAYLOAD, payload_snapshot_root  # noqa: F401 - fixture
from tests.dashboards.dashboards_testlib import PASSWORDS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        browser.chromium_path() is None,
        reason="Debian chromium is not installed (apt-get install -y chromium fonts-noto-cjk)",
    ),
]


@pytest.fixture(scope="module")
def served(payload_snapshot_root: Path, tmp_path_factory) -> Iterator[tuple[str, Settings]]:  # noqa: F811
    data_dir = tmp_path_factory.mktemp("abuse_served")
    os.symlink(payload_snapshot_root / "published", data_dir / "published")
    settings = Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")
    port = serve.free_port()
    proc = serve.start(port, settings, quiet=True, env={"PINGAN_DASHBOARD_USERS": ""})
    try:
        serve.wait_ready(port, proc)
        yield serve.url(port), settings
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = browser.launch(pw)
        yield b
        b.close()


@pytest.fixture
def visitor(chromium):
    """A new browser (own cookies and storage) per call."""
    contexts = []

    def new(init_script: str | None = None):
        context = chromium.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
        if init_script:
            context.add_init_script(init_script)
        contexts.append(context)
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


def _log(settings: Settings) -> list[tuple]:
    """The served app's access log (retried while the server holds its write lock)."""
    for _ in range(50):
        try:
            return access_log.entries(settings)
        except duckdb.IOException:
            time.sleep(0.1)
    return access_log.entries(settings)


def _status(url: str, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


# ---------------------------------------------------------------- sessions

# Records every websocket the page opens; with ``window.__replay`` set, presents that
# session id when connecting (what Streamlit's frontend does when it reconnects).
SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__protocols = []; window.__sockets = [];
  const Wrapped = function (url, protocols) {
    let p = protocols;
    if (window.__replay && Array.isArray(p)) p = [p[0], p[1] || "", window.__replay];
    window.__protocols.push(p);
    const ws = new Native(url, p);
    window.__sockets.push(ws);
    return ws;
  };
  Wrapped.prototype = Native.prototype;
  Object.assign(Wrapped, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Wrapped;
})();
"""


def test_a_session_id_replayed_from_another_browser_resumes_no_login(served, visitor) -> None:
    base, _ = served
    victim = visitor(SOCKETS)
    browser.login(victim, base, "leader", PASSWORDS["leader"])
    # the victim's page reconnects (as after a network blip) and presents its session id
    victim.evaluate("window.__sockets.at(-1).close()")
    victim.wait_for_function("window.__protocols.length > 1 && window.__protocols.at(-1)[2]")
    session_id = victim.evaluate("window.__protocols.at(-1)[2]")
    assert session_id

    attacker = visitor(SOCKETS + f"window.__replay = {session_id!r};")
    attacker.goto(base)
    attacker.wait_for_function("window.__protocols.length > 0")
    assert attacker.evaluate("window.__protocols[0][2]") == session_id  # presented
    attacker.get_by_label("用户名").wait_for(timeout=20_000)
    assert attacker.locator('[data-testid="stSidebarNavLink"]').count() == 0
    assert "总览" not in attacker.locator('[data-testid="stMain"]').inner_text()
    # and the owner's login goes on in the owner's browser
    browser.open_page(victim, "预警提示单")


# ---------------------------------------------------------------- endpoints


def _websocket_status(base: str, cookie: str | None) -> int:
    host = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": "streamlit",
        "Origin": base,
    }
    if cookie:
        headers["Cookie"] = f"{sessions.COOKIE}={cookie}"
    conn.request("GET", "/_stcore/stream", headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def test_no_endpoint_answers_without_a_login_beyond_the_login_page_and_static_assets(
    served,
) -> None:
    base, _ = served
    closed = {
        "/_stcore/metrics": 404,
        "/_stcore/upload_file/any-session/any-file": 404,
        "/_stcore/agent/openapi.json": 404,
        "/_stcore/agent/interact": 404,
        "/_stcore/script-health-check": 404,
        "/auth/login": 404,
        "/oauth2callback": 404,
        "/media/0123456789abcdef.xlsx": 403,
    }
    assert {path: _status(base + path) for path in closed} == closed
    assert _status(base + "/_stcore/upload_file/s/f", "PUT") == 404
    assert _status(base + "/_stcore/health") == 200
    assert _status(base + "/_stcore/host-config") == 200
    with urllib.request.urlopen(base + "/", timeout=10) as response:
        assert response.status == 200
        cookie = next(c for c in response.headers.get_all("set-cookie") if "pingan_browser" in c)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # the websocket only with a cookie this server signed
    assert _websocket_status(base, None) == 403
    assert _websocket_status(base, "forged.0123") == 403
    assert _websocket_status(base, sessions.new_browser_cookie()) == 403  # another process's key


# ---------------------------------------------------------------- exports


def test_an_export_exists_only_after_its_logged_click_and_only_for_the_login(
    served, visitor
) -> None:
    base, settings = served
    page = visitor()
    browser.login(page, base, "leader", PASSWORDS["leader"])
    browser.open_page(page, "群租房预警")
    page.get_by_text("导出全部筛选结果").click()
    button = page.get_by_role("button", name="导出所选", exact=False).first
    button.wait_for()
    assert [e for e in _log(settings) if e[4].startswith("export")] == []
    assert page.locator('a[href*="/media/"]').count() == 0
    # the tables offer no CSV download of their own
    page.locator('[data-testid="stDataFrame"]').first.hover()
    assert page.get_by_role("button", name="Download as CSV").count() == 0

    with page.expect_download() as download:
        button.click()
    url = download.value.url
    assert "/media/" in url
    exported = [e for e in _log(settings) if e[4] == "export_leads"]
    assert len(exported) == 1 and exported[0][1] == "leader" and exported[0][-1]
    assert _status(url) == 403  # the file's address without the login's cookie
    assert page.context.request.get(url).status == 200  # with it
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    cells = [row[6] for row in sheet[export.SHEET].iter_rows(min_row=2)]
    assert cells and {c.data_type for c in cells} == {"s"}
    assert all(c.value.startswith("=HYPERLINK") for c in cells)


# ---------------------------------------------------------------- logins


def test_fifty_wrong_passwords_lock_the_name_and_every_attempt_is_logged(served, visitor) -> None:
    base, settings = served
    page = visitor()
    page.goto(base)
    page.get_by_label("用户名").fill("tongzhou")

    def attempt(password: str) -> None:
        before = len(_log(settings))
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录", exact=True).click()
        deadline = time.monotonic() + 20
        while len(_log(settings)) == before and time.monotonic() < deadline:
            time.sleep(0.2)

    for _ in range(50):
        attempt("wrong-password")
    attempt(PASSWORDS["tongzhou"])
    locked = auth.LOCKED.format(minutes=f"{auth.login_policy().window_minutes:g}")
    page.get_by_text(locked).wait_for()
    assert page.locator('[data-testid="stSidebarNavLink"]').count() == 0
    rows = [(e[1], e[4], e[6]) for e in _log(settings) if e[1] == "tongzhou"]
    failures = auth.login_policy().max_failures
    assert rows == [
        *[("tongzhou", "login_failed", False)] * failures,
        ("tongzhou", "login_lockout", False),
        *[("tongzhou", "login_locked", False)] * (51 - failures),
    ]


# ---------------------------------------------------------------- text is text


def _record_remote(remote: list[str], url: str) -> None:
    """Requests to the payload's host (a remote image from the data would be one)."""
    if urllib.parse.urlparse(url).hostname == "evil.example":
        remote.append(url)


def _deep_link_login(page, base: str, path: str) -> None:
    """Open ``path`` before logging in (a page load starts a new session), then log in."""
    page.goto(base)  # the server learns its pages from the first session
    page.get_by_label("用户名").wait_for()
    page.goto(base + path)
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill(PASSWORDS["leader"])
    page.get_by_role("button", name="登录", exact=True).click()


def test_markdown_from_data_and_the_url_draws_no_link_or_image_in_the_browser(
    served,
    visitor,
    payload_snapshot_root,  # noqa: F811 - fixture
) -> None:
    base, _ = served
    snapshot = payload_snapshot_root / "published" / "warehouse.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        row = con.execute("select lead_id from marts.mart_group_rental_scores limit 1").fetchone()
    assert row is not None and row[0].startswith(PAYLOAD)
    remote: list[str] = []
    page = visitor()
    page.on("request", lambda r: _record_remote(remote, r.url))
    _deep_link_login(page, base, f"/lead?lead={urllib.parse.quote(row[0])}")
    browser.wait_rendered(page, "线索详情")
    main = page.locator('[data-testid="stMain"]')
    assert "点我" in main.inner_text()
    # (a heading's own in-page anchor, href="#…", is no link out)
    hrefs = main.locator('a[href*="evil"]:not([href^="#"]), img[src*="evil"]').evaluate_all(
        "els => els.map(e => (e.closest('[data-testid]') || {}).getAttribute('data-testid') + ' ' + e.outerHTML.slice(0, 120))"
    )
    assert hrefs == []

    other = visitor()
    other.on("request", lambda r: _record_remote(remote, r.url))
    _deep_link_login(
        other, base, f"/lead?lead={urllib.parse.quote('[点我](http://evil.example/x)')}"
    )
    other.get_by_text("不存在或不在您的权限范围内", exact=False).wait_for()
    assert other.locator('a[href*="evil"]:not([href^="#"]), img[src*="evil"]').count() == 0
    assert remote == []  # no remote image was even requested
