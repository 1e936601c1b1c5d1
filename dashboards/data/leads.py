"""Group-rental leads (群租房线索), their model and checks, and the 12345 hotspots of the map.

Part of :mod:`dashboards.data`, the one layer that knows SQL (its docstring has the rules).
"""

from __future__ import annotations


import pandas as pd

from dashboards.data.snapshot import IN_SCOPE, Scope, city_wide, in_scope, query

# ---------------------------------------------------------------- group-rental leads

LEAD_STATUSES = ("待核查", "已确认群租", "暂缓")

# The leads of the scope. The mart's rank is over the whole city; without ``lead_rank``
# published an officer's leads are ranked among themselves, the mart's way (row number
# by score, held-back leads unranked; window functions run after the scope filter).
_SCOPED_LEADS = f"""
    scoped_leads as (
        select * replace (
            case when ? then rank
                 when status <> '暂缓' then row_number() over (
                     partition by status = '暂缓' order by score desc, house_id)
            end as rank)
        from marts.mart_group_rental_scores
        where {IN_SCOPE}
    )
"""


def _scoped_leads_params(scope: Scope) -> list:
    return [city_wide(scope, "lead_rank"), *scope.params()]


def leads(
    scope: Scope,
    district: str | None = None,
    street: str | None = None,
    min_score: float = 0.0,
    statuses: tuple[str, ...] = ("待核查",),
    limit: int = 1000,
) -> pd.DataFrame:
    sql = f"""
        with {_SCOPED_LEADS}
        select lead_id, rank, score, probability, prior_score, dispatch_type, status,
               district, street, address, reasons, rule_flags,
               occupants_estimate, floor_area_m2, rooms, complaints_180d,
               police_incidents_180d, open_hazards, last_verdict, lon, lat, house_id,
               as_of_date
        from scoped_leads
        where score >= ? and list_contains(?, status)
          and (cast(? as varchar) is null or district = ?)
          and (cast(? as varchar) is null or street = ?)
        order by score desc, lead_id
        limit ?
    """
    params = [min_score, list(statuses), district, district, street, street]
    return query(sql, [*_scoped_leads_params(scope), *params, limit])


def lead_count(
    scope: Scope,
    district: str | None = None,
    street: str | None = None,
    min_score: float = 0.0,
    statuses: tuple[str, ...] = ("待核查",),
) -> int:
    """How many leads match the filters of :func:`leads` (which lists the top ones)."""
    sql = f"""
        select count(*) as n
        from marts.mart_group_rental_scores
        where score >= ? and list_contains(?, status)
          and (cast(? as varchar) is null or district = ?)
          and (cast(? as varchar) is null or street = ?)
          and {IN_SCOPE}
    """
    params = [min_score, list(statuses), district, district, street, street, *scope.params()]
    return int(query(sql, params)["n"].iloc[0])


def lead_summary(scope: Scope, min_score: float) -> dict[str, int]:
    """Counts of leads by status, and of open leads at or above the dispatch threshold."""
    sql = f"""
        select count(*) filter (status = '待核查' and score >= ?) as open_over_threshold,
               count(*) filter (status = '待核查') as open,
               count(*) filter (status = '已确认群租') as confirmed,
               count(*) filter (status = '暂缓') as held_back
        from marts.mart_group_rental_scores
        where {IN_SCOPE}
    """
    row = query(sql, [min_score, *scope.params()]).iloc[0]
    return {k: int(v) for k, v in row.items()}


def lead_model() -> pd.DataFrame:
    """The current lead model, one row per factor (learned and prior coefficients)."""
    return query(
        """select * from marts.mart_group_rental_model
        order by abs(coefficient) desc, factor_code""",
        [],
    )


def expected_confirmations(scope: Scope, capacity: int) -> dict[str, float]:
    """Expected 确认群租 if the police check the ``capacity`` strongest open leads."""
    sql = f"""
        select count(*) as leads, coalesce(sum(probability), 0) as expected
        from (
            select probability from marts.mart_group_rental_scores
            where status = '待核查' and {IN_SCOPE}
            order by rank
            limit ?
        )
    """
    row = query(sql, [*scope.params(), int(capacity)]).iloc[0]
    return {"leads": int(row["leads"]), "expected": float(row["expected"])}


def lead_contributions(scope: Scope, lead_id: str) -> pd.DataFrame:
    """A lead's factor contributions under the fitted model, largest first (scope applied)."""
    sql = f"""
        select c.factor_name, c.shown_value, c.contribution, c.prior_contribution, c.reason
        from marts.mart_group_rental_contributions c
        inner join marts.mart_group_rental_scores s using (house_id)
        where s.lead_id = ? and {in_scope("s.district")}
          and (c.contribution <> 0 or c.prior_contribution <> 0)
        order by c.contribution desc, c.factor_code
    """
    return query(sql, [lead_id, *scope.params()])


