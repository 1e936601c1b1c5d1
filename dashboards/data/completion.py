"""Completion rates (办结率, on time, satisfaction) as the marts compute them, and overdue items.

Part of :mod:`dashboards.data`, the one layer that knows SQL (its docstring has the rules).
"""

from __future__ import annotations


import pandas as pd

from dashboards.data.snapshot import IN_SCOPE, Scope, _list, as_of, query

# ---------------------------------------------------------------- completion rates

# The mart holds each month's rates (mart_completion_rates: completion, on-time and
# satisfaction, as its formulas define them). A rate over several months is not a mean
# of monthly rates: it is the same ratio over the months' summed counts, so the period
# breakdowns below sum the mart's counts before dividing; one month's figures are read
# from the mart as they are (``completion_by_stream``).
_RATE_SUMS = """
    sum(items_due) as items_due,
    sum(items_closed) as items_closed,
    sum(items_closed_on_time) as items_closed_on_time,
    sum(items_rated) as items_rated,
    sum(items_satisfied) as items_satisfied,
    sum(items_closed) / nullif(sum(items_due), 0) as completion_rate,
    sum(items_closed_on_time) / nullif(sum(items_due), 0) as on_time_rate,
    sum(items_satisfied) / nullif(sum(items_rated), 0) as satisfaction_rate
"""


def _area(scope: Scope) -> tuple[str, str | None]:
    """(region_level, district) of the reader's whole area."""
    return ("district", scope.district) if scope.restricted else ("city", None)


def completion_by_stream(scope: Scope, months: list[str]) -> pd.DataFrame:
    """Rates per stream and month over the reader's whole area (city or own district)."""
    level, district = _area(scope)
    # one mart row per month and stream for the area: its own rates, not recomputed
    sql = f"""
        select month, stream, items_due, items_closed, items_closed_on_time, items_rated,
               items_satisfied, completion_rate, on_time_rate, satisfaction_rate
        from marts.mart_completion_rates
        where region_level = ? and breakdown = 'all'
          and (cast(? as varchar) is null or district = ?)
          and list_contains(?, month) and {IN_SCOPE}
        order by month, stream
    """
    return query(sql, [level, district, district, _list(months), *scope.params()])


def completion_period_by_stream(scope: Scope, months: list[str]) -> pd.DataFrame:
    """Rates per stream over the whole period ``months`` (the reader's whole area)."""
    level, district = _area(scope)
    sql = f"""
        select stream, {_RATE_SUMS}
        from marts.mart_completion_rates
        where region_level = ? and breakdown = 'all'
          and (cast(? as varchar) is null or district = ?)
          and list_contains(?, month) and {IN_SCOPE}
        group by stream
        order by stream
    """
    return query(sql, [level, district, district, _list(months), *scope.params()])


BREAKDOWNS: dict[str, str] = {
    "district": "区县",
    "street": "街道(镇)",
    "department": "承办部门",
    "category": "事项类别",
}


def completion_breakdown(
    scope: Scope,
    months: list[str],
    stream: str,
    by: str,
    district: str | None = None,
    street: str | None = None,
) -> pd.DataFrame:
    """Rates over ``months`` of one stream, by district, street, department or category.

    Districts and streets come from the region levels; departments and categories
    from the breakdowns of the narrowest selected area (street, district, or the
    reader's whole area)."""
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}")
    if by in ("district", "street"):
        sql = f"""
            select region_key, coalesce(street, district) as unit, district, street,
                   {_RATE_SUMS}
            from marts.mart_completion_rates
            where region_level = ? and breakdown = 'all' and stream = ?
              and list_contains(?, month)
              and (cast(? as varchar) is null or district = ?)
              and {IN_SCOPE}
            group by all
            order by completion_rate nulls last, unit
        """
        return query(sql, [by, stream, _list(months), district, district, *scope.params()])
    level, key = "city", "全市"
    if street:
        level, key = "street", f"{district}/{street}"
    elif district or scope.district:
        level, key = "district", str(district or scope.district)
    sql = f"""
        select breakdown_value as unit, {_RATE_SUMS}
        from marts.mart_completion_rates
        where region_level = ? and region_key = ? and breakdown = ? and stream = ?
          and list_contains(?, month) and {IN_SCOPE}
        group by all
        order by completion_rate nulls last, unit
    """
    return query(sql, [level, key, by, stream, _list(months), *scope.params()])


# (table, id, time, month column, columns shown) per stream of overdue items.
_OVERDUE: dict[str, tuple[str, str, str, str, str]] = {
    "hotline": (
        "marts.fct_hotline_tickets",
        "ticket_id",
        "received_at",
        "due_month",
        "category_path as category, department, status, is_closed, address",
    ),
    "grid": (
        "marts.fct_grid_events",
        "event_id",
        "reported_at",
        "due_month",
        "category, department, status, is_closed, address",
    ),
    "rental_hazard": (
        "marts.fct_rental_hazards",
        "hazard_id",
        "found_at",
        "due_month",
        "hazard_type as category, found_by as department, status, is_fixed as is_closed, "
        "house_id as address",
    ),
}


def overdue_items(
    scope: Scope,
    stream: str,
    months: list[str],
    district: str | None = None,
    street: str | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Items of the cohort months not closed on time: open past the deadline, or closed late."""
    tbl, id_col, time_col, month_col, shown = _OVERDUE[stream]
    closed = "is_fixed" if stream == "rental_hazard" else "is_closed"
    closed_at = "fixed_at" if stream == "rental_hazard" else "closed_at"
    sql = f"""
        select {id_col} as item_id, {time_col} as started_at, due_at, {closed_at} as closed_at,
               district, street, {shown},
               date_diff('hour', due_at, coalesce({closed_at}, ?)) as hours_overdue
        from {tbl}
        where list_contains(?, strftime({month_col}, '%Y-%m'))
          and due_at is not null
          and (({closed} and {closed_at} > due_at) or (not {closed} and due_at < ?))
          and (cast(? as varchar) is null or district = ?)
          and (cast(? as varchar) is null or street = ?)
          and {IN_SCOPE}
        order by hours_overdue desc
        limit ?
    """
    ref = as_of()
    params = [ref, _list(months), ref, district, district, street, street, *scope.params()]
    return query(sql, [*params, limit])
