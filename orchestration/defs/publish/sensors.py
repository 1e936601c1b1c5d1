"""Run failures are recorded (and notified) wherever the run came from."""

import dagster as dg
from dagster import RunFailureSensorContext

from orchestration.failures import record_failure, root_message
from orchestration.resources import PinganResource


def failure_message(context: RunFailureSensorContext) -> str:
    steps = [
        f"{e.step_key}: {root_message(e.step_failure_data.error)}"[:600]
        for e in context.get_step_failure_events()
        if e.is_step_failure and e.step_failure_data.error is not None
    ]
    return "; ".join(steps) or (context.failure_event.message or "run failed")


@dg.run_failure_sensor(
    name="record_run_failures",
    monitor_all_code_locations=False,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Appends failed runs to <data dir>/logs/run_failures.jsonl and notifies",
)
def record_run_failures(context: RunFailureSensorContext, pingan: PinganResource) -> None:
    record_failure(
        pingan.settings,
        context.dagster_run.run_id,
        context.dagster_run.job_name,
        failure_message(context),
    )
