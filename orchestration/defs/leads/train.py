"""Train the group-rental lead model on the warehouse and store it as versioned tables.

``train_group_rental_model(settings)`` is the one path: ``pingan build`` calls it
between dbt's two steps (orchestration.defs.dbt.build), the Dagster asset
``leads/group_rental_model`` calls it in ``pingan run``, and the tests and benchmarks
call it through either. It reads what dbt's first step built (the terms of every
dwelling, the police checks, the seeds) and writes schema ``leads``, which dbt's
second step reads as a source and scores from in SQL:

``leads.group_rental_models``            one row per model version (the newest is current)
``leads.group_rental_model_terms``       coefficients, the prior's, and the feature scaling
``leads.group_rental_model_covariance``  of [intercept, standardised coefficients]
``leads.group_rental_backtest``          the time-split backtest, by month and model
``leads.group_rental_backtest_ledger``   which check trained / evaluated each month
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from contracts.settings import Settings as PinganSettings
from orchestration.defs.leads.model import (
    FittedModel,
    Labels,
    Settings,
    backtest,
    fit_model,
    labels_from_checks,
    model_version,
    select_model,
)

SCHEMA = "leads"
TABLES = (
    "group_rental_models",
    "group_rental_model_terms",
    "group_rental_model_covariance",
    "group_rental_backtest",
    "group_rental_backtest_ledger",
)
INTERCEPT = "(intercept)"

DDL = {
    "group_rental_models": """(
        model_version varchar, trained_at timestamp, is_current boolean, model_kind varchar,
        prior_only_reason varchar, verdicts_used integer, positives integer, negatives integer,
        occupancy_signals integer, dwellings integer, seed integer,
        prior_pseudo_verdicts double, intercept double, prior_intercept double,
        calibration_method varchar, calibration_intercept double, calibration_slope double,
        backtest_months integer, backtest_precision_learned double,
        backtest_precision_prior double, backtest_hit_rate_learned double,
        backtest_hit_rate_prior double, backtest_hit_rate_with_exploration double,
        backtest_precision_exploit_only double,
        exploration_share double, exploration_z double, monthly_capacity integer,
        l2_c double)""",
    "group_rental_model_terms": """(
        model_version varchar, factor_code varchar, coefficient double,
        prior_coefficient double, standardised_coefficient double, feature_mean double,
        feature_std double)""",
    "group_rental_model_covariance": """(
        model_version varchar, term_i varchar, term_j varchar, covariance double)""",
    "group_rental_backtest": """(
        model_version varchar, month_start date, model varchar, model_kind varchar,
        train_verdicts integer, train_positives integer, leads_issued integer,
        exploration_leads integer, checked integer, confirmed integer,
        exploration_checked integer, exploration_confirmed integer,
        evaluated_verdicts integer, evaluated_positives integer, ranked_precision double)""",
    "group_rental_backtest_ledger": """(
        model_version varchar, month_start date, check_id varchar, role varchar)""",
}


@dataclass
class TrainResult:
    version: str
    kind: str
    prior_only_reason: str | None
    verdicts_used: int
    positives: int
    backtest_precision_learned: float | None
    backtest_precision_prior: float | None

    def line(self) -> str:
        if self.kind == "prior_only":
            return f"群租房线索模型 {self.version}: 仅用先验规则（{self.prior_only_reason}）"
        bt = (
            f"，回测命中率 学习 {self.backtest_precision_learned:.2f} / 先验 "
            f"{self.backtest_precision_prior:.2f}"
            if self.backtest_precision_learned is not None
            and self.backtest_precision_prior is not None
            else ""
        )
        return (
            f"群租房线索模型 {self.version}: 用 {self.verdicts_used} 条核查结论学习"
            f"（确认群租 {self.positives}）{bt}"
        )


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema ``leads`` and its tables when missing (dbt's sources must resolve).

    A table whose columns differ from ``DDL`` (written by an older Pingan) is recreated:
    its model versions are history, and the next training writes the current one.
    """
    con.execute(f"create schema if not exists {SCHEMA}")
    for name, ddl in DDL.items():
        con.execute(f"create table if not exists {SCHEMA}.{name} {ddl}")
        have = [r[0] for r in con.execute(f"describe {SCHEMA}.{name}").fetchall()]
        con.execute(f"create temp table _expected_{name} {ddl}")
        want = [r[0] for r in con.execute(f"describe _expected_{name}").fetchall()]
        con.execute(f"drop table _expected_{name}")
        if have != want:
            con.execute(f"drop table {SCHEMA}.{name}")
            con.execute(f"create table {SCHEMA}.{name} {ddl}")


def _read_inputs(
    con: duckdb.DuckDBPyConnection,
) -> tuple[np.ndarray, list[str], list[str], np.ndarray, pd.DataFrame, pd.Series, Settings]:
    terms = con.execute(
        "select house_id, factor_code, intensity from intermediate.int_group_rental_terms"
    ).df()
    factors = con.execute(
        "select factor_code, weight from marts.group_rental_factors order by factor_code"
    ).df()
    settings = Settings.from_rows(
        dict(con.execute("select setting, value from marts.group_rental_model_settings").fetchall())
    )
    wide = terms.pivot(index="house_id", columns="factor_code", values="intensity")
    term_codes = list(factors["factor_code"])
    wide = wide.reindex(columns=term_codes).fillna(0.0).sort_index()
    checks = con.execute(
        """select check_id, house_id, lead_id, checked_at, verdict, occupants_found
        from marts.fct_rental_checks order by checked_at, check_id"""
    ).df()
    rooms = (
        con.execute("select house_id, rooms from intermediate.int_dwelling_features")
        .df()
        .set_index("house_id")["rooms"]
    )
    return (
        wide.to_numpy(dtype=float),
        list(wide.index),
        term_codes,
        factors["weight"].to_numpy(dtype=float),
        checks,
        rooms,
        settings,
    )


