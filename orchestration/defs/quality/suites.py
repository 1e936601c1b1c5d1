"""Data quality with Great Expectations 1.x: suites derived from the entity contracts.

Great Expectations cannot use DuckDB as a SQL data source (its expectations
report "Observed N/A" through duckdb_engine), so each table is read from DuckDB
into a pandas DataFrame and validated with GX's pandas data source. The column
types are validated on the DuckDB catalog itself (a small "schema frame" of
expected vs actual type per column), because pandas dtypes of nullable columns
do not say what the warehouse stores.

Each check lives in one layer: dbt tests the keys (on the staging models, after
the newest version per key is chosen) and the share of out-of-contract
enumeration values (on the raw sources, before staging turns them into NULL);
these suites check volumes, types, ranges and business rules (time order,
plausible values).

Every expectation carries a severity in its ``meta``:

``critical``  the data is unusable downstream (missing columns, wrong types,
              rates outside [0, 1], systematic time travel). A failure blocks
              the downstream marts and the publish.
``warning``   worth a look but not blocking (out-of-range numbers, a shrinking
              table, isolated time travel, implausible values).

Results go to ``quality.check_results`` of the working warehouse, published with
the snapshot and shown on the dashboards' 数据质量 page. GX's own Data Docs are not
built: they load Bootstrap, jQuery, Vega and Font Awesome from CDNs, so on a
government network cut off from the internet (政务内网) they render unstyled with
empty tables. GX keeps its suites and recent results under ``<data dir>/gx/``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import pandas as pd

from contracts.entities import Entity

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

Severity = Literal["critical", "warning"]

# Tolerance of the row-count expectation: a staging table may not shrink by more than this.
ROW_COUNT_MAX_DROP = 0.10
# Validation results kept per suite under <data dir>/gx (older ones are pruned).
KEEP_VALIDATIONS = 30
# Sane floor area of a dwelling (m²): the contract's hard range is wider (1..5000) because
# it guards parsing; this one flags implausible registrations.
SANE_FLOOR_AREA = (5.0, 1000.0)

QUALITY_DDL = (
    "create schema if not exists quality",
    """
    create table if not exists quality.check_results (
        run_id          varchar not null,   -- Dagster run id (or 'adhoc')
        checked_at      timestamp not null, -- Asia/Shanghai local time
        kind            varchar not null,   -- gx | freshness
        entity          varchar not null,   -- entity or model the check is about
        relation        varchar,            -- table checked, e.g. staging.stg_hotline__tickets
        check_name      varchar not null,   -- e.g. not_null:ticket_id
        severity        varchar not null,   -- critical | warning
        column_name     varchar,
        passed          boolean not null,
        observed_value  varchar,            -- what was found, human-readable
        unexpected_count bigint,
        element_count   bigint,
        details         json
    )
    """,
)


@dataclass(frozen=True)
class Outcome:
    """The result of one expectation (or freshness evaluation) on one table."""

    entity: str
    check_name: str
    severity: Severity
    passed: bool
    observed_value: str
    column_name: str | None = None
    relation: str | None = None
    unexpected_count: int | None = None
    element_count: int | None = None
    kind: str = "gx"
    details: dict[str, Any] = field(default_factory=dict)


def ensure_quality_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in QUALITY_DDL:
        con.execute(ddl)


def record(con: duckdb.DuckDBPyConnection, run_id: str, outcomes: Iterable[Outcome]) -> int:
    """Append outcomes to ``quality.check_results``; returns the number of rows written."""
    from ingest.load import shanghai_now

    ensure_quality_schema(con)
    now = shanghai_now()
    rows = [
        (
            run_id,
            now,
            o.kind,
            o.entity,
            o.relation,
            o.check_name,
            o.severity,
            o.column_name,
            o.passed,
            o.observed_value,
            o.unexpected_count,
            o.element_count,
            json.dumps(o.details, ensure_ascii=False, default=str),
        )
        for o in outcomes
    ]
    if rows:
        con.executemany(
            "insert into quality.check_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    return len(rows)


def previous_row_count(con: duckdb.DuckDBPyConnection, entity: str, run_id: str) -> int | None:
    """Row count observed by the latest earlier run (for the row-count-change expectation)."""
    ensure_quality_schema(con)
    row = con.execute(
        """
        select observed_value from quality.check_results
        where entity = ? and check_name = 'row_count_change' and run_id <> ?
        order by checked_at desc limit 1
        """,
        [entity, run_id],
    ).fetchone()
    if not row or row[0] is None:
        return None
    try:
        return int(str(row[0]).split()[0])
    except ValueError:
        return None


# -- suite derivation -------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, with its severity and the columns it reads."""

    name: str
    severity: Severity
    expectation: Expectation
    columns: tuple[str, ...] = ()


