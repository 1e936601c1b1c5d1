"""GX suites run as asset checks; critical failures block the marts and the publish.

Each staging model gets two checks from one validation of its suite:

``gx_critical``  blocking: columns and types, systematic time travel. A failure
                 (ERROR) stops ``dbt_marts`` and the publish.
``gx_warnings``  recorded (WARN): ranges, row-count change, business rules.

Keys and enumerations are dbt tests (staging models and raw sources), not GX rules.

Marts with rate columns get ``gx_rates`` (blocking: rates within [0, 1]).
Every expectation's outcome is appended to ``quality.check_results`` (shown on the
dashboards' 数据质量 page; GX Data Docs are not built, see orchestration.defs.quality.suites).
"""

from collections.abc import Iterator, Sequence

import dagster as dg
from dagster import AssetCheckExecutionContext

from contracts.entities import ENTITIES_BY_NAME
from orchestration.defs.dbt.assets import mart_models, model_key, relation, staging_models_by_entity
from orchestration.defs.quality import suites as quality
from orchestration.instance import WAREHOUSE_TAGS
from orchestration.resources import PinganResource

CRITICAL = "gx_critical"
WARNINGS = "gx_warnings"
RATES = "gx_rates"


def _results(
    key: dg.AssetKey, outcomes: Sequence[quality.Outcome], selected: set[dg.AssetCheckKey]
) -> Iterator[dg.AssetCheckResult]:
    for name, severity, dagster_severity in (
        (CRITICAL, "critical", dg.AssetCheckSeverity.ERROR),
        (WARNINGS, "warning", dg.AssetCheckSeverity.WARN),
        (RATES, "critical", dg.AssetCheckSeverity.ERROR),
    ):
        if dg.AssetCheckKey(key, name) not in selected:
            continue
        mine = [o for o in outcomes if o.severity == severity]
        failed = [o for o in mine if not o.passed]
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=name,
            passed=not failed,
            severity=dagster_severity,
            description="; ".join(f"{o.check_name}: {o.observed_value}" for o in failed)[:1000]
            or f"{len(mine)} expectations passed",
            metadata={
                "expectations": len(mine),
                "failed": len(failed),
                "results": dg.MetadataValue.md(quality.outcomes_markdown(mine)),
            },
        )


def build_quality_checks() -> list[dg.AssetChecksDefinition]:
    staging = staging_models_by_entity()
    specs = []
    for ent_name, node in sorted(staging.items()):
        ent = ENTITIES_BY_NAME[ent_name]
        specs.append(
            dg.AssetCheckSpec(
                CRITICAL,
                asset=model_key(node),
                blocking=True,
                description=f"GX suite of {ent_name} (critical): columns, types, time order",
            )
        )
        specs.append(
            dg.AssetCheckSpec(
                WARNINGS,
                asset=model_key(node),
                description=f"GX suite of {ent.name} (warnings): ranges, row count, business rules",
            )
        )

    @dg.multi_asset_check(specs=specs, can_subset=True, name="gx_staging", op_tags=WAREHOUSE_TAGS)
    def gx_staging(
        context: AssetCheckExecutionContext, pingan: PinganResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = set(context.selected_asset_check_keys)
        validator = quality.Validator(pingan.settings.data_dir)
        all_outcomes: list[quality.Outcome] = []
        with pingan.connect() as con:
            for ent_name, node in sorted(staging.items()):
                key = model_key(node)
                if not any(k.asset_key == key for k in selected):
                    continue
                outcomes = quality.validate_staging(
                    validator, con, ENTITIES_BY_NAME[ent_name], relation(node), context.run.run_id
                )
                all_outcomes += outcomes
                yield from _results(key, outcomes, selected)
            quality.record(con, context.run.run_id, all_outcomes)
        validator.finish()
        context.log.info(f"GX staging: {quality.summarise(all_outcomes)[2]}")

    checks: list[dg.AssetChecksDefinition] = [gx_staging]

    rated = [n for n in mart_models() if any(c.endswith("_rate") for c in n.get("columns", {}))]
    if rated:

        @dg.multi_asset_check(
            specs=[
                dg.AssetCheckSpec(
                    RATES,
                    asset=model_key(n),
                    blocking=True,
                    description="GX: every *_rate column lies within [0, 1]",
                )
                for n in rated
            ],
            can_subset=True,
            name="gx_marts",
            op_tags=WAREHOUSE_TAGS,
        )
        def gx_marts(
            context: AssetCheckExecutionContext, pingan: PinganResource
        ) -> Iterator[dg.AssetCheckResult]:
            selected = set(context.selected_asset_check_keys)
            validator = quality.Validator(pingan.settings.data_dir)
            all_outcomes: list[quality.Outcome] = []
            with pingan.connect() as con:
                for node in rated:
                    key = model_key(node)
                    if dg.AssetCheckKey(key, RATES) not in selected:
                        continue
                    outcomes = quality.validate_rates(validator, con, node["name"], relation(node))
                    all_outcomes += outcomes
                    yield from _results(key, outcomes, selected)
                quality.record(con, context.run.run_id, all_outcomes)
            validator.finish()

        checks.append(gx_marts)
    return checks