def _mean_or_none(values: pd.Series) -> float | None:
    values = values.dropna()
    return float(values.mean()) if len(values) else None


def _hit_rate(figures: pd.DataFrame, model: str) -> float | None:
    rows = figures[figures["model"] == model] if len(figures) else figures
    checked = rows["checked"].sum() if len(rows) else 0
    return float(rows["confirmed"].sum() / checked) if checked else None


def train_group_rental_model(
    settings: PinganSettings, *, now: datetime | None = None
) -> TrainResult:
    """Fit the model on ``settings.warehouse`` and store it (see the module docstring)."""
    con = duckdb.connect(str(settings.warehouse))
    try:
        ensure_tables(con)
        x, houses, terms, prior_weight, checks, rooms, ms = _read_inputs(con)
        labels = labels_from_checks(checks, rooms, set(houses), ms)
        model = fit_model(x, houses, terms, prior_weight, labels, ms)
        version = model_version(x, houses, terms, prior_weight, labels, ms)
        figures, ledger = backtest(x, houses, terms, prior_weight, checks, rooms, ms)
        model = select_model(model, x, houses, labels, figures, ms)
        _store(con, version, model, labels, figures, ledger, ms, len(houses), now)
    finally:
        con.close()
    summary = _summary(figures)
    return TrainResult(
        version,
        model.kind,
        model.prior_only_reason,
        model.verdicts_used,
        model.positives,
        summary["learned"],
        summary["prior_only"],
    )


def _summary(figures: pd.DataFrame) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name in ("learned", "prior_only", "learned_with_exploration", "learned_exploit_only"):
        rows = figures[figures["model"] == name] if len(figures) else figures
        out[name] = _mean_or_none(rows["ranked_precision"]) if len(rows) else None
    return out


def _store(
    con: duckdb.DuckDBPyConnection,
    version: str,
    model: FittedModel,
    labels: Labels,
    figures: pd.DataFrame,
    ledger: pd.DataFrame,
    ms: Settings,
    dwellings: int,
    now: datetime | None,
) -> None:
    trained_at = (now or datetime.now(UTC)).replace(tzinfo=None)
    summary = _summary(figures)
    header = pd.DataFrame(
        [
            {
                "model_version": version,
                "trained_at": trained_at,
                "is_current": True,
                "model_kind": model.kind,
                "prior_only_reason": model.prior_only_reason,
                "verdicts_used": model.verdicts_used,
                "positives": model.positives,
                "negatives": model.negatives,
                "occupancy_signals": model.occupancy_signals,
                "dwellings": dwellings,
                "seed": ms.seed,
                "prior_pseudo_verdicts": ms.prior_pseudo_verdicts,
                "intercept": model.intercept,
                "prior_intercept": model.prior_intercept,
                "calibration_method": model.calibration_method,
                "calibration_intercept": model.calibration_intercept,
                "calibration_slope": model.calibration_slope,
                "backtest_months": int(figures["month_start"].nunique()) if len(figures) else 0,
                "backtest_precision_learned": summary["learned"],
                "backtest_precision_prior": summary["prior_only"],
                "backtest_hit_rate_learned": _hit_rate(figures, "learned"),
                "backtest_hit_rate_prior": _hit_rate(figures, "prior_only"),
                "backtest_hit_rate_with_exploration": _hit_rate(
                    figures, "learned_with_exploration"
                ),
                "backtest_precision_exploit_only": summary["learned_exploit_only"],
                "exploration_share": ms.exploration_share,
                "exploration_z": ms.exploration_z,
                "monthly_capacity": ms.monthly_capacity,
                # the penalty the cross-validation chose (null: the prior itself)
                "l2_c": model.l2_c,
            }
        ]
    )
    std_coef = model.coef * model.std
    term_rows = pd.DataFrame(
        {
            "model_version": version,
            "factor_code": model.terms,
            "coefficient": model.coef,
            "prior_coefficient": model.prior_coef,
            "standardised_coefficient": std_coef,
            "feature_mean": model.mean,
            "feature_std": model.std,
        }
    )
    names = [INTERCEPT, *model.terms]
    cov_rows = pd.DataFrame(
        [
            {"model_version": version, "term_i": a, "term_j": b, "covariance": model.cov[i, j]}
            for i, a in enumerate(names)
            for j, b in enumerate(names)
        ]
    )
    figures = figures.assign(model_version=version) if len(figures) else figures
    ledger = ledger.assign(model_version=version)
    con.execute("begin")
    try:
        for table in TABLES:
            con.execute(f"delete from {SCHEMA}.{table} where model_version = ?", [version])
        con.execute(f"update {SCHEMA}.group_rental_models set is_current = false")
        for table, frame in (
            ("group_rental_models", header),
            ("group_rental_model_terms", term_rows),
            ("group_rental_model_covariance", cov_rows),
            ("group_rental_backtest", figures),
            ("group_rental_backtest_ledger", ledger),
        ):
            if len(frame):
                cols = [r[0] for r in con.execute(f"describe {SCHEMA}.{table}").fetchall()]
                con.register("frame", frame[cols])
                con.execute(f"insert into {SCHEMA}.{table} select * from frame")
                con.unregister("frame")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
