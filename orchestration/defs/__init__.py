"""Dagster definitions of Pingan, one package per domain (ingest, dbt, quality, publish)."""
