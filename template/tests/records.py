"""Test helper: turn a DataFrame into the JSON records a client would send."""

import json


def as_records(frame) -> list[dict]:
    """JSON-ready rows: plain Python values, None for missing."""
    return json.loads(frame.to_json(orient="records"))
