"""Performance on delayed labels: ground truth that arrives after the
prediction, joined to the prediction log on (request_id, row).

Labels file (CSV or Parquet): columns `request_id`, `row` (the row's
position in its request; 0 for single-record requests, may be omitted then)
and the target column named in schema.yaml.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import metrics
from ..data import read_table
from ..errors import ProjectError
from ..paths import METRICS_FILE
from ..schema import Schema
from ..settings import Params


@dataclass(frozen=True)
class Performance:
    labelled_rows: int
    metric: str  # the registry gate's metric, compared with training time
    current: dict[str, float]
    training: dict[str, float]
    drop: float  # how much worse than at training time (negative: better)
    degraded: bool


def read_labels(path: Path, schema: Schema) -> pd.DataFrame:
    labels = read_table(path)
    target = schema.target.name
    missing = [name for name in ("request_id", target) if name not in labels.columns]
    if missing:
        raise ProjectError(f"labels file {path} lacks column(s): {', '.join(missing)}")
    if "row" not in labels.columns:
        labels = labels.assign(row=0)
    return labels[["request_id", "row", target]]


def training_metrics() -> dict[str, float]:
    if not METRICS_FILE.is_file():
        raise ProjectError(f"{METRICS_FILE} not found: run the pipeline first")
    report = json.loads(METRICS_FILE.read_text())
    return {k: v for k, v in report.items() if isinstance(v, (int, float))}


def labelled_performance(
    window: pd.DataFrame,
    labels: pd.DataFrame,
    schema: Schema,
    params: Params,
    at_training: dict[str, float],
) -> Performance:
    target = schema.target.name
    joined = window.merge(labels, on=["request_id", "row"], how="inner")
    if joined.empty:
        raise ProjectError(
            "no labelled rows match the window: labels join the prediction log "
            "on request_id and row"
        )
    y_true = joined[target].to_numpy()
    y_pred = joined["prediction"].to_numpy()
    y_proba, classes = None, None
    if schema.is_classification:
        # Sorted, as scikit-learn orders classes (its metrics expect that order).
        classes = sorted(schema.target.classes or set(y_true) | set(y_pred))
        y_proba = np.array(
            [[row[str(label)] for label in classes] for row in joined["probabilities"]]
        )
    try:
        current = metrics.compute(schema, y_true, y_pred, y_proba, classes)
    except ValueError as error:  # e.g. only one class among the labels
        raise ProjectError(
            f"cannot score {len(joined)} labelled rows: {error}"
        ) from None
    metric = metrics.metric_for(schema.task, params.registry.gate.metric)
    before, now = at_training[metric.name], current[metric.name]
    drop = before - now if metric.greater_is_better else now - before
    return Performance(
        labelled_rows=len(joined),
        metric=metric.name,
        current=current,
        training={name: at_training[name] for name in current if name in at_training},
        drop=drop,
        degraded=drop > params.monitoring.max_metric_drop,
    )
