"""`simulate-drift`: send records drawn from the holdout split to a running
service, shifted as params.yaml monitoring.simulate documents (or not), so the
loop traffic -> prediction log -> monitor -> drift -> retrain can be seen on
the project's own data. The holdout, not the training split: the model is
more confident on rows it learnt from, so their predictions alone would look
like prediction drift against the holdout's."""

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from ..errors import ProjectError
from ..schema import Schema
from ..settings import SimulatedShift


def shifted(frame: pd.DataFrame, schema: Schema, shift: SimulatedShift, seed: int):
    """The frame with the numeric feature scaled (kept inside the schema's
    range) and a share of the categorical feature's values replaced; the
    feature names were checked against the schema when params loaded."""
    features = {feature.name: feature for feature in schema.features}
    result = frame.copy()
    if shift.numeric_feature is not None:
        numeric = features[shift.numeric_feature]
        scaled = result[numeric.name] * shift.numeric_factor
        result[numeric.name] = scaled.clip(numeric.min, numeric.max)
    if shift.categorical_feature is not None:
        rng = np.random.default_rng(seed)
        replace = rng.random(len(result)) < shift.category_share
        result.loc[replace, shift.categorical_feature] = shift.category
    return result


def traffic_frame(
    reference: pd.DataFrame,
    schema: Schema,
    rows: int,
    seed: int,
    shift: SimulatedShift | None,
) -> pd.DataFrame:
    """`rows` feature rows drawn with replacement from the reference (the
    holdout split), maybe shifted."""
    if reference.empty:
        raise ProjectError("the holdout split has no rows to draw traffic from")
    features = reference[schema.feature_names]
    frame = features.sample(n=rows, replace=True, random_state=seed)
    frame = frame.reset_index(drop=True)
    if shift is not None:
        frame = shifted(frame, schema, shift, seed)
    return frame


def traffic(
    reference: pd.DataFrame,
    schema: Schema,
    rows: int,
    seed: int,
    shift: SimulatedShift | None,
) -> list[dict]:
    """traffic_frame's rows as request records."""
    return json_records(traffic_frame(reference, schema, rows, seed, shift))


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain Python values, None for missing. Not through to_json,
    which rounds floats to 10 decimals: a value at the schema's maximum
    could round above it and be refused."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def batches(records: list[dict], size: int) -> Iterator[list[dict]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def send(
    url: str,
    records: list[dict],
    batch_size: int,
    api_key: str | None = None,
    on_batch: Callable[[int], None] = lambda count: None,
) -> int:
    """POST the records to /predict/batch (with the service's API key, when it
    has one); returns how many were predicted."""
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["X-API-Key"] = api_key
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
