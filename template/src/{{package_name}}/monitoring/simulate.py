"""`simulate-drift`: send traffic from the sample-data generator to a running
service, shifted as params.yaml monitoring.simulate documents (or not), so the
loop traffic -> prediction log -> monitor -> drift -> retrain can be seen."""

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from ..errors import ProjectError
from ..sample_data import generate
from ..schema import Schema
from ..settings import SimulatedShift


def shifted(frame: pd.DataFrame, schema: Schema, shift: SimulatedShift, seed: int):
    """The frame with one numeric feature scaled (kept inside the schema's
    range) and a share of one categorical feature's values replaced."""
    features = {feature.name: feature for feature in schema.features}
    numeric = features.get(shift.numeric_feature)
    categorical = features.get(shift.categorical_feature)
    where = "params.yaml monitoring.simulate"
    if numeric is None or numeric.type != "numeric":
        raise ProjectError(f"{where}.numeric_feature: not a numeric feature")
    if categorical is None or categorical.type != "categorical":
        raise ProjectError(f"{where}.categorical_feature: not a categorical feature")
    if categorical.categories and shift.category not in categorical.categories:
        raise ProjectError(f"{where}.category: not one of {categorical.categories}")
    result = frame.copy()
    scaled = result[numeric.name] * shift.numeric_factor
    result[numeric.name] = scaled.clip(numeric.min, numeric.max)
    rng = np.random.default_rng(seed)
    replace = rng.random(len(result)) < shift.category_share
    result.loc[replace, categorical.name] = shift.category
    return result


def traffic(
    schema: Schema, rows: int, seed: int, shift: SimulatedShift | None
) -> list[dict]:
    """Request records: generated rows without the target, maybe shifted."""
    frame = generate(rows, seed=seed).drop(columns=[schema.target.name])
    if shift is not None:
        frame = shifted(frame, schema, shift, seed)
    # Through JSON: numpy scalars and NaN become plain values and null.
    return json.loads(frame.to_json(orient="records"))


def batches(records: list[dict], size: int) -> Iterator[list[dict]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def send(
    url: str,
    records: list[dict],
    batch_size: int,
    on_batch: Callable[[int], None] = lambda count: None,
) -> int:
    """POST the records to /predict/batch; returns how many were predicted."""
    headers = {"Content-Type": "application/json"}
    if os.environ.get("SERVE_API_KEY"):
        headers["X-API-Key"] = os.environ["SERVE_API_KEY"]
    predicted = 0
    for batch in batches(records, batch_size):
        body = json.dumps({"records": batch}).encode()
        request = urllib.request.Request(
            f"{url.rstrip('/')}/predict/batch", body, headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                predicted += len(json.load(response)["predictions"])
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise ProjectError(f"{url} answered {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            raise ProjectError(f"cannot reach the service at {url}: {error}") from None
        on_batch(len(batch))
    return predicted