def _meta(name: str, severity: Severity) -> dict[str, Any]:
    return {"check_name": name, "severity": severity}


def expected_types(ent: Entity) -> dict[str, str]:
    """Column -> DuckDB type every staging model of ``ent`` must expose (from the contracts)."""
    return {name: typ for name, typ, _ in ent.stored_columns()}


@dataclass(frozen=True)
class TimeOrder:
    """``later`` is not before ``earlier`` on at least ``mostly`` of the rows of ``entity``."""

    entity: str
    later: str
    earlier: str
    severity: Severity
    mostly: float


@dataclass(frozen=True)
class SaneRange:
    """A plausibility range, narrower than the contract's hard range (which guards parsing)."""

    entity: str
    column: str
    low: float
    high: float
    mostly: float


# The hand-written business expectations, each bound to its entity: a rule whose column
# disappears from the staging model fails (GX reports the missing column) instead of
# being dropped. tests/orchestration/defs/quality/test_suites.py checks every column is in the contract.
# A closing time before the opening time is a systematic defect when it is common
# (critical beyond 1 %), an isolated data-entry slip otherwise.
TIME_ORDER: tuple[TimeOrder, ...] = (
    TimeOrder("hotline_tickets", "closed_at", "received_at", "critical", 0.99),
    TimeOrder("hotline_tickets", "dispatched_at", "received_at", "warning", 1.0),
    TimeOrder("grid_events", "closed_at", "reported_at", "critical", 0.99),
    TimeOrder("police_cases", "solved_at", "occurred_at", "warning", 1.0),
    TimeOrder("police_cases", "filed_at", "occurred_at", "warning", 1.0),
    TimeOrder("police_floating_population", "deregistered_at", "registered_at", "warning", 1.0),
    TimeOrder("rental_houses", "lease_end", "lease_start", "warning", 1.0),
    TimeOrder("rental_hazards", "fixed_at", "found_at", "warning", 1.0),
)
# Sane floor area of a dwelling (m²): the contract's hard range is wider (1..5000).
SANE_RANGES: tuple[SaneRange, ...] = (
    SaneRange("rental_houses", "floor_area_m2", *SANE_FLOOR_AREA, mostly=0.99),
)


def business_rules(ent: Entity) -> list[Rule]:
    """The hand-written business expectations (time order, sane ranges) declared for ``ent``."""
    import great_expectations.expectations as gxe

    rules: list[Rule] = []
    for t in (t for t in TIME_ORDER if t.entity == ent.name):
        name = f"{t.later}_not_before_{t.earlier}"
        rules.append(
            Rule(
                name,
                t.severity,
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=t.later,
                    column_B=t.earlier,
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                    mostly=t.mostly,
                    meta=_meta(name, t.severity),
                ),
                (t.later, t.earlier),
            )
        )
    for r in (r for r in SANE_RANGES if r.entity == ent.name):
        name = f"{r.column.removesuffix('_m2')}_sane"
        rules.append(
            Rule(
                name,
                "warning",
                gxe.ExpectColumnValuesToBeBetween(
                    column=r.column,
                    min_value=r.low,
                    max_value=r.high,
                    mostly=r.mostly,
                    meta=_meta(name, "warning"),
                ),
                (r.column,),
            )
        )
    return rules


def staging_rules(ent: Entity, previous_rows: int | None) -> list[Rule]:
    """The GX expectations of a staging model: volume, ranges and business rules.

    Keys (not null, unique) are dbt tests of the staging models and enumerations dbt
    tests of the raw sources (ingest.dbt_sources): each check lives in one layer. Every
    rule is kept whether or not its column is present: a missing column fails the rule.
    """
    import great_expectations.expectations as gxe

    rules: list[Rule] = []
    for col in ent.columns:
        if col.minimum is not None or col.maximum is not None:
            name = f"range:{col.canonical}"
            rules.append(
                Rule(
                    name,
                    "warning",
                    gxe.ExpectColumnValuesToBeBetween(
                        column=col.canonical,
                        min_value=col.minimum,
                        max_value=col.maximum,
                        meta=_meta(name, "warning"),
                    ),
                    (col.canonical,),
                )
            )
    min_rows = 0 if previous_rows is None else math.floor(previous_rows * (1 - ROW_COUNT_MAX_DROP))
    rules.append(
        Rule(
            "row_count_change",
            "warning",
            gxe.ExpectTableRowCountToBeBetween(
                min_value=min_rows, meta=_meta("row_count_change", "warning")
            ),
        )
    )
    rules.extend(business_rules(ent))
    return rules


