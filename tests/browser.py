"""Drive the dashboards in headless Chromium (Debian's ``chromium`` through Playwright).

Used by the end-to-end tests and by ``benchmarks/bench_dashboards.py``, so both
measure the same thing: a page counts as rendered when its footer
(``<title> · 数据快照 … · 已加载``, the last element every page draws) is
visible, Streamlit reports no script running, and every chart on the page
has drawn its canvas or SVG.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Titles of the pages in the sidebar, in order (the lead detail page is reached from a lead).
PAGES = ("总览", "平安稳定指数", "办结率", "群租房预警", "地图", "预警提示单", "数据质量")


def chromium_path() -> Path | None:
    """Debian's chromium, or None when it is not installed."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


def launch(pw: Playwright) -> Browser:
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("未安装 chromium：apt-get install -y chromium fonts-noto-cjk")
    return pw.chromium.launch(executable_path=str(exe), args=CHROMIUM_ARGS)


def wait_rendered(page: Page, title: str, timeout_ms: float = 30_000) -> None:
    """Wait until the page titled ``title`` has finished running and drawing."""
    page.get_by_text(f"{title} · ", exact=False).filter(has_text="已加载").first.wait_for(
        state="visible", timeout=timeout_ms
    )
    # No script run in progress (the status widget shows while the server runs the page).
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')""",
        timeout=timeout_ms,
    )
    # Every Vega-Lite chart has drawn.
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'))
                 .every(c => c.querySelector('canvas, svg'))""",
        timeout=timeout_ms,
    )


def login(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    wait_rendered(page, "总览")


def open_page(page: Page, title: str) -> float:
    """Click the page in the sidebar; seconds until it is rendered."""
    link = page.locator('[data-testid="stSidebarNavLink"]', has_text=title).first
    start = time.perf_counter()
    link.click()
    wait_rendered(page, title)
    return time.perf_counter() - start


def nav_titles(page: Page) -> list[str]:
    texts = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
    return [t.split("\n")[-1].strip() for t in texts]


def server_seconds(page: Page, title: str) -> float | None:
    """Server-side run time of the page script, from its footer (PINGAN_DASHBOARD_TIMING)."""
    import re

    text = page.get_by_text(f"{title} · ", exact=False).filter(has_text="已加载").first.inner_text()
    found = re.search(r"服务端 (\d+) 毫秒", text)
    return int(found.group(1)) / 1000 if found else None
