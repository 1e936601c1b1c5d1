"""Data quality (数据质量): freshness Dagster recorded, ledger, rejected rows, checks.

Part of :mod:`dashboards.data`, the one layer that knows SQL (its docstring has the rules).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from contracts.entities import (
    DELIVERED_STATUSES,
    ENTITIES,
    FRESHNESS_KIND,
    REJECTED,
    SYSTEM_LABELS,
)
from dashboards.data.snapshot import AccessDenied, Scope, _columns, _schema_tables, query, snapshot_key, table

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
