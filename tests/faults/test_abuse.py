"""Abuse of the dashboards: SQL injection and district officers reaching beyond their scope.

Real Streamlit app (AppTest) and the real data-access module over the dashboards'
small real snapshot (``tests/dashboards/conftest.py``).
"""

from __future__ import annotations

import pandas as pd
import pytest

from dashboards import access_log, data, fmt
from tests.dashboards.conftest import dash_settings, snapshot_root  # noqa: F401 - fixtures
from tests.dashboards.test_pages import open_page, start

LEADER = data.Scope("leader")
OFFICER = data.Scope("district", "崇川区")
OTHER = "通州区"
HARMLESS = "不存在的取值"
PAYLOADS = [
    "' or '1'='1",
    "' or 1=1 --",
    "'; drop table marts.dim_region; --",
    "崇川区' or district <> '崇川区",
    "通州区') or ('1'='1",
    '崇川区" or "1"="1',
    "'' union select * from raw.load_ledger --",
    "和平桥街道'; select 1; --",
    "%",
    "_",
    "崇川区\\'",
]


def _months() -> list[str]:
    return data.completion_months()


def _calls(scope: data.Scope) -> dict[str, object]:
    """Every data function that takes user-controlled text, as value -> result."""
    months = _months()
    imonth = data.index_months()[-1]
    return {
        "streets": lambda v: data.streets(scope, v),
        "index_units.month": lambda v: data.index_units(scope, v, "district"),
        "index_units.level": lambda v: data.index_units(scope, imonth, v),
        "index_units.district": lambda v: data.index_units(scope, imonth, "street", v),
        "unit_trend": lambda v: data.unit_trend(scope, v),
        "unit_components.key": lambda v: data.unit_components(scope, v, imonth),
        "unit_components.month": lambda v: data.unit_components(scope, "崇川区", v),
        "completion_by_stream": lambda v: data.completion_by_stream(scope, [v]),
        "completion_breakdown.stream": lambda v: data.completion_breakdown(
            scope, months, v, "district"
        ),
        "completion_breakdown.district": lambda v: data.completion_breakdown(
            scope, months, "hotline", "street", v
        ),
        "completion_breakdown.street": lambda v: data.completion_breakdown(
            scope, months, "hotline", "category", "崇川区", v
        ),
        "overdue_items.stream": lambda v: data.overdue_items(scope, v, months),
        "overdue_items.district": lambda v: data.overdue_items(scope, "hotline", months, v),
        "overdue_items.street": lambda v: data.overdue_items(scope, "hotline", months, "崇川区", v),
        "leads.district": lambda v: data.leads(scope, v),
        "leads.street": lambda v: data.leads(scope, None, v),
        "leads.status": lambda v: data.leads(scope, statuses=(v,)),
        "lead_count.district": lambda v: data.lead_count(scope, v),
        "lead": lambda v: data.lead(scope, v),
        "lead_records": lambda v: data.lead_records(scope, v),
        "leads_for_export": lambda v: data.leads_for_export(scope, [v]),
        "alerts.month": lambda v: data.alerts(scope, [v]),
        "alerts.severity": lambda v: data.alerts(scope, months, (v,)),
        "alerts.district": lambda v: data.alerts(scope, months, district=v),
        "alerts.level": lambda v: data.alerts(scope, months, level=v),
        "alerts.indicator": lambda v: data.alerts(scope, months, indicator=v),
        **(
            {}
            if scope.restricted
            else {"load_ledger.status": lambda v: data.load_ledger(scope, status=v)}
        ),
    }


def _outcome(call, value: str) -> object:
    """The result, or the refusal (an unknown stream or table is looked up, never formatted)."""
    try:
        return call(value)
    except (KeyError, ValueError) as exc:
        return f"refused: {type(exc).__name__}"


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.reset_index(drop=True).equals(
            b.reset_index(drop=True)
        )
    return a == b


