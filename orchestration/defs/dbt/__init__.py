"""The dbt models as Dagster assets (dagster-dbt), with dbt tests as asset checks."""
