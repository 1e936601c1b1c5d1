"""``pingan run``: execute THE pipeline job in-process and print a summary.

The job is the one the schedules launch (``pingan_pipeline``), executed by
Dagster in this process against the instance under ``$PINGAN_DATA_DIR/dagster``,
so the run shows up in the Dagster UI like any other.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from contracts.entities import DUPLICATE, LOADED, REJECTED
from contracts.settings import Settings
from ingest.progress import Progress

# The summary says what failed; full logs (tracebacks included) stay in the Dagster instance.
QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class RunSummary:
    success: bool
    run_id: str
    seconds: float
    files: Counter[str] = field(default_factory=Counter)
    rows_loaded: int = 0
    dbt_models: int = 0
    dbt_tests: Counter[str] = field(default_factory=Counter)
    gx: Counter[str] = field(default_factory=Counter)
    late_sources: list[str] = field(default_factory=list)
    published_version: str | None = None
    lead_model: str | None = None
    failures: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"pingan run {self.run_id[:8]}: {'ok' if self.success else 'FAILED'} "
            f"in {self.seconds:.1f} s",
            f"  files:     {self.files['loaded']} loaded, {self.files['duplicate']} duplicate, "
            f"{self.files['rejected']} rejected"
            + (f", {self.files['missing']} missing" if self.files["missing"] else "")
            + f" ({self.rows_loaded} rows loaded)",
            f"  dbt:       {self.dbt_models} models built, {self.dbt_tests['passed']} tests passed, "
            f"{self.dbt_tests['warned']} warnings, {self.dbt_tests['failed']} failed",
            f"  GX checks: {self.gx['passed']} passed, {self.gx['warned']} warnings, "
            f"{self.gx['failed']} critical failures",
        ]
        if self.lead_model:
            out.append(f"  leads:     {self.lead_model}")
        if self.late_sources:
            out.append(f"  late:      {', '.join(self.late_sources)}")
        out.append(
            f"  published: {self.published_version}"
            if self.published_version
            else "  published: nothing new (the previous snapshot stays in place)"
        )
        out += [f"  error:     {f}" for f in self.failures]
        return out


def summarise(result, seconds: float) -> RunSummary:
    import dagster as dg

    from orchestration.defs.ingest.checks import FRESHNESS_CHECK
    from orchestration.defs.publish.assets import PUBLISHED_KEY
    from orchestration.failures import root_message

    s = RunSummary(success=result.success, run_id=result.run_id, seconds=seconds)
    for ev in result.get_asset_materialization_events():
        mat = ev.materialization
        key = mat.asset_key
        md = {k: v.value for k, v in mat.metadata.items()}
        if key.path[0] == "raw":
            for status in (LOADED, DUPLICATE, REJECTED):
                s.files[status] += int(md.get(f"files_{status}", 0))
            s.files["rejected"] += int(md.get("files_unrecognised", 0))
            s.files["missing"] += int(md.get("files_missing", 0))
            s.rows_loaded += int(md.get("rows_loaded", 0))
        elif key == PUBLISHED_KEY:
            s.published_version = str(md.get("version"))
        elif key.path[0] == "leads":
            s.lead_model = str(md.get("summary") or "")
        else:
            s.dbt_models += 1
    for ev in result.get_asset_check_evaluations():
        name = ev.check_name
        if name == FRESHNESS_CHECK:
            if not ev.passed:
                s.late_sources.append(
                    ev.description.split(":")[0] if ev.description else ev.asset_key.path[-1]
                )
        elif name.startswith("gx_"):
            if not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR:
                s.failures.append(
                    f"{'/'.join(ev.asset_key.path)} {name}: {ev.description or 'failed'}"[:600]
                )
            if ev.passed:
                s.gx["passed"] += 1
            elif ev.severity == dg.AssetCheckSeverity.WARN:
                s.gx["warned"] += 1
            else:
                s.gx["failed"] += 1
        elif ev.passed:
            s.dbt_tests["passed"] += 1
        else:  # dbt tests configured with severity warn do not fail the build
            s.dbt_tests["warned" if ev.severity == dg.AssetCheckSeverity.WARN else "failed"] += 1
    for ev in result.all_events:
        if ev.is_step_failure and ev.step_failure_data is not None:
            msg = root_message(ev.step_failure_data.error)
            s.failures.append(f"{ev.step_key}: {msg[:600]}")
    return s


def execute(
    settings: Settings,
    run_config: dict | None = None,
    tags: dict | None = None,
    progress: Progress | None = None,
):
    """Execute the pipeline job in-process; returns (ExecutionResult, seconds).

    With ``progress``, the run's events are followed as they are written
    (:mod:`orchestration.run_progress`): files, dbt models, checks, publish."""
    import uuid

    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.defs.publish.schedules import PIPELINE_JOB
    from orchestration.instance import prepare_dagster_home
    from orchestration.run_progress import RunWatcher, job_totals

    home = prepare_dagster_home(settings, set_env=False)
    defs = build_definitions(settings)
    job = defs.resolve_job_def(PIPELINE_JOB)
    config = {**QUIET_LOGGERS, **(run_config or {})}
    log = settings.data_dir / "logs" / "pingan_run.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    run_id = str(uuid.uuid4())  # chosen here, so the watcher can follow the run from its start
    start = time.perf_counter()
    # dagster-dbt echoes every dbt log line to stdout: keep them in a file, print a summary.
    # (The progress display writes to the stdout it was given, not the redirected one.)
    with (
        dg.DagsterInstance.from_config(str(home)) as instance,
        RunWatcher(instance, run_id, progress, *job_totals(job))
        if progress is not None
        else contextlib.nullcontext(),
        log.open("w", encoding="utf-8") as fh,
        contextlib.redirect_stdout(fh),
    ):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=config,
            run_id=run_id,
            tags={"pingan/run": "cli", **(tags or {})},
        )
    return result, time.perf_counter() - start


def run_pipeline(settings: Settings, *, full_refresh: bool = False) -> int:
    """Run the whole pipeline; print a summary; 0 when it succeeded, 1 otherwise.

    ``full_refresh`` tags the run so its dbt steps rebuild the incremental models."""
    from orchestration.defs.dbt.runner import FULL_REFRESH_TAGS, DbtProjectError
    from orchestration.failures import record_failure

    tags = FULL_REFRESH_TAGS if full_refresh else None
    try:
        with Progress() as progress:
            result, seconds = execute(settings, tags=tags, progress=progress)
    except DbtProjectError as exc:
        print(f"pingan run: {exc}", file=sys.stderr)
        return 1
    summary = summarise(result, seconds)
    print("\n".join(summary.lines()))
    if not summary.success:
        message = "; ".join(summary.failures) or "the run failed"
        record_failure(settings, summary.run_id, "pingan_pipeline", message)
        print(
            f"pingan run failed: {summary.failures[0] if summary.failures else message}",
            file=sys.stderr,
        )
        return 1
    return 0
