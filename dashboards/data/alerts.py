"""Alerts (预警) of the index indicators.

Part of :mod:`dashboards.data`, the one layer that knows SQL (its docstring has the rules).
"""

from __future__ import annotations


import pandas as pd

from dashboards.data.snapshot import IN_SCOPE, Scope, _list, query

# ---------------------------------------------------------------- alerts

SEVERITIES = ("高", "中", "低")


def alerts(
    scope: Scope,
    months: list[str],
    severities: tuple[str, ...] = SEVERITIES,
    district: str | None = None,
    level: str | None = None,
    worsening_only: bool = False,
    indicator: str | None = None,
) -> pd.DataFrame:
    sql = f"""
        select alert_id, month, severity, region_level, district, street, region_name,
               indicator_code, indicator_name, unit, value, previous_value, change_abs,
               change_pct, baseline_mean, rule, is_worsening, message, evidence
        from marts.mart_alerts
        where list_contains(?, month) and list_contains(?, severity)
          and (cast(? as varchar) is null or district = ?)
          and (cast(? as varchar) is null or region_level = ?)
          and (not ? or is_worsening)
          and (cast(? as varchar) is null or indicator_name = ?)
          and {IN_SCOPE}
        order by month desc,
                 case severity when '高' then 0 when '中' then 1 else 2 end,
                 abs(change_pct) desc nulls last
    """
    params = [
        _list(months),
        list(severities),
        district,
        district,
        level,
        level,
        worsening_only,
        indicator,
        indicator,
    ]
    return query(sql, [*params, *scope.params()])


def alert_indicators(scope: Scope) -> list[str]:
    df = query(
        f"select distinct indicator_name from marts.mart_alerts where {IN_SCOPE} order by 1",
        scope.params(),
    )
    return df["indicator_name"].dropna().tolist()
