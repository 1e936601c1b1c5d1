"""The one module that knows SQL: every page reads the warehouse through these functions.

* Reads only the published snapshot (``settings.published_warehouse``), opened
  read-only. A publish replaces the file atomically (``os.replace``), so the
  file's identity (inode, mtime, size) is the snapshot version: connections and
  cached results are keyed by it and a new publish is picked up on the next
  query, never mixed with the old one.
* Queries are constant strings with ``?`` placeholders; widget values only ever
  travel as parameters. The few identifiers chosen at run time (a breakdown
  column, a table found in ``information_schema``) come from whitelists in
  this module, never from a widget.
* Row-level access: every query over district rows takes a :class:`Scope`; a
  district officer's scope adds ``district = ?`` to the query itself, so no
  widget or URL parameter can reach another district's rows.
* Results are cached per (snapshot version, SQL, parameters) with
  ``st.cache_data``; pages get pandas DataFrames (what Streamlit renders).
"""

from __future__ import annotations

import os
import threading
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import streamlit as st

from contracts.entities import (
    DELIVERED_STATUSES,
    ENTITIES,
    FRESHNESS_KIND,
    REJECTED,
    SOURCE_TIME_ZONE,
    SYSTEM_LABELS,
)
from contracts.settings import Settings, load_settings

STREAMS: dict[str, str] = {
    "hotline": "12345工单",
    "grid": "网格事件",
    "rental_hazard": "出租房隐患",
}
LEVELS: dict[str, str] = {"city": "全市", "district": "区县", "street": "街道(镇)"}
CONFIG_FILE = Path(__file__).with_name("config.toml")


class SnapshotMissing(Exception):
    """No published snapshot to read (one line, actionable)."""


class AccessDenied(Exception):
    """The scope may not read this (e.g. a district officer on the data-quality page)."""


@dataclass(frozen=True)
class Scope:
    """What a user may read: everything, or the rows of one district."""

    role: str  # leader | analyst | district
    district: str | None = None

    def __post_init__(self) -> None:
        if self.role == "district" and not self.district:
            raise ValueError("a district officer's scope needs a district")

    @property
    def restricted(self) -> bool:
        return self.role == "district"

    def params(self) -> list[str | None]:
        """Parameters of :data:`IN_SCOPE` (the district, twice; None for the whole city)."""
        return [self.district, self.district] if self.restricted else [None, None]


def in_scope(column: str = "district") -> str:
    """The row filter of every query over district rows; bind it with ``Scope.params()``."""
    return f"(cast(? as varchar) is null or {column} = ?)"


IN_SCOPE = in_scope()

# Figures computed over every district's rows. A district officer sees one only when the
# dashboard config lists it in [scope] city_wide_figures (the city publishes it);
# otherwise the officer's figure is computed over the own district's rows, or withheld.
CITY_WIDE_FIGURES: dict[str, str] = {
    "safety_index": "平安稳定指数及其标准化得分（按全市各单位的取值范围标准化）",
    "index_rank": "区县/街道在全市同级单位中的排名位次",
    "level_average": "指标贡献的全市同级平均",
    "lead_rank": "群租线索在全市线索中的排名",
}


def city_wide(scope: Scope, figure: str) -> bool:
    """Whether ``scope`` may see ``figure`` as computed over the whole city."""
    if figure not in CITY_WIDE_FIGURES:
        raise ValueError(f"unknown city-wide figure {figure!r}")
    return not scope.restricted or figure in published_city_wide()


def published_city_wide() -> frozenset[str]:
    listed = (config().get("scope") or {}).get("city_wide_figures", [])
    unknown = sorted(set(listed) - set(CITY_WIDE_FIGURES))
    if unknown:
        raise ValueError(
            f"看板配置 [scope] city_wide_figures 含未知指标 {unknown}（可选：{sorted(CITY_WIDE_FIGURES)}）"
        )
    return frozenset(listed)


