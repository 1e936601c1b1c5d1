"""Similarity of every fuzzy-linkage candidate pair (pass 3 of address linkage).

The edit similarity of the two address keys, 1 - Levenshtein distance / longer
length, counted in characters, with rapidfuzz. A Python model because DuckDB's
levenshtein() counts UTF-8 bytes, so one mistyped Chinese character costs two or three
edits and a typo could not be told from a different road.
"""

import pyarrow as pa
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist


def model(dbt, session):
    dbt.config(materialized="table")
    pairs = dbt.ref("int_address_fuzzy_candidates").arrow()
    if hasattr(pairs, "read_all"):  # a RecordBatchReader on newer DuckDB
        pairs = pairs.read_all()
    records = pairs.column("record_key").to_pylist()
    dwellings = pairs.column("dwelling_key").to_pylist()
    if records:
        scores = cpdist(
            [r or "" for r in records],
            [d or "" for d in dwellings],
            scorer=Levenshtein.normalized_similarity,
            workers=1,
        )
        similarity = pa.array(scores.tolist(), type=pa.float64())
    else:
        similarity = pa.array([], type=pa.float64())
    return pa.table(
        {
            "entity": pairs.column("entity"),
            "record_id": pairs.column("record_id"),
            "house_id": pairs.column("house_id"),
            "similarity": similarity,
        }
    )
