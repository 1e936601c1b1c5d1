"""What every package agrees on: the source entities (entities.py), the support tables
of the load ledger, rejected rows and warnings (support_tables.py) and the settings
(settings.py). Ingest, the simulator, orchestration and dashboards import it; it imports
none of them."""
