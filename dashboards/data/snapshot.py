"""Scope (row-level access), plumbing (connections and caches keyed by the snapshot's
version) and the snapshot's calendar: what every other data module builds on.

Part of :mod:`dashboards.data`, the one layer that knows SQL (its docstring has the rules).
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
    SOURCE_TIME_ZONE,
)
from contracts.settings import Settings, load_settings

STREAMS: dict[str, str] = {
    "hotline": "12345工单",
    "grid": "网格事件",
    "rental_hazard": "出租房隐患",
}
LEVELS: dict[str, str] = {"city": "全市", "district": "区县", "street": "街道(镇)"}
CONFIG_FILE = Path(__file__).parents[1] / "config.toml"


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
