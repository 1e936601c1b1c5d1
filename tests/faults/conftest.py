"""Fault tests reuse the ingest fixtures (real files, real warehouses)."""

from tests.ingest.conftest import settings  # noqa: F401 - a fixture
