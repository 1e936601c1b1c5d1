"""When the notices are written: after each successful monthly index run.

The monthly index run (``monthly_index``, 09:00 on the 1st) rebuilds and publishes
the month's alerts; once it has succeeded, this sensor launches ``notices_job`` on
the snapshot it published. Daily builds do not rewrite the notices.
"""

import dagster as dg

from orchestration.defs.notices.assets import NOTICES_KEY
from orchestration.defs.publish.schedules import WAREHOUSE_TAGS, pipeline_job

MONTHLY_RUN_TAG = ("pingan/run", "monthly_index")

notices_job = dg.define_asset_job(
    "notices_job",
    selection=dg.AssetSelection.assets(NOTICES_KEY),
    description="Write the newest month's notices (.docx, .pdf) from the published snapshot",
    # queued with the runs that build and publish, so it reads a finished snapshot
    tags=WAREHOUSE_TAGS,
)


@dg.run_status_sensor(
    name="notices_after_monthly_index",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[pipeline_job],
    request_job=notices_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a successful monthly index run, write that month's notices",
)
def notices_after_monthly_index(
    context: dg.RunStatusSensorContext,
) -> dg.RunRequest | dg.SkipReason:
    key, value = MONTHLY_RUN_TAG
    if context.dagster_run.tags.get(key) != value:
        return dg.SkipReason("not a monthly index run")
    return dg.RunRequest(run_key=context.dagster_run.run_id, tags={key: "notices"})