def _require_city_wide(scope: Scope, figure: str) -> None:
    if not city_wide(scope, figure):
        raise AccessDenied(f"{CITY_WIDE_FIGURES[figure]}未作为全市公布指标向区县开放")


# ---------------------------------------------------------------- plumbing


def settings() -> Settings:
    return load_settings()


def config() -> dict[str, Any]:
    """Dashboard settings (targets, thresholds): ``PINGAN_DASHBOARD_CONFIG`` or config.toml."""
    path = Path(os.environ.get("PINGAN_DASHBOARD_CONFIG") or CONFIG_FILE)
    return tomllib.loads(path.read_text(encoding="utf-8"))


def snapshot_key(path: Path | None = None) -> tuple[str, int, int, int]:
    """Identity of the current snapshot file: changes whenever a publish replaces it."""
    path = path or settings().published_warehouse
    try:
        st_ = path.stat()
    except FileNotFoundError:
        raise SnapshotMissing(
            f"尚未发布数据快照（{path}）：请先运行 `pingan run` 生成并发布数据仓库。"
        ) from None
    return (str(path), st_.st_ino, st_.st_mtime_ns, st_.st_size)


_lock = threading.Lock()
_connections: dict[tuple, duckdb.DuckDBPyConnection] = {}


def _connection(key: tuple) -> duckdb.DuckDBPyConnection:
    with _lock:
        con = _connections.get(key)
        if con is None:
            # A new snapshot: close the connection to the replaced file first. DuckDB
            # shares one database instance per path within a process, so a new
            # connection while the old one is open would still read the old file.
            # (A query another session is running on the old version at this instant
            # fails once and shows an error; publishes are rare, so that is accepted.)
            for old_key in [k for k in _connections if k[0] == key[0]]:
                _connections.pop(old_key).close()
            con = duckdb.connect(key[0], read_only=True)
            _connections[key] = con
        return con


@st.cache_data(max_entries=2000, show_spinner=False)
def _cached_query(key: tuple, sql: str, params: tuple) -> pd.DataFrame:
    cur = _connection(key).cursor()
    try:
        return cur.execute(sql, [_thaw(p) for p in params]).df()
    finally:
        cur.close()