@pytest.mark.parametrize("scope", [LEADER, OFFICER], ids=["leader", "officer"])
def test_sql_injection_payloads_in_every_filter_change_no_query_meaning(
    dash_settings,  # noqa: F811 - fixture
    scope: data.Scope,
) -> None:
    changed = []
    for name, call in _calls(scope).items():
        baseline = _outcome(call, HARMLESS)
        for payload in PAYLOADS:
            if not _same(_outcome(call, payload), baseline):
                changed.append((name, payload))
    assert changed == []
    # the check is not vacuous: real values do select rows through the same parameters
    assert not data.leads(LEADER, "崇川区").empty
    assert data.streets(LEADER, "崇川区")
    # and the snapshot is intact after the drop-table payloads
    assert "崇川区" in data.districts(LEADER)
    with pytest.raises(ValueError):
        data.quality_results(LEADER, "check_results; drop table quality.check_results")


URL_PAGES = ("overview", "safety_index", "completion", "group_rental", "alerts", "lead_detail")


@pytest.mark.parametrize("payload", ["' or '1'='1 --", "崇川区'); drop table marts.dim_region; --"])
def test_sql_injection_through_url_query_parameters_changes_nothing(
    dash_settings,  # noqa: F811 - fixture
    payload: str,
) -> None:
    keys = ("district", "street", "unit", "level", "stream", "month", "lead")
    for page in URL_PAGES:
        at = open_page(start("leader"), page, **dict.fromkeys(keys, payload))
        errors = [e.value for e in at.error]
        # a SQL error would surface as the page's one-line snapshot error
        assert not [e for e in errors if "读取数据快照出错" in e], (page, errors)
        if page == "lead_detail":
            assert errors == [f"线索 {fmt.plain(payload)} 不存在或不在您的权限范围内。"]
            assert not at.dataframe
    assert "崇川区" in data.districts(LEADER)


def test_an_officer_crafting_a_district_parameter_reads_only_the_own_district(
    dash_settings,  # noqa: F811 - fixture
) -> None:
    months = _months()
    crafted = {
        "streets": pd.DataFrame({"street": data.streets(OFFICER, OTHER)}),
        "index_units": data.index_units(OFFICER, data.index_months()[-1], "street", OTHER),
        "completion_breakdown": data.completion_breakdown(
            OFFICER, months, "hotline", "street", OTHER
        ),
        "overdue_items": data.overdue_items(OFFICER, "hotline", months, OTHER),
        "leads": data.leads(OFFICER, OTHER),
        "leads_for_export": data.leads_for_export(
            OFFICER, data.leads(LEADER, OTHER)["lead_id"].tolist()
        ),
        "alerts": data.alerts(OFFICER, months, district=OTHER),
    }
    foreign = {k: len(v) for k, v in crafted.items() if len(v)}
    assert foreign == {}
    assert data.lead_count(OFFICER, OTHER) == 0
    own = data.leads(OFFICER)
    assert not own.empty and set(own["district"]) == {"崇川区"}
    # the leader reading the same parameters does get the other district's rows
    assert not data.leads(LEADER, OTHER).empty


def test_an_officer_opening_another_districts_lead_is_denied_and_logged(
    dash_settings,  # noqa: F811 - fixture
) -> None:
    foreign = data.leads(LEADER, OTHER)["lead_id"].iloc[0]
    at = open_page(start("chongchuan"), "lead_detail", lead=foreign)
    assert [e.value for e in at.error] == [f"线索 {foreign} 不存在或不在您的权限范围内。"]
    assert not at.dataframe
    assert access_log.entries(dash_settings)[-1][1:] == (
        "chongchuan",
        "district",
        "崇川区",
        "view_lead",
        foreign,
        False,
    )


def test_an_officer_opening_the_data_quality_page_is_denied_and_logged(
    dash_settings,  # noqa: F811 - fixture
) -> None:
    # not in the officer's menu (test_e2e checks the sidebar), but a crafted page URL
    # reaches the page's own role check
    at = open_page(start("chongchuan"), "data_quality")
    assert [e.value for e in at.error] == ["您的角色无权访问此页面。"]
    assert not at.dataframe and not at.metric
    refused = [e for e in access_log.entries(dash_settings) if not e[-1]]
    assert refused[-1][1:] == ("chongchuan", "district", "崇川区", "view_page", "数据质量", False)
    for call in (data.load_ledger, data.rejected_rows, data.row_warnings, data.check_summary):
        with pytest.raises(data.AccessDenied):
            call(OFFICER)
    # open to analysts, and their visit is not a refusal
    before = len(access_log.entries(dash_settings))
    analyst = open_page(start("analyst"), "data_quality")
    assert not analyst.error and analyst.dataframe
    assert len(access_log.entries(dash_settings)) == before
