"""Ingest of the landing folders into raw.*: assets, freshness checks, sensors."""
