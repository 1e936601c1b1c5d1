"""The published snapshot, and the dashboards that read it (the end of the lineage)."""

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.defs.publish.snapshot import publish
from orchestration.instance import WAREHOUSE_TAGS
from orchestration.resources import PinganResource

PUBLISHED_KEY = dg.AssetKey(["published_warehouse"])


def build_publish_assets(upstream: list[dg.AssetsDefinition]) -> list:
    deps = [key for a in upstream for key in a.keys]

    @dg.asset(
        key=PUBLISHED_KEY,
        deps=deps,
        group_name="publish",
        kinds={"duckdb"},
        description=(
            "Read-only snapshot of the marts, quality results and ingest records "
            "(published/warehouse.duckdb), replaced atomically after a good build"
        ),
        op_tags=WAREHOUSE_TAGS,
    )
    def published_warehouse(
        context: AssetExecutionContext, pingan: PinganResource
    ) -> dg.MaterializeResult:
        pub = publish(pingan.settings, run_id=context.run.run_id)
        context.log.info(f"published {pub.path} version {pub.version}")
        return dg.MaterializeResult(
            metadata={
                "version": pub.version,
                "path": str(pub.path),
                "mart_tables": pub.tables,
                "bytes": pub.bytes,
            }
        )

    dashboards = dg.AssetSpec(
        "dashboards",
        deps=[PUBLISHED_KEY],
        group_name="publish",
        kinds={"streamlit"},
        description="The command centre's dashboards (`pingan serve`), reading the published snapshot",
    )
    return [published_warehouse, dashboards]
