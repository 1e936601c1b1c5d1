"""Data access of the monthly and quarterly bulletin (月度/季度通报).

Part of the one data-access layer (:mod:`dashboards.data.snapshot` holds the plumbing): constant
SQL with ``?`` placeholders over the published snapshot. The bulletin is a city-wide
document (it is filed by the command centre, not read by a district officer), so these
read every district's rows. Ranks, intervals, rates and statuses come from the marts;
what is computed here is counting and summing rows over the bulletin's months.
"""

from __future__ import annotations

import pandas as pd

from dashboards.data.completion import completion_period_by_stream
from dashboards.data.snapshot import Scope, _list, query, table


def unit_coverage(month: str, level: str) -> pd.DataFrame:
    """Per unit of a level: the lowest attribution coverage of its record-based indicators
    and how many of its indicators were treated as missing because too few of its records
    could be placed in it (``value_status = 'unattributed'``, decided in the marts)."""
    sql = """
        select region_key,
               min(attribution_coverage) as min_attribution_coverage,
               count(*) filter (value_status = 'unattributed') as unattributed_indicators,
               string_agg(indicator_name, '、' order by indicator_code)
                   filter (value_status = 'unattributed') as unattributed_names
        from marts.mart_safety_index_components
        where month = ? and region_level = ?
        group by region_key
    """
    return query(sql, [month, level])


def district_index_trend(last_month: str, months: int = 12) -> pd.DataFrame:
    """Each district's index and rank for the ``months`` months up to ``last_month``."""
    sql = """
        with m as (
            select distinct month from marts.mart_safety_index
            where month <= ? and safety_index is not null
            order by month desc limit ?
        )
        select i.month, i.region_name, i.safety_index, i.rank
        from marts.mart_safety_index i
        inner join m using (month)
        where i.region_level = 'district'
        order by i.month, i.rank nulls last, i.region_name
    """
    return query(sql, [last_month, months])


def district_index_months(months: list[str]) -> pd.DataFrame:
    """Each district's index and rank in each of ``months`` (the quarterly edition)."""
    sql = """
        select month, region_key, region_name, safety_index, rank
        from marts.mart_safety_index
        where region_level = 'district' and list_contains(?, month)
        order by month, region_key
    """
    return query(sql, [_list(months)])


def completion_totals(months: list[str]) -> pd.DataFrame:
    """Per stream, the city's items and rates over ``months`` (the rates of the summed
    counts, the completion page's own query for a range of months)."""
    return completion_period_by_stream(Scope("leader"), months)


def notice_counts(months: list[str]) -> pd.DataFrame:
    """Notices (提示单) of ``months`` per district: issued, signed for, answered (a
    feedback reported), closed (销号), returned for rework, overdue."""
    if table("marts.mart_notices") is None:
        return pd.DataFrame()
    sql = """
        select district,
               count(*) as issued,
               count(*) filter (signed_at is not null) as signed,
               count(*) filter (reported_at is not null) as answered,
               count(*) filter (status = '已销号') as closed,
               count(*) filter (status = '退回重办') as returned,
               count(*) filter (is_overdue) as overdue
        from marts.mart_notices
        where list_contains(?, month)
        group by district
        order by issued desc, district
    """
    return query(sql, [_list(months)])


def lead_checks(months: list[str]) -> pd.DataFrame:
    """Police checks of group-rental leads in ``months`` per district: checks of a lead
    the warehouse issued, their conclusive verdicts and the confirmed group rentals."""
    sql = """
        select district,
               count(*) as checked,
               count(*) filter (verdict in ('确认群租', '确认出租', '非出租')) as conclusive,
               count(*) filter (is_confirmed_group_rental) as confirmed
        from marts.fct_rental_checks
        where lead_id is not null and list_contains(?, strftime(checked_month, '%Y-%m'))
        group by district
        order by checked desc, district
    """
    return query(sql, [_list(months)])


def leads_by_district(min_score: float) -> pd.DataFrame:
    """Leads of the snapshot per district: open (待核查), open at or above the dispatch
    threshold (to be issued for checking), held back after a recent negative check."""
    sql = """
        select district,
               count(*) filter (status = '待核查' and score >= ?) as to_dispatch,
               count(*) filter (status = '待核查') as open,
               count(*) filter (status = '暂缓') as held_back
        from marts.mart_group_rental_scores
        group by district
        order by to_dispatch desc, district
    """
    return query(sql, [min_score])


def backtest_issued(months: list[str]) -> pd.DataFrame:
    """The lead model's backtest in ``months`` (the learned model): leads issued, checked
    and confirmed by the later verdicts."""
    sql = """
        select month, leads_issued, items_evaluated as checked, hits as confirmed
        from marts.mart_group_rental_evaluation
        where source = 'backtest' and segment = 'learned' and list_contains(?, month)
        order by month
    """
    return query(sql, [_list(months)])
