"""Great Expectations suites as Dagster asset checks on the staging models and the marts."""
