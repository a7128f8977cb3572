"""Batch scoring: a large table in, in chunks, scored by the service's
predictor, with the rows that fail validation set aside (the `score` command)."""
