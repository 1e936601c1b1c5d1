"""Data access of the notices (提示单): the 预警提示单 page and the documents read these.

Part of the one data-access layer (:mod:`dashboards.data` holds the plumbing): constant
SQL with ``?`` placeholders over the published snapshot, row-level scope applied in the
query. Statuses, numbers, rates and drivers are computed in the marts
(``dbt_project/models/marts/notices``); nothing here recomputes them.
"""

from __future__ import annotations

import pandas as pd

from contracts.entities import NOTICE_STATUSES
from dashboards.data.snapshot import IN_SCOPE, AccessDenied, Scope, _list, in_scope, query, table

FULL_SCOPE = Scope("leader")
ISSUED, SIGNED, REPORTED, CLOSED, RETURNED = NOTICE_STATUSES


def available() -> bool:
    """Whether the snapshot carries the notice marts (older snapshots do not)."""
    return table("marts.mart_notices") is not None


def notice_months(scope: Scope) -> list[str]:
    df = query(
        f"select distinct month from marts.mart_notices where {IN_SCOPE} order by month",
        scope.params(),
    )
    return df["month"].dropna().tolist()


def notices(
    scope: Scope,
    months: list[str],
    district: str | None = None,
    statuses: tuple[str, ...] = NOTICE_STATUSES,
    overdue_only: bool = False,
) -> pd.DataFrame:
    sql = f"""
        select notice_id, notice_year, notice_seq, month, region_level, region_key,
               region_name, district, street, alert_count, high_alert_count,
               indicator_names, issued_at, due_at, status, status_at, signed_at,
               reported_at, decided_at, feedback_count, days_issued, days_signed,
               days_reported, days_returned, days_open, is_overdue, is_reported_late,
               has_feedback_before_issue, has_other_unit, as_of_at
        from marts.mart_notices
        where list_contains(?, month) and list_contains(?, status)
          and (cast(? as varchar) is null or district = ?)
          and (not ? or is_overdue)
          and {IN_SCOPE}
        order by notice_year desc, notice_seq
    """
    params = [_list(months), list(statuses), district, district, overdue_only]
    return query(sql, [*params, *scope.params()])


def notice(scope: Scope, notice_id: str) -> pd.DataFrame:
    """One notice's register row and status (empty when out of scope)."""
    sql = f"""
        select * from marts.mart_notices
        where notice_id = ? and {IN_SCOPE}
    """
    return query(sql, [notice_id, *scope.params()])


def notice_items(scope: Scope, notice_ids: list[str]) -> pd.DataFrame:
    sql = f"""
        select notice_id, alert_id, indicator_code, indicator_name, unit, severity, value,
               previous_value, change_abs, change_pct, last_year_value, level_average,
               expected_low, expected_high, evidence, message
        from marts.mart_notice_items
        where list_contains(?, notice_id) and {IN_SCOPE}
        order by notice_id, case severity when '高' then 0 when '中' then 1 else 2 end,
                 indicator_code
    """
    return query(sql, [list(notice_ids), *scope.params()])


def notice_drivers(scope: Scope, notice_ids: list[str]) -> pd.DataFrame:
    """The listed drivers (top categories and places) of the notices' indicators."""
    sql = f"""
        select d.notice_id, d.alert_id, d.driver_kind, d.driver_rank, d.driver_label,
               d.driver_count, d.previous_count
        from marts.mart_notice_drivers as d
        inner join marts.mart_notices as n on d.notice_id = n.notice_id
        where list_contains(?, d.notice_id) and d.is_listed and {in_scope("n.district")}
        order by d.alert_id, d.driver_kind, d.driver_rank
    """
    return query(sql, [list(notice_ids), *scope.params()])


def notice_effect(scope: Scope, months: list[str]) -> pd.DataFrame:
    sql = f"""
        select notice_id, month, district, region_name, indicator_name, unit, value,
               value_1m, is_back_in_range_1m, value_2m, is_back_in_range_2m
        from marts.mart_notice_effect
        where list_contains(?, month) and {IN_SCOPE}
        order by notice_id, indicator_name
    """
    return query(sql, [_list(months), *scope.params()])


def notice_effect_rates(scope: Scope) -> pd.DataFrame:
    """Rates by district and indicator; a district officer sees their district's rows."""
    sql = f"""
        select district, indicator_code, indicator_name, notified, judged_1m, back_1m,
               back_rate_1m, judged_2m, back_2m, back_rate_2m
        from marts.mart_notice_effect_rates
        where {IN_SCOPE}
        order by case when district = '全市' then 0 else 1 end, district,
                 case when indicator_code = '全部' then 0 else 1 end, indicator_name
    """
    return query(sql, scope.params())


def unmatched_feedback(scope: Scope) -> pd.DataFrame:
    """OA feedback quoting a number never issued (data quality: leaders and analysts)."""
    if scope.restricted:
        raise AccessDenied("无法匹配的反馈仅对市领导和分析员开放")
    return query(
        """
        select feedback_id, quoted_notice_id, unit, status, updated_at, reason
        from marts.mart_notice_feedback_unmatched
        order by updated_at desc, feedback_id
        """
    )
