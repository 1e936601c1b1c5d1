"""The published warehouse, the pipeline job, its schedules and failure recording."""
