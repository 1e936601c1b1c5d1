"""Run ``dbt build`` on the warehouse, in-process, and report failures clearly.

``dbt_build(settings)`` is the one code path: ``pingan build`` calls it through
:func:`run_build`, tests call it directly, and Dagster loads the same project
with dagster-dbt. The warehouse path and the truth folder reach dbt through the
environment variables ``profiles.yml`` and ``dbt_project.yml`` read
(``PINGAN_DB``, ``PINGAN_TRUTH_DIR``), set for the duration of the invocation.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from contracts.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
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


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _first_line(text: object) -> str:
    lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _message(result: object) -> str:
    """The most telling line of a node's message (dbt puts the database error last)."""
    text = str(getattr(result, "message", "") or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        failures = getattr(result, "failures", None)
        return f"{failures} failing rows" if failures else "failed"
    for ln in lines:
        if "Error" in ln and len(ln) > 20:
            return ln[:300]
    return lines[0][:300]


def dbt_args(
    settings: Settings,
    command: str = "build",
    select: str | None = None,
    exclude: str | None = None,
    dbt_vars: dict[str, object] | None = None,
) -> list[str]:
    target = settings.data_dir / "dbt" / "target"
    logs = settings.data_dir / "dbt" / "logs"
    args = [
        command,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(logs),
        # the console stays quiet (callers print their own summary); the full log,
        # with every failure's detail, goes to <data dir>/dbt/logs/dbt.log
        "--log-level",
        "none",
        "--log-level-file",
        "info",
        "--no-use-colors",
    ]
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    if dbt_vars:
        # overrides of dbt_project.yml vars for this run (e.g. a sensitivity study)
        args += ["--vars", json.dumps(dbt_vars, ensure_ascii=False)]
    return args


def dbt_env(settings: Settings) -> dict[str, str]:
    truth = settings.truth_dir
    return {
        "PINGAN_DB": str(settings.warehouse),
        "PINGAN_TRUTH_DIR": str(truth) if truth.is_dir() else "",
    }


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


def _release_duckdb() -> None:
    """Close the warehouse connection dbt-duckdb keeps open in-process after a run.

    dbt-duckdb caches one DuckDB database handle per process (for speed across
    invocations); left open, it locks the warehouse file against the next step in the
    same process (publishing the snapshot, a read-only query). There is no public API
    to release it, so this reaches into the adapter's connection manager.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - the adapter is a dependency
        return
    env = getattr(DuckDBConnectionManager, "_ENV", None)
    if env is not None:
        with contextlib.suppress(Exception):
            env.close()
    DuckDBConnectionManager.close_all_connections()


# dbt runs in two steps around the training of the group-rental lead model: the models
# that score from the fitted model (schema leads, a dbt source) and everything after
# them are the second step. Dagster splits its dbt assets on the same selector.
LEADS_SELECT = "source:leads+"


def dbt_build(
    settings: Settings, *, select: str | None = None, dbt_vars: dict[str, object] | None = None
) -> DbtBuildResult:
    """Run ``dbt build`` (models, seeds, tests) on ``settings.warehouse``.

    Without ``select``: everything but the lead scoring, then the lead model's training
    (``train_group_rental_model``, the function the Dagster asset calls), then the lead
    scoring and what follows it. With ``select``: that selection in one invocation.
    """
    started = time.perf_counter()
    problem = _prepare_warehouse(settings)
    if problem:
        failure = NodeFailure("warehouse", "warehouse", "error", problem)
        return DbtBuildResult(False, failure.line(), [failure], time.perf_counter() - started)
    if select:
        return _invoke(settings, started, select=select, dbt_vars=dbt_vars)
    first = _invoke(settings, started, exclude=LEADS_SELECT, dbt_vars=dbt_vars)
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
    )


def _invoke(
    settings: Settings,
    started: float,
    *,
    select: str | None = None,
    exclude: str | None = None,
    dbt_vars: dict[str, object] | None = None,
) -> DbtBuildResult:
    from dbt.cli.main import dbtRunner

    with _environment(dbt_env(settings)):
        try:
            res = dbtRunner().invoke(dbt_args(settings, "build", select, exclude, dbt_vars))
        finally:
            _release_duckdb()
    elapsed = time.perf_counter() - started

    if res.exception is not None or res.result is None:
        message = _first_line(res.exception) or "dbt could not run (see the dbt log)"
        failure = NodeFailure("dbt", "project", "error", message)
        return DbtBuildResult(False, failure.line(), [failure], elapsed)

    failures: list[NodeFailure] = []
    warnings: list[str] = []
    counts: dict[str, int] = {}
    for r in res.result.results:
        status = str(getattr(r.status, "value", r.status))
        rtype = str(getattr(r.node.resource_type, "value", r.node.resource_type))
        counts[f"{rtype}:{status}"] = counts.get(f"{rtype}:{status}", 0) + 1
        if status in FAILING_STATUSES:
            failures.append(NodeFailure(r.node.unique_id, rtype, status, _message(r)))
        elif status == "warn":
            warnings.append(f"WARN {r.node.unique_id}: {_message(r)}")
    success = bool(res.success) and not failures
    summary = "\n".join(f.line() for f in failures)
    if not success and not summary:
        summary = "dbt build failed (see the dbt log)"
    return DbtBuildResult(success, summary, failures, elapsed, counts, warnings)


def _count(counts: dict[str, int], *, types: tuple[str, ...], statuses: tuple[str, ...]) -> int:
    return sum(
        n
        for key, n in counts.items()
        if key.split(":", 1)[0] in types and key.split(":", 1)[1] in statuses
    )


def run_build(settings: Settings) -> int:
    """``pingan build``: run dbt build and print a summary; exit code 0 or 1."""
    print(f"dbt build on {settings.warehouse} ...", flush=True)
    result = dbt_build(settings)
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
        print(f"logs: {settings.data_dir / 'dbt' / 'logs'}", file=sys.stderr)
        return 1
    return 0