def schema_rule() -> Rule:
    import great_expectations.expectations as gxe

    name = "columns_and_types"
    return Rule(
        name,
        "critical",
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="expected_type", column_B="actual_type", meta=_meta(name, "critical")
        ),
        ("expected_type", "actual_type"),
    )


def rate_rules(columns: Sequence[str]) -> list[Rule]:
    """Rates (``*_rate`` columns) of a mart lie within [0, 1]."""
    import great_expectations.expectations as gxe

    rules = []
    for col in columns:
        if col.endswith("_rate"):
            name = f"rate_within_0_1:{col}"
            rules.append(
                Rule(
                    name,
                    "critical",
                    gxe.ExpectColumnValuesToBeBetween(
                        column=col, min_value=0, max_value=1, meta=_meta(name, "critical")
                    ),
                    (col,),
                )
            )
    return rules


# -- running suites ---------------------------------------------------------------------


def _gx_quiet() -> None:
    # No usage statistics (the machine has no network) and no progress bars in logs.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


class Validator:
    """A GX file context under ``<data dir>/gx`` that validates DataFrames (no Data Docs)."""

    def __init__(self, data_dir: Path):
        _gx_quiet()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self.root = data_dir
        self.context = gx.get_context(mode="file", project_root_dir=str(data_dir))
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.source = self.context.data_sources.add_or_update_pandas("pingan")

    def validate(
        self, suite_name: str, frame: pd.DataFrame, rules: Sequence[Rule]
    ) -> list[tuple[Rule, Any]]:
        """Validate ``frame`` against ``rules``; returns (rule, ExpectationValidationResult)."""
        gx = self._gx
        if not rules:
            return []
        try:
            asset = self.source.get_asset(suite_name)
        except LookupError:
            asset = self.source.add_dataframe_asset(suite_name)
        try:
            batch_def = asset.get_batch_definition("whole")
        except KeyError:
            batch_def = asset.add_batch_definition_whole_dataframe("whole")
        suite = gx.ExpectationSuite(name=suite_name, expectations=[r.expectation for r in rules])
        suite = self.context.suites.add_or_update(suite)
        vd = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_name, data=batch_def, suite=suite)
        )
        result = vd.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
        by_name = {r.name: r for r in rules}
        out = []
        for res in result.results:
            config = res.expectation_config
            name = (config.meta or {}).get("check_name") if config is not None else None
            if name in by_name:
                out.append((by_name[name], res))
        return out

    def prune(self, keep: int = KEEP_VALIDATIONS) -> int:
        """Drop all but the newest ``keep`` stored results per suite; returns how many went.

        Every run stores one result per suite: without pruning the store grows with the
        whole history of runs (the history that matters is in ``quality.check_results``).
        """
        store = self.root / "gx" / "uncommitted" / "validations"
        removed = 0
        for suite in (p for p in store.glob("*") if p.is_dir()):
            runs = sorted((p for p in suite.glob("*/*") if p.is_dir()), key=lambda p: p.name)
            for old in runs[:-keep] if keep else runs:
                shutil.rmtree(old, ignore_errors=True)
                removed += 1
        return removed

    def finish(self) -> None:
        """After a run's validations: prune the result store (Data Docs are not built)."""
        self.prune()


def _fmt(value: Any) -> str:
    """A value of an unexpected-values list, readable (timestamps without numpy noise)."""
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    if hasattr(value, "dtype") and str(getattr(value, "dtype", "")).startswith("datetime64"):
        return str(pd.Timestamp(value))
    return str(value)


def _observed(res: Any) -> tuple[str, int | None, int | None]:
    r = res.result or {}
    if "observed_value" in r:
        return str(r["observed_value"])[:500], None, None
    unexpected = r.get("unexpected_count")
    total = r.get("element_count")
    sample = [_fmt(v) for v in (r.get("partial_unexpected_list") or [])[:5]]
    text = f"{unexpected} unexpected of {total}"
    if unexpected:
        text += f" ({r.get('unexpected_percent', 0):.2f}%); e.g. {', '.join(sample)}"
    return text, unexpected, total


