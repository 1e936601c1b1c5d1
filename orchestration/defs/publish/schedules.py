"""The pipeline job and when it runs.

``pingan_pipeline`` is THE job: ingest every pending file, build dbt, run the
checks, publish. ``pingan run`` executes it in-process; the schedules launch it.

* daily build at 02:00 Asia/Shanghai, Monday to Saturday: the staging models rebuild
  only the keys delivered since the last build (incremental);
* weekly full refresh on Sunday at 02:00: the same job with every incremental model
  rebuilt from all of raw (tag ``pingan/full_refresh``), so nothing an incremental
  build could miss (a contract change, a hand-repaired raw table) outlives a week;
* monthly index run on the 1st at 09:00 Asia/Shanghai: the department indicators
  arrive at the start of the month, after the nightly build; the safety index
  draws on nearly every fact, so the run is the whole pipeline, tagged
  ``pingan/run=monthly_index``.
* freshness checks every hour (checks only: nothing is rebuilt).
"""

import dagster as dg

from contracts.entities import SYSTEMS
from orchestration.defs.dbt.runner import FULL_REFRESH_TAGS
from orchestration.defs.ingest.assets import ingest_op_name
from orchestration.defs.ingest.checks import source_freshness
from orchestration.instance import WAREHOUSE_TAGS

PIPELINE_JOB = "pingan_pipeline"
TIMEZONE = "Asia/Shanghai"
# Scheduled runs leave files modified within the last minute (still being written) for later.
SCHEDULED_RUN_CONFIG = {
    "ops": {ingest_op_name(s): {"config": {"settle_seconds": 60.0}} for s in SYSTEMS}
}

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    # the notices and the bulletin are written after the monthly run
    # (orchestration/defs/notices, orchestration/defs/bulletin)
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.assets("dashboards")
    - dg.AssetSelection.groups("notices")
    - dg.AssetSelection.groups("bulletin"),
    description="Ingest new exports, build the dbt models, validate, publish the snapshot",
    tags=WAREHOUSE_TAGS,
)

freshness_job = dg.define_asset_job(
    "source_freshness_job",
    selection=dg.AssetSelection.checks(source_freshness),
    description="Evaluate the freshness of every source (no rebuild)",
    tags=WAREHOUSE_TAGS,
)


def _pipeline_schedule(
    name: str, cron: str, description: str, tags: dict[str, str] | None = None
) -> dg.ScheduleDefinition:
    """A schedule of the pipeline job, tagged ``pingan/run=<name>``, letting files settle."""
    return dg.ScheduleDefinition(
        name=name,
        job=pipeline_job,
        run_config=SCHEDULED_RUN_CONFIG,
        cron_schedule=cron,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags={"pingan/run": name, **(tags or {})},
        description=description,
    )


daily_build = _pipeline_schedule(
    "daily_build",
    "0 2 * * 1-6",
    "Nightly ingest, incremental build, checks and publish (02:00, Monday-Saturday)",
)
weekly_full_refresh = _pipeline_schedule(
    "weekly_full_refresh",
    "0 2 * * 0",
    "Sunday's nightly run with every incremental model rebuilt from all of raw",
    FULL_REFRESH_TAGS,
)
monthly_index = _pipeline_schedule(
    "monthly_index",
    "0 9 1 * *",
    "Index run on the 1st of each month (09:00), after the indicators arrive",
)

hourly_freshness = dg.ScheduleDefinition(
    name="hourly_freshness",
    job=freshness_job,
    cron_schedule="15 * * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Freshness of every source, hourly",
)