def rental_check_exceptions(scope: Scope) -> pd.DataFrame:
    """Police checks the lead model cannot learn from (unknown dwelling or lead id)."""
    sql = f"""
        select check_id, lead_id, checked_at, unit, verdict, address, problem
        from marts.mart_rental_check_exceptions
        where {IN_SCOPE}
        order by checked_at desc, check_id
    """
    return query(sql, scope.params())


def lead_backtest() -> pd.DataFrame:
    """The lead model's time-split backtest by month: learned beside prior-only."""
    return query(
        """select month, segment as model, leads_issued, items_evaluated as checked,
               hits as confirmed, precision_at_k as hit_rate, ranked_precision,
               train_verdicts, exploration_leads, exploration_confirmed
        from marts.mart_group_rental_evaluation
        where source = 'backtest'
        order by month_start, segment""",
        [],
    )


def lead(scope: Scope, lead_id: str) -> pd.DataFrame:
    """One lead (one row), or no row when it does not exist or is outside the scope."""
    sql = f"""
        with {_SCOPED_LEADS}
        select s.*, d.rent_mode, d.house_status, d.registered_at, d.community
        from scoped_leads s
        left join marts.dim_dwelling d using (house_id)
        where s.lead_id = ?
    """
    return query(sql, [*_scoped_leads_params(scope), lead_id])


# Linked records of a dwelling, per source system: (label, table, key column, columns shown).
# Facts carry keyed pseudonyms, never identities; masked forms are shown where the marts have them.
LINKED: dict[str, tuple[str, str, str]] = {
    "tickets": (
        "12345工单",
        "marts.fct_hotline_tickets",
        "ticket_id, received_at, category_path, request_type, status, department, "
        "satisfaction, address, link_method",
    ),
    "events": (
        "网格事件",
        "marts.fct_grid_events",
        "event_id, reported_at, category, subcategory, status, department, address, link_method",
    ),
    "registrations": (
        "流动人口登记",
        "marts.fct_floating_population",
        "registration_id, registered_at, deregistered_at, is_active, sex, reason, hukou_place, "
        "substr(person_pseudonym, 1, 8) || '…' as person_code, address, link_method",
    ),
    "incidents": (
        "110警情",
        "marts.fct_police_incidents",
        "incident_id, reported_at, category, subcategory, station, outcome, address, link_method",
    ),
    "hazards": (
        "出租房隐患",
        "marts.fct_rental_hazards",
        "hazard_id, found_at, hazard_type, found_by, due_at, status, fixed_at",
    ),
    "checks": (
        "公安核查",
        "marts.fct_rental_checks",
        "check_id, lead_id, checked_at, unit, verdict, occupants_found, hazards_found, "
        "address, link_method",
    ),
}


def lead_records(scope: Scope, house_id: str) -> dict[str, pd.DataFrame]:
    """The records of all four systems linked to a dwelling, per kind (scope applied)."""
    out: dict[str, pd.DataFrame] = {}
    for kind, (_label, tbl, cols) in LINKED.items():
        sql = f"""
            select {cols} from {tbl}
            where house_id = ? and {IN_SCOPE}
            order by 2 desc
        """
        out[kind] = query(sql, [house_id, *scope.params()])
    return out


HOTSPOTS_SHOWN = 200  # the places with the most tickets; more points would hide the map


def hotspots(scope: Scope, month: str, limit: int = HOTSPOTS_SHOWN) -> pd.DataFrame:
    """The month's 12345 hotspots in scope: the places with the most tickets, most first
    (``mart_hotline_hotspots``; ``lon``/``lat`` NULL where the registry has no dwelling
    at the place), with their street's tickets per 10k residents."""
    sql = f"""
        select place, district, street, region_key, tickets, security_tickets, lon, lat,
               street_tickets, street_tickets_per_10k
        from marts.mart_hotline_hotspots
        where month = ? and {IN_SCOPE}
        order by tickets desc, region_key, place
        limit ?
    """
    return query(sql, [month, *scope.params(), limit])


def leads_for_export(scope: Scope, lead_ids: list[str]) -> pd.DataFrame:
    """The selected leads as dispatched: lead id first, so verification results match back."""
    sql = f"""
        with {_SCOPED_LEADS}
        select lead_id, rank, score, status, district, street, address, reasons, rule_flags,
               occupants_estimate, floor_area_m2, rooms, registered_tenants,
               complaints_180d, police_incidents_180d, open_hazards, last_check_at,
               last_verdict, house_id, lon, lat, as_of_date
        from scoped_leads
        where list_contains(?, lead_id)
        order by score desc, lead_id
    """
    return query(sql, [*_scoped_leads_params(scope), list(lead_ids)])