def to_outcomes(entity: str, relation: str, pairs: Sequence[tuple[Rule, Any]]) -> list[Outcome]:
    outcomes = []
    for rule, res in pairs:
        observed, unexpected, total = _observed(res)
        kwargs = res.expectation_config.kwargs
        column = kwargs.get("column") or ",".join(
            kwargs.get("column_list")
            or [c for c in (kwargs.get("column_A"), kwargs.get("column_B")) if c]
        )
        if rule.name == "columns_and_types":
            column = None
        exc = (res.exception_info or {}).get("exception_message") if res.exception_info else None
        outcomes.append(
            Outcome(
                entity=entity,
                relation=relation,
                check_name=rule.name,
                severity=rule.severity,
                passed=bool(res.success),
                observed_value=exc or observed,
                column_name=column or None,
                unexpected_count=unexpected,
                element_count=total,
                details={"expectation": res.expectation_config.type},
            )
        )
    return outcomes


def schema_frame(
    con: duckdb.DuckDBPyConnection, relation: str, expected: dict[str, str]
) -> pd.DataFrame:
    schema, table = relation.split(".", 1)
    actual = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    )
    return pd.DataFrame(
        {
            "column_name": list(expected),
            "expected_type": list(expected.values()),
            "actual_type": [actual.get(c, "(missing)") for c in expected],
        }
    )


def validate_staging(
    validator: Validator,
    con: duckdb.DuckDBPyConnection,
    ent: Entity,
    relation: str,
    run_id: str,
) -> list[Outcome]:
    """Validate one staging relation against the suite derived from ``ent``'s contract."""
    expected = expected_types(ent)
    schema_df = schema_frame(con, relation, expected)
    present = set(schema_df.loc[schema_df.actual_type != "(missing)", "column_name"])
    rules = staging_rules(ent, previous_row_count(con, ent.name, run_id))
    # only the columns that exist are read: a rule on a missing one fails in GX
    needed = sorted({c for r in rules for c in r.columns} & present)
    cols = ", ".join(f'"{c}"' for c in needed) or "1 as _none"
    frame = con.execute(f"select {cols} from {relation}").df()
    outcomes = to_outcomes(
        ent.name, relation, validator.validate(f"{ent.name}__schema", schema_df, [schema_rule()])
    )
    # Mismatches are easier to act on than "n unexpected": name them.
    bad = schema_df[schema_df.expected_type != schema_df.actual_type]
    if len(bad):
        outcomes[0] = Outcome(
            **{
                **outcomes[0].__dict__,
                "observed_value": "; ".join(
                    f"{r.column_name}: expected {r.expected_type}, found {r.actual_type}"
                    for r in bad.itertuples()
                )[:500],
            }
        )
    checked = to_outcomes(ent.name, relation, validator.validate(ent.name, frame, rules))
    # GX fails a rule whose column is missing with an opaque result: say which column
    missing = {r.name: [c for c in r.columns if c not in present] for r in rules}
    outcomes += [
        replace(
            o, passed=False, observed_value=f"column missing from {relation}: {', '.join(gone)}"
        )
        if (gone := missing.get(o.check_name))
        else o
        for o in checked
    ]
    return outcomes


def validate_rates(
    validator: Validator, con: duckdb.DuckDBPyConnection, model: str, relation: str
) -> list[Outcome]:
    schema, table = relation.split(".", 1)
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]
    rules = rate_rules(columns)
    if not rules:
        return []
    cols = ", ".join(f'"{c}"' for r in rules for c in r.columns)
    frame = con.execute(f"select {cols} from {relation}").df()
    return to_outcomes(model, relation, validator.validate(model, frame, rules))


def summarise(outcomes: Sequence[Outcome]) -> tuple[bool, bool, str]:
    """(critical_ok, warnings_ok, one-line summary) of a list of outcomes."""
    failed_critical = [o for o in outcomes if not o.passed and o.severity == "critical"]
    failed_warning = [o for o in outcomes if not o.passed and o.severity == "warning"]
    parts = [f"{len(outcomes)} expectations"]
    if failed_critical:
        parts.append(
            "critical failures: "
            + "; ".join(f"{o.entity}.{o.check_name} ({o.observed_value})" for o in failed_critical)
        )
    if failed_warning:
        parts.append("warnings: " + ", ".join(f"{o.entity}.{o.check_name}" for o in failed_warning))
    return not failed_critical, not failed_warning, "; ".join(parts)


def outcomes_markdown(outcomes: Sequence[Outcome]) -> str:
    lines = ["| check | severity | passed | observed |", "|---|---|---|---|"]
    for o in outcomes:
        observed = o.observed_value.replace("|", "/").replace("\n", " ")
        lines.append(
            f"| {o.check_name} | {o.severity} | {'✅' if o.passed else '❌'} | {observed} |"
        )
    return "\n".join(lines)
