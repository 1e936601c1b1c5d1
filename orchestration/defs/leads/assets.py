"""The group-rental lead model as a Dagster asset, between the dbt marts and the scoring.

Thin: it calls ``train_group_rental_model`` (the function ``pingan build`` calls between
its two dbt steps) and records what was trained. Its outputs are the tables of schema
``leads``, which dbt reads as the source ``leads`` (so dagster-dbt wires the scoring
models downstream of this asset).
"""

import dagster as dg

from orchestration.defs.leads.train import SCHEMA, TABLES, train_group_rental_model
from orchestration.resources import PinganResource

MODEL_KEY = dg.AssetKey([SCHEMA, "group_rental_models"])
# what the training reads: models of dbt's first step and the seeds
INPUTS = [
    dg.AssetKey(["int_group_rental_terms"]),
    dg.AssetKey(["int_dwelling_features"]),
    dg.AssetKey(["fct_rental_checks"]),
    dg.AssetKey(["group_rental_factors"]),
    dg.AssetKey(["group_rental_model_settings"]),
]


@dg.multi_asset(
    name="group_rental_model",
    specs=[
        dg.AssetSpec(
            [SCHEMA, table],
            deps=INPUTS,
            group_name="leads",
            kinds={"scikit-learn", "duckdb"},
            description=f"Group-rental lead model: {SCHEMA}.{table}",
        )
        for table in TABLES
    ],
    op_tags={"pingan/warehouse": "write"},
)
def group_rental_model(context: dg.AssetExecutionContext, pingan: PinganResource):
    result = train_group_rental_model(pingan.settings)
    context.log.info(result.line())
    for table in TABLES:
        yield dg.MaterializeResult(
            asset_key=[SCHEMA, table],
            metadata={
                "model_version": result.version,
                "model_kind": result.kind,
                "verdicts_used": result.verdicts_used,
                "summary": result.line(),
            },
        )
