"""`pingan run`'s progress follows the Dagster run's own events as they are written."""

import io
import uuid

import dagster as dg
from dagster import AssetExecutionContext
from rich.console import Console

from ingest.load import FileResult
from ingest.progress import Progress
from orchestration.run_progress import RunWatcher, job_totals


def _file(name: str, rows: int) -> FileResult:
    return FileResult(
        name, f"/l/{name}", "sha", "hotline_tickets", "loaded", rows, rows, 0, 0, None
    )


@dg.multi_asset(name="ingest_hotline", specs=[dg.AssetSpec(["raw", "hotline_tickets"])])
def ingest_hotline(context: AssetExecutionContext) -> dg.MaterializeResult:
    for name, rows in (("a.csv", 20), ("b.csv", 7)):
        context.log.info(_file(name, rows).line())  # as the real ingest step logs them
    return dg.MaterializeResult()


@dg.asset(deps=[["raw", "hotline_tickets"]])
def fct_tickets() -> None:
    pass


@dg.asset_check(asset=fct_tickets)
def tickets_have_keys() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False)


@dg.asset(deps=[fct_tickets])
def published_warehouse() -> None:
    pass


def _run(progress: Progress) -> None:
    defs = dg.Definitions(
        assets=[ingest_hotline, fct_tickets, published_warehouse],
        asset_checks=[tickets_have_keys],
        jobs=[dg.define_asset_job("pipeline")],
    )
    job = defs.resolve_job_def("pipeline")
    run_id = str(uuid.uuid4())
    with (
        dg.DagsterInstance.ephemeral() as instance,
        RunWatcher(instance, run_id, progress, *job_totals(job)),
    ):
        assert job.execute_in_process(instance=instance, run_id=run_id).success


def test_plain_run_progress_is_one_line_per_step_and_a_total_per_stage() -> None:
    out = io.StringIO()
    with Progress(Console(file=out, force_terminal=False)) as progress:
        _run(progress)
    lines = out.getvalue().splitlines()
    assert "step ingest_hotline: started" in lines and "step published_warehouse: done" in lines, (
        lines
    )
    totals = {line.split(":")[0]: line for line in lines if " in " in line}
    assert totals["files"].startswith("files: 2 files, 27 rows")
    assert totals["dbt models"].startswith("dbt models: 1/1 built")
    assert totals["checks"].startswith("checks: 1/1 evaluated, 1 not passed")
    assert totals["publish"].startswith("publish: 1/1 snapshot")
    assert "\x1b" not in out.getvalue()


def test_live_run_progress_draws_bars() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with Progress(console) as progress:
        _run(progress)
    text = out.getvalue()
    assert "\x1b" in text and "dbt models" in text and "27 rows" in text
