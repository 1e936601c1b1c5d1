"""When the bulletin is written: after each successful monthly index run, like the notices
(``orchestration.defs.notices.schedules``); daily builds do not rewrite it."""

import dagster as dg

from orchestration.defs.bulletin.assets import BULLETIN_KEY
from orchestration.defs.notices.schedules import MONTHLY_RUN_TAG
from orchestration.defs.publish.schedules import WAREHOUSE_TAGS, pipeline_job

bulletin_job = dg.define_asset_job(
    "bulletin_job",
    selection=dg.AssetSelection.assets(BULLETIN_KEY),
    description="Write the newest month's bulletin (and quarter's) PDF from the published snapshot",
    # queued with the runs that build and publish, so it reads a finished snapshot
    tags=WAREHOUSE_TAGS,
)


@dg.run_status_sensor(
    name="bulletin_after_monthly_index",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[pipeline_job],
    request_job=bulletin_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a successful monthly index run, write that month's bulletin",
)
def bulletin_after_monthly_index(
    context: dg.RunStatusSensorContext,
) -> dg.RunRequest | dg.SkipReason:
    key, value = MONTHLY_RUN_TAG
    if context.dagster_run.tags.get(key) != value:
        return dg.SkipReason("not a monthly index run")
    return dg.RunRequest(run_key=context.dagster_run.run_id, tags={key: "bulletin"})
