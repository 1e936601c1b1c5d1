"""``pingan build``: run ``dbt build`` on the warehouse and report failures clearly.

``dbt_build(settings)`` is what ``pingan build``, the tests and the benchmarks call. It
starts dbt exactly as Dagster's dbt assets do (:func:`orchestration.defs.dbt.runner.invoke`:
the same resource, environment, target folder and log) and reads the outcome of each
node from the invocation's ``run_results.json``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from contracts.settings import Settings
from orchestration.defs.dbt.runner import (
    LEADS_SELECT,
    dbt_args,
    error_lines,
    log_dir,
    run_quietly,
    run_results,
)

FAILING_STATUSES = {"error", "fail", "runtime error"}


@dataclass(frozen=True)
class NodeFailure:
    """One node that did not pass: a model/seed that errored or a test that failed."""

    node: str  # e.g. model.pingan.mart_safety_index
    resource_type: str  # model | test | seed | ...
    status: str  # error | fail | runtime error
    message: str  # first line of dbt's message

    def line(self) -> str:
        return f"{self.status.upper()} {self.node}: {self.message}"


@dataclass
class DbtBuildResult:
    success: bool
    summary: str  # one line per failing node with the reason ('' when all passed)
    failures: list[NodeFailure] = field(default_factory=list)
    elapsed_s: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)  # "model:success" -> n, ...
    warnings: list[str] = field(default_factory=list)  # tests that warned
    notes: list[str] = field(default_factory=list)  # e.g. the lead model that was trained
    # execution seconds of every node of every invocation (run_results keeps only the last)
    node_seconds: dict[str, float] = field(default_factory=dict)


def _first_line(text: object) -> str:
    lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _message(result: dict[str, Any]) -> str:
    """The most telling line of a node's message (dbt puts the database error last)."""
    text = str(result.get("message") or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        failures = result.get("failures")
        return f"{failures} failing rows" if failures else "failed"
    if any("schemas on this incremental model are out of sync" in ln for ln in lines):
        # dbt's advice names its own config key: say what a Pingan user runs instead
        return (
            "the table's columns differ from the model's (a contract changed since it was "
            "built): rebuild it with `pingan run --full-refresh` (or `pingan build --full-refresh`)"
        )
    for ln in lines:
        if "Error" in ln and len(ln) > 20:
            return ln[:300]
    return lines[0][:300]


def _prepare_warehouse(settings: Settings) -> str | None:
    """Make sure every raw table exists (sources must resolve); an error text or None."""
    import duckdb

    from contracts.support_tables import ensure_raw_schema

    if not settings.warehouse.exists():
        return f"warehouse {settings.warehouse} does not exist: run `pingan ingest` first"
    try:
        con = duckdb.connect(str(settings.warehouse))
    except duckdb.Error as exc:
        return f"cannot open warehouse {settings.warehouse}: {_first_line(exc)}"
    try:
        ensure_raw_schema(con)
    finally:
        con.close()
    return None


def dbt_build(
    settings: Settings,
    *,
    select: str | None = None,
    dbt_vars: dict[str, object] | None = None,
    full_refresh: bool = False,
) -> DbtBuildResult:
    """Run ``dbt build`` (models, seeds, tests) on ``settings.warehouse``.

    Without ``select``: everything but the lead scoring, then the lead model's training
    (``train_group_rental_model``, the function the Dagster asset calls), then the lead
    scoring and what follows it. With ``select``: that selection in one invocation.
    ``full_refresh`` rebuilds the incremental models (staging) from all of raw.
    """
    started = time.perf_counter()
    problem = _prepare_warehouse(settings)
    if problem:
        failure = NodeFailure("warehouse", "warehouse", "error", problem)
        return DbtBuildResult(False, failure.line(), [failure], time.perf_counter() - started)
    if select:
        return _invoke(
            settings, started, select=select, dbt_vars=dbt_vars, full_refresh=full_refresh
        )
    first = _invoke(
        settings, started, exclude=LEADS_SELECT, dbt_vars=dbt_vars, full_refresh=full_refresh
    )
    if not first.success:
        return first
    from orchestration.defs.leads.train import train_group_rental_model

    try:
        trained = train_group_rental_model(settings)
    except Exception as exc:  # one line for the user; the traceback is not theirs to read
        failure = NodeFailure("leads.group_rental_model", "training", "error", _first_line(exc))
        first.failures.append(failure)
        first.success = False
        first.summary = failure.line()
        return first
    second = _invoke(settings, started, select=LEADS_SELECT, dbt_vars=dbt_vars)
    counts = dict(first.counts)
    for key, n in second.counts.items():
        counts[key] = counts.get(key, 0) + n
    return DbtBuildResult(
        second.success,
        second.summary,
        first.failures + second.failures,
        time.perf_counter() - started,
        counts,
        first.warnings + second.warnings,
        [trained.line()],
        {**first.node_seconds, **second.node_seconds},
    )


def _invoke(
    settings: Settings,
    started: float,
    *,
    select: str | None = None,
    exclude: str | None = None,
    dbt_vars: dict[str, object] | None = None,
    full_refresh: bool = False,
) -> DbtBuildResult:
    args = dbt_args(
        settings,
        "build",
        select=select,
        exclude=exclude,
        dbt_vars=dbt_vars,
        full_refresh=full_refresh,
    )
    invocation, events = run_quietly(settings, args)
    elapsed = time.perf_counter() - started
    results = run_results(settings)
    if results is None:  # dbt stopped before running a node (the project does not parse)
        errors = error_lines(events)
        message = _first_line(errors[0]) if errors else "dbt could not run (see the dbt log)"
        failure = NodeFailure("dbt", "project", "error", message)
        return DbtBuildResult(False, failure.line(), [failure], elapsed)

    failures: list[NodeFailure] = []
    warnings: list[str] = []
    counts: dict[str, int] = {}
    node_seconds: dict[str, float] = {}
    for r in results["results"]:
        status = str(r["status"])
        node = str(r["unique_id"])
        rtype = node.split(".", 1)[0]  # model.pingan.x, test.pingan.y, unit_test.pingan.m.t
        counts[f"{rtype}:{status}"] = counts.get(f"{rtype}:{status}", 0) + 1
        node_seconds[node] = float(r.get("execution_time") or 0.0)
        if status in FAILING_STATUSES:
            failures.append(NodeFailure(node, rtype, status, _message(r)))
        elif status == "warn":
            warnings.append(f"WARN {node}: {_message(r)}")
    success = invocation.process.returncode == 0 and not failures
    summary = "\n".join(f.line() for f in failures)
    if not success and not summary:
        summary = "dbt build failed (see the dbt log)"
    return DbtBuildResult(success, summary, failures, elapsed, counts, warnings, [], node_seconds)


def _count(counts: dict[str, int], *, types: tuple[str, ...], statuses: tuple[str, ...]) -> int:
    return sum(
        n
        for key, n in counts.items()
        if key.split(":", 1)[0] in types and key.split(":", 1)[1] in statuses
    )


def run_build(settings: Settings, *, full_refresh: bool = False) -> int:
    """``pingan build``: run dbt build and print a summary; exit code 0 or 1."""
    how = " (full refresh)" if full_refresh else ""
    print(f"dbt build on {settings.warehouse}{how} ...", flush=True)
    result = dbt_build(settings, full_refresh=full_refresh)
    if not result.counts:  # dbt did not get to run any node
        print(result.summary, file=sys.stderr)
        return 1
    c = result.counts
    built = _count(c, types=("model", "seed", "snapshot"), statuses=("success",))
    tests_ok = _count(c, types=("test", "unit_test"), statuses=("pass", "warn"))
    skipped = _count(
        c, types=("model", "seed", "test", "unit_test", "snapshot"), statuses=("skipped",)
    )
    print(
        f"{built} models/seeds built, {tests_ok} tests passed"
        f" ({len(result.warnings)} with warnings), {len(result.failures)} failed,"
        f" {skipped} skipped, in {result.elapsed_s:.1f}s"
    )
    for note in result.notes:
        print(note)
    for w in result.warnings:
        print(w)
    if not result.success:
        print(result.summary, file=sys.stderr)
        print(f"logs: {log_dir(settings)}", file=sys.stderr)
        return 1
    return 0
