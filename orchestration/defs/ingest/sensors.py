"""A sensor per source system: new or changed files in its landing folder trigger their ingest."""

import dagster as dg
from dagster import SensorEvaluationContext

from contracts.entities import ENTITIES, SYSTEMS
from orchestration.defs.ingest.assets import ingest_op_name, raw_key
from orchestration.defs.ingest.landing import evaluate_sensor
from orchestration.instance import WAREHOUSE_TAGS
from orchestration.resources import PinganResource

# A file modified within this many seconds is still being written: wait for the next tick.
SETTLE_SECONDS = 30.0


def ingest_job_name(system: str) -> str:
    return f"ingest_{system}_job"


ingest_jobs = {
    system: dg.define_asset_job(
        ingest_job_name(system),
        selection=dg.AssetSelection.assets(
            *(raw_key(e.name) for e in ENTITIES if e.system == system)
        ),
        description=f"Ingest the named files of landing/{system}/ into raw.* (run by its sensor)",
        tags=WAREHOUSE_TAGS,
    )
    for system in SYSTEMS
}


def build_landing_sensor(system: str) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"landing_{system}",
        job=ingest_jobs[system],
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Watches landing/{system}/: new or changed files trigger their ingest",
    )
    def _sensor(context: SensorEvaluationContext, pingan: PinganResource):
        decision = evaluate_sensor(
            pingan.settings, system, context.cursor, settle_seconds=SETTLE_SECONDS
        )
        context.update_cursor(decision.cursor)
        if not decision.paths:
            return dg.SkipReason(decision.skip_reason or "nothing to do")
        return dg.RunRequest(
            run_key=decision.run_key,
            run_config={
                "ops": {
                    ingest_op_name(system): {"config": {"paths": [str(p) for p in decision.paths]}}
                }
            },
            tags={"pingan/system": system, "pingan/files": str(len(decision.paths))},
        )

    return _sensor


landing_sensors = [build_landing_sensor(system) for system in SYSTEMS]
