"""End to end in headless Chromium (Debian's chromium driven by Playwright): the real
``pingan serve`` process, a real login, every page, key content, screenshots.

Screenshots go to ``test-artifacts/dashboards/`` at the repository root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from contracts.settings import Settings
from dashboards import serve
from tests import browser
from tests.dashboards.dashboards_testlib import PASSWORDS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        browser.chromium_path() is None,
        reason="Debian chromium is not installed (apt-get install -y chromium fonts-noto-cjk)",
    ),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboards"
# Text every page must show once rendered (besides its title and footer).
KEY_CONTENT = {
    "总览": ["平安稳定指数（分）", "各类事项办结情况与目标", "区县平安稳定指数排名"],
    "平安稳定指数": ["区县排名", "环比变化最大的区县", "单位构成分析"],
    "办结率": ["各类事项", "按承办部门", "逾期事项明细"],
    "群租房预警": ["线索列表", "线索详情", "导出派发"],
    "地图": ["叠加群租房线索", "未上图的区县"],
    "预警提示单": ["风险等级", "高风险", "各区县预警提示数量"],
    "数据质量": ["各来源数据时效", "入库台账", "拒收记录", "Great Expectations"],
}


@pytest.fixture(scope="module")
def server_settings(snapshot_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The served app's data dir: the shared snapshot, its own access log."""
    data_dir = tmp_path_factory.mktemp("e2e_data")
    os.symlink(snapshot_root / "published", data_dir / "published")
    return Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")


@pytest.fixture(scope="module")
def server(server_settings: Settings) -> Iterator[str]:
    port = serve.free_port()
    proc = serve.start(port, server_settings, quiet=True, env={"PINGAN_DASHBOARD_USERS": ""})
    try:
        serve.wait_ready(port, proc)
        yield serve.url(port)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = browser.launch(pw)
        yield b
        b.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


def body_text(pg) -> str:
    return pg.locator('[data-testid="stMain"]').inner_text()


def assert_no_exception(pg) -> None:
    assert pg.locator('[data-testid="stException"]').count() == 0


def test_leader_logs_in_and_every_page_renders_its_key_content(server, page):
    browser.login(page, server, "leader", PASSWORDS["leader"])
    assert browser.nav_titles(page) == list(browser.PAGES)
    for title in browser.PAGES:
        browser.open_page(page, title)
        text = body_text(page)
        for expected in KEY_CONTENT[title]:
            assert expected in text, f"{title}: {expected!r} missing"
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=10_000)
        assert_no_exception(page)
        page.screenshot(path=str(ARTIFACTS / f"leader_{title}.png"), full_page=True)

    browser.open_page(page, "群租房预警")
    page.get_by_role("link", name="查看详情").click()
    browser.wait_rendered(page, "线索详情")
    text = body_text(page)
    for section in ("12345工单", "网格事件", "流动人口登记", "110警情", "出租房隐患", "公安核查"):
        assert section in text
    assert_no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "leader_线索详情.png"), full_page=True)


def test_district_officer_sees_only_the_own_district(server, page, regions):
    from tests.dashboards.test_pages import foreign_names

    browser.login(page, server, "chongchuan", PASSWORDS["chongchuan"])
    assert "数据质量" not in browser.nav_titles(page)
    foreign = [n.decode() for n in foreign_names("崇川区", regions)]
    for title in browser.PAGES[:-1]:
        browser.open_page(page, title)
        text = body_text(page)
        assert "崇川区" in text
        assert [f for f in foreign if f in text] == [], title
        page.screenshot(path=str(ARTIFACTS / f"chongchuan_{title}.png"), full_page=True)


def test_an_officer_typing_the_data_quality_address_is_refused_and_logged(
    server, page, server_settings
):
    from dashboards import access_log

    def refusals() -> list[tuple]:
        return [
            e[4:6] for e in access_log.entries(server_settings) if e[1] == "tongzhou" and not e[-1]
        ]

    before = refusals()
    page.goto(server)  # the server learns its pages from the first session
    page.get_by_label("用户名").wait_for()
    page.goto(f"{server}/data_quality")
    page.get_by_label("用户名").fill("tongzhou")
    page.get_by_label("密码").fill(PASSWORDS["tongzhou"])
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("您的角色无权访问此页面。").wait_for()
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert "数据质量" not in browser.nav_titles(page)
    assert refusals() == [*before, ("view_page", "数据质量")]
    page.screenshot(path=str(ARTIFACTS / "tongzhou_refused_data_quality.png"), full_page=True)


def test_a_wrong_password_is_refused_and_logout_returns_to_the_form(server, page):
    page.goto(server)
    page.get_by_label("用户名").fill("analyst")
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("用户名或密码错误。").wait_for()

    browser.login(page, server, "analyst", PASSWORDS["analyst"])
    browser.open_page(page, "数据质量")
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="登录", exact=True).wait_for()
    assert "平安 · 社会治理数据看板" in body_text(page)
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / "logged_out.png"), full_page=True)


def test_a_deep_link_to_a_lead_survives_the_login(server, page, dash_settings):
    from dashboards import data

    page.goto(server)  # the server learns its pages from the first session
    page.get_by_label("用户名").wait_for()
    lead = data.leads(data.Scope("leader")).iloc[0]["lead_id"]
    page.goto(f"{server}/lead?lead={lead}")
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill(PASSWORDS["leader"])
    page.get_by_role("button", name="登录", exact=True).click()
    browser.wait_rendered(page, "线索详情")
    assert lead in body_text(page)


def _cut_off(context, base_url: str) -> list[str]:
    """Abort every request that is not to the served app (an offline 政务内网); the refused."""
    served = urlparse(base_url).netloc
    refused: list[str] = []

    def handle(route) -> None:
        url = route.request.url
        if urlparse(url).netloc == served or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    context.route("**/*", handle)
    return refused


_LINKED = """() => [...document.querySelectorAll('link[href], script[src], img[src], iframe[src]')]
    .map(e => e.href || e.src)"""


def test_every_page_renders_styled_and_filled_with_the_network_cut_off(server, chromium):
    context = chromium.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    refused = _cut_off(context, server)
    pg = context.new_page()
    try:
        browser.login(pg, server, "leader", PASSWORDS["leader"])
        served = urlparse(server).netloc
        for title in browser.PAGES:
            browser.open_page(pg, title)
            text = body_text(pg)
            for expected in KEY_CONTENT[title]:
                assert expected in text, f"{title}: {expected!r} missing offline"
            pg.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=10_000)
            assert_no_exception(pg)
            external = [u for u in pg.evaluate(_LINKED) if urlparse(u).netloc not in ("", served)]
            assert external == [], f"{title} links outside the served app: {external}"
        # the quality results GX Data Docs used to show: tables filled, page styled
        browser.open_page(pg, "数据质量")
        assert pg.locator('[data-testid="stDataFrame"]').count() >= 5
        sidebar = pg.evaluate(
            "getComputedStyle(document.querySelector('[data-testid=stSidebar]')).backgroundColor"
        )
        assert sidebar not in ("", "rgba(0, 0, 0, 0)", "transparent"), sidebar
        pg.screenshot(path=str(ARTIFACTS / "offline_数据质量.png"), full_page=True)
        assert refused == [], f"pages asked the internet for: {sorted(set(refused))[:5]}"
    finally:
        context.close()
