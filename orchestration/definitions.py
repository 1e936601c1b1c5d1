"""Pingan's Dagster code location: the domains of ``orchestration/defs`` merged.

``dagster dev -m orchestration.definitions`` loads ``defs``, configured from
the ``PINGAN_*`` environment like the CLI. ``build_definitions(settings)``
builds the same definitions for other settings (``pingan run --db``, tests).

All steps of a run execute in one process, one after another: DuckDB allows a
single writing process, and runs that write are serialised by the run queue's
``pingan/warehouse`` tag limit (see orchestration.instance).
"""

from __future__ import annotations

import dagster as dg

from contracts.settings import Settings, load_settings
from orchestration.defs.dbt.runner import dbt_resource
from orchestration.resources import PinganResource


def _ingest_defs() -> dg.Definitions:
    from orchestration.defs.ingest.assets import ingest_assets, landing_specs
    from orchestration.defs.ingest.checks import source_freshness
    from orchestration.defs.ingest.sensors import ingest_jobs, landing_sensors

    return dg.Definitions(
        assets=[*landing_specs, *ingest_assets],
        asset_checks=[source_freshness],
        jobs=list(ingest_jobs.values()),
        sensors=landing_sensors,
    )


def _dbt_defs() -> tuple[dg.Definitions, list[dg.AssetsDefinition]]:
    from orchestration.defs.dbt.assets import build_dbt_assets

    assets = build_dbt_assets()
    return dg.Definitions(assets=assets), assets


def _leads_defs() -> dg.Definitions:
    from orchestration.defs.leads.assets import group_rental_model

    return dg.Definitions(assets=[group_rental_model])


def _quality_defs() -> dg.Definitions:
    from orchestration.defs.quality.checks import build_quality_checks

    return dg.Definitions(asset_checks=build_quality_checks())


def _publish_defs(dbt_assets: list[dg.AssetsDefinition]) -> dg.Definitions:
    from orchestration.defs.publish.assets import build_publish_assets
    from orchestration.defs.publish.schedules import (
        daily_build,
        freshness_job,
        hourly_freshness,
        monthly_index,
        pipeline_job,
        weekly_full_refresh,
    )
    from orchestration.defs.publish.sensors import record_run_failures

    downstream = [a for a in dbt_assets if a.op.name in ("dbt_marts", "dbt_leads")] or dbt_assets
    return dg.Definitions(
        assets=build_publish_assets(downstream),
        jobs=[pipeline_job, freshness_job],
        schedules=[daily_build, weekly_full_refresh, monthly_index, hourly_freshness],
        sensors=[record_run_failures],
    )


def _notices_defs() -> dg.Definitions:
    from orchestration.defs.notices.assets import notice_documents
    from orchestration.defs.notices.schedules import notices_after_monthly_index, notices_job

    return dg.Definitions(
        assets=[notice_documents], jobs=[notices_job], sensors=[notices_after_monthly_index]
    )


def _bulletin_defs() -> dg.Definitions:
    from orchestration.defs.bulletin.assets import bulletin
    from orchestration.defs.bulletin.schedules import bulletin_after_monthly_index, bulletin_job

    return dg.Definitions(
        assets=[bulletin], jobs=[bulletin_job], sensors=[bulletin_after_monthly_index]
    )


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    dbt_defs, dbt_assets = _dbt_defs()
    merged = dg.Definitions.merge(
        _ingest_defs(),
        dbt_defs,
        _leads_defs(),
        _quality_defs(),
        _publish_defs(dbt_assets),
        _notices_defs(),
        _bulletin_defs(),
    )
    return dg.Definitions.merge(
        merged,
        dg.Definitions(
            resources={"pingan": PinganResource.from_settings(settings), "dbt": dbt_resource()},
            executor=dg.in_process_executor,
        ),
    )


defs = build_definitions(load_settings())