def query(sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """Run a constant, parameterised query on the current snapshot (cached by version)."""
    return _cached_query(snapshot_key(), sql, tuple(_freeze(p) for p in params))


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _thaw(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _list(value: tuple | list) -> list:
    return list(value)


@st.cache_data(max_entries=64, show_spinner=False)
def _tables(key: tuple) -> dict[str, str]:
    """table name -> quoted ``schema.table`` for every table of the snapshot."""
    cur = _connection(key).cursor()
    try:
        rows = cur.execute(
            "select table_schema, table_name from information_schema.tables "
            "order by table_schema = 'raw' desc"
        ).fetchall()
    finally:
        cur.close()
    out: dict[str, str] = {}
    for schema, name in rows:
        out.setdefault(name, f'"{schema}"."{name}"')
        out[f"{schema}.{name}"] = f'"{schema}"."{name}"'
    return out


def table(name: str) -> str | None:
    """Quoted identifier of a snapshot table (``load_ledger``, ``quality.x``), or None."""
    return _tables(snapshot_key()).get(name)


@st.cache_data(max_entries=64, show_spinner=False)
def _schema_tables(key: tuple, schema: str) -> list[str]:
    cur = _connection(key).cursor()
    try:
        rows = cur.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "order by table_name",
            [schema],
        ).fetchall()
    finally:
        cur.close()
    return [r[0] for r in rows]


@st.cache_data(max_entries=256, show_spinner=False)
def _columns(key: tuple, qualified: str) -> list[str]:
    schema, _, name = qualified.replace('"', "").partition(".")
    cur = _connection(key).cursor()
    try:
        rows = cur.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
    finally:
        cur.close()
    return [r[0] for r in rows]


def now_local() -> datetime:
    return datetime.now(ZoneInfo(SOURCE_TIME_ZONE)).replace(tzinfo=None)


# ---------------------------------------------------------------- snapshot and calendar


def publication() -> dict[str, Any]:
    """The snapshot's version, publication time and run id."""
    df = query("select version, published_at, run_id from meta.publication order by published_at")
    if df.empty:
        return {"version": "未知", "published_at": None, "run_id": None}
    return df.iloc[-1].to_dict()


def as_of() -> datetime:
    """Reference time of "overdue" and "open": when the snapshot was published.

    Stable for a snapshot, so results stay cacheable; a new publish moves it."""
    published = publication().get("published_at")
    if published is None or pd.isna(published):
        return now_local().replace(minute=0, second=0, microsecond=0)
    return pd.Timestamp(published).to_pydatetime()


def index_months() -> list[str]:
    """Months ('YYYY-MM') that have a safety index, oldest first."""
    df = query(
        "select distinct month from marts.mart_safety_index "
        "where safety_index is not null order by month"
    )
    return df["month"].tolist()


def completion_months() -> list[str]:
    """Cohort months with completion figures, up to the last month of data: items due
    after it (deadlines beyond the data) form a partial cohort that is not shown."""
    df = query(
        "select distinct month from marts.mart_completion_rates "
        "where month <= (select max(month) from marts.dim_month) order by month"
    )
    return df["month"].tolist()


def alert_months() -> list[str]:
    df = query("select distinct month from marts.mart_alerts order by month")
    return df["month"].tolist()


def districts(scope: Scope) -> list[str]:
    df = query(
        f"select district from marts.dim_region where region_level = 'district' "
        f"and {IN_SCOPE} order by district",
        scope.params(),
    )
    return df["district"].tolist()


def streets(scope: Scope, district: str | None) -> list[str]:
    df = query(
        f"select street from marts.dim_region where region_level = 'street' "
        f"and (cast(? as varchar) is null or district = ?) and {IN_SCOPE} order by street",
        [district, district, *scope.params()],
    )
    return df["street"].tolist()


# ---------------------------------------------------------------- safety index

# Map positions of districts and streets: the mean position of their dwellings (the marts
# publish no region coordinates). ``level`` keeps a district row apart from a street row
# whose street is unknown.
_CENTROIDS = """
    centroids as (
        select district, street,
               case when grouping(street) = 1 then 'district' else 'street' end as level,
               avg(lon) as lon, avg(lat) as lat
        from marts.dim_dwelling
        where lon is not null and lat is not null
        group by grouping sets ((district), (district, street))
    )
"""


def index_units(scope: Scope, month: str, level: str, district: str | None = None) -> pd.DataFrame:
    """Index of every district (level='district') or street of a month, ranked, with centroids
    and the rank's 5-95% interval over the construction choices (withheld with the rank)."""
    _require_city_wide(scope, "safety_index")
    # The mart ranks among all units of the level; without ``index_rank`` published an
    # officer's units are ranked among themselves (window functions run after the
    # scope filter) and the rank change is withheld.
    sql = f"""
        with {_CENTROIDS}
        select i.region_key, i.region_name, i.district, i.street, i.safety_index, i.grade,
               case when ? then i.rank
                    when i.safety_index is not null
                    -- rounded as the mart ranks (float noise of the summation order ties)
                    then rank() over (order by round(i.safety_index, 9) desc nulls last)
               end as rank,
               case when ? then i.units_ranked
                    else count(i.safety_index) over () end as units_ranked,
               i.index_change_mom,
               case when ? then i.rank_change_mom end as rank_change_mom,
               i.population, i.weight_coverage, c.lon, c.lat,
               case when ? then u.rank_p05 end as rank_p05,
               case when ? then u.rank_p50 end as rank_p50,
               case when ? then u.rank_p95 end as rank_p95,
               case when ? then u.rank_change_within_interval end as rank_change_within_interval
        from marts.mart_safety_index i
        left join centroids c
          on c.level = i.region_level and c.district = i.district
         and c.street is not distinct from i.street
        left join marts.mart_safety_index_uncertainty u on u.index_id = i.index_id
        where i.month = ? and i.region_level = ?
          and (cast(? as varchar) is null or i.district = ?)
          and {in_scope("i.district")}
        order by rank nulls last, i.region_key
    """
    # the rank interval is a rank among all units too: shown only where ranks are
    ranks = [city_wide(scope, "index_rank")] * 7
    return query(sql, [*ranks, month, level, district, district, *scope.params()])


def index_sensitivity(month: str, level: str) -> pd.DataFrame:
    """Which construction choice moves the ranks of a level most in a month, one row per
    choice (strongest first). Aggregates over every unit of the level: no district rows."""
    sql = """
        select choice, choice_name, first_order_index, choice_rank,
               max(mean_abs_rank_shift) - min(mean_abs_rank_shift) as shift_range,
               -- each option with the mean rank shift of the draws that took it
               string_agg(option_name || ' ' || printf('%.1f', mean_abs_rank_shift), '；'
                          order by option) as options
        from marts.mart_safety_index_sensitivity
        where month = ? and region_level = ?
        group by choice, choice_name, first_order_index, choice_rank
        order by choice_rank
    """
    return query(sql, [month, level])


def headline_index(scope: Scope, months: int = 12) -> pd.DataFrame:
    """The index of the reader's whole area per month: the city (population-weighted mean of
    the district indices; the marts publish no city row) or the officer's own district."""
    _require_city_wide(scope, "safety_index")
    sql = f"""
        with d as (
            select month, safety_index, coalesce(population, 0) as population
            from marts.mart_safety_index
            where region_level = 'district' and safety_index is not null and {IN_SCOPE}
        ),
        m as (
            select month,
                   case when sum(population) > 0
                        then sum(safety_index * population) / sum(population)
                        else avg(safety_index) end as safety_index,
                   count(*) as districts
            from d group by month
        )
        select * from (select * from m order by month desc limit ?) order by month
    """
    return query(sql, [*scope.params(), months])


def unit_trend(scope: Scope, region_key: str, months: int = 12) -> pd.DataFrame:
    _require_city_wide(scope, "safety_index")
    sql = f"""
        select * from (
            select month, safety_index,
                   case when ? then rank end as rank,
                   case when ? then units_ranked end as units_ranked,
                   grade
            from marts.mart_safety_index
            where region_key = ? and {IN_SCOPE}
            order by month desc limit ?
        ) order by month
    """
    ranks = [city_wide(scope, "index_rank")] * 2
    return query(sql, [*ranks, region_key, *scope.params(), months])


def unit_components(scope: Scope, region_key: str, month: str) -> pd.DataFrame:
    """Each indicator's contribution to a unit's index, against the mean of its level.

    ``gap`` > 0: the indicator pulls the unit up compared with a typical unit. The
    average is over all units of the level, or for an officer (``level_average`` not
    published city-wide) over the units of the own district."""
    _require_city_wide(scope, "safety_index")
    sql = f"""
        with level_avg as (
            select indicator_code, region_level, avg(contribution) as avg_contribution
            from marts.mart_safety_index_components
            where month = ? and {IN_SCOPE}
            group by indicator_code, region_level
        )
        select c.indicator_code, c.indicator_name, c.unit, c.direction, c.raw_value,
               c.value_status, c.attribution_coverage, c.normalised_value, c.weight,
               c.effective_weight, c.contribution, a.avg_contribution,
               c.contribution - a.avg_contribution as gap
        from marts.mart_safety_index_components c
        join level_avg a using (indicator_code, region_level)
        where c.region_key = ? and c.month = ?
          and {in_scope("c.district")}
        order by c.contribution desc
    """
    average_over = [None, None] if city_wide(scope, "level_average") else scope.params()
    return query(sql, [month, *average_over, region_key, month, *scope.params()])


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


# ---------------------------------------------------------------- data quality

_SYSTEM_OF = {e.name: e.system for e in ENTITIES}


def _require_quality(scope: Scope) -> None:
    if scope.restricted:
        raise AccessDenied("数据质量页面仅对市领导和分析员开放")


def source_freshness() -> pd.DataFrame:
    """Per source system: last delivery, files and rows (from the load ledger), and how
    many of its entities the latest run's freshness checks found late, or did not check.

    Lateness is what Dagster recorded (``quality.check_results`` of kind
    ``FRESHNESS_KIND``, one row per entity, from the latest run that recorded any), not
    re-evaluated here: the page and the bulletin say what the checks said, at the time
    they checked (``checked_at``). An entity without a result in that run (a snapshot
    from before the checks, an entity the run did not select, one unknown to the
    contracts) counts as unchecked, never as on time. An entity that was checked but
    never delivered is listed too (Dagster fails it). Freshness is metadata about
    deliveries, not district rows, so every role sees it."""
    ledger = table("load_ledger")
    if ledger is None:
        return pd.DataFrame()
    delivered = f"""
        select entity,
               max(ingested_at) filter (list_contains(?, status)) as last_delivery,
               count(*) as files,
               count(*) filter (status = ?) as files_rejected,
               sum(rows_loaded) as rows_loaded,
               sum(rows_rejected) as rows_rejected
        from {ledger}
        where entity is not null
        group by entity
    """
    params: list[Any] = [list(DELIVERED_STATUSES), REJECTED]
    results = table("quality.check_results")
    if results is not None:
        sql = f"""
            with delivered as ({delivered}),
            latest as (
                select run_id from {results}
                where kind = ?
                order by checked_at desc limit 1
            ),
            checked as (
                select entity, passed, checked_at, run_id
                from {results} join latest using (run_id)
                where kind = ?
                qualify row_number() over (partition by entity order by checked_at desc) = 1
            )
            select entity, last_delivery, files, files_rejected, rows_loaded, rows_rejected,
                   passed, checked_at, run_id
            from delivered full join checked using (entity)
        """
        params += [FRESHNESS_KIND, FRESHNESS_KIND]
    else:  # a snapshot from before the checks recorded their results: nothing was checked
        sql = f"""
            select *, cast(null as boolean) as passed, cast(null as timestamp) as checked_at,
                   cast(null as varchar) as run_id
            from ({delivered})
        """
    df = query(sql, params)
    if df.empty:
        return df
    df["system"] = df["entity"].map(_SYSTEM_OF).fillna("未知")
    df["late"] = df["passed"].eq(False)
    df["unchecked"] = df["passed"].isna()
    agg = (
        df.groupby("system")
        .agg(
            last_delivery=("last_delivery", "max"),
            files=("files", "sum"),
            files_rejected=("files_rejected", "sum"),
            rows_loaded=("rows_loaded", "sum"),
            rows_rejected=("rows_rejected", "sum"),
            late_entities=("late", "sum"),
            unchecked_entities=("unchecked", "sum"),
            entities=("entity", "count"),
            checked_at=("checked_at", "max"),
            run_id=("run_id", "first"),
        )
        .reset_index()
    )
    agg["system_label"] = agg["system"].map(SYSTEM_LABELS).fillna(agg["system"])
    return agg


def load_ledger(scope: Scope, status: str | None = None, limit: int = 500) -> pd.DataFrame:
    _require_quality(scope)
    ledger = table("load_ledger")
    if ledger is None:
        return pd.DataFrame()
    return query(
        f"""
        select delivery_seq, ingested_at, file_name, entity, status, rows_read, rows_loaded,
               rows_rejected, rows_warned, reason
        from {ledger}
        where (cast(? as varchar) is null or status = ?)
        order by delivery_seq desc limit ?
        """,
        [status, status, limit],
    )


def rejected_rows(scope: Scope, limit: int = 500) -> pd.DataFrame:
    """Rejected rows with the file they came from (rows are stored with personal data masked)."""
    _require_quality(scope)
    rejected, ledger = table("rejected_rows"), table("load_ledger")
    if rejected is None or ledger is None:
        return pd.DataFrame()
    return query(
        f"""
        select l.file_name, r.entity, r._row_number as row_number, r.reason,
               cast(r.row_json as varchar) as row_json
        from {rejected} r
        left join (select distinct file_sha256, file_name from {ledger}) l using (file_sha256)
        order by l.file_name, r._row_number
        limit ?
        """,
        [limit],
    )


def rejection_reasons(scope: Scope) -> pd.DataFrame:
    _require_quality(scope)
    rejected = table("rejected_rows")
    if rejected is None:
        return pd.DataFrame()
    return query(
        f"select entity, reason, count(*) as rows from {rejected} group by all order by rows desc"
    )


def row_warnings(scope: Scope, limit: int = 500) -> pd.DataFrame:
    _require_quality(scope)
    warnings = table("row_warnings")
    if warnings is None:
        return pd.DataFrame()
    return query(
        f"""
        select entity, column_name, reason, count(*) as rows, any_value(value) as example
        from {warnings} group by all order by rows desc limit ?
        """,
        [limit],
    )


def quality_tables(scope: Scope) -> list[str]:
    """The tables of the snapshot's ``quality`` schema."""
    _require_quality(scope)
    return _schema_tables(snapshot_key(), "quality")


_LATEST_RUN = """
    latest as (
        select run_id from quality.check_results
        order by checked_at desc limit 1
    )
"""


def check_summary(scope: Scope) -> pd.DataFrame:
    """Outcomes of the latest quality run (Great Expectations and freshness) per kind and entity."""
    _require_quality(scope)
    if "check_results" not in quality_tables(scope):
        return pd.DataFrame()
    return query(
        f"""
        with {_LATEST_RUN}
        select kind, entity, max(checked_at) as checked_at, run_id,
               count(*) as checks,
               count(*) filter (passed) as passed,
               count(*) filter (not passed and severity = 'critical') as failed_critical,
               count(*) filter (not passed and severity <> 'critical') as failed_warning
        from quality.check_results join latest using (run_id)
        group by all
        order by failed_critical desc, failed_warning desc, kind, entity
        """
    )


def check_failures(scope: Scope, limit: int = 500) -> pd.DataFrame:
    """The failed checks of the latest quality run, critical first."""
    _require_quality(scope)
    if "check_results" not in quality_tables(scope):
        return pd.DataFrame()
    return query(
        f"""
        with {_LATEST_RUN}
        select kind, entity, relation, check_name, column_name, severity, observed_value,
               unexpected_count, element_count, checked_at
        from quality.check_results join latest using (run_id)
        where not passed
        order by severity = 'critical' desc, entity, check_name
        limit ?
        """,
        [limit],
    )


def check_details(scope: Scope, limit: int = 5000) -> pd.DataFrame:
    """Every check of the latest quality run with what it observed (failures first).

    What GX Data Docs would show, read from the snapshot: Data Docs are not built
    because their pages load their styles and scripts from CDNs (unreadable offline)."""
    _require_quality(scope)
    if "check_results" not in quality_tables(scope):
        return pd.DataFrame()
    return query(
        f"""
        with {_LATEST_RUN}
        select kind, entity, relation, check_name, column_name, severity, passed,
               observed_value, unexpected_count, element_count
        from quality.check_results join latest using (run_id)
        order by passed, severity = 'critical' desc, entity, check_name
        limit ?
        """,
        [limit],
    )


def quality_results(scope: Scope, name: str, limit: int = 2000) -> pd.DataFrame:
    """Any other table of the ``quality`` schema, failures first when it has a pass/fail column."""
    _require_quality(scope)
    if name not in quality_tables(scope):  # whitelist: only tables that exist
        raise ValueError(f"no quality table {name!r}")
    qualified = f'"quality"."{name}"'
    cols = _columns(snapshot_key(), qualified)
    flag = next((c for c in ("passed", "success", "is_success") if c in cols), None)
    order = f'order by "{flag}" asc' if flag else ""
    return query(f"select * from {qualified} {order} limit ?", [limit])
