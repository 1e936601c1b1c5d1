"""The map page in headless Chromium with a boundary file: the polygons are drawn (an
SVG/canvas per chart), the street without a polygon is listed, and a screenshot is kept
in ``test-artifacts/dashboards/``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.settings import Settings
from dashboards import serve
from tests import browser
from tests.dashboards.dashboards_testlib import PASSWORDS
from tests.dashboards.test_e2e import ARTIFACTS, assert_no_exception, body_text
from tests.snapshots import boundaries_without, settings_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(browser.chromium_path() is None, reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def map_server(snapshot_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("map_e2e")
    os.symlink(snapshot_root / "published", data_dir / "published")
    # the sample's layout: boundaries.geojson in the data dir (no PINGAN_BOUNDARIES)
    boundaries_without(settings_for(snapshot_root), data_dir, leave_out=("海门区",))
    settings = Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")
    port = serve.free_port()
    proc = serve.start(
        port, settings, quiet=True, env={"PINGAN_DASHBOARD_USERS": "", "PINGAN_BOUNDARIES": ""}
    )
    try:
        serve.wait_ready(port, proc)
        yield serve.url(port)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def tab() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = browser.launch(pw)
        context = chromium.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
        yield context.new_page()
        context.close()
        chromium.close()


def test_map_draws_district_polygons_and_lists_the_one_without(map_server, tab):
    page = tab
    browser.login(page, map_server, "leader", PASSWORDS["leader"])
    browser.open_page(page, "地图")
    assert_no_exception(page)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator("canvas, svg").first.wait_for(timeout=10_000)
    assert chart.bounding_box()["height"] > 300
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "leader_地图.png"), full_page=True)
    # the unplaced district is in a data grid (drawn on a canvas, not in the page text)
    assert "未上图的区县" in body_text(page)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=10_000)
    assert (ARTIFACTS / "leader_地图.png").stat().st_size > 10_000
