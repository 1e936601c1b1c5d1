"""Generate ``ingest/ENTITIES.md``, the reference of every entity, from the contracts.

``python -m ingest.docs`` rewrites the file; a test fails when it is stale.
"""

from __future__ import annotations

from pathlib import Path

from contracts.entities import ENTITIES, LINEAGE_COLUMNS, Entity

TARGET = Path(__file__).resolve().parent / "ENTITIES.md"
KIND_NOTES = {
    "name": "personal name: not stored",
    "id_number": "personal: stored as `_pseudonym` + `_masked`",
    "phone": "personal: stored as `_pseudonym` + `_masked`",
    "address": "also `_norm`",
}


def entity_section(ent: Entity) -> str:
    lines = [
        f"## `raw.{ent.name}`: {ent.label}",
        "",
        ent.description,
        "",
        f"- landing folder: `landing/{ent.system}/`, file names like `{ent.file_prefix}_*`",
        f"- key: {', '.join(f'`{k}`' for k in ent.key)}; version: "
        + (
            f"`{ent.version_column}` (newest wins, ties by later delivery)"
            if ent.version_column
            else "later delivery wins"
        ),
        f"- cadence: {ent.cadence}" + (" (full dump)" if ent.full_dump else ""),
        "",
        "| header | aliases | canonical | kind | notes |",
        "|---|---|---|---|---|",
    ]
    for col in ent.columns:
        notes = [KIND_NOTES.get(col.kind, "")]
        if col.required:
            notes.append("required")
        if col.values:
            notes.append(" / ".join(col.values))
        if col.minimum is not None or col.maximum is not None:
            notes.append(f"range [{col.minimum}, {col.maximum}]")
        lines.append(
            f"| {col.header} | {' / '.join(col.aliases)} | `{col.canonical}` | {col.kind} | "
            + "; ".join(n for n in notes if n)
            + " |"
        )
    return "\n".join(lines)


def render() -> str:
    lineage = "\n".join(f"| `{name}` | {typ} | {desc} |" for name, typ, desc in LINEAGE_COLUMNS)
    parts = [
        "# Entities",
        "",
        "Generated from `contracts/entities.py` by `python -m ingest.docs`; do not edit by hand.",
        "",
        "Every raw table also carries these lineage columns:",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
        lineage,
        "",
        *[entity_section(e) + "\n" for e in ENTITIES],
    ]
    return "\n".join(parts)


def main() -> None:
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
