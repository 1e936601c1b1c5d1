"""Freshness of each source: a late delivery fails the entity's ``freshness`` check."""

from collections.abc import Iterator

import dagster as dg
from dagster import AssetCheckExecutionContext

from contracts.entities import ENTITIES, FRESHNESS_KIND
from orchestration.defs.ingest import freshness
from orchestration.defs.ingest.assets import raw_key
from orchestration.defs.quality import suites as quality
from orchestration.resources import PinganResource

FRESHNESS_CHECK = "freshness"


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            FRESHNESS_CHECK,
            asset=raw_key(e.name),
            description=f"A {e.cadence} source: late when its last delivery is older than expected",
        )
        for e in ENTITIES
    ],
    can_subset=True,
)
def source_freshness(
    context: AssetCheckExecutionContext, pingan: PinganResource
) -> Iterator[dg.AssetCheckResult]:
    with pingan.connect() as con:
        from contracts.support_tables import ensure_raw_schema

        ensure_raw_schema(con)
        results = freshness.evaluate_all(con)
        selected = {k.asset_key for k in context.selected_asset_check_keys}
        outcomes = []
        for ent in ENTITIES:
            if raw_key(ent.name) not in selected:
                continue
            f = results[ent.name]
            outcomes.append(
                quality.Outcome(
                    entity=ent.name,
                    check_name=FRESHNESS_CHECK,
                    severity="warning",
                    passed=f.passed,
                    observed_value=f.message,
                    kind=FRESHNESS_KIND,
                    details={"late_hours": f.late_hours, "cadence": f.cadence},
                )
            )
            yield dg.AssetCheckResult(
                asset_key=raw_key(ent.name),
                check_name=FRESHNESS_CHECK,
                passed=f.passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=f.message,
                metadata={
                    "last_delivery": str(f.last_delivery) if f.last_delivery else "never",
                    "cadence": f.cadence,
                    "allowed_hours": f.allowed.total_seconds() / 3600,
                    "late_hours": f.late_hours if f.late_hours is not None else -1,
                },
            )
        quality.record(con, context.run.run_id, outcomes)
