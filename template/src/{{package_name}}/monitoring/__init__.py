"""Monitoring: data and prediction drift, data quality and delayed-label
performance of the served model; see `job.run_monitor`."""
