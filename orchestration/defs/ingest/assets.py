"""One asset per raw entity; one ingest step per source system.

A delivered file's entity is decided by its header (``ingest.load``), not by
the asset that asked for it, so the ingest of a system is one step that loads
the system's pending files and reports, per entity asset, what it loaded.
The landing folders are external assets, the start of the lineage.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext
from pydantic import Field

from contracts.entities import (
    DUPLICATE,
    ENTITIES,
    FILE_STATUS_LABELS,
    LOADED,
    MISSING,
    REJECTED,
    SYSTEM_LABELS,
    SYSTEMS,
)
from ingest.discovery import display
from orchestration.defs.ingest.landing import landing_folder, pending_for_run
from orchestration.instance import WAREHOUSE_TAGS
from orchestration.resources import PinganResource


def landing_key(system: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", system])


def raw_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", entity])


def ingest_op_name(system: str) -> str:
    return f"ingest_{system}"


class IngestConfig(dg.Config):
    """Which files to ingest. Empty ``paths``: every pending file of the system's landing folder."""

    paths: list[str] = Field(default_factory=list)
    # Files modified more recently than this are still being written: they wait for the next run.
    settle_seconds: float = 0.0


landing_specs = [
    dg.AssetSpec(
        landing_key(system),
        description=f"Export files delivered by {SYSTEM_LABELS[system]} to landing/{system}/",
        group_name="sources",
        kinds={"file"},
    )
    for system in SYSTEMS
]


def _metadata(results: list, entity: str) -> dict:
    mine = [r for r in results if r.entity == entity]
    by_status = {s: [r for r in mine if r.status == s] for s in (LOADED, DUPLICATE, REJECTED)}
    return {
        "files_loaded": len(by_status[LOADED]),
        "files_duplicate": len(by_status[DUPLICATE]),
        "files_rejected": len(by_status[REJECTED]),
        "rows_loaded": sum(r.rows_loaded for r in mine),
        "rows_rejected": sum(r.rows_rejected for r in mine),
        "files": dg.MetadataValue.json(
            [
                {"file": display(r.file_name), "status": r.status, "rows": r.rows_loaded}
                for r in mine
            ][:200]
        ),
    }


def build_ingest_asset(system: str) -> dg.AssetsDefinition:
    entities = [e for e in ENTITIES if e.system == system]

    @dg.multi_asset(
        name=ingest_op_name(system),
        specs=[
            dg.AssetSpec(
                raw_key(e.name),
                deps=[landing_key(system)],
                description=f"{e.label}: {e.description} Append-only raw table raw.{e.name}.",
                group_name="raw",
                kinds={"duckdb"},
                metadata={"cadence": e.cadence, "key": ", ".join(e.key)},
            )
            for e in entities
        ],
        op_tags=WAREHOUSE_TAGS,
    )
    def _ingest(
        context: AssetExecutionContext, config: IngestConfig, pingan: PinganResource
    ) -> Iterator[dg.MaterializeResult]:
        from ingest.load import SEEN, ingest_paths  # the lead's ingest API
        from ingest.progress import Progress

        settings = pingan.settings
        if config.paths:
            paths = [Path(p) for p in config.paths]
        else:
            scan = pending_for_run(settings, system, config.settle_seconds)
            paths = scan.paths_to_ingest  # refusals too: each gets its ledger row
            if scan.settling:
                context.log.info(
                    f"{len(scan.settling)} file(s) in landing/{system} are still being written "
                    "and wait for the next run"
                )
        if paths:
            # The sensor saw these files; one withdrawn since gets a ``missing`` ledger
            # row and does not stop the others.
            # Each file's line goes to the run's log as it is done (what `pingan run`
            # counts its files and rows from).
            results = ingest_paths(
                paths,
                settings,
                missing_ok=True,
                landing=landing_folder(settings, system),
                progress=Progress.plain(context.log.info),
            )
        else:  # dbt's sources must exist even before the first delivery
            from contracts.support_tables import ensure_raw_schema

            results = []
            with pingan.connect() as con:
                ensure_raw_schema(con)
        unrecognised = [r for r in results if r.entity is None and r.status != MISSING]
        for r in unrecognised:
            context.log.warning(f"{display(r.file_name)}: rejected ({display(r.reason or '')})")
        vanished = [r for r in results if r.status == MISSING]
        for r in vanished:
            context.log.warning(f"{display(r.file_name)}: missing ({display(r.reason or '')})")
        context.log.info(
            f"landing/{system}: {len(paths)} new file(s); "
            + ", ".join(
                f"{s} {sum(1 for r in results if r.status == s)}"
                for s in (*FILE_STATUS_LABELS, SEEN)
            )
        )
        for i, e in enumerate(entities):
            metadata = _metadata(results, e.name)
            if i == 0:  # files whose entity could not be recognised belong to no raw table
                metadata["files_unrecognised"] = len(unrecognised)
                metadata["files_missing"] = len(vanished)
                metadata["unrecognised"] = dg.MetadataValue.json(
                    [
                        {"file": display(r.file_name), "reason": display(r.reason or "")}
                        for r in unrecognised
                    ][:200]
                )
            yield dg.MaterializeResult(asset_key=raw_key(e.name), metadata=metadata)

    return _ingest


ingest_assets = [build_ingest_asset(system) for system in SYSTEMS]
